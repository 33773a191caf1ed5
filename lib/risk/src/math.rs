//! Checked integer helpers. Signed values are divided through their magnitudes so the code runs on
//! SBF, where signed division does not exist.

use crate::RiskError;

/// `n / d` rounded down and whether a remainder was left. When both fit in 64 bits the division
/// is done in 64 bits: on SBF a 128-bit division is a software routine costing hundreds of compute
/// units, a 64-bit one is a single instruction.
#[inline]
fn div_rem_flag(n: u128, d: u128) -> (u128, bool) {
    if n <= u64::MAX as u128 && d <= u64::MAX as u128 {
        let (n, d) = (n as u64, d as u64);
        ((n / d) as u128, !n.is_multiple_of(d))
    } else {
        (n / d, !n.is_multiple_of(d))
    }
}

/// `a × b` if it fits in 64 bits, checked by dividing back. SBF has no high-half multiply, so
/// `u64::checked_mul` (and `*` with overflow checks) is a call to a 128-bit multiply routine,
/// ≈ 45 CU, where a 64-bit division is one instruction.
#[inline(always)]
pub fn mul_u64(a: u64, b: u64) -> Option<u64> {
    let p = a.wrapping_mul(b);
    // Without overflow p = a·b and p / a = b; with it p < a·b, so p / a < b. `black_box`: LLVM
    // knows this idiom and would turn it back into the multiply routine it replaces.
    if a != 0 && core::hint::black_box(p) / a != b {
        None
    } else {
        Some(p)
    }
}

/// `a × b`, checked. Operands that fit in 64 bits cannot overflow 128 bits, so the overflow-checked
/// 128-bit multiply (a software routine on SBF) is only used for larger ones.
#[inline]
pub fn mul(a: u128, b: u128) -> Result<u128, RiskError> {
    if a <= u64::MAX as u128 && b <= u64::MAX as u128 {
        return Ok(wide_mul(a as u64, b as u64));
    }
    a.checked_mul(b).ok_or(RiskError::Overflow)
}

/// `a × b` of two 64-bit values, exact (it cannot overflow 128 bits): one 64-bit multiply when
/// the product fits, as it nearly always does. Plain `a as u128 * b as u128` is an
/// overflow-checked 128-bit multiply, a software routine on SBF.
#[inline(always)]
pub fn wide_mul(a: u64, b: u64) -> u128 {
    match mul_u64(a, b) {
        Some(p) => p as u128,
        None => (a as u128).wrapping_mul(b as u128),
    }
}

/// `a × b / d`, rounded down.
pub fn mul_div_floor(a: u128, b: u128, d: u128) -> Result<u128, RiskError> {
    if d == 0 {
        return Err(RiskError::InvalidInput);
    }
    Ok(div_rem_flag(mul(a, b)?, d).0)
}

/// `a × b / d`, rounded up.
pub fn mul_div_ceil(a: u128, b: u128, d: u128) -> Result<u128, RiskError> {
    if d == 0 {
        return Err(RiskError::InvalidInput);
    }
    let (q, rem) = div_rem_flag(mul(a, b)?, d);
    Ok(q + rem as u128)
}

/// `a × b / d` for signed `a`, rounded toward negative infinity.
pub fn mul_div_signed_floor(a: i128, b: u128, d: u128) -> Result<i128, RiskError> {
    let mag = a.unsigned_abs();
    if a >= 0 {
        to_i128(mul_div_floor(mag, b, d)?)
    } else {
        Ok(-to_i128(mul_div_ceil(mag, b, d)?)?)
    }
}

/// `a × b / d` for signed `a`, rounded toward positive infinity.
pub fn mul_div_signed_ceil(a: i128, b: u128, d: u128) -> Result<i128, RiskError> {
    let mag = a.unsigned_abs();
    if a >= 0 {
        to_i128(mul_div_ceil(mag, b, d)?)
    } else {
        Ok(-to_i128(mul_div_floor(mag, b, d)?)?)
    }
}

