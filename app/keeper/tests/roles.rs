//! The keeper's roles on the in-process bank (natively, or on the SBF binaries with
//! `SBF_OUT_DIR`): the crank drains queues and continues after a restart, the liquidator finds
//! and liquidates an account after an index move, the expiry role settles a whole market.

use std::collections::HashMap;
use std::sync::Arc;

use cfx_client::backend::Backend;
use cfx_client::bank::{program_test, BankBackend};
use cfx_client::compute_token::instructions::CreateClassArgs;
use cfx_client::decode::{event_queue, zero_copy};
use cfx_client::ix::{self, order, MarketKeys, OrderKind, OrderSide};
use cfx_client::sender::{send, SendConfig};
use cfx_client::setup::{Session, Trader};
use cfx_keeper::roles;
use cfx_keeper::{Keeper, Metrics};
use compute_futures::instructions::{FeeSchedule, MarketParams};
use compute_futures::state::{MarginAccount, Market};
use solana_sdk::signer::Signer;

const USD: u64 = 1_000_000;
/// 2026-12-01 00:00 UTC.
const T0: i64 = 1_796_083_200;
const INDEX: u64 = 2_500_000;
const MID: u64 = 25_000;
const EXPIRY: i64 = T0 + 7 * 86_400;

fn class() -> CreateClassArgs {
    CreateClassArgs {
        symbol: "H100-GPUH".into(),
        unit_description: "1 GPU-hour of H100 SXM 80GB".into(),
        decimals: 0,
        bond_per_unit: 2_000_000,
        grace_period: 600,
        penalty_bps: 1_000,
    }
}

fn params(expiry: i64) -> MarketParams {
    let mut name = [0u8; 24];
    name[..17].copy_from_slice(b"H100-GPUH-2026W50");
    MarketParams {
        name,
        lot_size: 1,
        tick_value: 100,
        min_order_lots: 1,
        max_position_lots: 1_000,
        max_open_interest: 50_000,
        initial_margin_bps: 1_000,
        maintenance_margin_bps: 650,
        pnl_weight_bps: 5_000,
        price_band_bps: 300,
        ema_period: 300,
        ema_reference_lots: 100,
        mark_band_max_bps: 1_000,
        mark_band_min_bps: 50,
        mark_narrow_period: 86_400,
        last_trade_ts: expiry - 3_600,
        expiry_ts: expiry,
        liq_end_bps: 800,
        liq_penalty_bps: 250,
        liq_insurance_share_bps: 3_000,
        liq_dust_lots: 2,
        insurance_cap: 1_000_000_000,
        insurance_period: 86_400,
        settle_window: 1_800,
        settle_min_updates: 5,
        settle_fallback_delay: 3_600,
        settle_fallback_band_bps: 500,
        delivery_cutoff_ts: expiry - 600,
        delivery_penalty_bps: 1_000,
    }
}

struct Fx {
    b: Arc<BankBackend>,
    s: Session,
    m: MarketKeys,
    keeper: Keeper<BankBackend>,
}

impl Fx {
    async fn new() -> Fx {
        let b = Arc::new(BankBackend::start(program_test()).await);
        b.set_time(T0).await;
        let admin = b.payer.insecure_clone();
        let fees = FeeSchedule {
            taker_fee_bps: 10,
            maker_fee_bps: -2,
            crank_reward: 100,
        };
        let mut s = Session::open(&*b, admin, class(), fees, 1, 60)
            .await
            .unwrap();
        s.publish(&*b, INDEX, T0).await.unwrap();
        let m = s.list_market(&*b, params(EXPIRY), 256, 256).await.unwrap();
        let k = s.trader(&*b, 1_000 * USD).await.unwrap();
        let keeper = Keeper {
            backend: b.clone(),
            payer: k.owner,
            account: k.account,
            exchange: s.exchange,
            markets: Vec::new(),
            send: SendConfig::default(),
            metrics: Arc::new(Metrics::default()),
            max_per_pass: 64,
        };
        Fx { b, s, m, keeper }
    }

    async fn trader(&self, deposit: u64) -> Trader {
        self.s.trader(&*self.b, deposit).await.unwrap()
    }

    async fn place(&self, t: &Trader, side: OrderSide, kind: OrderKind, price: u64, lots: u64) {
        let mut args = order(side, kind, price, lots);
        args.match_limit = 32;
        let i = ix::place_order(
            &t.owner.pubkey(),
            &self.s.exchange.exchange,
            &t.account,
            &self.m,
            args,
            &[],
        );
        send(&*self.b, &SendConfig::default(), &t.owner, &[], &[i])
            .await
            .unwrap();
    }

    async fn queue_len(&self) -> usize {
        let a = self
            .b
            .get_account(&self.m.event_queue)
            .await
            .unwrap()
            .unwrap();
        event_queue(&a.data, &self.m.market).unwrap().len()
    }

    async fn margin(&self, key: &solana_sdk::pubkey::Pubkey) -> MarginAccount {
        zero_copy(&self.b.get_account(key).await.unwrap().unwrap().data).unwrap()
    }

    async fn market(&self) -> Market {
        zero_copy(
            &self
                .b
                .get_account(&self.m.market)
                .await
                .unwrap()
                .unwrap()
                .data,
        )
        .unwrap()
    }

    async fn advance(&self, seconds: i64, price: u64) {
        let now = self.b.clock().await.unwrap().unix_timestamp + seconds;
        self.b.set_time(now).await;
        self.b.warp_slots(1).await;
        self.s.publish(&*self.b, price, now).await.unwrap();
    }
}

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
