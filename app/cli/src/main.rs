//! `cfx`: parses the flags, loads the keypair, runs the command on the cluster and prints its
//! human or JSON output. Exit codes: 0 done, 1 refused by the program, 2 bad input (nothing
//! sent), 3 the cluster could not be reached or did not confirm.

use cfx_cli::commands::Format;
use cfx_cli::{run, Cli};
use cfx_client::backend::{CommitmentConfig, RpcBackend};
use cfx_client::expand_home;
use clap::Parser;
use solana_sdk::signature::read_keypair_file;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let json = cli.json || cli.output == Format::Json;
    let fail = |message: String, code: i32, logs: &[String], verbose: bool| -> ! {
        if json {
            println!(
                "{}",
                serde_json::json!({"error": message, "code": code, "logs": logs})
            );
        } else {
            eprintln!("error: {message}");
            if verbose {
                for l in logs {
                    eprintln!("  {l}");
                }
            }
        }
        std::process::exit(code)
    };
    if cli.keypair.contains("://") {
        fail(
            format!(
                "signer {} is not supported: use a keypair file",
                cli.keypair
            ),
            2,
            &[],
            false,
        );
    }
    let commitment = match cli.commitment.as_str() {
        "processed" => CommitmentConfig::processed(),
        "confirmed" => CommitmentConfig::confirmed(),
        "finalized" => CommitmentConfig::finalized(),
        other => fail(
            format!("commitment {other:?}: processed, confirmed or finalized"),
            2,
            &[],
            false,
        ),
    };
    let keypair = read_keypair_file(expand_home(&cli.keypair)).ok();
    let backend = RpcBackend::new(&cli.url, commitment);
    match run(&cli, &backend, keypair.as_ref()).await {
        Ok(out) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&out.json).unwrap());
            } else {
                print!("{}", out.human);
            }
        }
        Err(e) => fail(e.message, e.code, &e.logs, cli.verbose),
    }
}
