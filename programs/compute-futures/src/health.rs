//! Glue between accounts and lib/risk: index and mark prices in ticks, and account health over the
//! markets a margin account trades in.

use anchor_lang::prelude::*;
use cfx_risk::margin::{HealthKind, PositionRisk};
use cfx_risk::mark::mark_price;
use cfx_risk::math::{mul_div_floor, wide_mul};

use crate::error::FuturesError;
use crate::keys::{is_default, key_eq};
use crate::state::{MarginAccount, Market, PositionSlot, PriceIndex, MAX_POSITIONS};
use crate::view::AccountView;

/// Index price (quote native units per whole compute unit) in the market's ticks, rounded down.
pub fn index_ticks(market: &Market, index_price: u64) -> Result<u64> {
    let den = wide_mul(market.unit_scale, market.tick_value);
    let t = mul_div_floor(index_price as u128, market.lot_size as u128, den)
        .map_err(FuturesError::from)?;
    let t = u64::try_from(t).map_err(|_| FuturesError::Overflow)?;
    require!(t > 0, FuturesError::StaleOracle);
    Ok(t)
}

/// A market's mark and index at one time, in ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prices {
    pub mark: u64,
    pub index: u64,
}

/// The market's mark and index prices at `now`, in ticks; refuses a stale index. Both are the
/// settlement price once it is fixed.
pub fn prices(market: &Market, index: &PriceIndex, now: i64) -> Result<Prices> {
    // A settled series is worth its settlement price, whatever the index does after it.
    if market.settlement_price != 0 {
        return Ok(Prices {
            mark: market.settlement_price,
            index: market.settlement_price,
        });
    }
    let price = index.fresh_price(now).ok_or(FuturesError::StaleOracle)?;
    let idx = index_ticks(market, price)?;
    let mark = mark_price(
        market.ema_price,
        idx,
        now,
        market.expiry_ts,
        &market.mark_config(),
    )
    .map_err(FuturesError::from)?;
    Ok(Prices { mark, index: idx })
}

/// The market's mark price at `now`, in ticks; refuses a stale index.
pub fn mark_ticks(market: &Market, index: &PriceIndex, now: i64) -> Result<u64> {
    Ok(prices(market, index, now)?.mark)
}

/// Where health finds the market (and index, for the prices) of each position. The chain reads
/// them from instruction accounts (`ViewRetriever`), a client from accounts it decoded
/// (`DecodedRetriever`); `HealthCache` computes the same numbers from either.
pub trait MarketRetriever {
    /// What margin needs to know about the account's next position in use (`slot`), with its
    /// market's prices and parameters; called once per position, in slot order.
    fn next_position(
        &mut self,
        account: &MarginAccount,
        slot: &PositionSlot,
    ) -> Result<PositionRisk>;
}

/// The chain's retriever: markets the instruction already holds (`known`, with their marks), then
/// the `(market, index)` pairs of every other position, consecutive in `remaining`, in slot order.
pub struct ViewRetriever<'a, 'k> {
    pub known: &'k [(&'k Pubkey, &'k Market, Prices)],
    pub remaining: &'a [AccountView<'a>],
    pub now: i64,
    next: usize,
    /// Refuse a market with an unresolved bankruptcy (withdrawals wait for its resolution).
    refuse_open_bankruptcy: bool,
}

impl<'a, 'k> ViewRetriever<'a, 'k> {
    pub fn new(
        known: &'k [(&'k Pubkey, &'k Market, Prices)],
        remaining: &'a [AccountView<'a>],
        now: i64,
    ) -> Self {
        ViewRetriever {
            known,
            remaining,
            now,
            next: 0,
            refuse_open_bankruptcy: false,
        }
    }

    /// For withdrawals: a position in a market with an unresolved bankruptcy refuses them, so
    /// no one takes out gains the loss may yet be socialized against.
    pub fn holding_withdrawals(mut self) -> Self {
        self.refuse_open_bankruptcy = true;
        self
    }

    /// Remaining accounts used so far: the next account's health accounts start here.
    pub fn consumed(&self) -> usize {
        self.next
    }
}

impl MarketRetriever for ViewRetriever<'_, '_> {
    #[inline(always)]
    fn next_position(
        &mut self,
        account: &MarginAccount,
        slot: &PositionSlot,
    ) -> Result<PositionRisk> {
        let key = &slot.market;
        if let Some((_, m, p)) = self.known.iter().find(|(k, _, _)| key_eq(k, key)) {
            require!(
                !self.refuse_open_bankruptcy || m.bankruptcies_open == 0,
                FuturesError::BankruptcyUnresolved
            );
            return Ok(position_risk(slot, m, *p));
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
        require!(
            !self.refuse_open_bankruptcy || market.bankruptcies_open == 0,
            FuturesError::BankruptcyUnresolved
        );
        let index = unsafe { ii.load::<PriceIndex>()? };
        Ok(position_risk(
            slot,
            market,
            prices(market, index, self.now)?,
        ))
    }
}

/// A client's retriever: markets and indexes it has decoded, looked up by key.
pub struct DecodedRetriever<'a> {
    pub markets: &'a [(Pubkey, Market)],
    pub indexes: &'a [(Pubkey, PriceIndex)],
    pub now: i64,
}

impl MarketRetriever for DecodedRetriever<'_> {
    fn next_position(
        &mut self,
        account: &MarginAccount,
        slot: &PositionSlot,
    ) -> Result<PositionRisk> {
        let key = &slot.market;
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
        Ok(position_risk(
            slot,
            market,
            prices(market, index, self.now)?,
        ))
    }
}

