use anchor_lang::prelude::*;
use cfx_risk::liquidation::{LiquidationParams, SocializedLoss};
use cfx_risk::margin::MarginParams;
use cfx_risk::mark::MarkConfig;

use crate::error::FuturesError;
use crate::state::{join_u128, split_u128, FillApplied};

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
    /// Rate a liquidation restores, between maintenance and initial.
    pub liq_end_bps: u64,
    /// Price concession of a liquidated account, bps of the mark (below maintenance).
    pub liq_penalty_bps: u64,
    /// Share of the penalty paid to the insurance fund rather than the liquidator.
    pub liq_insurance_share_bps: u64,
    /// A position a liquidation would leave smaller than this is taken whole.
    pub liq_dust_lots: u64,
    /// Σ short lots over all accounts (makers counted when the crank applies their fills): the
    /// lots that carry a loss socialized to the shorts.
    pub short_interest: u64,
    /// Insurance-fund money held in the collateral vault: penalty shares and socialized-loss
    /// rounding received here, not yet swept to the insurance vault.
    pub insurance_accrued: u64,
    /// Most the insurance fund pays for this market's bankruptcies per period.
    pub insurance_cap: u64,
    pub insurance_period: u64,
    /// Start of the current period and what was drawn in it.
    pub insurance_period_start: i64,
    pub insurance_drawn: u64,
    /// Losses socialized onto positions (longs, shorts) and not collected from them yet.
    pub loss_outstanding: u64,
    /// Cumulative socialized loss per lot of longs and of shorts (`cfx_risk::liquidation::
    /// SocializedLoss`, u128 as [low, high]).
    pub loss_index: [[u64; 2]; 2],
    /// Accounts liquidated into negative collateral and not resolved yet: while any is, accounts
    /// with a position here cannot withdraw.
    pub bankruptcies_open: u32,
    /// Positions with a delivery record not settled yet: settlement is final only without any.
    pub delivery_open: u32,
    /// Totals for the record: insurance received here, drawn here, losses socialized here.
    pub insurance_received_total: u64,
    pub insurance_drawn_total: u64,
    pub socialized_total: u64,
    /// Expiry: the settlement price is the index TWAP over the `settle_window` seconds before
    /// `expiry_ts`, with at least `settle_min_updates` fresh index updates in it. Past
    /// `expiry_ts + settle_fallback_delay` the admin may post one instead, within
    /// `settle_fallback_band_bps` of the last valid TWAP.
    pub settle_window: u64,
    pub settle_min_updates: u64,
    pub settle_fallback_delay: u64,
    pub settle_fallback_band_bps: u64,
    /// Physical delivery (`delivery_mint` set): longs opt in and shorts opt in and escrow between
    /// `last_trade_ts` and `delivery_cutoff_ts`; a short pays `delivery_penalty_bps` of the value
    /// of each lot it opted to deliver and did not escrow.
    pub delivery_cutoff_ts: i64,
    pub delivery_penalty_bps: u64,
    /// Token account of `delivery_mint`, owned by the exchange, holding the shorts' escrow.
    pub delivery_vault: Pubkey,
    pub delivery_long_opted: u64,
    pub delivery_short_opted: u64,
    pub delivery_short_escrowed: u64,
    /// Quote longs reserved to pay for delivery, held out of their collateral.
    pub delivery_reserved: u64,
    /// Settlement price (ticks; 0 until fixed), when it was fixed, and how (`SettlementSource`).
    pub settlement_price: u64,
    pub settled_ts: i64,
    pub settlement_source: u8,
    pub _pad3: [u8; 7],
    /// Settlement claims: gains of settled winners (`owed`), of those the gains claimed and the
    /// quote paid for them, losses nobody could pay (`shortfall`, borne by the winners' payout
    /// pro rata), and the payout rounding handed to the insurance fund after the last claim.
    /// The collateral vault holds `owed − shortfall − paid − rounding` for the open claims.
    pub settle_owed: u64,
    pub settle_claimed: u64,
    pub settle_paid: u64,
    pub settle_shortfall: u64,
    pub settle_rounding: u64,
    /// Accounts settled; lots delivered.
    pub settled_accounts: u64,
    pub delivered_lots: u64,
    /// Room for fields added later without migrating accounts.
    pub _reserved: [u8; 128],
}

const _: () = assert!(core::mem::size_of::<Market>() == 904);

/// How a settlement price was fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SettlementSource {
    /// The index TWAP over the settlement window (`fix_settlement_price`).
    Twap = 1,
    /// Posted by the admin after the fallback delay (`post_settlement_price`).
    Fallback = 2,
}

