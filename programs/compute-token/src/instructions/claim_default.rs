use crate::{
    error::ComputeTokenError,
    events::DefaultClaimed,
    math::sub,
    state::{ComputeClass, Position, Provider, Registry, Ticket, TicketStatus},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};

/// After the deadline, the holder of an unfulfilled ticket is paid units × bond per unit plus
/// the class penalty from the provider's bond, capped by what that bond holds.
#[derive(Accounts)]
pub struct ClaimDefault<'info> {
    pub holder: Signer<'info>,
    #[account(mut, seeds = [Registry::SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, Registry>>,
    #[account(has_one = registry @ ComputeTokenError::WrongClass)]
    pub class: Box<Account<'info, ComputeClass>>,
    #[account(mut, has_one = class @ ComputeTokenError::WrongClass)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut, address = ticket.position @ ComputeTokenError::WrongProvider)]
    pub position: Box<Account<'info, Position>>,
    #[account(
        mut,
        has_one = holder @ ComputeTokenError::NotTicketHolder,
        has_one = provider @ ComputeTokenError::WrongProvider,
    )]
    pub ticket: Box<Account<'info, Ticket>>,
    #[account(address = registry.bond_mint @ ComputeTokenError::WrongBondVault)]
    pub bond_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = registry.bond_vault @ ComputeTokenError::WrongBondVault)]
    pub bond_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = bond_mint,
        token::token_program = bond_token_program,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = registry.bond_token_program @ ComputeTokenError::WrongBondVault)]
    pub bond_token_program: Interface<'info, TokenInterface>,
}

pub fn claim_default(ctx: Context<ClaimDefault>) -> Result<()> {
    let accounts = ctx.accounts;
    let ticket = &mut accounts.ticket;
    require!(
        ticket.status == TicketStatus::Open,
        ComputeTokenError::TicketNotOpen
    );
    let now = Clock::get()?.unix_timestamp;
    require!(now >= ticket.deadline, ComputeTokenError::DeadlineNotPassed);

    let owed = accounts.class.default_claim_for(ticket.units, false)?;
    let provider = &mut accounts.provider;
    let paid = owed.min(provider.bond);
    provider.bond = sub(provider.bond, paid)?;
    provider.open_ticket_units = sub(provider.open_ticket_units, ticket.units)?;
    accounts.registry.total_bond = sub(accounts.registry.total_bond, paid)?;
    let position = &mut accounts.position;
    position.open_tickets = position
        .open_tickets
        .checked_sub(1)
        .ok_or(ComputeTokenError::MathOverflow)?;
    ticket.status = TicketStatus::Defaulted;
    ticket.paid = paid;

    if paid > 0 {
        let seeds: &[&[u8]] = &[Registry::SEED, &[accounts.registry.bump]];
        transfer_checked(
            CpiContext::new_with_signer(
                accounts.bond_token_program.key(),
                TransferChecked {
                    from: accounts.bond_vault.to_account_info(),
                    mint: accounts.bond_mint.to_account_info(),
                    to: accounts.destination.to_account_info(),
                    authority: accounts.registry.to_account_info(),
                },
                &[seeds],
            ),
            paid,
            accounts.bond_mint.decimals,
        )?;
    }

    emit!(DefaultClaimed {
        ticket: ticket.key(),
        holder: ticket.holder,
        provider: provider.key(),
        owed,
        paid,
        capped: paid < owed,
    });
    Ok(())
}
