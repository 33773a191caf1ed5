//! compute-futures end to end: trading scenarios, collateral, oracle and negative cases. Runs
//! natively and, with SBF_OUT_DIR set, against the SBF binaries.

use cfx_tests::futures::*;
use cfx_tests::{events, TestContext};
use compute_futures::error::FuturesError as E;
use compute_futures::events::{
    CancelledOrder, EventsConsumed, MakerFilled, OrderPlaced, OrdersCancelled,
};
use compute_futures::instructions::{OrderArgs, SelfTradeMode};
use solana_sdk::{instruction::AccountMeta, pubkey::Pubkey, signature::Keypair, signer::Signer};

async fn refused(
    fx: &mut Fx,
    traders: &[&Trader],
    ixs: &[solana_sdk::instruction::Instruction],
    signers: &[&Keypair],
    e: E,
) {
    let keys: Vec<Pubkey> = traders.iter().map(|t| t.account).collect();
    fx.refused(&keys, ixs, signers, Some(e)).await;
}

#[tokio::test]
async fn two_traders_cross_and_the_crank_credits_the_maker() {
    let mut fx = Fx::new().await;
    let maker = fx.trader(10_000 * USD).await;
    let taker = fx.trader(10_000 * USD).await;
    let cranker = fx.trader(0).await;

    // Maker: 10 lots post-only at $2.51; taker lifts 4 of them.
    fx.place(&maker, order(ASK, POST_ONLY, 25_100, 10))
        .await
        .unwrap();
    let (_, asks) = fx.book_orders().await;
    assert_eq!((asks.len(), asks[0].lots, asks[0].price), (1, 10, 25_100));
    let m = fx.margin(&maker.account).await;
    assert_eq!(m.positions[0].ask_lots, 10);

    fx.place(&taker, order(BID, IOC, 25_100, 4)).await.unwrap();
    // Events are logged by the real program only (Anchor's emit! is a no-op natively).
    if TestContext::sbf() {
        let ev = events::<OrderPlaced>(&fx.t.last_logs);
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (ev[0].filled_lots, ev[0].posted_lots, ev[0].taker_fee),
            (4, 0, 10_040)
        );
    }
    // Taker side is final at once: long 4 at 4 × 25_100 × 100 = 10_040_000 ($10.04).
    let notional: i64 = 4 * 25_100 * TICK_VALUE as i64;
    let taker_fee = notional / 1_000; // 10 bps, exact here
    let rebate = notional * 2 / 10_000;
    let t = fx.margin(&taker.account).await;
    assert_eq!(
        (t.positions[0].base_lots, t.positions[0].entry_quote),
        (4, notional)
    );
    assert_eq!(t.collateral, (10_000 * USD) as i64 - taker_fee - 100);
    let ex = fx.market_state().await;
    assert_eq!(ex.fees_accrued as i64, taker_fee - rebate);
    assert_eq!(ex.rebates_reserved as i64, rebate);
    assert_eq!(ex.crank_pool, 100);
    assert_eq!(fx.queue_len().await, 1);
    // The maker is not credited until the crank runs.
    assert_eq!(fx.margin(&maker.account).await.positions[0].base_lots, 0);

    fx.crank(&[maker.account], &cranker.account, 16)
        .await
        .unwrap();
    if TestContext::sbf() {
        let filled = events::<MakerFilled>(&fx.t.last_logs);
        assert_eq!(filled.len(), 1);
        assert_eq!((filled[0].lots, filled[0].maker_fee), (4, -2_008));
        let consumed = events::<EventsConsumed>(&fx.t.last_logs);
        assert_eq!((consumed[0].consumed, consumed[0].reward), (1, 100));
    }
    let m = fx.margin(&maker.account).await;
    assert_eq!(
        (m.positions[0].base_lots, m.positions[0].entry_quote),
        (-4, -notional)
    );
    assert_eq!(m.positions[0].ask_lots, 6);
    assert_eq!(m.collateral, (10_000 * USD) as i64 + rebate);
    assert_eq!(fx.margin(&cranker.account).await.collateral, 100);
    let ex = fx.market_state().await;
    assert_eq!((ex.rebates_reserved, ex.crank_pool), (0, 0));
    let market = fx.market_state().await;
    assert_eq!(market.open_interest, 4);
    assert_eq!(market.last_trade_price, 25_100);
    fx.assert_solvent(&[maker.account, taker.account, cranker.account])
        .await;
}

