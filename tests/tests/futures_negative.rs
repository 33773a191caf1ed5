//! Negative cases of the compute-futures instructions not covered by the trading scenarios: each
//! is refused with its error and leaves every watched account unchanged.

use cfx_tests::futures::*;
use cfx_tests::token::spl_token_id;
use compute_futures::accounts as acc;
use compute_futures::error::FuturesError as E;
use compute_futures::instruction as ins;
use compute_futures::instructions::{FeeSchedule, IndexParams, OrderArgs};
use solana_sdk::{instruction::AccountMeta, pubkey::Pubkey, signer::Signer};

#[tokio::test]
async fn exchange_and_index_admin_paths() {
    let mut fx = Fx::new().await;
    let admin = fx.admin.insecure_clone();
    let stranger = fx.t.funded_keypair(1_000_000_000).await;
    let update = |signer: &Pubkey, fees: FeeSchedule| fx.set_fees_ix(signer, fees);
    let too_high = FeeSchedule {
        taker_fee_bps: 1_001,
        ..default_fees()
    };
    let rebate_above_fee = FeeSchedule {
        maker_fee_bps: -11,
        ..default_fees()
    };
    // A crank reward above what an event records.
    let reward_too_high = FeeSchedule {
        crank_reward: compute_futures::state::MAX_CRANK_REWARD + 1,
        ..default_fees()
    };
    let (i1, i2, i3, i4) = (
        update(&admin.pubkey(), too_high),
        update(&admin.pubkey(), rebate_above_fee),
        update(&stranger.pubkey(), default_fees()),
        update(&admin.pubkey(), reward_too_high),
    );
    fx.refused(&[], &[i1], &[&admin], Some(E::InvalidFees))
        .await;
    fx.refused(&[], &[i2], &[&admin], Some(E::InvalidFees))
        .await;
    fx.refused(&[], &[i3], &[&stranger], Some(E::NotAdmin))
        .await;
    fx.refused(&[], &[i4], &[&admin], Some(E::InvalidFees))
        .await;

    // Index configuration: none, nine, duplicated publishers, min above count or below three,
    // zero limits, a TWAP interval above a day.
    let keys: Vec<Pubkey> = (0..9).map(|_| Pubkey::new_unique()).collect();
    let good = IndexParams {
        publishers: keys[..3].to_vec(),
        min_publishers: 3,
        max_staleness: 60,
        max_conf_bps: 200,
        twap_interval: 60,
    };
    let bad = [
        IndexParams {
            publishers: vec![],
            ..good.clone()
        },
        IndexParams {
            publishers: keys.clone(),
            ..good.clone()
        },
        IndexParams {
            publishers: vec![keys[0], keys[0]],
            min_publishers: 1,
            ..good.clone()
        },
        IndexParams {
            min_publishers: 4,
            ..good.clone()
        },
        IndexParams {
            min_publishers: 0,
            ..good.clone()
        },
        // Two fresh quotes would leave the median to one publisher.
        IndexParams {
            min_publishers: 2,
            ..good.clone()
        },
        IndexParams {
            publishers: keys[..5].to_vec(),
            min_publishers: 2,
            ..good.clone()
        },
        IndexParams {
            twap_interval: 86_401,
            ..good.clone()
        },
        IndexParams {
            max_staleness: 0,
            ..good.clone()
        },
        IndexParams {
            max_conf_bps: 0,
            ..good.clone()
        },
    ];
    for params in bad {
        let i = ix(
            acc::UpdatePriceIndex {
                admin: admin.pubkey(),
                exchange: fx.exchange,
                index: fx.index,
            },
            ins::UpdatePriceIndex { params },
        );
        fx.refused(&[], &[i], &[&admin], Some(E::InvalidIndexConfig))
            .await;
    }
    let i = ix(
        acc::UpdatePriceIndex {
            admin: stranger.pubkey(),
            exchange: fx.exchange,
            index: fx.index,
        },
        ins::UpdatePriceIndex {
            params: good.clone(),
        },
    );
    fx.refused(&[], &[i], &[&stranger], Some(E::NotAdmin)).await;
    // A new publisher set replaces the old one: old publishers are refused afterwards.
    let i = ix(
        acc::UpdatePriceIndex {
            admin: admin.pubkey(),
            exchange: fx.exchange,
            index: fx.index,
        },
        ins::UpdatePriceIndex { params: good },
    );
    fx.t.send(&[i], &[&admin]).await.unwrap();
    let p0 = fx.publishers[0].insecure_clone();
    let now = fx.t.now().await;
    let i = fx.publish_ix(&p0.pubkey(), INDEX_PRICE, 10, now);
    fx.refused(&[], &[i], &[&p0], Some(E::NotPublisher)).await;
}

