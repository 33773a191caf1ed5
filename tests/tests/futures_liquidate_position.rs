//! Liquidation proper and bad debt: a liquidator takes over lots of an account below maintenance
//! at the penalty price (`liquidate_position`), exact to the unit; an account left with negative
//! collateral is made whole by the insurance fund up to the market's cap and the rest is
//! socialized over the opposite side, each position paying once (`resolve_bankruptcy`). The
//! conservation identity is checked after every step, with bad debt outstanding too.
#![allow(deprecated)]

use cfx_risk::liquidation::{lots_to_liquidate, penalty_price, penalty_split};
use cfx_risk::margin::HealthKind;
use cfx_tests::futures::*;
use cfx_tests::TestContext;
use compute_futures::error::FuturesError as E;
use compute_futures::events::{InsuranceDrawn, LossSocialized, SocializedLossPaid};
use solana_sdk::instruction::AccountMeta;
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
            .open(std::path::Path::new(&dir).join("liquidation.md"))
            .unwrap();
        writeln!(f, "| {label} | {cu} |").unwrap();
    }
}

/// a: long 40 lots at MID ($100 of notional) on $12, bought from b; k: a liquidator with $1,000.
async fn long_on_thin_margin(fx: &mut Fx) -> (Trader, Trader, Trader) {
    let a = fx.trader(12 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let k = fx.trader(1_000 * USD).await;
    fx.place(&b, order(ASK, POST_ONLY, MID, 40)).await.unwrap();
    fx.place(&a, order(BID, IOC, MID, 40)).await.unwrap();
    fx.crank(&[b.account], &k.account, 8).await.unwrap();
    (a, b, k)
}

#[tokio::test]
async fn a_liquidation_takes_the_fewest_lots_at_the_penalty_price_exact_to_the_unit() {
    let mut fx = Fx::new().await;
    let (a, b, k) = long_on_thin_margin(&mut fx).await;
    let market = fx.market.key;
    let w = [a.account, b.account, k.account];
    fx.assert_solvent(&w).await;

    // Healthy: refused.
    let i = fx
        .liquidate_position_ix(&k, &a.account, u64::MAX, u64::MAX)
        .await;
    fx.refused(&w, &[i], &[&k.owner], Some(E::NotLiquidatable))
        .await;

    // a rests a bid; the index falls 16% and the mark follows to the edge of its band.
    fx.place(&a, order(BID, POST_ONLY, MID - 500, 2))
        .await
        .unwrap();
    fx.advance(30, INDEX_PRICE * 84 / 100).await;
    let report = fx.compute_health(&a.account, &[market]).await.unwrap();
    assert!(report.maintenance < 0, "{report:?}");
    // Resting orders first.
    let i = fx
        .liquidate_position_ix(&k, &a.account, u64::MAX, u64::MAX)
        .await;
    fx.refused(&w, &[i], &[&k.owner], Some(E::LiquidateOrdersFirst))
        .await;
    let i = fx.liquidate_orders_ix(&k.owner.pubkey(), &a.account);
    let cu = fx.t.send(&[i], &[&k.owner]).await.unwrap();
    report_cu("liquidate_orders (one order)", cu);

    // Refusals, each changing nothing.
    // A limit the penalty price does not meet (the liquidator buys a's long).
    let i = fx.liquidate_position_ix(&k, &a.account, u64::MAX, 1).await;
    fx.refused(&w, &[i], &[&k.owner], Some(E::LiquidationPriceLimit))
        .await;
    // Liquidating oneself, and an account of one's own owner.
    let i = fx
        .liquidate_position_ix(&a, &a.account, u64::MAX, u64::MAX)
        .await;
    fx.refused(&w, &[i], &[&a.owner], Some(E::SelfLiquidation))
        .await;
    let a2 = fx.second_account(&a, 1, 500 * USD).await;
    let w2 = [a.account, b.account, k.account, a2.account];
    let i = fx
        .liquidate_position_ix(&a2, &a.account, u64::MAX, u64::MAX)
        .await;
    fx.refused(&w2, &[i], &[&a.owner], Some(E::SelfLiquidation))
        .await;
    // A liquidator that would end below initial margin.
    let poor = fx.trader(USD / 10).await;
    let w3 = [a.account, b.account, k.account, a2.account, poor.account];
    let i = fx
        .liquidate_position_ix(&poor, &a.account, u64::MAX, u64::MAX)
        .await;
    fx.refused(&w3, &[i], &[&poor.owner], Some(E::InsufficientMargin))
        .await;
    // Signed by someone who may not trade the liquidator's account.
    let mut i = fx
        .liquidate_position_ix(&k, &a.account, u64::MAX, u64::MAX)
        .await;
    i.accounts[0].pubkey = b.owner.pubkey();
    fx.refused(&w, &[i], &[&b.owner], Some(E::NotAuthorized))
        .await;
    // Substituted queue, index, market and account; a liquidator that did not sign.
    let other = fx.create_market(fx.market.expiry + 86_400).await.unwrap();
    let base = fx
        .liquidate_position_ix(&k, &a.account, u64::MAX, u64::MAX)
        .await;
    let mismatch = anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch as u32;
    let with = |f: &dyn Fn(&mut Vec<AccountMeta>)| {
        let mut i = base.clone();
        f(&mut i.accounts);
        i
    };
    let cases = [
        (
            with(&|m| m[5].pubkey = other.queue),
            code(E::WrongBookAccount),
        ),
        (
            with(&|m| m[4] = AccountMeta::new_readonly(b.account, false)),
            mismatch,
        ),
        (
            with(&|m| m[3].pubkey = other.key),
            code(E::WrongBookAccount),
        ),
        (
            with(&|m| m[3] = AccountMeta::new(a.account, false)),
            mismatch,
        ),
        (with(&|m| m[2].pubkey = b.account), code(E::NotLiquidatable)),
    ];
    for (i, expected) in cases {
        fx.refused_code(&w, &[i], &[&k.owner], expected).await;
    }
    let unsigned = with(&|m| m[0].is_signer = false);
    fx.refused_code(
        &w,
        &[unsigned],
        &[],
        anchor_lang::error::ErrorCode::AccountNotSigner as u32,
    )
    .await;
    let i = fx.liquidate_position_ix(&k, &a.account, 0, u64::MAX).await;
    fx.refused(&w, &[i], &[&k.owner], Some(E::ZeroAmount)).await;
    // A stale index.
    let now = fx.t.now().await;
    fx.t.set_time(now + 120).await;
    let i = fx
        .liquidate_position_ix(&k, &a.account, u64::MAX, u64::MAX)
        .await;
    fx.refused(&w, &[i], &[&k.owner], Some(E::StaleOracle))
        .await;
    fx.advance(1, INDEX_PRICE * 84 / 100).await;

    // What the liquidation must do, computed off-chain by lib/risk from decoded accounts.
    let cache = fx.off_chain_cache(&a.account, &[market]).await;
    let prices = fx.prices_of(&market).await;
    let m = fx.market_state().await;
    let risk = cache.positions()[0];
    let liq_end = cache.health(HealthKind::LiquidationEnd).unwrap();
    assert!(liq_end < 0);
    let price = penalty_price(prices.mark, m.liq_penalty_bps, true).unwrap();
    let lots = lots_to_liquidate(&risk, liq_end, &m.liquidation_params(), price).unwrap();
    assert!(lots > 0 && lots < 40, "a partial liquidation: {lots}");
    // The worked example of docs/compute-futures.md.
    assert_eq!(
        (prices.index, prices.mark, price, lots),
        (21_000, 23_100, 22_523, 25)
    );
    assert_eq!(liq_end, -3_092_100);
    let (insurance, reward) = penalty_split(
        prices.mark,
        price,
        lots,
        TICK_VALUE,
        m.liq_insurance_share_bps,
    )
    .unwrap();
    assert_eq!((insurance, reward), (432_750, 1_009_750));
    // The program's own plan, as a keeper computes it from the same decoded accounts.
    let plan = compute_futures::health::plan_liquidation(&cache, 0, &m, prices.mark, u64::MAX)
        .unwrap()
        .expect("liquidatable");
    assert_eq!(
        (
            plan.long,
            plan.price,
            plan.lots,
            plan.insurance,
            plan.liquidator_share
        ),
        (true, price, lots, insurance, reward)
    );
    let (a_before, k_before) = (fx.margin(&a.account).await, fx.margin(&k.account).await);

    // A cap below the computed size takes just that.
    fx.liquidate_position(&k, &a.account, 3, u64::MAX)
        .await
        .unwrap();
    assert_eq!(fx.margin(&a.account).await.positions[0].base_lots, 37);
    fx.assert_conserved(&w3).await;
    // Then the rest of what is needed, with the liquidator's limit met exactly.
    let cache = fx.off_chain_cache(&a.account, &[market]).await;
    let rest = lots_to_liquidate(
        &cache.positions()[0],
        cache.health(HealthKind::LiquidationEnd).unwrap(),
        &m.liquidation_params(),
        price,
    )
    .unwrap();
    assert_eq!(rest, lots - 3);
    let cu = fx
        .liquidate_position(&k, &a.account, u64::MAX, price)
        .await
        .unwrap();
    fx.assert_conserved(&w3).await;
    // A one-series liquidation fits 20,000 CU on the SBF build (docs/PERFORMANCE.md).
    report_cu("liquidate_position (one series, 22 lots)", cu);
    if cfx_tests::TestContext::sbf() {
        assert!(cu <= 20_000, "liquidate_position used {cu} CU");
    }

    let (a_after, k_after) = (fx.margin(&a.account).await, fx.margin(&k.account).await);
    assert_eq!(a_after.positions[0].base_lots, 40 - lots as i64);
    let kp = &k_after.positions[0];
    assert_eq!(kp.market, market);
    assert_eq!(kp.base_lots, lots as i64);
    assert_eq!(
        kp.entry_quote as u128,
        price as u128 * lots as u128 * TICK_VALUE as u128
    );
    // The liquidator paid the insurance share (twice rounded up, once per call at most one
    // unit more than once over all lots); the fund received exactly what it paid.
    let (ins3, _) = penalty_split(prices.mark, price, 3, TICK_VALUE, 3_000).unwrap();
    let (ins_rest, _) = penalty_split(prices.mark, price, lots - 3, TICK_VALUE, 3_000).unwrap();
    assert_eq!(
        k_before.collateral - k_after.collateral,
        (ins3 + ins_rest) as i64
    );
    assert!(ins3 + ins_rest - insurance <= 1);
    let m_after = fx.market_state().await;
    assert_eq!(m_after.insurance_accrued, ins3 + ins_rest);
    // a sold at the penalty price: realized exactly that against its entry.
    let entry_closed = (MID * lots * TICK_VALUE) as i64;
    assert_eq!(
        a_after.collateral - a_before.collateral,
        (price * lots * TICK_VALUE) as i64 - entry_closed
    );
    // Back at liquidation-end health, and no longer liquidatable.
    let report = fx.compute_health(&a.account, &[market]).await.unwrap();
    assert!(report.liquidation_end >= 0, "{report:?}");
    assert!(report.maintenance >= 0);
    let i = fx
        .liquidate_position_ix(&k, &a.account, u64::MAX, u64::MAX)
        .await;
    fx.refused(&w, &[i], &[&k.owner], Some(E::NotLiquidatable))
        .await;
    // The insurance share moves to the insurance vault (anyone).
    let vault_before = fx.t.token_balance(&fx.insurance_vault.clone()).await;
    let i = fx.sweep_insurance_ix(&market);
    let cu = fx.t.send(&[i], &[]).await.unwrap();
    report_cu("sweep_insurance", cu);
    assert_eq!(
        fx.t.token_balance(&fx.insurance_vault.clone()).await,
        vault_before + ins3 + ins_rest
    );
    assert_eq!(fx.market_state().await.insurance_accrued, 0);
    fx.assert_solvent(&w3).await;
}

#[tokio::test]
async fn a_liquidation_applies_the_accounts_queued_fills_first() {
    let mut fx = Fx::new().await;
    let a = fx.trader(12 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let k = fx.trader(1_000 * USD).await;
    let w = [a.account, b.account, k.account];
    // a's bid is filled by b; the fill waits in the queue: a's account shows no position yet.
    fx.place(&a, order(BID, POST_ONLY, MID, 40)).await.unwrap();
    fx.place(&b, order(ASK, IOC, MID, 40)).await.unwrap();
    assert_eq!(fx.queue_len().await, 1);
    assert_eq!(fx.margin(&a.account).await.positions[0].base_lots, 0);
    fx.advance(30, INDEX_PRICE * 84 / 100).await;
    // The liquidation neither waits for the crank nor misses the position.
    fx.liquidate_position(&k, &a.account, u64::MAX, u64::MAX)
        .await
        .unwrap();
    let acc = fx.margin(&a.account).await;
    assert!(acc.positions[0].base_lots > 0 && acc.positions[0].base_lots < 40);
    assert_eq!(acc.positions[0].orders, 0);
    assert!(acc.orders.iter().all(|o| o.id() == 0));
    // The crank then only pays the event's reward: a's account is not even needed.
    let k_before = fx.margin(&k.account).await.collateral;
    fx.crank(&[], &k.account, 8).await.unwrap();
    assert_eq!(fx.queue_len().await, 0);
    assert_eq!(
        fx.margin(&k.account).await.collateral - k_before,
        default_fees().crank_reward as i64
    );
    assert_eq!(
        fx.margin(&a.account).await.positions[0].base_lots,
        acc.positions[0].base_lots
    );
    fx.assert_solvent(&w).await;
}

/// a liquidated whole after a 30% fall: its collateral ends negative (bankrupt).
async fn bankrupt_long(fx: &mut Fx) -> (Trader, Trader, Trader) {
    let (a, b, k) = long_on_thin_margin(fx).await;
    fx.advance(30, INDEX_PRICE * 70 / 100).await;
    fx.liquidate_position(&k, &a.account, u64::MAX, u64::MAX)
        .await
        .unwrap();
    let acc = fx.margin(&a.account).await;
    assert!(acc.positions.iter().all(|p| p.base_lots == 0));
    assert!(acc.collateral < 0, "collateral {}", acc.collateral);
    (a, b, k)
}

#[tokio::test]
async fn a_bankruptcy_is_covered_by_the_insurance_fund_and_holds_withdrawals_until_then() {
    let mut fx = Fx::new().await;
    let (a, b, k) = bankrupt_long(&mut fx).await;
    let market = fx.market.key;
    let w = [a.account, b.account, k.account];
    // Bad debt outstanding: the identity still holds exactly.
    fx.assert_conserved(&w).await;
    let m = fx.market_state().await;
    assert_eq!(m.bankruptcies_open, 1);
    let acc = fx.margin(&a.account).await;
    assert_eq!(
        (acc.debt_market, acc.debt_held, acc.debt_side),
        (market, 1, 1)
    );
    // b holds a position in the market: its withdrawals wait for the resolution.
    let i = fx.withdraw_ix(&b, &b.owner.pubkey(), USD);
    fx.refused(&w, &[i], &[&b.owner], Some(E::BankruptcyUnresolved))
        .await;
    // Not bankrupt / wrong market: refused.
    let i = fx.resolve_bankruptcy_ix(&b.account, &market);
    fx.refused(&w, &[i], &[], Some(E::NotBankrupt)).await;
    let other = fx.create_market(fx.market.expiry + 86_400).await.unwrap();
    let i = fx.resolve_bankruptcy_ix(&a.account, &other.key);
    fx.refused(&w, &[i], &[], Some(E::WrongBankruptcyMarket))
        .await;

    // The fund holds enough: 100 USD in the vault, plus the penalty share in the market.
    let depositor = fx.trader(0).await;
    let i = fx.deposit_insurance_ix(&depositor.owner.pubkey(), &depositor.tokens, 100 * USD);
    fx.t.send(&[i], &[&depositor.owner]).await.unwrap();
    let loss = fx.margin(&a.account).await.collateral.unsigned_abs();
    let accrued = m.insurance_accrued;
    assert!(accrued > 0 && accrued < loss);
    let i = fx.resolve_bankruptcy_ix(&a.account, &market);
    let cu = fx.t.send(&[i], &[]).await.unwrap();
    report_cu("resolve_bankruptcy (insurance from the vault)", cu);
    // One event for the draw, none for a socialization (events are logged by the real program
    // only: the SBF pass reads them).
    if TestContext::sbf() {
        let drawn = cfx_tests::events::<InsuranceDrawn>(&fx.t.last_logs);
        assert_eq!(drawn.len(), 1);
        assert_eq!(
            (drawn[0].from_market, drawn[0].from_vault),
            (accrued, loss - accrued)
        );
        assert!(cfx_tests::events::<LossSocialized>(&fx.t.last_logs).is_empty());
    }
    let m = fx.market_state().await;
    assert_eq!(fx.margin(&a.account).await.collateral, 0);
    assert_eq!(m.bankruptcies_open, 0);
    assert_eq!(m.insurance_accrued, 0);
    assert_eq!(m.insurance_drawn_total, loss);
    assert_eq!(m.loss_outstanding, 0);
    assert_eq!(
        fx.t.token_balance(&fx.insurance_vault.clone()).await,
        100 * USD - (loss - accrued)
    );
    // Resolved once: a second call is refused.
    let i = fx.resolve_bankruptcy_ix(&a.account, &market);
    fx.refused(&w, &[i], &[], Some(E::NotBankrupt)).await;
    fx.assert_solvent(&w).await;
    // b withdraws again.
    fx.t.send(&[fx.withdraw_ix(&b, &b.owner.pubkey(), USD)], &[&b.owner])
        .await
        .unwrap();
    fx.assert_solvent(&w).await;
}

#[tokio::test]
async fn a_bankruptcy_past_the_insurance_cap_is_socialized_and_each_position_pays_once() {
    let mut fx = Fx::new().await;
    // A market whose fund pays at most $0.10 a day.
    let mut params = market_params(fx.market.expiry + 86_400);
    params.insurance_cap = USD / 10;
    fx.market = fx
        .create_market_with(params, BOOK_CAPACITY, QUEUE_CAPACITY)
        .await
        .unwrap();
    let market = fx.market.key;
    let (a, b, k) = bankrupt_long(&mut fx).await;
    let w = [a.account, b.account, k.account];
    let loss = fx.margin(&a.account).await.collateral.unsigned_abs();
    let accrued = fx.market_state().await.insurance_accrued;
    let insurance = (USD / 10).min(accrued);
    let socialized = loss - insurance;
    // The worked example of docs/compute-futures.md.
    assert_eq!(
        (loss, accrued, socialized),
        (13_024_100, 577_200, 12_924_100)
    );
    let b_equity = fx
        .compute_health(&b.account, &[market])
        .await
        .unwrap()
        .equity;

    let i = fx.resolve_bankruptcy_ix(&a.account, &market);
    let cu = fx.t.send(&[i], &[]).await.unwrap();
    report_cu(
        "resolve_bankruptcy (insurance from the market, the rest socialized)",
        cu,
    );
    if TestContext::sbf() {
        let drawn = cfx_tests::events::<InsuranceDrawn>(&fx.t.last_logs);
        assert_eq!(
            (drawn.len(), drawn[0].from_market, drawn[0].room_left),
            (1, insurance, 0)
        );
        let social = cfx_tests::events::<LossSocialized>(&fx.t.last_logs);
        assert_eq!(social.len(), 1);
        assert_eq!(
            (social[0].amount, social[0].side, social[0].lots),
            (socialized, 1, 40)
        );
    }
    fx.assert_conserved(&w).await;
    let m = fx.market_state().await;
    assert_eq!(m.insurance_drawn_total, insurance);
    assert_eq!(m.socialized_total, socialized);
    assert_eq!(m.loss_outstanding, socialized);
    // The shorts carry it: b, short 40, the only short.
    assert_eq!(m.short_interest, 40);
    let owed = (40u128 * m.loss_index(false)).div_ceil(1_000_000_000) as u64;
    assert!(owed >= socialized && owed - socialized <= 1);
    assert_eq!(m.loss_index(true), 0);
    // b's health counts what it owes before it pays.
    let after = fx.compute_health(&b.account, &[market]).await.unwrap();
    assert_eq!(after.equity, b_equity - owed as i128);
    // k (long) owes nothing.
    let k_cash = fx.margin(&k.account).await.collateral;

    // b's next trade touches the position: it pays, exactly once.
    let b_cash = fx.margin(&b.account).await.collateral;
    let mark = fx.prices_of(&market).await.mark;
    fx.place(&k, order(ASK, POST_ONLY, mark + 5, 2))
        .await
        .unwrap();
    let fee_paid = |lots: u64, price: u64| (price * lots * TICK_VALUE * 10).div_ceil(10_000);
    fx.place(&b, order(BID, IOC, mark + 5, 1)).await.unwrap();
    // Events are logged by the real program only (the SBF pass reads them).
    if TestContext::sbf() {
        let paid = cfx_tests::events::<SocializedLossPaid>(&fx.t.last_logs);
        assert_eq!((paid.len(), paid[0].amount), (1, owed));
    }
    let b_mid = fx.margin(&b.account).await;
    // A buy of 1 lot closing part of the short realizes against its entry; what matters here
    // is the loss paid: the collateral change less that realized PnL and the fee.
    let realized_and_fee = b_mid.positions[0].realized_pnl
        - fee_paid(1, mark + 5) as i64
        - default_fees().crank_reward as i64;
    assert_eq!(b_cash - b_mid.collateral + realized_and_fee, owed as i64);
    let m = fx.market_state().await;
    assert_eq!(m.loss_outstanding, 0);
    // What the fund could not pay stays with it, plus the rounding of the shares.
    assert_eq!(
        m.insurance_accrued,
        accrued - insurance + (owed - socialized)
    );
    // Touched again: nothing more.
    fx.place(&b, order(BID, IOC, mark + 5, 1)).await.unwrap();
    if TestContext::sbf() {
        assert!(cfx_tests::events::<SocializedLossPaid>(&fx.t.last_logs).is_empty());
    }
    let b_end = fx.margin(&b.account).await;
    let realized2 = b_end.positions[0].realized_pnl - b_mid.positions[0].realized_pnl;
    assert_eq!(
        b_mid.collateral - b_end.collateral,
        -realized2 + fee_paid(1, mark + 5) as i64 + default_fees().crank_reward as i64
    );
    fx.crank(&[k.account], &k.account, 8).await.unwrap();
    // k's long paid nothing: its collateral moved by the trades' fees and rewards only.
    let k_end = fx.margin(&k.account).await;
    assert!(k_end.collateral >= k_cash);
    fx.assert_solvent(&w).await;
}

#[tokio::test]
async fn a_cross_series_liquidation_counts_both_markets_and_stops_at_liquidation_end() {
    let mut fx = Fx::new().await;
    let first = fx.market;
    let second = fx.create_market(first.expiry + 86_400).await.unwrap();
    let a = fx.trader(15 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let k = fx.trader(1_000 * USD).await;
    let w = [a.account, b.account, k.account];
    // a: long 40 in the first series, short 12 in the second (a partial hedge).
    fx.place(&b, order(ASK, POST_ONLY, MID, 40)).await.unwrap();
    fx.place(&a, order(BID, IOC, MID, 40)).await.unwrap();
    fx.crank(&[b.account], &k.account, 8).await.unwrap();
    fx.market = second;
    let i = fx.place_ix_with(&b, order(BID, POST_ONLY, MID, 12), &[first.key]);
    fx.t.send(&[i], &[&b.owner]).await.unwrap();
    let i = fx.place_ix_with(&a, order(ASK, IOC, MID, 12), &[first.key]);
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    fx.crank(&[b.account], &k.account, 8).await.unwrap();
    fx.assert_solvent(&w).await;

    // The index falls 20%: the short gains what the long loses on 12 of its 40 lots.
    fx.advance(30, INDEX_PRICE * 80 / 100).await;
    let both = [first.key, second.key];
    let report = fx.compute_health(&a.account, &both).await.unwrap();
    assert!(report.maintenance < 0, "{report:?}");
    // Health needs the other series: without its accounts the liquidation is refused.
    fx.market = first;
    let mut i = fx
        .liquidate_position_ix(&k, &a.account, u64::MAX, u64::MAX)
        .await;
    i.accounts.truncate(6);
    fx.refused(&w, &[i], &[&k.owner], Some(E::MissingHealthAccounts))
        .await;

    // What the liquidation takes, from both markets' decoded accounts.
    let cache = fx.off_chain_cache(&a.account, &both).await;
    let m = fx.market_state().await;
    let mark = fx.prices_of(&first.key).await.mark;
    let price = penalty_price(mark, m.liq_penalty_bps, true).unwrap();
    let entry = cache.entry_of(0).unwrap();
    let lots = lots_to_liquidate(
        &cache.positions()[entry],
        cache.health(HealthKind::LiquidationEnd).unwrap(),
        &m.liquidation_params(),
        price,
    )
    .unwrap();
    assert!(lots > 0 && lots < 40, "{lots}");
    fx.liquidate_position(&k, &a.account, u64::MAX, u64::MAX)
        .await
        .unwrap();
    fx.assert_conserved(&w).await;
    let acc = fx.margin(&a.account).await;
    assert_eq!(acc.positions[0].base_lots, 40 - lots as i64);
    assert_eq!(acc.positions[1].base_lots, -12);
    let after = fx.compute_health(&a.account, &both).await.unwrap();
    assert!(after.liquidation_end >= 0, "{after:?}");
    // Off-chain and on-chain agree after the liquidation too.
    let cache = fx.off_chain_cache(&a.account, &both).await;
    assert_eq!(
        cache.health(HealthKind::LiquidationEnd).unwrap(),
        after.liquidation_end
    );
    fx.assert_solvent(&w).await;
}

#[tokio::test]
async fn a_maker_fee_on_negative_collateral_is_bad_debt_not_a_fee() {
    let mut fx = Fx::new().await;
    // Makers pay 5 bps here.
    let admin = fx.admin.insecure_clone();
    let mut fees = default_fees();
    fees.maker_fee_bps = 5;
    let i = fx.set_fees_ix(&admin.pubkey(), fees);
    fx.t.send(&[i], &[&admin]).await.unwrap();
    let first = fx.market;
    let second = fx.create_market(first.expiry + 86_400).await.unwrap();
    let (a, b, k) = long_on_thin_margin(&mut fx).await;
    let w = [a.account, b.account, k.account];
    // a's one-lot ask in the second series is filled; the crank has not applied it yet.
    fx.market = second;
    let i = fx.place_ix_with(&a, order(ASK, POST_ONLY, MID, 1), &[first.key]);
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    let i = fx.place_ix_with(&b, order(BID, IOC, MID, 1), &[first.key]);
    fx.t.send(&[i], &[&b.owner]).await.unwrap();
    assert_eq!(fx.queue_len().await, 1);

    // The index falls 30%: a is liquidated whole in the first series and ends bankrupt.
    fx.advance(30, INDEX_PRICE * 70 / 100).await;
    fx.market = first;
    fx.liquidate_position(&k, &a.account, u64::MAX, u64::MAX)
        .await
        .unwrap();
    let before = fx.margin(&a.account).await;
    assert!(before.collateral < 0);
    assert_eq!(before.debt_held, 1);
    // The crank applies a's fill in the second series: its 5 bps fee cannot be paid and is not
    // counted as a fee.
    fx.market = second;
    let fees_before = fx.market_state().await.fees_accrued;
    fx.crank(&[a.account], &k.account, 8).await.unwrap();
    let after = fx.margin(&a.account).await;
    assert_eq!(after.collateral, before.collateral);
    assert_eq!(after.positions[1].base_lots, -1);
    assert_eq!(fx.market_state().await.fees_accrued, fees_before);
    assert_eq!((after.debt_market, after.debt_held), (first.key, 1));
    fx.assert_conserved(&w).await;
    // Its last position goes (whole: below the dust size), then the bankruptcy is resolved.
    fx.liquidate_position(&k, &a.account, u64::MAX, 0)
        .await
        .unwrap();
    assert!(fx.margin(&a.account).await.is_bankrupt());
    let i = fx.resolve_bankruptcy_ix(&a.account, &first.key);
    fx.t.send(&[i], &[]).await.unwrap();
    assert_eq!(fx.margin(&a.account).await.collateral, 0);
    assert_eq!(fx.market_state_of(&first.key).await.bankruptcies_open, 0);
    fx.assert_solvent(&w).await;
}

#[tokio::test]
async fn a_bankruptcy_paid_back_by_its_owner_only_lifts_the_withdrawal_hold() {
    let mut fx = Fx::new().await;
    let (a, b, k) = bankrupt_long(&mut fx).await;
    let market = fx.market.key;
    let w = [a.account, b.account, k.account];
    let debt = fx.margin(&a.account).await.collateral.unsigned_abs();
    // The owner covers the debt: no one should be able to keep the market's withdrawals held.
    fx.deposit(&a, debt).await.unwrap();
    assert_eq!(fx.margin(&a.account).await.collateral, 0);
    let i = fx.withdraw_ix(&b, &b.owner.pubkey(), USD);
    fx.refused(&w, &[i], &[&b.owner], Some(E::BankruptcyUnresolved))
        .await;
    // Nor can the owner close the account with the hold on.
    let i = ix(
        compute_futures::accounts::CloseMarginAccount {
            owner: a.owner.pubkey(),
            account: a.account,
        },
        compute_futures::instruction::CloseMarginAccount {},
    );
    fx.refused(&w, &[i], &[&a.owner], Some(E::BankruptcyUnresolved))
        .await;
    // Anyone lifts the hold; nothing is drawn or socialized.
    let i = fx.resolve_bankruptcy_ix(&a.account, &market);
    fx.t.send(&[i], &[]).await.unwrap();
    let m = fx.market_state().await;
    assert_eq!(m.bankruptcies_open, 0);
    assert_eq!((m.insurance_drawn_total, m.socialized_total), (0, 0));
    assert_eq!(fx.margin(&a.account).await.debt_held, 0);
    let i = fx.resolve_bankruptcy_ix(&a.account, &market);
    fx.refused(&w, &[i], &[], Some(E::NotBankrupt)).await;
    fx.t.send(&[fx.withdraw_ix(&b, &b.owner.pubkey(), USD)], &[&b.owner])
        .await
        .unwrap();
    fx.assert_solvent(&w).await;
}

#[tokio::test]
async fn a_hold_on_an_account_whose_equity_recovered_is_lifted_by_anyone() {
    let mut fx = Fx::new().await;
    let (a, b, k) = long_on_thin_margin(&mut fx).await;
    let market = fx.market.key;
    let w = [a.account, b.account, k.account];
    // A 30% fall; a liquidator takes only 5 lots: a keeps 35 with negative equity.
    fx.advance(30, INDEX_PRICE * 70 / 100).await;
    fx.liquidate_position(&k, &a.account, 5, u64::MAX)
        .await
        .unwrap();
    let acc = fx.margin(&a.account).await;
    assert_eq!((acc.positions[0].base_lots, acc.debt_held), (35, 1));
    assert_eq!(fx.market_state().await.bankruptcies_open, 1);
    // Not bankrupt yet, and its equity is negative: the hold stays.
    let i = fx
        .resolve_bankruptcy_ix_with_health(&a.account, &market)
        .await;
    fx.refused(&w, &[i], &[], Some(E::NotBankrupt)).await;
    // Partly back (84%): at the mark, held at the edge of its band above the index, a's equity
    // is positive, at the index it is not: the hold stays (a walked mark cannot lift it).
    fx.advance(30, INDEX_PRICE * 84 / 100).await;
    assert!(
        fx.compute_health(&a.account, &[market])
            .await
            .unwrap()
            .equity
            > 0
    );
    let i = fx
        .resolve_bankruptcy_ix_with_health(&a.account, &market)
        .await;
    fx.refused(&w, &[i], &[], Some(E::NotBankrupt)).await;
    // The index recovers: a's equity is positive again (collateral alone is still not), and
    // anyone lifts the hold, so the owner cannot keep the market's withdrawals frozen.
    fx.advance(30, INDEX_PRICE).await;
    assert!(
        fx.compute_health(&a.account, &[market])
            .await
            .unwrap()
            .equity
            > 0
    );
    let i = fx
        .resolve_bankruptcy_ix_with_health(&a.account, &market)
        .await;
    fx.t.send(&[i], &[]).await.unwrap();
    assert_eq!(fx.market_state().await.bankruptcies_open, 0);
    assert_eq!(fx.margin(&a.account).await.debt_held, 0);
    fx.t.send(&[fx.withdraw_ix(&b, &b.owner.pubkey(), USD)], &[&b.owner])
        .await
        .unwrap();
    fx.assert_conserved(&w).await;
}

#[tokio::test]
async fn an_order_out_waiting_for_the_crank_does_not_block_a_liquidation() {
    let mut fx = Fx::new().await;
    let (a, b, k) = long_on_thin_margin(&mut fx).await;
    let w = [a.account, b.account, k.account];
    // a rests an ask, then crosses it itself with self-trade prevention cancelling the resting
    // order: the out waits in the queue and a's order slot with it.
    fx.place(&a, order(ASK, POST_ONLY, MID + 100, 2))
        .await
        .unwrap();
    let mut o = order(BID, IOC, MID + 100, 2);
    o.self_trade = compute_futures::instructions::SelfTradeMode::CancelResting;
    fx.place(&a, o).await.unwrap();
    assert_eq!(fx.queue_len().await, 1);
    assert_eq!(fx.margin(&a.account).await.positions[0].orders, 1);
    fx.advance(30, INDEX_PRICE * 84 / 100).await;
    // liquidate_orders finds nothing on the book to cancel; the liquidation applies the out.
    let i = fx.liquidate_orders_ix(&k.owner.pubkey(), &a.account);
    fx.t.send(&[i], &[&k.owner]).await.unwrap();
    fx.liquidate_position(&k, &a.account, u64::MAX, u64::MAX)
        .await
        .unwrap();
    let acc = fx.margin(&a.account).await;
    assert_eq!(acc.positions[0].orders, 0);
    assert!(acc.positions[0].base_lots < 40);
    // The crank pays the out's reward (its taker paid it) without a's account.
    fx.crank(&[], &k.account, 8).await.unwrap();
    assert_eq!(fx.queue_len().await, 0);
    fx.assert_solvent(&w).await;
}
