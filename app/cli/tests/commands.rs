//! Every `cfx` command against the in-process bank, in human and JSON form; the signing modes
//! (a wallet signing what `--dump-transaction-message` printed, `--sign-only` + `--signer`, a
//! wrong signature refused before sending); bad input refused with a clear message, its exit
//! code, and nothing sent.

use base64::Engine;
use cfx_cli::{run, Cli, CliError, Output};
use cfx_client::backend::Backend;
use cfx_client::bank::{program_test, BankBackend};
use cfx_client::compute_futures::instructions::FeeSchedule;
use cfx_client::compute_futures::state::MarginAccount;
use cfx_client::compute_token::instructions::CreateClassArgs;
use cfx_client::decode::zero_copy;
use cfx_client::ix::MarketKeys;
use cfx_client::setup::{market_params, Session, Trader};
use clap::Parser;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;

const T0: i64 = 1_796_083_200;
const USD: u64 = 1_000_000;

struct Fx {
    b: BankBackend,
    s: Session,
    m: MarketKeys,
    t: Trader,
}

async fn fx() -> Fx {
    let b = BankBackend::start(program_test()).await;
    b.set_time(T0).await;
    let class = CreateClassArgs {
        symbol: "H100-GPUH".into(),
        unit_description: "1 GPU-hour of H100 SXM 80GB".into(),
        decimals: 0,
        bond_per_unit: 2_000_000,
        grace_period: 600,
        penalty_bps: 1_000,
    };
    let fees = FeeSchedule {
        taker_fee_bps: 10,
        maker_fee_bps: -2,
        crank_reward: 100,
    };
    let mut s = Session::open(&b, b.payer.insecure_clone(), class, fees, 1, 600)
        .await
        .unwrap();
    s.publish(&b, 2_500_000, T0).await.unwrap();
    let m = s
        .list_market(
            &b,
            market_params("H100-GPUH-2026W50", T0 + 7 * 86_400),
            128,
            128,
        )
        .await
        .unwrap();
    let t = s.trader(&b, 1_000 * USD).await.unwrap();
    Fx { b, s, m, t }
}

impl Fx {
    async fn cfx(&self, args: &[&str], keypair: Option<&Keypair>) -> Result<Output, CliError> {
        let mint = self.s.exchange.collateral_mint.to_string();
        let mut all = vec!["cfx", "--collateral-mint", mint.as_str()];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| CliError::input(e.to_string()))?;
        run(&cli, &self.b, keypair).await
    }

    async fn collateral(&self, key: &Pubkey) -> i64 {
        let a: MarginAccount =
            zero_copy(&self.b.get_account(key).await.unwrap().unwrap().data).unwrap();
        a.collateral
    }
}

#[tokio::test]
async fn read_commands_in_human_and_json_form() {
    let f = fx().await;
    let market = f.m.market.to_string();
    let out = f.cfx(&["markets"], None).await.unwrap();
    assert!(out.human.contains("H100-GPUH-2026W50"), "{}", out.human);
    assert_eq!(out.json["markets"][0]["name"], "H100-GPUH-2026W50");
    assert_eq!(out.json["markets"][0]["status"], "active");
    assert_eq!(out.json["markets"][0]["index"], "2.500000");
    // An order rests; the book shows it as a level and as an order.
    f.cfx(
        &["order", &market, "buy", "2.49", "3", "--type", "post-only"],
        Some(&f.t.owner),
    )
    .await
    .unwrap();
    let out = f.cfx(&["book", &market], None).await.unwrap();
    assert_eq!(out.json["bids"][0]["price"], "2.490000");
    assert_eq!(out.json["bids"][0]["lots"], 3);
    assert!(out.human.contains("3 @ 2.490000"), "{}", out.human);
    let out = f.cfx(&["book", &market, "--l3"], None).await.unwrap();
    assert_eq!(out.json["bids"][0]["ticks"], 24_900);
    let out = f.cfx(&["account"], Some(&f.t.owner)).await.unwrap();
    assert_eq!(out.json["collateral"], "1000.000000");
    assert_eq!(out.json["open_orders"].as_array().unwrap().len(), 1);
    assert!(
        out.human.contains("collateral 1000.000000"),
        "{}",
        out.human
    );
    let out = f
        .cfx(&["index", &f.s.class.to_string()], None)
        .await
        .unwrap();
    assert_eq!(out.json["price"], "2.500000");
    assert_eq!(out.json["fresh"], true);
    let out = f.cfx(&["classes"], None).await.unwrap();
    assert_eq!(out.json["classes"][0]["symbol"], "H100-GPUH");
    let out = f.cfx(&["providers"], None).await.unwrap();
    assert_eq!(out.json["providers"].as_array().unwrap().len(), 0);
    // A taker sells into the bid: one fill waits for the crank.
    let taker = f.s.trader(&f.b, 100 * USD).await.unwrap();
    f.cfx(
        &["order", &market, "sell", "2.49", "2", "--type", "ioc"],
        Some(&taker.owner),
    )
    .await
    .unwrap();
    let out = f.cfx(&["events", &market], None).await.unwrap();
    assert_eq!(out.json["events"][0]["kind"], "fill");
    assert_eq!(out.json["events"][0]["lots"], 2);
    assert!(out.human.starts_with("1 events waiting"));
}

