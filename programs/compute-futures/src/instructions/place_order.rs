use anchor_lang::prelude::*;
use cfx_book::{
    Book, EventQueue, OrderOutcome, OrderRequest, OrderType, SelfTrade, Side, EVENT_FILL,
};
use cfx_risk::fees::{maker_fee, taker_fee};
use cfx_risk::margin::HealthKind;
use cfx_risk::mark::ema_update;
use cfx_risk::math::{mul_div_floor, notional};
use cfx_risk::BPS;

use crate::error::FuturesError;
use crate::events::OrderPlaced;
use crate::health::{account_health, mark_ticks};
use crate::keys::key_eq;
use crate::state::book::{load_book, load_queue};
use crate::state::{Exchange, MarginAccount, Market, MarketStatus, PriceIndex, MAX_PRICE_TICKS};
use crate::view::{check_book_account, require_distinct, views_of_ix, AccountView};

/// One order as a trader sends it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderArgs {
    /// 0 bid, 1 ask.
    pub side: u8,
    /// lib/book `OrderType`: 0 limit, 1 post-only, 2 post-only-slide, 3 IOC, 4 FOK, 5 market.
    pub order_type: u8,
    /// Limit price in ticks (ignored for market orders, which are limited to the price band).
    pub price: u64,
    pub lots: u64,
    pub client_order_id: u64,
    /// Seconds a resting order lives; 0 = good till cancelled.
    pub time_in_force: u32,
    /// Only reduce the position: immediate, clamped to the position size.
    pub reduce_only: bool,
    /// lib/book `SelfTrade`: 0 decrement-take, 1 cancel-resting, 2 abort.
    pub self_trade: u8,
    /// Most resting orders the order may touch.
    pub match_limit: u8,
}

/// Places an order for a margin account (owner or delegate signs). Remaining accounts: (market,
/// index) of every other position the account holds, in position order, for the margin check.
#[derive(Accounts)]
pub struct PlaceOrder<'info> {
    pub signer: Signer<'info>,
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Belongs to `exchange` (checked in `with_trader`, where it is loaded once).
    #[account(mut)]
    pub account: AccountLoader<'info, MarginAccount>,
    /// Belongs to `exchange`; `index`, `book` and `event_queue` must be its own (checked in
    /// `with_trader` against the one load of the market).
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    pub index: AccountLoader<'info, PriceIndex>,
    /// CHECK: the market's book; key, owner, discriminator and market checked on load.
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: the market's event queue; key, owner, discriminator and market checked on load.
    #[account(mut)]
    pub event_queue: UncheckedAccount<'info>,
}

/// What place_order records in an event's tag for the crank: the crank reward for the event in
/// the high half; in the low half, for a fill the maker fee rate, for an out `OWNER_PAYS` when
/// the removed order was another account's expired order, whose owner, not the taker, pays the
/// reward at the crank. The crank charges, pays and
/// rewards exactly that, whatever the fee schedule is by the time it runs.
pub fn encode_tag(low: i16, crank_reward: u16) -> u32 {
    (low as u16 as u32) | ((crank_reward as u32) << 16)
}

/// (low half, crank reward) of an event's tag.
pub fn decode_tag(tag: u32) -> (i16, u16) {
    (tag as u16 as i16, (tag >> 16) as u16)
}

/// Low half of an out's tag: the order's owner pays the crank reward.
pub const OWNER_PAYS: i16 = 1;

/// What an instruction that trades holds while it trades.
pub struct Trader<'a> {
    pub exchange: &'a mut Exchange,
    pub market_key: &'a Pubkey,
    pub market: &'a mut Market,
    pub account_key: &'a Pubkey,
    pub account: &'a mut MarginAccount,
    pub mark: u64,
    pub now: i64,
}

/// Lower and upper price allowed around the mark.
fn band(market: &Market, mark: u64) -> Result<(u64, u64)> {
    let w = mul_div_floor(mark as u128, market.price_band_bps as u128, BPS as u128)
        .map_err(FuturesError::from)? as u64;
    Ok((
        (mark - w.min(mark)).max(1),
        mark.checked_add(w).ok_or(FuturesError::Overflow)?,
    ))
}

