//! Happy paths: full lifecycle, default claims, caps, metadata, closing.

use crate::{assert_code, check_claim_event, fails_unchanged};
use cfx_tests::{
    compute_token::{code, ix, Market},
    token::{read_token_metadata, spl_token_id, token_2022_id},
};
use compute_token::{
    error::ComputeTokenError as E,
    instruction as ins,
    state::{Position, TicketStatus},
};
use solana_sdk::{pubkey::Pubkey, signer::Signer};

const BPU: u64 = 2_000_000; // bond per GPU-hour: 2 bond tokens (6 decimals)

#[tokio::test]
async fn full_lifecycle() {
    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, 150 * BPU).await.unwrap();
    assert_eq!(m.provider(&p.key).await.bond, 150 * BPU);
    assert_eq!(m.t.token_balance(&m.vault.clone()).await, 150 * BPU);

    let start = cfx_tests::compute_token::T0 + 1_000;
    let w = m
        .create_window(&class, start, start + 3_600, "2026W49")
        .await
        .unwrap();
    let alice = m.t.funded_keypair(1_000_000_000).await;
    let bob = m.t.funded_keypair(1_000_000_000).await;
    let alice_acc = m.holder_account(&w, &alice.pubkey()).await;
    let bob_acc = m.holder_account(&w, &bob.pubkey()).await;

    // Mint before the window opens (sold ahead), then a secondary transfer.
    m.mint_units(&p, &w, &alice_acc, 100).await.unwrap();
    assert_eq!(m.t.token_balance(&alice_acc).await, 100);
    assert_eq!(m.t.mint_supply(&w.mint).await, 100);
    m.t.transfer_tokens(
        &token_2022_id(),
        &alice_acc,
        &w.mint,
        &bob_acc,
        &alice,
        40,
        0,
    )
    .await
    .unwrap();
    assert_eq!(m.t.token_balance(&bob_acc).await, 40);

    // Bob redeems 30 during the window.
    m.t.set_time(start + 10).await;
    let ticket = m.redeem(&bob, &p, &w, &bob_acc, 30).await.unwrap();
    assert_eq!(m.t.token_balance(&bob_acc).await, 10);
    assert_eq!(m.t.mint_supply(&w.mint).await, 70);
    let t = m.ticket(&ticket).await;
    assert_eq!(t.holder, bob.pubkey());
    assert_eq!(t.provider, p.key);
    assert_eq!(t.units, 30);
    assert_eq!(t.endpoint_hash, [7u8; 32]);
    assert_eq!(t.deadline, w.end + class.grace_period);
    assert_eq!(t.status, TicketStatus::Open);
    let pr = m.provider(&p.key).await;
    assert_eq!((pr.outstanding, pr.open_ticket_units), (70, 30));

    // The provider delivers.
    m.fulfil(&p, &ticket).await.unwrap();
    let t = m.ticket(&ticket).await;
    assert_eq!(t.status, TicketStatus::Fulfilled);
    assert_eq!(t.receipt_hash, [9u8; 32]);
    assert_eq!(m.provider(&p.key).await.open_ticket_units, 0);

    // Release what the 70 outstanding units do not need, not a unit more.
    let free = 150 * BPU - 70 * BPU;
    let before = m.t.token_balance(&p.bond_account).await;
    assert_code(m.release(&p, free + 1).await, code(E::BondLocked));
    m.release(&p, free).await.unwrap();
    assert_eq!(m.t.token_balance(&p.bond_account).await, before + free);
    assert_eq!(m.provider(&p.key).await.bond, 70 * BPU);

    // At the window's end the 70 unredeemed units lapse and free the rest of the bond.
    m.t.set_time(w.end).await;
    assert_code(
        m.redeem(&bob, &p, &w, &bob_acc, 1).await.map(|_| 0),
        code(E::WindowEnded),
    );
    m.lapse(&p, &w).await.unwrap();
    let pr = m.provider(&p.key).await;
    assert_eq!(
        (pr.outstanding, pr.minted, pr.redeemed, pr.lapsed),
        (0, 100, 30, 70)
    );
    let pos: Position = m.fetch(&w.position(&p.key)).await.unwrap();
    assert_eq!((pos.minted, pos.redeemed, pos.lapsed), (100, 30, 70));
    m.release(&p, 70 * BPU).await.unwrap();
    assert_eq!(m.provider(&p.key).await.bond, 0);
    assert_eq!(m.t.token_balance(&m.vault.clone()).await, 0);
    assert_eq!(m.registry_state().await.total_bond, 0);

    // Close what is done; rent goes back to whoever paid it.
    let bob_lamports = m.t.lamports(&bob.pubkey()).await;
    let ticket_rent = m.t.lamports(&ticket).await;
    m.close_ticket(&bob, &ticket).await.unwrap();
    assert!(m.t.account(&ticket).await.is_none());
    assert_eq!(
        m.t.lamports(&bob.pubkey()).await,
        bob_lamports + ticket_rent
    );

    let position = w.position(&p.key);
    let pos_rent = m.t.lamports(&position).await;
    let auth_lamports = m.t.lamports(&p.authority.pubkey()).await;
    m.close_position(&p, &w).await.unwrap();
    assert!(m.t.account(&position).await.is_none());
    assert_eq!(
        m.t.lamports(&p.authority.pubkey()).await,
        auth_lamports + pos_rent
    );
    assert_eq!(m.window(&w.key).await.open_positions, 0);

    assert_code(m.close_window(&w).await, code(E::WindowDeadlineNotPassed));
    m.t.set_time(w.end + class.grace_period).await;
    let admin_lamports = m.t.lamports(&m.admin.pubkey()).await;
    let window_rent = m.t.lamports(&w.key).await;
    m.close_window(&w).await.unwrap();
    assert!(m.t.account(&w.key).await.is_none());
    assert_eq!(
        m.t.lamports(&m.admin.pubkey()).await,
        admin_lamports + window_rent
    );
}

