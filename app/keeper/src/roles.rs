//! The keeper's roles; each `*_pass` reads the chain and acts once.

use std::collections::HashMap;

use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use cfx_client::backend::Backend;
use cfx_client::decode::{book, event_queue};
use cfx_client::ix::{self, MarketKeys};
use cfx_client::views::{health_accounts, margin_view};
use cfx_client::ClientError;
use compute_futures::state::{MarginAccount, Market};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

use crate::chain::{self, Snapshot};
use crate::{Keeper, Metrics};

/// Distinct maker accounts one crank transaction passes (a transaction holds about 30 accounts).
pub const MAX_MAKERS: usize = 20;
/// Events one crank transaction consumes at most.
pub const CRANK_LIMIT: u16 = 64;
/// Margin accounts one settlement transaction passes (cash; half with token accounts).
pub const SETTLE_BATCH: usize = 16;

/// Drains `market`'s event queue: each transaction passes the makers of the oldest events
/// (unknown ids refresh the account map), at most `rounds` transactions. Returns events consumed.
pub async fn crank_market<B: Backend>(
    k: &Keeper<B>,
    market: &Pubkey,
    ids: &mut HashMap<u32, Pubkey>,
    rounds: usize,
) -> Result<u64, ClientError> {
    let m = get_market(k, market).await?;
    let keys = MarketKeys::of(market, &m);
    let mut consumed = 0u64;
    for _ in 0..rounds {
        let data = k
            .backend
            .get_account(&keys.event_queue)
            .await?
            .ok_or(ClientError::MissingAccount(keys.event_queue))?
            .data;
        let queue = event_queue(&data, market)?;
        Metrics::add(&k.metrics.queue_lag_events, 0);
        k.metrics
            .queue_lag_events
            .store(queue.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if queue.is_empty() {
            break;
        }
        let mut makers: Vec<Pubkey> = Vec::new();
        for e in queue.iter().take(CRANK_LIMIT as usize) {
            if e.owner_applied {
                continue;
            }
            let id = e.owner();
            if !ids.contains_key(&id) {
                *ids = chain::margin_accounts(&*k.backend, &k.exchange.exchange)
                    .await?
                    .iter()
                    .map(|(key, a)| (a.id, *key))
                    .collect();
            }
            let Some(key) = ids.get(&id) else {
                // An owner no margin account has any more: the crank cannot pass it.
                tracing::warn!(%market, id, "queued event of an unknown account");
                break;
            };
            if !makers.contains(key) {
                if makers.len() == MAX_MAKERS {
                    break;
                }
                makers.push(*key);
            }
        }
        let before = reward_balance(k).await;
        let i = ix::consume_events(
            &k.exchange.exchange,
            &keys,
            &k.account,
            &makers,
            CRANK_LIMIT,
        );
        k.send(&[i], &[]).await?;
        let data = k
            .backend
            .get_account(&keys.event_queue)
            .await?
            .ok_or(ClientError::MissingAccount(keys.event_queue))?
            .data;
        let left = event_queue(&data, market)?.len();
        let n = (queue.len() - left.min(queue.len())) as u64;
        consumed += n;
        Metrics::add(&k.metrics.events_cranked, n);
        Metrics::add(&k.metrics.crank_transactions, 1);
        let after = reward_balance(k).await;
        Metrics::add(
            &k.metrics.rewards_earned,
            after.saturating_sub(before) as u64,
        );
        if n == 0 {
            break;
        }
    }
    Ok(consumed)
}

async fn reward_balance<B: Backend>(k: &Keeper<B>) -> i64 {
    match k.backend.get_account(&k.account).await {
        Ok(Some(a)) => cfx_client::decode::zero_copy::<MarginAccount>(&a.data)
            .map(|m| m.collateral)
            .unwrap_or(0),
        _ => 0,
    }
}

async fn get_market<B: Backend>(k: &Keeper<B>, key: &Pubkey) -> Result<Market, ClientError> {
    let a = k
        .backend
        .get_account(key)
        .await?
        .ok_or(ClientError::MissingAccount(*key))?;
    cfx_client::decode::zero_copy(&a.data)
}

/// One crank pass over every served market.
pub async fn crank_pass<B: Backend>(
    k: &Keeper<B>,
    ids: &mut HashMap<u32, Pubkey>,
) -> Result<u64, ClientError> {
    Metrics::add(&k.metrics.passes, 1);
    let markets = chain::markets(&*k.backend, &k.exchange.exchange).await?;
    let mut total = 0;
    for (key, _) in markets.iter().filter(|(key, _)| k.serves(key)) {
        total += crank_market(k, key, ids, 8).await?;
    }
    Ok(total)
}

/// What a liquidation pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiquidationPass {
    pub candidates: usize,
    pub liquidations: u64,
    pub resolved: u64,
}

