//! The programs as users meet them: a real local validator (`cfx-test-validator`, its own
//! workspace under validator/) with both SBF binaries deployed, driven only through the
//! `cfx-migrate`, `cfx` and `keeper` binaries as separate processes and the client crate's RPC
//! backend: bootstrap from a deployment file (twice: the second run changes nothing), traders
//! trading through the CLI (one order built from the committed IDL), the keeper publishing the index, cranking, liquidating after an index
//! move (killed and restarted in the middle), settling the market at expiry, then a provider
//! bonding and minting compute tokens of a new delivery window. From the keeper's restart on, the
//! keeper and a late trader reach the validator only through a proxy that misbehaves as public
//! endpoints do (`cfx_tests::rpc_proxy`: rate limits, reads cut off, transactions swallowed or
//! landing late), and the suite checks each of those faults happened. Every check reads the
//! chain back over RPC.
//!
//! Needs the binaries, so it is ignored by default; scripts/test.sh runs it with
//! `CFX_VALIDATOR` (the validator binary), `CFX_BIN_DIR` (cfx, keeper, cfx-migrate) and
//! `SBF_OUT_DIR` (the programs) set.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cfx_client::backend::{Backend, CommitmentConfig, RpcBackend};
use cfx_client::compute_futures::state::{MarginAccount, Market, PriceIndex};
use cfx_client::decode::zero_copy;
use cfx_client::pda;
use cfx_client::setup::{fund, mint_to, token_account};
use cfx_tests::rpc_proxy::{FaultProxy, Faults};
use serde_json::Value;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, write_keypair_file, Keypair};
use solana_sdk::signer::Signer;

const RPC_PORT: u16 = 18_899;
const USD: u64 = 1_000_000;

/// A child process killed when the test ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// On a failure, copies the logs of the run (validator, keeper) to `target/validator-logs`
/// (next to the test binary) before the temporary directory goes.
struct KeepLogsOnFailure(PathBuf);

impl Drop for KeepLogsOnFailure {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let to = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(|d| d.join("validator-logs")))
            .unwrap_or_else(|| PathBuf::from("validator-logs"));
        let _ = std::fs::create_dir_all(&to);
        for name in ["validator.log", "keeper.log"] {
            let _ = std::fs::copy(self.0.join(name), to.join(name));
        }
        eprintln!("validator suite: logs kept in {}", to.display());
    }
}

fn env_path(name: &str) -> PathBuf {
    std::env::var_os(name)
        .unwrap_or_else(|| panic!("{name} must be set (scripts/test.sh sets it)"))
        .into()
}

struct Suite {
    dir: tempfile::TempDir,
    bins: PathBuf,
    url: String,
    b: RpcBackend,
    admin: Keypair,
    collateral: Pubkey,
}

impl Suite {
    /// Runs `bin args`, expecting success; its stdout.
    fn run(&self, bin: &str, args: &[&str]) -> String {
        let out = Command::new(self.bins.join(bin))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{bin}: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{bin} {args:?} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// `cfx --json` as `keypair`, its JSON output.
    fn cfx(&self, keypair: &Path, args: &[&str]) -> Value {
        self.cfx_at(&self.url, keypair, args)
    }

    /// `cfx --json` as `keypair` against the RPC endpoint `url`.
    fn cfx_at(&self, url: &str, keypair: &Path, args: &[&str]) -> Value {
        let mint = self.collateral.to_string();
        let mut all = vec![
            "-u",
            url,
            "-k",
            keypair.to_str().unwrap(),
            "--collateral-mint",
            &mint,
            "--json",
        ];
        all.extend_from_slice(args);
        serde_json::from_str(&self.run("cfx", &all)).expect("cfx prints JSON")
    }

    /// A wallet with SOL and `collateral` in its token account, saved as a keypair file.
    async fn wallet(&self, name: &str, collateral: u64) -> (Keypair, PathBuf) {
        let k = Keypair::new();
        let path = self.dir.path().join(format!("{name}.json"));
        write_keypair_file(&k, &path).unwrap();
        fund(&self.b, &self.admin, &k.pubkey(), 2_000_000_000)
            .await
            .unwrap();
        let spl = anchor_spl::token::ID;
        let ata = token_account(&self.b, &self.admin, &self.collateral, &k.pubkey(), &spl)
            .await
            .unwrap();
        mint_to(
            &self.b,
            &self.admin,
            &spl,
            &self.collateral,
            &ata,
            collateral,
        )
        .await
        .unwrap();
        (k, path)
    }

    async fn account<T: bytemuck::Pod + anchor_lang::Discriminator>(&self, k: &Pubkey) -> T {
        zero_copy(&self.b.get_account(k).await.unwrap().unwrap().data).unwrap()
    }

    async fn now(&self) -> i64 {
        self.b.clock().await.unwrap().unix_timestamp
    }
}

/// Polls `f` every half second until it holds, for at most `secs`.
async fn until<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Starts the validator; returns it once it serves RPC.
fn start_validator(dir: &Path) -> (Proc, Duration) {
    let programs = env_path("SBF_OUT_DIR");
    let log = std::fs::File::create(dir.join("validator.log")).unwrap();
    let started = Instant::now();
    let mut child = Command::new(env_path("CFX_VALIDATOR"))
        .args([
            "--ledger",
            dir.join("ledger").to_str().unwrap(),
            "--rpc-port",
            &RPC_PORT.to_string(),
            "--ports",
            "18000-18040",
            "--faucet-keypair",
            dir.join("faucet.json").to_str().unwrap(),
            "--program",
            &format!(
                "{}={}",
                cfx_client::compute_token::ID,
                programs.join("compute_token.so").display()
            ),
            "--program",
            &format!(
                "{}={}",
                cfx_client::compute_futures::ID,
                programs.join("compute_futures.so").display()
            ),
        ])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start cfx-test-validator");
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("ready") {
                let _ = tx.send(line);
            }
        }
    });
    let ready = rx
        .recv_timeout(Duration::from_secs(180))
        .unwrap_or_else(|_| {
            panic!(
                "the validator did not start; its log:\n{}",
                std::fs::read_to_string(dir.join("validator.log")).unwrap_or_default()
            )
        });
    println!("validator: {ready}");
    (proc, started.elapsed())
}