#[tokio::test]
async fn trader_commands_do_what_they_say() {
    let f = fx().await;
    let market = f.m.market.to_string();
    let key = f.t.account;
    f.cfx(&["deposit", "10.5"], Some(&f.t.owner)).await.unwrap();
    assert_eq!(f.collateral(&key).await, 1_010_500_000_i64);
    f.cfx(&["withdraw", "0.5"], Some(&f.t.owner)).await.unwrap();
    assert_eq!(f.collateral(&key).await, 1_010 * USD as i64);
    let out = f
        .cfx(
            &[
                "order",
                &market,
                "sell",
                "2.51",
                "4",
                "--type",
                "post-only",
                "--client-id",
                "7",
            ],
            Some(&f.t.owner),
        )
        .await
        .unwrap();
    assert_eq!(out.json["ticks"], 25_100);
    assert!(out.json["signature"].is_string());
    f.cfx(&["cancel", &market, "--client-id", "7"], Some(&f.t.owner))
        .await
        .unwrap();
    let book = f.cfx(&["book", &market], None).await.unwrap();
    assert_eq!(book.json["asks"].as_array().unwrap().len(), 0);
    f.cfx(
        &["order", &market, "buy", "2.48", "1", "--type", "post-only"],
        Some(&f.t.owner),
    )
    .await
    .unwrap();
    f.cfx(&["cancel", &market, "--all"], Some(&f.t.owner))
        .await
        .unwrap();
    let delegate = Keypair::new();
    f.cfx(
        &["delegate", &delegate.pubkey().to_string()],
        Some(&f.t.owner),
    )
    .await
    .unwrap();
    let a: MarginAccount = zero_copy(&f.b.get_account(&key).await.unwrap().unwrap().data).unwrap();
    assert_eq!(a.delegate, delegate.pubkey());
    // A second account, opened and closed.
    let out = f
        .cfx(&["create-account", "--number", "3"], Some(&f.t.owner))
        .await
        .unwrap();
    let second: Pubkey = out.json["account"].as_str().unwrap().parse().unwrap();
    assert!(f.b.get_account(&second).await.unwrap().is_some());
    f.cfx(&["close-account", "--number", "3"], Some(&f.t.owner))
        .await
        .unwrap();
    assert!(f.b.get_account(&second).await.unwrap().is_none());
}

#[tokio::test]
async fn a_wallet_signs_the_unsigned_transaction_and_it_lands() {
    let f = fx().await;
    let before = f.collateral(&f.t.account).await;
    // The wallet's owner key is not given to the CLI: only its public key, as the authority.
    let owner = f.t.owner.pubkey().to_string();
    let out = f
        .cfx(
            &[
                "deposit",
                "2",
                "--dump-transaction-message",
                "--fee-payer",
                &owner,
                "--authority",
                &owner,
            ],
            None,
        )
        .await
        .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(out.json["transaction"].as_str().unwrap())
        .unwrap();
    let mut tx: Transaction = bincode::deserialize(&bytes).unwrap();
    assert!(f.collateral(&f.t.account).await == before, "nothing sent");
    // The wallet signs.
    let blockhash = tx.message.recent_blockhash;
    tx.sign(&[&f.t.owner], blockhash);
    let (r, _, _) = f.b.process(&tx).await.unwrap();
    r.unwrap();
    assert_eq!(f.collateral(&f.t.account).await, before + 2 * USD as i64);
}

