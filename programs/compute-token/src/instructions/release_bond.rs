use crate::{
    error::ComputeTokenError,
    events::BondReleased,
    math::sub_inv,
    state::{ComputeClass, Provider, Registry},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};

/// The provider withdraws bond that neither outstanding units nor open tickets need:
/// `bond − Provider::locked_bond`. Bond is freed when units lapse (after a window ends), when
/// tickets are fulfilled, and when a default is paid.
#[derive(Accounts)]
pub struct ReleaseBond<'info> {
    pub authority: Signer<'info>,
    #[account(mut, seeds = [Registry::SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, Registry>>,
    #[account(has_one = registry @ ComputeTokenError::WrongClass)]
    pub class: Box<Account<'info, ComputeClass>>,
    #[account(
        mut,
        has_one = class @ ComputeTokenError::WrongClass,
        has_one = authority @ ComputeTokenError::NotProviderAuthority,
    )]
    pub provider: Box<Account<'info, Provider>>,
    #[account(address = registry.bond_token_program @ ComputeTokenError::WrongTokenProgram)]
    pub bond_token_program: Interface<'info, TokenInterface>,
    #[account(address = registry.bond_mint @ ComputeTokenError::WrongBondMint)]
    pub bond_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = registry.bond_vault @ ComputeTokenError::WrongBondVault)]
    pub bond_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = bond_mint,
        token::token_program = bond_token_program,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
}

pub fn release_bond(ctx: Context<ReleaseBond>, amount: u64) -> Result<()> {
    require!(amount > 0, ComputeTokenError::ZeroAmount);
    let accounts = ctx.accounts;
    let free = accounts.provider.free_bond(&accounts.class)?;
    require!(amount <= free, ComputeTokenError::BondLocked);
    accounts.provider.bond = sub_inv(accounts.provider.bond, amount)?;
    accounts.registry.total_bond = sub_inv(accounts.registry.total_bond, amount)?;

    let seeds: &[&[u8]] = &[Registry::SEED, &[accounts.registry.bump]];
    transfer_checked(
        CpiContext::new_with_signer(
            accounts.bond_token_program.key(),
            TransferChecked {
                from: accounts.bond_vault.to_account_info(),
                mint: accounts.bond_mint.to_account_info(),
                to: accounts.destination.to_account_info(),
                authority: accounts.registry.to_account_info(),
            },
            &[seeds],
        ),
        amount,
        accounts.bond_mint.decimals,
    )?;

    emit!(BondReleased {
        provider: accounts.provider.key(),
        amount,
        bond: accounts.provider.bond,
    });
    Ok(())
}
