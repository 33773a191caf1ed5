use crate::{
    error::ComputeTokenError,
    events::RedemptionOpened,
    math::{add, sub_inv},
    state::{ComputeClass, Position, Provider, Ticket, TicketStatus, Window},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    token_2022::Token2022,
    token_interface::{burn, Burn, Mint, TokenAccount},
};

/// A holder burns units during the window, naming a provider that has at least that many
/// outstanding there, and opens a ticket that provider must fulfil by window end + grace.
#[derive(Accounts)]
pub struct Redeem<'info> {
    #[account(mut)]
    pub holder: Signer<'info>,
    pub class: Box<Account<'info, ComputeClass>>,
    #[account(mut, has_one = class @ ComputeTokenError::WrongClass)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut, has_one = class @ ComputeTokenError::WrongWindow)]
    pub window: Box<Account<'info, Window>>,
    #[account(mut, address = window.mint @ ComputeTokenError::WrongWindowMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(
        mut,
        seeds = [Position::SEED, window.key().as_ref(), provider.key().as_ref()],
        bump = position.bump,
    )]
    pub position: Box<Account<'info, Position>>,
    #[account(
        mut,
        constraint = source.mint == mint.key() @ ComputeTokenError::WrongWindowMint,
    )]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        init,
        payer = holder,
        space = 8 + Ticket::INIT_SPACE,
        seeds = [
            Ticket::SEED,
            position.key().as_ref(),
            &position.next_ticket_id.to_le_bytes(),
        ],
        bump,
    )]
    pub ticket: Box<Account<'info, Ticket>>,
    pub token_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
}

pub fn redeem(ctx: Context<Redeem>, units: u64, endpoint_hash: [u8; 32]) -> Result<()> {
    require!(units > 0, ComputeTokenError::ZeroAmount);
    let accounts = ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let window = &mut accounts.window;
    require!(now >= window.start, ComputeTokenError::WindowNotStarted);
    require!(now < window.end, ComputeTokenError::WindowEnded);
    let position = &mut accounts.position;
    require!(
        position.outstanding()? >= units,
        ComputeTokenError::InsufficientOutstanding
    );

    position.redeemed = add(position.redeemed, units)?;
    position.open_tickets = position
        .open_tickets
        .checked_add(1)
        .ok_or(ComputeTokenError::MathOverflow)?;
    let id = position.next_ticket_id;
    position.next_ticket_id = id.checked_add(1).ok_or(ComputeTokenError::MathOverflow)?;

    let provider = &mut accounts.provider;
    // The units move from outstanding to open tickets: the bond they lock is unchanged.
    provider.outstanding = sub_inv(provider.outstanding, units)?;
    provider.redeemed = add(provider.redeemed, units)?;
    provider.open_ticket_units = add(provider.open_ticket_units, units)?;
    window.burned = add(window.burned, units)?;

    let ticket = &mut accounts.ticket;
    ticket.holder = accounts.holder.key();
    ticket.provider = provider.key();
    ticket.window = window.key();
    ticket.position = position.key();
    ticket.id = id;
    ticket.units = units;
    ticket.endpoint_hash = endpoint_hash;
    ticket.deadline = window.redeem_deadline;
    ticket.status = TicketStatus::Open;
    ticket.bump = ctx.bumps.ticket;

    burn(
        CpiContext::new(
            accounts.token_program.key(),
            Burn {
                mint: accounts.mint.to_account_info(),
                from: accounts.source.to_account_info(),
                authority: accounts.holder.to_account_info(),
            },
        ),
        units,
    )?;

    emit!(RedemptionOpened {
        ticket: ticket.key(),
        holder: ticket.holder,
        provider: ticket.provider,
        window: ticket.window,
        units,
        endpoint_hash,
        deadline: ticket.deadline,
    });
    Ok(())
}