/// Places one order: validation, matching, the taker's side of every fill, fees, crank charge,
/// and the record of a resting remainder. Margin is checked by the caller once all orders of the
/// instruction are placed.
pub fn place(
    t: &mut Trader,
    book: &mut Book,
    queue: &mut EventQueue,
    args: &OrderArgs,
) -> Result<OrderOutcome> {
    require!(!t.exchange.is_paused(), FuturesError::ExchangePaused);
    let status = t.market.status();
    require!(
        t.now < t.market.last_trade_ts
            && matches!(status, MarketStatus::Active | MarketStatus::CloseOnly),
        FuturesError::MarketClosed
    );
    require!(
        status == MarketStatus::Active || args.reduce_only,
        FuturesError::MarketClosed
    );
    let side = Side::from_u8(args.side).ok_or(FuturesError::InvalidOrder)?;
    let mut order_type = OrderType::from_u8(args.order_type).ok_or(FuturesError::InvalidOrder)?;
    let self_trade = SelfTrade::from_u8(args.self_trade).ok_or(FuturesError::InvalidOrder)?;
    require!(
        args.lots >= t.market.min_order_lots,
        FuturesError::OrderTooSmall
    );
    let (lo, hi) = band(t.market, t.mark)?;
    let mut price = args.price;
    if order_type == OrderType::Market {
        // A market order is an IOC limited to the band edge.
        order_type = OrderType::ImmediateOrCancel;
        price = if side == Side::Bid { hi } else { lo };
    }
    require!(
        (lo..=hi).contains(&price) && price <= MAX_PRICE_TICKS,
        FuturesError::PriceOutsideBand
    );

    let pos = t.account.position_slot(t.market_key)?;
    let base = t.account.positions[pos].base_lots;
    let mut lots = args.lots;
    if args.reduce_only {
        require!(
            !matches!(order_type, OrderType::PostOnly | OrderType::PostOnlySlide),
            FuturesError::ReduceOnlyCannotRest
        );
        if order_type == OrderType::Limit {
            order_type = OrderType::ImmediateOrCancel;
        }
        // Lots already reserved on the same side (resting orders, and fills the crank has not
        // applied yet) may close the position first: only what is left can be reduced, so a
        // reduce-only order can never flip the position.
        let p = &t.account.positions[pos];
        let allowed = match side {
            Side::Bid if base < 0 => base.unsigned_abs().saturating_sub(p.bid_lots),
            Side::Ask if base > 0 => (base as u64).saturating_sub(p.ask_lots),
            _ => 0,
        };
        require!(allowed > 0, FuturesError::ReduceOnlyWouldIncrease);
        lots = lots.min(allowed);
    }
    if args.client_order_id != 0 {
        require!(
            t.account
                .find_client_order(pos, args.client_order_id)
                .is_none(),
            FuturesError::DuplicateClientOrderId
        );
    }
    let expiry = if args.time_in_force == 0 {
        0
    } else {
        (t.now as u64)
            .checked_add(args.time_in_force as u64)
            .ok_or(FuturesError::Overflow)?
    };
    crate::probe!("validated");
    let first_event = queue.seq_num();
    let req = OrderRequest {
        side,
        order_type,
        price,
        lots,
        owner: t.account.id,
        client_order_id: args.client_order_id,
        expiry,
        reduce_only: args.reduce_only,
        self_trade,
        match_limit: args.match_limit.max(1) as u32,
    };
    let out = book
        .new_order(&req, t.now as u64, queue)
        .map_err(FuturesError::from)?;
    // This order's events are the newest in the queue. Each carries the maker fee rate and the
    // crank reward in effect now (see `encode_tag`); rebates are reserved from the taker fee.
    let maker_bps = t.exchange.maker_fee_bps;
    let reward = u16::try_from(t.exchange.crank_reward).map_err(|_| FuturesError::InvalidFees)?;
    let fresh = (queue.seq_num() - first_event) as usize;
    let mut rebates = 0u64;
    // Events the taker pays the crank for: its fills and the outs of its own orders.
    let mut taker_events = 0u64;
    for k in queue.len() - fresh..queue.len() {
        let Some(r) = queue.get_mut(k) else { break };
        if r.kind != EVENT_FILL {
            // Another account's expired order this one removed is paid for by its owner, so
            // walls of short-lived orders cost takers nothing. An order evicted from a full side
            // is paid for by the order that took its place.
            let owner_pays =
                r.owner != t.account.id && r.reason == cfx_book::OutReason::Expired as u8;
            r.tag = encode_tag(if owner_pays { OWNER_PAYS } else { 0 }, reward);
            taker_events += !owner_pays as u64;
            continue;
        }
        taker_events += 1;
        r.tag = encode_tag(maker_bps, reward);
        if maker_bps < 0 {
            let n = notional(r.price, r.lots, t.market.tick_value).map_err(FuturesError::from)?;
            let m = maker_fee(n, maker_bps as i64).map_err(FuturesError::from)?;
            rebates = rebates
                .checked_add(m.unsigned_abs())
                .ok_or(FuturesError::Overflow)?;
        }
    }

    crate::probe!("matched");
    let tick_value = t.market.tick_value;
    let mut realized = 0i64;
    let mut fee = 0u64;
    let mut value = 0u128;
    if out.filled_lots > 0 {
        value = out
            .filled_quote
            .checked_mul(tick_value as u128)
            .ok_or(FuturesError::Overflow)?;
        let slot = &mut t.account.positions[pos];
        let mut p = slot.position();
        let before_long = p.base_lots.max(0) as u64;
        let before_short = p.base_lots.min(0).unsigned_abs();
        realized = p
            .apply_trade(side == Side::Bid, out.filled_lots, value)
            .map_err(FuturesError::from)?
            .realized;
        slot.set_position(p);
        // Informative running total (collateral holds the money): saturating.
        slot.realized_pnl = slot.realized_pnl.saturating_add(realized);
        let after_long = p.base_lots.max(0) as u64;
        t.market.open_interest = t
            .market
            .open_interest
            .checked_add(after_long)
            .and_then(|v| v.checked_sub(before_long))
            .ok_or(FuturesError::Overflow)?;
        // A taker that sells makes its makers longer when the crank applies their fills: until
        // then those lots count as pending open interest, and any trade that can grow open
        // interest is checked against both (the crank itself never refuses).
        if side == Side::Ask {
            t.market.open_interest_pending = t
                .market
                .open_interest_pending
                .checked_add(out.filled_lots)
                .ok_or(FuturesError::Overflow)?;
        }
        let short_growth = p
            .base_lots
            .min(0)
            .unsigned_abs()
            .saturating_sub(before_short);
        if after_long > before_long || short_growth > 0 {
            let projected = t
                .market
                .open_interest
                .checked_add(t.market.open_interest_pending)
                .ok_or(FuturesError::Overflow)?;
            require!(
                projected <= t.market.max_open_interest,
                FuturesError::OpenInterestLimit
            );
        }
        // Taker fee, less the rebates reserved for the makers of these fills.
        fee = taker_fee(value, t.exchange.taker_fee_bps as u64).map_err(FuturesError::from)?;
        let ex = &mut *t.exchange;
        ex.fees_accrued = ex
            .fees_accrued
            .checked_add(fee.checked_sub(rebates).ok_or(FuturesError::Overflow)?)
            .ok_or(FuturesError::Overflow)?;
        ex.rebates_reserved = ex
            .rebates_reserved
            .checked_add(rebates)
            .ok_or(FuturesError::Overflow)?;
        let vwap = (out.filled_quote / out.filled_lots as u128) as u64;
        let m = &mut *t.market;
        m.last_trade_price = vwap;
        m.volume_lots = m.volume_lots.saturating_add(out.filled_lots);
    }
    // The EMA samples trades only: a book mid could be moved at no cost with post-only quotes.
    // A sample moves it by elapsed / period, scaled by the trade's size against the market's
    // reference size, so neither many trades in one second nor a one-lot wash trade after a
    // quiet spell can reset it; the band around the index bounds it anyway. Before the first
    // trade it starts from the mark (the index).
    if out.filled_lots > 0 {
        let m = &mut *t.market;
        let dt = (t.now - m.ema_time).max(0) as u64;
        let ema = if m.ema_price == 0 {
            t.mark
        } else {
            m.ema_price
        };
        m.ema_price = ema_update(
            ema,
            m.last_trade_price,
            dt,
            m.ema_period,
            out.filled_lots,
            m.ema_reference_lots,
        )
        .map_err(FuturesError::from)?;
        m.ema_time = t.now;
    }
    // The taker pays the crank for its fills and the outs it caused but expired orders'.
    let crank = (reward as u64)
        .checked_mul(taker_events)
        .ok_or(FuturesError::Overflow)?;
    t.exchange.crank_pool = t
        .exchange
        .crank_pool
        .checked_add(crank)
        .ok_or(FuturesError::Overflow)?;
    let debit = (fee as i128) + (crank as i128) - (realized as i128);
    let collateral = (t.account.collateral as i128)
        .checked_sub(debit)
        .ok_or(FuturesError::Overflow)?;
    t.account.collateral = i64::try_from(collateral).map_err(|_| FuturesError::Overflow)?;

    if out.posted_lots > 0 {
        t.account.add_order(
            pos,
            side as u8,
            out.order_id,
            args.client_order_id,
            out.posted_lots,
        )?;
    }
    crate::probe!("accounted");
    let slot = &t.account.positions[pos];
    let max = t.market.max_position_lots as i128;
    let b = slot.base_lots as i128;
    require!(
        (b + slot.bid_lots as i128).abs() <= max && (b - slot.ask_lots as i128).abs() <= max,
        FuturesError::PositionLimit
    );
    crate::events::emit(&OrderPlaced {
        market: *t.market_key,
        account: *t.account_key,
        order_id: out.order_id,
        client_order_id: args.client_order_id,
        side: args.side,
        order_type: args.order_type,
        price: out.price,
        lots,
        filled_lots: out.filled_lots,
        filled_quote: u64::try_from(value).unwrap_or(u64::MAX),
        posted_lots: out.posted_lots,
        cancelled_lots: out.cancelled_lots,
        taker_fee: fee,
        realized_pnl: realized,
    });
    crate::probe!("emitted");
    Ok(out)
}

