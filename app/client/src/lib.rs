//! `cfx-client`: what keepers, the CLI and the sandbox share to talk to the cfx programs —
//! instruction builders from the programs' own types, PDA helpers, account decoders (the
//! zero-copy accounts, the book and the event queue), book (L2, L3) and margin-account views with
//! health computed by the program's own code, program errors by name, and one backend trait over
//! a cluster (JSON-RPC) or an in-process bank, with a sender that sizes compute, prices priority
//! and retries without sending twice.

pub mod backend;
#[cfg(feature = "program-test")]
pub mod bank;
pub mod decode;
pub mod errors;
pub mod faulty;
pub mod ix;
pub mod pda;
pub mod query;
pub mod sender;
pub mod setup;
pub mod token_ix;
pub mod views;

pub use anchor_lang;
pub use backend::{Backend, Simulation, Status};
pub use compute_futures;
pub use compute_token;
#[cfg(feature = "program-test")]
#[allow(deprecated)]
pub use solana_program_test;

/// Why a client call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The cluster or bank could not be reached or refused the request.
    Rpc(String),
    /// Account data that is not what it should be.
    Decode(&'static str),
    /// The transaction failed (in simulation or on chain): the error, named when it is one of
    /// the programs' own, and the logs when known.
    Transaction {
        error: solana_sdk::transaction::TransactionError,
        description: String,
        logs: Vec<String>,
    },
    /// Not confirmed after every attempt (the last signature may still land: check it).
    NotConfirmed(solana_sdk::signature::Signature),
    /// An account the call needs does not exist.
    MissingAccount(solana_sdk::pubkey::Pubkey),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Rpc(e) => write!(f, "rpc: {e}"),
            ClientError::Decode(what) => write!(f, "cannot decode {what}"),
            ClientError::Transaction { description, .. } => write!(f, "{description}"),
            ClientError::NotConfirmed(s) => write!(f, "transaction {s} not confirmed"),
            ClientError::MissingAccount(k) => write!(f, "account {k} not found"),
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The program error's name when the transaction failed with one.
    pub fn program_error_code(&self) -> Option<u32> {
        match self {
            ClientError::Transaction { error, .. } => errors::custom_code(error).map(|c| c.1),
            _ => None,
        }
    }
}

/// A path with a leading `~/` read as the home directory, as the solana CLI reads keypair paths
/// (`~/.config/solana/id.json`).
pub fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ => path.into(),
    }
}
