//! `cfx-sandbox`: a whole cfx market session in-process — both programs on the in-process bank
//! (natively, or the SBF binaries when `SBF_OUT_DIR` is set), no validator. A compute-token
//! registry and H100 class, a provider minting delivery-window tokens, an exchange and its index
//! moved by a publisher, two series (one cash-settled, one physically delivered), makers quoting
//! both sides, takers, one trader who over-levers and is liquidated, and the production keeper
//! roles (publisher, crank, liquidator, expiry) doing their jobs; then both series expire, settle
//! (one with delivery of compute tokens) and close, and every vault is checked.
//!
//! `cargo run -p cfx-sandbox -- [--traders 50] [--orders 5000] [--seed N] [--json]`

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use cfx_client::backend::Backend;
use cfx_client::bank::{program_test, sbf, BankBackend};
use cfx_client::compute_futures::instructions::{MarketParams, OrderArgs};
use cfx_client::compute_futures::state::{MarginAccount, Market};
use cfx_client::compute_token::instructions::CreateWindowArgs;
use cfx_client::decode::zero_copy;
use cfx_client::errors::describe;
use cfx_client::ix::{self, order, MarketKeys, OrderKind, OrderSide};
use cfx_client::sender::{send, SendConfig};
use cfx_client::setup::{mint_to, token_account, Session, Trader};
use cfx_client::{pda, token_ix};
use cfx_keeper::roles::{self, PriceSource};
use cfx_keeper::{Keeper, Metrics};
use clap::Parser;
use serde::Serialize;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;

#[derive(Parser, Debug)]
#[command(name = "cfx-sandbox", about = "A whole cfx market session in-process")]
struct Args {
    /// Simulated traders (a fifth of them market makers, one over-levered).
    #[arg(long, default_value_t = 50)]
    traders: usize,
    /// Orders to place in all (quotes and taker orders).
    #[arg(long, default_value_t = 5_000)]
    orders: usize,
    #[arg(long, default_value_t = 0xcf0c_5a4d)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

const USD: u64 = 1_000_000;
const TICK_VALUE: u64 = 100;
/// 2026-12-01 00:00 UTC.
const T0: i64 = 1_796_083_200;
const INDEX: u64 = 2_500_000;
const SECONDS_PER_ROUND: i64 = 30;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The index the publisher role posts: a walk the session drives.
struct Scripted(Arc<AtomicU64>);

impl PriceSource for Scripted {
    fn quote(&mut self, _now: i64) -> Option<(u64, u64)> {
        let p = self.0.load(Relaxed);
        Some((p, p / 1_000))
    }
}

fn dollars(ticks: u64) -> f64 {
    (ticks * TICK_VALUE) as f64 / USD as f64
}

fn params(name: &str, last_trade: i64, expiry: i64) -> MarketParams {
    let mut p = cfx_client::setup::market_params(name, expiry);
    p.last_trade_ts = last_trade;
    p.max_position_lots = 2_000;
    p.max_open_interest = 200_000;
    p.mark_narrow_period = 3_600;
    p.insurance_cap = 1_000 * USD;
    p
}

#[derive(Default, Serialize)]
struct Report {
    mode: String,
    traders: usize,
    orders_placed: u64,
    orders_refused: u64,
    refusals: BTreeMap<String, u64>,
    transactions: u64,
    volume_lots: u64,
    volume_usd: f64,
    fees_usd: f64,
    events_cranked: u64,
    crank_rewards_usd: f64,
    liquidations: u64,
    bankruptcies_resolved: u64,
    keeper_pass_errors: u64,
    /// Markets that could not be closed, and why (none in a complete session).
    not_closed: Vec<String>,
    markets: Vec<MarketReport>,
    delivered_tokens: u64,
    window_supply_unchanged: bool,
    vault_balanced: bool,
    seconds: f64,
    /// Median compute units per instruction kind (SBF binaries only).
    compute_units: BTreeMap<String, u64>,
}

#[derive(Default, Serialize)]
struct MarketReport {
    name: String,
    physical: bool,
    settlement_price_ticks: u64,
    settlement_price_usd: f64,
    accounts_settled: u64,
    delivered_lots: u64,
    volume_lots: u64,
}

struct Sandbox {
    b: Arc<BankBackend>,
    s: Session,
    report: Report,
    cu: BTreeMap<&'static str, Vec<u64>>,
    client_id: u64,
    /// Keeper passes that failed (retried on the next pass, as a keeper process does).
    keeper_errors: u64,
}

impl Sandbox {
    /// Sends a trader's transaction straight to the bank (traders are simulated users: no
    /// simulation first); counts what it did.
    async fn trade(
        &mut self,
        kind: &'static str,
        signer: &Keypair,
        ixs: &[Instruction],
        orders: u64,
    ) -> bool {
        let blockhash = self.b.latest_blockhash().await.expect("blockhash");
        let tx = Transaction::new_signed_with_payer(
            ixs,
            Some(&self.s.admin.pubkey()),
            &[&self.s.admin, signer],
            blockhash,
        );
        let (r, cu, _) = self.b.process(&tx).await.expect("bank");
        self.report.transactions += 1;
        match r {
            Ok(()) => {
                self.report.orders_placed += orders;
                self.cu.entry(kind).or_default().push(cu);
                true
            }
            Err(e) => {
                self.report.orders_refused += orders.max(1);
                let name = describe(&e, &[cfx_client::compute_futures::ID; 4]);
                let name = name.split(' ').next().unwrap_or("?").to_string();
                *self.report.refusals.entry(name).or_default() += 1;
                false
            }
        }
    }