#[tokio::test]
async fn maker_filled_across_levels_then_closed_with_realized_pnl() {
    let mut fx = Fx::new().await;
    let maker = fx.trader(10_000 * USD).await;
    let taker = fx.trader(10_000 * USD).await;
    for (p, l) in [(25_050, 2), (25_100, 3), (25_200, 5)] {
        fx.place(&maker, order(ASK, LIMIT, p, l)).await.unwrap();
    }
    // Taker buys 7: 2 @ 25_050, 3 @ 25_100, 2 @ 25_200; its limit order rests nothing.
    fx.place(&taker, order(BID, LIMIT, 25_200, 7))
        .await
        .unwrap();
    let value = (2 * 25_050 + 3 * 25_100 + 2 * 25_200) * TICK_VALUE as i64;
    let t = fx.margin(&taker.account).await;
    assert_eq!(
        (t.positions[0].base_lots, t.positions[0].entry_quote),
        (7, value)
    );
    assert_eq!(fx.queue_len().await, 3);
    let (_, asks) = fx.book_orders().await;
    assert_eq!(
        asks.iter().map(|o| (o.price, o.lots)).collect::<Vec<_>>(),
        vec![(25_200, 3)]
    );
    fx.crank(&[maker.account], &taker.account, 16)
        .await
        .unwrap();
    let m = fx.margin(&maker.account).await;
    assert_eq!(
        (m.positions[0].base_lots, m.positions[0].entry_quote),
        (-7, -value)
    );
    assert_eq!(
        m.orders.iter().filter(|o| o.id() != 0).count(),
        1,
        "two maker orders left the book"
    );

    // The taker sells 7 back to a new bid at 25_150: realizes 7 × 25_150 × 100 − value.
    let other = fx.trader(10_000 * USD).await;
    fx.place(&other, order(BID, POST_ONLY, 25_150, 7))
        .await
        .unwrap();
    let before = fx.margin(&taker.account).await.collateral;
    fx.place(&taker, order(ASK, IOC, 25_150, 7)).await.unwrap();
    let t = fx.margin(&taker.account).await;
    let proceeds = 7 * 25_150 * TICK_VALUE as i64;
    let fee = (proceeds + 999) / 1_000;
    assert_eq!(
        t.positions[0].market,
        Pubkey::default(),
        "a flat position frees its slot"
    );
    assert_eq!(t.collateral, before + (proceeds - value) - fee - 100);
    fx.crank(&[other.account], &taker.account, 16)
        .await
        .unwrap();
    fx.assert_solvent(&[maker.account, taker.account, other.account])
        .await;
}

