//! Expiry: what each account receives or pays when a series settles, in cash and, for physically
//! delivered series, in compute tokens.
//!
//! Every position closes at the settlement price. An account's losses are collected at once; its
//! gains are only claims on what the losers (and the insurance fund) paid in, paid out once every
//! position of the market is settled: pro rata to the gains when the pool falls short, so winners
//! never receive money the losers did not provide and the order accounts are settled in changes
//! nothing.

use crate::delivery::{delivered_quantity, pro_rata_share};
use crate::math::{mul_div_ceil, mul_div_floor, notional, to_u64};
use crate::{RiskError, BPS};

/// What a winner with `gain` receives when the pool `collected` from losers must cover `owed`
/// of gains in all: the whole gain while the pool covers every gain, else its pro-rata share,
/// rounded down.
///
/// ```
/// use cfx_risk::settlement::payout;
/// assert_eq!(payout(300, 1_000, 1_000).unwrap(), 300);
/// // Losers paid 900 of the 1,000 owed: each winner gets 90%.
/// assert_eq!(payout(300, 900, 1_000).unwrap(), 270);
/// assert_eq!(payout(333, 900, 1_000).unwrap(), 299); // 299.7, rounded down
/// ```
pub fn payout(gain: u64, collected: u64, owed: u64) -> Result<u64, RiskError> {
    if gain > owed {
        return Err(RiskError::InvalidInput);
    }
    if collected >= owed {
        return Ok(gain);
    }
    to_u64(mul_div_floor(
        gain as u128,
        collected as u128,
        owed as u128,
    )?)
}

/// Whether an emergency settlement `price` lies within `band_bps` of `reference`.
pub fn within_band(price: u64, reference: u64, band_bps: u64) -> bool {
    let diff = price.abs_diff(reference) as u128;
    diff * BPS as u128 <= reference as u128 * band_bps as u128
}

/// Penalty per lot a short pays for each lot it opted to deliver and did not escrow: `bps` of
/// the lot's value at the settlement price, rounded up.
pub fn penalty_per_lot(price: u64, tick_value: u64, bps: u64) -> Result<u64, RiskError> {
    let value = notional(price, 1, tick_value)?;
    to_u64(mul_div_ceil(value, bps as u128, BPS as u128)?)
}

/// Quote a long opting in to take `lots` reserves: their value at `price` plus `band_bps`, rounded
/// up, so a settlement price up to that band above today's is paid from the reservation.
pub fn delivery_reserve(
    lots: u64,
    price: u64,
    tick_value: u64,
    band_bps: u64,
) -> Result<u64, RiskError> {
    let value = notional(price, lots, tick_value)?;
    to_u64(mul_div_ceil(
        value,
        BPS as u128 + band_bps as u128,
        BPS as u128,
    )?)
}

/// Quote a short opting in to deliver `lots` reserves against failing: the penalty on their value
/// at `price` plus `band_bps`, rounded up.
pub fn penalty_reserve(
    lots: u64,
    price: u64,
    tick_value: u64,
    band_bps: u64,
    penalty_bps: u64,
) -> Result<u64, RiskError> {
    let value = delivery_reserve(lots, price, tick_value, band_bps)?;
    to_u64(mul_div_ceil(
        value as u128,
        penalty_bps as u128,
        BPS as u128,
    )?)
}

/// The whole market's delivery records, fixed at the delivery cut-off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryTotals {
    /// Lots longs opted in to take.
    pub long_opted: u64,
    /// Lots shorts opted in to deliver, and of them the lots they escrowed tokens for.
    pub short_opted: u64,
    pub short_escrowed: u64,
}

impl DeliveryTotals {
    pub fn delivered(&self) -> u64 {
        delivered_quantity(self.long_opted, self.short_escrowed)
    }

    /// Lots shorts opted in for and did not escrow.
    pub fn failed(&self) -> u64 {
        self.short_opted.saturating_sub(self.short_escrowed)
    }
}

/// One account's delivery record in a market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryRole {
    None,
    /// Opted in to take `lots`, holding lots `[start, start + lots)` of the longs' records.
    Long {
        start: u64,
        lots: u64,
    },
    /// Opted in to deliver `lots`; when `escrowed`, it holds lots `[start, start + lots)` of the
    /// shorts' escrow.
    Short {
        start: u64,
        lots: u64,
        escrowed: bool,
    },
}