/// The deployment file of the suite: one cash-settled market expiring at `expiry`, an index
/// on a 10-second TWAP grid, a 30-second settlement window.
fn deployment(expiry: i64) -> String {
    format!(
        r#"
[registry.bond]
mint_keypair = "keys/bond-mint.json"

[[classes]]
symbol = "H100-GPUH"
unit_description = "1 GPU-hour of H100 SXM 80GB"
decimals = 0
bond_per_unit = 2_000_000
grace_period = 600
penalty_bps = 1_000
providers = ["keys/provider.json"]

[exchange]
taker_fee_bps = 10
maker_fee_bps = -2
crank_reward = 100

[exchange.collateral]
mint_keypair = "keys/collateral-mint.json"

[[indexes]]
class = "H100-GPUH"
publishers = ["keys/publisher.json"]
min_publishers = 1
max_staleness = 30
max_conf_bps = 200
twap_interval = 10

[params.fast]
lot_size = 1
tick_value = 100
min_order_lots = 1
max_position_lots = 1_000
max_open_interest = 5_000
initial_margin_bps = 1_000
maintenance_margin_bps = 650
pnl_weight_bps = 5_000
price_band_bps = 300
ema_period = 300
ema_reference_lots = 100
mark_band_max_bps = 1_000
mark_band_min_bps = 50
mark_narrow_period = 86_400
last_trade_before_expiry = 60
liq_end_bps = 800
liq_penalty_bps = 250
liq_insurance_share_bps = 3_000
liq_dust_lots = 2
insurance_cap = 1_000_000_000
insurance_period = 86_400
settle_window = 30
settle_min_updates = 2
settle_fallback_delay = 600
settle_fallback_band_bps = 500

[[markets]]
class = "H100-GPUH"
name = "H100-GPUH-VALIDATOR"
expiry = {expiry}
params = "fast"
book_capacity = 256
queue_capacity = 256
"#
    )
}

