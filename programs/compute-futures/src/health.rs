//! Glue between accounts and lib/risk: index and mark prices in ticks, and account health over the
//! markets a margin account trades in.

use anchor_lang::prelude::*;
use cfx_risk::margin::{HealthKind, MarginParams, PositionRisk};
use cfx_risk::mark::mark_price;
use cfx_risk::math::mul_div_floor;

use crate::error::FuturesError;
use crate::keys::{is_default, key_eq};
use crate::state::{MarginAccount, Market, PositionSlot, PriceIndex, MAX_POSITIONS};
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

/// What health needs of one market: its mark (ticks) and how its positions are margined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketMark {
    pub mark: u64,
    pub tick_value: u64,
    pub params: MarginParams,
}

impl MarketMark {
    #[inline(always)]
    pub fn of(market: &Market, mark: u64) -> Self {
        MarketMark {
            mark,
            tick_value: market.tick_value,
            params: market.margin_params(),
        }
    }
}

/// Where health finds the market (and index, for the mark) of each position. The chain reads them
/// from instruction accounts (`ViewRetriever`), a client from accounts it decoded
/// (`DecodedRetriever`); `HealthCache` computes the same numbers from either.
pub trait MarketRetriever {
    /// The market of the account's next position in use, whose market key is `market`; called
    /// once per position, in slot order.
    fn next_market(&mut self, account: &MarginAccount, market: &Pubkey) -> Result<MarketMark>;
}

/// The chain's retriever: markets the instruction already holds (`known`, with their marks), then
/// the `(market, index)` pairs of every other position, consecutive in `remaining`, in slot order.
pub struct ViewRetriever<'a, 'k> {
    pub known: &'k [(&'k Pubkey, &'k Market, u64)],
    pub remaining: &'a [AccountView<'a>],
    pub now: i64,
    next: usize,
}

impl<'a, 'k> ViewRetriever<'a, 'k> {
    pub fn new(
        known: &'k [(&'k Pubkey, &'k Market, u64)],
        remaining: &'a [AccountView<'a>],
        now: i64,
    ) -> Self {
        ViewRetriever {
            known,
            remaining,
            now,
            next: 0,
        }
    }
}

impl MarketRetriever for ViewRetriever<'_, '_> {
    #[inline(always)]
    fn next_market(&mut self, account: &MarginAccount, key: &Pubkey) -> Result<MarketMark> {
        if let Some((_, m, mark)) = self.known.iter().find(|(k, _, _)| key_eq(k, key)) {
            return Ok(MarketMark::of(m, *mark));
        }
        let (Some(mi), Some(ii)) = (
            self.remaining.get(self.next),
            self.remaining.get(self.next + 1),
        ) else {
            return err!(FuturesError::MissingHealthAccounts);
        };
        self.next += 2;
        require!(key_eq(mi.key(), key), FuturesError::MissingHealthAccounts);
        // SAFETY (both loads): read-only, and neither key can be one the caller holds mutably:
        // the market is a position's market that is not in `known`, the index is a market's
        // index, and the caller's mutable accounts are its margin account, market, book and queue.
        let market = unsafe { mi.load::<Market>()? };
        require!(
            key_eq(&market.exchange, &account.exchange),
            FuturesError::WrongExchange
        );
        require!(key_eq(ii.key(), &market.index), FuturesError::WrongIndex);
        let index = unsafe { ii.load::<PriceIndex>()? };
        Ok(MarketMark::of(market, mark_ticks(market, index, self.now)?))
    }
}

/// A client's retriever: markets and indexes it has decoded, looked up by key.
pub struct DecodedRetriever<'a> {
    pub markets: &'a [(Pubkey, Market)],
    pub indexes: &'a [(Pubkey, PriceIndex)],
    pub now: i64,
}

impl MarketRetriever for DecodedRetriever<'_> {
    fn next_market(&mut self, account: &MarginAccount, key: &Pubkey) -> Result<MarketMark> {
        let (_, market) = self
            .markets
            .iter()
            .find(|(k, _)| k == key)
            .ok_or(FuturesError::MissingHealthAccounts)?;
        require!(
            market.exchange == account.exchange,
            FuturesError::WrongExchange
        );
        let (_, index) = self
            .indexes
            .iter()
            .find(|(k, _)| *k == market.index)
            .ok_or(FuturesError::WrongIndex)?;
        Ok(MarketMark::of(market, mark_ticks(market, index, self.now)?))
    }
}

/// What margin needs to know about one position, with its market's mark and parameters.
#[inline(always)]
fn position_risk(slot: &PositionSlot, m: MarketMark) -> PositionRisk {
    PositionRisk {
        position: slot.position(),
        bid_lots: slot.bid_lots,
        ask_lots: slot.ask_lots,
        bid_price_max: slot.bid_price_max,
        ask_price_min: slot.ask_price_min,
        mark: m.mark,
        tick_value: m.tick_value,
        params: m.params,
    }
}

/// The account's health for `kind`, its markets found through `retriever`: collateral plus each
/// position's contribution (lib/risk). The account meets `kind` when this is ≥ 0. Computed
/// position by position, with nothing gathered, for the trading path; `HealthCache` gives the
/// same figures for several kinds at once.
pub fn health_with(
    account: &MarginAccount,
    retriever: &mut impl MarketRetriever,
    kind: HealthKind,
) -> Result<i128> {
    let mut health = account.collateral as i128;
    for slot in account.positions.iter() {
        if is_default(&slot.market) {
            continue;
        }
        let risk = position_risk(slot, retriever.next_market(account, &slot.market)?);
        // The same fold as `HealthCache::health`, one position at a time.
        health =
            cfx_risk::margin::account_health(health, [&risk], kind).map_err(FuturesError::from)?;
    }
    Ok(health)
}

/// The account's health for `kind`, from instruction accounts (`ViewRetriever`).
pub fn account_health(
    account: &MarginAccount,
    known: &[(&Pubkey, &Market, u64)],
    remaining: &[AccountView],
    now: i64,
    kind: HealthKind,
) -> Result<i128> {
    health_with(
        account,
        &mut ViewRetriever::new(known, remaining, now),
        kind,
    )
}

/// An account's positions with their marks and margin parameters, gathered once through a
/// retriever: health of every kind is then a pure computation over it (lib/risk), the same on
/// chain and off, and the same as `health_with`.
#[derive(Clone, Copy, Debug)]
pub struct HealthCache {
    pub collateral: i64,
    len: usize,
    positions: [PositionRisk; MAX_POSITIONS],
}

impl HealthCache {
    pub fn new(account: &MarginAccount, retriever: &mut impl MarketRetriever) -> Result<Self> {
        let mut cache = HealthCache {
            collateral: account.collateral,
            len: 0,
            positions: [PositionRisk::default(); MAX_POSITIONS],
        };
        for slot in account.positions.iter() {
            if is_default(&slot.market) {
                continue;
            }
            let m = retriever.next_market(account, &slot.market)?;
            cache.positions[cache.len] = position_risk(slot, m);
            cache.len += 1;
        }
        Ok(cache)
    }

    /// The positions in use, in slot order.
    pub fn positions(&self) -> &[PositionRisk] {
        &self.positions[..self.len]
    }

    /// Collateral plus every position's contribution for `kind`; the account meets `kind` when
    /// this is ≥ 0.
    pub fn health(&self, kind: HealthKind) -> Result<i128> {
        Ok(
            cfx_risk::margin::account_health(self.collateral as i128, self.positions(), kind)
                .map_err(FuturesError::from)?,
        )
    }
}