/// Redeem, let the deadline pass, claim: the holder is paid value + penalty from the bond.
async fn default_path(bond_program: Pubkey) {
    let mut m = Market::new(bond_program).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, 100 * BPU).await.unwrap();
    let start = cfx_tests::compute_token::T0 + 1_000;
    let w = m
        .create_window(&class, start, start + 3_600, "2026W49")
        .await
        .unwrap();
    let alice = m.t.funded_keypair(1_000_000_000).await;
    let alice_units = m.holder_account(&w, &alice.pubkey()).await;
    let (bp, bm) = (m.bond_program, m.bond_mint);
    let alice_bond = m.t.create_token_account(&bp, &bm, &alice.pubkey()).await;
    m.mint_units(&p, &w, &alice_units, 50).await.unwrap();

    m.t.set_time(start).await;
    let ticket = m.redeem(&alice, &p, &w, &alice_units, 20).await.unwrap();
    let deadline = m.ticket(&ticket).await.deadline;

    m.t.set_time(deadline - 1).await;
    assert_code(
        m.claim_default(&alice, &p, &ticket, &alice_bond).await,
        code(E::DeadlineNotPassed),
    );

    m.t.set_time(deadline).await;
    m.claim_default(&alice, &p, &ticket, &alice_bond)
        .await
        .unwrap();
    // Value of 20 units plus the 10 % penalty; the bond that the 30 other outstanding units
    // do not lock (100 − 20 − 30 = 50 units' worth) covers the penalty.
    let owed = 20 * BPU * 11_000 / 10_000;
    check_claim_event(&m, 20 * BPU, owed, owed, false);
    assert_eq!(m.t.token_balance(&alice_bond).await, owed);
    let t = m.ticket(&ticket).await;
    assert_eq!((t.status, t.paid), (TicketStatus::Defaulted, owed));
    let pr = m.provider(&p.key).await;
    assert_eq!((pr.bond, pr.open_ticket_units), (100 * BPU - owed, 0));
    assert_eq!(m.t.token_balance(&m.vault.clone()).await, 100 * BPU - owed);

    // A second claim fails and changes nothing.
    let a = m
        .claim_accounts(&alice.pubkey(), &p, &ticket, &alice_bond)
        .await;
    let watched = [ticket, p.key, m.vault, alice_bond, m.registry];
    fails_unchanged(
        &mut m,
        &[ix(a, ins::ClaimDefault {})],
        &[&alice],
        &watched,
        code(E::TicketNotOpen),
    )
    .await;
}

