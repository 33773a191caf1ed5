use crate::{
    error::ComputeTokenError,
    state::{Position, Provider, Window},
};
use anchor_lang::prelude::*;

/// Permissionless: once a window has ended, the units a provider minted there and nobody
/// redeemed lapse. This frees the bond that backed them.
#[derive(Accounts)]
pub struct Lapse<'info> {
    #[account(mut)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut)]
    pub window: Box<Account<'info, Window>>,
    #[account(
        mut,
        has_one = provider @ ComputeTokenError::WrongProvider,
        has_one = window @ ComputeTokenError::WrongWindow,
    )]
    pub position: Box<Account<'info, Position>>,
}

pub fn lapse(ctx: Context<Lapse>) -> Result<()> {
    let accounts = ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    require!(
        now >= accounts.window.end,
        ComputeTokenError::WindowNotEnded
    );
    require!(!accounts.position.settled, ComputeTokenError::AlreadyLapsed);
    let key = accounts.position.key();
    accounts
        .position
        .settle(key, &mut accounts.provider, &mut accounts.window)
}