pub fn to_i128(v: u128) -> Result<i128, RiskError> {
    i128::try_from(v).map_err(|_| RiskError::Overflow)
}

pub fn to_i64(v: i128) -> Result<i64, RiskError> {
    i64::try_from(v).map_err(|_| RiskError::Overflow)
}

pub fn to_u64(v: u128) -> Result<u64, RiskError> {
    u64::try_from(v).map_err(|_| RiskError::Overflow)
}

/// Quote value of `lots` at `price` ticks.
pub fn notional(price: u64, lots: u64, tick_value: u64) -> Result<u128, RiskError> {
    mul(mul(price as u128, lots as u128)?, tick_value as u128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_directions() {
        assert_eq!(mul_div_floor(7, 3, 2), Ok(10));
        assert_eq!(mul_div_ceil(7, 3, 2), Ok(11));
        assert_eq!(mul_div_ceil(6, 3, 2), Ok(9));
        assert_eq!(mul_div_signed_floor(-7, 3, 2), Ok(-11));
        assert_eq!(mul_div_signed_ceil(-7, 3, 2), Ok(-10));
        assert_eq!(mul_div_signed_floor(7, 3, 2), Ok(10));
        assert_eq!(mul_div_signed_ceil(7, 3, 2), Ok(11));
        assert_eq!(mul_div_floor(1, 1, 0), Err(RiskError::InvalidInput));
        assert_eq!(mul_div_floor(u128::MAX, 2, 1), Err(RiskError::Overflow));
        assert_eq!(notional(u64::MAX, u64::MAX, 2), Err(RiskError::Overflow));
        assert_eq!(notional(250, 4, 100), Ok(100_000));
        assert_eq!(
            wide_mul(u64::MAX, u64::MAX),
            u64::MAX as u128 * u64::MAX as u128
        );
        assert_eq!(wide_mul(1 << 32, 1 << 32), 1u128 << 64);
        assert_eq!(wide_mul(3, 5), 15);
        for (a, b) in [
            (0, u64::MAX),
            (u64::MAX, 0),
            (1, u64::MAX),
            (u64::MAX, 1),
            (2, u64::MAX / 2),
            (2, u64::MAX / 2 + 1),
            (1 << 32, 1 << 32),
            ((1 << 32) - 1, (1 << 32) + 1),
            (u64::MAX, u64::MAX),
            (3_037_000_499, 3_037_000_499),
            (3_037_000_500, 6_074_001_000),
        ] {
            assert_eq!(mul_u64(a, b), a.checked_mul(b), "{a} × {b}");
        }
        // The 64-bit fast path and the 128-bit path agree at the boundary.
        let big = u64::MAX as u128;
        assert_eq!(mul_div_floor(big, 1, 3), Ok(big / 3));
        assert_eq!(mul_div_ceil(big, 1, 2), Ok(big / 2 + 1));
        assert_eq!(mul_div_floor(big, 4, 4), Ok(big));
        assert_eq!(mul_div_ceil(big + 1, 3, 2), Ok((big + 1) * 3 / 2));
        // Products past 64 bits of 64-bit operands, and 128-bit operands.
        assert_eq!(mul_div_floor(big, big, big), Ok(big));
        assert_eq!(notional(u64::MAX, 2, 1), Ok(big * 2));
        assert_eq!(mul_div_floor(u128::MAX / 2, 2, 2), Ok(u128::MAX / 2));
        assert_eq!(
            mul_div_floor(u128::MAX / 2 + 1, 2, 1),
            Err(RiskError::Overflow)
        );
    }

    proptest::proptest! {
        /// Over every magnitude: the division check agrees with the multiply-high one.
        #[test]
        fn mul_u64_is_checked_mul(a: u64, b: u64, sa in 0u32..64, sb in 0u32..64) {
            let (a, b) = (a >> sa, b >> sb);
            proptest::prop_assert_eq!(mul_u64(a, b), a.checked_mul(b));
            proptest::prop_assert_eq!(wide_mul(a, b), a as u128 * b as u128);
        }
    }
}
