use anchor_lang::prelude::*;
use cfx_book::{BookEvent, OutEvent, OutReason, Side};

use crate::error::FuturesError;
use crate::events::{MakerOut, OrdersReleased};
use crate::state::book::{load_book, load_queue};
use crate::state::{MarginAccount, Market};

/// Anyone takes up to `limit` resting orders off the book of a series past its last-trade time,
/// best bids first, then best asks. An order whose owner's margin account is among the remaining
/// accounts has its reservation freed at once; any other is recorded as an out event
/// (`OutReason::Released`) that the crank applies to its owner, so no reservation is lost. Stops
/// early when the event queue is full. Remaining accounts: owners' margin accounts (writable);
/// accounts that are not margin accounts of this exchange are ignored.
#[derive(Accounts)]
pub struct ReleaseOrders<'info> {
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book; owner, discriminator and market checked on load.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount, address = market.load()?.book @ FuturesError::WrongBookAccount)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: the market's event queue; owner, discriminator and market checked on load.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount, address = market.load()?.event_queue @ FuturesError::WrongBookAccount)]
    pub event_queue: UncheckedAccount<'info>,
}

/// The writable margin accounts of `exchange` among `infos`, each once, with their compact ids.
pub fn margin_accounts_of<'info>(
    infos: &'info [AccountInfo<'info>],
    exchange: &Pubkey,
) -> Vec<(u32, AccountLoader<'info, MarginAccount>)> {
    let mut out: Vec<(u32, AccountLoader<'info, MarginAccount>)> = Vec::new();
    for info in infos {
        if !info.is_writable || out.iter().any(|(_, l)| l.key() == *info.key) {
            continue;
        }
        let Ok(loader) = AccountLoader::<MarginAccount>::try_from(info) else {
            continue;
        };
        let id = match loader.load() {
            Ok(acc) if acc.exchange == *exchange => acc.id,
            _ => continue,
        };
        out.push((id, loader));
    }
    out
}

pub fn release_orders<'info>(ctx: Context<'info, ReleaseOrders<'info>>, limit: u16) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let market_key = a.market.key();
    let exchange = {
        let m = a.market.load()?;
        require!(now >= m.last_trade_ts, FuturesError::StillTrading);
        m.exchange
    };
    let owners = margin_accounts_of(ctx.remaining_accounts, &exchange);
    let mut data = a.book.try_borrow_mut_data()?;
    let mut book = load_book(&mut data, &market_key)?;
    let mut qdata = a.event_queue.try_borrow_mut_data()?;
    let mut queue = load_queue(&mut qdata, &market_key)?;
    let (mut released, mut applied) = (0u32, 0u32);
    while released < limit as u32 {
        let Some(order) = book
            .side(Side::Bid)
            .as_ref()
            .best()
            .or_else(|| book.side(Side::Ask).as_ref().best())
        else {
            break;
        };
        let owner = owners.iter().find(|(id, _)| *id == order.owner);
        if owner.is_none() && queue.len() >= queue.capacity() {
            break;
        }
        book.cancel_order(order.order_id, order.owner)
            .map_err(FuturesError::from)?;
        released += 1;
        let side = order.side as u8;
        match owner {
            Some((_, loader)) => {
                let mut acc = loader.load_mut()?;
                if let Some(pos) = acc.find_position(&market_key) {
                    acc.release_lots(pos, side, order.order_id, order.lots, true);
                    acc.release_if_idle(pos);
                }
                applied += 1;
                crate::events::emit(&MakerOut {
                    market: market_key,
                    account: loader.key(),
                    order_id: order.order_id,
                    lots: order.lots,
                    reason: OutReason::Released as u8,
                    event_seq: 0,
                });
            }
            None => queue
                .push_record(&BookEvent::Out(OutEvent {
                    side: order.side,
                    owner: order.owner,
                    order_id: order.order_id,
                    client_order_id: order.client_order_id,
                    lots: order.lots,
                    reason: OutReason::Released,
                    closed: true,
                }))
                .map_err(FuturesError::from)?,
        }
    }
    let remaining = (book.side(Side::Bid).len() + book.side(Side::Ask).len()) as u32;
    crate::events::emit(&OrdersReleased {
        market: market_key,
        released,
        applied,
        remaining,
    });
    Ok(())
}