/// Liquidates accounts below maintenance, worst first: their resting orders in each market,
/// then their positions (the fewest lots the program allows; the keeper's account takes them
/// over), and resolves bankruptcies and lapsed holds.
pub async fn liquidation_pass<B: Backend>(k: &Keeper<B>) -> Result<LiquidationPass, ClientError> {
    Metrics::add(&k.metrics.passes, 1);
    let s = chain::snapshot(&*k.backend, &k.exchange.exchange).await?;
    let mut out = LiquidationPass::default();
    let mut views: Vec<_> = s
        .accounts
        .iter()
        .filter(|(key, a)| {
            *key != k.account && a.positions.iter().any(|p| p.market != Pubkey::default())
        })
        .map(|(key, a)| (margin_view(key, a, &s.markets, &s.indexes, s.now), a))
        .filter(|(v, _)| v.liquidatable())
        .collect();
    views.sort_by_key(|(v, _)| v.health.map(|h| h.maintenance).unwrap_or(0));
    out.candidates = views.len();
    let mine = s
        .accounts
        .iter()
        .find(|(key, _)| *key == k.account)
        .map(|(_, a)| *a);
    for (view, acc) in views.into_iter().take(k.max_per_pass) {
        for slot in acc
            .positions
            .iter()
            .filter(|p| p.market != Pubkey::default())
        {
            let Some(m) = s.market(&slot.market) else {
                continue;
            };
            if s.now >= m.last_trade_ts || !k.serves(&slot.market) {
                continue;
            }
            let keys = MarketKeys::of(&slot.market, m);
            // An account the keeper cannot value is skipped, never a reason to stop the pass.
            let Ok(theirs) = health_accounts(acc, &s.markets, Some(&slot.market)) else {
                tracing::warn!(account = %view.key, "a position in a market the keeper cannot read");
                continue;
            };
            if slot.orders > 0 || slot.bid_lots > 0 || slot.ask_lots > 0 {
                let i = ix::liquidate_orders(&k.payer.pubkey(), &view.key, &keys, &theirs);
                if k.send(&[i], &[]).await.is_ok() {
                    Metrics::add(&k.metrics.orders_liquidated, 1);
                }
            }
            if slot.base_lots == 0 {
                continue;
            }
            let ours = match &mine {
                Some(a) => health_accounts(a, &s.markets, Some(&slot.market)).unwrap_or_default(),
                None => Vec::new(),
            };
            let health: Vec<_> = theirs.iter().chain(&ours).copied().collect();
            // The liquidator buys a long (no price above which it refuses) or sells a short.
            let limit = if slot.base_lots > 0 { u64::MAX } else { 0 };
            let i = ix::liquidate_position(
                &k.payer.pubkey(),
                &k.account,
                &view.key,
                &keys,
                u64::MAX,
                limit,
                &health,
            );
            if k.send(&[i], &[]).await.is_ok() {
                out.liquidations += 1;
                Metrics::add(&k.metrics.liquidations, 1);
                tracing::info!(account = %view.key, market = %slot.market, "liquidated");
            }
        }
    }
    // Bankruptcies to cover and holds to lift: read again, liquidations changed them.
    for (key, acc) in chain::margin_accounts(&*k.backend, &k.exchange.exchange).await? {
        let bankrupt =
            acc.collateral < 0 && acc.positions.iter().all(|p| p.market == Pubkey::default());
        if !(bankrupt || acc.debt_held != 0) || acc.debt_market == Pubkey::default() {
            continue;
        }
        let health = health_accounts(&acc, &s.markets, None).unwrap_or_default();
        let i = ix::resolve_bankruptcy(&k.exchange, &key, &acc.debt_market, &health);
        if k.send(&[i], &[]).await.is_ok() {
            out.resolved += 1;
            Metrics::add(&k.metrics.bankruptcies_resolved, 1);
            tracing::info!(account = %key, market = %acc.debt_market, "bankruptcy resolved");
        }
    }
    Ok(out)
}

