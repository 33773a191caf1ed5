//! `keeper`: runs the cfx keeper roles against a cluster until SIGINT or SIGTERM.
//!
//! ```sh
//! keeper --config keeper.toml
//! keeper --url devnet --keypair ~/.config/solana/id.json --collateral-mint <MINT> --roles crank,liquidator
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cfx_client::backend::CommitmentConfig;
use cfx_client::backend::RpcBackend;
use cfx_client::ix::ExchangeKeys;
use cfx_client::sender::{FeePolicy, SendConfig};
use cfx_keeper::config::{expand_home, Config, Fees, Role};
use cfx_keeper::roles::{self, FixedPrice, JsonFile, PriceSource, RandomWalk};
use cfx_keeper::{Keeper, Metrics};
use clap::Parser;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair};
use solana_sdk::signer::Signer;
use tokio::sync::watch;

#[derive(Parser, Debug)]
#[command(
    name = "keeper",
    about = "cfx keeper: crank, liquidator, expiry settler, index publisher"
)]
struct Args {
    /// TOML configuration file (flags override it).
    #[arg(long, short = 'c')]
    config: Option<String>,
    /// Cluster: localhost, devnet, testnet, mainnet-beta or a URL.
    #[arg(long, short = 'u')]
    url: Option<String>,
    /// Keypair file (solana CLI format).
    #[arg(long, short = 'k')]
    keypair: Option<String>,
    #[arg(long)]
    collateral_mint: Option<String>,
    /// Comma-separated roles: crank, liquidator, expiry, publisher.
    #[arg(long, value_delimiter = ',')]
    roles: Option<Vec<Role>>,
    /// Prometheus endpoint address; "" to disable.
    #[arg(long)]
    metrics_addr: Option<String>,
    /// Run each role once and exit (scripts, cron).
    #[arg(long)]
    once: bool,
}

fn fail(msg: String) -> ! {
    eprintln!("keeper: {msg}");
    std::process::exit(2)
}

fn pubkey(s: &str, what: &str) -> Pubkey {
    s.parse()
        .unwrap_or_else(|_| fail(format!("{what}: {s:?} is not a public key")))
}

fn load_config(args: &Args) -> Config {
    let mut c = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| fail(format!("cannot read {path}: {e}")));
            Config::parse(&text).unwrap_or_else(|e| fail(format!("{path}: {e}")))
        }
        None => Config::parse(&format!(
            "collateral_mint = {:?}",
            args.collateral_mint
                .clone()
                .unwrap_or_else(|| fail("--collateral-mint or --config is required".into()))
        ))
        .unwrap_or_else(|e| fail(e)),
    };
    if let Some(u) = &args.url {
        c.url = u.clone();
    }
    if let Some(k) = &args.keypair {
        c.keypair = k.clone();
    }
    if let Some(m) = &args.collateral_mint {
        c.collateral_mint = m.clone();
    }
    if let Some(r) = &args.roles {
        c.roles = r.clone();
    }
    if let Some(a) = &args.metrics_addr {
        c.metrics_addr = a.clone();
    }
    c
}