#[tokio::test]
async fn create_market_refusals() {
    let mut fx = Fx::new().await;
    let expiry = fx.market.expiry + 86_400;
    let now = fx.t.now().await;
    let bad = [
        MarketParamsFn(|p| p.lot_size = 0),
        MarketParamsFn(|p| p.tick_value = 0),
        MarketParamsFn(|p| p.maintenance_margin_bps = 2_000),
        MarketParamsFn(|p| p.price_band_bps = 0),
        MarketParamsFn(|p| p.mark_band_min_bps = 5_000),
        MarketParamsFn(|p| p.max_open_interest = 1),
        // A fill at the band edge must not eat through initial margin into maintenance.
        MarketParamsFn(|p| p.price_band_bps = 400),
        // A full position at the highest order price would overflow an account's i64 amounts.
        MarketParamsFn(|p| p.tick_value = 1 << 24),
        // An EMA period of 0 would let every trade set the mark.
        MarketParamsFn(|p| p.ema_period = 0),
        MarketParamsFn(|p| p.ema_reference_lots = 0),
        // Settlement: an expiry off the index's TWAP grid, a window that is not a multiple of
        // its interval, longer than its ring, or with no fresh update required; a fallback band
        // over 10%; a delivery cut-off is only checked on physical series.
        MarketParamsFn(|p| p.expiry_ts += 1),
        MarketParamsFn(|p| p.settle_window = 90),
        MarketParamsFn(|p| p.settle_window = 0),
        MarketParamsFn(|p| p.settle_window = 64 * 60),
        MarketParamsFn(|p| p.settle_min_updates = 0),
        MarketParamsFn(|p| p.settle_fallback_band_bps = 1_001),
    ];
    for f in bad {
        let mut p = market_params(expiry);
        (f.0)(&mut p);
        let r = fx.create_market_with(p, 64, 64).await;
        assert_err(r.map(|_| 0), E::InvalidMarketParams);
    }
    // Expiry or last trade in the past.
    let mut p = market_params(now - 10);
    p.last_trade_ts = now - 20;
    assert_err(
        fx.create_market_with(p, 64, 64).await.map(|_| 0),
        E::InvalidMarketParams,
    );
    // A queue too small for an order's events.
    assert_err(
        fx.create_market_with(market_params(expiry), 64, 4)
            .await
            .map(|_| 0),
        E::BookAccountTooSmall,
    );
    // Not the admin.
    let stranger = fx.t.funded_keypair(1_000_000_000).await;
    let real_admin = std::mem::replace(&mut fx.admin, stranger);
    assert_err(
        fx.create_market_with(market_params(expiry), 64, 64)
            .await
            .map(|_| 0),
        E::NotAdmin,
    );
    fx.admin = real_admin;
    // The existing market's book reused for a new market: already initialized.
    let market = pda(&[
        compute_futures::state::Market::SEED,
        fx.exchange.as_ref(),
        fx.class.as_ref(),
        &expiry.to_le_bytes(),
    ]);
    let admin = fx.admin.insecure_clone();
    let i = ix(
        acc::CreateMarket {
            admin: admin.pubkey(),
            exchange: fx.exchange,
            class: fx.class,
            index: fx.index,
            delivery_window: None,
            delivery_mint: None,
            delivery_vault: None,
            delivery_token_program: None,
            market,
            book: fx.market.book,
            event_queue: fx.market.queue,
            system_program: anchor_lang::system_program::ID,
        },
        ins::CreateMarket {
            params: market_params(expiry),
        },
    );
    fx.refused(
        &[market],
        std::slice::from_ref(&i),
        &[&admin],
        Some(E::AccountAlreadyInitialized),
    )
    .await;
    // The same account as book and queue.
    let mut dup = i;
    dup.accounts[7] = AccountMeta::new(fx.market.book, false);
    fx.refused(&[market], &[dup], &[&admin], None).await;
}