#[tokio::test]
async fn order_types_and_self_trade_prevention() {
    let mut fx = Fx::new().await;
    let a = fx.trader(10_000 * USD).await;
    let b = fx.trader(10_000 * USD).await;
    fx.place(&a, order(ASK, POST_ONLY, 25_100, 5))
        .await
        .unwrap();
    fx.place(&a, order(BID, POST_ONLY, 24_900, 5))
        .await
        .unwrap();
    // Post-only that would cross is refused; slide re-prices behind the best ask.
    let w = [&a, &b];
    let i = fx.place_ix(&b, order(BID, POST_ONLY, 25_100, 1));
    refused(&mut fx, &w, &[i], &[&b.owner], E::PostOnlyWouldCross).await;
    fx.place(&b, order(BID, POST_ONLY_SLIDE, 25_150, 1))
        .await
        .unwrap();
    let (bids, _) = fx.book_orders().await;
    assert_eq!(bids[0].price, 25_099);
    // FOK larger than the ask is refused, unchanged.
    let i = fx.place_ix(&b, order(BID, FOK, 25_100, 6));
    refused(&mut fx, &w, &[i], &[&b.owner], E::WouldNotFill).await;
    // Abort self-trade: a's own bid would hit its own ask.
    let mut o = order(BID, IOC, 25_100, 1);
    o.self_trade = SelfTradeMode::Abort;
    let i = fx.place_ix(&a, o);
    refused(&mut fx, &w, &[i], &[&a.owner], E::SelfTrade).await;
    // Decrement-take: nothing trades, both shrink.
    o.self_trade = SelfTradeMode::DecrementTake;
    fx.place(&a, o).await.unwrap();
    let (_, asks) = fx.book_orders().await;
    assert_eq!(asks[0].lots, 4);
    assert_eq!(fx.margin(&a.account).await.positions[0].base_lots, 0);
    fx.crank(&[a.account], &b.account, 16).await.unwrap();
    assert_eq!(fx.margin(&a.account).await.positions[0].ask_lots, 4);
    // Market order: IOC limited to the band edge (mark + 10%).
    fx.place(&b, order(BID, MARKET, 0, 4)).await.unwrap();
    assert_eq!(fx.margin(&b.account).await.positions[0].base_lots, 4);
    fx.crank(&[a.account], &b.account, 16).await.unwrap();
    // Resting order with time in force expires and is removed when met; its owner, not the
    // taker that removed it, pays the crank for the out event.
    let mut gtd = order(ASK, POST_ONLY, 25_500, 2);
    gtd.time_in_force = 30;
    fx.place(&a, gtd).await.unwrap();
    fx.advance(31, INDEX_PRICE).await;
    let (a0, b0) = (
        fx.margin(&a.account).await.collateral,
        fx.margin(&b.account).await.collateral,
    );
    fx.place(&b, order(BID, IOC, 25_500, 2)).await.unwrap();
    assert_eq!(
        fx.margin(&b.account).await.positions[0].base_lots,
        4,
        "the expired ask did not trade"
    );
    assert_eq!(fx.margin(&b.account).await.collateral, b0, "the taker paid");
    assert_eq!(fx.queue_len().await, 1);
    fx.crank(&[a.account], &b.account, 16).await.unwrap();
    let reward = default_fees().crank_reward as i64;
    assert_eq!(fx.margin(&a.account).await.collateral, a0 - reward);
    assert_eq!(fx.margin(&b.account).await.collateral, b0 + reward);
    let (bids, asks) = fx.book_orders().await;
    assert!(asks.is_empty());
    assert_eq!(bids.len(), 2);
    fx.assert_solvent(&[a.account, b.account]).await;
}

