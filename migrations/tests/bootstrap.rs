//! The committed localnet file applied to an in-process bank: a dry run sends nothing, a run
//! creates everything the file names, a second run changes nothing and says so, a changed value
//! is reported and left alone, and a wrong file sends nothing.

use cfx_client::backend::Backend;
use cfx_client::bank::{program_test, BankBackend};
use cfx_client::compute_futures::state::{Exchange, Market, PriceIndex};
use cfx_client::decode::zero_copy;
use cfx_client::pda;
use cfx_migrations::{load, Error, Report, Runner, Status};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::read_keypair_file;
use solana_sdk::signer::Signer;
use std::path::Path;

/// 2026-12-01 00:00 UTC, a Tuesday.
const T0: i64 = 1_796_083_200;
const LOCALNET: &str = include_str!("../localnet.toml");

/// The committed file plus `extra`, written into a fresh directory (its keys are created there).
fn file(dir: &Path, extra: &str) -> std::path::PathBuf {
    let p = dir.join("deploy.toml");
    std::fs::write(&p, format!("{LOCALNET}\n{extra}")).unwrap();
    p
}

async fn run(b: &BankBackend, path: &Path, dry_run: bool) -> Result<Report, Error> {
    let (d, dir) = load(path)?;
    Runner::new(b, &b.payer, dry_run).run(&d, &dir).await
}

fn statuses(r: &Report) -> Vec<(&str, &Status)> {
    r.steps
        .iter()
        .map(|s| (s.what.as_str(), &s.status))
        .collect()
}

/// A cash-settled market with fixed dates, as a file would list one.
fn fixed_market(expiry: i64) -> String {
    format!(
        "[[markets]]\nclass = \"H100-GPUH\"\nname = \"H100-GPUH-FIXED\"\nexpiry = {expiry}\nparams = \"h100\"\nbook_capacity = 64\nqueue_capacity = 64\n"
    )
}

