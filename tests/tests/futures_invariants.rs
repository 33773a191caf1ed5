//! Random multi-trader run over two markets (seeded, bounded): orders of every type, cancels,
//! cranks, clock moves, deposits and withdrawals. After every crank that empties the queues: the
//! vault equals collateral plus fees, reserved rebates and crank pool (net of entry notionals);
//! per market, positions sum to zero, open interest equals the sum of longs, and every account's
//! orders and reservations match the book.

use std::collections::HashMap;

use cfx_tests::futures::*;
use compute_futures::instructions::OrderArgs;
use compute_futures::instructions::SelfTradeMode;
use solana_sdk::signer::Signer;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Checks every market (each queue empty) and the exchange as a whole.
async fn check(fx: &mut Fx, markets: &[MarketFx], traders: &[Trader], ids: &HashMap<u32, usize>) {
    let keys: Vec<_> = traders.iter().map(|t| t.account).collect();
    for m in markets {
        fx.market = *m;
        check_market(fx, traders, ids).await;
    }
    fx.assert_solvent(&keys).await;
}

/// One market: book uncrossed, each trader's reservations and order slots match its orders on
/// the book, positions sum to zero, open interest is the sum of longs.
async fn check_market(fx: &mut Fx, traders: &[Trader], ids: &HashMap<u32, usize>) {
    assert_eq!(fx.queue_len().await, 0);
    let (bids, asks) = fx.book_orders().await;
    if let (Some(b), Some(a)) = (bids.first(), asks.first()) {
        assert!(b.price < a.price, "book crossed");
    }
    let mut resting = vec![(0u64, 0u64, 0usize); traders.len()];
    for o in bids.iter().chain(asks.iter()) {
        let r = &mut resting[ids[&o.owner]];
        if o.side == cfx_book::Side::Bid {
            r.0 += o.lots;
        } else {
            r.1 += o.lots;
        }
        r.2 += 1;
    }
    let mut longs = 0u64;
    let mut net = 0i64;
    for (i, t) in traders.iter().enumerate() {
        let m = fx.margin(&t.account).await;
        let slot = m.positions.iter().position(|p| p.market == fx.market.key);
        let p = slot.map(|s| m.positions[s]);
        let (bid_lots, ask_lots) = p.map(|p| (p.bid_lots, p.ask_lots)).unwrap_or((0, 0));
        assert_eq!(
            (bid_lots, ask_lots),
            (resting[i].0, resting[i].1),
            "reservations of trader {i}"
        );
        let own: Vec<_> = m
            .orders
            .iter()
            .filter(|o| o.id() != 0 && Some(o.position as usize) == slot)
            .collect();
        assert_eq!(own.len(), resting[i].2, "order slots of trader {i}");
        for o in own {
            assert!(
                bids.iter().chain(asks.iter()).any(|b| b.order_id == o.id()),
                "stale order slot"
            );
        }
        longs += p.map(|p| p.base_lots.max(0) as u64).unwrap_or(0);
        net += p.map(|p| p.base_lots).unwrap_or(0);
    }
    assert_eq!(net, 0, "positions of the market do not sum to zero");
    assert_eq!(
        fx.market_state().await.open_interest_pending,
        0,
        "pending open interest left after the crank"
    );
    assert_eq!(
        fx.market_state().await.open_interest,
        longs,
        "open interest"
    );
}

