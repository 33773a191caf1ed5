//! Expiry: a series stops trading at its last-trade time, its resting orders are released, its
//! settlement price is fixed once from the index TWAP (or, failing that, posted by the admin
//! within a band), every position is settled exactly once, and the market closes. Balances are
//! checked to the unit and the conservation identity before and after.
#![allow(deprecated)]

use cfx_tests::futures::*;
use cfx_tests::TestContext;
use compute_futures::error::FuturesError as E;
use compute_futures::events::{PositionSettled, SettlementPaid, SettlementPriceFixed};
use compute_futures::state::{MarketStatus, SettlementSource};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signer::Signer;

/// Prints an instruction's compute units and, on the SBF pass, adds them to the CU summary
/// `scripts/test.sh` prints (`CFX_CU_DIR`).
fn report_cu(label: &str, cu: u64) {
    println!("{label}: {cu} CU");
    if let (true, Some(dir)) = (TestContext::sbf(), std::env::var_os("CFX_CU_DIR")) {
        use std::io::Write;
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(std::path::Path::new(&dir).join("expiry.md"))
            .unwrap();
        writeln!(f, "| {label} | {cu} |").unwrap();
    }
}

/// Ticks of an index price in quote units per GPU-hour (the fixture's market: 100 per tick).
fn ticks(index_price: u64) -> u64 {
    index_price / TICK_VALUE
}

/// The settlement PnL of `account`'s position in the current market at `price`.
async fn settlement_pnl(fx: &mut Fx, account: &Pubkey, price: u64) -> i64 {
    let m = fx.margin(account).await;
    let p = m
        .positions
        .iter()
        .find(|p| p.market == fx.market.key)
        .expect("position");
    p.base_lots * (price * TICK_VALUE) as i64 - p.entry_quote
}

/// Publishes `first` over the first half of the settlement window and `second` over the
/// second, every 300 s (five fresh updates inside it), and stops short of expiry.
async fn publish_settlement_window(fx: &mut Fx, first: u64, second: u64) {
    let e = fx.market.expiry;
    fx.t.set_time(e - SETTLE_WINDOW as i64).await;
    fx.publish_all(first).await;
    for k in 1..6 {
        let price = if k < 3 { first } else { second };
        fx.advance(300, price).await;
    }
}