#[tokio::test]
async fn the_localnet_file_bootstraps_once_and_then_changes_nothing() {
    let b = BankBackend::start(program_test()).await;
    b.set_time(T0).await;
    let tmp = tempfile::tempdir().unwrap();
    let path = file(tmp.path(), &fixed_market(T0 + 3 * 86_400));

    // Dry run: the plan, nothing sent, no key written.
    let plan = run(&b, &path, true).await.unwrap();
    assert!(
        plan.steps.iter().all(|s| s.status == Status::WouldCreate),
        "{}",
        plan.human()
    );
    let names: Vec<&str> = plan.steps.iter().map(|s| s.what.as_str()).collect();
    for expected in [
        "bond mint",
        "collateral mint",
        "registry",
        "class H100-GPUH",
        "exchange",
        "index H100-GPUH",
        "template H100-GPUH #1",
        "template H100-GPUH #2",
        "market H100-GPUH-FIXED",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(
        !tmp.path().join("keys").exists(),
        "a dry run writes nothing"
    );
    assert!(b
        .get_account(&pda::token::registry())
        .await
        .unwrap()
        .is_none());

    // The run creates all of it.
    let done = run(&b, &path, false).await.unwrap();
    assert!(
        done.steps.iter().all(|s| s.status == Status::Created),
        "{}",
        done.human()
    );
    assert_eq!(
        done.changes(),
        plan.changes(),
        "the run did what the plan said"
    );
    assert_eq!(
        statuses(&done)
            .iter()
            .filter(|(w, _)| w.starts_with("next series of"))
            .count(),
        2,
        "each template lists its next series"
    );
    let collateral = read_keypair_file(tmp.path().join("keys/collateral-mint.json"))
        .unwrap()
        .pubkey();
    let publisher = read_keypair_file(tmp.path().join("keys/publisher.json"))
        .unwrap()
        .pubkey();
    let exchange = pda::exchange(&collateral);
    let e: Exchange = zero_copy(&b.get_account(&exchange).await.unwrap().unwrap().data).unwrap();
    assert_eq!(
        (e.taker_fee_bps, e.maker_fee_bps, e.crank_reward),
        (10, -2, 100)
    );
    assert_eq!(e.admin, b.payer.pubkey());
    let class = pda::token::class(&pda::token::registry(), "H100-GPUH");
    let index_key = pda::price_index(&exchange, &class);
    let i: PriceIndex = zero_copy(&b.get_account(&index_key).await.unwrap().unwrap().data).unwrap();
    assert_eq!(i.publishers[0], publisher);
    assert_eq!(i.twap.interval, 60);
    // The weekly template listed Friday 2026-12-04 08:00 UTC; the fixed market is there.
    let friday = T0 + 3 * 86_400 + 8 * 3_600;
    let weekly = pda::market(&exchange, &class, friday);
    let m: Market = zero_copy(&b.get_account(&weekly).await.unwrap().unwrap().data).unwrap();
    assert_eq!(m.expiry_ts, friday);
    assert_eq!(m.last_trade_ts, friday - 3_600);
    assert_eq!(&m.name[..16], b"H100-GPUH-2026W4");
    let fixed = pda::market(&exchange, &class, T0 + 3 * 86_400);
    let m: Market = zero_copy(&b.get_account(&fixed).await.unwrap().unwrap().data).unwrap();
    assert_eq!(m.tick_value, 100);
    assert_eq!(m.delivery_mint, Pubkey::default());

    // A second run: nothing to do, and it says so.
    let again = run(&b, &path, false).await.unwrap();
    assert_eq!(again.changes(), 0, "{}", again.human());
    assert!(again.steps.iter().all(|s| s.status == Status::Exists));
    assert!(again.human().contains("nothing to do"));
    let dry = run(&b, &path, true).await.unwrap();
    assert_eq!(dry.changes(), 0);

    // Once the weekly series stops trading, a run rolls it: the next Friday's is listed.
    b.set_time(friday - 3_600 + 1).await;
    let roll = run(&b, &path, false).await.unwrap();
    assert_eq!(roll.changes(), 1, "{}", roll.human());
    let next_week = pda::market(&exchange, &class, friday + 7 * 86_400);
    assert!(b.get_account(&next_week).await.unwrap().is_some());
    assert_eq!(run(&b, &path, false).await.unwrap().changes(), 0);

    // A value changed in the file: reported, not overwritten.
    let changed = std::fs::read_to_string(&path)
        .unwrap()
        .replace("taker_fee_bps = 10", "taker_fee_bps = 12");
    std::fs::write(&path, changed).unwrap();
    let drift = run(&b, &path, false).await.unwrap();
    let exchange_step = statuses(&drift)
        .into_iter()
        .find(|(w, _)| *w == "exchange")
        .unwrap()
        .1
        .clone();
    assert_eq!(
        exchange_step,
        Status::Differs(vec!["taker_fee_bps 10 → 12".into()])
    );
    assert!(drift.human().contains("differs: taker_fee_bps 10 → 12"));
    let e: Exchange = zero_copy(&b.get_account(&exchange).await.unwrap().unwrap().data).unwrap();
    assert_eq!(e.taker_fee_bps, 10);
}

#[tokio::test]
async fn a_wrong_file_sends_nothing() {
    let b = BankBackend::start(program_test()).await;
    b.set_time(T0).await;
    let tmp = tempfile::tempdir().unwrap();
    for (extra, message) in [
        (
            "[[markets]]\nclass = \"A100-GPUH\"\nname = \"X\"\nexpiry = 1\nparams = \"h100\"\n",
            "class \"A100-GPUH\" is not in [[classes]]",
        ),
        (
            "[[markets]]\nclass = \"H100-GPUH\"\nname = \"X\"\nexpiry = 1\nparams = \"a100\"\n",
            "params \"a100\" is not",
        ),
        (
            "[[markets]]\nclass = \"H100-GPUH\"\nname = \"a name longer than 24 bytes\"\nexpiry = 1\nparams = \"h100\"\n",
            "longer than 24 bytes",
        ),
        ("[surprise]\nx = 1\n", "unknown field"),
    ] {
        let path = file(tmp.path(), extra);
        let e = run(&b, &path, false).await.unwrap_err();
        assert!(matches!(e, Error::File(_)), "{e}");
        assert!(e.to_string().contains(message), "{e}");
        assert!(b.get_account(&pda::token::registry()).await.unwrap().is_none());
    }
    // A mint given by an address that is not on the cluster.
    let path = file(tmp.path(), "");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "mint_keypair = \"keys/collateral-mint.json\"",
        &format!("mint = \"{}\"", Pubkey::new_unique()),
    );
    std::fs::write(&path, text).unwrap();
    let e = run(&b, &path, false).await.unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    assert!(b
        .get_account(&pda::token::registry())
        .await
        .unwrap()
        .is_none());
    let bond_mint = read_keypair_file(tmp.path().join("keys/bond-mint.json"))
        .unwrap()
        .pubkey();
    assert!(
        b.get_account(&bond_mint).await.unwrap().is_none(),
        "no mint created"
    );
}
