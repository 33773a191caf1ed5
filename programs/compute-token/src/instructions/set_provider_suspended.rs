use crate::{
    error::ComputeTokenError,
    events::ProviderSuspensionChanged,
    state::{ComputeClass, Provider, Registry},
};
use anchor_lang::prelude::*;

/// Admin suspends (no new minting) or reinstates a provider. A suspended provider still
/// owes delivery on its tickets and keeps its bond at stake.
#[derive(Accounts)]
pub struct SetProviderSuspended<'info> {
    pub admin: Signer<'info>,
    #[account(
        seeds = [Registry::SEED],
        bump = registry.bump,
        has_one = admin @ ComputeTokenError::NotAdmin,
    )]
    pub registry: Box<Account<'info, Registry>>,
    #[account(has_one = registry @ ComputeTokenError::WrongClass)]
    pub class: Box<Account<'info, ComputeClass>>,
    #[account(mut, has_one = class @ ComputeTokenError::WrongClass)]
    pub provider: Box<Account<'info, Provider>>,
}

pub fn set_provider_suspended(ctx: Context<SetProviderSuspended>, suspended: bool) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    provider.suspended = suspended;
    emit!(ProviderSuspensionChanged {
        provider: provider.key(),
        suspended,
    });
    Ok(())
}
