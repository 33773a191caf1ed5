use anchor_lang::prelude::*;
use cfx_book::{Book, EventQueue};

use crate::error::FuturesError;
use crate::events::{cancel_log_len, CancelLog};
use crate::instructions::place_order::{place, OrderArgs, PlaceOrder};
use crate::instructions::trading::{with_trader, Trader};
use crate::keys::key_eq;
use crate::state::book::load_book;
use crate::state::{MarginAccount, Market, MAX_ORDERS};
use crate::view::{check_book_account, require_distinct, views_of_ix, AccountView};

/// Owner or delegate cancels resting orders of its account in one market.
#[derive(Accounts)]
pub struct CancelOrder<'info> {
    pub signer: Signer<'info>,
    #[account(mut)]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(constraint = market.load()?.exchange == account.load()?.exchange @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book; owner, discriminator and market checked on load.
    #[account(mut, address = market.load()?.book @ FuturesError::WrongBookAccount)]
    pub book: UncheckedAccount<'info>,
}

/// Removes the account's order in `slot` from the book, releases its reservation and lists it
/// in `log`. An order that already left the book (filled or out, event not yet consumed) is left
/// for the crank.
fn cancel_slot(
    acc: &mut MarginAccount,
    book: &mut Book,
    slot: usize,
    log: &mut CancelLog,
) -> Result<bool> {
    let o = acc.orders[slot];
    match book.cancel_order(o.id(), acc.id) {
        Ok(order) => {
            acc.release_order(slot, order.lots, true);
            require!(
                log.push(o.id(), o.client_order_id, order.lots),
                FuturesError::TooManyOrders
            );
            Ok(true)
        }
        Err(cfx_book::BookError::OrderNotFound) => Ok(false),
        Err(e) => Err(FuturesError::from(e).into()),
    }
}

/// Cancels every order of the account in this market, listing each in `log`; returns how many
/// left the book.
fn cancel_all_in(
    acc: &mut MarginAccount,
    market_key: &Pubkey,
    book: &mut Book,
    log: &mut CancelLog,
) -> Result<u32> {
    let Some(pos) = acc.find_position(market_key) else {
        return Ok(0);
    };
    let mut n = 0;
    for slot in 0..acc.orders.len() {
        let o = acc.orders[slot];
        if o.id() != 0 && o.position as usize == pos && cancel_slot(acc, book, slot, log)? {
            n += 1;
        }
    }
    Ok(n)
}

/// Which orders a cancel removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Id(u128),
    Client(u64),
    All,
}

/// Cancels over account views (the entrypoint's fast path and the Anchor handlers), with
/// `CancelOrder`'s checks: signer, the account writable and of its type, the market of the same
/// exchange, its own book, no account repeated.
pub fn cancel_views(views: &[AccountView], target: Target) -> Result<()> {
    let [signer, account, market, book, ..] = views else {
        return Err(anchor_lang::error::ErrorCode::AccountNotEnoughKeys.into());
    };
    signer.check_signer()?;
    require_distinct(&views[..4])?;
    check_book_account(book)?;
    // SAFETY: the four accounts are distinct (checked above) and each is borrowed once.
    let (acc, m) = unsafe {
        (
            account.load_mut::<MarginAccount>()?,
            market.load::<Market>()?,
        )
    };
    require!(
        key_eq(&m.exchange, &acc.exchange),
        FuturesError::WrongExchange
    );
    require!(key_eq(book.key(), &m.book), FuturesError::WrongBookAccount);
    require!(acc.can_trade(signer.key()), FuturesError::NotAuthorized);
    let (account_key, market_key) = (account.key(), market.key());
    let mut book = load_book(unsafe { book.data_mut() }, market_key)?;
    let found = |pos: Option<usize>| pos.ok_or(FuturesError::OrderNotFound);
    let slot = match target {
        Target::All => return cancel_all_of(acc, account_key, market_key, &mut book).map(|_| ()),
        Target::Id(id) => {
            let pos = found(acc.find_position(market_key))?;
            found(acc.find_order(pos, id))?
        }
        Target::Client(cid) => {
            let pos = found(acc.find_position(market_key))?;
            found(acc.find_client_order(pos, cid))?
        }
    };
    let mut buf = [0u8; cancel_log_len(1)];
    let mut log = CancelLog::new(&mut buf, market_key, account_key);
    require!(
        cancel_slot(acc, &mut book, slot, &mut log)?,
        FuturesError::OrderNotFound
    );
    acc.release_idle_in(market_key);
    log.emit();
    Ok(())
}

/// Reached only when the entrypoint's fast path is bypassed: the same handler over views.
fn cancel(ctx: Context<CancelOrder>, target: Target) -> Result<()> {
    let views = views_of_ix(&ctx.accounts.to_account_infos(), &[])?;
    cancel_views(&views, target)
}

pub fn cancel_order(ctx: Context<CancelOrder>, order_id: u128) -> Result<()> {
    cancel(ctx, Target::Id(order_id))
}

pub fn cancel_order_by_client_id(ctx: Context<CancelOrder>, client_order_id: u64) -> Result<()> {
    cancel(ctx, Target::Client(client_order_id))
}

pub fn cancel_all_orders(ctx: Context<CancelOrder>) -> Result<()> {
    cancel(ctx, Target::All)
}

/// Most orders one cancel-all-and-place may place.
pub const MAX_BATCH: usize = 8;

/// Market makers' refresh: cancel every order of the account in this market, then place a batch,
/// with one margin check at the end. Same accounts as `place_order`.
pub fn cancel_all_and_place_views(views: &[AccountView], orders: Vec<OrderArgs>) -> Result<()> {
    require!(orders.len() <= MAX_BATCH, FuturesError::BatchTooLarge);
    // An empty batch is a plain cancel-all and is checked like any trade.
    let reduce_only = !orders.is_empty() && orders.iter().all(|o| o.reduce_only);
    with_trader(
        views,
        reduce_only,
        |t: &mut Trader, book: &mut Book, queue: &mut EventQueue| {
            cancel_all_of(t.account, t.account_key, t.market_key, book)?;
            for o in &orders {
                place(t, book, queue, o)?;
            }
            Ok(())
        },
    )
}

/// Cancels every order of the account in the market, logged in one event; in a frame of its
/// own (the log is 1 KiB).
#[inline(never)]
pub(crate) fn cancel_all_of(
    acc: &mut MarginAccount,
    account_key: &Pubkey,
    market_key: &Pubkey,
    book: &mut Book,
) -> Result<u32> {
    let mut buf = [0u8; cancel_log_len(MAX_ORDERS)];
    let mut log = CancelLog::new(&mut buf, market_key, account_key);
    let n = cancel_all_in(acc, market_key, book, &mut log)?;
    acc.release_idle_in(market_key);
    log.emit();
    Ok(n)
}

/// Reached only when the entrypoint's fast path is bypassed; see `place_order`.
pub fn cancel_all_and_place<'info>(
    ctx: Context<'info, PlaceOrder<'info>>,
    orders: Vec<OrderArgs>,
) -> Result<()> {
    let views = views_of_ix(&ctx.accounts.to_account_infos(), ctx.remaining_accounts)?;
    cancel_all_and_place_views(&views, orders)
}
