//! `cfx`: the command-line tool of traders, compute providers and wallets, on the client crate.
//! The commands are a library (`run`) over any `Backend`, so tests drive them against the
//! in-process bank; `main.rs` only parses flags, loads the keypair and prints.
//!
//! Signing follows the solana CLI: by default the keypair signs and the transaction is sent;
//! `--sign-only --blockhash H` prints `signer=signature` pairs without sending;
//! `--signer PUBKEY=SIGNATURE` adds a signature made elsewhere (checked before anything is sent);
//! `--dump-transaction-message` prints the unsigned transaction (base64) for a browser or
//! hardware wallet to sign.

pub mod amounts;
pub mod commands;

use serde_json::Value;
use solana_sdk::pubkey::Pubkey;

pub use commands::{run, Cli, Command};

/// What a command prints: a human form and a JSON form.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub human: String,
    pub json: Value,
}

impl Output {
    pub fn new(human: impl Into<String>, json: Value) -> Self {
        Output {
            human: human.into(),
            json,
        }
    }
}

/// Why a command failed, with the exit code scripts can rely on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    /// 1: the program refused (a program error, by name); 2: bad input (nothing sent);
    /// 3: the cluster could not be reached or did not confirm.
    pub code: i32,
    /// Simulation logs, shown with `-v`.
    pub logs: Vec<String>,
}

impl CliError {
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 2,
            logs: Vec::new(),
        }
    }
}

impl From<cfx_client::ClientError> for CliError {
    fn from(e: cfx_client::ClientError) -> Self {
        use cfx_client::ClientError as E;
        match e {
            E::Transaction {
                description, logs, ..
            } => CliError {
                message: description,
                code: 1,
                logs,
            },
            E::MissingAccount(k) => CliError::input(format!("account {k} not found")),
            E::Decode(what) => CliError::input(format!("not a {what}")),
            other => CliError {
                message: other.to_string(),
                code: 3,
                logs: Vec::new(),
            },
        }
    }
}

/// A public key argument, with the name of what it should be in the error.
pub fn pubkey(s: &str, what: &str) -> Result<Pubkey, CliError> {
    s.parse()
        .map_err(|_| CliError::input(format!("{what}: {s:?} is not a public key")))
}
