use crate::{
    create::Creator,
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
///
/// The ticket's address is seeded by the position, the holder and a `nonce` the holder chooses
/// (any value it has not used on this position), not by a shared counter: holders never race
/// each other for one address, and no one else can tell which address a holder's next ticket
/// takes. Lamports sent there beforehand cannot block it either (`crate::create`).
#[derive(Accounts)]
#[instruction(units: u64, endpoint_hash: [u8; 32], nonce: u64)]
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
    /// CHECK: created here (`crate::create`), at its seeds.
    #[account(
        mut,
        seeds = [
            Ticket::SEED,
            position.key().as_ref(),
            holder.key().as_ref(),
            &nonce.to_le_bytes(),
        ],
        bump,
    )]
    pub ticket: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
}

pub fn redeem(ctx: Context<Redeem>, units: u64, endpoint_hash: [u8; 32], nonce: u64) -> Result<()> {
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

    let ticket = Ticket {
        holder: accounts.holder.key(),
        provider: provider.key(),
        window: window.key(),
        position: position.key(),
        id,
        nonce,
        units,
        endpoint_hash,
        deadline: window.redeem_deadline,
        status: TicketStatus::Open,
        bump: ctx.bumps.ticket,
        ..Default::default()
    };
    let nonce_bytes = nonce.to_le_bytes();
    Creator {
        payer: &accounts.holder.to_account_info(),
        system_program: &accounts.system_program.to_account_info(),
    }
    .create_anchor_account(
        &accounts.ticket,
        8 + Ticket::INIT_SPACE,
        &[
            Ticket::SEED,
            ticket.position.as_ref(),
            ticket.holder.as_ref(),
            &nonce_bytes,
            &[ticket.bump],
        ],
        &ticket,
    )?;

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
        ticket: accounts.ticket.key(),
        holder: ticket.holder,
        provider: ticket.provider,
        window: ticket.window,
        units,
        endpoint_hash,
        deadline: ticket.deadline,
    });
    Ok(())
}
