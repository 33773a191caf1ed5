//! Liquidation sizing, the penalty and its split, and the socialized-loss index: pure math for
//! the liquidation instructions and the keepers that call them.
//!
//! An account whose maintenance health is below zero can be liquidated: a liquidator takes over
//! lots of one position at the *penalty price* (the mark moved against the liquidated account by
//! `penalty_bps`), and the liquidated account's health is then measured at the *liquidation-end*
//! rate, between maintenance and initial (Mango's Init ≤ LiqEnd ≤ Maint): a liquidation takes the
//! fewest lots that bring that health back to zero, so an account is not liquidated again at the
//! next tick, and no more than that.
//!
//! Each lot moved changes the liquidated account's health at rate `r` by `r × notional − penalty`;
//! since the penalty rate is below the maintenance rate (checked by `LiquidationParams::validate`),
//! a liquidation never lowers maintenance health.

use crate::margin::{HealthKind, MarginParams, PositionRisk};
use crate::math::{mul_div_ceil, mul_div_floor, notional, to_u64};
use crate::position::Position;
use crate::{RiskError, BPS};

/// A market's liquidation parameters (the liquidation-end rate is `MarginParams::liq_end_bps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LiquidationParams {
    /// Price concession of the liquidated account, bps of the mark; below the maintenance rate.
    pub penalty_bps: u64,
    /// Share of the penalty that goes to the insurance fund rather than the liquidator.
    pub insurance_share_bps: u64,
    /// A position left with fewer lots than this is taken whole.
    pub dust_lots: u64,
}

impl LiquidationParams {
    /// `0 < penalty < maintenance`, share ≤ 100%, and the margin rates valid.
    pub fn validate(&self, margin: &MarginParams) -> Result<(), RiskError> {
        margin.validate()?;
        if self.penalty_bps == 0
            || self.penalty_bps >= margin.maintenance_bps
            || self.insurance_share_bps > BPS
        {
            return Err(RiskError::InvalidInput);
        }
        Ok(())
    }
}

/// The price, in ticks, at which a liquidator takes a position over: for a long (the liquidated
/// account sells) the mark less the penalty, for a short (it buys) the mark plus the penalty. The
/// penalty is rounded down, toward the mark: rounded up, a penalty rate just below the
/// maintenance rate could cost the liquidated account more per lot than the margin the lot
/// releases, and a liquidation would lower its maintenance health (the property test found it).
///
/// ```
/// use cfx_risk::liquidation::penalty_price;
/// // A long liquidated at a mark of 25,000 ticks with a 2.5% penalty is sold at 24,375.
/// assert_eq!(penalty_price(25_000, 250, true).unwrap(), 24_375);
/// // A short at a mark of 25,001: a 625.025-tick penalty, bought back at 25,626.
/// assert_eq!(penalty_price(25_001, 250, false).unwrap(), 25_626);
/// ```
pub fn penalty_price(mark: u64, penalty_bps: u64, liquidated_long: bool) -> Result<u64, RiskError> {
    let penalty = to_u64(mul_div_floor(
        mark as u128,
        penalty_bps as u128,
        BPS as u128,
    )?)?;
    if liquidated_long {
        Ok(mark.saturating_sub(penalty).max(1))
    } else {
        mark.checked_add(penalty).ok_or(RiskError::Overflow)
    }
}

/// The penalty on `lots` taken over at `price` against the mark (quote native units), and its
/// split: `(insurance, liquidator)`, the insurance share rounded up.
///
/// ```
/// use cfx_risk::liquidation::penalty_split;
/// // 10 lots, 625 ticks of concession each, 100 native units per tick: a penalty of 625,000;
/// // a 30% insurance share takes 187,500 and the liquidator keeps 437,500.
/// assert_eq!(penalty_split(25_000, 24_375, 10, 100, 3_000).unwrap(), (187_500, 437_500));
/// ```
pub fn penalty_split(
    mark: u64,
    price: u64,
    lots: u64,
    tick_value: u64,
    insurance_share_bps: u64,
) -> Result<(u64, u64), RiskError> {
    let gap = mark.abs_diff(price);
    let penalty = notional(gap, lots, tick_value)?;
    let insurance = mul_div_ceil(penalty, insurance_share_bps as u128, BPS as u128)?;
    Ok((to_u64(insurance)?, to_u64(penalty - insurance)?))
}