struct MarketParamsFn(fn(&mut compute_futures::instructions::MarketParams));

#[tokio::test]
async fn collateral_account_and_fee_refusals() {
    let mut fx = Fx::new().await;
    let a = fx.trader(100 * USD).await;
    let b = fx.trader(100 * USD).await;
    // Zero deposit; deposit into the fee vault instead of the collateral vault.
    let i = fx.deposit_ix(&a, 0);
    fx.refused(&[a.account], &[i], &[&a.owner], Some(E::ZeroAmount))
        .await;
    let mut i = fx.deposit_ix(&a, 5);
    i.accounts[4] = AccountMeta::new(fx.fee_vault, false);
    fx.refused(&[a.account], &[i], &[&a.owner], Some(E::WrongExchange))
        .await;
    // Depositing from someone else's token account.
    let mut i = fx.deposit_ix(&a, 5);
    i.accounts[5] = AccountMeta::new(b.tokens, false);
    fx.refused(&[a.account, b.account], &[i], &[&a.owner], None)
        .await;
    // Withdraw: more than the collateral, someone else's account, the insurance vault as source.
    let i = fx.withdraw_ix(&a, &a.owner.pubkey(), 100 * USD + 1);
    fx.refused(&[a.account], &[i], &[&a.owner], Some(E::InsufficientMargin))
        .await;
    let i = fx.withdraw_ix(&a, &b.owner.pubkey(), 1);
    fx.refused(&[a.account], &[i], &[&b.owner], Some(E::NotOwner))
        .await;
    let mut i = fx.withdraw_ix(&a, &a.owner.pubkey(), 1);
    i.accounts[4] = AccountMeta::new(fx.insurance_vault, false);
    fx.refused(&[a.account], &[i], &[&a.owner], Some(E::WrongExchange))
        .await;
    let i = fx.withdraw_ix(&a, &a.owner.pubkey(), u64::MAX);
    fx.refused(&[a.account], &[i], &[&a.owner], Some(E::Overflow))
        .await;
    // With a position, the health accounts are required.
    fx.place(&b, order(ASK, POST_ONLY, MID, 1)).await.unwrap();
    fx.place(&a, order(BID, IOC, MID, 1)).await.unwrap();
    let mut i = fx.withdraw_ix(&a, &a.owner.pubkey(), 1);
    i.accounts.truncate(i.accounts.len() - 2);
    fx.refused(
        &[a.account],
        &[i],
        &[&a.owner],
        Some(E::MissingHealthAccounts),
    )
    .await;
    // Close: not empty; not the owner; set_delegate: not the owner.
    let close = |owner: &Pubkey, account: Pubkey| {
        ix(
            acc::CloseMarginAccount {
                owner: *owner,
                account,
            },
            ins::CloseMarginAccount {},
        )
    };
    let i = close(&a.owner.pubkey(), a.account);
    fx.refused(&[a.account], &[i], &[&a.owner], Some(E::AccountNotEmpty))
        .await;
    let i = close(&b.owner.pubkey(), a.account);
    fx.refused(&[a.account], &[i], &[&b.owner], Some(E::NotOwner))
        .await;
    let i = ix(
        acc::SetDelegate {
            owner: b.owner.pubkey(),
            account: a.account,
        },
        ins::SetDelegate {
            delegate: b.owner.pubkey(),
        },
    );
    fx.refused(&[a.account], &[i], &[&b.owner], Some(E::NotOwner))
        .await;
    // A second margin account with the same number is refused.
    let i = ix(
        acc::CreateMarginAccount {
            owner: a.owner.pubkey(),
            exchange: fx.exchange,
            account: a.account,
            system_program: anchor_lang::system_program::ID,
        },
        ins::CreateMarginAccount { number: 0 },
    );
    fx.refused(&[a.account], &[i], &[&a.owner], None).await;
    // An empty account closes and returns its rent.
    let c = fx.trader(0).await;
    let before = fx.t.lamports(&c.owner.pubkey()).await;
    let i = close(&c.owner.pubkey(), c.account);
    fx.t.send(&[i], &[&c.owner]).await.unwrap();
    assert!(fx.t.account(&c.account).await.is_none());
    assert!(fx.t.lamports(&c.owner.pubkey()).await > before);

    // Fees: only the admin sweeps, into the fee vault only.
    fx.crank(&[b.account], &a.account, 8).await.unwrap();
    let admin = fx.admin.insecure_clone();
    let (exchange, market, mint, vault) = (fx.exchange, fx.market.key, fx.mint, fx.vault);
    let sweep = move |signer: &Pubkey, fee_vault: Pubkey| {
        ix(
            acc::SweepFees {
                admin: *signer,
                exchange,
                market,
                collateral_mint: mint,
                vault,
                fee_vault,
                token_program: spl_token_id(),
            },
            ins::SweepFees {},
        )
    };
    let i = sweep(&a.owner.pubkey(), fx.fee_vault);
    fx.refused(&[], &[i], &[&a.owner], Some(E::NotAdmin)).await;
    let i = sweep(&admin.pubkey(), a.tokens);
    fx.refused(&[], &[i], &[&admin], Some(E::WrongExchange))
        .await;
    let fees = fx.market_state().await.fees_accrued;
    assert!(fees > 0);
    let i = sweep(&admin.pubkey(), fx.fee_vault);
    fx.t.send(&[i], &[&admin]).await.unwrap();
    assert_eq!(fx.t.token_balance(&fx.fee_vault.clone()).await, fees);
    fx.assert_solvent(&[a.account, b.account]).await;
    let i = sweep(&admin.pubkey(), fx.fee_vault);
    fx.refused(&[], &[i], &[&admin], Some(E::ZeroAmount)).await;
}

