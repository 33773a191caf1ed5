//! Replaces Anchor's generated entrypoint with the program's own (src/entrypoint.rs), which
//! gives the trading instructions a fast path and hands everything else to Anchor.
//!
//! Anchor emits its entrypoint unless `feature = "no-entrypoint"` is set; a crate used for CPI
//! sets that feature and must get no entrypoint at all, so only when it is unset do we set the
//! cfg ourselves (hiding Anchor's) and enable our own with `cfx_own_entrypoint`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(cfx_own_entrypoint)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_NO_ENTRYPOINT").is_none() {
        println!("cargo::rustc-cfg=cfx_own_entrypoint");
        println!("cargo::rustc-cfg=feature=\"no-entrypoint\"");
    }
}
