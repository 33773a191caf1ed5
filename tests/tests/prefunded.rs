//! Lamports sent to an address before a program creates an account there block nothing and
//! change nothing (issue: `init` with a pre-funded address).
//!
//! Each flow runs once plainly and once with every address its instructions create pre-funded
//! (`TestContext::prefund`): with 1 lamport, with the rent-exempt minimum of an empty account
//! (the least an attacker can send), with exactly the rent-exempt minimum of the account to be
//! created there, and with 1 SOL (more than any of these accounts' rent).
//! Keys repeat across runs (`new_keypair`), so every created account must come out byte for byte
//! and lamport for lamport the same, and the lamports sent to the addresses must all have ended
//! with the accounts' payers. Natively and, with `SBF_OUT_DIR`, on the SBF binaries.
#![allow(deprecated)]

use cfx_tests::{
    compute_token::{ticket_pda, Market, T0},
    futures::{order, Fx, BID, MID, POST_ONLY, USD},
    token::spl_token_id,
    Prefund, TestContext,
};
use solana_sdk::{pubkey::Pubkey, rent::Rent, signature::Keypair, signer::Signer};

const BPU: u64 = 2_000_000;
const RENT_EMPTY: u64 = 890_880;

/// The outcome of one run: its context, the accounts that paid for creations, and how many
/// accounts the flow creates.
struct Run {
    t: TestContext,
    payers: Vec<Pubkey>,
}

/// Registry and bond vault, a class, a provider, a window and its Token-2022 mint, a position
/// (first mint) and two tickets.
async fn compute_token_flow(prefund: Option<Prefund>) -> Run {
    let mut m = Market::uninitialized_with(spl_token_id(), prefund).await;
    let admin = m.admin.insecure_clone();
    let i = m.initialize_registry_ix(&admin.pubkey());
    m.t.send(&[i], &[&admin])
        .await
        .expect("initialize registry");
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .expect("create class");
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, 100 * BPU).await.expect("deposit bond");
    let w = m
        .create_window(&class, T0 + 1_000, T0 + 4_600, "2026W49")
        .await
        .expect("create window");
    let holder = m.t.funded_keypair(1_000_000_000).await;
    let acc = m.holder_account(&w, &holder.pubkey()).await;
    m.mint_units(&p, &w, &acc, 10).await.expect("first mint");
    m.mint_units(&p, &w, &acc, 5).await.expect("second mint");
    m.t.set_time(w.start).await;
    m.redeem(&holder, &p, &w, &acc, 2).await.expect("redeem");
    m.redeem(&holder, &p, &w, &acc, 3).await.expect("redeem");
    Run {
        payers: vec![admin.pubkey(), p.authority.pubkey(), holder.pubkey()],
        t: m.t,
    }
}

/// Registry, vault and class, exchange and its three vaults, index and market, two margin
/// accounts that then trade.
async fn futures_flow(prefund: Option<Prefund>) -> Run {
    let mut fx = Fx::new_with(prefund).await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&a, order(BID, POST_ONLY, MID, 2))
        .await
        .expect("post");
    let mut sell = order(cfx_tests::futures::ASK, cfx_tests::futures::IOC, MID, 2);
    sell.client_order_id = 9;
    fx.place(&b, sell).await.expect("take");
    let reward_to = a.account;
    fx.crank(&[a.account], &reward_to, 8).await.expect("crank");
    Run {
        payers: vec![fx.admin.pubkey(), a.owner.pubkey(), b.owner.pubkey()],
        t: fx.t,
    }
}

