use crate::{
    error::ComputeTokenError,
    events::ProviderApproved,
    state::{ComputeClass, Provider, Registry},
};
use anchor_lang::prelude::*;

/// Admin approves `authority` as a provider of one class.
#[derive(Accounts)]
#[instruction(authority: Pubkey)]
pub struct ApproveProvider<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        seeds = [Registry::SEED],
        bump = registry.bump,
        has_one = admin @ ComputeTokenError::NotAdmin,
    )]
    pub registry: Box<Account<'info, Registry>>,
    #[account(has_one = registry @ ComputeTokenError::WrongClass)]
    pub class: Box<Account<'info, ComputeClass>>,
    #[account(
        init,
        payer = admin,
        space = 8 + Provider::INIT_SPACE,
        seeds = [Provider::SEED, class.key().as_ref(), authority.as_ref()],
        bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
    pub system_program: Program<'info, System>,
}

pub fn approve_provider(ctx: Context<ApproveProvider>, authority: Pubkey) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    provider.class = ctx.accounts.class.key();
    provider.authority = authority;
    provider.bump = ctx.bumps.provider;
    emit!(ProviderApproved {
        provider: provider.key(),
        class: provider.class,
        authority,
    });
    Ok(())
}
