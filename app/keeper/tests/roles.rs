//! The keeper's roles on the in-process bank (natively, or on the SBF binaries with
//! `SBF_OUT_DIR`): the crank drains queues and continues after a restart, the liquidator finds
//! and liquidates an account after an index move, the expiry role settles a whole market.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use cfx_client::backend::Backend;
use cfx_client::ix::{OrderKind, OrderSide};
use cfx_client::sender::SendConfig;
use cfx_keeper::roles;
use cfx_keeper::{Keeper, Metrics};
use common::*;
use solana_sdk::signer::Signer;

#[tokio::test]
async fn the_crank_drains_the_queue_and_a_restarted_keeper_continues_where_it_stopped() {
    let fx = Fx::new().await;
    // 25 makers, one ask each, all taken: 25 fills from 25 makers (more than one transaction's
    // accounts).
    let taker = fx.trader(1_000 * USD).await;
    for n in 0..25 {
        let maker = fx.trader(100 * USD).await;
        fx.place(&maker, OrderSide::Ask, OrderKind::PostOnly, MID + n, 1)
            .await;
    }
    fx.place(
        &taker,
        OrderSide::Bid,
        OrderKind::ImmediateOrCancel,
        MID + 30,
        25,
    )
    .await;
    assert_eq!(fx.queue_len().await, 25);
    // One transaction: 20 makers' events, then the keeper stops.
    let mut ids = HashMap::new();
    let n = roles::crank_market(&fx.keeper, &fx.m.market, &mut ids, 1)
        .await
        .unwrap();
    assert_eq!(n, 20);
    assert_eq!(fx.queue_len().await, 5);
    let earned = Metrics::get(&fx.keeper.metrics.rewards_earned);
    assert_eq!(earned, 20 * 100, "the crank reward of each event");
    // A new keeper process (nothing carried over) drains the rest, and nothing is applied twice:
    // every maker holds exactly its one short lot.
    let restarted = Keeper {
        backend: fx.keeper.backend.clone(),
        payer: fx.keeper.payer.insecure_clone(),
        account: fx.keeper.account,
        exchange: fx.keeper.exchange,
        markets: vec![],
        send: SendConfig::default(),
        metrics: Arc::new(Metrics::default()),
        max_per_pass: 64,
    };
    let n = roles::crank_pass(&restarted, &mut HashMap::new())
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(fx.queue_len().await, 0);
    let m = fx.market().await;
    assert_eq!((m.open_interest, m.short_interest), (25, 25));
    let keeper_acc = fx.margin(&fx.keeper.account).await;
    assert_eq!(keeper_acc.collateral, (1_000 * USD + 25 * 100) as i64);
}

#[tokio::test]
async fn the_liquidator_liquidates_after_the_index_moves() {
    let fx = Fx::new().await;
    // a: long 40 lots at MID ($100 of notional) on $12; b the short.
    let a = fx.trader(12 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&b, OrderSide::Ask, OrderKind::PostOnly, MID, 40)
        .await;
    fx.place(&a, OrderSide::Bid, OrderKind::ImmediateOrCancel, MID, 40)
        .await;
    roles::crank_pass(&fx.keeper, &mut HashMap::new())
        .await
        .unwrap();
    // Healthy: the pass finds nothing.
    let p = roles::liquidation_pass(&fx.keeper).await.unwrap();
    assert_eq!((p.candidates, p.liquidations), (0, 0));
    // The index falls 16%: a is below maintenance; one pass liquidates it.
    fx.advance(30, INDEX * 84 / 100).await;
    let p = roles::liquidation_pass(&fx.keeper).await.unwrap();
    assert_eq!((p.candidates, p.liquidations), (1, 1));
    let acc = fx.margin(&a.account).await;
    let lots = acc
        .positions
        .iter()
        .find(|s| s.market == fx.m.market)
        .map(|s| s.base_lots)
        .unwrap_or(0);
    assert!(lots < 40, "a still holds {lots} lots");
    let mine = fx.margin(&fx.keeper.account).await;
    assert_eq!(
        mine.positions
            .iter()
            .find(|s| s.market == fx.m.market)
            .unwrap()
            .base_lots,
        40 - lots
    );
    assert_eq!(Metrics::get(&fx.keeper.metrics.liquidations), 1);
}