#[tokio::test]
async fn cancels_by_id_client_id_all_and_batch_replace() {
    let mut fx = Fx::new().await;
    let a = fx.trader(10_000 * USD).await;
    let mut ids = Vec::new();
    for (i, p) in [24_800u64, 24_850, 24_900].iter().enumerate() {
        let mut o = order(BID, POST_ONLY, *p, 2);
        o.client_order_id = 10 + i as u64;
        fx.place(&a, o).await.unwrap();
    }
    let (bids, _) = fx.book_orders().await;
    ids.extend(bids.iter().map(|o| o.order_id));
    // Duplicate client id refused.
    let mut dup = order(BID, POST_ONLY, 24_700, 1);
    dup.client_order_id = 10;
    let i = fx.place_ix(&a, dup);
    refused(&mut fx, &[&a], &[i], &[&a.owner], E::DuplicateClientOrderId).await;
    // Cancel by id (the best, 24_900), then by client id 10 (24_800).
    let i = ix(
        fx.cancel_accounts(&a),
        compute_futures::instruction::CancelOrder { order_id: ids[0] },
    );
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    // Each cancel logs one event listing what it removed (the real program only: natively,
    // logged data does not reach the test).
    let logged = |fx: &Fx| {
        let e = events::<OrdersCancelled>(&fx.t.last_logs);
        if !TestContext::sbf() {
            return None;
        }
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].market, e[0].account), (fx.market.key, a.account));
        Some(e[0].orders.clone())
    };
    let lots = |id: u128, client_order_id: u64, lots: u64| CancelledOrder {
        order_id: id,
        client_order_id,
        lots,
    };
    assert!(logged(&fx).is_none_or(|o| o == vec![lots(ids[0], 12, 2)]));
    let i = ix(
        fx.cancel_accounts(&a),
        compute_futures::instruction::CancelOrderByClientId {
            client_order_id: 10,
        },
    );
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    assert!(logged(&fx).is_none_or(|o| o == vec![lots(ids[2], 10, 2)]));
    let (bids, _) = fx.book_orders().await;
    assert_eq!(
        bids.iter().map(|o| o.price).collect::<Vec<_>>(),
        vec![24_850]
    );
    assert_eq!(fx.margin(&a.account).await.positions[0].bid_lots, 2);
    // Unknown id refused, unchanged.
    let i = ix(
        fx.cancel_accounts(&a),
        compute_futures::instruction::CancelOrder { order_id: ids[0] },
    );
    refused(&mut fx, &[&a], &[i], &[&a.owner], E::OrderNotFound).await;
    // Cancel-all-and-place: one order replaced by a two-sided quote.
    let quotes = vec![
        order(BID, POST_ONLY, 24_950, 3),
        order(ASK, POST_ONLY, 25_050, 3),
    ];
    let i = ix(
        fx.place_accounts(&a, &a.owner.pubkey()),
        compute_futures::instruction::CancelAllAndPlace { orders: quotes },
    );
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    assert!(logged(&fx).is_none_or(|o| o == vec![lots(ids[1], 11, 2)]));
    let (bids, asks) = fx.book_orders().await;
    assert_eq!(
        (bids.len(), asks.len(), bids[0].price, asks[0].price),
        (1, 1, 24_950, 25_050)
    );
    let m = fx.margin(&a.account).await;
    assert_eq!((m.positions[0].bid_lots, m.positions[0].ask_lots), (3, 3));
    // Cancel all.
    let i = ix(
        fx.cancel_accounts(&a),
        compute_futures::instruction::CancelAllOrders {},
    );
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    if let Some(cancelled) = logged(&fx) {
        let listed: Vec<_> = cancelled
            .iter()
            .map(|o| ((o.order_id >> 64) as u64, o.lots))
            .collect();
        assert_eq!(listed, vec![(24_950, 3), (25_050, 3)]);
    }
    let (bids, asks) = fx.book_orders().await;
    assert!(bids.is_empty() && asks.is_empty());
    let m = fx.margin(&a.account).await;
    assert_eq!(m.positions[0].market, Pubkey::default());
    assert!(m.orders.iter().all(|o| o.id() == 0));
}

