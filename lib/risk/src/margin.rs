//! Account health as a pure computation over its positions (the Mango v4 shape): collateral plus
//! weighted unrealized PnL minus margin requirements.
//!
//! - Initial margin is charged on the worst case of position and open orders: all bids filled or all
//!   asks filled. It gates new risk (orders).
//! - Withdrawals use the same requirement but count no positive unrealized PnL at all: profit is
//!   withdrawable only once realized.
//! - Maintenance margin is charged on the position alone and counts PnL in full; below zero the
//!   account can be liquidated.
//! - Positive unrealized PnL counts at a weight below 1 for initial margin, so a pumped thin mark
//!   cannot be borrowed against at face value (the Mango Markets 2022 lesson).
//! - Initial and withdraw health value each position at the worse of the mark and the index (as
//!   Mango values at the worse of oracle and stable price): a mark walked to the edge of its band
//!   by wash trades can neither fund new risk nor let a position open underwater at the index.
//! - Liquidation-end health is maintenance health at a rate between maintenance and initial: a
//!   liquidation restores it, so the account is not liquidatable again at the next tick.
//! - A socialized loss a position owes but has not paid yet counts against every kind of health.

use crate::math::{mul_div_ceil, mul_div_signed_floor, mul_u64, notional, to_i128};
use crate::position::Position;
use crate::{RiskError, BPS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MarginParams {
    pub initial_bps: u64,
    pub maintenance_bps: u64,
    /// Rate a liquidation restores: `maintenance ≤ liq_end ≤ initial` (Mango's Init ≤ LiqEnd ≤
    /// Maint).
    pub liq_end_bps: u64,
    /// Weight of positive unrealized PnL in initial health.
    pub pnl_weight_bps: u64,
}

impl MarginParams {
    pub fn validate(&self) -> Result<(), RiskError> {
        if self.maintenance_bps == 0
            || self.maintenance_bps > self.initial_bps
            || self.liq_end_bps < self.maintenance_bps
            || self.liq_end_bps > self.initial_bps
            || self.initial_bps > BPS
            || self.pnl_weight_bps >= BPS
        {
            return Err(RiskError::InvalidInput);
        }
        Ok(())
    }
}

/// What a health figure measures. The order matters (kinds that value positions at the worse of
/// mark and index come first: one comparison tells them apart on the trading path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum HealthKind {
    Initial,
    Withdraw,
    /// Equity measured with no benefit of the doubt: each position at the worse of mark and
    /// index, and what resting orders (or fills waiting for the crank) would lose if filled at
    /// their prices. What must be ≥ 0 before anyone may lift a bankruptcy's withdrawal hold: a
    /// mark walked by wash trades cannot lift it.
    Solvency,
    Maintenance,
    /// Maintenance health at the liquidation-end rate: what a liquidation brings back to zero.
    LiquidationEnd,
    /// Collateral plus unrealized PnL at full weight, no requirement: below zero is bad debt.
    Equity,
}

impl HealthKind {
    /// Values positions at the worse of mark and index (initial, withdraw, solvency).
    #[inline(always)]
    pub fn at_worse_price(self) -> bool {
        (self as u8) <= HealthKind::Solvency as u8
    }
}

/// One position with what margin needs to know about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PositionRisk {
    pub position: Position,
    /// Lots resting on the book to buy / to sell.
    pub bid_lots: u64,
    pub ask_lots: u64,
    /// Highest price of the resting (or filled, not yet cranked) bids, 0 if none: they fill at
    /// their own price, which may be above the mark by the time they do.
    pub bid_price_max: u64,
    /// Lowest price of the resting (or unapplied) asks, 0 if none.
    pub ask_price_min: u64,
    pub mark: u64,
    /// The index in ticks, 0 when not known: initial and withdraw health value the position at
    /// the worse of the mark and this.
    pub index: u64,
    /// Socialized loss the position owes and has not paid yet (quote native units).
    pub loss_owed: u64,
    pub tick_value: u64,
    pub params: MarginParams,
}

impl PositionRisk {
    /// Lots at risk: the position for maintenance, the worse of all-bids-filled and
    /// all-asks-filled otherwise.
    pub fn exposure_lots(&self, kind: HealthKind) -> u64 {
        match kind {
            HealthKind::Maintenance
            | HealthKind::LiquidationEnd
            | HealthKind::Equity
            | HealthKind::Solvency => self.position.base_lots.unsigned_abs(),
            _ => {
                let (long, short) = self.scenario_lots();
                long.max(short)
            }
        }
    }