impl Market {
    pub const SEED: &'static [u8] = b"market";
    /// Seeds of a physically delivered series' escrow vault: this, the market.
    pub const DELIVERY_VAULT_SEED: &'static [u8] = b"delivery";

    /// One account's position changed as `fill` says: open interest (longs) and short interest
    /// follow.
    #[inline]
    pub fn on_position_change(&mut self, fill: &FillApplied) -> Result<()> {
        if fill.long_after != fill.long_before {
            self.open_interest = self
                .open_interest
                .checked_add(fill.long_after)
                .and_then(|v| v.checked_sub(fill.long_before))
                .ok_or(FuturesError::Overflow)?;
        }
        if fill.short_after != fill.short_before {
            self.short_interest = self
                .short_interest
                .checked_add(fill.short_after)
                .and_then(|v| v.checked_sub(fill.short_before))
                .ok_or(FuturesError::Overflow)?;
        }
        Ok(())
    }

    /// Whether a loss was ever socialized here: exactly when either side's index is above zero
    /// (`socialize_loss` never spreads a zero loss, and the total only grows). One word read.
    #[inline(always)]
    pub fn has_socialized_losses(&self) -> bool {
        self.socialized_total != 0
    }

    /// The socialized-loss index of longs (`long`) or shorts.
    #[inline(always)]
    pub fn loss_index(&self, long: bool) -> u128 {
        join_u128(self.loss_index[!long as usize])
    }

    /// Spreads `loss` over every open lot of one side (`longs` or shorts): each of those positions
    /// owes its share when next touched. Refused when the side holds no lots.
    pub fn socialize_loss(&mut self, loss: u64, longs: bool) -> Result<()> {
        let lots = if longs {
            self.open_interest
        } else {
            self.short_interest
        };
        if loss == 0 {
            return Ok(());
        }
        require!(lots > 0, FuturesError::NoPositionsToSocialize);
        let mut side = SocializedLoss {
            index: self.loss_index(longs),
        };
        side.socialize(loss, lots).map_err(FuturesError::from)?;
        self.loss_index[!longs as usize] = split_u128(side.index);
        self.loss_outstanding = self
            .loss_outstanding
            .checked_add(loss)
            .ok_or(FuturesError::Overflow)?;
        self.socialized_total = self.socialized_total.saturating_add(loss);
        Ok(())
    }

    /// A position paid `amount` of socialized loss; what exceeds the loss outstanding (the index
    /// rounds each position's share up) goes to the insurance fund.
    pub fn on_loss_collected(&mut self, amount: u64) -> Result<()> {
        let covered = amount.min(self.loss_outstanding);
        self.loss_outstanding -= covered;
        self.on_insurance_received(amount - covered)
    }

    /// The insurance fund received `amount` here (held in the collateral vault until swept).
    pub fn on_insurance_received(&mut self, amount: u64) -> Result<()> {
        self.insurance_accrued = self
            .insurance_accrued
            .checked_add(amount)
            .ok_or(FuturesError::Overflow)?;
        self.insurance_received_total = self.insurance_received_total.saturating_add(amount);
        Ok(())
    }

    /// What the insurance fund may still pay for this market in the period that contains `now`
    /// (a new period starts the count again).
    pub fn insurance_room(&mut self, now: i64) -> u64 {
        // In u64: a period set beyond i64 must not wrap into "always elapsed".
        let period = self.insurance_period.max(1);
        let elapsed = now.saturating_sub(self.insurance_period_start).max(0) as u64;
        if elapsed >= period {
            // Periods are aligned to multiples of their length.
            self.insurance_period_start = self
                .insurance_period_start
                .saturating_add((elapsed - elapsed % period) as i64);
            self.insurance_drawn = 0;
        }
        self.insurance_cap.saturating_sub(self.insurance_drawn)
    }

    /// The insurance fund paid `amount` for a bankruptcy here.
    pub fn on_insurance_drawn(&mut self, amount: u64) -> Result<()> {
        self.insurance_drawn = self
            .insurance_drawn
            .checked_add(amount)
            .ok_or(FuturesError::Overflow)?;
        self.insurance_drawn_total = self.insurance_drawn_total.saturating_add(amount);
        Ok(())
    }

    pub fn liquidation_params(&self) -> LiquidationParams {
        LiquidationParams {
            penalty_bps: self.liq_penalty_bps,
            insurance_share_bps: self.liq_insurance_share_bps,
            dust_lots: self.liq_dust_lots,
        }
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
            liq_end_bps: self.liq_end_bps,
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