#[tokio::test]
async fn a_series_expires_settles_every_account_once_and_closes() {
    let mut fx = Fx::new().await;
    let e = fx.market.expiry;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let c = fx.trader(1_000 * USD).await;
    let k = fx.trader(10 * USD).await;
    fx.place(&a, order(ASK, POST_ONLY, MID, 10)).await.unwrap();
    fx.place(&a, order(BID, POST_ONLY, MID - 100, 10))
        .await
        .unwrap();
    fx.place(&b, order(BID, IOC, MID, 6)).await.unwrap();
    fx.place(&c, order(ASK, IOC, MID - 100, 4)).await.unwrap();
    fx.place(&c, order(BID, POST_ONLY, MID - 200, 3))
        .await
        .unwrap();
    fx.crank(&[a.account], &k.account, 16).await.unwrap();
    let w = [a.account, b.account, c.account, k.account];
    fx.assert_conserved(&w).await;

    // Still trading: nothing is released and no price can be fixed.
    let i = fx.release_orders_ix(&[a.account], 32);
    fx.refused(&w, &[i], &[], Some(E::StillTrading)).await;

    // Last trade: orders are refused; the resting ones are released, a's at once, c's (not
    // passed) through the queue.
    let now = fx.t.now().await;
    fx.advance(e - 3_600 - now, INDEX_PRICE).await;
    let i = fx.place_ix(&b, order(BID, LIMIT, MID, 1));
    fx.refused(&w, &[i], &[&b.owner], Some(E::MarketClosed))
        .await;
    let i = fx.release_orders_ix(&[a.account], 32);
    fx.t.send(&[i], &[]).await.unwrap();
    let (bids, asks) = fx.book_orders().await;
    assert!(bids.is_empty() && asks.is_empty());
    let slot_a = fx
        .margin(&a.account)
        .await
        .positions
        .into_iter()
        .find(|p| p.market == fx.market.key)
        .unwrap();
    assert_eq!((slot_a.bid_lots, slot_a.ask_lots, slot_a.orders), (0, 0, 0));
    assert_eq!(fx.queue_len().await, 1, "c's order waits for the crank");
    assert_eq!(
        fx.margin(&a.account)
            .await
            .orders
            .iter()
            .filter(|o| o.id() != 0)
            .count(),
        0
    );

    // No price yet: nothing settles.
    let i = fx.settle_ix(&[b.account]);
    fx.refused(&w, &[i], &[], Some(E::SettlementPriceNotFixed))
        .await;

    // The settlement window: $2.60 for 15 minutes, then $2.70. Before expiry: refused.
    publish_settlement_window(&mut fx, 2_600_000, 2_700_000).await;
    let i = fx.fix_settlement_price_ix();
    fx.refused(&[fx.market.key], &[i], &[], Some(E::NotExpired))
        .await;
    fx.advance(360, 2_700_000).await;
    assert!(fx.t.now().await > e);
    let i = fx.fix_settlement_price_ix();
    fx.t.send(&[i], &[]).await.unwrap();
    let price = ticks(2_650_000);
    let m = fx.market_state().await;
    assert_eq!(m.settlement_price, price);
    assert_eq!(m.settlement_source, SettlementSource::Twap as u8);
    assert_eq!(m.status, MarketStatus::Settled as u8);
    if TestContext::sbf() {
        let ev = cfx_tests::events::<SettlementPriceFixed>(&fx.t.last_logs);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].reference_price, 2_650_000);
        assert!(ev[0].fresh_updates >= 5, "{}", ev[0].fresh_updates);
    }
    // Fixed exactly once.
    let i = fx.fix_settlement_price_ix();
    fx.refused(&[fx.market.key], &[i], &[], Some(E::SettlementPriceFixed))
        .await;
    let i = fx.post_settlement_price_ix(&fx.admin.pubkey(), price);
    let admin = fx.admin.insecure_clone();
    fx.refused(
        &[fx.market.key],
        &[i],
        &[&admin],
        Some(E::SettlementPriceFixed),
    )
    .await;

    // What each account is owed or owes at the settlement price.
    let pnl_a = settlement_pnl(&mut fx, &a.account, price).await;
    let pnl_b = settlement_pnl(&mut fx, &b.account, price).await;
    let pnl_c = settlement_pnl(&mut fx, &c.account, price).await;
    assert!(pnl_a < 0 && pnl_b > 0 && pnl_c < 0);
    let before: Vec<i64> = {
        let mut v = Vec::new();
        for x in &w {
            v.push(fx.margin(x).await.collateral);
        }
        v
    };

    // First pass: c (twice), b, the market account itself and k (no position): c pays, b's gain
    // waits for a, the rest is skipped.
    let i = fx.settle_ix(&[c.account, c.account, fx.market.key, b.account, k.account]);
    fx.t.send(&[i], &[]).await.unwrap();
    assert_eq!(
        fx.margin(&c.account).await.collateral,
        before[2] + pnl_c,
        "c pays its loss once"
    );
    let mb = fx.margin(&b.account).await;
    assert_eq!(
        mb.collateral, before[1],
        "b's gain waits for every position"
    );
    let slot_b = mb
        .positions
        .iter()
        .find(|p| p.market == fx.market.key)
        .unwrap();
    assert_eq!((slot_b.base_lots, slot_b.settle_gain), (0, pnl_b as u64));
    assert!(fx
        .margin(&c.account)
        .await
        .positions
        .iter()
        .all(|p| p.market != fx.market.key));
    if TestContext::sbf() {
        let ev = cfx_tests::events::<PositionSettled>(&fx.t.last_logs);
        assert_eq!(ev.len(), 2);
        assert_eq!((ev[0].account, ev[0].net), (c.account, pnl_c));
        assert_eq!((ev[1].account, ev[1].net), (b.account, pnl_b));
    }

    // Second pass: a settles, every position is settled, b is paid in full.
    let i = fx.settle_ix(&[b.account, a.account]);
    fx.t.send(&[i], &[]).await.unwrap();
    assert_eq!(fx.margin(&a.account).await.collateral, before[0] + pnl_a);
    assert_eq!(fx.margin(&b.account).await.collateral, before[1] + pnl_b);
    if TestContext::sbf() {
        let ev = cfx_tests::events::<SettlementPaid>(&fx.t.last_logs);
        assert_eq!(ev.len(), 1);
        assert_eq!((ev[0].gain, ev[0].paid), (pnl_b as u64, pnl_b as u64));
    }
    // Again, in any order: nothing more is paid.
    let snapshot: Vec<i64> = {
        let mut v = Vec::new();
        for x in &w {
            v.push(fx.margin(x).await.collateral);
        }
        v
    };
    let i = fx.settle_ix(&[a.account, b.account, c.account, a.account]);
    fx.t.send(&[i], &[]).await.unwrap();
    for (x, s) in w.iter().zip(&snapshot) {
        assert_eq!(fx.margin(x).await.collateral, *s);
    }
    let m = fx.market_state().await;
    assert_eq!((m.open_interest, m.short_interest), (0, 0));
    assert_eq!(m.settled_accounts, 3);
    assert_eq!((m.settle_owed, m.settle_paid), (pnl_b as u64, pnl_b as u64));
    for x in &w {
        assert!(fx
            .margin(x)
            .await
            .positions
            .iter()
            .all(|p| p.market != fx.market.key));
    }
    // The crank drains what settlement applied; then the books balance.
    fx.crank(&[], &k.account, 16).await.unwrap();
    fx.assert_conserved(&w).await;

    // Closing: refused to anyone but the admin; then the rent goes back.
    let stranger = fx.trader(0).await;
    let i = fx.close_market_ix(&stranger.owner.pubkey());
    fx.refused(
        &[fx.market.key],
        &[i],
        &[&stranger.owner],
        Some(E::NotAdmin),
    )
    .await;
    let rent = fx.t.lamports(&fx.market.key).await
        + fx.t.lamports(&fx.market.book).await
        + fx.t.lamports(&fx.market.queue).await;
    let admin_before = fx.t.lamports(&admin.pubkey()).await;
    let vault_before = fx.t.token_balance(&fx.vault.clone()).await;
    let fees_before = fx.t.token_balance(&fx.fee_vault.clone()).await;
    let m = fx.market_state().await;
    let i = fx.close_market_ix(&admin.pubkey());
    fx.t.send(&[i], &[&admin]).await.unwrap();
    assert_eq!(fx.t.lamports(&admin.pubkey()).await, admin_before + rent);
    assert!(fx.t.account(&fx.market.key).await.is_none());
    assert!(fx.t.account(&fx.market.book).await.is_none());
    assert_eq!(
        fx.t.token_balance(&fx.fee_vault.clone()).await,
        fees_before + m.fees_accrued
    );
    // Every quote unit left in the vault belongs to a margin account.
    let mut sum = 0i64;
    for x in &w {
        sum += fx.margin(x).await.collateral;
    }
    sum += fx.margin(&stranger.account).await.collateral;
    let vault_after = fx.t.token_balance(&fx.vault.clone()).await;
    assert_eq!(vault_after as i64, sum);
    assert!(vault_after < vault_before);
}