    /// The position's size if every bid filled, and if every ask filled.
    fn scenario_lots(&self) -> (u64, u64) {
        let base = self.position.base_lots as i128;
        (
            (base + self.bid_lots as i128).unsigned_abs() as u64,
            (base - self.ask_lots as i128).unsigned_abs() as u64,
        )
    }

    /// `bps` of the notional of `lots` at the mark, rounded up.
    fn margin_on(&self, lots: u64, bps: u64) -> Result<u128, RiskError> {
        mul_div_ceil(
            notional(self.mark, lots, self.tick_value)?,
            bps as u128,
            BPS as u128,
        )
    }

    /// What filling every resting bid (`bids`) or ask at its own price would lose against the
    /// mark at once, bounded by the worst-priced order of that side.
    pub fn fill_loss(&self, bids: bool) -> Result<u128, RiskError> {
        let (lots, gap) = if bids {
            (self.bid_lots, self.bid_price_max.saturating_sub(self.mark))
        } else if self.ask_price_min == 0 {
            (0, 0)
        } else {
            (self.ask_lots, self.mark.saturating_sub(self.ask_price_min))
        };
        if gap == 0 || lots == 0 {
            // The usual case: orders on the passive side of the mark.
            return Ok(0);
        }
        notional(gap, lots, self.tick_value)
    }

    /// Margin required. Initial and withdraw health take the worse of two scenarios, every bid
    /// filled or every ask filled: margin on the resulting exposure plus what those fills would
    /// lose against the mark (an order resting above the mark since the mark fell is a loss
    /// waiting for a counterparty). Maintenance looks at the position only.
    pub fn requirement(&self, kind: HealthKind) -> Result<u128, RiskError> {
        let bps = match kind {
            HealthKind::Equity => return Ok(0),
            HealthKind::Solvency => return Ok(self.fill_loss(true)?.max(self.fill_loss(false)?)),
            HealthKind::Maintenance => self.params.maintenance_bps,
            HealthKind::LiquidationEnd => self.params.liq_end_bps,
            HealthKind::Initial | HealthKind::Withdraw => self.params.initial_bps,
        };
        let (long_loss, short_loss) = match kind {
            HealthKind::Maintenance | HealthKind::LiquidationEnd => (0, 0),
            _ => (self.fill_loss(true)?, self.fill_loss(false)?),
        };
        if long_loss == 0 && short_loss == 0 {
            return self.margin_on(self.exposure_lots(kind), bps);
        }
        let (long_lots, short_lots) = self.scenario_lots();
        let long = self
            .margin_on(long_lots, bps)?
            .checked_add(long_loss)
            .ok_or(RiskError::Overflow)?;
        let short = self
            .margin_on(short_lots, bps)?
            .checked_add(short_loss)
            .ok_or(RiskError::Overflow)?;
        Ok(long.max(short))
    }

    /// The price the position's PnL is valued at: the mark, or for initial, withdraw and solvency
    /// health the worse of mark and index for this position (lower for a long, higher for a
    /// short).
    #[inline(always)]
    pub fn valuation_price(&self, kind: HealthKind) -> u64 {
        if self.index == 0 || !kind.at_worse_price() {
            return self.mark;
        }
        if self.position.base_lots >= 0 {
            self.mark.min(self.index)
        } else {
            self.mark.max(self.index)
        }
    }

    pub fn weighted_pnl(&self, kind: HealthKind) -> Result<i128, RiskError> {
        let pnl = self
            .position
            .unrealized_pnl(self.valuation_price(kind), self.tick_value)?;
        if pnl <= 0 {
            return Ok(pnl);
        }
        let w = match kind {
            HealthKind::Initial => self.params.pnl_weight_bps,
            HealthKind::Withdraw => 0,
            HealthKind::Maintenance
            | HealthKind::LiquidationEnd
            | HealthKind::Equity
            | HealthKind::Solvency => BPS,
        };
        mul_div_signed_floor(pnl, w as u128, BPS as u128)
    }

    /// This position's contribution to health.
    pub fn health(&self, kind: HealthKind) -> Result<i128, RiskError> {
        match self.health_in_u64(kind) {
            Some(h) => Ok(h as i128),
            None => self.health_wide(kind),
        }
    }