#[tokio::test]
#[ignore = "needs the validator and the app binaries: scripts/test.sh runs it"]
async fn a_market_session_on_a_local_validator() {
    let dir = tempfile::tempdir().unwrap();
    let suite_started = Instant::now();
    let (_validator, startup) = start_validator(dir.path());
    let url = format!("http://127.0.0.1:{RPC_PORT}");
    let b = RpcBackend::new(&url, CommitmentConfig::confirmed());
    let admin = read_keypair_file(dir.path().join("faucet.json")).unwrap();
    let mut s = Suite {
        bins: env_path("CFX_BIN_DIR"),
        url,
        b,
        admin,
        collateral: Pubkey::default(),
        dir,
    };
    // Declared after the suite, so dropped before its directory goes.
    let _logs = KeepLogsOnFailure(s.dir.path().to_path_buf());

    // Bootstrap from the deployment file, twice.
    let now = s.now().await;
    let expiry = (now + 240) / 10 * 10;
    let deploy = s.dir.path().join("deploy.toml");
    std::fs::write(&deploy, deployment(expiry)).unwrap();
    let faucet = s.dir.path().join("faucet.json");
    let (deploy_s, faucet_s) = (deploy.to_str().unwrap(), faucet.to_str().unwrap());
    let first = s.run("cfx-migrate", &["-u", &s.url, "-k", faucet_s, deploy_s]);
    assert!(first.contains("market H100-GPUH-VALIDATOR"), "{first}");
    assert!(!first.contains("nothing to do"), "{first}");
    let second = s.run("cfx-migrate", &["-u", &s.url, "-k", faucet_s, deploy_s]);
    assert!(second.contains("nothing to do"), "{second}");
    s.collateral = read_keypair_file(s.dir.path().join("keys/collateral-mint.json"))
        .unwrap()
        .pubkey();
    let exchange = pda::exchange(&s.collateral);
    let class = pda::token::class(&pda::token::registry(), "H100-GPUH");
    let index = pda::price_index(&exchange, &class);
    let market = pda::market(&exchange, &class, expiry);
    let m: Market = s.account(&market).await;
    assert_eq!((m.expiry_ts, m.last_trade_ts), (expiry, expiry - 60));

    // The keeper: publisher (from a price file), crank, liquidator, expiry.
    let (_, keeper_key) = s.wallet("keeper", 2_000 * USD).await;
    s.cfx(&keeper_key, &["create-account"]);
    s.cfx(&keeper_key, &["deposit", "2000"]);
    let price_file = s.dir.path().join("price.json");
    let set_price = |p: u64| {
        std::fs::write(
            &price_file,
            format!("{{\"price\": {p}, \"conf\": {}}}", p / 1_000),
        )
        .unwrap()
    };
    set_price(2_500_000);
    // The keeper's configuration against the RPC endpoint `url`.
    let keeper_config = |url: &str, name: &str| {
        let config = s.dir.path().join(name);
        std::fs::write(
            &config,
            format!(
                r#"url = "{url}"
keypair = "{}"
collateral_mint = "{}"
roles = ["publisher", "crank", "liquidator", "expiry"]
crank_interval_ms = 500
liquidator_interval_ms = 1000
expiry_interval_ms = 2000
confirm_timeout_ms = 10000
metrics_addr = ""
[publisher]
keypair = "{}"
index = "{index}"
source = "file:{}"
interval_ms = 2000
"#,
                keeper_key.display(),
                s.collateral,
                s.dir.path().join("keys/publisher.json").display(),
                price_file.display()
            ),
        )
        .unwrap();
        config
    };
    let config = keeper_config(&s.url, "keeper.toml");
    // The publisher pays its own fees.
    let publisher = read_keypair_file(s.dir.path().join("keys/publisher.json")).unwrap();
    fund(&s.b, &s.admin, &publisher.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let keeper_log = s.dir.path().join("keeper.log");
    let start_keeper = |config: &Path| {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&keeper_log)
            .unwrap();
        Proc(
            Command::new(s.bins.join("keeper"))
                .args(["--config", config.to_str().unwrap()])
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start keeper"),
        )
    };
    let mut keeper = Some(start_keeper(&config));
    until("a fresh index", 60, || async {
        let i: PriceIndex = s.account(&index).await;
        i.price == 2_500_000
    })
    .await;

    // Traders, through the CLI: a maker quotes, a taker and an over-levered trader buy.
    let lots = |a: &MarginAccount| {
        a.positions
            .iter()
            .find(|p| p.market == market)
            .map_or(0, |p| p.base_lots)
    };
    let mk = market.to_string();
    let (_, maker) = s.wallet("maker", 1_000 * USD).await;
    let (taker_kp, taker) = s.wallet("taker", 100 * USD).await;
    let (levered_kp, levered) = s.wallet("levered", 4_500_000).await;
    for (k, amount) in [(&maker, "1000"), (&taker, "100"), (&levered, "4.5")] {
        s.cfx(k, &["create-account"]);
        s.cfx(k, &["deposit", amount]);
    }
    s.cfx(
        &maker,
        &["order", &mk, "buy", "2.49", "20", "--type", "post-only"],
    );
    s.cfx(
        &maker,
        &["order", &mk, "sell", "2.51", "20", "--type", "post-only"],
    );
    let book = s.cfx(&maker, &["book", &mk]);
    assert_eq!(book["asks"][0]["lots"], 20);
    // The taker's order is built from the committed IDL alone (no program types) and sent
    // over RPC.
    let idl = cfx_tests::idl::Idl::load("compute_futures");
    let taker_account = pda::margin_account(&exchange, &taker_kp.pubkey(), 0);
    let accounts: std::collections::HashMap<&str, Pubkey> = [
        ("signer", taker_kp.pubkey()),
        ("exchange", exchange),
        ("account", taker_account),
        ("market", market),
        ("index", index),
        ("book", m.book),
        ("event_queue", m.event_queue),
    ]
    .into_iter()
    .collect();
    let order = idl.instruction(
        "place_order",
        &accounts,
        &serde_json::json!({"args": {
            "side": "Bid", "order_type": "ImmediateOrCancel", "price": 25_100, "lots": 5,
            "client_order_id": 0, "time_in_force": 0, "reduce_only": false,
            "self_trade": "DecrementTake", "match_limit": 16,
        }}),
    );
    cfx_client::sender::send(&s.b, &Default::default(), &taker_kp, &[], &[order])
        .await
        .expect("an IDL-built order lands");
    let a: MarginAccount = s.account(&taker_account).await;
    assert_eq!(lots(&a), 5);
    s.cfx(
        &levered,
        &["order", &mk, "buy", "2.51", "15", "--type", "ioc"],
    );
    let levered_account = pda::margin_account(&exchange, &levered_kp.pubkey(), 0);
    let a: MarginAccount = s.account(&levered_account).await;
    assert_eq!(lots(&a), 15);
    // The keeper cranks the maker's fills.
    let maker_account =
        pda::margin_account(&exchange, &read_keypair_file(&maker).unwrap().pubkey(), 0);
    until("the crank", 60, || async {
        let a: MarginAccount = s.account(&maker_account).await;
        lots(&a) == -20
    })
    .await;

    // From here the keeper and a late trader reach the validator only through proxies that
    // misbehave as public endpoints do: every 11th request rate-limited, every 7th read cut
    // off before its answer, every 3rd transaction broadcast swallowed (it lands only when the
    // sender re-broadcasts it) and every 4th landing two seconds after it was answered; for
    // the keeper also every 5th transaction black-holed (never lands: after its 10 s confirm
    // timeout the next pass does the work with a new one).
    let rpc: std::net::SocketAddr = format!("127.0.0.1:{RPC_PORT}").parse().unwrap();
    let faults = Faults {
        throttle_every: 11,
        cut_every: 7,
        drop_send_every: 3,
        late_send_every: 4,
        late_by: Duration::from_secs(2),
        ..Faults::default()
    };
    let cli_proxy = FaultProxy::start(rpc, faults.clone());
    let keeper_proxy = FaultProxy::start(
        rpc,
        Faults {
            black_hole_every: 5,
            ..faults
        },
    );
    let proxied = keeper_config(&keeper_proxy.url, "keeper-proxied.toml");

    // Restarted in the middle (and now through its proxy), the keeper goes on where it was.
    drop(keeper.take());
    keeper = Some(start_keeper(&proxied));

    // A late trader, with the CLI through its proxy: every command lands once.
    let (late_kp, late) = s.wallet("late", 50 * USD).await;
    s.cfx_at(&cli_proxy.url, &late, &["create-account"]);
    s.cfx_at(&cli_proxy.url, &late, &["deposit", "50"]);
    for (price, cid) in [("2.45", "1"), ("2.46", "2"), ("2.47", "3")] {
        s.cfx_at(
            &cli_proxy.url,
            &late,
            &[
                "order",
                &mk,
                "buy",
                price,
                "2",
                "--type",
                "post-only",
                "--client-id",
                cid,
            ],
        );
    }
    let late_account = pda::margin_account(&exchange, &late_kp.pubkey(), 0);
    let a: MarginAccount = s.account(&late_account).await;
    assert_eq!(a.collateral, 50 * USD as i64, "deposited once");
    let p = a.positions.iter().find(|p| p.market == market).unwrap();
    assert_eq!((p.bid_lots, p.orders), (6, 3), "each order placed once");
    s.cfx_at(&cli_proxy.url, &late, &["cancel", &mk, "--all"]);
    let a: MarginAccount = s.account(&late_account).await;
    assert!(a.orders.iter().all(|o| o.id() == 0));

    // The index falls 6%: the over-levered long is liquidated.
    set_price(2_350_000);
    until("the liquidation", 90, || async {
        let a: MarginAccount = s.account(&levered_account).await;
        lots(&a) < 15
    })
    .await;
    let a: MarginAccount = s.account(&levered_account).await;
    println!("liquidated: the long went from 15 to {} lots", lots(&a));

    // Expiry: the keeper releases the maker's orders, fixes the settlement price from the TWAP
    // and settles every position. The deadline counts from the end of the settlement window on
    // the cluster's clock, which runs slow when slots do (a busy machine).
    until("the settlement window's end", 600, || async {
        s.now().await >= expiry + 30
    })
    .await;
    until("the settlement", 180, || async {
        let m: Market = s.account(&market).await;
        if m.settlement_price == 0 {
            return false;
        }
        let mut open = 0;
        for k in [&maker, &taker, &levered, &keeper_key] {
            let owner = read_keypair_file(k).unwrap().pubkey();
            let a: MarginAccount = s.account(&pda::margin_account(&exchange, &owner, 0)).await;
            open += a.positions.iter().filter(|p| p.market == market).count();
        }
        open == 0
    })
    .await;
    let m: Market = s.account(&market).await;
    assert!(m.settlement_price > 0 && m.open_interest == 0);
    let markets = s.cfx(&maker, &["markets"]);
    assert_eq!(markets["markets"][0]["status"], "settled");
    drop(keeper);
    for (who, proxy, black_holes) in [("cli", &cli_proxy, false), ("keeper", &keeper_proxy, true)] {
        let c = &proxy.counts;
        let mut done = vec![
            ("requests", c.get(&c.requests)),
            ("rate-limited", c.get(&c.throttled)),
            ("cut off", c.get(&c.cut)),
            ("broadcasts swallowed", c.get(&c.dropped)),
            ("landed late", c.get(&c.late)),
        ];
        if black_holes {
            done.push(("black-holed broadcasts", c.get(&c.black_holed)));
        }
        println!("{who} through its faulty proxy: {done:?}");
        assert!(
            done.iter().all(|(_, n)| *n > 0),
            "every fault happened to the {who}: {done:?}"
        );
    }
    drop((cli_proxy, keeper_proxy));

    // A compute provider (approved by the bootstrap) bonds, the admin opens a delivery window,
    // and the provider mints compute tokens to a holder — all through the CLI.
    let provider_key = s.dir.path().join("keys/provider.json");
    let provider = read_keypair_file(&provider_key).unwrap();
    fund(&s.b, &s.admin, &provider.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let bond_mint = read_keypair_file(s.dir.path().join("keys/bond-mint.json"))
        .unwrap()
        .pubkey();
    let spl = anchor_spl::token::ID;
    let bond_src = token_account(&s.b, &s.admin, &bond_mint, &provider.pubkey(), &spl)
        .await
        .unwrap();
    mint_to(&s.b, &s.admin, &spl, &bond_mint, &bond_src, 100 * USD)
        .await
        .unwrap();
    let class_s = class.to_string();
    s.cfx(
        &provider_key,
        &[
            "bond-deposit",
            &class_s,
            "100",
            "--from",
            &bond_src.to_string(),
        ],
    );
    let now = s.now().await;
    let (start, end) = ((now + 3_600).to_string(), (now + 7_200).to_string());
    let window = s.cfx(
        &faucet,
        &[
            "create-window",
            &class_s,
            "--start",
            &start,
            "--end",
            &end,
            "--name",
            "H100 GPU-hour, validator window",
            "--symbol",
            "H100-GPUH-VAL",
        ],
    );
    let window_key: Pubkey = window["window"].as_str().unwrap().parse().unwrap();
    let window_mint: Pubkey = window["mint"].as_str().unwrap().parse().unwrap();
    let holder = read_keypair_file(&maker).unwrap().pubkey();
    let holder_tokens = token_account(
        &s.b,
        &s.admin,
        &window_mint,
        &holder,
        &anchor_spl::token_2022::ID,
    )
    .await
    .unwrap();
    s.cfx(
        &provider_key,
        &[
            "mint",
            &class_s,
            &window_key.to_string(),
            "10",
            "--to",
            &holder_tokens.to_string(),
        ],
    );
    let tokens = s.b.get_account(&holder_tokens).await.unwrap().unwrap();
    assert_eq!(
        u64::from_le_bytes(tokens.data[64..72].try_into().unwrap()),
        10
    );
    let providers = s.cfx(&faucet, &["providers"]);
    assert_eq!(providers["providers"][0]["bond"], 100 * USD);

    println!(
        "validator suite: validator started in {:.1} s, scenario ran in {:.1} s",
        startup.as_secs_f64(),
        suite_started.elapsed().as_secs_f64() - startup.as_secs_f64()
    );
}