/// What delivery does to one account at the settlement price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryOutcome {
    /// Lots that change hands: received by a long, delivered by a short.
    pub lots: u64,
    /// Escrowed lots that go back to a short (it escrowed more than the longs took).
    pub returned_lots: u64,
    /// Quote the account pays (the long's price for the tokens, the failing short's penalty).
    pub pays: u64,
    /// Quote the account is owed (the short's price for its tokens, a failed long's penalty
    /// share).
    pub owed: u64,
}

/// What the longs left without tokens share: the failed shorts' penalty on at most as many
/// lots as the longs missed.
pub fn penalty_pool(
    totals: &DeliveryTotals,
    price: u64,
    tick_value: u64,
    penalty_bps: u64,
) -> Result<u64, RiskError> {
    let missed = totals.long_opted - totals.delivered();
    let lots = totals.failed().min(missed);
    if lots == 0 {
        return Ok(0);
    }
    lots.checked_mul(penalty_per_lot(price, tick_value, penalty_bps)?)
        .ok_or(RiskError::Overflow)
}

/// Penalties the failed shorts pay beyond what the longs they failed receive (more lots failed
/// than longs missed): the insurance fund's.
pub fn penalty_surplus(
    totals: &DeliveryTotals,
    price: u64,
    tick_value: u64,
    penalty_bps: u64,
) -> Result<u64, RiskError> {
    let paid = totals
        .failed()
        .checked_mul(penalty_per_lot(price, tick_value, penalty_bps)?)
        .ok_or(RiskError::Overflow)?;
    Ok(paid - penalty_pool(totals, price, tick_value, penalty_bps)?)
}