/// Margin after trading. Normally initial health must hold. An instruction whose orders are all
/// reduce-only is exempt from that, so an account below initial margin can always cut risk: it
/// must leave maintenance health ≥ 0, or no lower than before and without bad debt (equity ≥ 0),
/// so a reduce-only sale far from the mark to a friend cannot move losses onto the exchange.
pub fn check_margin(
    t: &Trader,
    remaining: &[AccountView],
    maintenance_before: Option<i128>,
) -> Result<()> {
    let known = [(t.market_key, &*t.market, t.mark)];
    match maintenance_before {
        Some(before) => {
            let after =
                account_health(t.account, &known, remaining, t.now, HealthKind::Maintenance)?;
            let ok = after >= 0
                || (after >= before
                    && account_health(t.account, &known, remaining, t.now, HealthKind::Equity)?
                        >= 0);
            require!(ok, FuturesError::InsufficientMargin);
        }
        None => {
            let h = account_health(t.account, &known, remaining, t.now, HealthKind::Initial)?;
            require!(h >= 0, FuturesError::InsufficientMargin);
        }
    }
    Ok(())
}

/// The accounts of a trading instruction, checked and loaded: `PlaceOrder`'s, in its order,
/// then the (market, index) pairs of the account's other positions.
pub struct TradeAccounts<'a> {
    pub signer: &'a Pubkey,
    pub exchange: &'a mut Exchange,
    pub account_key: &'a Pubkey,
    pub account: &'a mut MarginAccount,
    pub market_key: &'a Pubkey,
    pub market: &'a mut Market,
    pub index: &'a PriceIndex,
    pub book: Book<'a>,
    pub queue: EventQueue<'a>,
    pub remaining: &'a [AccountView<'a>],
}