#[tokio::test]
async fn cancel_and_crank_refusals() {
    let mut fx = Fx::new().await;
    let a = fx.trader(100 * USD).await;
    let b = fx.trader(100 * USD).await;
    fx.place(&a, order(ASK, POST_ONLY, 25_100, 2))
        .await
        .unwrap();
    let (_, asks) = fx.book_orders().await;
    let id = asks[0].order_id;
    // Someone else cancelling a's order; a cancelling through another market's book.
    let mut accs = fx.cancel_accounts(&a);
    accs.signer = b.owner.pubkey();
    let i = ix(accs, ins::CancelOrder { order_id: id });
    fx.refused(&[a.account], &[i], &[&b.owner], Some(E::NotAuthorized))
        .await;
    let other = fx.create_market(fx.market.expiry + 86_400).await.unwrap();
    let mut accs = fx.cancel_accounts(&a);
    accs.book = other.book;
    let i = ix(accs, ins::CancelOrder { order_id: id });
    fx.refused(&[a.account], &[i], &[&a.owner], Some(E::WrongBookAccount))
        .await;
    // Crank with another market's queue.
    fx.place(&b, order(BID, IOC, 25_100, 1)).await.unwrap();
    let mut i = fx.crank_ix(&[a.account], &b.account, 8);
    i.accounts[2] = AccountMeta::new(other.queue, false);
    fx.refused(
        &[a.account, b.account],
        &[i],
        &[],
        Some(E::WrongBookAccount),
    )
    .await;
    // The same maker account twice, and as reward account too: consumed once, paid once.
    fx.crank(&[a.account, a.account], &a.account, 8)
        .await
        .unwrap();
    assert_eq!(fx.queue_len().await, 0);
    let m = fx.margin(&a.account).await;
    assert_eq!(m.positions[0].base_lots, -1);
    fx.assert_solvent(&[a.account, b.account]).await;
    // Cancel-resting self-trade prevention: a's bid meets a's own ask, which is cancelled whole.
    let mut o = order(BID, LIMIT, 25_100, 3);
    o.self_trade = compute_futures::instructions::SelfTradeMode::CancelResting;
    fx.place(&a, o).await.unwrap();
    let (bids, asks) = fx.book_orders().await;
    assert!(asks.is_empty());
    assert_eq!((bids[0].price, bids[0].lots), (25_100, 3));
    fx.crank(&[a.account], &b.account, 8).await.unwrap();
    let m = fx.margin(&a.account).await;
    assert_eq!((m.positions[0].bid_lots, m.positions[0].ask_lots), (3, 0));
}

