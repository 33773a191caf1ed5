//! `cfx-test-validator`: a local validator bound to 127.0.0.1 with the programs given deployed
//! (upgradeable, the faucet keypair their upgrade authority). Prints `ready <rpc url>` once its
//! genesis programs can be called (slot 2), then runs until killed.
//!
//!     cfx-test-validator --ledger DIR --rpc-port 8899 --ports 8000-8030 \
//!         --faucet-keypair faucet.json --program ID=path/to/program.so ...

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_streamer::socket::SocketAddrSpace;
use solana_test_validator::{TestValidatorGenesis, UpgradeableProgramInfo};

struct Args {
    ledger: PathBuf,
    rpc_port: u16,
    ports: (u16, u16),
    faucet: PathBuf,
    programs: Vec<(Pubkey, PathBuf)>,
}

fn usage(m: &str) -> ! {
    eprintln!("cfx-test-validator: {m}");
    eprintln!("usage: cfx-test-validator --ledger DIR --rpc-port PORT --ports FROM-TO --faucet-keypair FILE --program ID=SO ...");
    std::process::exit(2)
}

fn args() -> Args {
    let mut a = Args {
        ledger: PathBuf::from("test-ledger"),
        rpc_port: 8899,
        ports: (8000, 8030),
        faucet: PathBuf::from("faucet.json"),
        programs: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--ledger" => a.ledger = value.into(),
            "--rpc-port" => a.rpc_port = value.parse().unwrap_or_else(|_| usage("--rpc-port")),
            "--ports" => {
                let (from, to) = value
                    .split_once('-')
                    .unwrap_or_else(|| usage("--ports FROM-TO"));
                a.ports = (
                    from.parse().unwrap_or_else(|_| usage("--ports")),
                    to.parse().unwrap_or_else(|_| usage("--ports")),
                );
            }
            "--faucet-keypair" => a.faucet = value.into(),
            "--program" => {
                let (id, path) = value
                    .split_once('=')
                    .unwrap_or_else(|| usage("--program ID=SO"));
                let id = id
                    .parse()
                    .unwrap_or_else(|_| usage("--program: not a program id"));
                a.programs.push((id, path.into()));
            }
            other => usage(&format!("unknown flag {other}")),
        }
    }
    a
}

fn main() {
    let a = args();
    let faucet = Keypair::new();
    solana_keypair::write_keypair_file(&faucet, &a.faucet)
        .unwrap_or_else(|e| usage(&format!("{}: {e}", a.faucet.display())));
    let programs: Vec<UpgradeableProgramInfo> = a
        .programs
        .iter()
        .map(|(id, path)| UpgradeableProgramInfo {
            program_id: *id,
            loader: solana_sdk_ids::bpf_loader_upgradeable::id(),
            upgrade_authority: faucet.pubkey(),
            program_path: path.clone(),
        })
        .collect();
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut g = TestValidatorGenesis::default();
    g.ledger_path(&a.ledger)
        .rpc_port(a.rpc_port)
        .bind_ip_addr(localhost)
        .gossip_host(localhost)
        .gossip_port(a.ports.0)
        .port_range((a.ports.0 + 1, a.ports.1))
        .add_upgradeable_programs_with_path(&programs);
    let started = std::time::Instant::now();
    let v = match g.start_with_mint_address(faucet.pubkey(), SocketAddrSpace::Unspecified) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("cfx-test-validator: could not start: {e}");
            std::process::exit(1)
        }
    };
    // Programs in the genesis block (SPL Token among them, and ours) can be called only from a
    // later slot: a client that came in at once met "Unsupported program id" on a busy machine.
    let rpc = v.get_rpc_client();
    while !rpc.get_slot().is_ok_and(|s| s >= 2) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    println!(
        "ready {} (started in {:.1} s)",
        v.rpc_url(),
        started.elapsed().as_secs_f64()
    );
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
