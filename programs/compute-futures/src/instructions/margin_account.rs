use anchor_lang::prelude::*;

use crate::error::FuturesError;
use crate::events::{DelegateSet, MarginAccountClosed, MarginAccountCreated};
use crate::state::create::create_zero_copy;
use crate::state::{Exchange, MarginAccount};
use compute_token::create::Creator;

/// A trader opens margin account number `number` on an exchange.
#[derive(Accounts)]
#[instruction(number: u16)]
pub struct CreateMarginAccount<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// CHECK: created here (`compute_token::create`), at its seeds.
    #[account(
        mut,
        seeds = [MarginAccount::SEED, exchange.key().as_ref(), owner.key().as_ref(), &number.to_le_bytes()],
        bump
    )]
    pub account: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn create_margin_account(ctx: Context<CreateMarginAccount>, number: u16) -> Result<()> {
    let id = {
        let mut exchange = ctx.accounts.exchange.load_mut()?;
        let id = exchange.next_account_id;
        exchange.next_account_id = id.checked_add(1).ok_or(FuturesError::Overflow)?;
        id
    };
    let a = &ctx.accounts;
    let (exchange_key, owner_key) = (a.exchange.key(), a.owner.key());
    let creator = Creator {
        payer: &a.owner.to_account_info(),
        system_program: &a.system_program.to_account_info(),
    };
    let mut acc = create_zero_copy::<MarginAccount>(
        &creator,
        &a.account,
        &[
            MarginAccount::SEED,
            exchange_key.as_ref(),
            owner_key.as_ref(),
            &number.to_le_bytes(),
            &[ctx.bumps.account],
        ],
    )?;
    acc.exchange = exchange_key;
    acc.owner = owner_key;
    acc.id = id;
    acc.number = number;
    acc.bump = ctx.bumps.account;
    crate::events::emit(&MarginAccountCreated {
        account: ctx.accounts.account.key(),
        owner: acc.owner,
        id,
    });
    Ok(())
}

/// The owner closes an empty margin account and gets its rent back.
#[derive(Accounts)]
pub struct CloseMarginAccount<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, close = owner, has_one = owner @ FuturesError::NotOwner)]
    pub account: AccountLoader<'info, MarginAccount>,
}

pub fn close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
    let acc = ctx.accounts.account.load()?;
    require!(
        acc.collateral == 0
            && acc
                .positions
                .iter()
                .all(|p| p.is_idle() && p.bid_lots == 0 && p.ask_lots == 0)
            && acc.orders.iter().all(|o| o.id() == 0),
        FuturesError::AccountNotEmpty
    );
    // A liquidation found it bankrupt: the market's withdrawal hold goes first
    // (`resolve_bankruptcy`), or closing would leave it on for good.
    require!(acc.debt_held == 0, FuturesError::BankruptcyUnresolved);
    crate::events::emit(&MarginAccountClosed {
        account: ctx.accounts.account.key(),
    });
    Ok(())
}

/// The owner sets (or clears, with the default key) a delegate that may trade but not withdraw.
#[derive(Accounts)]
pub struct SetDelegate<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ FuturesError::NotOwner)]
    pub account: AccountLoader<'info, MarginAccount>,
}

pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
    let mut acc = ctx.accounts.account.load_mut()?;
    acc.delegate = delegate;
    crate::events::emit(&DelegateSet {
        account: ctx.accounts.account.key(),
        delegate,
    });
    Ok(())
}
