//! Health over several markets is one computation with two sources of accounts: the program
//! reads instruction accounts (`ViewRetriever`), a client decoded accounts (`DecodedRetriever`);
//! both feed `HealthCache`, so a keeper computes exactly what the chain does.
#![allow(deprecated)]

use cfx_tests::futures::*;
use compute_futures::health::{DecodedRetriever, HealthCache};
use compute_futures::instructions::HealthReport;
use compute_futures::state::{MarginAccount, Market};
use solana_sdk::pubkey::Pubkey;

fn decode<T: bytemuck::Pod>(data: &[u8]) -> T {
    bytemuck::pod_read_unaligned(&data[8..8 + core::mem::size_of::<T>()])
}

/// What a client computes from the same accounts, decoded.
async fn off_chain(fx: &mut Fx, account: &Pubkey, markets: &[Pubkey]) -> HealthReport {
    let cache = fx.off_chain_cache(account, markets).await;
    HealthReport::of(&cache).expect("health")
}

#[tokio::test]
async fn off_chain_health_of_a_two_market_account_equals_the_programs() {
    let mut fx = Fx::new().await;
    let first = fx.market;
    let second = fx.create_market(first.expiry + 86_400).await.unwrap();
    let a = fx.trader(2_000 * USD).await;
    let b = fx.trader(2_000 * USD).await;
    // a: long 3 in the first series, short 2 in the second, with resting orders in both.
    fx.place(&b, order(ASK, POST_ONLY, MID + 5, 3))
        .await
        .unwrap();
    fx.place(&a, order(BID, IOC, MID + 5, 3)).await.unwrap();
    fx.place(&a, order(BID, POST_ONLY, MID - 40, 2))
        .await
        .unwrap();
    fx.crank(&[b.account], &b.account, 8).await.unwrap();
    fx.market = second;
    // Both hold a position in the first series now: its (market, index) goes along.
    let i = fx.place_ix_with(&b, order(BID, POST_ONLY, MID - 5, 2), &[first.key]);
    fx.t.send(&[i], &[&b.owner]).await.unwrap();
    let i = fx.place_ix_with(&a, order(ASK, IOC, MID - 5, 2), &[first.key]);
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    let i = fx.place_ix_with(&a, order(ASK, POST_ONLY, MID + 60, 1), &[first.key]);
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    fx.crank(&[b.account], &b.account, 8).await.unwrap();

    let markets = [first.key, second.key];
    let acc: MarginAccount = decode(&fx.t.account(&a.account).await.unwrap().data);
    let used: Vec<Pubkey> = acc
        .positions
        .iter()
        .map(|p| p.market)
        .filter(|k| *k != Pubkey::default())
        .collect();
    assert_eq!(used, markets, "a holds positions in both series");

    // At the index the positions were opened at, then after the index moves both ways.
    for price in [INDEX_PRICE, INDEX_PRICE * 106 / 100, INDEX_PRICE * 93 / 100] {
        fx.advance(30, price).await;
        for key in [a.account, b.account] {
            let chain = fx.compute_health(&key, &markets).await.unwrap();
            let client = off_chain(&mut fx, &key, &markets).await;
            assert_eq!(chain, client, "price {price}, account {key}");
            // Kinds differ as they should: weighted PnL and requirements are not all the same.
            assert!(chain.initial <= chain.maintenance, "{chain:?}");
            assert!(chain.withdraw <= chain.initial, "{chain:?}");
            assert!(chain.maintenance <= chain.equity, "{chain:?}");
        }
    }

    // The program refuses health accounts that do not match the positions, like a client would.
    assert_err(
        fx.compute_health(&a.account, &[second.key])
            .await
            .map(|_| 0),
        compute_futures::error::FuturesError::MissingHealthAccounts,
    );
    let acc: MarginAccount = decode(&fx.t.account(&a.account).await.unwrap().data);
    let market: Market = decode(&fx.t.account(&first.key).await.unwrap().data);
    let now = fx.t.now().await;
    let mut retriever = DecodedRetriever {
        markets: &[(first.key, market)],
        indexes: &[],
        now,
    };
    assert!(HealthCache::new(&acc, &mut retriever).is_err());
}