#[tokio::test]
async fn collateral_withdraw_respects_initial_margin_and_delegate_cannot_withdraw() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    // a goes long 100 lots at $2.50: notional $250, initial margin 10% = $25.
    fx.place(&b, order(ASK, POST_ONLY, MID, 100)).await.unwrap();
    fx.place(&a, order(BID, IOC, MID, 100)).await.unwrap();
    fx.crank(&[b.account], &a.account, 16).await.unwrap();
    let c = fx.margin(&a.account).await.collateral as u64;
    // Everything above the requirement can go; one unit more cannot.
    let req = 100 * MID * TICK_VALUE / 10;
    let i = fx.withdraw_ix(&a, &a.owner.pubkey(), c - req + 1);
    refused(&mut fx, &[&a], &[i], &[&a.owner], E::InsufficientMargin).await;
    let i = fx.withdraw_ix(&a, &a.owner.pubkey(), c - req);
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    assert_eq!(fx.margin(&a.account).await.collateral as u64, req);
    // A delegate may trade but not withdraw.
    let d = Keypair::new();
    let i = ix(
        compute_futures::accounts::SetDelegate {
            owner: a.owner.pubkey(),
            account: a.account,
        },
        compute_futures::instruction::SetDelegate {
            delegate: d.pubkey(),
        },
    );
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    let i = fx.withdraw_ix(&a, &d.pubkey(), 1);
    let keys = fx.watched(&[a.account]);
    let before = fx.t.snapshot(&keys).await;
    assert!(fx.t.send(&[i], &[&d]).await.is_err());
    assert_eq!(fx.t.snapshot(&keys).await, before);
    let i = ix(
        fx.place_accounts(&a, &d.pubkey()),
        compute_futures::instruction::PlaceOrder {
            args: order(ASK, IOC, MID, 1),
        },
    );
    // No bid left: the IOC simply does nothing, but it is accepted from the delegate.
    fx.t.send(&[i], &[&d]).await.unwrap();
    // A stranger may not.
    let s = Keypair::new();
    let i = ix(
        fx.place_accounts(&a, &s.pubkey()),
        compute_futures::instruction::PlaceOrder {
            args: order(ASK, IOC, MID, 1),
        },
    );
    refused(&mut fx, &[&a], &[i], &[&s], E::NotAuthorized).await;
    // Unrealized profit is not withdrawable: the index jumps 50%, the band drags the mark up with
    // it (a's long is $87.50 in profit), yet nothing more can leave.
    fx.advance(10, INDEX_PRICE * 3 / 2).await;
    let idx_ticks = MID * 3 / 2;
    assert!(fx.margin(&a.account).await.positions[0].base_lots == 100 && idx_ticks > MID);
    let i = fx.withdraw_ix(&a, &a.owner.pubkey(), 1);
    refused(&mut fx, &[&a], &[i], &[&a.owner], E::InsufficientMargin).await;
}

#[tokio::test]
async fn oracle_refusals() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    // Unauthorized publisher.
    let stranger = Keypair::new();
    let now = fx.t.now().await;
    let i = fx.publish_ix(&stranger.pubkey(), INDEX_PRICE, 10, now);
    refused(&mut fx, &[&a], &[i], &[&stranger], E::NotPublisher).await;
    // A quote from the future, and one older than the publisher's last.
    let p0 = fx.publishers[0].insecure_clone();
    let i = fx.publish_ix(&p0.pubkey(), INDEX_PRICE, 10, now + 5);
    refused(&mut fx, &[&a], &[i], &[&p0], E::InvalidQuote).await;
    let i = fx.publish_ix(&p0.pubkey(), INDEX_PRICE, 10, now - 5);
    refused(&mut fx, &[&a], &[i], &[&p0], E::QuoteOutOfOrder).await;
    // A quote as old as the staleness limit (60 s) is refused on arrival, by another publisher.
    let p1 = fx.publishers[1].insecure_clone();
    let i = fx.publish_ix(&p1.pubkey(), INDEX_PRICE, 10, now - 60);
    refused(&mut fx, &[&a], &[i], &[&p1], E::InvalidQuote).await;
    // Stale: two minutes without quotes, orders are refused.
    fx.t.set_time(now + 120).await;
    let i = fx.place_ix(&a, order(BID, POST_ONLY, MID, 1));
    refused(&mut fx, &[&a], &[i], &[&a.owner], E::StaleOracle).await;
    // One fresh publisher is not enough (three required): the quote is stored, the index not
    // updated.
    let i = fx.publish_ix(&p0.pubkey(), INDEX_PRICE, 10, now + 120);
    fx.t.send(&[i], &[&p0]).await.unwrap();
    assert_eq!(fx.index_state().await.last_update, now);
    let i = fx.place_ix(&a, order(BID, POST_ONLY, MID, 1));
    refused(&mut fx, &[&a], &[i], &[&a.owner], E::StaleOracle).await;
    // Wide confidence keeps the index stale too: with p0 tight and p1, p2 at 5%, the three fresh
    // quotes' median confidence is 5%, above the 2% limit.
    let p2 = fx.publishers[2].insecure_clone();
    for p in [&p1, &p2] {
        let i = fx.publish_ix(&p.pubkey(), INDEX_PRICE, INDEX_PRICE * 5 / 100, now + 120);
        fx.t.send(&[i], &[p]).await.unwrap();
    }
    assert_eq!(fx.index_state().await.last_update, now);
    // Tight quotes bring it back; trading resumes; the TWAP has the history.
    fx.advance(1, INDEX_PRICE).await;
    fx.place(&a, order(BID, POST_ONLY, MID, 1)).await.unwrap();
    let idx = fx.index_state().await;
    assert_eq!(idx.price, INDEX_PRICE);
    assert_eq!(idx.twap().twap_recent(now + 121, 60), Ok(INDEX_PRICE));
}

