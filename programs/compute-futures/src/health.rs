//! Glue between accounts and lib/risk: index and mark prices in ticks, and account health over the
//! markets a margin account trades in.

use anchor_lang::prelude::*;
use cfx_risk::margin::{HealthKind, PositionRisk};
use cfx_risk::mark::mark_price;
use cfx_risk::math::mul_div_floor;

use crate::error::FuturesError;
use crate::keys::{is_default, key_eq};
use crate::state::{MarginAccount, Market, PriceIndex};
use crate::view::AccountView;

/// Index price (quote native units per whole compute unit) in the market's ticks, rounded down.
pub fn index_ticks(market: &Market, index_price: u64) -> Result<u64> {
    let den = (market.unit_scale as u128)
        .checked_mul(market.tick_value as u128)
        .ok_or(FuturesError::Overflow)?;
    let t = mul_div_floor(index_price as u128, market.lot_size as u128, den)
        .map_err(FuturesError::from)?;
    let t = u64::try_from(t).map_err(|_| FuturesError::Overflow)?;
    require!(t > 0, FuturesError::StaleOracle);
    Ok(t)
}

/// The market's mark price at `now`, in ticks; refuses a stale index.
pub fn mark_ticks(market: &Market, index: &PriceIndex, now: i64) -> Result<u64> {
    let price = index.fresh_price(now).ok_or(FuturesError::StaleOracle)?;
    let idx = index_ticks(market, price)?;
    Ok(mark_price(
        market.ema_price,
        idx,
        now,
        market.expiry_ts,
        &market.mark_config(),
    )
    .map_err(FuturesError::from)?)
}

/// The account's health for `kind`.
///
/// `known` gives marks the caller already has (the market of this instruction); every other
/// position slot in use needs its market and index as a consecutive pair in `remaining`, in slot
/// order.
pub fn account_health(
    account: &MarginAccount,
    known: &[(&Pubkey, &Market, u64)],
    remaining: &[AccountView],
    now: i64,
    kind: HealthKind,
) -> Result<i128> {
    let mut health = account.collateral as i128;
    let mut next = 0usize;
    for slot in account.positions.iter() {
        if is_default(&slot.market) {
            continue;
        }
        let (market, mark) = match known.iter().find(|(k, _, _)| key_eq(k, &slot.market)) {
            Some((_, m, mark)) => (*m, *mark),
            None => {
                let (Some(mi), Some(ii)) = (remaining.get(next), remaining.get(next + 1)) else {
                    return err!(FuturesError::MissingHealthAccounts);
                };
                next += 2;
                require!(
                    key_eq(mi.key(), &slot.market),
                    FuturesError::MissingHealthAccounts
                );
                // SAFETY (both loads): read-only, and neither key can be one the caller holds
                // mutably: the market is a position's market that is not in `known`, the index
                // is a market's index, and the caller's mutable accounts are its exchange,
                // margin account, market, book and queue.
                let market = unsafe { mi.load::<Market>()? };
                require!(
                    key_eq(&market.exchange, &account.exchange),
                    FuturesError::WrongExchange
                );
                require!(key_eq(ii.key(), &market.index), FuturesError::WrongIndex);
                let index = unsafe { ii.load::<PriceIndex>()? };
                (market, mark_ticks(market, index, now)?)
            }
        };
        let risk = PositionRisk {
            position: slot.position(),
            bid_lots: slot.bid_lots,
            ask_lots: slot.ask_lots,
            bid_price_max: slot.bid_price_max,
            ask_price_min: slot.ask_price_min,
            mark,
            tick_value: market.tick_value,
            params: market.margin_params(),
        };
        health =
            cfx_risk::margin::account_health(health, [&risk], kind).map_err(FuturesError::from)?;
    }
    Ok(health)
}