/// Delivery at `price` for one account's `role`, given the market's `totals`: shares pro rata
/// with deterministic rounding (`delivery::pro_rata_share`) so the lots taken and delivered match
/// exactly whatever order accounts settle in. Longs the shorts failed share the penalty pool in
/// proportion to the lots they did not receive, exactly (the same ranges).
pub fn settle_delivery(
    role: DeliveryRole,
    totals: &DeliveryTotals,
    price: u64,
    tick_value: u64,
    penalty_bps: u64,
) -> Result<DeliveryOutcome, RiskError> {
    let delivered = totals.delivered();
    match role {
        DeliveryRole::None => Ok(DeliveryOutcome::default()),
        DeliveryRole::Long { start, lots } => {
            let q = pro_rata_share(start, lots, totals.long_opted, delivered)?;
            let pays = to_u64(notional(price, q, tick_value)?)?;
            // Long lots left without tokens form ranges too: `x − image(x)` counts the
            // undelivered lots among the first x recorded, so each long holds a fixed range of
            // the U undelivered lots and the penalty pool is shared exactly, in any order.
            let undelivered_total = totals.long_opted - delivered;
            let pool = penalty_pool(totals, price, tick_value, penalty_bps)?;
            let owed = if pool == 0 {
                0
            } else {
                let undelivered_before = |x: u64| -> Result<u128, RiskError> {
                    Ok(x as u128
                        - mul_div_floor(x as u128, delivered as u128, totals.long_opted as u128)?)
                };
                let end = start.checked_add(lots).ok_or(RiskError::Overflow)?;
                let share = |x: u64| -> Result<u128, RiskError> {
                    mul_div_floor(
                        undelivered_before(x)?,
                        pool as u128,
                        undelivered_total as u128,
                    )
                };
                to_u64(share(end)? - share(start)?)?
            };
            Ok(DeliveryOutcome {
                lots: q,
                returned_lots: 0,
                pays,
                owed,
            })
        }
        DeliveryRole::Short {
            start,
            lots,
            escrowed,
        } => {
            if !escrowed {
                let per_lot = penalty_per_lot(price, tick_value, penalty_bps)?;
                let pays = lots.checked_mul(per_lot).ok_or(RiskError::Overflow)?;
                return Ok(DeliveryOutcome {
                    pays,
                    ..DeliveryOutcome::default()
                });
            }
            let q = pro_rata_share(start, lots, totals.short_escrowed, delivered)?;
            Ok(DeliveryOutcome {
                lots: q,
                returned_lots: lots - q,
                pays: 0,
                owed: to_u64(notional(price, q, tick_value)?)?,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bands_and_penalties_round_for_the_protocol() {
        assert!(within_band(105, 100, 500));
        assert!(within_band(95, 100, 500));
        assert!(!within_band(106, 100, 500));
        assert!(!within_band(1, 0, 10_000));
        // 3 ticks × 7 = 21 per lot; 1% of it is 0.21, charged as 1.
        assert_eq!(penalty_per_lot(3, 7, 100).unwrap(), 1);
        assert_eq!(delivery_reserve(2, 100, 10, 500).unwrap(), 2_100);
        assert_eq!(payout(1, 0, 1).unwrap(), 0);
        assert_eq!(payout(2, 5, 1), Err(RiskError::InvalidInput));
    }

    #[test]
    fn a_short_that_escrowed_nothing_pays_the_longs_it_failed() {
        // Longs opted in 10 lots; shorts opted 8 and escrowed 5: 5 delivered, 3 failed.
        let totals = DeliveryTotals {
            long_opted: 10,
            short_opted: 8,
            short_escrowed: 5,
        };
        let (price, tv, bps) = (100, 10, 1_000); // 1,000 a lot, 100 penalty a lot
        let failer = DeliveryRole::Short {
            start: 0,
            lots: 3,
            escrowed: false,
        };
        let out = settle_delivery(failer, &totals, price, tv, bps).unwrap();
        assert_eq!((out.lots, out.pays, out.owed), (0, 300, 0));
        let long_a = DeliveryRole::Long { start: 0, lots: 4 };
        let long_b = DeliveryRole::Long { start: 4, lots: 6 };
        let a = settle_delivery(long_a, &totals, price, tv, bps).unwrap();
        let b = settle_delivery(long_b, &totals, price, tv, bps).unwrap();
        assert_eq!((a.lots, b.lots), (2, 3));
        assert_eq!((a.pays, b.pays), (2_000, 3_000));
        // 5 lots went undelivered (2 of a's, 3 of b's); the 300 penalty is shared 2:3.
        assert_eq!((a.owed, b.owed), (120, 180));
        let short = DeliveryRole::Short {
            start: 0,
            lots: 5,
            escrowed: true,
        };
        let s = settle_delivery(short, &totals, price, tv, bps).unwrap();
        assert_eq!((s.lots, s.returned_lots, s.owed), (5, 0, 5_000));
    }

    proptest! {
        /// Lots taken equal lots delivered; the cash the longs pay for them equals the cash the
        /// shorts are owed; the failed longs never receive more penalty than the failers pay.
        #[test]
        fn delivery_conserves_lots_cash_and_penalties(
            longs in proptest::collection::vec(1u64..50, 1..8),
            shorts in proptest::collection::vec((1u64..50, any::<bool>()), 1..8),
            price in 1u64..10_000,
            tv in 1u64..1_000,
            bps in 0u64..10_000,
        ) {
            let long_opted: u64 = longs.iter().sum();
            let short_opted: u64 = shorts.iter().map(|s| s.0).sum();
            let short_escrowed: u64 = shorts.iter().filter(|s| s.1).map(|s| s.0).sum();
            let totals = DeliveryTotals { long_opted, short_opted, short_escrowed };
            let (mut taken, mut paid, mut credit) = (0u64, 0u64, 0u64);
            let mut start = 0;
            for &l in &longs {
                let o = settle_delivery(DeliveryRole::Long { start, lots: l }, &totals, price, tv, bps).unwrap();
                taken += o.lots;
                paid += o.pays;
                credit += o.owed;
                start += l;
            }
            let (mut given, mut owed, mut penalties, mut back) = (0u64, 0u64, 0u64, 0u64);
            let mut start = 0;
            for &(l, escrowed) in &shorts {
                let role = DeliveryRole::Short { start, lots: l, escrowed };
                let o = settle_delivery(role, &totals, price, tv, bps).unwrap();
                given += o.lots;
                owed += o.owed;
                penalties += o.pays;
                back += o.returned_lots;
                if escrowed { start += l; }
            }
            prop_assert_eq!(taken, given);
            prop_assert_eq!(taken, totals.delivered());
            prop_assert_eq!(given + back, short_escrowed);
            prop_assert_eq!(paid, owed);
            let pool = penalty_pool(&totals, price, tv, bps).unwrap();
            prop_assert_eq!(credit, pool);
            prop_assert_eq!(penalties, pool + penalty_surplus(&totals, price, tv, bps).unwrap());
        }

        /// Payouts never add up to more than the pool, and each is its gain when nothing is short.
        #[test]
        fn payouts_stay_within_the_pool(
            gains in proptest::collection::vec(0u64..1_000_000, 1..20),
            shortfall in 0u64..2_000_000,
        ) {
            let owed: u64 = gains.iter().sum();
            let collected = owed.saturating_sub(shortfall);
            let total: u64 = gains.iter().map(|&g| payout(g, collected, owed).unwrap()).sum();
            prop_assert!(total <= collected);
            if shortfall == 0 {
                prop_assert_eq!(total, owed);
            }
        }
    }
}
