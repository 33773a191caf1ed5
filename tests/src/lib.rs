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
pub mod token;

pub use anchor_lang;
pub use context::{error_code, events, new_keypair, Prefund, Program, TestContext, TxError};
pub use solana_program_test;

/// Wraps an Anchor program's generated `entry` so solana-program-test can run it natively.
///
/// Anchor's `entry` ties the program id, accounts and data to one lifetime; the builtin
/// signature has independent ones. The runtime keeps all three alive for the whole call, so
/// unifying them is sound for the duration of the invocation.
#[macro_export]
macro_rules! anchor_processor {
    ($entry:path) => {{
        fn shim<'a, 'b, 'c, 'd>(
            program_id: &'a $crate::anchor_lang::prelude::Pubkey,
            accounts: &'b [$crate::anchor_lang::prelude::AccountInfo<'c>],
            data: &'d [u8],
        ) -> $crate::anchor_lang::solana_program::entrypoint::ProgramResult {
            // SAFETY: see the macro's doc comment; nothing outlives this call.
            let (program_id, accounts, data): (
                &'c $crate::anchor_lang::prelude::Pubkey,
                &'c [$crate::anchor_lang::prelude::AccountInfo<'c>],
                &'c [u8],
            ) = unsafe {
                (
                    std::mem::transmute::<
                        &'a $crate::anchor_lang::prelude::Pubkey,
                        &'c $crate::anchor_lang::prelude::Pubkey,
                    >(program_id),
                    std::mem::transmute::<
                        &'b [$crate::anchor_lang::prelude::AccountInfo<'c>],
                        &'c [$crate::anchor_lang::prelude::AccountInfo<'c>],
                    >(accounts),
                    std::mem::transmute::<&'d [u8], &'c [u8]>(data),
                )
            };
            $entry(program_id, accounts, data)
        }
        $crate::solana_program_test::processor!(shim)
    }};
}