/// Runs `flow` plainly and with each pre-funding, and compares.
async fn check<F, Fut>(flow: F, expected_created: usize)
where
    F: Fn(Option<Prefund>) -> Fut,
    Fut: std::future::Future<Output = Run>,
{
    let mut plain = flow(None).await;
    // Exactly each account's rent: the addresses the 1-lamport run found, priced from the plain
    // run.
    let addresses = flow(Some(Prefund::Set(1))).await.t.prefunded;
    let mut exact = std::collections::HashMap::new();
    for key in &addresses {
        exact.insert(*key, plain.t.lamports(key).await);
    }
    for prefund in [
        Prefund::Set(1),
        Prefund::Transfer(RENT_EMPTY),
        Prefund::TransferEach(exact),
        Prefund::Transfer(1_000_000_000),
    ] {
        let mut run = flow(Some(prefund.clone())).await;
        let created = run.t.prefunded.clone();
        assert_eq!(
            created.len(),
            expected_created,
            "{prefund:?}: pre-funded {created:?}"
        );
        let rent = Rent::default();
        for key in &created {
            let want = plain
                .t
                .account(key)
                .await
                .expect("created in the plain run");
            let got = run.t.account(key).await.expect("created");
            assert_eq!(got.owner, want.owner, "{prefund:?}: owner of {key}");
            assert_eq!(got.data, want.data, "{prefund:?}: data of {key}");
            assert_eq!(
                got.lamports, want.lamports,
                "{prefund:?}: lamports of {key}"
            );
            assert_eq!(
                got.lamports,
                rent.minimum_balance(got.data.len()),
                "{prefund:?}: {key} holds exactly its rent-exempt minimum"
            );
        }
        // What was sent to the addresses ended with the payers, to the lamport.
        let mut gained: i128 = 0;
        for key in &run.payers.clone() {
            gained += run.t.lamports(key).await as i128 - plain.t.lamports(key).await as i128;
        }
        let sent: u64 = created.iter().map(|k| prefund.lamports(k)).sum();
        assert_eq!(gained, sent as i128, "{prefund:?}");
    }
}

#[tokio::test]
async fn compute_token_creations_ignore_prefunding() {
    // registry, bond vault, class, provider, window, mint, position, two tickets
    check(compute_token_flow, 9).await;
}

#[tokio::test]
async fn futures_creations_ignore_prefunding() {
    // registry, bond vault, class, exchange + 3 vaults, index, market, two margin accounts
    check(futures_flow, 11).await;
}

/// An attacker who funds the address a holder's next ticket would take — here the address the
/// holder is about to use — cannot stop the redemption, and its lamports go to the holder.
#[tokio::test]
async fn prefunded_ticket_address_does_not_block_redemption() {
    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, 100 * BPU).await.unwrap();
    let w = m
        .create_window(&class, T0 + 1_000, T0 + 4_600, "2026W49")
        .await
        .unwrap();
    let holder = m.t.funded_keypair(1_000_000_000).await;
    let acc = m.holder_account(&w, &holder.pubkey()).await;
    m.mint_units(&p, &w, &acc, 10).await.unwrap();
    m.t.set_time(w.start).await;

    let attacker: Keypair = m.t.funded_keypair(100_000_000).await;
    let position = w.position(&p.key);
    let next = ticket_pda(&position, &holder.pubkey(), m.next_nonce(&position).await);
    let sent = 5_000_000;
    let fund =
        anchor_lang::solana_program::system_instruction::transfer(&attacker.pubkey(), &next, sent);
    m.t.send(&[fund], &[&attacker]).await.unwrap();
    assert_eq!(m.t.lamports(&next).await, sent);

    let before = m.t.lamports(&holder.pubkey()).await;
    let ticket = m.redeem(&holder, &p, &w, &acc, 4).await.unwrap();
    assert_eq!(ticket, next);
    let t = m.ticket(&ticket).await;
    assert_eq!((t.holder, t.units), (holder.pubkey(), 4));
    let rent = m.t.lamports(&ticket).await;
    let data_len = m.t.account(&ticket).await.unwrap().data.len();
    assert_eq!(rent, Rent::default().minimum_balance(data_len));
    // The holder paid no rent: the attacker's lamports covered it and the rest came back.
    assert_eq!(m.t.lamports(&holder.pubkey()).await, before + sent - rent);
    assert_eq!(m.t.token_balance(&acc).await, 6);

    // Another holder's tickets live at other addresses: funding them stops nothing either.
    let other = m.t.funded_keypair(1_000_000_000).await;
    let other_acc = m.holder_account(&w, &other.pubkey()).await;
    m.mint_units(&p, &w, &other_acc, 2).await.unwrap();
    let other_next = ticket_pda(&position, &other.pubkey(), m.next_nonce(&position).await);
    assert_ne!(other_next, next);
    m.redeem(&other, &p, &w, &other_acc, 2).await.unwrap();
}

