//! Compute units per instruction. Run with `--nocapture` to print the table; against the SBF
//! binary (SBF_OUT_DIR set) the figures are real VM metering.

use cfx_tests::{
    compute_token::{Market, T0},
    token::spl_token_id,
    TestContext,
};
use solana_sdk::signer::Signer;

const BPU: u64 = 2_000_000;

#[tokio::test]
async fn compute_units_per_instruction() {
    let mut m = Market::new(spl_token_id()).await;
    let mut rows: Vec<(&str, u64)> = vec![("initialize_registry", m.init_cu)];
    let i = m.create_class_ix(&m.admin.pubkey(), Market::class_args("H100-GPUH"));
    let admin = m.admin.insecure_clone();
    rows.push(("create_class", m.t.send(&[i], &[&admin]).await.unwrap()));
    let class = cfx_tests::compute_token::class_pda(&m.registry, "H100-GPUH");
    let class_fx = cfx_tests::compute_token::ClassFx {
        key: class,
        symbol: "H100-GPUH".into(),
        decimals: 0,
        bond_per_unit: BPU,
        grace_period: 600,
        penalty_bps: 1_000,
    };
    // A fixed provider key: the position and ticket PDAs derive from it, and their bump
    // search is part of the measured cost.
    let authority = solana_sdk::signature::Keypair::new_from_array([7u8; 32]);
    let p = m.new_provider_with(&class, 1_000 * BPU, authority).await;
    let i = m.approve_provider_ix(
        &admin.pubkey(),
        &class,
        &solana_sdk::pubkey::Pubkey::new_from_array([9u8; 32]),
    );
    rows.push(("approve_provider", m.t.send(&[i], &[&admin]).await.unwrap()));
    rows.push((
        "set_provider_suspended",
        m.set_suspended(&p, false).await.unwrap(),
    ));
    rows.push(("deposit_bond", m.deposit(&p, 100 * BPU).await.unwrap()));
    let args = Market::window_args(&class_fx, T0 + 1_000, T0 + 4_600, "2026W49");
    let i = m.create_window_ix(&admin.pubkey(), &class, args);
    rows.push((
        "create_window (Token-2022 mint + metadata)",
        m.t.send(&[i], &[&admin]).await.unwrap(),
    ));
    let w = cfx_tests::compute_token::WindowFx {
        key: cfx_tests::compute_token::window_pda(&class, T0 + 1_000),
        class,
        mint: cfx_tests::compute_token::mint_pda(&cfx_tests::compute_token::window_pda(
            &class,
            T0 + 1_000,
        )),
        start: T0 + 1_000,
        end: T0 + 4_600,
    };
    let h = m.t.funded_keypair(1_000_000_000).await;
    let acc = m.holder_account(&w, &h.pubkey()).await;
    let (bp, bm) = (m.bond_program, m.bond_mint);
    let h_bond = m.t.create_token_account(&bp, &bm, &h.pubkey()).await;
    rows.push((
        "mint_units (opens position)",
        m.mint_units(&p, &w, &acc, 50).await.unwrap(),
    ));
    rows.push(("mint_units", m.mint_units(&p, &w, &acc, 10).await.unwrap()));
    m.t.set_time(w.start).await;
    let a = m
        .redeem_accounts(&h.pubkey(), &p.key, &class, &w, &acc)
        .await;
    let t1 = a.ticket;
    let i = m.redeem_ix(a, 5, [1; 32]).await;
    rows.push(("redeem", m.t.send(&[i], &[&h]).await.unwrap()));
    rows.push(("fulfil", m.fulfil(&p, &t1).await.unwrap()));
    let t2 = m.redeem(&h, &p, &w, &acc, 5).await.unwrap();
    m.t.set_time(w.end).await;
    rows.push(("lapse", m.lapse(&p, &w).await.unwrap()));
    m.t.set_time(w.end + 600).await;
    rows.push((
        "claim_default",
        m.claim_default(&h, &p, &t2, &h_bond).await.unwrap(),
    ));
    rows.push(("release_bond", m.release(&p, BPU).await.unwrap()));
    rows.push(("close_ticket", m.close_ticket(&h, &t1).await.unwrap()));
    rows.push(("close_position", m.close_position(&p, &w).await.unwrap()));
    rows.push(("close_window", m.close_window(&w).await.unwrap()));

    let mode = if TestContext::sbf() {
        "SBF VM"
    } else {
        "native; not VM-metered, run with SBF_OUT_DIR for real figures"
    };
    let mut table = format!(
        "### compute-token, CU per instruction ({mode})\n\n\
         Whole transaction of one instruction, CPIs included; bond mint on SPL Token.\n\n\
         | instruction | CU |\n|---|---:|\n"
    );
    for (name, cu) in &rows {
        table.push_str(&format!("| {name} | {cu} |\n"));
    }
    println!("\n{table}");
    if TestContext::sbf() {
        if let Some(dir) = std::env::var_os("CFX_CU_DIR") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(std::path::Path::new(&dir).join("compute_token.md"), &table).unwrap();
        }
    }
    for (name, cu) in rows {
        assert!(
            cu < 200_000,
            "{name} uses {cu} CU, over the default per-instruction budget"
        );
    }
}
