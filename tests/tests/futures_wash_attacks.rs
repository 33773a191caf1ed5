//! Attacks with a mark walked by wash trades between accounts of one owner (the Mango Markets
//! 2022 shape). The mark is an EMA of trades held within a band around the index, and orders may
//! be priced within a band around the mark: together, up to 13% from the index with the test
//! parameters, while initial margin is 10%. Initial and withdraw health value each position at the
//! worse of mark and index, so neither attack below costs the exchange anything.
#![allow(deprecated)]

use cfx_tests::futures::*;
use compute_futures::error::FuturesError as E;
use solana_sdk::signer::Signer;

/// Walks the current market's mark to the edge of its band around the index (`up` or down) with
/// trades between `w1` and `w2` at the edge of the order band, and returns the mark.
async fn walk_mark(fx: &mut Fx, w1: &Trader, w2: &Trader, up: bool) -> u64 {
    let market = fx.market.key;
    let index = fx.prices_of(&market).await.index;
    let edge = if up { index * 11 / 10 } else { index * 9 / 10 };
    for round in 0..30 {
        let mark = fx.prices_of(&market).await.mark;
        if (up && mark >= edge - 1) || (!up && mark <= edge + 1) {
            return mark;
        }
        let price = if up {
            mark + mark * 290 / 10_000
        } else {
            mark - mark * 290 / 10_000
        };
        // Alternate who sells so that neither position grows past the limit.
        let (seller, buyer) = if round % 2 == 0 { (w1, w2) } else { (w2, w1) };
        fx.place(seller, order(ASK, POST_ONLY, price, 100))
            .await
            .unwrap();
        fx.place(buyer, order(BID, IOC, price, 100)).await.unwrap();
        fx.crank(&[w1.account, w2.account], &w1.account, 8)
            .await
            .unwrap();
        // A trade moves the EMA by its full weight after a whole EMA period.
        fx.advance(300, INDEX_PRICE).await;
    }
    panic!("the mark did not reach the band edge");
}

#[tokio::test]
async fn no_position_opens_underwater_at_the_index() {
    let mut fx = Fx::new().await;
    let market = fx.market.key;
    let w1 = fx.trader(1_000 * USD).await;
    let w2 = fx.second_account(&w1, 1, 1_000 * USD).await;
    let mark = walk_mark(&mut fx, &w1, &w2, false).await;
    let index = fx.prices_of(&market).await.index;
    assert!(mark < index * 91 / 100, "mark {mark} index {index}");

    // A third account of the owner, funded with initial margin at the mark and the sale's loss
    // against the mark (and $1 for fees), sells 100 lots far below the index to the owner's bid:
    // at the index it would start with negative equity.
    let price = mark - mark * 290 / 10_000;
    let notional_at_mark = mark * 100 * TICK_VALUE;
    let funded = notional_at_mark / 10 + (mark - price) * 100 * TICK_VALUE + USD;
    let z = fx.second_account(&w1, 2, funded).await;
    let loss_at_index = (index - price) * 100 * TICK_VALUE;
    assert!(loss_at_index > funded);
    fx.place(&w2, order(BID, POST_ONLY, price, 100))
        .await
        .unwrap();
    let w = [w1.account, w2.account, z.account];
    let i = fx.place_ix(&z, order(ASK, IOC, price, 100));
    fx.refused(&w, &[i], &[&z.owner], Some(E::InsufficientMargin))
        .await;

    // Funded for the loss at the index too, the same sale goes through, and the account starts
    // with positive equity at the index.
    fx.deposit(&z, loss_at_index).await.unwrap();
    fx.place(&z, order(ASK, IOC, price, 100)).await.unwrap();
    fx.crank(&[w2.account], &w1.account, 8).await.unwrap();
    let acc = fx.margin(&z.account).await;
    let p = acc.positions[0].position();
    let at_index = acc.collateral as i128 + p.unrealized_pnl(index, TICK_VALUE).unwrap();
    assert!(at_index > 0, "equity at the index {at_index}");
    fx.assert_solvent(&w).await;
}

#[tokio::test]
async fn a_pumped_mark_funds_neither_withdrawals_nor_new_risk() {
    let mut fx = Fx::new().await;
    let market = fx.market.key;
    let w1 = fx.trader(1_000 * USD).await;
    let w2 = fx.second_account(&w1, 1, 1_000 * USD).await;
    // x: long 100 lots at MID ($250 of notional) on $30, bought from w1.
    let x = fx.second_account(&w1, 2, 30 * USD).await;
    fx.place(&w1, order(ASK, POST_ONLY, MID, 100))
        .await
        .unwrap();
    fx.place(&x, order(BID, IOC, MID, 100)).await.unwrap();
    fx.crank(&[w1.account], &w1.account, 8).await.unwrap();
    let w = [w1.account, w2.account, x.account];

    // The owner pumps the mark 10% above the index.
    let mark = walk_mark(&mut fx, &w1, &w2, true).await;
    let index = fx.prices_of(&market).await.index;
    assert!(mark > index * 109 / 100);
    let report = fx.compute_health(&x.account, &[market]).await.unwrap();
    // At the mark x shows a profit of ~$25...
    assert!(report.equity > 50 * USD as i128, "{report:?}");
    // ...but none of it can be withdrawn...
    let i = fx.withdraw_ix(&x, &x.owner.pubkey(), 5 * USD);
    fx.refused(&w, &[i], &[&x.owner], Some(E::InsufficientMargin))
        .await;
    // ...or borrowed against: 30 more lots need $8.25 of margin, which half the profit at the
    // mark would cover ($30 + $12.5 − $27.5), but not the profit at the index (none).
    fx.place(&w1, order(ASK, POST_ONLY, mark, 30))
        .await
        .unwrap();
    let i = fx.place_ix(&x, order(BID, IOC, mark, 30));
    fx.refused(&w, &[i], &[&x.owner], Some(E::InsufficientMargin))
        .await;
    fx.t.send(
        &[ix(
            fx.cancel_accounts(&w1),
            compute_futures::instruction::CancelAllOrders {},
        )],
        &[&w1.owner],
    )
    .await
    .unwrap();
    // The exchange stays whole.
    fx.assert_solvent(&w).await;
}
