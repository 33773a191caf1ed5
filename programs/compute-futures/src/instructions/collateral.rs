use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};
use cfx_risk::margin::HealthKind;

use crate::error::FuturesError;
use crate::events::{CollateralDeposited, CollateralWithdrawn};
use crate::health::{health_with, ViewRetriever};
use crate::state::{Exchange, MarginAccount, Market};
use crate::view::views_of;

/// Anyone deposits collateral into a margin account.
#[derive(Accounts)]
pub struct Deposit<'info> {
    pub depositor: Signer<'info>,
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = account.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.collateral_vault @ FuturesError::WrongExchange)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = collateral_mint, token::authority = depositor, token::token_program = token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
    require!(amount > 0, FuturesError::ZeroAmount);
    require!(
        !ctx.accounts.exchange.load()?.is_paused(),
        FuturesError::ExchangePaused
    );
    let a = &ctx.accounts;
    let collateral = {
        let mut acc = a.account.load_mut()?;
        let add = i64::try_from(amount).map_err(|_| FuturesError::Overflow)?;
        acc.collateral = acc
            .collateral
            .checked_add(add)
            .ok_or(FuturesError::Overflow)?;
        acc.collateral
    };
    transfer_checked(
        CpiContext::new(
            a.token_program.key(),
            TransferChecked {
                from: a.source.to_account_info(),
                mint: a.collateral_mint.to_account_info(),
                to: a.vault.to_account_info(),
                authority: a.depositor.to_account_info(),
            },
        ),
        amount,
        a.collateral_mint.decimals,
    )?;
    crate::events::emit(&CollateralDeposited {
        account: a.account.key(),
        amount,
        collateral,
    });
    Ok(())
}

/// The owner (never the delegate) withdraws collateral, if the account still meets initial margin
/// afterwards counting no unrealized profit. Remaining accounts: (market, index) of every position,
/// in position order.
#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub owner: Signer<'info>,
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = owner @ FuturesError::NotOwner,
        constraint = account.load()?.exchange == exchange.key() @ FuturesError::WrongExchange,
    )]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.collateral_vault @ FuturesError::WrongExchange)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = collateral_mint, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
    require!(amount > 0, FuturesError::ZeroAmount);
    let a = &ctx.accounts;
    require!(
        !a.exchange.load()?.is_paused(),
        FuturesError::ExchangePaused
    );
    let now = Clock::get()?.unix_timestamp;
    // Views of the health accounts are taken before the margin account is borrowed.
    let remaining = views_of(ctx.remaining_accounts, false)?;
    let collateral = {
        let mut acc = a.account.load_mut()?;
        let sub = i64::try_from(amount).map_err(|_| FuturesError::Overflow)?;
        acc.collateral = acc
            .collateral
            .checked_sub(sub)
            .ok_or(FuturesError::Overflow)?;
        require!(acc.collateral >= 0, FuturesError::InsufficientMargin);
        let h = health_with(
            &acc,
            &mut ViewRetriever::new(&[], &remaining, now).holding_withdrawals(),
            HealthKind::Withdraw,
        )?;
        require!(h >= 0, FuturesError::InsufficientMargin);
        acc.collateral
    };
    pay_from_vault(
        &a.exchange,
        &a.token_program,
        &a.collateral_mint,
        &a.vault,
        &a.destination,
        amount,
    )?;
    crate::events::emit(&CollateralWithdrawn {
        account: a.account.key(),
        amount,
        collateral,
    });
    Ok(())
}

/// Admin moves the fees one market has accrued from the collateral vault to the fee vault.
#[derive(Accounts)]
pub struct SweepFees<'info> {
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.collateral_vault @ FuturesError::WrongExchange)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = exchange.load()?.fee_vault @ FuturesError::WrongExchange)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let amount = sweep_counter(
        &a.exchange,
        &a.market,
        &a.token_program,
        &a.collateral_mint,
        &a.vault,
        &a.fee_vault,
        |m| &mut m.fees_accrued,
    )?;
    crate::events::emit(&crate::events::FeesSwept {
        exchange: a.exchange.key(),
        market: a.market.key(),
        amount,
    });
    Ok(())
}

/// Moves what one of `market`'s counters holds (`counter`: fees, insurance receipts) out of the
/// collateral vault to `to`, and zeroes the counter. Refused when it holds nothing.
pub fn sweep_counter<'info>(
    exchange: &AccountLoader<'info, Exchange>,
    market: &AccountLoader<'info, Market>,
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    to: &InterfaceAccount<'info, TokenAccount>,
    counter: impl FnOnce(&mut Market) -> &mut u64,
) -> Result<u64> {
    let amount = {
        let mut m = market.load_mut()?;
        let c = counter(&mut m);
        let amount = *c;
        require!(amount > 0, FuturesError::ZeroAmount);
        *c = 0;
        amount
    };
    pay_from_vault(exchange, token_program, mint, vault, to, amount)?;
    Ok(amount)
}

/// Moves `amount` of the collateral mint out of one of the exchange's vaults (`from`) to `to`,
/// signed by the exchange PDA that owns the vaults.
pub fn pay_from_vault<'info>(
    exchange: &AccountLoader<'info, Exchange>,
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    from: &InterfaceAccount<'info, TokenAccount>,
    to: &InterfaceAccount<'info, TokenAccount>,
    amount: u64,
) -> Result<()> {
    transfer_from_exchange(
        exchange,
        token_program,
        mint,
        from,
        &to.to_account_info(),
        amount,
    )
}

/// Moves `amount` of `mint` out of an exchange-owned token account (`from`) to `to`, the
/// exchange PDA signing: the collateral, fee and insurance vaults, a delivery vault.
pub fn transfer_from_exchange<'info>(
    exchange: &AccountLoader<'info, Exchange>,
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    from: &InterfaceAccount<'info, TokenAccount>,
    to: &AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let (mint_key, bump) = {
        let e = exchange.load()?;
        (e.collateral_mint, e.bump)
    };
    let seeds: &[&[u8]] = &[Exchange::SEED, mint_key.as_ref(), &[bump]];
    transfer_checked(
        CpiContext::new_with_signer(
            token_program.key(),
            TransferChecked {
                from: from.to_account_info(),
                mint: mint.to_account_info(),
                to: to.clone(),
                authority: exchange.to_account_info(),
            },
            &[seeds],
        ),
        amount,
        mint.decimals,
    )
}
