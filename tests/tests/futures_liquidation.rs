//! Liquidation, first step: anyone takes the resting orders of an account below maintenance off
//! the book (`liquidate_orders`). Refused, changing nothing, while the account is healthy or
//! with substituted accounts.
#![allow(deprecated)]

use cfx_tests::futures::*;
use compute_futures::error::FuturesError as E;
use solana_sdk::instruction::AccountMeta;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signer::Signer;

async fn maintenance(fx: &mut Fx, account: &Pubkey) -> i128 {
    let market = fx.market.key;
    fx.compute_health(account, &[market])
        .await
        .expect("compute_health")
        .maintenance
}

#[tokio::test]
async fn orders_of_an_account_below_maintenance_are_cancelled_by_anyone() {
    let mut fx = Fx::new().await;
    let a = fx.trader(12 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let keeper = fx.trader(0).await;
    // a: long 40 lots ($100 of notional on $12) and a resting bid.
    fx.place(&b, order(ASK, POST_ONLY, MID, 40)).await.unwrap();
    fx.place(&a, order(BID, IOC, MID, 40)).await.unwrap();
    fx.crank(&[b.account], &keeper.account, 8).await.unwrap();
    fx.place(&a, order(BID, POST_ONLY, MID - 500, 2))
        .await
        .unwrap();
    let w = [a.account, b.account, keeper.account];
    let stranger = keeper.owner.insecure_clone();

    // Healthy: refused.
    assert!(maintenance(&mut fx, &a.account).await >= 0);
    let i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    fx.refused(&w, &[i], &[&stranger], Some(E::NotLiquidatable))
        .await;

    // The index falls 16%: the mark follows down to the edge of its band, and a's maintenance
    // health goes below zero.
    fx.advance(30, INDEX_PRICE * 84 / 100).await;
    let h = maintenance(&mut fx, &a.account).await;
    assert!(h < 0, "maintenance {h}");

    // Substituted accounts change nothing.
    let other = fx.create_market(fx.market.expiry + 86_400).await.unwrap();
    let mut i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    i.accounts[4].pubkey = other.book;
    fx.refused(&w, &[i], &[&stranger], Some(E::WrongBookAccount))
        .await;
    // Another market of the exchange (same index): the book passed is not its book.
    let mut i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    i.accounts[2].pubkey = other.key;
    fx.refused(&w, &[i], &[&stranger], Some(E::WrongBookAccount))
        .await;
    let mut i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    i.accounts[3] = AccountMeta::new_readonly(b.account, false);
    fx.refused_code(
        &w,
        &[i],
        &[&stranger],
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch as u32,
    )
    .await;
    let mut i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    i.accounts[0].is_signer = false;
    fx.refused_code(
        &w,
        &[i],
        &[],
        anchor_lang::error::ErrorCode::AccountNotSigner as u32,
    )
    .await;
    // The margin account repeated as the market.
    let mut i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    i.accounts[2] = AccountMeta::new_readonly(a.account, false);
    fx.refused_code(
        &w,
        &[i],
        &[&stranger],
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch as u32,
    )
    .await;
    // A stale index: no liquidation on a price nobody vouches for any more.
    let now = fx.t.now().await;
    fx.t.set_time(now + 120).await;
    let i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    fx.refused(&w, &[i], &[&stranger], Some(E::StaleOracle))
        .await;
    assert_err(
        fx.compute_health(&a.account, &[fx.market.key])
            .await
            .map(|_| 0),
        E::StaleOracle,
    );
    fx.advance(1, INDEX_PRICE * 84 / 100).await;
    // A healthy account of the same market: refused.
    let i = fx.liquidate_orders_ix(&stranger.pubkey(), &b.account);
    fx.refused(&w, &[i], &[&stranger], Some(E::NotLiquidatable))
        .await;

    // Anyone takes a's orders off the book; its position is untouched.
    let before = fx.margin(&a.account).await;
    let i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    fx.t.send(&[i], &[&stranger]).await.unwrap();
    let after = fx.margin(&a.account).await;
    assert!(after.orders.iter().all(|o| o.id() == 0));
    assert_eq!(after.positions[0].base_lots, before.positions[0].base_lots);
    assert_eq!(after.positions[0].bid_lots, 0);
    assert_eq!(after.collateral, before.collateral);
    let (bids, _) = fx.book_orders().await;
    let a_id = after.id;
    assert!(
        bids.iter().all(|o| o.owner != a_id),
        "a's bid left the book"
    );
    // Nothing left to cancel: a second call does nothing.
    let snapshot = fx.t.snapshot(&w).await;
    let i = fx.liquidate_orders_ix(&stranger.pubkey(), &a.account);
    fx.t.send(&[i], &[&stranger]).await.unwrap();
    assert_eq!(fx.t.snapshot(&w).await, snapshot);
    fx.assert_solvent(&w).await;
}