/// An address already holding an account of another owner is refused with a clear error,
/// and nothing changes.
#[tokio::test]
async fn creation_refuses_an_address_that_holds_an_account() {
    let mut m = Market::uninitialized(spl_token_id()).await;
    let admin = m.admin.insecure_clone();
    // The registry address made a token-program account (as if someone could): refused.
    let registry = m.registry;
    m.t.ctx.set_account(
        &registry,
        &solana_sdk::account::AccountSharedData::new(RENT_EMPTY * 3, 10, &spl_token_id()),
    );
    let i = m.initialize_registry_ix(&admin.pubkey());
    let before = m.t.snapshot(&[registry, m.vault, admin.pubkey()]).await;
    let res = m.t.send(&[i], &[&admin]).await;
    assert_eq!(
        res.as_ref().err().and_then(cfx_tests::error_code),
        Some(anchor_lang::error::ErrorCode::AccountNotSystemOwned as u32),
        "{res:?}"
    );
    assert_eq!(
        m.t.snapshot(&[registry, m.vault, admin.pubkey()]).await,
        before
    );
}

/// Compute units of a creation at an unfunded address and at pre-funded ones (one instruction
/// of each program); written to `CFX_CU_DIR` on the SBF pass. Keys repeat across the contexts,
/// so the PDA bump searches, and so the figures, differ only by the creation path.
#[tokio::test]
async fn prefunded_creation_compute_units() {
    let cases = [
        ("unfunded", None),
        ("pre-funded below rent (1 lamport)", Some(Prefund::Set(1))),
        (
            "pre-funded above rent (1 SOL, surplus returned)",
            Some(Prefund::Transfer(1_000_000_000)),
        ),
    ];
    let mut rows = Vec::new();
    for (label, prefund) in cases.iter() {
        let mut m = Market::new(spl_token_id()).await;
        m.t.prefund = prefund.clone();
        m.t.prefund_programs = vec![cfx_tests::compute_token::ID];
        let admin = m.admin.insecure_clone();
        let i = m.create_class_ix(&admin.pubkey(), Market::class_args("H100-GPUH"));
        let cu = m.t.send(&[i], &[&admin]).await.unwrap();
        rows.push((format!("compute-token create_class, {label}"), cu));
    }
    for (label, prefund) in cases.iter() {
        let mut fx = Fx::new().await;
        fx.t.prefund = prefund.clone();
        fx.t.prefund_programs = vec![cfx_tests::futures::ID];
        let owner = fx.t.funded_keypair(1_000_000_000).await;
        let i = cfx_tests::futures::ix(
            compute_futures::accounts::CreateMarginAccount {
                owner: owner.pubkey(),
                exchange: fx.exchange,
                account: fx.margin_pda(&owner.pubkey(), 0),
                system_program: anchor_lang::system_program::ID,
            },
            compute_futures::instruction::CreateMarginAccount { number: 0 },
        );
        let cu = fx.t.send(&[i], &[&owner]).await.unwrap();
        rows.push((
            format!("compute-futures create_margin_account, {label}"),
            cu,
        ));
    }
    let mut table = String::from(
        "### Account creation at a pre-funded address (SBF VM)\n\n| instruction | CU |\n|---|---:|\n",
    );
    for (name, cu) in &rows {
        table.push_str(&format!("| {name} | {cu} |\n"));
    }
    println!("{table}");
    if TestContext::sbf() {
        if let Some(dir) = std::env::var_os("CFX_CU_DIR") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(std::path::Path::new(&dir).join("prefunded.md"), &table).unwrap();
        }
    }
    if TestContext::sbf() {
        // Pre-funding adds system-program calls (top-up or refund, allocate, assign) instead
        // of one create_account: more work, never a failure.
        assert!(rows[1].1 > rows[0].1 && rows[4].1 > rows[3].1, "{rows:?}");
    }
}