impl<'a> TradeAccounts<'a> {
    /// The checks of `PlaceOrder`'s Anchor constraints plus the ones between accounts: every
    /// account distinct, owned by this program, of its type, writable where written, and the
    /// market's own index, book and queue.
    pub fn load(views: &'a [AccountView<'a>]) -> Result<Self> {
        let [signer, exchange, account, market, index, book, queue, remaining @ ..] = views else {
            return Err(anchor_lang::error::ErrorCode::AccountNotEnoughKeys.into());
        };
        signer.check_signer()?;
        require_distinct(&views[..7])?;
        check_book_account(book)?;
        check_book_account(queue)?;
        // SAFETY: the seven accounts are distinct (no repeats above) and each is borrowed once.
        let (exchange_data, acc, m, idx) = unsafe {
            (
                exchange.load_mut::<Exchange>()?,
                account.load_mut::<MarginAccount>()?,
                market.load_mut::<Market>()?,
                index.load::<PriceIndex>()?,
            )
        };
        require!(
            key_eq(&acc.exchange, exchange.key()),
            FuturesError::WrongExchange
        );
        require!(
            key_eq(&m.exchange, exchange.key()),
            FuturesError::WrongExchange
        );
        require!(key_eq(index.key(), &m.index), FuturesError::WrongIndex);
        require!(key_eq(book.key(), &m.book), FuturesError::WrongBookAccount);
        require!(
            key_eq(queue.key(), &m.event_queue),
            FuturesError::WrongBookAccount
        );
        let market_key = market.key();
        // SAFETY: as above.
        let (book_data, queue_data) = unsafe { (book.data_mut(), queue.data_mut()) };
        Ok(TradeAccounts {
            signer: signer.key(),
            exchange: exchange_data,
            account_key: account.key(),
            account: acc,
            market_key,
            market: m,
            index: idx,
            book: load_book(book_data, market_key)?,
            queue: load_queue(queue_data, market_key)?,
            remaining,
        })
    }
}