#[tokio::test]
async fn negative_cases_leave_everything_unchanged() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&b, order(ASK, POST_ONLY, 25_100, 5))
        .await
        .unwrap();
    let w = [&a, &b];
    // Price outside the 10% band around the mark, zero-sized and overflow-sized orders.
    for (args, e) in [
        (order(BID, LIMIT, MID * 2, 1), E::PriceOutsideBand),
        (order(BID, LIMIT, MID / 2, 1), E::PriceOutsideBand),
        (order(BID, LIMIT, u64::MAX, 1), E::PriceOutsideBand),
        (order(BID, LIMIT, MID, 0), E::OrderTooSmall),
        (order(BID, POST_ONLY, MID, u64::MAX), E::InvalidQuantity),
        (order(BID, POST_ONLY, MID, 2_000), E::PositionLimit),
        (
            OrderArgs {
                reduce_only: true,
                ..order(BID, IOC, MID, 1)
            },
            E::ReduceOnlyWouldIncrease,
        ),
        (
            OrderArgs {
                reduce_only: true,
                ..order(BID, POST_ONLY, MID, 1)
            },
            E::ReduceOnlyCannotRest,
        ),
    ] {
        let i = fx.place_ix(&a, args);
        refused(&mut fx, &w, &[i], &[&a.owner], e).await;
    }
    // A side, order type or self-trade mode outside its enum: the bytes after the
    // discriminator are side, order type, price (8), lots (8), client id (8), time in force (4),
    // reduce-only, self-trade mode.
    for (offset, byte) in [(8, 7u8), (9, 9), (8 + 2 + 24 + 4 + 1, 3)] {
        let mut i = fx.place_ix(&a, order(BID, LIMIT, MID, 1));
        i.data[offset] = byte;
        let keys: Vec<Pubkey> = w.iter().map(|t| t.account).collect();
        fx.refused_code(
            &keys,
            &[i],
            &[&a.owner],
            anchor_lang::error::ErrorCode::InstructionDidNotDeserialize as u32,
        )
        .await;
    }
    // Not enough collateral for the initial margin: $1 cannot carry 10 lots ($2.50 required).
    let poor = fx.trader(USD).await;
    let i = fx.place_ix(&poor, order(BID, POST_ONLY, MID, 10));
    refused(
        &mut fx,
        &[&poor],
        &[i],
        &[&poor.owner],
        E::InsufficientMargin,
    )
    .await;
    // Substituted accounts: another market's book and queue, another account's margin account.
    let other = fx.create_market(fx.market.expiry + 86_400).await.unwrap();
    let signer = a.owner.pubkey();
    let cases = [
        (
            compute_futures::accounts::PlaceOrder {
                book: other.book,
                ..fx.place_accounts(&a, &signer)
            },
            E::WrongBookAccount,
        ),
        (
            compute_futures::accounts::PlaceOrder {
                event_queue: other.queue,
                ..fx.place_accounts(&a, &signer)
            },
            E::WrongBookAccount,
        ),
        (
            compute_futures::accounts::PlaceOrder {
                account: b.account,
                ..fx.place_accounts(&a, &signer)
            },
            E::NotAuthorized,
        ),
    ];
    for (accs, e) in cases {
        let i = ix(
            accs,
            compute_futures::instruction::PlaceOrder {
                args: order(BID, IOC, 25_100, 1),
            },
        );
        refused(&mut fx, &w, &[i], &[&a.owner], e).await;
    }
    // The book passed as the event queue too.
    let mut accs = fx.place_accounts(&a, &a.owner.pubkey());
    accs.event_queue = fx.market.book;
    let i = ix(
        accs,
        compute_futures::instruction::PlaceOrder {
            args: order(BID, IOC, 25_100, 1),
        },
    );
    let keys = fx.watched(&[a.account, b.account]);
    let before = fx.t.snapshot(&keys).await;
    assert!(fx.t.send(&[i], &[&a.owner]).await.is_err());
    assert_eq!(fx.t.snapshot(&keys).await, before);
    // Paused exchange: no orders, no deposits; then unpaused.
    let admin = fx.admin.insecure_clone();
    let pause = |p: bool| {
        ix(
            compute_futures::accounts::UpdateExchange {
                admin: admin.pubkey(),
                exchange: fx.exchange,
            },
            compute_futures::instruction::UpdateExchange {
                fees: None,
                paused: Some(p),
            },
        )
    };
    let (on, off) = (pause(true), pause(false));
    fx.t.send(&[on], &[&admin]).await.unwrap();
    let i = fx.place_ix(&a, order(BID, IOC, 25_100, 1));
    refused(&mut fx, &w, &[i], &[&a.owner], E::ExchangePaused).await;
    let i = fx.deposit_ix(&a, 1);
    refused(&mut fx, &w, &[i], &[&a.owner], E::ExchangePaused).await;
    // Only the admin can unpause.
    let mut i = off.clone();
    i.accounts[0] = AccountMeta::new_readonly(a.owner.pubkey(), true);
    refused(&mut fx, &w, &[i], &[&a.owner], E::NotAdmin).await;
    fx.t.send(&[off], &[&admin]).await.unwrap();
    fx.place(&a, order(BID, IOC, 25_100, 1)).await.unwrap();
    fx.place(&b, order(BID, POST_ONLY, 24_500, 1))
        .await
        .unwrap();
    // Close-only market: only reduce-only orders.
    let i = ix(
        compute_futures::accounts::SetMarketStatus {
            admin: admin.pubkey(),
            exchange: fx.exchange,
            market: fx.market.key,
        },
        compute_futures::instruction::SetMarketStatus { status: 1 },
    );
    fx.t.send(&[i], &[&admin]).await.unwrap();
    let i = fx.place_ix(&a, order(BID, IOC, 25_100, 1));
    refused(&mut fx, &w, &[i], &[&a.owner], E::MarketClosed).await;
    fx.place(
        &a,
        OrderArgs {
            reduce_only: true,
            ..order(ASK, LIMIT, 24_500, 5)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        fx.margin(&a.account).await.positions[0].market,
        Pubkey::default(),
        "reduce-only closed 1 lot, clamped"
    );
}

