//! Generates the error tables (`code → name, message`) of both programs from their error enums,
//! so decoded errors can never fall out of step with the programs.

use std::path::Path;

fn table(src: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(src).expect("error enum source");
    let mut out = format!("pub const {name}: &[(&str, &str)] = &[\n");
    let mut msg: Option<String> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("#[msg(") {
            let mut m = rest.to_string();
            while !m.trim_end().ends_with(")]") {
                m.push(' ');
                m.push_str(lines.next().expect("msg continues").trim());
            }
            let m = m.trim_end().trim_end_matches(")]").trim();
            msg = Some(m.trim_matches('"').to_string());
        } else if let Some(m) = msg.take() {
            let variant = t.trim_end_matches(',');
            out.push_str(&format!("    ({variant:?}, {m:?}),\n"));
        }
    }
    out.push_str("];\n");
    out
}

fn main() {
    // Read at run time: a cached build script may have been compiled in another checkout.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let root = Path::new(&manifest).join("../../programs");
    let futures = root.join("compute-futures/src/error.rs");
    let token = root.join("compute-token/src/error.rs");
    println!("cargo:rerun-if-changed={}", futures.display());
    println!("cargo:rerun-if-changed={}", token.display());
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("errors.rs");
    std::fs::write(
        out,
        table(&futures, "FUTURES_ERRORS") + &table(&token, "TOKEN_ERRORS"),
    )
    .unwrap();
}
