//! `cfx-migrate FILE`: bootstraps the exchange FILE describes on a cluster, idempotently.
//! Exit codes: 0 done (or nothing to do), 2 the file is wrong (nothing sent), 3 the cluster or a
//! program refused a step (the steps before it are done; run again once fixed).

use cfx_client::backend::{CommitmentConfig, RpcBackend};
use cfx_client::expand_home;
use cfx_migrations::{load, Error, Runner};
use clap::Parser;
use solana_sdk::signature::read_keypair_file;

#[derive(Parser)]
#[command(
    name = "cfx-migrate",
    about = "Bootstrap a cfx exchange from a deployment file"
)]
struct Args {
    /// The deployment file (TOML), such as migrations/localnet.toml.
    file: std::path::PathBuf,
    /// Cluster: localhost, devnet, testnet, mainnet-beta or a URL.
    #[arg(long, short = 'u', default_value = "localhost")]
    url: String,
    /// The admin keypair: signs and pays every step.
    #[arg(long, short = 'k', default_value = "~/.config/solana/id.json")]
    keypair: String,
    /// Print what a run would do; send nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = Args::parse();
    let fail = |m: String, code: i32| -> ! {
        eprintln!("error: {m}");
        std::process::exit(code)
    };
    let (d, dir) = load(&a.file).unwrap_or_else(|e| fail(e.to_string(), 2));
    let admin = read_keypair_file(expand_home(&a.keypair))
        .unwrap_or_else(|e| fail(format!("keypair {}: {e}", a.keypair), 2));
    let backend = RpcBackend::new(&a.url, CommitmentConfig::confirmed());
    match Runner::new(&backend, &admin, a.dry_run).run(&d, &dir).await {
        Ok(report) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap());
            } else {
                print!("{}", report.human());
            }
        }
        Err(e @ Error::File(_)) => fail(e.to_string(), 2),
        Err(e) => fail(e.to_string(), 3),
    }
}
