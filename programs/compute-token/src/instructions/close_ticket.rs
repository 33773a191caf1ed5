use crate::{
    error::ComputeTokenError,
    events::TicketClosed,
    state::{Ticket, TicketStatus},
};
use anchor_lang::prelude::*;

/// The holder closes a fulfilled or defaulted ticket and gets its rent back.
#[derive(Accounts)]
pub struct CloseTicket<'info> {
    #[account(mut)]
    pub holder: Signer<'info>,
    #[account(
        mut,
        close = holder,
        has_one = holder @ ComputeTokenError::NotTicketHolder,
    )]
    pub ticket: Box<Account<'info, Ticket>>,
}

pub fn close_ticket(ctx: Context<CloseTicket>) -> Result<()> {
    require!(
        ctx.accounts.ticket.status != TicketStatus::Open,
        ComputeTokenError::TicketStillOpen
    );
    emit!(TicketClosed {
        ticket: ctx.accounts.ticket.key(),
    });
    Ok(())
}