#[tokio::test]
async fn the_expiry_role_settles_a_whole_market() {
    let fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&a, OrderSide::Ask, OrderKind::PostOnly, MID, 10)
        .await;
    fx.place(&b, OrderSide::Bid, OrderKind::ImmediateOrCancel, MID, 6)
        .await;
    fx.place(&b, OrderSide::Bid, OrderKind::PostOnly, MID - 100, 3)
        .await;
    // Trading stops; the settlement window at $2.60; expiry passes.
    let now = fx.b.clock().await.unwrap().unix_timestamp;
    fx.advance(EXPIRY - 1_800 - now, 2_600_000).await;
    for _ in 0..6 {
        fx.advance(300, 2_600_000).await;
    }
    fx.advance(60, 2_600_000).await;
    let coll_b = fx.margin(&b.account).await.collateral;
    let mut ids = HashMap::new();
    let p = roles::expiry_pass(&fx.keeper, &mut ids).await.unwrap();
    assert_eq!(p.released, 2, "a's ask (4 lots left) and b's bid");
    assert_eq!(p.fixed, 1);
    let m = fx.market().await;
    assert_eq!(m.settlement_price, 26_000);
    assert_eq!((m.open_interest, m.short_interest), (0, 0));
    assert_eq!(m.settle_claimed, m.settle_owed, "every claim paid");
    assert_eq!(fx.queue_len().await, 0);
    // b bought 6 at 25,000 and is paid 6 × 1,000 × 100.
    assert_eq!(fx.margin(&b.account).await.collateral, coll_b + 600_000);
    for t in [&a, &b] {
        assert!(fx
            .margin(&t.account)
            .await
            .positions
            .iter()
            .all(|s| s.market != fx.m.market));
    }
    // A second pass finds nothing left to do.
    let again = roles::expiry_pass(&fx.keeper, &mut ids).await.unwrap();
    assert_eq!((again.fixed, again.settled), (0, 0));
}

#[tokio::test]
async fn decoders_and_book_views_read_what_the_program_wrote() {
    use cfx_client::decode::book;
    use cfx_client::views::{margin_view, Level};
    let fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&a, OrderSide::Bid, OrderKind::PostOnly, MID - 10, 3)
        .await;
    fx.place(&a, OrderSide::Bid, OrderKind::PostOnly, MID - 10, 4)
        .await;
    fx.place(&a, OrderSide::Bid, OrderKind::PostOnly, MID - 20, 5)
        .await;
    fx.place(&a, OrderSide::Ask, OrderKind::PostOnly, MID + 10, 6)
        .await;
    let data = fx.b.get_account(&fx.m.book).await.unwrap().unwrap().data;
    let orders = book(&data, &fx.m.market).unwrap();
    let l2 = orders.l2(10);
    assert_eq!(
        l2.bids,
        vec![
            Level {
                price: MID - 10,
                lots: 7,
                orders: 2
            },
            Level {
                price: MID - 20,
                lots: 5,
                orders: 1
            }
        ]
    );
    assert_eq!(
        l2.asks,
        vec![Level {
            price: MID + 10,
            lots: 6,
            orders: 1
        }]
    );
    let acc_a = fx.margin(&a.account).await;
    assert_eq!(orders.orders_of(acc_a.id).count(), 4);
    // Another market's key does not decode this book.
    assert!(book(&data, &fx.m.event_queue).is_err());
    // b sells into a's best bid: one fill queued for maker a.
    fx.place(
        &b,
        OrderSide::Ask,
        OrderKind::ImmediateOrCancel,
        MID - 10,
        2,
    )
    .await;
    let q =
        fx.b.get_account(&fx.m.event_queue)
            .await
            .unwrap()
            .unwrap()
            .data;
    let events = cfx_client::decode::event_queue(&q, &fx.m.market).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].owner(), acc_a.id);
    assert!(!events[0].owner_applied);
    // The margin view's health is the program's: b's compute_health return data agrees.
    let market = fx.market().await;
    let index: compute_futures::state::PriceIndex =
        cfx_client::decode::zero_copy(&fx.b.get_account(&fx.m.index).await.unwrap().unwrap().data)
            .unwrap();
    let now = fx.b.clock().await.unwrap().unix_timestamp;
    let acc_b = fx.margin(&b.account).await;
    let view = margin_view(
        &b.account,
        &acc_b,
        &[(fx.m.market, market)],
        &[(fx.m.index, index)],
        now,
    );
    let h = view.health.expect("health");
    assert_eq!(view.positions.len(), 1);
    assert_eq!(view.positions[0].base_lots, -2);
    assert!(h.initial < h.maintenance && h.maintenance < h.equity);
    let i = cfx_client::ix::compute_health(&b.account, &[(fx.m.market, fx.m.index)]);
    let blockhash = fx.b.latest_blockhash().await.unwrap();
    let tx = solana_sdk::transaction::Transaction::new_signed_with_payer(
        &[i],
        Some(&fx.s.admin.pubkey()),
        &[&fx.s.admin],
        blockhash,
    );
    let sim = fx.b.simulate(&tx).await.unwrap();
    assert!(sim.err.is_none(), "{:?}", sim.logs);
    let bytes = sim.return_data.expect("return data");
    let report: compute_futures::instructions::HealthReport =
        anchor_lang::AnchorDeserialize::deserialize(&mut &bytes[..]).unwrap();
    assert_eq!(report.initial, h.initial);
    assert_eq!(report.maintenance, h.maintenance);
}
