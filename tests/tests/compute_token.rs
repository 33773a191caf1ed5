//! End-to-end tests of the compute-token program. Native by default; set `SBF_OUT_DIR` to run
//! the same tests against `compute_token.so`.
#![allow(deprecated)]

mod compute_token {
    pub mod backing;
    pub mod cu;
    pub mod invariants;
    pub mod lifecycle;
    pub mod negative;
}

use ::compute_token::events::DefaultClaimed;
use cfx_tests::{compute_token::Market, error_code, events, TestContext, TxError};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signature::Keypair};

/// Sends `ixs` and expects custom error `code`: that code is the assertion. It also compares
/// `watched` (data, lamports, owner; missing accounts stay missing) before and after, but a
/// failed transaction is atomic, so that comparison is only a sanity check of the test
/// harness, not evidence about the program.
pub async fn fails_unchanged(
    m: &mut Market,
    ixs: &[Instruction],
    signers: &[&Keypair],
    watched: &[Pubkey],
    code: u32,
) {
    let before = m.t.snapshot(watched).await;
    let res = m.t.send(ixs, signers).await;
    let after = m.t.snapshot(watched).await;
    match &res {
        Err(e) => assert_eq!(
            error_code(e),
            Some(code),
            "wrong error {e:?}; logs: {:#?}",
            m.t.last_logs
        ),
        Ok(_) => panic!("expected error {code}, but the transaction succeeded"),
    }
    for (i, (b, a)) in before.iter().zip(after.iter()).enumerate() {
        assert!(
            b == a,
            "account {} changed by a failed transaction",
            watched[i]
        );
    }
}

/// Like `fails_unchanged`, for failures raised by another program (system, token) whose
/// error is not one of ours: the first instruction must fail, with any error.
pub async fn fails_elsewhere_unchanged(
    m: &mut Market,
    ixs: &[Instruction],
    signers: &[&Keypair],
    watched: &[Pubkey],
) {
    let before = m.t.snapshot(watched).await;
    let res = m.t.send(ixs, signers).await;
    let after = m.t.snapshot(watched).await;
    assert!(
        matches!(
            res,
            Err(TxError::Transaction(
                solana_sdk::transaction::TransactionError::InstructionError(0, _)
            ))
        ),
        "expected the instruction to fail: {res:?}"
    );
    assert!(before == after, "a failed transaction changed an account");
}

/// Expects `res` to be the custom error `code`.
pub fn assert_code(res: Result<u64, TxError>, code: u32) {
    match res {
        Err(e) => assert_eq!(error_code(&e), Some(code), "wrong error {e:?}"),
        Ok(_) => panic!("expected error {code}, but the transaction succeeded"),
    }
}

/// The `DefaultClaimed` event of the last transaction: `(value, owed, paid, capped)`. Anchor's
/// `emit!` writes through `sol_log_data`, which only logs on the SBF target (natively it is a
/// no-op in anchor-lang), so the event is checked in the SBF pass; callers check the state and
/// balances it describes in both passes.
pub fn check_claim_event(m: &Market, value: u64, owed: u64, paid: u64, capped: bool) {
    let ev = events::<DefaultClaimed>(&m.t.last_logs);
    if TestContext::sbf() {
        assert_eq!(ev.len(), 1, "one DefaultClaimed event");
        assert_eq!(
            (ev[0].value, ev[0].owed, ev[0].paid, ev[0].capped),
            (value, owed, paid, capped)
        );
    } else {
        assert!(ev.is_empty());
    }
}