#[tokio::test]
async fn the_settlement_price_needs_fresh_updates_or_a_bounded_fallback() {
    let mut fx = Fx::new().await;
    let e = fx.market.expiry;
    let market = fx.market.key;
    let admin = fx.admin.insecure_clone();
    // The index quotes once at the start of the window, then stops.
    fx.t.set_time(e - SETTLE_WINDOW as i64).await;
    fx.publish_all(2_600_000).await;
    fx.t.set_time(e + 10).await;
    let i = fx.fix_settlement_price_ix();
    fx.refused(&[market], &[i], &[], Some(E::TooFewIndexUpdates))
        .await;
    // The fallback waits for its delay and the admin.
    let i = fx.post_settlement_price_ix(&admin.pubkey(), ticks(2_600_000));
    fx.refused(&[market], &[i], &[&admin], Some(E::FallbackTooEarly))
        .await;
    fx.t.set_time(e + 3_600).await;
    let k = fx.trader(0).await;
    let i = fx.post_settlement_price_ix(&k.owner.pubkey(), ticks(2_600_000));
    fx.refused(&[market], &[i], &[&k.owner], Some(E::NotAdmin))
        .await;
    // 5% is the band around the last price the index had ($2.60).
    let reference = ticks(2_600_000);
    for off_band in [reference * 106 / 100, reference * 94 / 100, 0] {
        let i = fx.post_settlement_price_ix(&admin.pubkey(), off_band);
        fx.refused(&[market], &[i], &[&admin], Some(E::FallbackOutsideBand))
            .await;
    }
    let posted = reference * 104 / 100;
    let i = fx.post_settlement_price_ix(&admin.pubkey(), posted);
    fx.t.send(&[i], &[&admin]).await.unwrap();
    let m = fx.market_state().await;
    assert_eq!(m.settlement_price, posted);
    assert_eq!(m.settlement_source, SettlementSource::Fallback as u8);
    if TestContext::sbf() {
        let ev = cfx_tests::events::<SettlementPriceFixed>(&fx.t.last_logs);
        assert_eq!(ev[0].source, SettlementSource::Fallback as u8);
        assert_eq!(ev[0].reference_price, 2_600_000);
    }
    let i = fx.post_settlement_price_ix(&admin.pubkey(), posted);
    fx.refused(&[market], &[i], &[&admin], Some(E::SettlementPriceFixed))
        .await;
    let i = fx.fix_settlement_price_ix();
    fx.refused(&[market], &[i], &[], Some(E::SettlementPriceFixed))
        .await;
}

