use anchor_lang::prelude::*;
use cfx_book::{
    Book, EventQueue, OrderOutcome, OrderRequest, OrderType, SelfTrade, Side, EVENT_FILL,
};
use cfx_risk::fees::{maker_fee, taker_fee};
use cfx_risk::mark::ema_update;
use cfx_risk::math::{mul_div_floor, notional};
use cfx_risk::BPS;

use crate::error::FuturesError;
use crate::events::OrderPlaced;
use crate::instructions::trading::{encode_tag, with_trader, Trader, OWNER_PAYS};
use crate::state::{
    Exchange, Fill, MarginAccount, Market, MarketStatus, PriceIndex, MAX_PRICE_TICKS,
};
use crate::view::{views_of_ix, AccountView};

/// Side of an order; one byte on the wire (0 bid, 1 ask: the variants' order).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderSide {
    Bid,
    Ask,
}

/// How an order meets the book; one byte on the wire, the variants' order, which is
/// lib/book's `OrderType` numbering.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderKind {
    /// Takes what crosses, rests the remainder.
    Limit,
    /// Refused if it would cross.
    PostOnly,
    /// Re-priced one tick behind the first crossing order instead of crossing.
    PostOnlySlide,
    /// Takes what crosses, cancels the remainder.
    ImmediateOrCancel,
    /// Fills completely at once or is refused.
    FillOrKill,
    /// An IOC limited to the price band's edge (the price is ignored).
    Market,
}

/// What happens when an order meets a resting order of the same account; one byte on the wire,
/// the variants' order, which is lib/book's `SelfTrade` numbering.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SelfTradeMode {
    /// Both shrink by the overlap, no trade.
    DecrementTake,
    /// The resting order is cancelled and matching goes on.
    CancelResting,
    /// The whole order is refused.
    Abort,
}

/// One order as a trader sends it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderArgs {
    pub side: OrderSide,
    pub order_type: OrderKind,
    /// Limit price in ticks (ignored for market orders, which are limited to the price band).
    pub price: u64,
    pub lots: u64,
    pub client_order_id: u64,
    /// Seconds a resting order lives; 0 = good till cancelled.
    pub time_in_force: u32,
    /// Only reduce the position: immediate, clamped to the position size.
    pub reduce_only: bool,
    pub self_trade: SelfTradeMode,
    /// Most resting orders the order may touch.
    pub match_limit: u8,
}

impl OrderArgs {
    /// Bytes of the arguments on the wire.
    pub const LEN: usize = 33;

    /// The arguments as Borsh reads them (trailing bytes ignored, enum tags and the bool
    /// checked), at fixed offsets: the fast path's reading of every order. A test holds it to
    /// Borsh byte by byte.
    pub fn read(bytes: &[u8]) -> Option<OrderArgs> {
        let b: &[u8; Self::LEN] = bytes.get(..Self::LEN)?.try_into().ok()?;
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[at..at + 8]);
            u64::from_le_bytes(w)
        };
        Some(OrderArgs {
            side: match b[0] {
                0 => OrderSide::Bid,
                1 => OrderSide::Ask,
                _ => return None,
            },
            order_type: match b[1] {
                0 => OrderKind::Limit,
                1 => OrderKind::PostOnly,
                2 => OrderKind::PostOnlySlide,
                3 => OrderKind::ImmediateOrCancel,
                4 => OrderKind::FillOrKill,
                5 => OrderKind::Market,
                _ => return None,
            },
            price: word(2),
            lots: word(10),
            client_order_id: word(18),
            time_in_force: u32::from_le_bytes([b[26], b[27], b[28], b[29]]),
            reduce_only: match b[30] {
                0 => false,
                1 => true,
                _ => return None,
            },
            self_trade: match b[31] {
                0 => SelfTradeMode::DecrementTake,
                1 => SelfTradeMode::CancelResting,
                2 => SelfTradeMode::Abort,
                _ => return None,
            },
            match_limit: b[32],
        })
    }
}

/// Places an order for a margin account (owner or delegate signs). Remaining accounts: (market,
/// index) of every other position the account holds, in position order, for the margin check.
#[derive(Accounts)]
pub struct PlaceOrder<'info> {
    pub signer: Signer<'info>,
    /// Read only: trading never writes the exchange (its counters are per market).
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