#[tokio::test]
async fn default_claim_pays_holder_from_spl_token_bond() {
    default_path(spl_token_id()).await;
}

#[tokio::test]
async fn default_claim_pays_holder_from_token_2022_bond() {
    default_path(token_2022_id()).await;
}

#[tokio::test]
async fn default_claim_is_capped_by_the_bond_and_says_so() {
    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, 20 * BPU).await.unwrap();
    let start = cfx_tests::compute_token::T0 + 1_000;
    let w = m
        .create_window(&class, start, start + 3_600, "2026W49")
        .await
        .unwrap();
    let alice = m.t.funded_keypair(1_000_000_000).await;
    let units = m.holder_account(&w, &alice.pubkey()).await;
    let (bp, bm) = (m.bond_program, m.bond_mint);
    let bond_acc = m.t.create_token_account(&bp, &bm, &alice.pubkey()).await;
    m.mint_units(&p, &w, &units, 20).await.unwrap();
    m.t.set_time(start).await;
    let ticket = m.redeem(&alice, &p, &w, &units, 20).await.unwrap();
    m.t.set_time(w.end + class.grace_period).await;
    m.claim_default(&alice, &p, &ticket, &bond_acc)
        .await
        .unwrap();
    // The value is locked and paid in full; nothing is free for the penalty.
    check_claim_event(&m, 20 * BPU, 22 * BPU, 20 * BPU, true);
    assert_eq!(m.t.token_balance(&bond_acc).await, 20 * BPU);
    assert_eq!(m.provider(&p.key).await.bond, 0);
    assert_eq!(m.t.token_balance(&m.vault.clone()).await, 0);
}

#[tokio::test]
async fn caps_on_minting_and_redeeming() {
    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, 10 * BPU).await.unwrap();
    let start = cfx_tests::compute_token::T0 + 1_000;
    let w = m
        .create_window(&class, start, start + 3_600, "2026W49")
        .await
        .unwrap();
    let alice = m.t.funded_keypair(1_000_000_000).await;
    let acc = m.holder_account(&w, &alice.pubkey()).await;

    // Minting past the bond fails; exactly up to it works.
    let watched = [p.key, w.key, w.mint, acc, w.position(&p.key)];
    let i = ix(m.mint_accounts(&p, &w, &acc), ins::MintUnits { amount: 11 });
    fails_unchanged(
        &mut m,
        &[i],
        &[&p.authority],
        &watched,
        code(E::BondTooSmall),
    )
    .await;
    m.mint_units(&p, &w, &acc, 10).await.unwrap();
    let i = ix(m.mint_accounts(&p, &w, &acc), ins::MintUnits { amount: 1 });
    fails_unchanged(
        &mut m,
        &[i],
        &[&p.authority],
        &watched,
        code(E::BondTooSmall),
    )
    .await;
    // A top-up lifts the cap.
    m.deposit(&p, BPU).await.unwrap();
    m.mint_units(&p, &w, &acc, 1).await.unwrap();

    // Redeeming before the window opens fails.
    let a = m
        .redeem_accounts(&alice.pubkey(), &p.key, &p.class, &w, &acc)
        .await;
    let mut watched_r = watched.to_vec();
    watched_r.push(a.ticket);
    let i = m.redeem_ix(a, 1, [1; 32]).await;
    fails_unchanged(
        &mut m,
        &[i],
        &[&alice],
        &watched_r,
        code(E::WindowNotStarted),
    )
    .await;

    // After the window ends: no minting, no redeeming.
    m.t.set_time(w.end).await;
    m.deposit(&p, 10 * BPU).await.unwrap();
    let i = ix(m.mint_accounts(&p, &w, &acc), ins::MintUnits { amount: 1 });
    fails_unchanged(
        &mut m,
        &[i],
        &[&p.authority],
        &watched,
        code(E::WindowEnded),
    )
    .await;
    let a = m
        .redeem_accounts(&alice.pubkey(), &p.key, &p.class, &w, &acc)
        .await;
    let i = m.redeem_ix(a, 1, [1; 32]).await;
    fails_unchanged(&mut m, &[i], &[&alice], &watched_r, code(E::WindowEnded)).await;
}

