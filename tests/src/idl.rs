//! Instructions built from a committed IDL file alone, as a TypeScript or wallet client builds
//! them: the instruction's discriminator, its arguments Borsh-encoded by the IDL's types, its
//! accounts in the IDL's order with the IDL's signer and writable flags. No program type is used,
//! so a test that sends these proves the committed IDL describes what the programs accept.

use std::collections::HashMap;

use serde_json::Value;
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;

pub struct Idl {
    doc: Value,
    pub program: Pubkey,
}

impl Idl {
    /// Reads `idl/<name>.json` of the workspace.
    pub fn load(name: &str) -> Idl {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../idl")
            .join(format!("{name}.json"));
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let program = doc["address"].as_str().unwrap().parse().unwrap();
        Idl { doc, program }
    }

    fn find<'a>(&'a self, list: &str, name: &str) -> &'a Value {
        self.doc[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap_or_else(|| panic!("no {list} entry {name} in the IDL"))
    }

    /// Instruction `name` with `accounts` by their IDL names (accounts with a fixed address
    /// may be left out; a left-out optional account is passed as the program id, Anchor's
    /// "none") and `args` as a JSON object of the IDL's argument names.
    pub fn instruction(
        &self,
        name: &str,
        accounts: &HashMap<&str, Pubkey>,
        args: &Value,
    ) -> Instruction {
        let ix = self.find("instructions", name);
        let mut data: Vec<u8> = ix["discriminator"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        for a in ix["args"].as_array().unwrap() {
            let n = a["name"].as_str().unwrap();
            self.encode(&a["type"], &args[n], &mut data);
        }
        let mut metas = Vec::new();
        for a in ix["accounts"].as_array().unwrap() {
            let n = a["name"].as_str().unwrap();
            let key = match (accounts.get(n), a["address"].as_str()) {
                (Some(k), _) => *k,
                (None, Some(addr)) => addr.parse().unwrap(),
                (None, None) if a["optional"] == true => self.program,
                (None, None) => panic!("{name}: account {n} not given"),
            };
            let signer = a["signer"] == true;
            metas.push(if a["writable"] == true && key != self.program {
                AccountMeta::new(key, signer)
            } else {
                AccountMeta::new_readonly(key, signer)
            });
        }
        Instruction {
            program_id: self.program,
            accounts: metas,
            data,
        }
    }

    /// Borsh encoding of `v` as IDL type `ty`.
    fn encode(&self, ty: &Value, v: &Value, out: &mut Vec<u8>) {
        let int = |v: &Value| -> i128 {
            match v {
                Value::String(s) => s.parse().unwrap(),
                Value::Number(n) => n
                    .as_i64()
                    .map(|x| x as i128)
                    .or(n.as_u64().map(|x| x as i128))
                    .unwrap(),
                Value::Bool(b) => *b as i128,
                _ => panic!("not a number: {v}"),
            }
        };
        if let Some(t) = ty.as_str() {
            match t {
                "u8" | "i8" => out.push(int(v) as u8),
                "u16" | "i16" => out.extend_from_slice(&(int(v) as u16).to_le_bytes()),
                "u32" | "i32" => out.extend_from_slice(&(int(v) as u32).to_le_bytes()),
                "u64" | "i64" => out.extend_from_slice(&(int(v) as u64).to_le_bytes()),
                "u128" | "i128" => out.extend_from_slice(&(int(v) as u128).to_le_bytes()),
                "bool" => out.push(v.as_bool().unwrap() as u8),
                "pubkey" => {
                    let k: Pubkey = v.as_str().unwrap().parse().unwrap();
                    out.extend_from_slice(k.as_ref());
                }
                "string" => {
                    let s = v.as_str().unwrap();
                    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
                other => panic!("IDL type {other} not supported here"),
            }
            return;
        }
        if let Some(inner) = ty.get("vec") {
            let items = v.as_array().unwrap();
            out.extend_from_slice(&(items.len() as u32).to_le_bytes());
            for x in items {
                self.encode(inner, x, out);
            }
        } else if let Some(inner) = ty.get("option") {
            if v.is_null() {
                out.push(0);
            } else {
                out.push(1);
                self.encode(inner, v, out);
            }
        } else if let Some(arr) = ty.get("array") {
            let items = v.as_array().unwrap();
            assert_eq!(items.len() as u64, arr[1].as_u64().unwrap(), "array length");
            for x in items {
                self.encode(&arr[0], x, out);
            }
        } else if let Some(d) = ty.get("defined") {
            let def = &self.find("types", d["name"].as_str().unwrap())["type"];
            match def["kind"].as_str().unwrap() {
                "struct" => {
                    for f in def["fields"].as_array().unwrap() {
                        let n = f["name"].as_str().unwrap();
                        self.encode(&f["type"], &v[n], out);
                    }
                }
                "enum" => {
                    let variant = v.as_str().unwrap();
                    let i = def["variants"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .position(|x| x["name"] == variant)
                        .unwrap_or_else(|| panic!("no variant {variant}"));
                    out.push(i as u8);
                }
                k => panic!("IDL type kind {k} not supported here"),
            }
        } else {
            panic!("IDL type {ty} not supported here");
        }
    }
}