fn source(spec: &str) -> Box<dyn PriceSource> {
    let parts: Vec<&str> = spec.splitn(3, ':').collect();
    match parts.as_slice() {
        ["file", path] => Box::new(JsonFile(expand_home(path))),
        ["fixed", p] => Box::new(FixedPrice(
            p.parse().unwrap_or_else(|_| fail(format!("bad price {p}"))),
        )),
        ["random", start, step] => Box::new(RandomWalk {
            price: start
                .parse()
                .unwrap_or_else(|_| fail(format!("bad price {start}"))),
            step_bps: step
                .parse()
                .unwrap_or_else(|_| fail(format!("bad step {step}"))),
            state: 0x9e37_79b9_7f4a_7c15,
        }),
        _ => fail(format!(
            "price source {spec:?}: file:PATH, fixed:PRICE or random:START:STEP_BPS"
        )),
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let c = load_config(&args);
    let payer = read_keypair_file(expand_home(&c.keypair))
        .unwrap_or_else(|e| fail(format!("keypair {}: {e}", c.keypair)));
    let commitment = match c.commitment.as_str() {
        "processed" => CommitmentConfig::processed(),
        "finalized" => CommitmentConfig::finalized(),
        "confirmed" => CommitmentConfig::confirmed(),
        other => fail(format!(
            "commitment {other:?}: processed, confirmed or finalized"
        )),
    };
    let backend = Arc::new(RpcBackend::new(&c.url, commitment));
    let mint = pubkey(&c.collateral_mint, "collateral_mint");
    let exchange = ExchangeKeys::derive(
        &mint,
        &pubkey(&c.collateral_token_program, "collateral_token_program"),
    );
    let account =
        cfx_client::pda::margin_account(&exchange.exchange, &payer.pubkey(), c.account_number);
    let metrics = Arc::new(Metrics::default());
    let keeper = Arc::new(Keeper {
        backend,
        payer,
        account,
        exchange,
        markets: c.markets.iter().map(|m| pubkey(m, "markets")).collect(),
        send: SendConfig {
            fee: match c.fees {
                Fees::Fixed { micro_lamports } => FeePolicy::Fixed(micro_lamports),
                Fees::Percentile { percentile, max } => FeePolicy::Percentile { percentile, max },
            },
            attempts: c.attempts,
            confirm_timeout: std::time::Duration::from_millis(c.confirm_timeout_ms),
            ..SendConfig::default()
        },
        metrics: metrics.clone(),
        max_per_pass: c.max_per_pass,
    });
    tracing::info!(exchange = %exchange.exchange, account = %account, roles = ?c.roles, url = %c.url, "keeper starting");
    let (stop_tx, stop_rx) = watch::channel(false);
    if !c.metrics_addr.is_empty() && !args.once {
        let listener = tokio::net::TcpListener::bind(&c.metrics_addr)
            .await
            .unwrap_or_else(|e| fail(format!("metrics address {}: {e}", c.metrics_addr)));
        tokio::spawn(cfx_keeper::metrics::serve(
            listener,
            metrics.clone(),
            stop_rx.clone(),
        ));
    }
    let mut tasks = Vec::new();
    for role in c.roles.clone() {
        let k = keeper.clone();
        let mut stop = stop_rx.clone();
        let once = args.once;
        let publisher = c.publisher.clone();
        let every = Duration::from_millis(match role {
            Role::Crank => c.crank_interval_ms,
            Role::Liquidator => c.liquidator_interval_ms,
            Role::Expiry => c.expiry_interval_ms,
            Role::Publisher => publisher.as_ref().map(|p| p.interval_ms).unwrap_or(5_000),
        });
        tasks.push(tokio::spawn(async move {
            let mut ids = HashMap::new();
            let mut src = publisher.as_ref().map(|p| source(&p.source));
            let pub_key: Option<(Keypair, Pubkey)> = publisher.as_ref().map(|p| {
                (
                    read_keypair_file(expand_home(&p.keypair))
                        .unwrap_or_else(|e| fail(format!("publisher keypair: {e}"))),
                    pubkey(&p.index, "publisher.index"),
                )
            });
            loop {
                // One pass; a failure is logged and the next pass starts afresh.
                let r: Result<String, cfx_client::ClientError> = match role {
                    Role::Crank => roles::crank_pass(&k, &mut ids)
                        .await
                        .map(|n| format!("{n} events")),
                    Role::Liquidator => roles::liquidation_pass(&k).await.map(|p| format!("{p:?}")),
                    Role::Expiry => roles::expiry_pass(&k, &mut ids)
                        .await
                        .map(|p| format!("{p:?}")),
                    Role::Publisher => match (&pub_key, src.as_mut()) {
                        (Some((kp, index)), Some(s)) => {
                            roles::publish_pass(&k, kp, index, s.as_mut())
                                .await
                                .map(|p| format!("{p:?}"))
                        }
                        _ => fail("the publisher role needs a [publisher] section".into()),
                    },
                };
                match r {
                    Ok(done) => tracing::debug!(?role, %done, "pass"),
                    Err(e) => {
                        Metrics::add(&k.metrics.rpc_errors, 1);
                        tracing::warn!(?role, error = %e, "pass failed");
                    }
                }
                if once {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => return,
                }
            }
        }));
    }
    if !args.once {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .unwrap_or_else(|e| fail(format!("signal handler: {e}")));
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("stopping after the current passes");
        let _ = stop_tx.send(true);
    }
    for t in tasks {
        let _ = t.await;
    }
    tracing::info!(metrics = %metrics.render().lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join(", "), "keeper stopped");
}