/// What margin needs to know about one position, with its market's prices and parameters and
/// the socialized loss it owes there.
#[inline(always)]
pub fn position_risk(slot: &PositionSlot, market: &Market, prices: Prices) -> PositionRisk {
    let side = (slot.base_lots < 0) as usize;
    PositionRisk {
        position: slot.position(),
        bid_lots: slot.bid_lots,
        ask_lots: slot.ask_lots,
        bid_price_max: slot.bid_price_max,
        ask_price_min: slot.ask_price_min,
        mark: prices.mark,
        index: prices.index,
        // Nearly always paid up: two words compared.
        loss_owed: if !market.has_socialized_losses() || slot.paid_up(&market.loss_index[side]) {
            0
        } else {
            slot.loss_owed(market.loss_index(side == 0))
        },
        tick_value: market.tick_value,
        params: market.margin_params(),
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
        let risk = retriever.next_position(account, slot)?;
        // The same fold as `HealthCache::health`, one position at a time.
        health =
            cfx_risk::margin::account_health(health, [&risk], kind).map_err(FuturesError::from)?;
    }
    Ok(health)
}

/// The account's health for `kind`, from instruction accounts (`ViewRetriever`).
pub fn account_health(
    account: &MarginAccount,
    known: &[(&Pubkey, &Market, Prices)],
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
    /// The account's position slot of each entry.
    slots: [u8; MAX_POSITIONS],
}

impl HealthCache {
    pub fn new(account: &MarginAccount, retriever: &mut impl MarketRetriever) -> Result<Self> {
        let mut cache = HealthCache {
            collateral: account.collateral,
            len: 0,
            positions: [PositionRisk::default(); MAX_POSITIONS],
            slots: [0; MAX_POSITIONS],
        };
        for (i, slot) in account.positions.iter().enumerate() {
            if is_default(&slot.market) {
                continue;
            }
            cache.positions[cache.len] = retriever.next_position(account, slot)?;
            cache.slots[cache.len] = i as u8;
            cache.len += 1;
        }
        Ok(cache)
    }

    /// `new` on the heap: the cache is ≈ 1.7 KB, and instructions that keep it while doing more
    /// (liquidation) must stay within the SBF target's 4 KB stack frames.
    #[inline(never)]
    pub fn new_boxed(
        account: &MarginAccount,
        retriever: &mut impl MarketRetriever,
    ) -> Result<Box<Self>> {
        Ok(Box::new(Self::new(account, retriever)?))
    }

    /// The entry of the account's position slot `slot`, if in use.
    pub fn entry_of(&self, slot: usize) -> Option<usize> {
        self.slots[..self.len]
            .iter()
            .position(|s| *s as usize == slot)
    }

    /// Takes `account`'s current collateral and position `slot` (in `market`, at `prices`)
    /// again, after it changed.
    pub fn refresh(
        &mut self,
        account: &MarginAccount,
        slot: usize,
        market: &Market,
        prices: Prices,
    ) {
        self.collateral = account.collateral;
        if let Some(i) = self.entry_of(slot) {
            self.positions[i] = position_risk(&account.positions[slot], market, prices);
        }
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

/// What `liquidate_position` does to one position, from the liquidated account's health: the
/// same computation on chain and in a keeper (which feeds the cache decoded accounts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationPlan {
    /// The liquidated position is long (the liquidator buys).
    pub long: bool,
    /// Penalty price, ticks.
    pub price: u64,
    pub lots: u64,
    /// What the lots cost at the penalty price, quote native units.
    pub value: u128,
    /// The penalty's split: the insurance fund's share (paid by the liquidator) and the rest.
    pub insurance: u64,
    pub liquidator_share: u64,
    /// The liquidated account's maintenance health before (negative).
    pub maintenance_before: i128,
}

/// The liquidation of the position in `cache` entry `entry` (in `market`, at `mark`), at most
/// `max_lots`: the fewest lots back to liquidation-end health, at the penalty price. `None` when
/// the account is not below maintenance or there is nothing to take.
pub fn plan_liquidation(
    cache: &HealthCache,
    entry: usize,
    market: &Market,
    mark: u64,
    max_lots: u64,
) -> Result<Option<LiquidationPlan>> {
    use cfx_risk::liquidation::{lots_to_liquidate, penalty_price, penalty_split};
    let maintenance_before = cache.health(HealthKind::Maintenance)?;
    if maintenance_before >= 0 {
        return Ok(None);
    }
    let Some(risk) = cache.positions().get(entry) else {
        return Ok(None);
    };
    let long = risk.position.base_lots > 0;
    let params = market.liquidation_params();
    let price = penalty_price(mark, params.penalty_bps, long).map_err(FuturesError::from)?;
    let lots = lots_to_liquidate(
        risk,
        cache.health(HealthKind::LiquidationEnd)?,
        &params,
        price,
    )
    .map_err(FuturesError::from)?
    .min(max_lots);
    if lots == 0 {
        return Ok(None);
    }
    let value =
        cfx_risk::math::notional(price, lots, market.tick_value).map_err(FuturesError::from)?;
    let (insurance, liquidator_share) = penalty_split(
        mark,
        price,
        lots,
        market.tick_value,
        params.insurance_share_bps,
    )
    .map_err(FuturesError::from)?;
    Ok(Some(LiquidationPlan {
        long,
        price,
        lots,
        value,
        insurance,
        liquidator_share,
        maintenance_before,
    }))
}