/// What an expiry pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpiryPass {
    pub released: u64,
    pub fixed: u64,
    pub settled: u64,
}

/// Markets past their last trade: resting orders released (their owners passed, so
/// reservations are freed at once), the settlement price fixed once expired, every account with
/// a position settled (with its owner's associated token account of the delivery mint on a
/// physical series, created when missing), and the queue cranked.
pub async fn expiry_pass<B: Backend>(
    k: &Keeper<B>,
    ids: &mut HashMap<u32, Pubkey>,
) -> Result<ExpiryPass, ClientError> {
    Metrics::add(&k.metrics.passes, 1);
    let s = chain::snapshot(&*k.backend, &k.exchange.exchange).await?;
    *ids = s.ids();
    let mut out = ExpiryPass::default();
    for (key, m) in s.markets.iter().filter(|(key, _)| k.serves(key)) {
        if s.now < m.last_trade_ts {
            continue;
        }
        let keys = MarketKeys::of(key, m);
        out.released += release(k, &keys, ids).await?;
        if m.settlement_price == 0 {
            if s.now < m.expiry_ts {
                continue;
            }
            match k.send(&[ix::fix_settlement_price(&keys)], &[]).await {
                Ok(_) => {
                    out.fixed += 1;
                    Metrics::add(&k.metrics.settlement_prices_fixed, 1);
                    tracing::info!(market = %key, "settlement price fixed");
                }
                Err(e) => {
                    tracing::warn!(market = %key, error = %e, "settlement price not fixed");
                    continue;
                }
            }
        }
        out.settled += settle(k, &keys, &s).await?;
        crank_market(k, key, ids, 8).await?;
        // Claims are paid once every position is settled: one more call for the winners.
        out.settled += settle(
            k,
            &keys,
            &chain::snapshot(&*k.backend, &k.exchange.exchange).await?,
        )
        .await?;
    }
    Ok(out)
}

async fn release<B: Backend>(
    k: &Keeper<B>,
    keys: &MarketKeys,
    ids: &HashMap<u32, Pubkey>,
) -> Result<u64, ClientError> {
    let mut released = 0;
    for _ in 0..16 {
        let data = k
            .backend
            .get_account(&keys.book)
            .await?
            .ok_or(ClientError::MissingAccount(keys.book))?
            .data;
        let orders = book(&data, &keys.market)?;
        let n = orders.bids.len() + orders.asks.len();
        if n == 0 {
            break;
        }
        let mut owners = Vec::new();
        for o in orders.bids.iter().chain(&orders.asks) {
            if let Some(key) = ids.get(&o.owner) {
                if !owners.contains(key) && owners.len() < MAX_MAKERS {
                    owners.push(*key);
                }
            }
        }
        k.send(&[ix::release_orders(keys, &owners, CRANK_LIMIT)], &[])
            .await?;
        let left = book(
            &k.backend
                .get_account(&keys.book)
                .await?
                .ok_or(ClientError::MissingAccount(keys.book))?
                .data,
            &keys.market,
        )?;
        let done = (n - (left.bids.len() + left.asks.len())) as u64;
        released += done;
        Metrics::add(&k.metrics.orders_released, done);
        if done == 0 {
            break;
        }
    }
    Ok(released)
}