/// Fractional units: bond requirements round up, in the protocol's favour.
#[tokio::test]
async fn bond_requirement_rounds_up_for_fractional_units() {
    let mut m = Market::new(spl_token_id()).await;
    let mut args = Market::class_args("LLM70B-MTOK");
    args.unit_description = "1M output tokens of a 70B-class model".into();
    args.decimals = 3;
    args.bond_per_unit = 1_500_001;
    let class = m.create_class(args).await.unwrap();
    let p = m.new_provider(&class.key, 10_000_000).await;
    m.deposit(&p, 1_501).await.unwrap(); // ceil(1 * 1_500_001 / 1000)
    let start = cfx_tests::compute_token::T0 + 1_000;
    let w = m
        .create_window(&class, start, start + 3_600, "2026W49")
        .await
        .unwrap();
    let holder = m.t.funded_keypair(1_000_000_000).await;
    let acc = m.holder_account(&w, &holder.pubkey()).await;
    m.mint_units(&p, &w, &acc, 1).await.unwrap();
    assert_code(m.mint_units(&p, &w, &acc, 1).await, code(E::BondTooSmall));
    m.deposit(&p, 1_500).await.unwrap(); // 3_001 = ceil(2 * 1_500_001 / 1000)
    m.mint_units(&p, &w, &acc, 1).await.unwrap();
    assert_code(m.release(&p, 1).await, code(E::BondLocked));
}

#[tokio::test]
async fn wallet_sees_name_and_symbol() {
    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let start = cfx_tests::compute_token::T0 + 1_000;
    let w = m
        .create_window(&class, start, start + 3_600, "2026W49")
        .await
        .unwrap();
    let (mint, data) = m.t.mint_state(&w.mint).await;
    let (name, symbol, uri) = read_token_metadata(&w.mint, &data);
    assert_eq!(name, "H100-GPUH 2026W49");
    assert_eq!(symbol, "H100-GPUH-2026W49");
    assert_eq!(uri, "https://cfx.example/windows/H100-GPUH-2026W49.json");
    assert_eq!(Option::<Pubkey>::from(mint.mint_authority), Some(w.key));
    assert_eq!(Option::<Pubkey>::from(mint.freeze_authority), None);
    assert_eq!(mint.decimals, class.decimals);
    assert_eq!(m.t.account(&w.mint).await.unwrap().owner, token_2022_id());
    let win = m.window(&w.key).await;
    assert_eq!((win.start, win.end, win.mint), (w.start, w.end, w.mint));
    assert_eq!(win.redeem_deadline, w.end + class.grace_period);
}

/// Suspension stops minting; reinstatement restores it; a suspended provider still fulfils.
#[tokio::test]
async fn suspended_provider_cannot_mint_but_still_delivers() {
    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, 100 * BPU).await.unwrap();
    let start = cfx_tests::compute_token::T0 + 1_000;
    let w = m
        .create_window(&class, start, start + 3_600, "2026W49")
        .await
        .unwrap();
    let h = m.t.funded_keypair(1_000_000_000).await;
    let acc = m.holder_account(&w, &h.pubkey()).await;
    m.mint_units(&p, &w, &acc, 5).await.unwrap();
    m.set_suspended(&p, true).await.unwrap();
    assert!(m.provider(&p.key).await.suspended);
    assert_code(
        m.mint_units(&p, &w, &acc, 1).await,
        code(E::ProviderSuspended),
    );
    m.t.set_time(start).await;
    let ticket = m.redeem(&h, &p, &w, &acc, 5).await.unwrap();
    m.fulfil(&p, &ticket).await.unwrap();
    m.set_suspended(&p, false).await.unwrap();
    m.mint_units(&p, &w, &acc, 1).await.unwrap();
    assert_eq!(m.t.token_balance(&acc).await, 1);
}
