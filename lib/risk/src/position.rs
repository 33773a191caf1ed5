//! A position in one futures series and what a fill does to it: average-cost accounting with
//! realized PnL on every reduction.

use crate::math::{mul_div_ceil, mul_div_floor, mul_div_signed_ceil, notional, to_i128, to_i64};
use crate::RiskError;

/// Signed lots and the signed quote paid for them (long: positive cost, short: negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub base_lots: i64,
    /// Entry notional of the open position, in quote units.
    pub entry_quote: i64,
}

/// What a fill changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FillResult {
    /// PnL realized by the part of the fill that reduced the position.
    pub realized: i64,
    /// Lots of the fill that reduced the existing position.
    pub closed_lots: u64,
}

impl Position {
    /// Applies a fill of `lots` at `price` (buy if `buy`).
    pub fn apply_fill(
        &mut self,
        buy: bool,
        price: u64,
        lots: u64,
        tick_value: u64,
    ) -> Result<FillResult, RiskError> {
        self.apply_trade(buy, lots, notional(price, lots, tick_value)?)
    }

    /// Applies a trade of `lots` worth `value` in quote units (several fills at different prices
    /// add up to one trade). The closed share of the entry notional is rounded toward +∞, so
    /// realized PnL rounds down, and what stays on the position is exact: no quote unit is created
    /// or lost.
    pub fn apply_trade(
        &mut self,
        buy: bool,
        lots: u64,
        value: u128,
    ) -> Result<FillResult, RiskError> {
        let base = self.base_lots as i128;
        let delta = if buy { lots as i128 } else { -(lots as i128) };
        let value = to_i128(value)?;
        let mut result = FillResult::default();
        let mut entry = self.entry_quote as i128;
        if base == 0 || (base > 0) == buy || lots == 0 {
            entry = entry
                .checked_add(if buy { value } else { -value })
                .ok_or(RiskError::Overflow)?;
        } else {
            let closing = lots.min(base.unsigned_abs() as u64);
            let entry_closed = mul_div_signed_ceil(entry, closing as u128, base.unsigned_abs())?;
            // The part of the trade value that belongs to the closing lots (rounded against the
            // trader: down when selling, up when buying back).
            let closed_value = if buy {
                to_i128(mul_div_ceil(value as u128, closing as u128, lots as u128)?)?
            } else {
                to_i128(mul_div_floor(value as u128, closing as u128, lots as u128)?)?
            };
            // Closing a long sells: value received minus cost. Closing a short buys back.
            let realized = if base > 0 {
                closed_value - entry_closed
            } else {
                -closed_value - entry_closed
            };
            entry -= entry_closed;
            let opened_value = value - closed_value;
            if lots > closing {
                entry += if buy { opened_value } else { -opened_value };
            }
            result = FillResult {
                realized: to_i64(realized)?,
                closed_lots: closing,
            };
        }
        self.base_lots = to_i64(base.checked_add(delta).ok_or(RiskError::Overflow)?)?;
        self.entry_quote = to_i64(entry)?;
        Ok(result)
    }

    /// Unrealized PnL at `mark`.
    pub fn unrealized_pnl(&self, mark: u64, tick_value: u64) -> Result<i128, RiskError> {
        let value = to_i128(notional(mark, self.base_lots.unsigned_abs(), tick_value)?)?;
        let signed = if self.base_lots >= 0 { value } else { -value };
        Ok(signed - self.entry_quote as i128)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_add_reduce_flip() {
        let mut p = Position::default();
        // Buy 10 at 100, buy 10 at 110: long 20, cost 2_100.
        assert_eq!(p.apply_fill(true, 100, 10, 1).unwrap().realized, 0);
        p.apply_fill(true, 110, 10, 1).unwrap();
        assert_eq!(
            p,
            Position {
                base_lots: 20,
                entry_quote: 2_100
            }
        );
        assert_eq!(p.unrealized_pnl(120, 1), Ok(300));
        // Sell 5 at 120: closes 5 of cost 525 for 600, realizes 75.
        let r = p.apply_fill(false, 120, 5, 1).unwrap();
        assert_eq!((r.realized, r.closed_lots), (75, 5));
        assert_eq!(
            p,
            Position {
                base_lots: 15,
                entry_quote: 1_575
            }
        );
        // Sell 25 at 90: closes 15 (realizes 1_350 − 1_575 = −225), opens short 10 at 90.
        let r = p.apply_fill(false, 90, 25, 1).unwrap();
        assert_eq!((r.realized, r.closed_lots), (-225, 15));
        assert_eq!(
            p,
            Position {
                base_lots: -10,
                entry_quote: -900
            }
        );
        assert_eq!(p.unrealized_pnl(80, 1), Ok(100));
        // Buy back 10 at 80 with tick value 1: realizes +100, flat.
        let r = p.apply_fill(true, 80, 10, 1).unwrap();
        assert_eq!(r.realized, 100);
        assert_eq!(p, Position::default());
    }

    #[test]
    fn realized_rounds_against_the_trader() {
        // Long 3 lots for 10 quote: closing 1 lot closes ceil(10/3) = 4 of cost.
        let mut p = Position {
            base_lots: 3,
            entry_quote: 10,
        };
        let r = p.apply_fill(false, 5, 1, 1).unwrap();
        assert_eq!(r.realized, 5 - 4);
        assert_eq!(p.entry_quote, 6);
        // Short 3 lots for −10: closing 1 lot closes −3 (toward +∞): realized = −2 − (−3) = 1,
        // not the 1.33 of exact math, and the remaining entry is −7.
        let mut p = Position {
            base_lots: -3,
            entry_quote: -10,
        };
        let r = p.apply_fill(true, 2, 1, 1).unwrap();
        assert_eq!(r.realized, 1);
        assert_eq!(p.entry_quote, -7);
    }

    #[test]
    fn overflow_is_an_error() {
        let mut p = Position::default();
        assert_eq!(
            p.apply_fill(true, u64::MAX, u64::MAX, u64::MAX),
            Err(RiskError::Overflow)
        );
        assert_eq!(p, Position::default());
    }
}
