use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};

use crate::error::FuturesError;
use crate::events::{InsuranceDeposited, InsuranceFloorSet, InsuranceWithdrawn};
use crate::instructions::collateral::{pay_from_vault, sweep_counter};
use crate::state::{Exchange, Market};

/// Anyone adds collateral to the exchange's insurance fund (its insurance vault), which covers
/// bad debt before it is socialized. Its balance is the vault's token balance.
#[derive(Accounts)]
pub struct DepositInsurance<'info> {
    pub depositor: Signer<'info>,
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.insurance_vault @ FuturesError::WrongExchange)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = collateral_mint, token::authority = depositor, token::token_program = token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn deposit_insurance(ctx: Context<DepositInsurance>, amount: u64) -> Result<()> {
    require!(amount > 0, FuturesError::ZeroAmount);
    let a = &mut *ctx.accounts;
    transfer_checked(
        CpiContext::new(
            a.token_program.key(),
            TransferChecked {
                from: a.source.to_account_info(),
                mint: a.collateral_mint.to_account_info(),
                to: a.insurance_vault.to_account_info(),
                authority: a.depositor.to_account_info(),
            },
        ),
        amount,
        a.collateral_mint.decimals,
    )?;
    a.insurance_vault.reload()?;
    crate::events::emit(&InsuranceDeposited {
        exchange: a.exchange.key(),
        depositor: a.depositor.key(),
        amount,
        balance: a.insurance_vault.amount,
    });
    Ok(())
}

/// The admin withdraws from the insurance fund what lies above its floor.
#[derive(Accounts)]
pub struct WithdrawInsurance<'info> {
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.insurance_vault @ FuturesError::WrongExchange)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = collateral_mint, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn withdraw_insurance(ctx: Context<WithdrawInsurance>, amount: u64) -> Result<()> {
    require!(amount > 0, FuturesError::ZeroAmount);
    let a = &mut *ctx.accounts;
    let floor = a.exchange.load()?.insurance_floor;
    let left = a
        .insurance_vault
        .amount
        .checked_sub(amount)
        .ok_or(FuturesError::InsuranceBelowFloor)?;
    require!(left >= floor, FuturesError::InsuranceBelowFloor);
    pay_from_vault(
        &a.exchange,
        &a.token_program,
        &a.collateral_mint,
        &a.insurance_vault,
        &a.destination,
        amount,
    )?;
    crate::events::emit(&InsuranceWithdrawn {
        exchange: a.exchange.key(),
        amount,
        balance: left,
    });
    Ok(())
}

/// The admin sets the balance below which the insurance fund cannot be withdrawn.
#[derive(Accounts)]
pub struct SetInsuranceFloor<'info> {
    pub admin: Signer<'info>,
    #[account(mut, constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
}

pub fn set_insurance_floor(ctx: Context<SetInsuranceFloor>, floor: u64) -> Result<()> {
    ctx.accounts.exchange.load_mut()?.insurance_floor = floor;
    crate::events::emit(&InsuranceFloorSet {
        exchange: ctx.accounts.exchange.key(),
        floor,
    });
    Ok(())
}

/// Anyone moves what one market holds for the insurance fund (penalty shares, socialized-loss
/// rounding) from the collateral vault to the insurance vault.
#[derive(Accounts)]
pub struct SweepInsurance<'info> {
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.collateral_vault @ FuturesError::WrongExchange)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = exchange.load()?.insurance_vault @ FuturesError::WrongExchange)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn sweep_insurance(ctx: Context<SweepInsurance>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let amount = sweep_counter(
        &a.exchange,
        &a.market,
        &a.token_program,
        &a.collateral_mint,
        &a.vault,
        &a.insurance_vault,
        |m| &mut m.insurance_accrued,
    )?;
    a.insurance_vault.reload()?;
    crate::events::emit(&InsuranceDeposited {
        exchange: a.exchange.key(),
        depositor: a.market.key(),
        amount,
        balance: a.insurance_vault.amount,
    });
    Ok(())
}
