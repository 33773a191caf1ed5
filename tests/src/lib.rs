//! Shared helpers for the end-to-end tests: a processor shim for Anchor programs, a small
//! test context (native or SBF, clock control, CU metering) and token helpers. Per-program
//! fixtures live in their own module (`compute_token`).
//!
//! solana-program-test 3.x marks its whole API deprecated ahead of moving it behind an
//! `agave-unstable-api` feature in v4; that is expected here.
#![allow(deprecated)]

pub mod compute_token;
pub mod context;
pub mod futures;
pub mod idl;
pub mod rpc_proxy;
pub mod token;

pub use anchor_lang;
pub use context::{error_code, events, new_keypair, Prefund, Program, TestContext, TxError};
pub use solana_program_test;

/// The processor shim for Anchor programs (`cfx_client::anchor_processor`).
pub use cfx_client::anchor_processor;
