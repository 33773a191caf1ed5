use crate::{
    error::ComputeTokenError,
    events::BondDeposited,
    math::add,
    state::{ComputeClass, Provider, Registry},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};

/// The provider's authority moves bond from its own token account into the registry vault.
#[derive(Accounts)]
pub struct DepositBond<'info> {
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
        token::authority = authority,
        token::token_program = bond_token_program,
    )]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,
}

pub fn deposit_bond(ctx: Context<DepositBond>, amount: u64) -> Result<()> {
    require!(amount > 0, ComputeTokenError::ZeroAmount);
    let accounts = ctx.accounts;
    accounts.provider.bond = add(accounts.provider.bond, amount)?;
    accounts.registry.total_bond = add(accounts.registry.total_bond, amount)?;

    transfer_checked(
        CpiContext::new(
            accounts.bond_token_program.key(),
            TransferChecked {
                from: accounts.source.to_account_info(),
                mint: accounts.bond_mint.to_account_info(),
                to: accounts.bond_vault.to_account_info(),
                authority: accounts.authority.to_account_info(),
            },
        ),
        amount,
        accounts.bond_mint.decimals,
    )?;

    emit!(BondDeposited {
        provider: accounts.provider.key(),
        amount,
        bond: accounts.provider.bond,
    });
    Ok(())
}
