//! Glue between accounts and lib/risk: index and mark prices in ticks, and account health over the
//! markets a margin account trades in.

use anchor_lang::prelude::*;
use cfx_risk::margin::{HealthKind, PositionRisk};
use cfx_risk::mark::mark_price;
use cfx_risk::math::mul_div_floor;

use crate::error::FuturesError;
use crate::state::{MarginAccount, Market, PriceIndex, MAX_POSITIONS};

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
pub fn account_health<'info>(
    account: &MarginAccount,
    known: &[(Pubkey, &Market, u64)],
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    kind: HealthKind,
) -> Result<i128> {
    let mut risks = [None::<PositionRisk>; MAX_POSITIONS];
    let mut next = 0usize;
    for (i, slot) in account.positions.iter().enumerate() {
        if slot.market == Pubkey::default() {
            continue;
        }
        let risk_for = |m: &Market, mark: u64| PositionRisk {
            position: slot.position(),
            bid_lots: slot.bid_lots,
            ask_lots: slot.ask_lots,
            mark,
            tick_value: m.tick_value,
            params: m.margin_params(),
        };
        if let Some((_, m, mark)) = known.iter().find(|(k, _, _)| *k == slot.market) {
            risks[i] = Some(risk_for(m, *mark));
            continue;
        }
        let (Some(mi), Some(ii)) = (remaining.get(next), remaining.get(next + 1)) else {
            return err!(FuturesError::MissingHealthAccounts);
        };
        next += 2;
        require_keys_eq!(*mi.key, slot.market, FuturesError::MissingHealthAccounts);
        let market_loader = AccountLoader::<Market>::try_from(mi)?;
        let market = market_loader.load()?;
        require_keys_eq!(
            market.exchange,
            account.exchange,
            FuturesError::WrongExchange
        );
        require_keys_eq!(*ii.key, market.index, FuturesError::WrongIndex);
        let index_loader = AccountLoader::<PriceIndex>::try_from(ii)?;
        let index = index_loader.load()?;
        let mark = mark_ticks(&market, &index, now)?;
        risks[i] = Some(risk_for(&market, mark));
    }
    let h =
        cfx_risk::margin::account_health(account.collateral as i128, risks.iter().flatten(), kind)
            .map_err(FuturesError::from)?;
    Ok(h)
}