#[tokio::test]
async fn open_interest_limit() {
    let mut fx = Fx::new().await;
    // A market with max position 1,000 and max open interest 1,500 lots.
    let mut p = market_params(fx.market.expiry + 86_400);
    p.max_open_interest = 1_500;
    fx.market = fx.create_market_with(p, 64, 64).await.unwrap();
    let a = fx.trader(100_000 * USD).await;
    let b = fx.trader(100_000 * USD).await;
    let c = fx.trader(100_000 * USD).await;
    let d = fx.trader(100_000 * USD).await;
    fx.place(&b, order(ASK, POST_ONLY, MID, 1_000))
        .await
        .unwrap();
    fx.place(&a, order(BID, IOC, MID, 1_000)).await.unwrap();
    fx.crank(&[b.account], &a.account, 8).await.unwrap();
    assert_eq!(fx.market_state().await.open_interest, 1_000);
    // b is short 1,000: another 600 on the ask would break its position limit.
    let i = fx.place_ix(&b, order(ASK, POST_ONLY, MID, 600));
    fx.refused(&[b.account], &[i], &[&b.owner], Some(E::PositionLimit))
        .await;
    // A taker buying 600 from d would bring longs to 1,600.
    fx.place(&d, order(ASK, POST_ONLY, MID, 600)).await.unwrap();
    let i = fx.place_ix(&c, order(BID, IOC, MID, 600));
    let all = [a.account, b.account, c.account, d.account];
    fx.refused(&all, &[i], &[&c.owner], Some(E::OpenInterestLimit))
        .await;
    // So would a taker selling 600 to a maker's bid: the maker becomes long at the crank.
    let i = ix(fx.cancel_accounts(&d), ins::CancelAllOrders {});
    fx.t.send(&[i], &[&d.owner]).await.unwrap();
    fx.place(&d, order(BID, POST_ONLY, MID - 10, 600))
        .await
        .unwrap();
    let i = fx.place_ix(&c, order(ASK, IOC, MID - 10, 600));
    fx.refused(&all, &[i], &[&c.owner], Some(E::OpenInterestLimit))
        .await;
    fx.place(&c, order(ASK, IOC, MID - 10, 500)).await.unwrap();
    // Before the crank those 500 lots are pending: one more lot sold to d's bid would take
    // open interest past the limit once cranked, by this taker or any other.
    let m = fx.market_state().await;
    assert_eq!((m.open_interest, m.open_interest_pending), (1_000, 500));
    let i = fx.place_ix(&c, order(ASK, IOC, MID - 10, 1));
    fx.refused(&all, &[i], &[&c.owner], Some(E::OpenInterestLimit))
        .await;
    fx.crank(&[d.account], &a.account, 8).await.unwrap();
    let m = fx.market_state().await;
    assert_eq!((m.open_interest, m.open_interest_pending), (1_500, 0));
    // Closing longs lowers it again (the rest of d's bid is cancelled first, so c, who is short,
    // is the buyer).
    let i = ix(fx.cancel_accounts(&d), ins::CancelAllOrders {});
    fx.t.send(&[i], &[&d.owner]).await.unwrap();
    fx.place(&c, order(BID, POST_ONLY, MID - 20, 100))
        .await
        .unwrap();
    fx.place(&a, order(ASK, IOC, MID - 20, 100)).await.unwrap();
    fx.crank(&[c.account], &a.account, 8).await.unwrap();
    assert_eq!(fx.market_state().await.open_interest, 1_400);
    fx.assert_solvent(&all).await;
}