    /// `health` in 64-bit arithmetic for the usual position (orders resting on the passive side
    /// of the mark, no socialized loss owed, every amount within 64 bits), `None` for any other;
    /// then `health_wide` decides. The same figure (a property test compares them): on SBF every
    /// 128-bit operation is a routine call, and this is what each order's margin check runs.
    #[inline]
    fn health_in_u64(&self, kind: HealthKind) -> Option<i64> {
        if self.loss_owed != 0 {
            return None;
        }
        let by_position_only = matches!(
            kind,
            HealthKind::Maintenance | HealthKind::LiquidationEnd | HealthKind::Equity
        );
        if !by_position_only {
            // What `fill_loss` finds when it is not zero.
            let bids_above = self.bid_lots != 0 && self.bid_price_max > self.mark;
            let asks_below =
                self.ask_lots != 0 && self.ask_price_min != 0 && self.ask_price_min < self.mark;
            if bids_above || asks_below {
                return None;
            }
        }
        let base = self.position.base_lots;
        let price = self.valuation_price(kind);
        let value = mul_u64(mul_u64(price, base.unsigned_abs())?, self.tick_value)?;
        let value = i64::try_from(value).ok()?;
        let signed = if base >= 0 { value } else { -value };
        let pnl = signed.checked_sub(self.position.entry_quote)?;
        let weighted = if pnl <= 0 {
            pnl
        } else {
            let w = match kind {
                HealthKind::Initial => self.params.pnl_weight_bps,
                HealthKind::Withdraw => 0,
                _ => BPS,
            };
            (mul_u64(pnl as u64, w)? / BPS) as i64
        };
        // With no fill loss, solvency requires nothing, like equity.
        let bps = match kind {
            HealthKind::Equity | HealthKind::Solvency => 0,
            HealthKind::Maintenance => self.params.maintenance_bps,
            HealthKind::LiquidationEnd => self.params.liq_end_bps,
            HealthKind::Initial | HealthKind::Withdraw => self.params.initial_bps,
        };
        let requirement = if bps == 0 {
            0
        } else {
            let lots = self.exposure_lots(kind);
            let n = mul_u64(mul_u64(mul_u64(self.mark, lots)?, self.tick_value)?, bps)?;
            // Rounded up, like `margin_on`.
            n / BPS + (n % BPS != 0) as u64
        };
        weighted.checked_sub(i64::try_from(requirement).ok()?)
    }

    /// `health` in 128-bit arithmetic, for any position.
    fn health_wide(&self, kind: HealthKind) -> Result<i128, RiskError> {
        let h = self
            .weighted_pnl(kind)?
            .checked_sub(to_i128(self.requirement(kind)?)?)
            .ok_or(RiskError::Overflow)?;
        if self.loss_owed == 0 {
            return Ok(h);
        }
        h.checked_sub(self.loss_owed as i128)
            .ok_or(RiskError::Overflow)
    }
}

