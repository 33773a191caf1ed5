use crate::{
    create::Creator,
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
    /// CHECK: created here (`crate::create`), at its seeds.
    #[account(mut, seeds = [Provider::SEED, class.key().as_ref(), authority.as_ref()], bump)]
    pub provider: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn approve_provider(ctx: Context<ApproveProvider>, authority: Pubkey) -> Result<()> {
    let a = &ctx.accounts;
    let provider = Provider {
        class: a.class.key(),
        authority,
        bump: ctx.bumps.provider,
        ..Default::default()
    };
    Creator {
        payer: &a.admin.to_account_info(),
        system_program: &a.system_program.to_account_info(),
    }
    .create_anchor_account(
        &a.provider,
        8 + Provider::INIT_SPACE,
        &[
            Provider::SEED,
            provider.class.as_ref(),
            authority.as_ref(),
            &[provider.bump],
        ],
        &provider,
    )?;
    emit!(ProviderApproved {
        provider: a.provider.key(),
        class: provider.class,
        authority,
    });
    Ok(())
}
