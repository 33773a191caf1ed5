use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    close_account, CloseAccount, Mint, TokenAccount, TokenInterface,
};
use cfx_book::Side;

use crate::error::FuturesError;
use crate::events::MarketClosed;
use crate::instructions::collateral::{pay_from_vault, transfer_from_exchange};
use crate::state::book::{load_book, load_queue};
use crate::state::{Exchange, Market};

/// Admin closes a settled market whose positions are all settled and paid, whose book and event
/// queue are empty, and whose deliveries are all settled: fees still held for it go to the fee
/// vault, whatever else it holds (insurance receipts, crank-pool and rebate rounding, pool
/// rounding) to the insurance vault, and the rent of market, book, queue and delivery vault to
/// the admin.
#[derive(Accounts)]
pub struct CloseMarket<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, close = admin, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book; owner, discriminator and market checked on load.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount, address = market.load()?.book @ FuturesError::WrongBookAccount)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: the market's event queue; owner, discriminator and market checked on load.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount, address = market.load()?.event_queue @ FuturesError::WrongBookAccount)]
    pub event_queue: UncheckedAccount<'info>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.collateral_vault @ FuturesError::WrongExchange)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = exchange.load()?.fee_vault @ FuturesError::WrongExchange)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = exchange.load()?.insurance_vault @ FuturesError::WrongExchange)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
    /// Physically delivered series only: the delivery vault, its mint and token program, and
    /// where tokens sent to the vault by anyone after every delivery was settled go (needed only
    /// when there are some).
    #[account(mut, address = market.load()?.delivery_vault @ FuturesError::NotPhysical)]
    pub delivery_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(address = market.load()?.delivery_mint @ FuturesError::NotPhysical)]
    pub delivery_mint: Option<Box<InterfaceAccount<'info, Mint>>>,
    #[account(constraint = delivery_token_program.key() == *delivery_mint.as_ref().ok_or(FuturesError::NotPhysical)?.to_account_info().owner @ FuturesError::NotPhysical)]
    pub delivery_token_program: Option<Interface<'info, TokenInterface>>,
    #[account(mut, token::mint = delivery_mint, token::token_program = delivery_token_program)]
    pub delivery_sweep: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
}

/// Returns a program-owned account's lamports to `to` and hands it back to the system program.
fn close_raw(account: &AccountInfo, to: &AccountInfo) -> Result<()> {
    let lamports = account.lamports();
    **to.try_borrow_mut_lamports()? = to
        .lamports()
        .checked_add(lamports)
        .ok_or(FuturesError::Overflow)?;
    **account.try_borrow_mut_lamports()? = 0;
    account.assign(&anchor_lang::system_program::ID);
    account.resize(0)?;
    Ok(())
}

pub fn close_market(ctx: Context<CloseMarket>) -> Result<()> {
    let a = &ctx.accounts;
    let market_key = a.market.key();
    let (fees, to_insurance, event) = {
        let m = a.market.load()?;
        let mut qdata = a.event_queue.try_borrow_mut_data()?;
        let queue = load_queue(&mut qdata, &market_key)?;
        let mut bdata = a.book.try_borrow_mut_data()?;
        let book = load_book(&mut bdata, &market_key)?;
        require!(
            m.is_settlement_final(&queue)
                && queue.is_empty()
                && book.side(Side::Bid).is_empty()
                && book.side(Side::Ask).is_empty()
                && m.settle_claimed == m.settle_owed
                && m.delivery_reserved == 0,
            FuturesError::MarketNotEmpty
        );
        let physical = m.delivery_mint != Pubkey::default();
        require!(
            physical == a.delivery_vault.is_some()
                && physical == a.delivery_mint.is_some()
                && physical == a.delivery_token_program.is_some(),
            FuturesError::NotPhysical
        );
        let held = m.insurance_accrued as i128
            + m.rebates_reserved as i128
            + m.crank_pool as i128
            + m.settlement_pool()
            - m.loss_outstanding as i128;
        let to_insurance = u64::try_from(held.max(0)).map_err(|_| FuturesError::Overflow)?;
        (
            m.fees_accrued,
            to_insurance,
            MarketClosed {
                market: market_key,
                settlement_price: m.settlement_price,
                settled_accounts: m.settled_accounts,
                delivered_lots: m.delivered_lots,
                to_insurance,
            },
        )
    };
    if fees > 0 {
        pay_from_vault(
            &a.exchange,
            &a.token_program,
            &a.collateral_mint,
            &a.vault,
            &a.fee_vault,
            fees,
        )?;
    }
    if to_insurance > 0 {
        pay_from_vault(
            &a.exchange,
            &a.token_program,
            &a.collateral_mint,
            &a.vault,
            &a.insurance_vault,
            to_insurance,
        )?;
    }
    if let (Some(vault), Some(mint), Some(program)) = (
        &a.delivery_vault,
        &a.delivery_mint,
        &a.delivery_token_program,
    ) {
        // Every delivery is settled (finality): what is left was sent by someone afterwards.
        if vault.amount > 0 {
            let to = a
                .delivery_sweep
                .as_ref()
                .ok_or(FuturesError::MarketNotEmpty)?;
            transfer_from_exchange(
                &a.exchange,
                program,
                mint,
                vault,
                &to.to_account_info(),
                vault.amount,
            )?;
        }
        let (mint_key, bump) = {
            let e = a.exchange.load()?;
            (e.collateral_mint, e.bump)
        };
        let seeds: &[&[u8]] = &[Exchange::SEED, mint_key.as_ref(), &[bump]];
        close_account(CpiContext::new_with_signer(
            program.key(),
            CloseAccount {
                account: vault.to_account_info(),
                destination: a.admin.to_account_info(),
                authority: a.exchange.to_account_info(),
            },
            &[seeds],
        ))?;
    }
    close_raw(&a.book, &a.admin)?;
    close_raw(&a.event_queue, &a.admin)?;
    crate::events::emit(&event);
    Ok(())
}