#[tokio::test]
async fn a_settlement_window_whose_history_left_the_ring_needs_the_bounded_fallback() {
    let mut fx = Fx::new().await;
    let e = fx.market.expiry;
    let market = fx.market.key;
    publish_settlement_window(&mut fx, 2_600_000, 2_600_000).await;
    // Two hours of fresh quotes after expiry push the window out of the 64-minute ring.
    fx.t.set_time(e + 7_200).await;
    fx.publish_all(2_600_000).await;
    let i = fx.fix_settlement_price_ix();
    fx.refused(&[market], &[i], &[], Some(E::SettlementHistoryGone))
        .await;
    // The fallback is bounded by the index now.
    let admin = fx.admin.insecure_clone();
    let reference = ticks(2_600_000);
    let i = fx.post_settlement_price_ix(&admin.pubkey(), reference * 112 / 100);
    fx.refused(&[market], &[i], &[&admin], Some(E::FallbackOutsideBand))
        .await;
    let i = fx.post_settlement_price_ix(&admin.pubkey(), reference * 105 / 100);
    fx.t.send(&[i], &[&admin]).await.unwrap();
    assert_eq!(
        fx.market_state().await.settlement_price,
        reference * 105 / 100
    );
}

#[tokio::test]
async fn an_account_in_bad_debt_at_settlement_is_covered_by_insurance_then_the_winners() {
    let mut fx = Fx::new().await;
    let mut params = market_params(fx.market.expiry + 86_400);
    params.insurance_cap = USD;
    fx.market = fx
        .create_market_with(params, BOOK_CAPACITY, QUEUE_CAPACITY)
        .await
        .unwrap();
    let e = fx.market.expiry;
    // a: long 40 lots at MID ($100 of notional) on $12; b: the short.
    let a = fx.trader(12 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let k = fx.trader(1_000 * USD).await;
    fx.place(&b, order(ASK, POST_ONLY, MID, 40)).await.unwrap();
    fx.place(&a, order(BID, IOC, MID, 40)).await.unwrap();
    fx.crank(&[b.account], &k.account, 8).await.unwrap();
    let i = fx.deposit_insurance_ix(&k.owner.pubkey(), &k.tokens, 50 * USD);
    fx.t.send(&[i], &[&k.owner]).await.unwrap();
    let w = [a.account, b.account, k.account];
    fx.assert_conserved(&w).await;

    // The index falls to $2.00 after the last trade: a owes $20 and has less than $12.
    let now = fx.t.now().await;
    fx.advance(e - 3_600 - now, INDEX_PRICE).await;
    publish_settlement_window(&mut fx, 2_000_000, 2_000_000).await;
    fx.advance(360, 2_000_000).await;
    fx.t.send(&[fx.fix_settlement_price_ix()], &[])
        .await
        .unwrap();
    let price = ticks(2_000_000);
    let pnl_a = settlement_pnl(&mut fx, &a.account, price).await;
    let pnl_b = settlement_pnl(&mut fx, &b.account, price).await;
    let coll_a = fx.margin(&a.account).await.collateral;
    let coll_b = fx.margin(&b.account).await.collateral;
    let unpaid = (-pnl_a - coll_a) as u64;
    // The worked example of docs/compute-futures.md ("Expiry").
    assert_eq!(
        (coll_a, pnl_a, pnl_b),
        (11_899_900, -20_000_000, 20_000_000)
    );
    assert_eq!(unpaid, 8_100_100);
    let insurance_before = fx.t.token_balance(&fx.insurance_vault.clone()).await;

    // b first (its claim waits for a), then a: the insurance fund pays its cap, the rest comes
    // out of b's payout, paid once every position is settled (the end of this instruction).
    let i = fx.settle_ix(&[b.account, a.account]);
    fx.t.send(&[i], &[]).await.unwrap();
    let shortfall = unpaid - USD;
    assert_eq!(shortfall, 7_100_100);
    assert_eq!(fx.margin(&a.account).await.collateral, 0);
    assert_eq!(
        fx.t.token_balance(&fx.insurance_vault.clone()).await,
        insurance_before - USD
    );
    let m = fx.market_state().await;
    assert_eq!(m.settle_shortfall, shortfall);
    assert_eq!(m.settle_owed, pnl_b as u64);
    assert_eq!(
        fx.margin(&b.account).await.collateral,
        coll_b + pnl_b - shortfall as i64
    );
    if TestContext::sbf() {
        let ev = cfx_tests::events::<SettlementPaid>(&fx.t.last_logs);
        assert_eq!(ev[0].paid, pnl_b as u64 - shortfall);
    }
    fx.assert_conserved(&w).await;
}

/// One transaction releases 32 resting orders and one settles 16 accounts; their compute units
/// go to docs/PERFORMANCE.md.
#[tokio::test]
async fn expiry_cranks_release_32_orders_and_settle_16_accounts_per_transaction() {
    let mut fx = Fx::new().await;
    let e = fx.market.expiry;
    let maker = fx.trader(10_000 * USD).await;
    let k = fx.trader(10 * USD).await;
    let mut takers = Vec::new();
    for n in 0..16u64 {
        let t = fx.trader(100 * USD).await;
        fx.place(&maker, order(ASK, POST_ONLY, MID + n, 1))
            .await
            .unwrap();
        fx.place(&t, order(BID, IOC, MID + n, 1)).await.unwrap();
        takers.push(t);
    }
    fx.crank(&[maker.account], &k.account, 64).await.unwrap();
    for n in 0..32u64 {
        fx.place(&maker, order(BID, POST_ONLY, MID - 300 + n, 1))
            .await
            .unwrap();
    }
    let now = fx.t.now().await;
    fx.advance(e - 3_600 - now, INDEX_PRICE).await;
    let i = fx.release_orders_ix(&[maker.account], 32);
    let cu = fx.t.send(&[i], &[]).await.unwrap();
    report_cu("release_orders (32 orders, owner passed)", cu);
    let (bids, asks) = fx.book_orders().await;
    assert_eq!((bids.len(), asks.len()), (0, 0));
    publish_settlement_window(&mut fx, INDEX_PRICE, INDEX_PRICE).await;
    fx.advance(360, INDEX_PRICE).await;
    let cu =
        fx.t.send(&[fx.fix_settlement_price_ix()], &[])
            .await
            .unwrap();
    report_cu("fix_settlement_price", cu);
    let accounts: Vec<Pubkey> = takers.iter().map(|t| t.account).collect();
    let i = fx.settle_ix(&accounts);
    let cu = fx.t.send(&[i], &[]).await.unwrap();
    report_cu("settle_positions (16 accounts)", cu);
    let i = fx.settle_ix(&[maker.account]);
    let cu = fx.t.send(&[i], &[]).await.unwrap();
    report_cu("settle_positions (1 account, pays nothing)", cu);
    let i = fx.settle_ix(&accounts);
    let cu = fx.t.send(&[i], &[]).await.unwrap();
    report_cu("settle_positions (16 claims paid)", cu);
    for t in &takers {
        assert!(fx
            .margin(&t.account)
            .await
            .positions
            .iter()
            .all(|p| p.market != fx.market.key));
    }
    let mut all: Vec<Pubkey> = accounts.clone();
    all.extend([maker.account, k.account]);
    fx.crank(&[], &k.account, 64).await.unwrap();
    fx.assert_conserved(&all).await;
    let admin = fx.admin.insecure_clone();
    let cu =
        fx.t.send(&[fx.close_market_ix(&admin.pubkey())], &[&admin])
            .await
            .unwrap();
    report_cu("close_market", cu);
}

#[tokio::test]
async fn a_weekly_template_lists_series_that_run_their_whole_life() {
    use cfx_risk::series::Schedule;
    use compute_futures::instructions::SeriesTemplateArgs;
    let mut fx = Fx::new().await;
    let admin = fx.admin.insecure_clone();
    let mut name_prefix = [0u8; 16];
    name_prefix[..9].copy_from_slice(b"H100-GPUH");
    let args = SeriesTemplateArgs {
        schedule: 1,
        weekday: 4,
        time_of_day: 16 * 3_600,
        name_prefix,
        last_trade_before: 3_600,
        delivery_cutoff_before: 0,
        physical: false,
        params: market_params(EXPIRY),
    };
    let watch = [fx.exchange];
    // Only the admin, and only a schedule that exists and parameters create_market accepts.
    let k = fx.trader(0).await;
    let (i, _) = fx.create_series_template_ix(&k.owner.pubkey(), 1, args);
    fx.refused(&watch, &[i], &[&k.owner], Some(E::NotAdmin))
        .await;
    for bad in [
        SeriesTemplateArgs { weekday: 7, ..args },
        SeriesTemplateArgs {
            schedule: 3,
            ..args
        },
        SeriesTemplateArgs {
            time_of_day: 86_400,
            ..args
        },
    ] {
        let (i, _) = fx.create_series_template_ix(&admin.pubkey(), 1, bad);
        fx.refused(&watch, &[i], &[&admin], Some(E::WrongSeriesTemplate))
            .await;
    }
    let mut bad = args;
    bad.params.initial_margin_bps = 100;
    let (i, _) = fx.create_series_template_ix(&admin.pubkey(), 1, bad);
    fx.refused(&watch, &[i], &[&admin], Some(E::InvalidMarketParams))
        .await;
    let (i, template) = fx.create_series_template_ix(&admin.pubkey(), 1, args);
    fx.t.send(&[i], &[&admin]).await.unwrap();

    // The client computes the upcoming expiry as the program does: Friday 16:00 UTC.
    let schedule = Schedule::Weekly {
        weekday: 4,
        time_of_day: 16 * 3_600,
    };
    let now = fx.t.now().await;
    let first = schedule.next_expiry(now + 3_600).unwrap();
    let r = fx.list_series(&template, first + 7 * 86_400).await;
    assert_err(r.map(|_| 0), E::WrongSeriesTemplate);
    let m1 = fx.list_series(&template, first).await.unwrap();
    let m2 = fx.list_series(&template, first + 7 * 86_400).await.unwrap();
    let r = fx.list_series(&template, first).await;
    assert!(r.is_err(), "listed once");
    let s1 = fx.market_state_of(&m1.key).await;
    let s2 = fx.market_state_of(&m2.key).await;
    assert_eq!(s1.name, schedule.name(&name_prefix, first).unwrap());
    assert_eq!(&s1.name[..17], b"H100-GPUH-2026W49");
    assert_eq!(&s2.name[..17], b"H100-GPUH-2026W50");
    assert_eq!((s1.expiry_ts, s1.last_trade_ts), (first, first - 3_600));
    assert_eq!(s1.settle_window, SETTLE_WINDOW);
    assert_eq!(s1.initial_margin_bps, args.params.initial_margin_bps);

    // The first series runs its whole life.
    fx.market = m1;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&a, order(ASK, POST_ONLY, MID, 5)).await.unwrap();
    fx.place(&b, order(BID, IOC, MID, 5)).await.unwrap();
    fx.crank(&[a.account], &k.account, 8).await.unwrap();
    let w = [a.account, b.account, k.account];
    fx.assert_conserved(&w).await;
    let now = fx.t.now().await;
    fx.advance(first - 3_600 - now, INDEX_PRICE).await;
    fx.t.send(&[fx.release_orders_ix(&[], 8)], &[])
        .await
        .unwrap();
    publish_settlement_window(&mut fx, 2_400_000, 2_400_000).await;
    fx.advance(360, 2_400_000).await;
    fx.t.send(&[fx.fix_settlement_price_ix()], &[])
        .await
        .unwrap();
    let price = ticks(2_400_000);
    let pnl_a = settlement_pnl(&mut fx, &a.account, price).await;
    let pnl_b = settlement_pnl(&mut fx, &b.account, price).await;
    let (ca, cb) = (
        fx.margin(&a.account).await.collateral,
        fx.margin(&b.account).await.collateral,
    );
    fx.t.send(&[fx.settle_ix(&[a.account, b.account])], &[])
        .await
        .unwrap();
    assert_eq!(fx.margin(&a.account).await.collateral, ca + pnl_a);
    assert_eq!(fx.margin(&b.account).await.collateral, cb + pnl_b);
    assert_eq!(pnl_a, -pnl_b);
    fx.crank(&[], &k.account, 8).await.unwrap();
    fx.assert_conserved(&w).await;
    fx.t.send(&[fx.close_market_ix(&admin.pubkey())], &[&admin])
        .await
        .unwrap();
    assert!(fx.t.account(&fx.market.key).await.is_none());
}

