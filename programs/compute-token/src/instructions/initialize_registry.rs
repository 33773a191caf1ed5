use crate::{events::RegistryInitialized, state::Registry};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// Creates the program's registry and its bond vault. The signer becomes admin.
#[derive(Accounts)]
pub struct InitializeRegistry<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = 8 + Registry::INIT_SPACE,
        seeds = [Registry::SEED],
        bump,
    )]
    pub registry: Box<Account<'info, Registry>>,
    #[account(mint::token_program = bond_token_program)]
    pub bond_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(
        init,
        payer = admin,
        seeds = [Registry::VAULT_SEED, registry.key().as_ref()],
        bump,
        token::mint = bond_mint,
        token::authority = registry,
        token::token_program = bond_token_program,
    )]
    pub bond_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub bond_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn initialize_registry(ctx: Context<InitializeRegistry>) -> Result<()> {
    let registry = &mut ctx.accounts.registry;
    registry.admin = ctx.accounts.admin.key();
    registry.bond_mint = ctx.accounts.bond_mint.key();
    registry.bond_vault = ctx.accounts.bond_vault.key();
    registry.bond_token_program = ctx.accounts.bond_token_program.key();
    registry.total_bond = 0;
    registry.bump = ctx.bumps.registry;
    registry.vault_bump = ctx.bumps.bond_vault;
    emit!(RegistryInitialized {
        registry: registry.key(),
        admin: registry.admin,
        bond_mint: registry.bond_mint,
        bond_vault: registry.bond_vault,
    });
    Ok(())
}