#[tokio::test]
async fn reduce_only_cannot_create_bad_debt() {
    let mut fx = Fx::new().await;
    // a: long 100 lots at $2.50 ($250) on $33 of collateral.
    let a = fx.trader(33 * USD).await;
    let b = fx.trader(10_000 * USD).await;
    let c = fx.trader(10_000 * USD).await;
    fx.place(&b, order(ASK, POST_ONLY, MID, 100)).await.unwrap();
    fx.place(&a, order(BID, IOC, MID, 100)).await.unwrap();
    fx.crank(&[b.account], &c.account, 8).await.unwrap();
    // The index falls 20%: the mark follows to the band edge (22,000), a is $30 down and below
    // maintenance, with $2.75 of equity left.
    fx.advance(10, INDEX_PRICE * 4 / 5).await;
    // Selling reduce-only at the band edge (21,340) to a friend would realize $36.60: bad debt.
    fx.place(&c, order(BID, POST_ONLY, 21_340, 100))
        .await
        .unwrap();
    let ro = |price| OrderArgs {
        reduce_only: true,
        ..order(ASK, IOC, price, 100)
    };
    let i = fx.place_ix(&a, ro(21_340));
    fx.refused(
        &[a.account, c.account],
        &[i],
        &[&a.owner],
        Some(E::InsufficientMargin),
    )
    .await;
    // Selling at the mark is allowed even below initial margin: it only cuts risk.
    let i = ix(fx.cancel_accounts(&c), ins::CancelAllOrders {});
    fx.t.send(&[i], &[&c.owner]).await.unwrap();
    fx.place(&c, order(BID, POST_ONLY, 22_000, 100))
        .await
        .unwrap();
    fx.place(&a, ro(22_000)).await.unwrap();
    let m = fx.margin(&a.account).await;
    assert!(m.positions.iter().all(|p| p.base_lots == 0));
    assert!(m.collateral > 0 && m.collateral < 3 * USD as i64);
    fx.crank(&[c.account], &b.account, 8).await.unwrap();
    fx.assert_solvent(&[a.account, b.account, c.account]).await;
}

#[tokio::test]
async fn same_order_id_in_two_markets() {
    let mut fx = Fx::new().await;
    // A second series of the same class; `fx.market` stays the first.
    let second = fx.create_market(fx.market.expiry + 86_400).await.unwrap();
    let a = fx.trader(10_000 * USD).await;
    let b = fx.trader(10_000 * USD).await;
    // The first order of each book gets sequence 0: same side and price give the same id.
    fx.place(&a, order(ASK, POST_ONLY, 25_100, 3))
        .await
        .unwrap();
    let (_, asks) = fx.book_orders().await;
    let id = asks[0].order_id;
    let first = std::mem::replace(&mut fx.market, second);
    let i = fx.place_ix_with(&a, order(ASK, POST_ONLY, 25_100, 5), &[first.key]);
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    let (_, asks) = fx.book_orders().await;
    assert_eq!(asks[0].order_id, id, "both books hold the same id");
    let second = std::mem::replace(&mut fx.market, first);
    // A fill in the first market releases the first market's order only.
    fx.place(&b, order(BID, IOC, 25_100, 3)).await.unwrap();
    fx.crank(&[a.account], &b.account, 8).await.unwrap();
    let m = fx.margin(&a.account).await;
    let in_first = m.find_position(&fx.market.key).unwrap();
    let in_second = m.find_position(&second.key).unwrap();
    assert_eq!(m.positions[in_first].ask_lots, 0);
    assert_eq!(m.positions[in_second].ask_lots, 5);
    assert!(m.find_order(in_second, id).is_some());
    assert!(m.find_order(in_first, id).is_none());
    // The second market's order is still there and cancels by id.
    fx.market = second;
    let i = ix(fx.cancel_accounts(&a), ins::CancelOrder { order_id: id });
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    let m = fx.margin(&a.account).await;
    assert!(m.orders.iter().all(|o| o.id() == 0));
    assert!((fx.book_orders().await).1.is_empty());
}

