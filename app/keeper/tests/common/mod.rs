//! The keeper tests' fixture: an exchange, one market and a funded keeper on the in-process
//! bank.
#![allow(dead_code)]

use std::sync::Arc;

use cfx_client::backend::Backend;
use cfx_client::bank::{program_test, BankBackend};
use cfx_client::compute_token::instructions::CreateClassArgs;
use cfx_client::decode::{event_queue, zero_copy};
use cfx_client::ix::{self, order, MarketKeys, OrderKind, OrderSide};
use cfx_client::sender::{send, SendConfig};
use cfx_client::setup::{Session, Trader};
use cfx_keeper::{Keeper, Metrics};
use compute_futures::instructions::MarketParams;
use compute_futures::state::{MarginAccount, Market};
use solana_sdk::signer::Signer;

pub const USD: u64 = 1_000_000;
/// 2026-12-01 00:00 UTC.
pub const T0: i64 = 1_796_083_200;
pub const INDEX: u64 = 2_500_000;
pub const MID: u64 = 25_000;
pub const EXPIRY: i64 = T0 + 7 * 86_400;

pub fn class() -> CreateClassArgs {
    cfx_client::setup::h100_class()
}

pub fn params(expiry: i64) -> MarketParams {
    let mut p = cfx_client::setup::market_params("H100-GPUH-2026W50", expiry);
    p.max_open_interest = 50_000;
    p
}

pub struct Fx {
    pub b: Arc<BankBackend>,
    pub s: Session,
    pub m: MarketKeys,
    pub keeper: Keeper<BankBackend>,
}

impl Fx {
    pub async fn new() -> Fx {
        let b = Arc::new(BankBackend::start(program_test()).await);
        b.set_time(T0).await;
        let admin = b.payer.insecure_clone();
        let fees = cfx_client::setup::default_fees();
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

    pub async fn trader(&self, deposit: u64) -> Trader {
        self.s.trader(&*self.b, deposit).await.unwrap()
    }

    pub async fn place(&self, t: &Trader, side: OrderSide, kind: OrderKind, price: u64, lots: u64) {
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

    pub async fn queue_len(&self) -> usize {
        let a = self
            .b
            .get_account(&self.m.event_queue)
            .await
            .unwrap()
            .unwrap();
        event_queue(&a.data, &self.m.market).unwrap().len()
    }

    pub async fn margin(&self, key: &solana_sdk::pubkey::Pubkey) -> MarginAccount {
        zero_copy(&self.b.get_account(key).await.unwrap().unwrap().data).unwrap()
    }

    pub async fn market(&self) -> Market {
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

    pub async fn advance(&self, seconds: i64, price: u64) {
        let now = self.b.clock().await.unwrap().unix_timestamp + seconds;
        self.b.set_time(now).await;
        self.b.warp_slots(1).await;
        self.s.publish(&*self.b, price, now).await.unwrap();
    }
}
