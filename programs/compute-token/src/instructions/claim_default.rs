use crate::{
    error::ComputeTokenError,
    events::DefaultClaimed,
    math::{add, sub_inv},
    state::{ComputeClass, Position, Provider, Registry, Ticket, TicketStatus},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};

/// After the deadline, the holder of an unfulfilled ticket is paid from the provider's bond:
/// the ticket's value (units × bond per unit, rounded down) in full — it was locked since the
/// mint, so the bond always holds it — plus the class penalty, paid only from bond that nothing
/// else locks (`bond − value − locked` of the provider's other outstanding units and open
/// tickets) and capped by it. Other holders' backing is never used for a penalty; the event
/// says what was owed, what was paid and whether the penalty was capped.
#[derive(Accounts)]
pub struct ClaimDefault<'info> {
    pub holder: Signer<'info>,
    #[account(mut, seeds = [Registry::SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, Registry>>,
    #[account(has_one = registry @ ComputeTokenError::WrongClass)]
    pub class: Box<Account<'info, ComputeClass>>,
    #[account(mut, has_one = class @ ComputeTokenError::WrongClass)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut, address = ticket.position @ ComputeTokenError::WrongPosition)]
    pub position: Box<Account<'info, Position>>,
    #[account(
        mut,
        has_one = holder @ ComputeTokenError::NotTicketHolder,
        has_one = provider @ ComputeTokenError::WrongProvider,
    )]
    pub ticket: Box<Account<'info, Ticket>>,
    #[account(address = registry.bond_token_program @ ComputeTokenError::WrongTokenProgram)]
    pub bond_token_program: Interface<'info, TokenInterface>,
    #[account(address = registry.bond_mint @ ComputeTokenError::WrongBondMint)]
    pub bond_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = registry.bond_vault @ ComputeTokenError::WrongBondVault)]
    pub bond_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = bond_mint,
        token::token_program = bond_token_program,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
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

    let class = &accounts.class;
    let value = class.value(ticket.units, false)?;
    let penalty_owed = class.penalty(ticket.units)?;
    let owed = add(value, penalty_owed)?;

    let provider = &mut accounts.provider;
    // The ticket leaves the lock; what stays locked is everyone else's backing.
    provider.open_ticket_units = sub_inv(provider.open_ticket_units, ticket.units)?;
    let others_locked = provider.locked_bond(class)?;
    // bond ≥ locked held before the claim, and locked rounds up once over the sum while the
    // value paid rounds down, so both subtractions hold; `InvariantBroken` if they do not.
    let free = sub_inv(sub_inv(provider.bond, value)?, others_locked)?;
    let penalty_paid = penalty_owed.min(free);
    let paid = add(value, penalty_paid)?;
    provider.bond = sub_inv(provider.bond, paid)?;
    accounts.registry.total_bond = sub_inv(accounts.registry.total_bond, paid)?;
    let position = &mut accounts.position;
    position.open_tickets = position
        .open_tickets
        .checked_sub(1)
        .ok_or(ComputeTokenError::InvariantBroken)?;
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
        value,
        owed,
        paid,
        capped: penalty_paid < penalty_owed,
    });
    Ok(())
}