#[tokio::test]
async fn health_accounts_must_match_the_positions() {
    let mut fx = Fx::new().await;
    // A second series of the same class; `fx.market` stays the first.
    let second = fx.create_market(fx.market.expiry + 86_400).await.unwrap();
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    // a holds a resting order in the first market.
    fx.place(&a, order(BID, POST_ONLY, MID - 100, 10))
        .await
        .unwrap();
    let first = std::mem::replace(&mut fx.market, second);
    fx.place(&b, order(ASK, POST_ONLY, MID, 5)).await.unwrap();
    // Trading in the second market needs the first market and its index.
    let i = fx.place_ix(&a, order(BID, IOC, MID, 1));
    fx.refused(
        &[a.account],
        &[i],
        &[&a.owner],
        Some(E::MissingHealthAccounts),
    )
    .await;
    // The right market with a wrong index (the market itself in its place).
    let mut i = fx.place_ix(&a, order(BID, IOC, MID, 1));
    i.accounts.push(AccountMeta::new_readonly(first.key, false));
    i.accounts.push(AccountMeta::new_readonly(first.key, false));
    fx.refused(&[a.account], &[i], &[&a.owner], Some(E::WrongIndex))
        .await;
    // Another market in place of the first one.
    let i = fx.place_ix_with(&a, order(BID, IOC, MID, 1), &[fx.market.key]);
    fx.refused(
        &[a.account],
        &[i],
        &[&a.owner],
        Some(E::MissingHealthAccounts),
    )
    .await;
    // With the right pair it goes through.
    let i = fx.place_ix_with(&a, order(BID, IOC, MID, 1), &[first.key]);
    fx.t.send(&[i], &[&a.owner]).await.unwrap();
    let m = fx.margin(&a.account).await;
    let p = m.find_position(&fx.market.key).unwrap();
    assert_eq!(m.positions[p].base_lots, 1);
}

/// A bid resting above a mark that has since fallen is a loss waiting for a counterparty: margin
/// counts it, so its owner cannot withdraw the collateral that loss needs and leave bad debt to a
/// friend who fills it.
#[tokio::test]
async fn resting_orders_above_a_fallen_mark_hold_their_loss() {
    let mut fx = Fx::new().await;
    let b = fx.trader(100 * USD).await;
    let a = fx.trader(1_000 * USD).await;
    // 100 lots bid at the top of the band (+3%).
    fx.place(&b, order(BID, POST_ONLY, 25_750, 100))
        .await
        .unwrap();
    let m = fx.margin(&b.account).await;
    assert_eq!(m.positions[0].bid_price_max, 25_750);
    // The index falls 20%: the mark is 20,000 ticks. Filling the bid would lose
    // 5,750 × 100 lots × 100 = $57.50, on top of the $20 initial margin of 100 long lots.
    fx.advance(10, INDEX_PRICE * 4 / 5).await;
    let i = fx.withdraw_ix(&b, &b.owner.pubkey(), 50 * USD);
    fx.refused(
        &[a.account, b.account],
        &[i],
        &[&b.owner],
        Some(E::InsufficientMargin),
    )
    .await;
    let i = fx.withdraw_ix(&b, &b.owner.pubkey(), 23 * USD);
    fx.refused(
        &[a.account, b.account],
        &[i],
        &[&b.owner],
        Some(E::InsufficientMargin),
    )
    .await;
    let i = fx.withdraw_ix(&b, &b.owner.pubkey(), 22 * USD);
    fx.t.send(&[i], &[&b.owner]).await.unwrap();
    // The friend sells into the stale bid (a limit inside the new band, filled at the bid's
    // price); once cranked, b holds the loss and still has equity and maintenance margin.
    fx.place(&a, order(ASK, IOC, 20_000, 100)).await.unwrap();
    fx.crank(&[b.account], &a.account, 8).await.unwrap();
    let m = fx.margin(&b.account).await;
    let p = m.positions[0];
    assert_eq!((p.base_lots, p.bid_lots, p.bid_price_max), (100, 0, 0));
    let unrealized = (20_000i64 - 25_750) * 100 * TICK_VALUE as i64;
    let equity = m.collateral + unrealized;
    assert!(equity > 0, "bad debt: equity {equity}");
    let maintenance = 100 * 20_000 * TICK_VALUE as i64 * 650 / 10_000;
    assert!(equity >= maintenance, "equity {equity} below maintenance");
    fx.assert_solvent(&[a.account, b.account]).await;
}

