//! Trading fees: the taker pays, the maker pays or receives a rebate. Fees round up, rebates down.

use crate::math::{mul_div_ceil, mul_div_floor, to_u64};
use crate::{RiskError, BPS};

/// Fee on `notional` at `bps`, rounded up.
pub fn taker_fee(notional: u128, bps: u64) -> Result<u64, RiskError> {
    to_u64(mul_div_ceil(notional, bps as u128, BPS as u128)?)
}

/// Maker fee (positive, rounded up) or rebate (negative, its size rounded down).
pub fn maker_fee(notional: u128, bps: i64) -> Result<i64, RiskError> {
    let mag = bps.unsigned_abs() as u128;
    if bps >= 0 {
        i64::try_from(mul_div_ceil(notional, mag, BPS as u128)?).map_err(|_| RiskError::Overflow)
    } else {
        let r = i64::try_from(mul_div_floor(notional, mag, BPS as u128)?)
            .map_err(|_| RiskError::Overflow)?;
        Ok(-r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_rounding() {
        assert_eq!(taker_fee(10_001, 5), Ok(6)); // 5.0005 → 6
        assert_eq!(taker_fee(10_000, 5), Ok(5));
        assert_eq!(maker_fee(10_001, -2), Ok(-2)); // rebate 2.0002 → 2
        assert_eq!(maker_fee(10_001, 2), Ok(3));
        assert_eq!(maker_fee(0, -2), Ok(0));
        assert_eq!(taker_fee(u128::MAX, 2), Err(RiskError::Overflow));
    }
}