/// The position after `lots` of it are taken over at `price`, and the quote the account realizes.
fn after_transfer(
    risk: &PositionRisk,
    lots: u64,
    price: u64,
) -> Result<(PositionRisk, i128), RiskError> {
    let mut p: Position = risk.position;
    let long = p.base_lots > 0;
    let value = notional(price, lots, risk.tick_value)?;
    let realized = p.apply_trade(!long, lots, value)?.realized;
    Ok((
        PositionRisk {
            position: p,
            ..*risk
        },
        realized as i128,
    ))
}

/// This position's contribution to liquidation-end health, plus what the account would realize
/// selling `lots` at `price` first.
fn liq_end_contribution(risk: &PositionRisk, lots: u64, price: u64) -> Result<i128, RiskError> {
    let (after, realized) = after_transfer(risk, lots, price)?;
    after
        .health(HealthKind::LiquidationEnd)?
        .checked_add(realized)
        .ok_or(RiskError::Overflow)
}

/// The fewest lots of `risk`'s position a liquidator must take at `price` (see `penalty_price`)
/// so that the account's liquidation-end health is back at zero, given that health now
/// (`liq_end_health`, over all the account's positions at the liquidation-end rate). The whole
/// position when less than `dust_lots` would be left, or when even the whole position does not
/// get there. 0 when the account is already at or above the level.
///
/// ```
/// use cfx_risk::liquidation::{lots_to_liquidate, LiquidationParams};
/// use cfx_risk::margin::{MarginParams, PositionRisk};
/// use cfx_risk::position::Position;
/// let margin = MarginParams {
///     initial_bps: 1_000, maintenance_bps: 500, liq_end_bps: 750, pnl_weight_bps: 5_000,
/// };
/// let liq = LiquidationParams { penalty_bps: 250, insurance_share_bps: 3_000, dust_lots: 1 };
/// // Long 100 lots bought at 25,000 ticks (100 native units per tick), mark now 24,000, and
/// // 140,000,000 of collateral: equity 40,000,000 against 7.5% × 240,000,000 = 18,000,000 at
/// // the liquidation-end rate, so liquidation-end health is 22,000,000 ≥ 0: nothing to take.
/// let risk = PositionRisk {
///     position: Position { base_lots: 100, entry_quote: 250_000_000 },
///     bid_lots: 0, ask_lots: 0, bid_price_max: 0, ask_price_min: 0,
///     mark: 24_000, index: 0, loss_owed: 0, tick_value: 100, params: margin,
/// };
/// assert_eq!(lots_to_liquidate(&risk, 22_000_000, &liq, 23_400).unwrap(), 0);
/// // With 5,000,000 less equity than needed, each lot sold at 23,400 (2.5% below the mark)
/// // gains 7.5% − 2.5% of its 2,400,000 notional = 120,000: 42 lots (41.7 rounded up).
/// assert_eq!(lots_to_liquidate(&risk, -5_000_000, &liq, 23_400).unwrap(), 42);
/// ```
pub fn lots_to_liquidate(
    risk: &PositionRisk,
    liq_end_health: i128,
    params: &LiquidationParams,
    price: u64,
) -> Result<u64, RiskError> {
    if liq_end_health >= 0 {
        return Ok(0);
    }
    let size = risk.position.base_lots.unsigned_abs();
    if size == 0 {
        return Ok(0);
    }
    let before = liq_end_contribution(risk, 0, price)?;
    // Health after taking `q` lots; non-decreasing in q since the penalty is below the rate.
    let health_after = |q: u64| -> Result<i128, RiskError> {
        let c = liq_end_contribution(risk, q, price)?;
        liq_end_health
            .checked_add(c - before)
            .ok_or(RiskError::Overflow)
    };
    // First guess from the per-lot gain rounded down (so it never falls short by more than the
    // rounding of the few lots around it), then settle on the exact fewest.
    let per_lot_rate = notional(risk.mark, 1, risk.tick_value)?;
    let gain = mul_div_floor(per_lot_rate, risk.params.liq_end_bps as u128, BPS as u128)?
        .saturating_sub(notional(risk.mark.abs_diff(price), 1, risk.tick_value)?);
    let estimate = if gain == 0 {
        size
    } else {
        to_u64(mul_div_ceil(liq_end_health.unsigned_abs(), 1, gain)?.min(size as u128))?.max(1)
    };
    let mut q = size;
    if health_after(size)? >= 0 {
        // The fewest q with health_after(q) ≥ 0, in [lo, hi]. The estimate is off by at most
        // the rounding of a few lots, so this usually settles in two evaluations; otherwise a
        // bisection (at most 64 steps) finishes.
        let (mut lo, mut hi) = (1u64, size);
        if health_after(estimate)? >= 0 {
            hi = estimate;
            if estimate > 1 && health_after(estimate - 1)? < 0 {
                lo = estimate;
            }
        } else {
            lo = estimate + 1;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if health_after(mid)? >= 0 {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        q = lo;
    }
    if size - q < params.dust_lots {
        q = size;
    }
    Ok(q)
}

/// The bankruptcy price of a position, in ticks: closing all of it there leaves the account's
/// equity at exactly zero, given `other_equity` (collateral plus every other position's equity
/// and owed losses). A long is bankrupt below it, a short above it; rounded so that closing at the
/// returned price never leaves negative equity (up for a long, down for a short). `None` when no
/// price makes the account bankrupt (a long whose other equity covers its whole entry, or a short
/// already bankrupt at price 0).
///
/// ```
/// use cfx_risk::liquidation::bankruptcy_price;
/// use cfx_risk::position::Position;
/// // Long 10 lots bought for 1,000,000 (100 native units per tick), 60,000 of collateral: closing
/// // at 940 ticks returns 940,000, and 940,000 + 60,000 − 1,000,000 = 0.
/// let long = Position { base_lots: 10, entry_quote: 1_000_000 };
/// assert_eq!(bankruptcy_price(&long, 60_000, 100).unwrap(), Some(940));
/// // 60,001 of collateral: 939.999 ticks, rounded up to 940.
/// assert_eq!(bankruptcy_price(&long, 60_001, 100).unwrap(), Some(940));
/// // A short of 10 sold for 1,000,000 with 60,000: bought back at 1,060 it breaks even.
/// let short = Position { base_lots: -10, entry_quote: -1_000_000 };
/// assert_eq!(bankruptcy_price(&short, 60_000, 100).unwrap(), Some(1_060));
/// ```
pub fn bankruptcy_price(
    position: &Position,
    other_equity: i128,
    tick_value: u64,
) -> Result<Option<u64>, RiskError> {
    let lots = position.base_lots.unsigned_abs();
    if lots == 0 || tick_value == 0 {
        return Ok(None);
    }
    let per_tick = (lots as u128)
        .checked_mul(tick_value as u128)
        .ok_or(RiskError::Overflow)?;
    let entry = position.entry_quote as i128;
    if position.base_lots > 0 {
        // other + lots·p·tv − entry = 0  →  p = (entry − other) / (lots·tv), rounded up.
        let need = entry.checked_sub(other_equity).ok_or(RiskError::Overflow)?;
        if need <= 0 {
            return Ok(None);
        }
        Ok(Some(to_u64(mul_div_ceil(need as u128, 1, per_tick)?)?))
    } else {
        // other − lots·p·tv − entry = 0  →  p = (other − entry) / (lots·tv), rounded down.
        let room = other_equity.checked_sub(entry).ok_or(RiskError::Overflow)?;
        if room < 0 {
            return Ok(None);
        }
        Ok(Some(to_u64(mul_div_floor(room as u128, 1, per_tick)?)?))
    }
}

/// Scale of the socialized-loss index: quote native units per lot, times 10^9.
pub const LOSS_INDEX_SCALE: u128 = 1_000_000_000;

/// A cumulative loss per lot charged to one side of a market (longs or shorts) when bad debt
/// exceeds what the insurance fund may cover. A position records the index when it last paid and
/// owes `lots × (index − recorded)` the next time it is touched: each position pays once per
/// increase, lazily, and never twice.
///
/// ```
/// use cfx_risk::liquidation::SocializedLoss;
/// let mut longs = SocializedLoss::default();
/// // 1,000 native units of bad debt over 3 long lots: 333.33… per lot, charged as 333.333334
/// // (rounded up), so the lots together pay at least the loss.
/// longs.socialize(1_000, 3).unwrap();
/// assert_eq!(longs.owed(3, 0).unwrap(), 1_001);
/// assert_eq!(longs.owed(1, 0).unwrap(), 334);
/// // A position that already paid at the current index owes nothing more.
/// assert_eq!(longs.owed(3, longs.index).unwrap(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SocializedLoss {
    /// Cumulative loss per lot, scaled by `LOSS_INDEX_SCALE`.
    pub index: u128,
}

impl SocializedLoss {
    /// Spreads `loss` over `lots` open lots of the side (the index rises by the loss per lot,
    /// rounded up). Refused with no open lots to carry it.
    pub fn socialize(&mut self, loss: u64, lots: u64) -> Result<(), RiskError> {
        if lots == 0 {
            return Err(RiskError::InvalidInput);
        }
        let per_lot = mul_div_ceil(loss as u128, LOSS_INDEX_SCALE, lots as u128)?;
        self.index = self.index.checked_add(per_lot).ok_or(RiskError::Overflow)?;
        Ok(())
    }

    /// What a position of `lots` that last paid at index `paid_at` owes now, rounded up.
    pub fn owed(&self, lots: u64, paid_at: u128) -> Result<u64, RiskError> {
        let delta = self
            .index
            .checked_sub(paid_at)
            .ok_or(RiskError::InvalidInput)?;
        to_u64(mul_div_ceil(lots as u128, delta, LOSS_INDEX_SCALE)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MARGIN: MarginParams = MarginParams {
        initial_bps: 1_000,
        maintenance_bps: 500,
        liq_end_bps: 750,
        pnl_weight_bps: 5_000,
    };

    fn risk(base: i64, entry_price: u64, mark: u64) -> PositionRisk {
        let tv = 100u64;
        let entry = (base.unsigned_abs() as u128 * entry_price as u128 * tv as u128) as i64;
        PositionRisk {
            position: Position {
                base_lots: base,
                entry_quote: if base >= 0 { entry } else { -entry },
            },
            bid_lots: 0,
            ask_lots: 0,
            bid_price_max: 0,
            ask_price_min: 0,
            mark,
            index: 0,
            loss_owed: 0,
            tick_value: tv,
            params: MARGIN,
        }
    }

    /// Health of a one-position account with `collateral`.
    fn health(collateral: i128, r: &PositionRisk, kind: HealthKind) -> i128 {
        collateral + r.health(kind).unwrap()
    }

    #[test]
    fn params_are_checked_against_the_margin_rates() {
        let ok = LiquidationParams {
            penalty_bps: 250,
            insurance_share_bps: 3_000,
            dust_lots: 1,
        };
        assert!(ok.validate(&MARGIN).is_ok());
        for bad in [
            LiquidationParams {
                penalty_bps: 0,
                ..ok
            },
            LiquidationParams {
                penalty_bps: 500,
                ..ok
            },
            LiquidationParams {
                insurance_share_bps: BPS + 1,
                ..ok
            },
        ] {
            assert_eq!(
                bad.validate(&MARGIN),
                Err(RiskError::InvalidInput),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn socializing_with_no_open_lots_is_refused() {
        assert_eq!(
            SocializedLoss::default().socialize(5, 0),
            Err(RiskError::InvalidInput)
        );
    }

    proptest! {
        /// A liquidation of the computed size: restores liquidation-end health, takes no lot
        /// more than needed (but for dust), never lowers maintenance health, and the penalty
        /// price is on the liquidated account's losing side of the mark.
        #[test]
        fn liquidation_takes_the_fewest_lots_and_never_hurts_maintenance(
            long in any::<bool>(),
            size in 1i64..5_000,
            entry in 1_000u64..50_000,
            move_bps in 0u64..3_000,
            collateral_pct in 0u64..40,
            liq_end_bps in 500u64..=1_000,
            penalty_bps in 1u64..500,
            dust in 0u64..10,
        ) {
            let mark = if long {
                entry - entry * move_bps / BPS
            } else {
                entry + entry * move_bps / BPS
            };
            prop_assume!(mark > 0);
            let base = if long { size } else { -size };
            let mut r = risk(base, entry, mark);
            r.params.liq_end_bps = liq_end_bps;
            let notional_now = (size as u128 * mark as u128 * 100) as i128;
            let collateral = notional_now * collateral_pct as i128 / 100;
            let params = LiquidationParams {
                penalty_bps,
                insurance_share_bps: 3_000,
                dust_lots: dust,
            };
            prop_assume!(params.validate(&r.params).is_ok());
            let price = penalty_price(mark, penalty_bps, long).unwrap();
            let on_losing_side = if long { price <= mark } else { price >= mark };
            prop_assert!(on_losing_side);
            let liq_end = health(collateral, &r, HealthKind::LiquidationEnd);
            let q = lots_to_liquidate(&r, liq_end, &params, price).unwrap();
            prop_assert!(q <= size as u64);
            if liq_end >= 0 {
                prop_assert_eq!(q, 0);
                return Ok(());
            }
            prop_assert!(q > 0);
            let (after, realized) = after_transfer(&r, q, price).unwrap();
            let maint_before = health(collateral, &r, HealthKind::Maintenance);
            let maint_after = health(collateral + realized, &after, HealthKind::Maintenance);
            prop_assert!(maint_after >= maint_before, "{} < {}", maint_after, maint_before);
            let restored = health(collateral + realized, &after, HealthKind::LiquidationEnd);
            if q < size as u64 {
                prop_assert!(restored >= 0, "q {} leaves {}", q, restored);
            }
            // One lot fewer would not have been enough (unless dust forced the whole position).
            if q > 1 && (size as u64 - q + 1) >= dust {
                let (less, realized_less) = after_transfer(&r, q - 1, price).unwrap();
                let short_of = health(collateral + realized_less, &less, HealthKind::LiquidationEnd);
                prop_assert!(short_of < 0, "q - 1 = {} was enough: {}", q - 1, short_of);
            }
        }

        /// Closing at the bankruptcy price leaves equity ≥ 0; one tick worse leaves it < 0.
        #[test]
        fn bankruptcy_price_is_the_break_even_tick(
            long in any::<bool>(),
            lots in 1u64..10_000,
            entry_price in 1u64..100_000,
            other in -10_000_000_000i128..10_000_000_000,
        ) {
            let tv = 100u64;
            let e = (lots as u128 * entry_price as u128 * tv as u128) as i64;
            let p = Position {
                base_lots: if long { lots as i64 } else { -(lots as i64) },
                entry_quote: if long { e } else { -e },
            };
            let equity_at = |price: u64| -> i128 {
                let v = (lots as u128 * price as u128 * tv as u128) as i128;
                other + if long { v } else { -v } - p.entry_quote as i128
            };
            match bankruptcy_price(&p, other, tv).unwrap() {
                Some(bp) => {
                    prop_assert!(equity_at(bp) >= 0);
                    if long {
                        prop_assert!(bp == 0 || equity_at(bp - 1) < 0);
                    } else {
                        prop_assert!(equity_at(bp + 1) < 0);
                    }
                }
                None => {
                    if long {
                        prop_assert!(equity_at(0) >= 0);
                    } else {
                        prop_assert!(equity_at(0) < 0);
                    }
                }
            }
        }

        /// The split adds up to the penalty, the insurance share rounded up.
        #[test]
        fn penalty_split_adds_up(
            mark in 1u64..1_000_000,
            bps in 1u64..1_000,
            lots in 1u64..100_000,
            tv in 1u64..10_000,
            share in 0u64..=BPS,
            long in any::<bool>(),
        ) {
            let price = penalty_price(mark, bps, long).unwrap();
            let (ins, liq) = penalty_split(mark, price, lots, tv, share).unwrap();
            let penalty = notional(mark.abs_diff(price), lots, tv).unwrap();
            prop_assert_eq!(ins as u128 + liq as u128, penalty);
            prop_assert!(ins as u128 * BPS as u128 >= penalty * share as u128);
        }

        /// Socialized losses are collected in full (rounded up) and each increase is owed once.
        #[test]
        fn socialized_losses_are_covered_and_owed_once(
            losses in proptest::collection::vec((1u64..1_000_000_000, 1u64..100_000), 1..10),
        ) {
            let mut side = SocializedLoss::default();
            let mut total = 0u128;
            let mut paid_at = 0u128;
            let mut collected = 0u128;
            for (loss, lots) in losses {
                side.socialize(loss, lots).unwrap();
                total += loss as u128;
                // The side's lots all pay what they owe since they last paid.
                collected += side.owed(lots, paid_at).unwrap() as u128;
                paid_at = side.index;
                prop_assert_eq!(side.owed(lots, paid_at).unwrap(), 0);
            }
            prop_assert!(collected >= total);
        }
    }
}
