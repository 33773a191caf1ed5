//! Checked bond arithmetic. All values are unsigned; no floats, no signed division.

use crate::error::ComputeTokenError;
use anchor_lang::prelude::*;

pub const BPS: u64 = 10_000;

/// `a * num / den`, rounded up when `round_up`, computed without an intermediate `a * num`
/// so that only the final result can overflow. `num` and `den` must be small enough that
/// `den * num` fits in u128 (callers pass at most 2·10^4 and 10^13).
pub fn mul_div(a: u128, num: u128, den: u128, round_up: bool) -> Result<u128> {
    require!(den != 0, ComputeTokenError::MathOverflow);
    let q = a / den;
    let r = a % den;
    let whole = q.checked_mul(num).ok_or(ComputeTokenError::MathOverflow)?;
    let part_num = r.checked_mul(num).ok_or(ComputeTokenError::MathOverflow)?;
    let mut part = part_num / den;
    if round_up && part_num % den != 0 {
        part += 1;
    }
    Ok(whole
        .checked_add(part)
        .ok_or(ComputeTokenError::MathOverflow)?)
}

/// Narrow to u64 or fail with `MathOverflow`.
pub fn to_u64(v: u128) -> Result<u64> {
    u64::try_from(v).map_err(|_| error!(ComputeTokenError::MathOverflow))
}

pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| error!(ComputeTokenError::MathOverflow))
}

pub fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b)
        .ok_or_else(|| error!(ComputeTokenError::MathOverflow))
}

/// `a - b` where the books guarantee `a >= b`; fails with `InvariantBroken` otherwise, so a
/// broken invariant stops the instruction instead of being clamped.
pub fn sub_inv(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b)
        .ok_or_else(|| error!(ComputeTokenError::InvariantBroken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_rounds_both_ways() {
        assert_eq!(mul_div(10, 3, 4, false).unwrap(), 7);
        assert_eq!(mul_div(10, 3, 4, true).unwrap(), 8);
        assert_eq!(mul_div(8, 3, 4, true).unwrap(), 6);
        let big = u128::from(u64::MAX) * u128::from(u64::MAX);
        assert_eq!(mul_div(big, 1, 1, false).unwrap(), big);
        assert!(mul_div(big, 3, 1, false).is_err());
    }
}
