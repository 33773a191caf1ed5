//! The keeper against a faulty backend — RPC errors, failed sends, dropped and late-landing
//! transactions, expired blockhashes — retries, recovers and ends exactly where a clean run ends;
//! a transaction that lands late is never sent twice.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use cfx_client::backend::Backend;
use cfx_client::faulty::{Faults, FaultyBackend};
use cfx_client::ix::{self, OrderKind, OrderSide};
use cfx_client::sender::{send, SendConfig};
use cfx_keeper::roles;
use cfx_keeper::{Keeper, Metrics};
use common::*;
use solana_sdk::signer::Signer;

fn quick() -> SendConfig {
    SendConfig {
        attempts: 3,
        confirm_timeout: Duration::from_millis(300),
        poll_interval: Duration::from_millis(2),
        ..SendConfig::default()
    }
}

fn faulty(
    fx: &Fx,
    faults: Faults,
    seed: u64,
) -> Keeper<FaultyBackend<Arc<cfx_client::bank::BankBackend>>> {
    Keeper {
        backend: Arc::new(FaultyBackend::new(fx.b.clone(), faults, seed)),
        payer: fx.keeper.payer.insecure_clone(),
        account: fx.keeper.account,
        exchange: fx.keeper.exchange,
        markets: Vec::new(),
        send: quick(),
        metrics: Arc::new(Metrics::default()),
        max_per_pass: 64,
    }
}

#[tokio::test]
async fn a_transaction_that_lands_late_is_not_sent_again() {
    let fx = Fx::new().await;
    let t = fx.trader(10 * USD).await;
    // Every transaction lands but shows as landed only after 20 status checks: each attempt
    // times out, and before resending the sender finds the earlier one landed.
    let late = FaultyBackend::new(
        fx.b.clone(),
        Faults {
            late: 1_000,
            late_polls: 20,
            ..Faults::default()
        },
        7,
    );
    let before = fx.margin(&t.account).await.collateral;
    let i = ix::deposit(
        &t.owner.pubkey(),
        &fx.s.exchange,
        &t.account,
        &t.tokens,
        USD,
    );
    let sent = send(&late, &quick(), &t.owner, &[], &[i]).await.unwrap();
    assert!(sent.attempts >= 1);
    assert_eq!(
        fx.margin(&t.account).await.collateral,
        before + USD as i64,
        "deposited once"
    );
    assert_eq!(late.injected.late.load(Relaxed), 1, "sent once");
}

/// Trades, a thin-margin long, an index drop and the series' expiry; then keeper passes (through
/// `keeper`) until nothing is left to do. Returns the end state: every account's collateral, the
/// market's counters.
async fn scenario(fx: &Fx, keeper: &Keeper<impl Backend>) -> (Vec<i64>, (u64, u64, u64, u64)) {
    let mut traders = Vec::new();
    for _ in 0..6 {
        traders.push(fx.trader(200 * USD).await);
    }
    let thin = fx.trader(12 * USD).await;
    for (n, t) in traders.iter().enumerate().take(3) {
        fx.place(t, OrderSide::Ask, OrderKind::PostOnly, MID + n as u64, 20)
            .await;
    }
    fx.place(
        &thin,
        OrderSide::Bid,
        OrderKind::ImmediateOrCancel,
        MID + 1,
        40,
    )
    .await;
    fx.place(
        &traders[3],
        OrderSide::Bid,
        OrderKind::ImmediateOrCancel,
        MID + 2,
        15,
    )
    .await;
    fx.place(
        &traders[4],
        OrderSide::Bid,
        OrderKind::PostOnly,
        MID - 50,
        10,
    )
    .await;
    let mut ids = HashMap::new();
    for _ in 0..20 {
        let _ = roles::crank_pass(keeper, &mut ids).await;
    }
    // The index drops 16%: the thin long is liquidated.
    fx.advance(30, INDEX * 84 / 100).await;
    for _ in 0..20 {
        let _ = roles::liquidation_pass(keeper).await;
        let _ = roles::crank_pass(keeper, &mut ids).await;
    }
    // Expiry at $2.30.
    let now = fx.b.clock().await.unwrap().unix_timestamp;
    fx.advance(EXPIRY - 1_800 - now, 2_300_000).await;
    for _ in 0..6 {
        fx.advance(300, 2_300_000).await;
    }
    fx.advance(60, 2_300_000).await;
    for _ in 0..20 {
        let _ = roles::expiry_pass(keeper, &mut ids).await;
        let _ = roles::liquidation_pass(keeper).await;
    }
    let mut balances = Vec::new();
    for t in traders.iter().chain([&thin]) {
        balances.push(fx.margin(&t.account).await.collateral);
    }
    balances.push(fx.margin(&fx.keeper.account).await.collateral);
    let m = fx.market().await;
    assert_eq!(
        (m.open_interest, m.short_interest),
        (0, 0),
        "every position settled"
    );
    assert_eq!(m.settle_claimed, m.settle_owed, "every claim paid");
    assert_eq!(fx.queue_len().await, 0);
    (
        balances,
        (
            m.settlement_price,
            m.settled_accounts,
            m.settle_paid,
            m.fees_accrued,
        ),
    )
}

#[tokio::test]
async fn keeper_roles_under_faults_end_where_a_clean_run_ends() {
    let clean_fx = Fx::new().await;
    let clean = scenario(&clean_fx, &clean_fx.keeper).await;
    let fx = Fx::new().await;
    let faults = Faults {
        read_error: 80,
        send_error: 80,
        dropped: 80,
        late: 80,
        late_polls: 6,
        expired: 80,
    };
    let k = faulty(&fx, faults, 0x5eed);
    let end = scenario(&fx, &k).await;
    assert_eq!(end, clean);
    let injected = &k.backend.injected;
    let total = injected.read_errors.load(Relaxed)
        + injected.send_errors.load(Relaxed)
        + injected.dropped.load(Relaxed)
        + injected.late.load(Relaxed)
        + injected.expired.load(Relaxed);
    assert!(total > 10, "faults were injected: {injected:?}");
    assert!(Metrics::get(&k.metrics.liquidations) >= 1);
}