#[tokio::test]
async fn sign_only_and_signer_complete_a_transaction_and_a_wrong_signature_is_refused() {
    let f = fx().await;
    let before = f.collateral(&f.t.account).await;
    let payer = f.s.admin.insecure_clone();
    let blockhash = f.b.latest_blockhash().await.unwrap().to_string();
    let fee_payer = payer.pubkey().to_string();
    // Offline: the trader signs its deposit; the fee payer's signature is absent.
    let offline = f
        .cfx(
            &[
                "deposit",
                "3",
                "--sign-only",
                "--blockhash",
                &blockhash,
                "--fee-payer",
                &fee_payer,
            ],
            Some(&f.t.owner),
        )
        .await
        .unwrap();
    let pair = offline.json["signers"][0].as_str().unwrap().to_string();
    assert!(pair.starts_with(&f.t.owner.pubkey().to_string()));
    assert_eq!(offline.json["absent"][0], fee_payer);
    assert!(offline.human.contains("Absent Signers"));
    assert_eq!(
        f.collateral(&f.t.account).await,
        before,
        "sign-only sends nothing"
    );
    // A wrong signature (the trader's signature of another blockhash) is refused before sending.
    let other = solana_sdk::hash::Hash::new_unique().to_string();
    let wrong = f
        .cfx(
            &[
                "deposit",
                "3",
                "--sign-only",
                "--blockhash",
                &other,
                "--fee-payer",
                &fee_payer,
            ],
            Some(&f.t.owner),
        )
        .await
        .unwrap();
    let wrong_pair = wrong.json["signers"][0].as_str().unwrap().to_string();
    let owner = f.t.owner.pubkey().to_string();
    let e = f
        .cfx(
            &[
                "deposit",
                "3",
                "--blockhash",
                &blockhash,
                "--fee-payer",
                &fee_payer,
                "--authority",
                &owner,
                "--signer",
                &wrong_pair,
            ],
            Some(&payer),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("does not verify"), "{}", e.message);
    assert_eq!(f.collateral(&f.t.account).await, before);
    // Online: the fee payer completes it with the trader's signature, and it lands.
    f.cfx(
        &[
            "deposit",
            "3",
            "--blockhash",
            &blockhash,
            "--fee-payer",
            &fee_payer,
            "--authority",
            &owner,
            "--signer",
            &pair,
        ],
        Some(&payer),
    )
    .await
    .unwrap();
    assert_eq!(f.collateral(&f.t.account).await, before + 3 * USD as i64);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_message_and_nothing_sent() {
    let f = fx().await;
    let market = f.m.market.to_string();
    let before = f.collateral(&f.t.account).await;
    // Off the tick grid ($0.0001): the nearest valid prices are named.
    let e = f
        .cfx(&["order", &market, "buy", "2.50005", "1"], Some(&f.t.owner))
        .await
        .unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("2.500000 or 2.500100"), "{}", e.message);
    // An unknown market.
    let e = f
        .cfx(
            &[
                "order",
                &Pubkey::new_unique().to_string(),
                "buy",
                "2.5",
                "1",
            ],
            Some(&f.t.owner),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("not found"), "{}", e.message);
    // No keypair.
    let e = f.cfx(&["deposit", "1"], None).await.unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("keypair"), "{}", e.message);
    // Not an amount.
    let e = f
        .cfx(&["deposit", "1.0000001"], Some(&f.t.owner))
        .await
        .unwrap_err();
    assert_eq!(e.code, 2);
    // The program refuses: withdrawing more than the account has, by name.
    let e = f
        .cfx(&["withdraw", "5000"], Some(&f.t.owner))
        .await
        .unwrap_err();
    assert_eq!(e.code, 1);
    assert!(e.message.starts_with("InsufficientMargin"), "{}", e.message);
    assert!(!e.logs.is_empty(), "simulation logs for -v");
    assert_eq!(f.collateral(&f.t.account).await, before);
    // A cluster that is not there.
    let cli = Cli::try_parse_from([
        "cfx",
        "--collateral-mint",
        &f.s.exchange.collateral_mint.to_string(),
        "markets",
    ])
    .unwrap();
    let nowhere = cfx_client::backend::RpcBackend::new(
        "http://127.0.0.1:9",
        cfx_client::backend::CommitmentConfig::confirmed(),
    );
    let e = run(&cli, &nowhere, None).await.unwrap_err();
    assert_eq!(e.code, 3, "{}", e.message);
}