/// Collateral plus every position's contribution. The account meets `kind` when this is ≥ 0.
pub fn account_health<'a>(
    collateral: i128,
    positions: impl IntoIterator<Item = &'a PositionRisk>,
    kind: HealthKind,
) -> Result<i128, RiskError> {
    let mut h = collateral;
    for p in positions {
        h = h.checked_add(p.health(kind)?).ok_or(RiskError::Overflow)?;
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: MarginParams = MarginParams {
        initial_bps: 1_000,
        maintenance_bps: 650,
        liq_end_bps: 800,
        pnl_weight_bps: 5_000,
    };

    fn risk(base: i64, entry: i64, bids: u64, asks: u64, mark: u64) -> PositionRisk {
        PositionRisk {
            position: Position {
                base_lots: base,
                entry_quote: entry,
            },
            bid_lots: bids,
            ask_lots: asks,
            bid_price_max: 0,
            ask_price_min: 0,
            mark,
            index: 0,
            loss_owed: 0,
            tick_value: 100,
            params: PARAMS,
        }
    }

    #[test]
    fn worst_case_of_orders_and_position() {
        // Long 10, bids 5, asks 30: all asks filled → short 20, worse than long 15.
        let r = risk(10, 100_000, 5, 30, 100);
        assert_eq!(r.exposure_lots(HealthKind::Initial), 20);
        assert_eq!(r.exposure_lots(HealthKind::Maintenance), 10);
        // 20 lots × 100 ticks × 100 = 200_000 notional; 10% = 20_000; maintenance 6.5% of 100_000.
        assert_eq!(r.requirement(HealthKind::Initial), Ok(20_000));
        assert_eq!(r.requirement(HealthKind::Maintenance), Ok(6_500));
    }

    #[test]
    fn positive_pnl_is_discounted_and_not_withdrawable() {
        // Long 10 bought for 100_000, mark 120: PnL +20_000.
        let r = risk(10, 100_000, 0, 0, 120);
        assert_eq!(r.weighted_pnl(HealthKind::Maintenance), Ok(20_000));
        assert_eq!(r.weighted_pnl(HealthKind::Initial), Ok(10_000));
        assert_eq!(r.weighted_pnl(HealthKind::Withdraw), Ok(0));
        // Requirement at mark: 120_000 × 10% = 12_000.
        assert_eq!(
            account_health(5_000, [&r], HealthKind::Initial),
            Ok(5_000 + 10_000 - 12_000)
        );
        assert_eq!(
            account_health(5_000, [&r], HealthKind::Withdraw),
            Ok(5_000 - 12_000)
        );
        assert_eq!(
            account_health(5_000, [&r], HealthKind::Maintenance),
            Ok(5_000 + 20_000 - 7_800)
        );
        assert_eq!(account_health(5_000, [&r], HealthKind::Equity), Ok(25_000));
        // Losses count in full everywhere.
        let l = risk(10, 100_000, 0, 0, 90);
        assert_eq!(l.weighted_pnl(HealthKind::Initial), Ok(-10_000));
    }

    #[test]
    fn orders_resting_away_from_the_mark_count_their_fill_loss() {
        // Long 10; bids for 5 rest up to 120 and asks for 30 down to 95, mark 100, tick value 100.
        let mut r = risk(10, 100_000, 5, 30, 100);
        r.bid_price_max = 120;
        r.ask_price_min = 95;
        // Bids filled: exposure 15 → 15 × 100 × 100 × 10% = 15_000, plus 5 lots × 20 × 100 lost.
        assert_eq!(r.fill_loss(true), Ok(10_000));
        // Asks filled: exposure 20 → 20_000, plus 30 lots × 5 × 100.
        assert_eq!(r.fill_loss(false), Ok(15_000));
        assert_eq!(r.requirement(HealthKind::Initial), Ok(35_000));
        assert_eq!(r.requirement(HealthKind::Withdraw), Ok(35_000));
        // Maintenance looks at the position only.
        assert_eq!(r.requirement(HealthKind::Maintenance), Ok(6_500));
        // Orders on the passive side of the mark lose nothing when they fill.
        r.bid_price_max = 99;
        r.ask_price_min = 101;
        assert_eq!(r.fill_loss(true), Ok(0));
        assert_eq!(r.fill_loss(false), Ok(0));
        assert_eq!(r.requirement(HealthKind::Initial), Ok(20_000));
        // No asks: no ask loss whatever the mark.
        r.ask_lots = 0;
        r.ask_price_min = 0;
        assert_eq!(r.fill_loss(false), Ok(0));
    }

    #[test]
    fn initial_health_values_at_the_worse_of_mark_and_index() {
        // Short 10 sold at 90 (entry −90_000) while the index is 100 and the mark was walked to
        // 90: at the mark it is flat, at the index it is 10_000 under water.
        let mut r = risk(-10, -90_000, 0, 0, 90);
        r.index = 100;
        assert_eq!(r.valuation_price(HealthKind::Initial), 100);
        assert_eq!(r.weighted_pnl(HealthKind::Initial), Ok(-10_000));
        assert_eq!(r.weighted_pnl(HealthKind::Withdraw), Ok(-10_000));
        // Maintenance and equity stay at the mark: liquidation follows the mark.
        assert_eq!(r.weighted_pnl(HealthKind::Maintenance), Ok(0));
        assert_eq!(r.weighted_pnl(HealthKind::Equity), Ok(0));
        // A long bought at 100 with the mark pumped to 120 and the index at 100: no profit to
        // borrow against.
        let mut l = risk(10, 100_000, 0, 0, 120);
        l.index = 100;
        assert_eq!(l.weighted_pnl(HealthKind::Initial), Ok(0));
        assert_eq!(l.weighted_pnl(HealthKind::Maintenance), Ok(20_000));
        // The index unknown (0): the mark.
        l.index = 0;
        assert_eq!(l.weighted_pnl(HealthKind::Initial), Ok(10_000));
    }

    #[test]
    fn solvency_gives_no_benefit_of_the_doubt() {
        // Long 10 bought at 100, mark walked up to 120, index 105, a bid resting at 130.
        let mut r = risk(10, 100_000, 5, 0, 120);
        r.index = 105;
        r.bid_price_max = 130;
        // Equity takes the mark: +20_000.
        assert_eq!(r.health(HealthKind::Equity), Ok(20_000));
        // Solvency takes the index (+5_000) less the bids' fill loss (5 lots × 10 × 100).
        assert_eq!(r.health(HealthKind::Solvency), Ok(5_000 - 5_000));
    }

    #[test]
    fn liquidation_end_sits_between_maintenance_and_initial() {
        let r = risk(10, 100_000, 5, 30, 100);
        // 10 lots × 100 × 100 = 100_000 notional at 8% on the position alone.
        assert_eq!(r.requirement(HealthKind::LiquidationEnd), Ok(8_000));
        let bad = MarginParams {
            liq_end_bps: 600,
            ..PARAMS
        };
        assert_eq!(bad.validate(), Err(RiskError::InvalidInput));
        let bad = MarginParams {
            liq_end_bps: 1_100,
            ..PARAMS
        };
        assert_eq!(bad.validate(), Err(RiskError::InvalidInput));
    }

    #[test]
    fn an_unpaid_socialized_loss_counts_against_every_health() {
        let mut r = risk(10, 100_000, 0, 0, 100);
        let before: [i128; 6] = [
            HealthKind::Initial,
            HealthKind::Withdraw,
            HealthKind::Maintenance,
            HealthKind::LiquidationEnd,
            HealthKind::Equity,
            HealthKind::Solvency,
        ]
        .map(|k| r.health(k).unwrap());
        r.loss_owed = 777;
        for (k, b) in [
            HealthKind::Initial,
            HealthKind::Withdraw,
            HealthKind::Maintenance,
            HealthKind::LiquidationEnd,
            HealthKind::Equity,
            HealthKind::Solvency,
        ]
        .into_iter()
        .zip(before)
        {
            assert_eq!(r.health(k), Ok(b - 777));
        }
    }

    #[test]
    fn requirement_rounds_up() {
        let mut r = risk(1, 0, 0, 0, 1);
        r.tick_value = 1;
        // 1 × 10% = 0.1 → 1.
        assert_eq!(r.requirement(HealthKind::Initial), Ok(1));
        let flat = risk(0, 0, 0, 0, 100);
        assert_eq!(flat.requirement(HealthKind::Initial), Ok(0));
    }

    #[test]
    fn params_validation() {
        assert!(PARAMS.validate().is_ok());
        let bad = MarginParams {
            maintenance_bps: 2_000,
            ..PARAMS
        };
        assert_eq!(bad.validate(), Err(RiskError::InvalidInput));
        let bad = MarginParams {
            pnl_weight_bps: BPS,
            ..PARAMS
        };
        assert_eq!(bad.validate(), Err(RiskError::InvalidInput));
    }

    const KINDS: [HealthKind; 6] = [
        HealthKind::Initial,
        HealthKind::Withdraw,
        HealthKind::Solvency,
        HealthKind::Maintenance,
        HealthKind::LiquidationEnd,
        HealthKind::Equity,
    ];

    #[test]
    fn the_usual_position_takes_the_64_bit_path() {
        // Long 10 at 100, bids below the mark, asks above it.
        let mut r = risk(10, 100_000, 5, 30, 100);
        r.bid_price_max = 99;
        r.ask_price_min = 101;
        r.index = 98;
        for kind in KINDS {
            let fast = r.health_in_u64(kind).expect("64-bit path");
            assert_eq!(Ok(fast as i128), r.health_wide(kind), "{kind:?}");
        }
        // A bid above the mark, or a loss owed, leaves it to the 128-bit path.
        r.bid_price_max = 120;
        assert_eq!(r.health_in_u64(HealthKind::Initial), None);
        assert!(r.health_in_u64(HealthKind::Maintenance).is_some());
        r.bid_price_max = 99;
        r.loss_owed = 1;
        assert_eq!(r.health_in_u64(HealthKind::Maintenance), None);
    }

    proptest::proptest! {
        /// Wherever the 64-bit path answers, it answers what the 128-bit one does. Every amount
        /// takes its own magnitude (a random value shifted right by a random count), so small
        /// positions, ones near the 64-bit limits and ones past them all occur; orders rest on
        /// either side of the mark.
        #[test]
        fn the_64_bit_path_agrees_with_the_128_bit_one(
            v in proptest::array::uniform10(proptest::num::u64::ANY),
            shift in proptest::array::uniform10(0u32..64),
            short: bool,
            owes: bool,
        ) {
            let m = |i: usize| v[i] >> shift[i];
            let base = (m(0) >> 1) as i64;
            let r = PositionRisk {
                position: Position {
                    base_lots: if short { -base } else { base },
                    entry_quote: m(1) as i64,
                },
                bid_lots: m(2),
                ask_lots: m(3),
                bid_price_max: m(4),
                ask_price_min: m(5),
                mark: m(6).max(1),
                index: m(7),
                loss_owed: if owes { m(8) } else { 0 },
                tick_value: m(9).max(1),
                params: PARAMS,
            };
            for kind in KINDS {
                if let Some(fast) = r.health_in_u64(kind) {
                    proptest::prop_assert_eq!(Ok(fast as i128), r.health_wide(kind), "{:?}", kind);
                }
            }
        }
    }
}
