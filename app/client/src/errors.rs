//! Program errors by name: a failed instruction's custom code (Anchor's `6000 + n`) turned into
//! the program's error name and message.

use solana_sdk::instruction::InstructionError;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::transaction::{Transaction, TransactionError};

include!(concat!(env!("OUT_DIR"), "/errors.rs"));

/// A program error: its code, name and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramError {
    pub code: u32,
    pub name: &'static str,
    pub message: &'static str,
}

/// The error `code` of `program` (compute-futures or compute-token), when it is one of its own.
pub fn program_error(program: &Pubkey, code: u32) -> Option<ProgramError> {
    let table = if *program == compute_futures::ID {
        FUTURES_ERRORS
    } else if *program == compute_token::ID {
        TOKEN_ERRORS
    } else {
        return None;
    };
    let (name, message) = table.get(code.checked_sub(6000)? as usize)?;
    Some(ProgramError {
        code,
        name,
        message,
    })
}

/// The custom code of a failed transaction's instruction, with the instruction's index.
pub fn custom_code(err: &TransactionError) -> Option<(u8, u32)> {
    match err {
        TransactionError::InstructionError(i, InstructionError::Custom(c)) => Some((*i, *c)),
        _ => None,
    }
}

/// A readable description of a transaction error, naming program errors (`programs[i]` is the
/// program of instruction `i`).
pub fn describe(err: &TransactionError, programs: &[Pubkey]) -> String {
    if let Some((i, code)) = custom_code(err) {
        if let Some(p) = programs.get(i as usize) {
            if let Some(e) = program_error(p, code) {
                return format!("{} ({}): {}", e.name, e.code, e.message);
            }
        }
        return format!("custom program error {code} in instruction {i}");
    }
    format!("{err}")
}

/// `describe` for an error of `tx`: the program of each instruction read from the transaction.
pub fn describe_tx(tx: &Transaction, err: &TransactionError) -> String {
    let programs: Vec<Pubkey> = tx
        .message
        .instructions
        .iter()
        .map(|i| tx.message.account_keys[i.program_id_index as usize])
        .collect();
    describe(err, &programs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use compute_futures::error::FuturesError;
    use compute_token::error::ComputeTokenError;

    #[test]
    fn every_code_maps_to_its_variant() {
        // Anchor's generated names agree with the table, both programs, every variant listed.
        let e = program_error(
            &compute_futures::ID,
            FuturesError::TooFewIndexUpdates.into(),
        )
        .unwrap();
        assert_eq!(e.name, "TooFewIndexUpdates");
        assert_eq!(
            e.message,
            "The settlement window saw too few fresh index updates"
        );
        assert_eq!(
            program_error(&compute_futures::ID, FuturesError::NotAdmin.into())
                .unwrap()
                .name,
            "NotAdmin"
        );
        let last = FUTURES_ERRORS.len() as u32 - 1;
        let name = program_error(&compute_futures::ID, 6000 + last)
            .unwrap()
            .name;
        assert_eq!(name, FuturesError::WrongSeriesTemplate.name());
        assert_eq!(
            program_error(&compute_token::ID, ComputeTokenError::ZeroAmount.into())
                .unwrap()
                .name,
            "ZeroAmount"
        );
        assert_eq!(
            TOKEN_ERRORS.len() as u32 - 1 + 6000,
            u32::from(ComputeTokenError::MathOverflow) + TOKEN_ERRORS.len() as u32 - 1
        );
        assert!(program_error(&Pubkey::default(), 6000).is_none());
        let err = TransactionError::InstructionError(0, InstructionError::Custom(6003));
        assert!(describe(&err, &[compute_futures::ID]).starts_with("NotPublisher (6003)"));
    }
}