async fn settle<B: Backend>(
    k: &Keeper<B>,
    keys: &MarketKeys,
    s: &Snapshot,
) -> Result<u64, ClientError> {
    let due: Vec<&(Pubkey, MarginAccount)> = s
        .accounts
        .iter()
        .filter(|(_, a)| a.positions.iter().any(|p| p.market == keys.market))
        .take(k.max_per_pass)
        .collect();
    let batch = if keys.delivery.is_some() {
        SETTLE_BATCH / 2
    } else {
        SETTLE_BATCH
    };
    let mut settled = 0;
    for chunk in due.chunks(batch) {
        let mut entries = Vec::new();
        for (key, acc) in chunk {
            let token = match keys.delivery {
                Some(d) => {
                    Some(ensure_token_account(k, &acc.owner, &d.mint, &d.token_program).await?)
                }
                None => None,
            };
            entries.push((*key, token));
        }
        if k.send(&[ix::settle_positions(&k.exchange, keys, &entries)], &[])
            .await
            .is_ok()
        {
            settled += chunk.len() as u64;
            Metrics::add(&k.metrics.accounts_settled, chunk.len() as u64);
        }
    }
    Ok(settled)
}

/// `owner`'s associated token account of `mint`, created (by the keeper, idempotently) when
/// missing.
async fn ensure_token_account<B: Backend>(
    k: &Keeper<B>,
    owner: &Pubkey,
    mint: &Pubkey,
    program: &Pubkey,
) -> Result<Pubkey, ClientError> {
    let ata = get_associated_token_address_with_program_id(owner, mint, program);
    if k.backend.get_account(&ata).await?.is_none() {
        let i = anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
            &k.payer.pubkey(),
            owner,
            mint,
            program,
        );
        k.send(&[i], &[]).await?;
    }
    Ok(ata)
}

/// Where published prices come from.
pub trait PriceSource: Send {
    /// The price (quote native units per whole compute unit) and confidence to publish at `now`.
    fn quote(&mut self, now: i64) -> Option<(u64, u64)>;
}

/// A fixed price (tests, a pegged class).
pub struct FixedPrice(pub u64);

impl PriceSource for FixedPrice {
    fn quote(&mut self, _now: i64) -> Option<(u64, u64)> {
        Some((self.0, self.0 / 1_000))
    }
}

/// A simulated path: a seeded random walk of at most `step_bps` per quote around `start`.
pub struct RandomWalk {
    pub price: u64,
    pub step_bps: u64,
    pub state: u64,
}

impl PriceSource for RandomWalk {
    fn quote(&mut self, _now: i64) -> Option<(u64, u64)> {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let step = self.state % (2 * self.step_bps + 1);
        self.price = (self.price as u128 * (10_000 + step as u128 - self.step_bps as u128) / 10_000)
            .max(1) as u64;
        Some((self.price, self.price / 1_000))
    }
}

/// A JSON file `{"price": u64, "conf": u64}` re-read on every quote (another process writes it).
pub struct JsonFile(pub std::path::PathBuf);

impl PriceSource for JsonFile {
    fn quote(&mut self, _now: i64) -> Option<(u64, u64)> {
        let text = std::fs::read_to_string(&self.0).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let price = v.get("price")?.as_u64()?;
        let conf = v
            .get("conf")
            .and_then(|c| c.as_u64())
            .unwrap_or(price / 1_000);
        Some((price, conf))
    }
}

/// Posts `source`'s quote to `index`, signed by `publisher`.
pub async fn publish_pass<B: Backend>(
    k: &Keeper<B>,
    publisher: &Keypair,
    index: &Pubkey,
    source: &mut dyn PriceSource,
) -> Result<Option<u64>, ClientError> {
    Metrics::add(&k.metrics.passes, 1);
    let now = k.backend.clock().await?.unix_timestamp;
    let Some((price, conf)) = source.quote(now) else {
        tracing::warn!("price source gave nothing");
        return Ok(None);
    };
    let i = ix::publish_price(&publisher.pubkey(), index, price, conf, now);
    k.send(&[i], &[publisher]).await?;
    Metrics::add(&k.metrics.prices_published, 1);
    Ok(Some(price))
}
