use crate::{
    error::ComputeTokenError,
    events::PositionClosed,
    state::{Position, Provider, Window},
};
use anchor_lang::prelude::*;

/// Permissionless once the window has ended and the position's tickets are resolved: lapses
/// what is left (if nobody called `lapse`) and closes the position, returning its rent to the
/// provider's authority, who paid it. Anyone may do it so that a provider cannot keep its
/// window from being closed.
#[derive(Accounts)]
pub struct ClosePosition<'info> {
    pub closer: Signer<'info>,
    /// CHECK: only receives the rent; must be the provider's authority.
    #[account(mut, address = provider.authority @ ComputeTokenError::WrongRentRecipient)]
    pub authority: UncheckedAccount<'info>,
    #[account(mut)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut)]
    pub window: Box<Account<'info, Window>>,
    #[account(
        mut,
        close = authority,
        has_one = provider @ ComputeTokenError::WrongProvider,
        has_one = window @ ComputeTokenError::WrongWindow,
    )]
    pub position: Box<Account<'info, Position>>,
}

pub fn close_position(ctx: Context<ClosePosition>) -> Result<()> {
    let accounts = ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    require!(
        now >= accounts.window.end,
        ComputeTokenError::WindowNotEnded
    );
    require!(
        accounts.position.open_tickets == 0,
        ComputeTokenError::PositionHasOpenTickets
    );
    let key = accounts.position.key();
    accounts
        .position
        .settle(key, &mut accounts.provider, &mut accounts.window)?;
    accounts.window.open_positions = accounts
        .window
        .open_positions
        .checked_sub(1)
        .ok_or(ComputeTokenError::InvariantBroken)?;
    emit!(PositionClosed { position: key });
    Ok(())
}