    async fn margin(&self, key: &Pubkey) -> MarginAccount {
        zero_copy(&self.b.get_account(key).await.unwrap().unwrap().data).unwrap()
    }

    async fn market(&self, key: &Pubkey) -> Market {
        zero_copy(&self.b.get_account(key).await.unwrap().unwrap().data).unwrap()
    }

    /// Where makers quote and takers aim in `m` at `now`: the index in ticks, within 2% of the
    /// mark (the exchange refuses prices more than 3% away).
    async fn center(&self, m: &MarketKeys, now: i64) -> u64 {
        let market = self.market(&m.market).await;
        let index: cfx_client::compute_futures::state::PriceIndex =
            zero_copy(&self.b.get_account(&m.index).await.unwrap().unwrap().data).unwrap();
        match cfx_client::compute_futures::health::prices(&market, &index, now) {
            Ok(p) => p.index.clamp(p.mark - p.mark / 50, p.mark + p.mark / 50),
            Err(_) => index.price / TICK_VALUE,
        }
    }

    fn next_id(&mut self) -> u64 {
        self.client_id += 1;
        self.client_id
    }
}

fn position(acc: &MarginAccount, market: &Pubkey) -> i64 {
    acc.positions
        .iter()
        .find(|p| p.market == *market)
        .map(|p| p.base_lots)
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    if std::env::var_os("RUST_LOG").is_none() {
        // solana-program-test logs every instruction; the session reports its own.
        std::env::set_var("RUST_LOG", "error");
    }
    let started = Instant::now();
    // Natively, the programs' error logs go to stdout; the session reports on its own.
    let quiet = Quiet::start();
    let traders_n = args.traders.max(4);
    let b = Arc::new(BankBackend::start(program_test()).await);
    b.set_time(T0).await;
    let admin = b.payer.insecure_clone();
    let fees = cfx_client::setup::default_fees();
    let class = cfx_client::setup::h100_class();
    let mut s = Session::open(&*b, admin, class, fees, 1, 120)
        .await
        .expect("exchange");
    let cfg = SendConfig::default();

    // A provider bonds and opens a delivery window after the physical series expires.
    let provider = Keypair::new();
    cfx_client::setup::fund(&*b, &s.admin, &provider.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let admin_key = s.admin.pubkey();
    send(
        &*b,
        &cfg,
        &s.admin,
        &[],
        &[token_ix::approve_provider(
            &admin_key,
            &s.class,
            &provider.pubkey(),
        )],
    )
    .await
    .unwrap();
    let bond_src = token_account(
        &*b,
        &s.admin,
        &s.bond.mint,
        &provider.pubkey(),
        &s.bond.token_program,
    )
    .await
    .unwrap();
    mint_to(
        &*b,
        &s.admin,
        &s.bond.token_program,
        &s.bond.mint,
        &bond_src,
        100_000 * USD,
    )
    .await
    .unwrap();
    send(
        &*b,
        &cfg,
        &provider,
        &[],
        &[token_ix::deposit_bond(
            &provider.pubkey(),
            &s.class,
            &s.bond,
            &bond_src,
            100_000 * USD,
        )],
    )
    .await
    .unwrap();
    let (cash_expiry, phys_expiry) = (T0 + 4 * 3_600, T0 + 5 * 3_600);
    let (i, window, window_mint) = token_ix::create_window(
        &admin_key,
        &s.class,
        CreateWindowArgs {
            start: phys_expiry + 3_600,
            end: phys_expiry + 7_200,
            name: "H100 GPU-hour, 2026-12-01 06:00".into(),
            symbol: "H100-GPUH-2026W49".into(),
            uri: "https://cfx.example/windows/H100-GPUH-2026W49.json".into(),
        },
    );
    send(&*b, &cfg, &s.admin, &[], &[i]).await.unwrap();

    // The publisher role posts the index; the session scripts its path.
    let price = Arc::new(AtomicU64::new(INDEX));
    let mut source = Scripted(price.clone());
    let publisher = s.publishers[0].insecure_clone();

    // Two series: cash-settled and physically delivered.
    let cash = s
        .list_market(
            &*b,
            params("H100-GPUH-CASH", cash_expiry - 1_800, cash_expiry),
            1_024,
            512,
        )
        .await
        .unwrap();
    let (book, queue) = (Keypair::new(), Keypair::new());
    let mut ixs =
        ix::create_book_accounts(&admin_key, &book.pubkey(), &queue.pubkey(), 1_024, 512).to_vec();
    ixs.push(ix::create_market(
        &admin_key,
        &s.exchange.exchange,
        &s.class,
        &book.pubkey(),
        &queue.pubkey(),
        Some((window, window_mint)),
        params("H100-GPUH-DLVR", phys_expiry - 3_000, phys_expiry),
    ));
    send(&*b, &cfg, &s.admin, &[&book, &queue], &ixs)
        .await
        .unwrap();
    let phys_key = pda::market(&s.exchange.exchange, &s.class, phys_expiry);
    let phys = MarketKeys::of(
        &phys_key,
        &zero_copy::<Market>(&b.get_account(&phys_key).await.unwrap().unwrap().data).unwrap(),
    );
    let markets = [cash, phys];

    // Traders: a fifth makers (holding window tokens to deliver), one over-levered, the rest takers.
    let makers_n = (traders_n / 5).max(1);
    let mut makers = Vec::new();
    let mut takers = Vec::new();
    let mut maker_units = Vec::new();
    for n in 0..traders_n - 1 {
        if n < makers_n {
            let t = s.trader(&*b, 50_000 * USD).await.unwrap();
            let units = token_account(
                &*b,
                &s.admin,
                &window_mint,
                &t.owner.pubkey(),
                &anchor_spl::token_2022::ID,
            )
            .await
            .unwrap();
            send(
                &*b,
                &cfg,
                &provider,
                &[],
                &[token_ix::mint_units(
                    &provider.pubkey(),
                    &s.class,
                    &window,
                    &units,
                    500,
                )],
            )
            .await
            .unwrap();
            maker_units.push(units);
            makers.push(t);
        } else {
            takers.push(s.trader(&*b, 3_000 * USD).await.unwrap());
        }
    }
    let levered = s.trader(&*b, 15 * USD).await.unwrap();
    let keeper_trader = s.trader(&*b, 20_000 * USD).await.unwrap();
    let keeper = Keeper {
        backend: b.clone(),
        payer: keeper_trader.owner.insecure_clone(),
        account: keeper_trader.account,
        exchange: s.exchange,
        markets: Vec::new(),
        send: SendConfig::default(),
        metrics: Arc::new(Metrics::default()),
        max_per_pass: 256,
    };
    let supply_before = mint_supply(&b, &window_mint).await;

    let mut sb = Sandbox {
        b: b.clone(),
        s,
        report: Report {
            mode: if sbf() {
                "SBF binaries".into()
            } else {
                "native processors".into()
            },
            traders: traders_n,
            ..Report::default()
        },
        cu: BTreeMap::new(),
        client_id: 0,
        keeper_errors: 0,
    };
    let mut rng = Rng(args.seed | 1);
    let mut ids = HashMap::new();
    let per_round = makers_n as u64 * 6 + (takers.len() as u64).min(20);
    let rounds = (args.orders as u64).div_ceil(per_round.max(1)).max(4);
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(args.orders as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} orders  {msg}").unwrap(),
    );
    let mut index = INDEX;
    for round in 0..rounds {
        // The index walks ±0.4% a round; halfway it falls 18% at once.
        index = if round == rounds / 2 {
            index * 82 / 100
        } else {
            index * (996 + rng.below(9)) / 1_000
        };
        price.store(index, Relaxed);
        let now = T0 + (round as i64 + 1) * SECONDS_PER_ROUND;
        b.set_time(now).await;
        b.warp_slots(1).await;
        roles::publish_pass(&keeper, &publisher, &sb.s.index, &mut source)
            .await
            .unwrap();
        // Quotes center on the index (fair value), pulled inside the price band the exchange
        // enforces around each series' mark.
        let mut centers = [0u64; 2];
        for (c, m) in centers.iter_mut().zip(&markets) {
            *c = sb.center(m, now).await;
        }
        if round == 1 {
            // The over-levered trader buys 55 lots ($137.50) on $15 of collateral.
            let m = markets[0];
            let args = order(OrderSide::Bid, OrderKind::Market, 0, 55);
            let i = ix::place_order(
                &levered.owner.pubkey(),
                &sb.s.exchange.exchange,
                &levered.account,
                &m,
                args,
                &[],
            );
            let owner = levered.owner.insecure_clone();
            sb.trade("place_order (market)", &owner, &[i], 1).await;
        }
        // Makers requote both sides of one series, within their position limit.
        for mk in &makers {
            let which = rng.below(2) as usize;
            let (m, fair) = (markets[which], centers[which]);
            let acc = sb.margin(&mk.account).await;
            let pos = position(&acc, &m.market);
            let mut orders: Vec<OrderArgs> = Vec::new();
            let (mut bid_room, mut ask_room) =
                ((1_500 - pos).max(0) as u64, (1_500 + pos).max(0) as u64);
            for k in 0..3u64 {
                let lots = 5 + rng.below(40);
                let spread = 5 + k * 10 + rng.below(5);
                if bid_room >= lots {
                    let mut o = order(
                        OrderSide::Bid,
                        OrderKind::PostOnlySlide,
                        fair - spread,
                        lots,
                    );
                    o.client_order_id = sb.next_id();
                    orders.push(o);
                    bid_room -= lots;
                }
                if ask_room >= lots {
                    let mut o = order(
                        OrderSide::Ask,
                        OrderKind::PostOnlySlide,
                        fair + spread,
                        lots,
                    );
                    o.client_order_id = sb.next_id();
                    orders.push(o);
                    ask_room -= lots;
                }
            }
            let others = other_health(&acc, &markets, &m.market);
            let n = orders.len() as u64;
            let i = ix::cancel_all_and_place(
                &mk.owner.pubkey(),
                &sb.s.exchange.exchange,
                &mk.account,
                &m,
                orders,
                &others,
            );
            let owner = mk.owner.insecure_clone();
            sb.trade("cancel_all_and_place (6 quotes)", &owner, &[i], n)
                .await;
        }
        // Takers send IOC orders of 1-30 lots, crossing up to 20 ticks.
        for _ in 0..(takers.len()).min(20) {
            let t = &takers[rng.below(takers.len() as u64) as usize];
            let which = rng.below(2) as usize;
            let (m, fair) = (markets[which], centers[which]);
            let acc = sb.margin(&t.account).await;
            let side = if rng.below(2) == 0 {
                OrderSide::Bid
            } else {
                OrderSide::Ask
            };
            let limit = if side == OrderSide::Bid {
                fair + 20
            } else {
                fair - 20
            };
            let mut o = order(side, OrderKind::ImmediateOrCancel, limit, 1 + rng.below(30));
            o.client_order_id = sb.next_id();
            let others = other_health(&acc, &markets, &m.market);
            let i = ix::place_order(
                &t.owner.pubkey(),
                &sb.s.exchange.exchange,
                &t.account,
                &m,
                o,
                &others,
            );
            let owner = t.owner.insecure_clone();
            sb.trade("place_order (IOC)", &owner, &[i], 1).await;
        }
        // The keeper: crank both queues, then look for liquidations.
        sb.keeper_errors += roles::crank_pass(&keeper, &mut ids).await.is_err() as u64;
        sb.keeper_errors += roles::liquidation_pass(&keeper).await.is_err() as u64;
        bar.set_position(
            (sb.report.orders_placed + sb.report.orders_refused).min(args.orders as u64),
        );
        bar.set_message(format!("index ${:.4}", index as f64 / USD as f64));
    }
    bar.finish_and_clear();

    // The settlement windows and both expiries pass; the publisher keeps quoting and the keeper
    // releases orders, fixes prices and settles. Between the physical series' last trade and its
    // delivery cut-off, longs opt in to take delivery and makers that are short opt in and escrow
    // (one of them opts in and escrows nothing).
    let mut t = cash_expiry - 1_800;
    let mut opted = false;
    while t <= phys_expiry + 60 {
        b.set_time(t).await;
        b.warp_slots(1).await;
        index = index * (998 + rng.below(5)) / 1_000;
        price.store(index, Relaxed);
        roles::publish_pass(&keeper, &publisher, &sb.s.index, &mut source)
            .await
            .unwrap();
        if !opted && t >= phys_expiry - 3_000 {
            opted = true;
            sb.keeper_errors += roles::expiry_pass(&keeper, &mut ids).await.is_err() as u64;
            sb.keeper_errors += roles::crank_pass(&keeper, &mut ids).await.is_err() as u64;
            delivery_opt_ins(&mut sb, &takers, &makers, &maker_units, &markets).await;
        }
        sb.keeper_errors += roles::crank_pass(&keeper, &mut ids).await.is_err() as u64;
        sb.keeper_errors += roles::expiry_pass(&keeper, &mut ids).await.is_err() as u64;
        t += 300;
    }
    for _ in 0..3 {
        sb.keeper_errors += roles::expiry_pass(&keeper, &mut ids).await.is_err() as u64;
        sb.keeper_errors += roles::liquidation_pass(&keeper).await.is_err() as u64;
        sb.keeper_errors += roles::crank_pass(&keeper, &mut ids).await.is_err() as u64;
    }

    // The report, then the admin closes both series.
    for m in &markets {
        let st = sb.market(&m.market).await;
        sb.report.volume_lots += st.volume_lots;
        sb.report.fees_usd += st.fees_accrued as f64 / USD as f64;
        sb.report.delivered_tokens += st.delivered_lots;
        let name = String::from_utf8_lossy(&st.name)
            .trim_end_matches('\0')
            .to_string();
        sb.report.markets.push(MarketReport {
            name,
            physical: m.delivery.is_some(),
            settlement_price_ticks: st.settlement_price,
            settlement_price_usd: dollars(st.settlement_price),
            accounts_settled: st.settled_accounts,
            delivered_lots: st.delivered_lots,
            volume_lots: st.volume_lots,
        });
        let i = ix::close_market(&admin_key, &sb.s.exchange, m, None);
        send(&*b, &cfg, &sb.s.admin, &[], &[i])
            .await
            .expect("close the market");
    }
    sb.report.volume_usd = sb.report.volume_lots as f64 * dollars(INDEX / TICK_VALUE);
    let km = &keeper.metrics;
    sb.report.events_cranked = Metrics::get(&km.events_cranked);
    sb.report.crank_rewards_usd = Metrics::get(&km.rewards_earned) as f64 / USD as f64;
    sb.report.liquidations = Metrics::get(&km.liquidations);
    sb.report.bankruptcies_resolved = Metrics::get(&km.bankruptcies_resolved);
    sb.report.window_supply_unchanged = mint_supply(&b, &window_mint).await == supply_before;
    // Every quote unit in the collateral vault belongs to a margin account.
    let mut sum: i128 = 0;
    for (_, a) in cfx_keeper::chain::margin_accounts(&*b, &sb.s.exchange.exchange)
        .await
        .unwrap()
    {
        sum += a.collateral as i128;
        assert!(
            a.positions.iter().all(|p| p.market == Pubkey::default()),
            "a position survived expiry"
        );
    }
    let vault = token_amount(&b, &sb.s.exchange.vault).await as i128;
    sb.report.vault_balanced = vault == sum;
    sb.report.seconds = started.elapsed().as_secs_f64();
    sb.report.keeper_pass_errors = sb.keeper_errors;
    if sbf() {
        for (k, mut v) in std::mem::take(&mut sb.cu) {
            v.sort_unstable();
            sb.report
                .compute_units
                .insert(k.to_string(), v[v.len() / 2]);
        }
    }
    drop(quiet);
    let r = &sb.report;
    if args.json {
        println!("{}", serde_json::to_string_pretty(r).unwrap());
    } else {
        println!(
            "cfx sandbox ({}): {} traders, {:.1} s",
            r.mode, r.traders, r.seconds
        );
        println!(
            "orders: {} placed, {} refused {:?}; {} transactions",
            r.orders_placed, r.orders_refused, r.refusals, r.transactions
        );
        println!(
            "volume {} lots (~${:.0}); fees ${:.2}; {} events cranked, crank rewards ${:.4}",
            r.volume_lots, r.volume_usd, r.fees_usd, r.events_cranked, r.crank_rewards_usd
        );
        println!(
            "liquidations {}, bankruptcies resolved {}",
            r.liquidations, r.bankruptcies_resolved
        );
        for m in &r.markets {
            println!(
                "{}: settled at {} ticks (${:.4} per GPU-hour), {} accounts settled, {} GPU-hours delivered{}",
                m.name,
                m.settlement_price_ticks,
                m.settlement_price_usd,
                m.accounts_settled,
                m.delivered_lots,
                if m.physical { " (physical)" } else { "" }
            );
        }
        println!(
            "window token supply unchanged: {}; collateral vault = Σ collateral: {}",
            r.window_supply_unchanged, r.vault_balanced
        );
        for (k, v) in &r.compute_units {
            println!("  {k}: {v} CU (median)");
        }
    }
    for n in &r.not_closed {
        eprintln!("not closed: {n}");
    }
    if !(r.vault_balanced && r.window_supply_unchanged && r.not_closed.is_empty()) {
        std::process::exit(1);
    }
}

/// The (market, index) pairs of `acc`'s positions other than `skip`, in slot order.
fn other_health(
    acc: &MarginAccount,
    markets: &[MarketKeys],
    skip: &Pubkey,
) -> Vec<(Pubkey, Pubkey)> {
    acc.positions
        .iter()
        .filter(|p| p.market != Pubkey::default() && p.market != *skip)
        .filter_map(|p| {
            markets
                .iter()
                .find(|m| m.market == p.market)
                .map(|m| (m.market, m.index))
        })
        .collect()
}

async fn mint_supply(b: &BankBackend, mint: &Pubkey) -> u64 {
    let a = b.get_account(mint).await.unwrap().unwrap();
    u64::from_le_bytes(a.data[36..44].try_into().unwrap())
}

async fn token_amount(b: &BankBackend, account: &Pubkey) -> u64 {
    let a = b.get_account(account).await.unwrap().unwrap();
    u64::from_le_bytes(a.data[64..72].try_into().unwrap())
}

/// Longs opt half their lots in to delivery; short makers opt half in and escrow the tokens, but
/// the first of them escrows nothing (it pays the penalty to the longs it failed).
async fn delivery_opt_ins(
    sb: &mut Sandbox,
    takers: &[Trader],
    makers: &[Trader],
    maker_units: &[Pubkey],
    markets: &[MarketKeys; 2],
) {
    let phys = markets[1];
    let decoded = [
        (markets[0].market, sb.market(&markets[0].market).await),
        (phys.market, sb.market(&phys.market).await),
    ];
    let mut failing_short_done = false;
    for t in takers.iter().chain(makers) {
        let acc = sb.margin(&t.account).await;
        let pos = position(&acc, &phys.market);
        let maker = makers.iter().position(|m| m.account == t.account);
        if pos == 0 || (pos < 0 && maker.is_none()) {
            continue;
        }
        let lots = (pos.unsigned_abs() / 2).max(1);
        let health = cfx_client::views::health_accounts(&acc, &decoded, None).unwrap_or_default();
        let i = ix::opt_in_delivery(&t.owner.pubkey(), &t.account, &phys, lots, &health);
        let owner = t.owner.insecure_clone();
        if !sb.trade("opt_in_delivery", &owner, &[i], 0).await || pos > 0 {
            continue;
        }
        if !failing_short_done {
            failing_short_done = true;
            continue;
        }
        let units = maker_units[maker.unwrap()];
        let i = ix::escrow_delivery(
            &t.owner.pubkey(),
            &sb.s.exchange.exchange,
            &t.account,
            &phys,
            &units,
        )
        .expect("a physical series");
        sb.trade("escrow_delivery", &owner, &[i], 0).await;
    }
}

/// Sends stdout to /dev/null until dropped (the native programs print their error logs there).
struct Quiet(Option<i32>);

impl Quiet {
    fn start() -> Quiet {
        if std::env::var_os("CFX_SANDBOX_LOGS").is_some() {
            return Quiet(None);
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: plain file-descriptor calls on fds this process owns.
        unsafe {
            let saved = libc::dup(1);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if saved < 0 || null < 0 {
                return Quiet(None);
            }
            libc::dup2(null, 1);
            libc::close(null);
            Quiet(Some(saved))
        }
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        if let Some(saved) = self.0.take() {
            use std::io::Write;
            let _ = std::io::stdout().flush();
            // SAFETY: restores the descriptor saved in `start`.
            unsafe {
                libc::dup2(saved, 1);
                libc::close(saved);
            }
        }
    }
}