/// Lower and upper price allowed around the mark.
fn band(market: &Market, mark: u64) -> Result<(u64, u64)> {
    let w = mul_div_floor(mark as u128, market.price_band_bps as u128, BPS as u128)
        .map_err(FuturesError::from)? as u64;
    Ok((
        (mark - w.min(mark)).max(1),
        mark.checked_add(w).ok_or(FuturesError::Overflow)?,
    ))
}

/// An order validated against the market and the account: what goes to the book, and the
/// position slot it trades in.
struct ValidOrder {
    request: OrderRequest,
    /// Position slot of the market in the account.
    pos: usize,
    /// Lots asked for (a reduce-only order's clamped to what it may reduce).
    lots: u64,
}

/// What the taker owes for the events its order produced.
struct EventCharges {
    /// Rebates reserved for the makers of its fills, out of its fee.
    rebates: u64,
    /// Crank reward for each event it pays for.
    reward: u16,
    /// Events it pays the crank for.
    events: u64,
}

/// What the taker's side of its fills came to.
struct TakerSettlement {
    fee: u64,
    realized: i64,
    /// Quote native units filled.
    value: u128,
}

/// Places one order: validate it, match it, tag the new events for the crank, settle the taker's
/// side of its fills, update the mark EMA, record a resting remainder and check the position
/// limit. Margin is checked by the caller once all orders of the instruction are placed.
pub fn place(
    t: &mut Trader,
    book: &mut Book,
    queue: &mut EventQueue,
    args: &OrderArgs,
) -> Result<OrderOutcome> {
    let order = validate(t, args)?;
    crate::probe!("validated");
    let first_event = queue.seq_num();
    let out = book
        .new_order(&order.request, t.now as u64, queue)
        .map_err(FuturesError::from)?;
    let charges = tag_new_events(t, queue, first_event)?;
    crate::probe!("matched");
    let settled = settle_taker(t, &order, &out, &charges)?;
    if out.filled_lots > 0 {
        update_mark_ema(t.market, t.prices.mark, t.now, out.filled_lots)?;
    }
    if out.posted_lots > 0 {
        t.account.add_order(
            order.pos,
            args.side as u8,
            out.order_id,
            args.client_order_id,
            out.posted_lots,
        )?;
    }
    crate::probe!("accounted");
    check_position_limit(t, order.pos)?;
    crate::events::emit(&OrderPlaced {
        market: *t.market_key,
        account: *t.account_key,
        order_id: out.order_id,
        client_order_id: args.client_order_id,
        side: args.side as u8,
        order_type: args.order_type as u8,
        price: out.price,
        lots: order.lots,
        filled_lots: out.filled_lots,
        filled_quote: u64::try_from(settled.value).unwrap_or(u64::MAX),
        posted_lots: out.posted_lots,
        cancelled_lots: out.cancelled_lots,
        taker_fee: settled.fee,
        realized_pnl: settled.realized,
    });
    crate::probe!("emitted");
    Ok(out)
}