#[tokio::test]
async fn expiry_instructions_refuse_substituted_accounts_and_skip_foreign_ones() {
    let mut fx = Fx::new().await;
    let first = fx.market;
    let other = fx.create_market(EXPIRY + 86_400).await.unwrap();
    let e = first.expiry;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let k = fx.trader(1_000 * USD).await;
    fx.place(&a, order(ASK, POST_ONLY, MID, 5)).await.unwrap();
    fx.place(&b, order(BID, IOC, MID, 5)).await.unwrap();
    fx.crank(&[a.account], &k.account, 8).await.unwrap();
    // k trades only in the other market.
    fx.market = other;
    fx.place(&k, order(BID, POST_ONLY, MID - 100, 2))
        .await
        .unwrap();
    fx.market = first;
    fx.place(&a, order(ASK, POST_ONLY, MID + 100, 1))
        .await
        .unwrap();

    // Past the last trade, liquidation stops.
    let now = fx.t.now().await;
    fx.advance(e - 3_600 - now, INDEX_PRICE).await;
    let i = fx
        .liquidate_position_ix(&k, &b.account, u64::MAX, u64::MAX)
        .await;
    fx.refused(
        &[b.account, k.account],
        &[i],
        &[&k.owner],
        Some(E::PastLastTrade),
    )
    .await;
    // Another market's book or queue.
    let mut i = fx.release_orders_ix(&[a.account], 8);
    i.accounts[1].pubkey = other.book;
    fx.refused(
        &[first.book, other.book],
        &[i],
        &[],
        Some(E::WrongBookAccount),
    )
    .await;
    let mut i = fx.release_orders_ix(&[a.account], 8);
    i.accounts[2].pubkey = other.queue;
    fx.refused(
        &[first.queue, other.queue],
        &[i],
        &[],
        Some(E::WrongBookAccount),
    )
    .await;
    // The other market is still trading: nothing of it can be released.
    fx.market = other;
    let i = fx.release_orders_ix(&[k.account], 8);
    fx.refused(&[other.book], &[i], &[], Some(E::StillTrading))
        .await;
    fx.market = first;
    // A zero limit releases nothing.
    fx.t.send(&[fx.release_orders_ix(&[a.account], 0)], &[])
        .await
        .unwrap();
    assert_eq!(fx.book_orders().await.1.len(), 1);
    fx.t.send(&[fx.release_orders_ix(&[a.account], 8)], &[])
        .await
        .unwrap();

    publish_settlement_window(&mut fx, INDEX_PRICE, INDEX_PRICE).await;
    fx.advance(360, INDEX_PRICE).await;
    // Another index for the price.
    let mut i = fx.fix_settlement_price_ix();
    i.accounts[1].pubkey = fx.exchange;
    fx.refused(&[first.key], &[i], &[], None).await;
    fx.t.send(&[fx.fix_settlement_price_ix()], &[])
        .await
        .unwrap();
    // An overflow-sized fallback is refused as already fixed, never stored.
    let admin = fx.admin.insecure_clone();
    let i = fx.post_settlement_price_ix(&admin.pubkey(), u64::MAX);
    fx.refused(&[first.key], &[i], &[&admin], Some(E::SettlementPriceFixed))
        .await;

    // Settling with the other market's queue is refused; k (no position here) is skipped, and
    // its position in the other market is untouched.
    let mut i = fx.settle_ix(&[a.account, b.account]);
    i.accounts[2].pubkey = other.queue;
    fx.refused(
        &[a.account, b.account],
        &[i],
        &[],
        Some(E::WrongBookAccount),
    )
    .await;
    let k_before = fx.margin(&k.account).await;
    fx.t.send(&[fx.settle_ix(&[k.account, a.account, b.account])], &[])
        .await
        .unwrap();
    let k_after = fx.margin(&k.account).await;
    assert_eq!(k_before.collateral, k_after.collateral);
    assert_eq!(k_before.positions, k_after.positions);
    // The other market cannot be settled or closed yet.
    fx.market = other;
    let i = fx.settle_ix(&[k.account]);
    fx.refused(&[k.account], &[i], &[], Some(E::SettlementPriceNotFixed))
        .await;
    fx.market = first;
    // Closing with the other market's book, or before the queue is drained: refused.
    let mut i = fx.close_market_ix(&admin.pubkey());
    i.accounts[3].pubkey = other.book;
    fx.refused(
        &[first.key, other.book],
        &[i],
        &[&admin],
        Some(E::WrongBookAccount),
    )
    .await;
    if fx.queue_len().await > 0 {
        let i = fx.close_market_ix(&admin.pubkey());
        fx.refused(&[first.key], &[i], &[&admin], Some(E::MarketNotEmpty))
            .await;
    }
    fx.crank(&[a.account], &k.account, 8).await.unwrap();
    fx.t.send(&[fx.close_market_ix(&admin.pubkey())], &[&admin])
        .await
        .unwrap();
}

