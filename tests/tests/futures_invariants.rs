//! Random multi-trader run over two markets (seeded, bounded): orders of every type, cancels,
//! cranks, clock moves, deposits and withdrawals. After every crank that empties the queues: the
//! vault equals collateral plus fees, reserved rebates and crank pool (net of entry notionals);
//! per market, positions sum to zero, open interest equals the sum of longs, and every account's
//! orders and reservations match the book.

use std::collections::HashMap;

use cfx_tests::futures::*;
use compute_futures::instructions::OrderArgs;
use compute_futures::instructions::SelfTradeMode;

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