/// Checks the order against the exchange, the market's status, size and price band, and the
/// account's position (reduce-only) and client ids, and builds the book request.
fn validate(t: &mut Trader, args: &OrderArgs) -> Result<ValidOrder> {
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
    // The argument enums share lib/book's numbering.
    let side = Side::from_u8(args.side as u8).ok_or(FuturesError::InvalidOrder)?;
    let mut order_type =
        OrderType::from_u8(args.order_type as u8).ok_or(FuturesError::InvalidOrder)?;
    let self_trade = SelfTrade::from_u8(args.self_trade as u8).ok_or(FuturesError::InvalidOrder)?;
    require!(
        args.lots >= t.market.min_order_lots,
        FuturesError::OrderTooSmall
    );
    let (lo, hi) = band(t.market, t.prices.mark)?;
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
    if args.client_order_id != 0 && t.account.may_hold_client_id(args.client_order_id) {
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
    Ok(ValidOrder {
        request: OrderRequest {
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
        },
        pos,
        lots,
    })
}

/// Writes into each event this order produced (the newest since `first_event`) the maker fee
/// rate and crank reward in effect now (see `encode_tag`), and sums what the taker owes for
/// them: the rebates its makers are due, reserved from its fee, and the crank reward of each
/// event it pays for.
fn tag_new_events(t: &Trader, queue: &mut EventQueue, first_event: u64) -> Result<EventCharges> {
    let maker_bps = t.exchange.maker_fee_bps;
    let reward = u16::try_from(t.exchange.crank_reward).map_err(|_| FuturesError::InvalidFees)?;
    let fresh = (queue.seq_num() - first_event) as usize;
    let mut charges = EventCharges {
        rebates: 0,
        reward,
        events: 0,
    };
    for k in queue.len() - fresh..queue.len() {
        let Some(r) = queue.get_mut(k) else { break };
        if r.kind != EVENT_FILL {
            // Another account's expired order this one removed is paid for by its owner, so
            // walls of short-lived orders cost takers nothing. An order evicted from a full side
            // is paid for by the order that took its place.
            let owner_pays =
                r.owner != t.account.id && r.reason == cfx_book::OutReason::Expired as u8;
            r.tag = encode_tag(if owner_pays { OWNER_PAYS } else { 0 }, reward);
            charges.events += !owner_pays as u64;
            continue;
        }
        charges.events += 1;
        r.tag = encode_tag(maker_bps, reward);
        if maker_bps < 0 {
            let n = notional(r.price, r.lots, t.market.tick_value).map_err(FuturesError::from)?;
            let m = maker_fee(n, maker_bps as i64).map_err(FuturesError::from)?;
            charges.rebates = charges
                .rebates
                .checked_add(m.unsigned_abs())
                .ok_or(FuturesError::Overflow)?;
        }
    }
    Ok(charges)
}

/// The taker's side of its fills, at once: position and realized PnL, open interest (with the
/// limit), taker fee less reserved rebates, crank charges, and the market's counters.
fn settle_taker(
    t: &mut Trader,
    order: &ValidOrder,
    out: &OrderOutcome,
    charges: &EventCharges,
) -> Result<TakerSettlement> {
    let mut settled = TakerSettlement {
        fee: 0,
        realized: 0,
        value: 0,
    };
    // The taker pays the crank for its fills and the outs it caused but expired orders'.
    let crank = cfx_risk::math::mul_u64(charges.reward as u64, charges.events)
        .ok_or(FuturesError::Overflow)?;
    let mut rebates = 0;
    if out.filled_lots > 0 {
        settled.value = cfx_risk::math::mul(out.filled_quote, t.market.tick_value as u128)
            .map_err(FuturesError::from)?;
        settled.fee = taker_fee(settled.value, t.exchange.taker_fee_bps as u64)
            .map_err(FuturesError::from)?;
        let buy = order.request.side == Side::Bid;
        let fill = t.account.trade(
            t.account_key,
            order.pos,
            t.market,
            Fill {
                buy,
                lots: out.filled_lots,
                value: settled.value,
                charges: settled.fee as i128 + crank as i128,
            },
        )?;
        settled.realized = fill.realized;
        // A taker that sells makes its makers longer when the crank applies their fills: until
        // then those lots count as pending open interest, and any trade that can grow open
        // interest is checked against both (the crank itself never refuses).
        if !buy {
            t.market.on_taker_sell(out.filled_lots)?;
        }
        if fill.grew() {
            require!(
                t.market.projected_open_interest()? <= t.market.max_open_interest,
                FuturesError::OpenInterestLimit
            );
        }
        rebates = charges.rebates;
        // In u64 when it fits (always, in practice): a u128 division is a library call on SBF.
        let vwap = match u64::try_from(out.filled_quote) {
            Ok(q) => q / out.filled_lots,
            Err(_) => (out.filled_quote / out.filled_lots as u128) as u64,
        };
        t.market.last_trade_price = vwap;
        t.market.volume_lots = t.market.volume_lots.saturating_add(out.filled_lots);
    } else if crank > 0 {
        t.account.credit(-(crank as i128))?;
    }
    t.market.on_taker_charges(settled.fee, rebates, crank)?;
    Ok(settled)
}

/// The EMA samples trades only: a book mid could be moved at no cost with post-only quotes.
/// A sample moves it by elapsed / period, scaled by the trade's size against the market's
/// reference size, so neither many trades in one second nor a one-lot wash trade after a quiet
/// spell can reset it; the band around the index bounds it anyway. Before the first trade it
/// starts from the mark (the index).
fn update_mark_ema(m: &mut Market, mark: u64, now: i64, filled_lots: u64) -> Result<()> {
    let dt = (now - m.ema_time).max(0) as u64;
    let ema = if m.ema_price == 0 { mark } else { m.ema_price };
    m.ema_price = ema_update(
        ema,
        m.last_trade_price,
        dt,
        m.ema_period,
        filled_lots,
        m.ema_reference_lots,
    )
    .map_err(FuturesError::from)?;
    m.ema_time = now;
    Ok(())
}

/// The position, with every resting lot filled on either side, stays within the market's limit.
fn check_position_limit(t: &Trader, pos: usize) -> Result<()> {
    let slot = &t.account.positions[pos];
    let max = t.market.max_position_lots as i128;
    let b = slot.base_lots as i128;
    require!(
        (b + slot.bid_lots as i128).abs() <= max && (b - slot.ask_lots as i128).abs() <= max,
        FuturesError::PositionLimit
    );
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The argument enums' bytes are lib/book's numbering, so the conversion in `validate` can
    /// never fail and the wire format is the `u8` one it replaced.
    #[test]
    fn argument_enums_number_as_lib_book() {
        for (s, b) in [(OrderSide::Bid, Side::Bid), (OrderSide::Ask, Side::Ask)] {
            assert_eq!(Side::from_u8(s as u8), Some(b));
        }
        for (k, t) in [
            (OrderKind::Limit, OrderType::Limit),
            (OrderKind::PostOnly, OrderType::PostOnly),
            (OrderKind::PostOnlySlide, OrderType::PostOnlySlide),
            (OrderKind::ImmediateOrCancel, OrderType::ImmediateOrCancel),
            (OrderKind::FillOrKill, OrderType::FillOrKill),
            (OrderKind::Market, OrderType::Market),
        ] {
            assert_eq!(OrderType::from_u8(k as u8), Some(t));
        }
        for (m, t) in [
            (SelfTradeMode::DecrementTake, SelfTrade::DecrementTake),
            (SelfTradeMode::CancelResting, SelfTrade::CancelResting),
            (SelfTradeMode::Abort, SelfTrade::Abort),
        ] {
            assert_eq!(SelfTrade::from_u8(m as u8), Some(t));
        }
        let args = OrderArgs {
            side: OrderSide::Ask,
            order_type: OrderKind::Market,
            price: 1,
            lots: 2,
            client_order_id: 3,
            time_in_force: 4,
            reduce_only: true,
            self_trade: SelfTradeMode::Abort,
            match_limit: 5,
        };
        let mut bytes = Vec::new();
        args.serialize(&mut bytes).unwrap();
        assert_eq!((bytes[0], bytes[1], bytes[bytes.len() - 2]), (1, 5, 2));
    }

    /// `OrderArgs::read` accepts exactly what Borsh accepts and reads the same values: every
    /// byte of valid arguments set to each interesting value, every truncation, trailing bytes.
    #[test]
    fn fixed_offset_reading_is_borsh() {
        let borsh = |b: &[u8]| OrderArgs::deserialize(&mut &b[..]).ok();
        let args = OrderArgs {
            side: OrderSide::Ask,
            order_type: OrderKind::ImmediateOrCancel,
            price: 0x0102_0304_0506_0708,
            lots: u64::MAX - 1,
            client_order_id: 42,
            time_in_force: 0xA0B0_C0D0,
            reduce_only: true,
            self_trade: SelfTradeMode::CancelResting,
            match_limit: 7,
        };
        let mut valid = Vec::new();
        args.serialize(&mut valid).unwrap();
        assert_eq!(valid.len(), OrderArgs::LEN);
        assert_eq!(OrderArgs::read(&valid), Some(args));
        for at in 0..valid.len() {
            for v in [0u8, 1, 2, 3, 4, 5, 6, 0x7f, 0x80, 0xff] {
                let mut b = valid.clone();
                b[at] = v;
                assert_eq!(OrderArgs::read(&b), borsh(&b), "byte {at} = {v}");
            }
        }
        for n in 0..valid.len() {
            assert_eq!(OrderArgs::read(&valid[..n]), None);
            assert_eq!(borsh(&valid[..n]), None);
        }
        let mut longer = valid.clone();
        longer.extend_from_slice(&[9, 9, 9]);
        assert_eq!(OrderArgs::read(&longer), borsh(&longer));
        assert_eq!(OrderArgs::read(&longer), Some(args));
    }
}
