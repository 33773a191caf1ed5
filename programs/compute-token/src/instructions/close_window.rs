use crate::{
    error::ComputeTokenError,
    events::WindowClosed,
    state::{ComputeClass, Registry, Window},
};
use anchor_lang::prelude::*;

/// After the redemption deadline and once every position is closed, the admin closes the
/// window account and gets its rent back. The mint stays: lapsed tokens may still sit in
/// wallets, and nobody can mint more because only this program signs for the window PDA.
#[derive(Accounts)]
pub struct CloseWindow<'info> {
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
        mut,
        close = admin,
        has_one = class @ ComputeTokenError::WrongWindow,
    )]
    pub window: Box<Account<'info, Window>>,
}

pub fn close_window(ctx: Context<CloseWindow>) -> Result<()> {
    let window = &ctx.accounts.window;
    let now = Clock::get()?.unix_timestamp;
    require!(
        now >= window.redeem_deadline,
        ComputeTokenError::WindowDeadlineNotPassed
    );
    require!(
        window.open_positions == 0,
        ComputeTokenError::WindowHasPositions
    );
    emit!(WindowClosed {
        window: window.key(),
    });
    Ok(())
}
