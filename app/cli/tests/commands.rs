//! Every `cfx` command against the in-process bank, in human and JSON form; the signing modes
//! (a wallet signing what `--dump-transaction-message` printed, `--sign-only` + `--signer`, a
//! wrong signature refused before sending); bad input refused with a clear message, its exit
//! code, and nothing sent.

use base64::Engine;
use cfx_cli::{run, Cli, CliError, Output};
use cfx_client::backend::Backend;
use cfx_client::bank::{program_test, BankBackend};
use cfx_client::compute_futures::state::MarginAccount;
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
    let class = cfx_client::setup::h100_class();
    let fees = cfx_client::setup::default_fees();
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

/// SPL token balance of a token account (either token program: the amount is at 64).
async fn balance(b: &BankBackend, key: &Pubkey) -> u64 {
    let a = b.get_account(key).await.unwrap().unwrap();
    u64::from_le_bytes(a.data[64..72].try_into().unwrap())
}

#[tokio::test]
async fn provider_and_holder_commands_from_bond_to_default_claim() {
    use cfx_client::compute_token::state::{Provider, Ticket, TicketStatus};
    use cfx_client::decode::borsh_account;
    use cfx_client::sender::{send, SendConfig};
    use cfx_client::setup::{fund, mint_to, token_account};
    let f = fx().await;
    let class = f.s.class.to_string();
    let provider = Keypair::new();
    fund(&f.b, &f.s.admin, &provider.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    send(
        &f.b,
        &SendConfig::default(),
        &f.s.admin,
        &[],
        &[cfx_client::token_ix::approve_provider(
            &f.s.admin.pubkey(),
            &f.s.class,
            &provider.pubkey(),
        )],
    )
    .await
    .unwrap();
    let bond_src = token_account(
        &f.b,
        &f.s.admin,
        &f.s.bond.mint,
        &provider.pubkey(),
        &f.s.bond.token_program,
    )
    .await
    .unwrap();
    mint_to(
        &f.b,
        &f.s.admin,
        &f.s.bond.token_program,
        &f.s.bond.mint,
        &bond_src,
        1_000 * USD,
    )
    .await
    .unwrap();
    let src = bond_src.to_string();
    f.cfx(
        &["bond-deposit", &class, "500", "--from", &src],
        Some(&provider),
    )
    .await
    .unwrap();
    let provider_key = cfx_client::pda::token::provider(&f.s.class, &provider.pubkey());
    let p: Provider =
        borsh_account(&f.b.get_account(&provider_key).await.unwrap().unwrap().data).unwrap();
    assert_eq!(p.bond, 500 * USD);
    let out = f.cfx(&["providers"], None).await.unwrap();
    assert_eq!(out.json["providers"][0]["bond"], 500 * USD);

    // The registry admin opens a window; anyone else is refused by the program.
    let (start, end) = (T0 + 3_600, T0 + 7_200);
    let (start_s, end_s) = (start.to_string(), end.to_string());
    let window_args = [
        "create-window",
        class.as_str(),
        "--start",
        &start_s,
        "--end",
        &end_s,
        "--name",
        "H100 GPU-hour, test window",
        "--symbol",
        "H100-GPUH-T1",
    ];
    let e = f.cfx(&window_args, Some(&provider)).await.unwrap_err();
    assert_eq!(e.code, 1, "{}", e.message);
    let out = f.cfx(&window_args, Some(&f.s.admin)).await.unwrap();
    let window: Pubkey = out.json["window"].as_str().unwrap().parse().unwrap();
    let mint: Pubkey = out.json["mint"].as_str().unwrap().parse().unwrap();
    assert!(out.human.contains(&format!("window {window}")));

    // The provider mints 10 units to the holder.
    let holder = &f.t.owner;
    let holder_tokens = token_account(
        &f.b,
        &f.s.admin,
        &mint,
        &holder.pubkey(),
        &anchor_spl::token_2022::ID,
    )
    .await
    .unwrap();
    let (w, to) = (window.to_string(), holder_tokens.to_string());
    // Amounts are in the class's decimals (none for GPU-hours): a fraction is refused before
    // anything is sent.
    let e = f
        .cfx(&["mint", &class, &w, "2.5", "--to", &to], Some(&provider))
        .await
        .unwrap_err();
    assert_eq!(e.code, 2, "{}", e.message);
    assert!(e.message.contains("at most 0 decimals"), "{}", e.message);
    assert_eq!(balance(&f.b, &holder_tokens).await, 0);
    f.cfx(&["mint", &class, &w, "10", "--to", &to], Some(&provider))
        .await
        .unwrap();
    assert_eq!(balance(&f.b, &holder_tokens).await, 10);

    // In the window the holder redeems twice: tickets at the first free nonces.
    f.b.set_time(start).await;
    let pk = provider_key.to_string();
    let mut tickets = Vec::new();
    for units in ["3", "2"] {
        let out = f
            .cfx(
                &[
                    "redeem",
                    &w,
                    units,
                    "--provider",
                    &pk,
                    "--endpoint",
                    "ssh://gpu.example:22",
                ],
                Some(holder),
            )
            .await
            .unwrap();
        tickets.push(out.json["ticket"].as_str().unwrap().to_string());
    }
    let position = cfx_client::pda::token::position(&window, &provider_key);
    assert_eq!(
        tickets,
        [0, 1].map(|n| cfx_client::pda::token::ticket(&position, &holder.pubkey(), n).to_string())
    );
    assert_eq!(balance(&f.b, &holder_tokens).await, 5);
    let out = f.cfx(&["tickets"], Some(holder)).await.unwrap();
    assert_eq!(out.json["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(out.json["tickets"][0]["status"], "open");
    let out = f.cfx(&["tickets", "--provider", &pk], None).await.unwrap();
    assert_eq!(out.json["tickets"].as_array().unwrap().len(), 2);
    let ticket = |k: &str| {
        let b = &f.b;
        let k: Pubkey = k.parse().unwrap();
        async move { b.get_account(&k).await.unwrap() }
    };

    // Only the provider fulfils; the fulfilled ticket is closed by its holder.
    let e = f
        .cfx(&["fulfil", &tickets[0], "--receipt", "job 1"], Some(holder))
        .await
        .unwrap_err();
    assert_eq!(e.code, 1, "{}", e.message);
    f.cfx(
        &["fulfil", &tickets[0], "--receipt", "job 1"],
        Some(&provider),
    )
    .await
    .unwrap();
    let t: Ticket = borsh_account(&ticket(&tickets[0]).await.unwrap().data).unwrap();
    assert_eq!(t.status, TicketStatus::Fulfilled);
    assert_eq!(t.receipt_hash, solana_sdk::hash::hash(b"job 1").to_bytes());
    f.cfx(&["close-ticket", &tickets[0]], Some(holder))
        .await
        .unwrap();
    assert!(ticket(&tickets[0]).await.is_none());

    // The second is never delivered: after the deadline the holder is paid from the bond, into
    // a bond-token account the command creates.
    let e = f
        .cfx(&["claim-default", &tickets[1]], Some(holder))
        .await
        .unwrap_err();
    assert_eq!(e.code, 1);
    assert!(e.message.starts_with("DeadlineNotPassed"), "{}", e.message);
    f.b.set_time(end + 601).await;
    f.cfx(&["claim-default", &tickets[1]], Some(holder))
        .await
        .unwrap();
    let t: Ticket = borsh_account(&ticket(&tickets[1]).await.unwrap().data).unwrap();
    assert_eq!(t.status, TicketStatus::Defaulted);
    assert!(t.paid > 0);
    let paid_to = anchor_spl::associated_token::get_associated_token_address_with_program_id(
        &holder.pubkey(),
        &f.s.bond.mint,
        &f.s.bond.token_program,
    );
    assert_eq!(balance(&f.b, &paid_to).await, t.paid);
    let out = f.cfx(&["tickets", "--json"], Some(holder)).await.unwrap();
    assert_eq!(out.json["tickets"][0]["status"], "defaulted");

    // The provider releases bond it no longer needs.
    let before = balance(&f.b, &bond_src).await;
    f.cfx(
        &["bond-release", &class, "100", "--to", &src],
        Some(&provider),
    )
    .await
    .unwrap();
    assert_eq!(balance(&f.b, &bond_src).await, before + 100 * USD);

    // Bad input: not a window, not a ticket.
    let e = f
        .cfx(
            &["redeem", &class, "1", "--provider", &pk, "--endpoint", "x"],
            Some(holder),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("not a delivery window"), "{}", e.message);
    let e = f
        .cfx(
            &["close-ticket", &Pubkey::new_unique().to_string()],
            Some(holder),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 1, "{}", e.message);
}

/// The blockhash a nonce account holds.
async fn nonce_hash(b: &BankBackend, key: &Pubkey) -> solana_sdk::hash::Hash {
    let a = b.get_account(key).await.unwrap().unwrap();
    solana_sdk::hash::Hash::new_from_array(a.data[40..72].try_into().unwrap())
}

#[tokio::test]
async fn a_durable_nonce_transaction_signed_offline_lands_once() {
    use anchor_lang::solana_program::system_instruction;
    use cfx_client::sender::{send, SendConfig};
    let f = fx().await;
    let nonce = Keypair::new();
    let authority = &f.t.owner;
    let ixs = system_instruction::create_nonce_account(
        &f.s.admin.pubkey(),
        &nonce.pubkey(),
        &authority.pubkey(),
        10_000_000,
    );
    send(&f.b, &SendConfig::default(), &f.s.admin, &[&nonce], &ixs)
        .await
        .unwrap();
    // The blockhash moves on before the nonce can be used.
    f.b.warp_slots(5).await;
    let stored = nonce_hash(&f.b, &nonce.pubkey()).await;
    let (n, h) = (nonce.pubkey().to_string(), stored.to_string());
    let before = f.collateral(&f.t.account).await;

    // Offline, with the nonce's blockhash: the owner signs (it is also the nonce authority and
    // the fee payer).
    let offline = f
        .cfx(
            &[
                "deposit",
                "4",
                "--nonce",
                &n,
                "--sign-only",
                "--blockhash",
                &h,
            ],
            Some(authority),
        )
        .await
        .unwrap();
    assert!(offline.json["absent"].as_array().unwrap().is_empty());
    let pair = offline.json["signers"][0].as_str().unwrap().to_string();
    let e = f
        .cfx(
            &["deposit", "4", "--nonce", &n, "--sign-only"],
            Some(authority),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("--blockhash"), "{}", e.message);

    // Much later (more slots than a blockhash lives), a relayer submits it with that signature.
    f.b.warp_slots(400).await;
    let owner = authority.pubkey().to_string();
    let fx = &f;
    let relay = |sig: String| {
        let args = [
            "deposit",
            "4",
            "--nonce",
            n.as_str(),
            "--fee-payer",
            owner.as_str(),
            "--authority",
            owner.as_str(),
            "--nonce-authority",
            owner.as_str(),
            "--signer",
            sig.as_str(),
        ]
        .map(String::from);
        async move {
            let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            fx.cfx(&args, None).await
        }
    };
    relay(pair.clone()).await.unwrap();
    assert_eq!(f.collateral(&f.t.account).await, before + 4 * USD as i64);
    assert_ne!(nonce_hash(&f.b, &nonce.pubkey()).await, stored, "advanced");
    // The nonce moved on: the same signature no longer verifies, nothing is sent twice.
    let e = relay(pair).await.unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("does not verify"), "{}", e.message);
    assert_eq!(f.collateral(&f.t.account).await, before + 4 * USD as i64);
    // A nonce account that is not one.
    let e = f
        .cfx(
            &["deposit", "1", "--nonce", &f.t.account.to_string()],
            Some(authority),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 2);
    assert!(
        e.message.contains("not an initialized nonce"),
        "{}",
        e.message
    );
}