#[tokio::test]
async fn a_loser_backed_by_another_position_holds_the_payouts_until_its_debt_is_gone() {
    let mut fx = Fx::new().await;
    let first = fx.market;
    let second = fx.create_market(EXPIRY + 86_400).await.unwrap();
    let e = first.expiry;
    let x = fx.trader(12 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let k = fx.trader(1_000 * USD).await;
    fx.place(&b, order(ASK, POST_ONLY, MID, 40)).await.unwrap();
    fx.place(&x, order(BID, IOC, MID, 40)).await.unwrap();
    fx.crank(&[b.account], &k.account, 8).await.unwrap();
    fx.market = second;
    fx.place(&k, order(ASK, POST_ONLY, MID, 1)).await.unwrap();
    let i = fx.place_ix_with(&x, order(BID, IOC, MID, 1), &[first.key]);
    fx.t.send(&[i], &[&x.owner]).await.unwrap();
    fx.crank(&[k.account], &b.account, 8).await.unwrap();
    fx.market = first;
    let w = [x.account, b.account, k.account];
    fx.assert_conserved(&w).await;

    let now = fx.t.now().await;
    fx.advance(e - 3_600 - now, INDEX_PRICE).await;
    publish_settlement_window(&mut fx, 2_000_000, 2_000_000).await;
    fx.advance(360, 2_000_000).await;
    fx.t.send(&[fx.fix_settlement_price_ix()], &[])
        .await
        .unwrap();
    let price = ticks(2_000_000);
    let pnl_b = settlement_pnl(&mut fx, &b.account, price).await;
    let coll_b = fx.margin(&b.account).await.collateral;
    // x owes more than it has, but its position in the other series backs it: held, not
    // written off, and b's claim waits.
    fx.t.send(&[fx.settle_ix(&[x.account, b.account])], &[])
        .await
        .unwrap();
    let mx = fx.margin(&x.account).await;
    assert!(mx.collateral < 0);
    assert_eq!((mx.debt_market, mx.debt_held), (first.key, 1));
    let m = fx.market_state().await;
    assert_eq!((m.bankruptcies_open, m.settle_shortfall), (1, 0));
    assert_eq!(fx.margin(&b.account).await.collateral, coll_b);
    // Withdrawals from x wait too.
    let i = fx.withdraw_ix_with(&x, 1, &[second.key]);
    fx.refused(&[x.account], &[i], &[&x.owner], None).await;
    // x's owner pays the debt back; anyone lifts the hold; b is paid in full.
    fx.deposit(&x, 20 * USD).await.unwrap();
    fx.advance(10, 2_000_000).await;
    let i = fx
        .resolve_bankruptcy_ix_with_health(&x.account, &first.key)
        .await;
    fx.t.send(&[i], &[]).await.unwrap();
    assert_eq!(fx.market_state().await.bankruptcies_open, 0);
    fx.t.send(&[fx.settle_ix(&[b.account])], &[]).await.unwrap();
    assert_eq!(fx.margin(&b.account).await.collateral, coll_b + pnl_b);
}