#[tokio::test]
async fn crank_stops_at_a_missing_maker_and_never_blocks_others() {
    let mut fx = Fx::new().await;
    let m1 = fx.trader(1_000 * USD).await;
    let m2 = fx.trader(1_000 * USD).await;
    let t = fx.trader(1_000 * USD).await;
    fx.place(&m1, order(ASK, POST_ONLY, 25_100, 1))
        .await
        .unwrap();
    fx.place(&m2, order(ASK, POST_ONLY, 25_200, 1))
        .await
        .unwrap();
    fx.place(&t, order(BID, IOC, 25_200, 2)).await.unwrap();
    assert_eq!(fx.queue_len().await, 2);
    // Without m1's account nothing is consumed (queue order), and nothing fails.
    fx.crank(&[m2.account], &t.account, 16).await.unwrap();
    assert_eq!(fx.queue_len().await, 2);
    // A wrong account (the taker's) is skipped the same way.
    fx.crank(&[t.account], &t.account, 16).await.unwrap();
    assert_eq!(fx.queue_len().await, 2);
    // With m1 only, its event goes; then m2's.
    fx.crank(&[m1.account], &t.account, 16).await.unwrap();
    assert_eq!(fx.queue_len().await, 1);
    fx.crank(&[m2.account, m1.account], &t.account, 16)
        .await
        .unwrap();
    assert_eq!(fx.queue_len().await, 0);
    fx.assert_solvent(&[m1.account, m2.account, t.account])
        .await;
}

