use anchor_lang::prelude::*;
use cfx_book::{BookEvent, Side};
use cfx_risk::fees::maker_fee;
use cfx_risk::math::notional;

use crate::error::FuturesError;
use crate::events::{EventsConsumed, MakerFilled, MakerOut};
use crate::instructions::trading::{decode_tag, owner_pays};
use crate::keys::key_eq;
use crate::state::book::load_queue;
use crate::state::{Exchange, Fill, MarginAccount, Market};
use crate::view::{check_book_account, require_distinct, views_of_ix, AccountView};

/// Most maker accounts one crank transaction can use (a transaction holds about 25 accounts).
const MAX_MAKERS: usize = 32;

/// Permissionless crank: applies the oldest events to makers' margin accounts, in queue order, and
/// pays the reward each event's taker was charged for it into `reward_account`. Remaining accounts: the makers' margin
/// accounts (writable, any order). It stops at the first event whose maker is not among them, so a
/// missing account only ends this transaction early; anyone can pass it next time.
#[derive(Accounts)]
pub struct ConsumeEvents<'info> {
    /// Read only: the crank's counters are the market's.
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's event queue; owner, discriminator and market checked on load.
    #[account(mut, address = market.load()?.event_queue @ FuturesError::WrongBookAccount)]
    pub event_queue: UncheckedAccount<'info>,
    /// Margin account credited with the crank reward.
    #[account(mut, constraint = reward_account.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub reward_account: AccountLoader<'info, MarginAccount>,
}

/// Applies one event to its maker. Never fails for a reason the maker could cause (an order it
/// cancelled meanwhile, a position slot it freed), so no maker can stall the queue. The crank
/// applies events in queue order; a liquidation applies the fills of the account it liquidates
/// ahead of the crank (`apply_queued_events`).
#[inline(always)]
pub fn apply(
    acc: &mut MarginAccount,
    account_key: &Pubkey,
    market_key: &Pubkey,
    market: &mut Market,
    event: &BookEvent,
    maker_bps: i16,
    seq: u64,
) -> Result<()> {
    // The position slot outlives the order: it is only freed once its reservations are released.
    let pos = acc.position_slot(market_key)?;
    match event {
        BookEvent::Fill(f) => {
            let n = notional(f.price, f.lots, market.tick_value).map_err(FuturesError::from)?;
            let buy = f.taker_side == Side::Ask;
            // The rate in effect at the fill, recorded by place_order.
            let fee = maker_fee(n, maker_bps as i64).map_err(FuturesError::from)?;
            let fill = acc.trade(
                account_key,
                pos,
                market,
                Fill {
                    buy,
                    lots: f.lots,
                    value: n,
                    charges: fee as i128,
                },
            )?;
            if buy {
                // Counted as pending when the taker sold.
                market.on_maker_buy_applied(f.lots)?;
            }
            // A fee is charged from what the maker has: any part beyond its collateral would be
            // bad debt, not a fee the exchange could sweep, so it is handed back. A rebate is
            // always paid.
            let mut fee = fee;
            if fee > 0 && acc.collateral < 0 {
                let uncovered = (fee as u64).min(acc.collateral.unsigned_abs()) as i64;
                acc.credit(uncovered as i128)?;
                fee -= uncovered;
            }
            market.on_maker_fee(fee)?;
            let maker_side = if buy { 0 } else { 1 };
            acc.release_lots(pos, maker_side, f.maker_order_id, f.lots, f.maker_out);
            crate::events::emit(&MakerFilled {
                market: *market_key,
                account: *account_key,
                order_id: f.maker_order_id,
                price: f.price,
                lots: f.lots,
                maker_fee: fee,
                realized_pnl: fill.realized,
                event_seq: seq,
            });
        }
        BookEvent::Out(o) => {
            acc.release_lots(pos, o.side as u8, o.order_id, o.lots, o.closed);
            crate::events::emit(&MakerOut {
                market: *market_key,
                account: *account_key,
                order_id: o.order_id,
                lots: o.lots,
                reason: o.reason as u8,
                event_seq: seq,
            });
        }
    }
    acc.release_if_idle(pos);
    Ok(())
}