#[tokio::test]
async fn random_multi_trader_run_keeps_invariants() {
    let mut fx = Fx::new().await;
    // Two series of the same class: traders hold positions in both, so every trade and
    // withdrawal also checks margin across markets.
    let second = fx.create_market(fx.market.expiry + 86_400).await.unwrap();
    let markets = [fx.market, second];
    let mut traders = Vec::new();
    let mut ids = HashMap::new();
    for i in 0..4 {
        let t = fx.trader(5_000 * USD).await;
        ids.insert(fx.margin(&t.account).await.id, i);
        traders.push(t);
    }
    let keys: Vec<_> = traders.iter().map(|t| t.account).collect();
    let mut rng = Rng(0x5eed_cf0c_u64);
    let mut price_index = INDEX_PRICE;
    let mut ok = 0;
    for step in 0..200 {
        let who = rng.below(4) as usize;
        fx.market = markets[rng.below(2) as usize];
        match rng.below(10) {
            0..=5 => {
                let side = [BID, ASK][rng.below(2) as usize];
                let ot = [LIMIT, LIMIT, POST_ONLY, POST_ONLY_SLIDE, IOC, FOK, MARKET]
                    [rng.below(7) as usize];
                let mid = price_index / TICK_VALUE;
                // Across the whole ±3% price band, edges included.
                let price = mid - 750 + rng.below(1_501);
                let mut o: OrderArgs = order(side, ot, price, 1 + rng.below(5));
                o.self_trade = [
                    SelfTradeMode::DecrementTake,
                    SelfTradeMode::CancelResting,
                    SelfTradeMode::Abort,
                ][rng.below(3) as usize];
                o.time_in_force = if rng.below(4) == 0 {
                    1 + rng.below(20) as u32
                } else {
                    0
                };
                o.reduce_only = rng.below(8) == 0;
                o.client_order_id = rng.below(1_000);
                let tr = &traders[who];
                let others = fx.health_markets(&tr.account, Some(fx.market.key)).await;
                let i = fx.place_ix_with(tr, o, &others);
                if fx.t.send(&[i], &[&tr.owner]).await.is_ok() {
                    ok += 1;
                }
            }
            6 => {
                let tr = &traders[who];
                let i = ix(
                    fx.cancel_accounts(tr),
                    compute_futures::instruction::CancelAllOrders {},
                );
                fx.t.send(&[i], &[&tr.owner]).await.unwrap();
            }
            7 => {
                price_index = price_index * (990 + rng.below(21)) / 1_000;
                fx.advance(1 + rng.below(10) as i64, price_index).await;
            }
            8 => {
                let tr = &traders[who];
                let amount = 1 + rng.below(50 * USD);
                if rng.below(2) == 0 {
                    fx.deposit(tr, amount).await.unwrap();
                } else {
                    // May be refused by margin; either way state stays consistent.
                    let all = fx.health_markets(&tr.account, None).await;
                    let i = fx.withdraw_ix_with(tr, amount, &all);
                    let _ = fx.t.send(&[i], &[&tr.owner]).await;
                }
            }
            _ => {}
        }
        if step % 4 == 3 {
            for m in markets {
                fx.market = m;
                while fx.queue_len().await > 0 {
                    fx.crank(&keys, &traders[0].account, 64).await.unwrap();
                }
            }
            check(&mut fx, &markets, &traders, &ids).await;
        }
    }
    assert!(ok > 50, "only {ok} orders went through");
    let two = {
        let mut n = 0;
        for t in &traders {
            n += (fx.health_markets(&t.account, None).await.len() == 2) as usize;
        }
        n
    };
    println!("{ok} orders placed; {two} traders hold both markets at the end");
    assert!(two > 0, "the run never exercised cross-market margin");
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Liquidates every account below maintenance (orders first, then each position), and resolves
/// every bankrupt account. Returns (liquidations, bankruptcies resolved).
async fn keeper_pass(
    fx: &mut Fx,
    markets: &[MarketFx],
    traders: &[Trader],
    keeper: &Trader,
) -> (u64, u64) {
    let (mut liquidations, mut resolved) = (0, 0);
    let keys: Vec<_> = markets.iter().map(|m| m.key).collect();
    for t in traders {
        let held = fx.health_markets(&t.account, None).await;
        if held.is_empty() {
            continue;
        }
        let cache = fx.off_chain_cache(&t.account, &held).await;
        if cache
            .health(cfx_risk::margin::HealthKind::Maintenance)
            .unwrap()
            >= 0
        {
            continue;
        }
        for m in markets {
            if !held.contains(&m.key) {
                continue;
            }
            fx.market = *m;
            let acc = fx.margin(&t.account).await;
            let slot = acc.positions.iter().find(|p| p.market == m.key).unwrap();
            if slot.orders > 0 {
                let i = fx.liquidate_orders_ix(&keeper.owner.pubkey(), &t.account);
                let _ = fx.t.send(&[i], &[&keeper.owner]).await;
            }
            let long = slot.base_lots > 0;
            if slot.base_lots == 0 {
                continue;
            }
            let limit = if long { u64::MAX } else { 0 };
            if fx
                .liquidate_position(keeper, &t.account, u64::MAX, limit)
                .await
                .is_ok()
            {
                liquidations += 1;
            }
        }
    }
    for t in traders {
        let acc = fx.margin(&t.account).await;
        let bankrupt = acc.positions.iter().all(|p| p.market == Default::default());
        if acc.debt_held != 0 && (acc.collateral >= 0 || !bankrupt) {
            // Paid back or recovered: anyone lifts the market's withdrawal hold (refused while
            // the account's solvency is below zero).
            let i = fx
                .resolve_bankruptcy_ix_with_health(&t.account, &acc.debt_market)
                .await;
            let _ = fx.t.send(&[i], &[]).await;
            continue;
        }
        if acc.collateral < 0 && acc.positions.iter().all(|p| p.market == Default::default()) {
            let market = acc.debt_market;
            assert!(keys.contains(&market), "bad debt attributed to no market");
            let i = fx.resolve_bankruptcy_ix(&t.account, &market);
            if fx.t.send(&[i], &[]).await.is_ok() {
                resolved += 1;
            }
        }
    }
    (liquidations, resolved)
}

/// Seeded random run over two markets with index shocks of up to ±30%: orders, cancels,
/// deposits, withdrawals, cranks, liquidations and bankruptcies; after every step (queues
/// cranked empty) the conservation identity holds exactly, bad debt outstanding or not, and each
/// market's lots sum to zero. `CFX_RUN_STEPS`, `CFX_RUN_ACCOUNTS` and `CFX_RUN_SEED` make it
/// longer (docs/PERFORMANCE.md reports a 20,000-step run over 50 accounts).
#[tokio::test]
async fn random_run_with_liquidations_and_bankruptcies_conserves_every_unit() {
    let steps = env_or("CFX_RUN_STEPS", 2_000);
    let n = env_or("CFX_RUN_ACCOUNTS", 20) as usize;
    let seed = env_or("CFX_RUN_SEED", 0x0b4d_deb7_u64);
    let mut fx = Fx::new().await;
    let mut params = market_params(fx.market.expiry);
    params.max_position_lots = 20_000;
    params.max_open_interest = 200_000;
    params.expiry_ts += 2 * 86_400;
    params.last_trade_ts += 2 * 86_400;
    let first = fx
        .create_market_with(params, BOOK_CAPACITY, QUEUE_CAPACITY)
        .await
        .unwrap();
    // The second series' insurance pays at most $5 a day: past that, losses are socialized.
    params.expiry_ts += 86_400;
    params.last_trade_ts += 86_400;
    params.insurance_cap = 5 * USD;
    let second = fx
        .create_market_with(params, BOOK_CAPACITY, QUEUE_CAPACITY)
        .await
        .unwrap();
    let markets = [first, second];
    let keeper = fx.trader(1_000_000 * USD).await;
    let funder = fx.trader(0).await;
    let i = fx.deposit_insurance_ix(&funder.owner.pubkey(), &funder.tokens, 50 * USD);
    fx.t.send(&[i], &[&funder.owner]).await.unwrap();
    let mut traders = Vec::new();
    let mut rng = Rng(seed | 1);
    for _ in 0..n {
        let deposit = (10 + rng.below(60)) * USD;
        traders.push(fx.trader(deposit).await);
    }
    let mut all: Vec<_> = traders.iter().map(|t| t.account).collect();
    all.push(keeper.account);
    let mut by_id = HashMap::new();
    for a in &all {
        by_id.insert(fx.margin(a).await.id, *a);
    }
    let mut index_price = INDEX_PRICE;
    let (mut orders, mut liquidations, mut bankruptcies, mut shocks) = (0u64, 0u64, 0u64, 0u64);
    for _ in 0..steps {
        let who = rng.below(n as u64) as usize;
        fx.market = markets[rng.below(2) as usize];
        match rng.below(20) {
            0..=11 => {
                let tr = &traders[who];
                let mark = fx.prices_of(&fx.market.key.clone()).await.mark;
                let side = [BID, ASK][rng.below(2) as usize];
                let ot = [LIMIT, POST_ONLY, IOC, MARKET][rng.below(4) as usize];
                // Within the ±3% band around the mark.
                let price = mark - mark * 280 / 10_000 + rng.below(mark * 560 / 10_000);
                let mut o = order(side, ot, price, 1 + rng.below(150));
                o.reduce_only = rng.below(10) == 0;
                // Some orders expire: their outs (paid by their owners) meet liquidations too.
                o.time_in_force = if rng.below(4) == 0 {
                    1 + rng.below(30) as u32
                } else {
                    0
                };
                let others = fx.health_markets(&tr.account, Some(fx.market.key)).await;
                let i = fx.place_ix_with(tr, o, &others);
                if fx.t.send(&[i], &[&tr.owner]).await.is_ok() {
                    orders += 1;
                }
            }
            12 => {
                let tr = &traders[who];
                let i = ix(
                    fx.cancel_accounts(tr),
                    compute_futures::instruction::CancelAllOrders {},
                );
                fx.t.send(&[i], &[&tr.owner]).await.unwrap();
            }
            13 | 14 => {
                // Mostly small moves; now and then a shock anywhere within ±30% of the start.
                index_price = if rng.below(5) == 0 {
                    shocks += 1;
                    INDEX_PRICE * (70 + rng.below(61)) / 100
                } else {
                    index_price * (990 + rng.below(21)) / 1_000
                };
                fx.advance(1 + rng.below(60) as i64, index_price).await;
            }
            15 => {
                let tr = &traders[who];
                let amount = 1 + rng.below(30 * USD);
                if rng.below(2) == 0 {
                    fx.deposit(tr, amount).await.unwrap();
                } else {
                    let held = fx.health_markets(&tr.account, None).await;
                    let i = fx.withdraw_ix_with(tr, amount, &held);
                    let _ = fx.t.send(&[i], &[&tr.owner]).await;
                }
            }
            _ => {
                let (l, b) = keeper_pass(&mut fx, &markets, &traders, &keeper).await;
                liquidations += l;
                bankruptcies += b;
            }
        }
        for m in markets {
            fx.market = m;
            while fx.queue_len().await > 0 {
                // The makers of the queued events, at most 20 a transaction.
                let mut makers: Vec<_> = Vec::new();
                for id in fx.queue_owners().await {
                    let a = by_id[&id];
                    if !makers.contains(&a) && makers.len() < 20 {
                        makers.push(a);
                    }
                }
                fx.crank(&makers, &keeper.account, 64).await.unwrap();
            }
        }
        fx.assert_conserved(&all).await;
    }
    // Wind down: liquidate and resolve until no account is left in bad debt.
    fx.advance(1, index_price).await;
    for _ in 0..4 {
        let (l, b) = keeper_pass(&mut fx, &markets, &traders, &keeper).await;
        liquidations += l;
        bankruptcies += b;
        fx.assert_conserved(&all).await;
    }
    let mut socialized = 0;
    for m in markets {
        socialized += fx.market_state_of(&m.key).await.socialized_total;
    }
    for t in &traders {
        let acc = fx.margin(&t.account).await;
        let flat = acc.positions.iter().all(|p| p.base_lots == 0);
        assert!(
            acc.collateral >= 0 || !flat,
            "bad debt left unresolved: {}",
            acc.collateral
        );
    }
    println!(
        "steps {steps}, accounts {n}, seed {seed:#x}: {orders} orders, {shocks} index shocks, \
         {liquidations} liquidations, {bankruptcies} bankruptcies resolved, {socialized} native \
         units socialized, conservation violations 0"
    );
    assert!(liquidations > 0, "the run never liquidated");
    assert!(bankruptcies > 0, "the run never went bankrupt");

    // Expiry: each series in turn stops trading, has its orders released, its price fixed,
    // every account settled and paid, and closes; the identity holds after each.
    let mut settled = 0;
    for m in markets {
        fx.market = m;
        let e = m.expiry;
        let now = fx.t.now().await;
        fx.advance(e - 3_600 - now, index_price).await;
        loop {
            let (bids, asks) = fx.book_orders().await;
            if bids.is_empty() && asks.is_empty() {
                break;
            }
            let mut owners = Vec::new();
            for o in bids.iter().chain(&asks) {
                let a = by_id[&o.owner];
                if !owners.contains(&a) && owners.len() < 20 {
                    owners.push(a);
                }
            }
            fx.t.send(&[fx.release_orders_ix(&owners, 64)], &[])
                .await
                .unwrap();
        }
        fx.t.set_time(e - SETTLE_WINDOW as i64).await;
        fx.publish_all(index_price).await;
        for _ in 0..6 {
            fx.advance(300, index_price).await;
        }
        fx.t.send(&[fx.fix_settlement_price_ix()], &[])
            .await
            .unwrap();
        for pass in 0..3 {
            for chunk in all.chunks(16) {
                fx.t.send(&[fx.settle_ix(chunk)], &[]).await.unwrap();
            }
            keeper_pass(&mut fx, &markets, &traders, &keeper).await;
            if pass == 1 {
                // An account this market still holds, in debt and backed by a position in the
                // other series, pays its debt back (its owner deposits): payouts wait for it.
                for t in &traders {
                    let acc = fx.margin(&t.account).await;
                    if acc.debt_held != 0 && acc.debt_market == m.key && acc.collateral < 0 {
                        let owed = acc.collateral.unsigned_abs() + USD;
                        fx.deposit(t, owed).await.unwrap();
                    }
                }
                keeper_pass(&mut fx, &markets, &traders, &keeper).await;
            }
            fx.market = m;
            while fx.queue_len().await > 0 {
                fx.crank(&[], &keeper.account, 64).await.unwrap();
            }
        }
        let st = fx.market_state().await;
        assert_eq!((st.open_interest, st.short_interest), (0, 0));
        assert_eq!(st.settle_claimed, st.settle_owed, "every claim paid");
        for a in &all {
            assert!(fx
                .margin(a)
                .await
                .positions
                .iter()
                .all(|p| p.market != m.key));
        }
        fx.assert_conserved(&all).await;
        settled += st.settled_accounts;
        let admin = fx.admin.insecure_clone();
        fx.t.send(&[fx.close_market_ix(&admin.pubkey())], &[&admin])
            .await
            .unwrap();
        fx.markets.retain(|k| *k != m.key);
        fx.assert_conserved(&all).await;
    }
    println!("expiry: {settled} positions settled over both series, both closed");
}
