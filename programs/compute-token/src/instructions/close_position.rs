use crate::{
    error::ComputeTokenError,
    events::PositionClosed,
    state::{Position, Provider, Window},
};
use anchor_lang::prelude::*;

/// After the window ends and its tickets are resolved, the provider closes its position
/// (lapsing what is left if nobody did) and gets the rent back.
#[derive(Accounts)]
pub struct ClosePosition<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(mut, has_one = authority @ ComputeTokenError::NotProviderAuthority)]
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
        .ok_or(ComputeTokenError::MathOverflow)?;
    emit!(PositionClosed { position: key });
    Ok(())
}
