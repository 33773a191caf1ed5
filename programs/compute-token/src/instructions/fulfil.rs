use crate::{
    error::ComputeTokenError,
    events::RedemptionFulfilled,
    math::sub_inv,
    state::{Position, Provider, Ticket, TicketStatus},
};
use anchor_lang::prelude::*;

/// The provider marks its ticket delivered, with a receipt hash, before the deadline.
/// This frees the bond the ticket had locked.
#[derive(Accounts)]
pub struct Fulfil<'info> {
    pub authority: Signer<'info>,
    #[account(mut, has_one = authority @ ComputeTokenError::NotProviderAuthority)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut, address = ticket.position @ ComputeTokenError::WrongPosition)]
    pub position: Box<Account<'info, Position>>,
    #[account(mut, has_one = provider @ ComputeTokenError::WrongProvider)]
    pub ticket: Box<Account<'info, Ticket>>,
}

pub fn fulfil(ctx: Context<Fulfil>, receipt_hash: [u8; 32]) -> Result<()> {
    let accounts = ctx.accounts;
    let ticket = &mut accounts.ticket;
    require!(
        ticket.status == TicketStatus::Open,
        ComputeTokenError::TicketNotOpen
    );
    let now = Clock::get()?.unix_timestamp;
    require!(now < ticket.deadline, ComputeTokenError::DeadlinePassed);

    ticket.status = TicketStatus::Fulfilled;
    ticket.receipt_hash = receipt_hash;
    let provider = &mut accounts.provider;
    provider.open_ticket_units = sub_inv(provider.open_ticket_units, ticket.units)?;
    let position = &mut accounts.position;
    position.open_tickets = position
        .open_tickets
        .checked_sub(1)
        .ok_or(ComputeTokenError::InvariantBroken)?;

    emit!(RedemptionFulfilled {
        ticket: ticket.key(),
        provider: provider.key(),
        receipt_hash,
    });
    Ok(())
}
