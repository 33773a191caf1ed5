use anchor_lang::prelude::*;
use cfx_risk::margin::MarginParams;
use cfx_risk::mark::MarkConfig;

use crate::error::FuturesError;

/// Highest price, in ticks, an order may carry; market parameters are bounded so that a full
/// position at this price fits the margin account's i64 quote amounts.
pub const MAX_PRICE_TICKS: u64 = u32::MAX as u64;

/// Lifecycle of a futures series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MarketStatus {
    /// Any order.
    Active = 0,
    /// Only orders that reduce a position; set by the admin (`set_market_status`). From
    /// `last_trade_ts` on, every order is refused whatever the status.
    CloseOnly = 1,
    /// Past expiry: no orders; waiting for the settlement price.
    Expired = 2,
    /// Settlement price fixed; positions are settled against it.
    Settled = 3,
}

impl MarketStatus {
    pub fn from_u8(v: u8) -> Option<MarketStatus> {
        Some(match v {
            0 => MarketStatus::Active,
            1 => MarketStatus::CloseOnly,
            2 => MarketStatus::Expired,
            3 => MarketStatus::Settled,
            _ => return None,
        })
    }
}

/// One dated futures series on a compute class.
#[account(zero_copy)]
pub struct Market {
    pub exchange: Pubkey,
    pub index: Pubkey,
    /// compute-token class of the underlying.
    pub class: Pubkey,
    /// Delivery-window mint for physical delivery; default for cash-settled series.
    pub delivery_mint: Pubkey,
    /// Book account (both sides) and event-queue account.
    pub book: Pubkey,
    pub event_queue: Pubkey,
    /// Name such as `H100-GPUH-2026W49`, zero-padded.
    pub name: [u8; 24],
    /// Compute base units per lot.
    pub lot_size: u64,
    /// 10^decimals of the class: base units per whole compute unit.
    pub unit_scale: u64,
    /// Quote native units of one tick on one lot.
    pub tick_value: u64,
    pub min_order_lots: u64,
    pub max_position_lots: u64,
    pub max_open_interest: u64,
    /// Σ long lots over all accounts (makers counted when the crank applies their fills).
    pub open_interest: u64,
    /// Lots takers have sold whose makers' side the crank has not applied yet: the most those
    /// makers' longs can still grow. The open-interest limit counts them.
    pub open_interest_pending: u64,
    pub initial_margin_bps: u64,
    pub maintenance_margin_bps: u64,
    pub pnl_weight_bps: u64,
    /// Orders must be priced within this many bps of the mark.
    pub price_band_bps: u64,
    pub ema_period: u64,
    /// Lots a trade needs to move the EMA by its full time weight; smaller ones move it less.
    pub ema_reference_lots: u64,
    pub mark_band_max_bps: u64,
    pub mark_band_min_bps: u64,
    pub mark_narrow_period: u64,
    /// EMA of trade prices, in ticks.
    pub ema_price: u64,
    pub ema_time: i64,
    pub last_trade_price: u64,
    pub expiry_ts: i64,
    pub last_trade_ts: i64,
    pub volume_lots: u64,
    /// Fees earned in this market, still in the collateral vault (swept per market).
    pub fees_accrued: u64,
    /// Maker rebates reserved from this market's taker fees until the crank pays them.
    pub rebates_reserved: u64,
    /// Crank rewards charged to this market's takers and not yet paid out.
    pub crank_pool: u64,
    pub status: u8,
    pub bump: u8,
    pub _pad: [u8; 6],
    /// Room for fields added later without migrating accounts.
    pub _reserved: [u8; 256],
}

const _: () = assert!(core::mem::size_of::<Market>() == 688);

impl Market {
    pub const SEED: &'static [u8] = b"market";

    /// One account's long lots went from `before` to `after`: open interest follows.
    #[inline]
    pub fn on_long_change(&mut self, before: u64, after: u64) -> Result<()> {
        self.open_interest = self
            .open_interest
            .checked_add(after)
            .and_then(|v| v.checked_sub(before))
            .ok_or(FuturesError::Overflow)?;
        Ok(())
    }

    /// A taker sold `lots` to makers whose fills the crank has not applied: counted as pending
    /// open interest until it does (`on_maker_buy_applied`).
    #[inline]
    pub fn on_taker_sell(&mut self, lots: u64) -> Result<()> {
        self.open_interest_pending = self
            .open_interest_pending
            .checked_add(lots)
            .ok_or(FuturesError::Overflow)?;
        Ok(())
    }

    /// The crank applied a maker's buy of `lots` that `on_taker_sell` counted.
    #[inline]
    pub fn on_maker_buy_applied(&mut self, lots: u64) -> Result<()> {
        self.open_interest_pending = self
            .open_interest_pending
            .checked_sub(lots)
            .ok_or(FuturesError::Overflow)?;
        Ok(())
    }

    /// Open interest once every pending fill is applied; what the limit is checked against.
    #[inline]
    pub fn projected_open_interest(&self) -> Result<u64> {
        Ok(self
            .open_interest
            .checked_add(self.open_interest_pending)
            .ok_or(FuturesError::Overflow)?)
    }

    /// A taker paid `fee`, of which `rebates` is reserved for its makers, and `crank` for the
    /// events it produced.
    #[inline]
    pub fn on_taker_charges(&mut self, fee: u64, rebates: u64, crank: u64) -> Result<()> {
        let earned = fee.checked_sub(rebates).ok_or(FuturesError::Overflow)?;
        self.fees_accrued = self
            .fees_accrued
            .checked_add(earned)
            .ok_or(FuturesError::Overflow)?;
        self.rebates_reserved = self
            .rebates_reserved
            .checked_add(rebates)
            .ok_or(FuturesError::Overflow)?;
        self.crank_pool = self
            .crank_pool
            .checked_add(crank)
            .ok_or(FuturesError::Overflow)?;
        Ok(())
    }

    /// A maker fee charged at the crank (negative: a rebate, paid from what its taker reserved).
    #[inline]
    pub fn on_maker_fee(&mut self, fee: i64) -> Result<()> {
        if fee < 0 {
            self.rebates_reserved = self
                .rebates_reserved
                .checked_sub(fee.unsigned_abs())
                .ok_or(FuturesError::Overflow)?;
        } else {
            self.fees_accrued = self
                .fees_accrued
                .checked_add(fee as u64)
                .ok_or(FuturesError::Overflow)?;
        }
        Ok(())
    }

    /// Pays `reward` out of the crank pool.
    #[inline]
    pub fn pay_crank(&mut self, reward: u64) -> Result<()> {
        self.crank_pool = self
            .crank_pool
            .checked_sub(reward)
            .ok_or(FuturesError::Overflow)?;
        Ok(())
    }

    pub fn status(&self) -> MarketStatus {
        MarketStatus::from_u8(self.status).unwrap_or(MarketStatus::Settled)
    }

    pub fn margin_params(&self) -> MarginParams {
        MarginParams {
            initial_bps: self.initial_margin_bps,
            maintenance_bps: self.maintenance_margin_bps,
            pnl_weight_bps: self.pnl_weight_bps,
        }
    }

    pub fn mark_config(&self) -> MarkConfig {
        MarkConfig {
            ema_period: self.ema_period,
            band_max_bps: self.mark_band_max_bps,
            band_min_bps: self.mark_band_min_bps,
            narrow_period: self.mark_narrow_period,
        }
    }
}
