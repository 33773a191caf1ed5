//! Physical delivery at expiry: how many lots each opted-in long receives and each escrowing
//! short delivers when the two sides do not match, exactly and without a global pass.
//!
//! Delivered quantity is `min(long lots opted in, short lots escrowed)`. Each side is shared pro
//! rata. To let a crank settle accounts one at a time, in any order, and still deliver exactly
//! the total, every participant holds a fixed range of its side's cumulative lots (recorded when
//! it opts in or escrows: `start` = lots of that side recorded before it). Its share is the
//! difference of the rounded-down pro-rata image of its range's two ends: shares then add up to
//! the delivered quantity exactly, each within one lot of its exact pro-rata share, and who gets
//! the odd lot is fixed by the order of opting in — deterministic.

use crate::math::mul_div_floor;
use crate::RiskError;

/// Lots delivered on each side: the smaller of what longs asked for and shorts escrowed.
pub fn delivered_quantity(long_opted: u64, short_escrowed: u64) -> u64 {
    long_opted.min(short_escrowed)
}

/// The share of `delivered` lots that goes to the participant holding lots `[start, start +
/// lots)` of its side's `total` recorded lots.
///
/// ```
/// use cfx_risk::delivery::pro_rata_share;
/// // Longs opted in 3 + 3 + 4 = 10 lots; shorts escrowed 7, so 7 are delivered: exact shares
/// // are 2.1, 2.1 and 2.8; the ranges [0,3), [3,6), [6,10) get 2, 2 and 3 — 7 in all.
/// assert_eq!(pro_rata_share(0, 3, 10, 7).unwrap(), 2);
/// assert_eq!(pro_rata_share(3, 3, 10, 7).unwrap(), 2);
/// assert_eq!(pro_rata_share(6, 4, 10, 7).unwrap(), 3);
/// // When the side is matched in full, everyone gets exactly what they recorded.
/// assert_eq!(pro_rata_share(3, 3, 7, 7).unwrap(), 3);
/// ```
pub fn pro_rata_share(start: u64, lots: u64, total: u64, delivered: u64) -> Result<u64, RiskError> {
    let end = start.checked_add(lots).ok_or(RiskError::Overflow)?;
    if end > total || delivered > total {
        return Err(RiskError::InvalidInput);
    }
    if total == 0 {
        return Ok(0);
    }
    let image = |x: u64| mul_div_floor(x as u128, delivered as u128, total as u128);
    Ok((image(end)? - image(start)?) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_outside_the_side_are_refused() {
        assert_eq!(pro_rata_share(5, 6, 10, 4), Err(RiskError::InvalidInput));
        assert_eq!(pro_rata_share(0, 1, 10, 11), Err(RiskError::InvalidInput));
        assert_eq!(pro_rata_share(u64::MAX, 1, 10, 1), Err(RiskError::Overflow));
        assert_eq!(pro_rata_share(0, 0, 0, 0), Ok(0));
    }

    proptest! {
        /// Shares over any split of a side add up to the delivered quantity exactly, whatever
        /// the order they are computed in, and each is within one lot of its exact share.
        #[test]
        fn shares_add_up_exactly_and_stay_within_a_lot(
            lots in proptest::collection::vec(1u64..1_000_000, 1..40),
            other_side in 0u64..40_000_000,
        ) {
            let total: u64 = lots.iter().sum();
            let delivered = delivered_quantity(total, other_side);
            let mut start = 0;
            let mut sum = 0u64;
            for &l in &lots {
                let share = pro_rata_share(start, l, total, delivered).unwrap();
                let exact = l as u128 * delivered as u128;
                let scaled = share as u128 * total as u128;
                let total = total as u128;
                // |share − exact / total| < 1.
                prop_assert!(scaled + total > exact);
                prop_assert!(scaled < exact + total);
                prop_assert!(share <= l);
                sum += share;
                start += l;
            }
            prop_assert_eq!(sum, delivered);
        }
    }
}