/// A Token-2022 collateral mint with a transfer fee, permanent delegate or transfer hook is
/// refused (the vault must hold exactly what accounts are credited); other extensions are fine.
#[tokio::test]
async fn collateral_mint_extensions() {
    use cfx_tests::compute_token::{create_mint_with_extension, MintExtension as X};
    use compute_futures::state::Exchange;
    let mut fx = Fx::new().await;
    let admin = fx.admin.insecure_clone();
    let create = |mint: Pubkey| {
        let exchange = pda(&[Exchange::SEED, mint.as_ref()]);
        (
            exchange,
            ix(
                acc::CreateExchange {
                    admin: admin.pubkey(),
                    collateral_mint: mint,
                    exchange,
                    collateral_vault: pda(&[Exchange::VAULT_SEED, exchange.as_ref()]),
                    fee_vault: pda(&[Exchange::FEE_VAULT_SEED, exchange.as_ref()]),
                    insurance_vault: pda(&[Exchange::INSURANCE_SEED, exchange.as_ref()]),
                    token_program: cfx_tests::token::token_2022_id(),
                    system_program: anchor_lang::system_program::ID,
                },
                ins::CreateExchange {
                    fees: default_fees(),
                },
            ),
        )
    };
    for ext in [X::PermanentDelegate, X::TransferFee, X::TransferHook] {
        let mint = create_mint_with_extension(&mut fx.t, ext).await;
        let (exchange, i) = create(mint);
        fx.refused(
            &[exchange],
            &[i],
            &[&admin],
            Some(E::UnsupportedCollateralMint),
        )
        .await;
        assert!(fx.t.account(&exchange).await.is_none(), "{ext:?}");
    }
    let mint = create_mint_with_extension(&mut fx.t, X::MintCloseAuthority).await;
    let (exchange, i) = create(mint);
    fx.t.send(&[i], &[&admin]).await.unwrap();
    assert!(fx.t.account(&exchange).await.is_some());
}

/// The mark's EMA weighs trades by size: a one-lot wash trade at the band edge after a quiet
/// spell moves it 1% of the way (reference size 100 lots), where it used to replace it.
#[tokio::test]
async fn one_lot_wash_trade_barely_moves_the_mark() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&a, order(ASK, POST_ONLY, 25_750, 1))
        .await
        .unwrap();
    fx.place(&b, order(BID, IOC, 25_750, 1)).await.unwrap();
    // Seeded from the index mark (25,000) and moved by 750 × 1/100 of a full period.
    assert_eq!(fx.market_state().await.ema_price, 25_007);
    // A quiet period later, a full-size trade moves it all the way to its price.
    fx.advance(300, INDEX_PRICE).await;
    fx.place(&a, order(ASK, POST_ONLY, 25_100, 100))
        .await
        .unwrap();
    fx.place(&b, order(BID, IOC, 25_100, 100)).await.unwrap();
    assert_eq!(fx.market_state().await.ema_price, 25_100);
}
