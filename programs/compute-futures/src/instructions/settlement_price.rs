use anchor_lang::prelude::*;
use cfx_risk::settlement::{penalty_surplus, within_band};
use cfx_risk::RiskError;

use crate::error::FuturesError;
use crate::events::SettlementPriceFixed;
use crate::health::index_ticks;
use crate::state::{Exchange, Market, MarketStatus, PriceIndex, SettlementSource};

/// Anyone fixes the settlement price of an expired series, once: the index TWAP (in ticks, rounded
/// down, as every index price a market reads) over the
/// `settle_window` seconds up to `expiry_ts`, from the index's accumulator. Refused when the
/// window saw fewer than `settle_min_updates` fresh index updates (the accumulator extrapolates a
/// stale price across a gap, so the sum alone would hide one), or when its checkpoints have left
/// the accumulator's ring (then only the admin fallback remains).
#[derive(Accounts)]
pub struct FixSettlementPrice<'info> {
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = market.load()?.index @ FuturesError::WrongIndex)]
    pub index: AccountLoader<'info, PriceIndex>,
}

/// Admin posts the settlement price of an expired series whose TWAP cannot fix it, once the
/// fallback delay after expiry has passed, and only within `settle_fallback_band_bps` of the last
/// valid TWAP: the newest settlement-length window at or before expiry with enough fresh updates
/// or, when the index had stopped, the settlement window's average of its last price, or, when
/// the window's history is gone, the index now. Refused while the TWAP could fix the price.
#[derive(Accounts)]
pub struct PostSettlementPrice<'info> {
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = market.load()?.index @ FuturesError::WrongIndex)]
    pub index: AccountLoader<'info, PriceIndex>,
}

impl Market {
    /// Whether the settlement price is fixed.
    pub fn is_settled(&self) -> bool {
        self.settlement_price != 0
    }

    /// Records the settlement price: no more orders, positions settle against it. Delivery
    /// records are final by now (the cut-off is at or before expiry): failed shorts' penalties
    /// beyond what the longs they failed receive are the insurance fund's.
    fn set_settlement_price(
        &mut self,
        price: u64,
        source: SettlementSource,
        now: i64,
    ) -> Result<()> {
        self.settlement_price = price;
        self.settled_ts = now;
        self.settlement_source = source as u8;
        self.status = MarketStatus::Settled as u8;
        let surplus = penalty_surplus(
            &self.delivery_totals(),
            price,
            self.tick_value,
            self.delivery_penalty_bps,
        )
        .map_err(FuturesError::from)?;
        self.on_insurance_received(surplus)
    }
}

fn check_expired(m: &Market, now: i64) -> Result<()> {
    require!(!m.is_settled(), FuturesError::SettlementPriceFixed);
    require!(now >= m.expiry_ts, FuturesError::NotExpired);
    Ok(())
}

pub fn fix_settlement_price(ctx: Context<FixSettlementPrice>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market_key = ctx.accounts.market.key();
    let mut m = ctx.accounts.market.load_mut()?;
    check_expired(&m, now)?;
    let index = ctx.accounts.index.load()?;
    let twap = index.twap();
    let start = m.expiry_ts - m.settle_window as i64;
    let price = twap
        .window_twap(m.expiry_ts, m.settle_window, m.settle_min_updates)
        .map_err(|e| match e {
            RiskError::TooFewUpdates => error!(FuturesError::TooFewIndexUpdates),
            RiskError::InsufficientHistory => error!(FuturesError::SettlementHistoryGone),
            _ => error!(FuturesError::Overflow),
        })?;
    let updates = twap
        .updates_between(start, m.expiry_ts)
        .map_err(FuturesError::from)?;
    let ticks = index_ticks(&m, price)?;
    m.set_settlement_price(ticks, SettlementSource::Twap, now)?;
    crate::events::emit(&SettlementPriceFixed {
        market: market_key,
        price: ticks,
        source: SettlementSource::Twap as u8,
        reference_price: price,
        reference_end: m.expiry_ts,
        fresh_updates: updates,
    });
    Ok(())
}

pub fn post_settlement_price(ctx: Context<PostSettlementPrice>, price: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market_key = ctx.accounts.market.key();
    let mut m = ctx.accounts.market.load_mut()?;
    check_expired(&m, now)?;
    require!(
        now >= m
            .expiry_ts
            .saturating_add(m.settle_fallback_delay.min(i64::MAX as u64) as i64),
        FuturesError::FallbackTooEarly
    );
    require!(price > 0, FuturesError::FallbackOutsideBand);
    let index = ctx.accounts.index.load()?;
    let twap = index.twap();
    // Only when the TWAP cannot fix it.
    require!(
        twap.window_twap(m.expiry_ts, m.settle_window, m.settle_min_updates)
            .is_err(),
        FuturesError::TwapAvailable
    );
    // The reference: the newest valid window at or before expiry; failing that (the index had
    // stopped), the settlement window's average of the last price it had; failing that (the
    // window left the accumulator's ring while the index went on), the index now.
    let (end, reference) = twap
        .last_valid_twap(m.expiry_ts, m.settle_window, m.settle_min_updates)
        .or_else(|_| {
            twap.window_twap(m.expiry_ts, m.settle_window, 0)
                .map(|p| (m.expiry_ts, p))
        })
        .ok()
        .or_else(|| index.fresh_price(now).map(|p| (now, p)))
        .ok_or(FuturesError::SettlementHistoryGone)?;
    let reference_ticks = index_ticks(&m, reference)?;
    require!(
        within_band(price, reference_ticks, m.settle_fallback_band_bps),
        FuturesError::FallbackOutsideBand
    );
    m.set_settlement_price(price, SettlementSource::Fallback, now)?;
    crate::events::emit(&SettlementPriceFixed {
        market: market_key,
        price,
        source: SettlementSource::Fallback as u8,
        reference_price: reference,
        reference_end: end,
        fresh_updates: 0,
    });
    Ok(())
}