/// The crank over account views (the entrypoint's fast path and the Anchor handler), with
/// `ConsumeEvents`' checks. A maker account may repeat the reward account or another maker (they
/// are borrowed one at a time), never the exchange, market or queue.
pub fn consume_events_views(views: &[AccountView], limit: u16) -> Result<()> {
    let [exchange_v, market_v, queue_v, reward_v, makers_v @ ..] = views else {
        return Err(anchor_lang::error::ErrorCode::AccountNotEnoughKeys.into());
    };
    require_distinct(&views[..4])?;
    check_book_account(queue_v)?;
    // SAFETY: the four accounts are distinct (checked above); the exchange is only read; the
    // reward account is borrowed only after the makers' borrows have ended.
    let (_exchange, market) = unsafe {
        (
            exchange_v.load::<Exchange>()?,
            market_v.load_mut::<Market>()?,
        )
    };
    let exchange_key = exchange_v.key();
    let market_key = market_v.key();
    require!(
        key_eq(&market.exchange, exchange_key),
        FuturesError::WrongExchange
    );
    require!(
        key_eq(queue_v.key(), &market.event_queue),
        FuturesError::WrongBookAccount
    );
    {
        let reward = unsafe { reward_v.load::<MarginAccount>()? };
        require!(
            reward_v.is_writable,
            anchor_lang::error::ErrorCode::AccountNotMutable
        );
        require!(
            key_eq(&reward.exchange, exchange_key),
            FuturesError::WrongExchange
        );
    }
    let mut queue = load_queue(unsafe { queue_v.data_mut() }, market_key)?;
    // Index the maker accounts once: (compact id, view). Accounts that are not writable margin
    // accounts of this exchange are ignored.
    let mut makers = [(0u32, 0usize); MAX_MAKERS];
    let mut n_makers = 0;
    for (i, v) in makers_v.iter().enumerate() {
        if n_makers == MAX_MAKERS || !v.is_writable || v.duplicate_of.is_some_and(|d| d < 3) {
            continue;
        }
        // SAFETY: read-only and not one of the accounts held mutably (repeats of those skipped).
        let Ok(acc) = (unsafe { v.load::<MarginAccount>() }) else {
            continue;
        };
        if key_eq(&acc.exchange, exchange_key) {
            makers[n_makers] = (acc.id, i);
            n_makers += 1;
        }
    }
    let mut consumed = 0u32;
    let mut reward = 0u64;
    // Rewards charged at the crank to the owners of removed orders.
    let mut direct = 0u64;
    while consumed < limit as u32 {
        let Some(rec) = queue.front().copied() else {
            break;
        };
        let event = rec.decode().ok_or(FuturesError::WrongBookAccount)?;
        let (low, paid) = decode_tag(rec.tag);
        if rec.owner_applied() {
            // A liquidation applied this event to its owner already: only the reward its taker
            // paid into the pool is left (an expired order's owner paid the liquidator then).
            if !owner_pays(&event, low) {
                reward += paid as u64;
            }
            queue.pop();
            consumed += 1;
            continue;
        }
        let owner = match &event {
            BookEvent::Fill(f) => f.maker,
            BookEvent::Out(o) => o.owner,
        };
        // Stop at the first event whose maker was not passed: queue order is kept.
        let Some(&(_, i)) = makers[..n_makers].iter().find(|(id, _)| *id == owner) else {
            break;
        };
        let v = &makers_v[i];
        // SAFETY: one maker borrowed at a time, none of them the exchange, market or queue.
        let acc = unsafe { v.load_mut_repeatable::<MarginAccount>()? };
        apply(acc, v.key(), market_key, market, &event, low, rec.seq_num)?;
        if owner_pays(&event, low) {
            // The removed order's owner pays, from what it has (never into debt).
            direct += acc.pay_up_to_collateral(paid as u64);
        } else {
            // What the taker paid into the pool for this event.
            reward += paid as u64;
        }
        queue.pop();
        consumed += 1;
    }
    // The pool holds exactly the rewards takers paid for the queued events.
    market.pay_crank(reward)?;
    let reward = reward + direct;
    {
        // SAFETY: no maker borrow is alive any more; the exchange and market are other accounts.
        let r = unsafe { reward_v.load_mut_repeatable::<MarginAccount>()? };
        r.credit(reward as i128)?;
    }
    crate::events::emit(&EventsConsumed {
        market: *market_key,
        consumed,
        remaining: queue.len() as u32,
        reward,
    });
    Ok(())
}

/// Applies, ahead of the crank, every event in `queue` whose owner is `acc` (its fills as maker,
/// its orders' outs) and that is not applied yet, and marks it applied so the crank only pays its
/// reward. For the out of an expired order the owner pays the crank reward now, from what it has.
/// Bounded by the queue's capacity. Returns how many events it applied and the rewards the owner
/// paid (the caller credits whoever did the work).
pub fn apply_queued_events(
    acc: &mut MarginAccount,
    account_key: &Pubkey,
    market_key: &Pubkey,
    market: &mut Market,
    queue: &mut cfx_book::EventQueue,
) -> Result<(u32, u64)> {
    let (mut applied, mut owner_paid) = (0u32, 0u64);
    for i in 0..queue.len() {
        let Some(rec) = queue.get_mut(i) else { break };
        if rec.owner != acc.id || rec.owner_applied() {
            continue;
        }
        let event = rec.decode().ok_or(FuturesError::WrongBookAccount)?;
        let (low, paid) = decode_tag(rec.tag);
        let seq = rec.seq_num;
        rec.set_owner_applied();
        apply(acc, account_key, market_key, market, &event, low, seq)?;
        if owner_pays(&event, low) {
            owner_paid += acc.pay_up_to_collateral(paid as u64);
        }
        applied += 1;
    }
    Ok((applied, owner_paid))
}

/// Reached only when the entrypoint's fast path is bypassed: the same handler over views.
pub fn consume_events<'info>(ctx: Context<'info, ConsumeEvents<'info>>, limit: u16) -> Result<()> {
    let views = views_of_ix(&ctx.accounts.to_account_infos(), ctx.remaining_accounts)?;
    consume_events_views(&views, limit)
}