/// Runs `f` with everything a trading instruction needs loaded and checked, then checks margin.
/// `reduce_only`: every order `f` places is reduce-only (see `check_margin`).
pub fn with_trader<R>(
    views: &[AccountView],
    reduce_only: bool,
    f: impl FnOnce(&mut Trader, &mut Book, &mut EventQueue) -> Result<R>,
) -> Result<R> {
    crate::probe!("with_trader");
    let a = TradeAccounts::load(views)?;
    crate::probe!("loaded");
    require!(a.account.can_trade(a.signer), FuturesError::NotAuthorized);
    let now = Clock::get()?.unix_timestamp;
    crate::probe!("clock");
    let mark = mark_ticks(a.market, a.index, now)?;
    crate::probe!("mark");
    let maintenance_before = if reduce_only {
        Some(account_health(
            a.account,
            &[(a.market_key, &*a.market, mark)],
            a.remaining,
            now,
            HealthKind::Maintenance,
        )?)
    } else {
        None
    };
    let (mut book, mut queue) = (a.book, a.queue);
    let mut t = Trader {
        exchange: a.exchange,
        market_key: a.market_key,
        market: a.market,
        account_key: a.account_key,
        account: a.account,
        mark,
        now,
    };
    let r = f(&mut t, &mut book, &mut queue)?;
    crate::probe!("placed");
    t.account.release_idle_positions();
    crate::probe!("released");
    check_margin(&t, a.remaining, maintenance_before)?;
    crate::probe!("margin");
    Ok(r)
}

/// `place_order` over account views (the entrypoint's fast path and the Anchor handler).
pub fn place_order_views(views: &[AccountView], args: OrderArgs) -> Result<()> {
    with_trader(views, args.reduce_only, |t, book, queue| {
        place(t, book, queue, &args)
    })?;
    Ok(())
}

/// Reached only when the entrypoint's fast path is bypassed (Anchor's dispatcher): the same
/// handler over views of the same accounts.
pub fn place_order<'info>(ctx: Context<'info, PlaceOrder<'info>>, args: OrderArgs) -> Result<()> {
    let views = views_of_ix(&ctx.accounts.to_account_infos(), ctx.remaining_accounts)?;
    place_order_views(&views, args)
}
