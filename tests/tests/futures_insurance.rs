//! The insurance fund: anyone deposits; the admin withdraws only above a floor it sets; the
//! balance is the insurance vault's. Each refusal changes nothing.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode as A;
use cfx_tests::futures::*;
use cfx_tests::token::spl_token_id;
use compute_futures::accounts as acc;
use compute_futures::error::FuturesError as E;
use compute_futures::instruction as ins;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signer::Signer};

fn withdraw_ix(fx: &Fx, admin: &Pubkey, destination: &Pubkey, amount: u64) -> Instruction {
    ix(
        acc::WithdrawInsurance {
            admin: *admin,
            exchange: fx.exchange,
            collateral_mint: fx.mint,
            insurance_vault: fx.insurance_vault,
            destination: *destination,
            token_program: spl_token_id(),
        },
        ins::WithdrawInsurance { amount },
    )
}

fn floor_ix(fx: &Fx, admin: &Pubkey, floor: u64) -> Instruction {
    ix(
        acc::SetInsuranceFloor {
            admin: *admin,
            exchange: fx.exchange,
        },
        ins::SetInsuranceFloor { floor },
    )
}

#[tokio::test]
async fn anyone_funds_insurance_and_the_admin_withdraws_only_above_the_floor() {
    let mut fx = Fx::new().await;
    let a = fx.trader(0).await;
    let admin = fx.admin.insecure_clone();
    let admin_tokens =
        fx.t.create_token_account(&spl_token_id(), &fx.mint.clone(), &admin.pubkey())
            .await;
    let vault = fx.insurance_vault;
    let watched = [fx.exchange, vault, a.tokens, admin_tokens];

    // Anyone deposits; nothing for nothing.
    fx.t.send(
        &[fx.deposit_insurance_ix(&a.owner.pubkey(), &a.tokens, 100 * USD)],
        &[&a.owner],
    )
    .await
    .unwrap();
    assert_eq!(fx.t.token_balance(&vault).await, 100 * USD);
    let i = fx.deposit_insurance_ix(&a.owner.pubkey(), &a.tokens, 0);
    fx.refused(&watched, &[i], &[&a.owner], Some(E::ZeroAmount))
        .await;
    // Someone else's tokens: the source must belong to the signer.
    let b = fx.trader(0).await;
    let i = fx.deposit_insurance_ix(&b.owner.pubkey(), &a.tokens, USD);
    fx.refused_code(&watched, &[i], &[&b.owner], A::ConstraintTokenOwner as u32)
        .await;
    // Another vault in the insurance vault's place.
    let mut i = fx.deposit_insurance_ix(&a.owner.pubkey(), &a.tokens, USD);
    i.accounts[3].pubkey = fx.vault;
    fx.refused(&watched, &[i], &[&a.owner], Some(E::WrongExchange))
        .await;

    // Only the admin withdraws or sets the floor.
    let i = withdraw_ix(&fx, &a.owner.pubkey(), &a.tokens, USD);
    fx.refused(&watched, &[i], &[&a.owner], Some(E::NotAdmin))
        .await;
    let i = floor_ix(&fx, &a.owner.pubkey(), 0);
    fx.refused(&watched, &[i], &[&a.owner], Some(E::NotAdmin))
        .await;

    // Floor at 60: 50 would leave 50, refused; 40 leaves exactly 60.
    fx.t.send(&[floor_ix(&fx, &admin.pubkey(), 60 * USD)], &[&admin])
        .await
        .unwrap();
    let i = withdraw_ix(&fx, &admin.pubkey(), &admin_tokens, 50 * USD);
    fx.refused(&watched, &[i], &[&admin], Some(E::InsuranceBelowFloor))
        .await;
    let i = withdraw_ix(&fx, &admin.pubkey(), &admin_tokens, u64::MAX);
    fx.refused(&watched, &[i], &[&admin], Some(E::InsuranceBelowFloor))
        .await;
    fx.t.send(
        &[withdraw_ix(&fx, &admin.pubkey(), &admin_tokens, 40 * USD)],
        &[&admin],
    )
    .await
    .unwrap();
    assert_eq!(fx.t.token_balance(&vault).await, 60 * USD);
    assert_eq!(fx.t.token_balance(&admin_tokens).await, 40 * USD);
    let i = withdraw_ix(&fx, &admin.pubkey(), &admin_tokens, 1);
    fx.refused(&watched, &[i], &[&admin], Some(E::InsuranceBelowFloor))
        .await;
    // Floor lowered: the rest can go.
    fx.t.send(&[floor_ix(&fx, &admin.pubkey(), 0)], &[&admin])
        .await
        .unwrap();
    fx.t.send(
        &[withdraw_ix(&fx, &admin.pubkey(), &admin_tokens, 60 * USD)],
        &[&admin],
    )
    .await
    .unwrap();
    assert_eq!(fx.t.token_balance(&vault).await, 0);
    // The trading vault is untouched throughout.
    fx.assert_solvent(&[a.account, b.account]).await;
}
