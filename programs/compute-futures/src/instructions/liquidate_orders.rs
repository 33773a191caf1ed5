use anchor_lang::prelude::*;
use cfx_risk::margin::HealthKind;

use crate::error::FuturesError;
use crate::events::OrdersLiquidated;
use crate::health::{account_health, prices};
use crate::instructions::cancel::cancel_all_of;
use crate::state::book::load_book;
use crate::state::{MarginAccount, Market, PriceIndex};
use crate::view::views_of;

/// Anyone cancels, in one market, the resting orders of an account below maintenance margin.
///
/// Maintenance health counts positions only, not what resting orders would lose if filled, so
/// liquidation takes orders off the book first: a liquidated account then has nothing resting
/// that could change its position behind the liquidator's back. Remaining accounts: the
/// `(market, index)` of each other position, in slot order (as for `withdraw`).
#[derive(Accounts)]
pub struct LiquidateOrders<'info> {
    pub liquidator: Signer<'info>,
    #[account(mut)]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(constraint = market.load()?.exchange == account.load()?.exchange @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = market.load()?.index @ FuturesError::WrongIndex)]
    pub index: AccountLoader<'info, PriceIndex>,
    /// CHECK: the market's book; owner, discriminator and market checked on load.
    #[account(mut, address = market.load()?.book @ FuturesError::WrongBookAccount)]
    pub book: UncheckedAccount<'info>,
}

pub fn liquidate_orders<'info>(ctx: Context<'info, LiquidateOrders<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let remaining = views_of(ctx.remaining_accounts, false)?;
    let a = &ctx.accounts;
    let (market_key, account_key) = (a.market.key(), a.account.key());
    let market = a.market.load()?;
    let prices = prices(&market, &*a.index.load()?, now)?;
    let mut acc = a.account.load_mut()?;
    let health = account_health(
        &acc,
        &[(&market_key, &*market, prices)],
        &remaining,
        now,
        HealthKind::Maintenance,
    )?;
    require!(health < 0, FuturesError::NotLiquidatable);
    require_keys_eq!(*a.book.owner, crate::ID, FuturesError::WrongBookAccount);
    let mut data = a.book.try_borrow_mut_data()?;
    let mut book = load_book(&mut data, &market_key)?;
    let cancelled = cancel_all_of(&mut acc, &account_key, &market_key, &mut book)?;
    crate::events::emit(&OrdersLiquidated {
        account: account_key,
        market: market_key,
        liquidator: a.liquidator.key(),
        cancelled,
        maintenance_health: health,
    });
    Ok(())
}