#[tokio::test]
async fn crank_survives_a_cancel_after_a_partial_fill_and_a_fee_change() {
    let mut fx = Fx::new().await;
    let maker = fx.trader(1_000 * USD).await;
    let taker = fx.trader(1_000 * USD).await;
    fx.place(&maker, order(ASK, POST_ONLY, 25_100, 5))
        .await
        .unwrap();
    // Partial fill (event pending), then the maker cancels the rest before any crank.
    fx.place(&taker, order(BID, IOC, 25_100, 2)).await.unwrap();
    let i = ix(
        fx.cancel_accounts(&maker),
        compute_futures::instruction::CancelAllOrders {},
    );
    fx.t.send(&[i], &[&maker.owner]).await.unwrap();
    let m = fx.margin(&maker.account).await;
    assert!(m.orders.iter().all(|o| o.id() == 0));
    assert_eq!(
        m.positions[0].ask_lots, 2,
        "the filled lots stay reserved until the crank"
    );
    // The admin doubles the rebate and cuts the crank reward tenfold before the crank: the
    // maker still gets the rate of the fill and the crank the reward the taker paid for it.
    let admin = fx.admin.insecure_clone();
    let charged = default_fees().crank_reward;
    let fees = compute_futures::instructions::FeeSchedule {
        maker_fee_bps: -4,
        crank_reward: charged / 10,
        ..default_fees()
    };
    let i = fx.set_fees_ix(&admin.pubkey(), fees);
    fx.t.send(&[i], &[&admin]).await.unwrap();
    let before = fx.margin(&taker.account).await.collateral;
    assert_eq!(fx.market_state().await.crank_pool, charged);
    fx.crank(&[maker.account], &taker.account, 8).await.unwrap();
    assert_eq!(fx.queue_len().await, 0);
    assert_eq!(
        fx.margin(&taker.account).await.collateral - before,
        charged as i64
    );
    assert_eq!(fx.market_state().await.crank_pool, 0);
    let m = fx.margin(&maker.account).await;
    let notional = 2 * 25_100 * TICK_VALUE as i64;
    assert_eq!((m.positions[0].base_lots, m.positions[0].ask_lots), (-2, 0));
    assert_eq!(m.collateral, (1_000 * USD) as i64 + notional * 2 / 10_000);
    assert_eq!(fx.market_state().await.rebates_reserved, 0);
    fx.assert_solvent(&[maker.account, taker.account]).await;
    // The maker can close out and its account then holds nothing reserved.
    fx.place(&taker, order(ASK, POST_ONLY, 25_200, 2))
        .await
        .unwrap();
    fx.place(&maker, order(BID, IOC, 25_200, 2)).await.unwrap();
    fx.crank(&[taker.account], &maker.account, 8).await.unwrap();
    let m = fx.margin(&maker.account).await;
    assert!(m.positions.iter().all(|p| p.market == Pubkey::default()));
    fx.assert_solvent(&[maker.account, taker.account]).await;
}
