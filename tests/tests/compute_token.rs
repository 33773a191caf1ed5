//! End-to-end tests of the compute-token program. Native by default; set `SBF_OUT_DIR` to run
//! the same tests against `compute_token.so`.
#![allow(deprecated)]

mod compute_token {
    pub mod cu;
    pub mod invariants;
    pub mod lifecycle;
    pub mod negative;
}

use cfx_tests::{compute_token::Market, error_code, TxError};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signature::Keypair};

/// Sends `ixs`, expects custom error `code`, and checks that none of `watched` changed
/// (data, lamports, owner; missing accounts stay missing).
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
