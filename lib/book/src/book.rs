//! The book buffer (header + both sides) and the matching engine.

use bytemuck::{Pod, Zeroable};

use crate::error::BookError;
use crate::event::{BookEvent, EventSink, FillEvent, OutEvent, OutReason};
use crate::node::{Inner, Leaf, FLAG_REDUCE_ONLY};
use crate::order::{order_id, Order, OrderOutcome, OrderRequest, OrderType, SelfTrade, Side};
use crate::side::{BookSide, SideHeader, SideRef};
use crate::{MAX_LOTS, MAX_MATCH_LIMIT, MAX_PRICE};

const BOOK_MAGIC: u32 = u32::from_le_bytes(*b"CFXB");

/// Book header, at the start of the buffer.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct BookHeader {
    pub magic: u32,
    /// Orders per side.
    pub capacity: u32,
    /// Sequence number the next order gets.
    pub seq_num: u64,
    pub bids: SideHeader,
    pub asks: SideHeader,
}

const HEADER: usize = core::mem::size_of::<BookHeader>();
const LEAF: usize = core::mem::size_of::<Leaf>();
const INNER: usize = core::mem::size_of::<Inner>();

/// Buffer layout: header, bid leaves, ask leaves, bid inner nodes, ask inner nodes. A side of
/// capacity `c` needs `c` leaves and `c - 1` inner nodes.
struct Layout {
    capacity: usize,
}

impl Layout {
    fn for_len(len: usize) -> Result<Layout, BookError> {
        // len >= HEADER + 2 * (c * LEAF + (c - 1) * INNER)
        let per_order = 2 * (LEAF + INNER);
        let capacity = (len + 2 * INNER).saturating_sub(HEADER) / per_order;
        if capacity == 0 {
            return Err(BookError::BufferTooSmall);
        }
        Ok(Layout {
            capacity: capacity.min(u32::MAX as usize >> 2),
        })
    }
}

/// Mutable book over a caller-provided buffer (e.g. account data).
pub struct Book<'a> {
    seq_num: &'a mut u64,
    pub bids: BookSide<'a>,
    pub asks: BookSide<'a>,
}

/// Read-only book, for clients decoding account data.
#[derive(Clone, Copy)]
pub struct BookRef<'a> {
    pub seq_num: u64,
    pub bids: SideRef<'a>,
    pub asks: SideRef<'a>,
}

type Parts<'a, H, L, I> = (H, (L, L), (I, I));

/// The parts of a buffer laid out for `cap` orders per side (`Layout::for_len` of its length).
fn split_mut(
    buf: &mut [u8],
    cap: usize,
) -> Result<Parts<'_, &mut BookHeader, &mut [Leaf], &mut [Inner]>, BookError> {
    if !(buf.as_ptr() as usize).is_multiple_of(8) {
        return Err(BookError::BufferMisaligned);
    }
    let (h, rest) = buf.split_at_mut(HEADER);
    let (leaves, rest) = rest.split_at_mut(2 * cap * LEAF);
    let (bl, al) = leaves.split_at_mut(cap * LEAF);
    let (bi, ai) = rest[..2 * (cap - 1) * INNER].split_at_mut((cap - 1) * INNER);
    let bad = |_| BookError::BufferMisaligned;
    Ok((
        bytemuck::try_from_bytes_mut(h).map_err(bad)?,
        (
            bytemuck::try_cast_slice_mut(bl).map_err(bad)?,
            bytemuck::try_cast_slice_mut(al).map_err(bad)?,
        ),
        (
            bytemuck::try_cast_slice_mut(bi).map_err(bad)?,
            bytemuck::try_cast_slice_mut(ai).map_err(bad)?,
        ),
    ))
}

fn check_header(h: &BookHeader, cap: usize) -> Result<(), BookError> {
    let side_ok = |s: &SideHeader| s.count as usize <= cap && s.leaf_bump as usize <= cap;
    if h.magic != BOOK_MAGIC || h.capacity as usize != cap || !side_ok(&h.bids) || !side_ok(&h.asks)
    {
        return Err(BookError::NotInitialized);
    }
    Ok(())
}

impl<'a> Book<'a> {
    /// Buffer size for `capacity` orders per side (at least 1).
    pub const fn size_for(capacity: usize) -> usize {
        HEADER + 2 * (capacity * LEAF + (capacity - 1) * INNER)
    }

    /// Orders per side a buffer of `len` bytes holds.
    pub fn capacity_for(len: usize) -> usize {
        Layout::for_len(len).map(|l| l.capacity).unwrap_or(0)
    }

    /// Initializes an all-zero buffer as an empty book. Only the header is written, so creating a
    /// large book costs the same as a small one.
    pub fn init(buf: &'a mut [u8]) -> Result<Book<'a>, BookError> {
        let cap = Layout::for_len(buf.len())?.capacity;
        {
            let (h, _, _) = split_mut(buf, cap)?;
            if h.magic != 0 {
                return Err(BookError::AlreadyInitialized);
            }
            *h = BookHeader {
                magic: BOOK_MAGIC,
                capacity: cap as u32,
                seq_num: 0,
                bids: SideHeader::EMPTY,
                asks: SideHeader::EMPTY,
            };
        }
        Book::load(buf)
    }

    /// Opens an initialized book.
    pub fn load(buf: &'a mut [u8]) -> Result<Book<'a>, BookError> {
        let cap = Layout::for_len(buf.len())?.capacity;
        let (h, (bl, al), (bi, ai)) = split_mut(buf, cap)?;
        check_header(h, cap)?;
        let BookHeader {
            seq_num,
            bids,
            asks,
            ..
        } = h;
        Ok(Book {
            seq_num,
            bids: BookSide {
                side: Side::Bid,
                hdr: bids,
                leaves: bl,
                inners: bi,
            },
            asks: BookSide {
                side: Side::Ask,
                hdr: asks,
                leaves: al,
                inners: ai,
            },
        })
    }

    pub fn as_ref(&self) -> BookRef<'_> {
        BookRef {
            seq_num: *self.seq_num,
            bids: self.bids.as_ref(),
            asks: self.asks.as_ref(),
        }
    }

    /// Sequence number the next order gets.
    pub fn seq_num(&self) -> u64 {
        *self.seq_num
    }

    pub fn side(&self, side: Side) -> &BookSide<'a> {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    fn sides_mut(&mut self, own: Side) -> (&mut BookSide<'a>, &mut BookSide<'a>) {
        match own {
            Side::Bid => (&mut self.bids, &mut self.asks),
            Side::Ask => (&mut self.asks, &mut self.bids),
        }
    }

    /// Places an order: matches what it may take, then posts what it may post. On error nothing
    /// changed: not the book, not the sink, not the sequence number.
    pub fn new_order<S: EventSink + ?Sized>(
        &mut self,
        req: &OrderRequest,
        now: u64,
        sink: &mut S,
    ) -> Result<OrderOutcome, BookError> {
        if req.lots == 0 || req.lots > MAX_LOTS {
            return Err(BookError::InvalidQuantity);
        }
        let market = req.order_type == OrderType::Market;
        if !market && (req.price == 0 || req.price > MAX_PRICE) {
            return Err(BookError::InvalidPrice);
        }
        if req.expiry != 0 && req.expiry <= now {
            return Err(BookError::AlreadyExpired);
        }
        if req.match_limit == 0 || req.match_limit > MAX_MATCH_LIMIT {
            return Err(BookError::InvalidMatchLimit);
        }
        if sink.free_slots() < req.match_limit as usize + 1 {
            return Err(BookError::EventSinkFull);
        }
        let seq = *self.seq_num;
        if seq >= 1 << 63 {
            return Err(BookError::SequenceExhausted);
        }
        let outcome = match req.order_type {
            OrderType::PostOnly | OrderType::PostOnlySlide => {
                self.post_only(req, seq, now, sink)?
            }
            _ => self.take(req, seq, now, sink)?,
        };
        *self.seq_num = seq + 1;
        Ok(outcome)
    }

    fn post_only<S: EventSink + ?Sized>(
        &mut self,
        req: &OrderRequest,
        seq: u64,
        now: u64,
        sink: &mut S,
    ) -> Result<OrderOutcome, BookError> {
        let side = req.side;
        let (own, opp) = self.sides_mut(side);
        // Common case first: the best opposite order does not cross, so nothing is in the way.
        let in_way = opp
            .best_leaf()
            .is_some_and(|l| crosses(side, Some(req.price), l.price()));
        let mut price = req.price;
        if in_way {
            // Read-only scan of the orders the price would cross: expired ones may be cleared, a
            // valid one refuses (post-only) or re-prices (slide) the order.
            let mut expired = 0u32;
            let mut iter = opp.as_ref().iter();
            while let Some(leaf) = iter.next_leaf() {
                if !crosses(side, Some(req.price), leaf.price()) {
                    break;
                }
                if !leaf.is_expired(now) {
                    if req.order_type == OrderType::PostOnly {
                        return Err(BookError::PostOnlyWouldCross);
                    }
                    price = match side {
                        Side::Bid => leaf.price() - 1,
                        Side::Ask => leaf.price() + 1,
                    };
                    if price == 0 || price > MAX_PRICE {
                        return Err(BookError::InvalidPrice);
                    }
                    break;
                }
                expired += 1;
                if expired > req.match_limit {
                    return Err(BookError::MatchLimitReached);
                }
            }
        }
        let key = order_id(side, price, seq);
        if own.is_full() && !own.outranks_worst(key) {
            return Err(BookError::BookFull);
        }
        let mut out = OrderOutcome {
            order_id: key,
            price,
            ..OrderOutcome::default()
        };
        // Clear the expired orders that would cross the final price.
        if in_way {
            while let Some(path) = opp.best_path() {
                let leaf = opp.leaf(path.leaf);
                if !crosses(side, Some(price), leaf.price()) || !leaf.is_expired(now) {
                    break;
                }
                let leaf = opp.remove_at(path);
                sink.push(out_event(&leaf, OutReason::Expired, leaf.lots, true));
                out.outs += 1;
            }
        }
        rest(own, req, key, req.lots, sink, &mut out);
        Ok(out)
    }

    fn take<S: EventSink + ?Sized>(
        &mut self,
        req: &OrderRequest,
        seq: u64,
        now: u64,
        sink: &mut S,
    ) -> Result<OrderOutcome, BookError> {
        let side = req.side;
        let limit = match req.order_type {
            OrderType::Market => None,
            _ => Some(req.price),
        };
        let price = limit.unwrap_or(0);
        let key = order_id(side, price, seq);
        let (own, opp) = self.sides_mut(side);
        // A crossing order always outranks the worst order of its own side, so this refuses only
        // orders that would rest without matching anything.
        if req.order_type == OrderType::Limit && own.is_full() && !own.outranks_worst(key) {
            return Err(BookError::BookFull);
        }
        if req.order_type == OrderType::FillOrKill || req.self_trade == SelfTrade::Abort {
            let dry = dry_run(opp.as_ref(), req, limit, now);
            if dry.self_trade {
                return Err(BookError::SelfTrade);
            }
            if req.order_type == OrderType::FillOrKill && dry.filled < req.lots {
                return Err(BookError::WouldNotFill);
            }
        }
        let mut out = OrderOutcome {
            order_id: key,
            price,
            ..OrderOutcome::default()
        };
        let mut remaining = req.lots;
        let mut budget = req.match_limit;
        while remaining > 0 {
            let Some(path) = opp.best_path() else { break };
            let maker = *opp.leaf(path.leaf);
            if !crosses(side, limit, maker.price()) {
                break;
            }
            if budget == 0 {
                out.match_limit_hit = true;
                break;
            }
            budget -= 1;
            if maker.is_expired(now) {
                opp.remove_at(path);
                sink.push(out_event(&maker, OutReason::Expired, maker.lots, true));
                out.outs += 1;
                continue;
            }
            if maker.owner == req.owner {
                let q = match req.self_trade {
                    SelfTrade::CancelResting => maker.lots,
                    // Abort was ruled out by the dry run.
                    SelfTrade::DecrementTake | SelfTrade::Abort => {
                        let q = remaining.min(maker.lots);
                        remaining -= q;
                        out.self_trade_lots += q;
                        q
                    }
                };
                let closed = q == maker.lots;
                if closed {
                    opp.remove_at(path);
                } else {
                    opp.leaf_mut(path.leaf).lots -= q;
                }
                sink.push(out_event(&maker, OutReason::SelfTrade, q, closed));
                out.outs += 1;
                continue;
            }
            let q = remaining.min(maker.lots);
            let maker_out = q == maker.lots;
            if maker_out {
                opp.remove_at(path);
            } else {
                opp.leaf_mut(path.leaf).lots -= q;
            }
            sink.push(BookEvent::Fill(FillEvent {
                taker_side: side,
                maker: maker.owner,
                taker: req.owner,
                price: maker.price(),
                lots: q,
                maker_order_id: maker.key(),
                maker_client_order_id: maker.client_order_id,
                maker_out,
            }));
            remaining -= q;
            out.filled_lots += q;
            // price and lots are below 2^63 and Σ lots ≤ req.lots, so Σ price × lots < 2^126:
            // neither the product nor the sum can overflow, and the unchecked forms spare SBF
            // its overflow-checked 128-bit routines (the product in 64 bits when it fits).
            out.filled_quote = out.filled_quote.wrapping_add(quote(maker.price(), q));
            out.fills += 1;
        }
        if remaining > 0 {
            if req.order_type == OrderType::Limit && !out.match_limit_hit {
                rest(own, req, key, remaining, sink, &mut out);
            } else {
                out.cancelled_lots = remaining;
            }
        }
        Ok(out)
    }

    /// Cancels a resting order of `owner`; the side comes from the id.
    pub fn cancel_order(&mut self, order_id: u128, owner: u32) -> Result<Order, BookError> {
        let side = match Side::of_order_id(order_id) {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        let path = side.find_path(order_id).ok_or(BookError::OrderNotFound)?;
        if side.leaf(path.leaf).owner != owner {
            return Err(BookError::WrongOwner);
        }
        Ok(Order::from_leaf(&side.remove_at(path)))
    }

    /// Cancels the first order (bids first, each side in priority order) of `owner` with this
    /// client order id. It scans the book: a program should resolve the id from the owner's own
    /// order list and call [`Book::cancel_order`].
    pub fn cancel_by_client_id(
        &mut self,
        owner: u32,
        client_order_id: u64,
    ) -> Result<Order, BookError> {
        let found = self
            .bids
            .as_ref()
            .iter()
            .chain(self.asks.as_ref().iter())
            .find(|o| o.owner == owner && o.client_order_id == client_order_id)
            .ok_or(BookError::OrderNotFound)?;
        self.cancel_order(found.order_id, owner)
    }
}

impl<'a> BookRef<'a> {
    /// Opens an initialized book read-only.
    pub fn load(buf: &'a [u8]) -> Result<BookRef<'a>, BookError> {
        if !(buf.as_ptr() as usize).is_multiple_of(8) {
            return Err(BookError::BufferMisaligned);
        }
        let cap = Layout::for_len(buf.len())?.capacity;
        let bad = |_| BookError::BufferMisaligned;
        let h: &BookHeader = bytemuck::try_from_bytes(&buf[..HEADER]).map_err(bad)?;
        check_header(h, cap)?;
        let leaves = &buf[HEADER..HEADER + 2 * cap * LEAF];
        let inners = &buf[HEADER + 2 * cap * LEAF..HEADER + 2 * cap * LEAF + 2 * (cap - 1) * INNER];
        let (bl, al) = leaves.split_at(cap * LEAF);
        let (bi, ai) = inners.split_at((cap - 1) * INNER);
        Ok(BookRef {
            seq_num: h.seq_num,
            bids: SideRef {
                side: Side::Bid,
                hdr: &h.bids,
                leaves: bytemuck::try_cast_slice(bl).map_err(bad)?,
                inners: bytemuck::try_cast_slice(bi).map_err(bad)?,
            },
            asks: SideRef {
                side: Side::Ask,
                hdr: &h.asks,
                leaves: bytemuck::try_cast_slice(al).map_err(bad)?,
                inners: bytemuck::try_cast_slice(ai).map_err(bad)?,
            },
        })
    }

    pub fn side(&self, side: Side) -> SideRef<'a> {
        match side {
            Side::Bid => self.bids,
            Side::Ask => self.asks,
        }
    }
}

/// `price × lots`, exact. In 64 bits when it fits, as it nearly always does: SBF has no
/// high-half multiply, so a 128-bit product (or `checked_mul`'s overflow test) is a ≈ 40 CU
/// routine, while testing a 64-bit product by dividing back is one instruction.
#[inline(always)]
fn quote(price: u64, lots: u64) -> u128 {
    let p = price.wrapping_mul(lots);
    // `black_box`: LLVM knows this idiom and would turn it back into the routine it replaces.
    if price == 0 || core::hint::black_box(p) / price == lots {
        p as u128
    } else {
        (price as u128).wrapping_mul(lots as u128)
    }
}

/// Whether a taker on `side` with `limit` (None = market) may trade at a maker's `price`.
#[inline(always)]
fn crosses(side: Side, limit: Option<u64>, price: u64) -> bool {
    match (side, limit) {
        (_, None) => true,
        (Side::Bid, Some(l)) => price <= l,
        (Side::Ask, Some(l)) => price >= l,
    }
}

fn out_event(leaf: &Leaf, reason: OutReason, lots: u64, closed: bool) -> BookEvent {
    let order_id = leaf.key();
    BookEvent::Out(OutEvent {
        side: Side::of_order_id(order_id),
        owner: leaf.owner,
        order_id,
        client_order_id: leaf.client_order_id,
        lots,
        reason,
        closed,
    })
}

/// Posts `lots` at `key`, evicting the side's worst order when full (callers checked that the
/// key outranks it).
fn rest<S: EventSink + ?Sized>(
    own: &mut BookSide<'_>,
    req: &OrderRequest,
    key: u128,
    lots: u64,
    sink: &mut S,
    out: &mut OrderOutcome,
) {
    if own.is_full() {
        if let Some(path) = own.worst_path() {
            let worst = own.remove_at(path);
            sink.push(out_event(&worst, OutReason::Evicted, worst.lots, true));
            out.outs += 1;
        }
    }
    let leaf = Leaf {
        key_lo: key as u64,
        key_hi: (key >> 64) as u64,
        lots,
        client_order_id: req.client_order_id,
        expiry: req.expiry,
        owner: req.owner,
        flags: if req.reduce_only { FLAG_REDUCE_ONLY } else { 0 },
    };
    // Cannot fail: there is room, and the fresh sequence number makes the key unique.
    if own.insert(leaf).is_ok() {
        out.posted_lots = lots;
    } else {
        out.cancelled_lots = lots;
    }
}

struct DryRun {
    filled: u64,
    self_trade: bool,
}

/// Replays the matching loop read-only: how much a taker would fill (decremented self-trade lots
/// are not fills), and whether it would meet its own order with abort self-trade prevention.
fn dry_run(opp: SideRef<'_>, req: &OrderRequest, limit: Option<u64>, now: u64) -> DryRun {
    let mut remaining = req.lots;
    let mut filled = 0;
    let mut budget = req.match_limit;
    let mut iter = opp.iter();
    while remaining > 0 {
        let Some(maker) = iter.next_leaf() else { break };
        if !crosses(req.side, limit, maker.price()) || budget == 0 {
            break;
        }
        budget -= 1;
        if maker.is_expired(now) {
            continue;
        }
        if maker.owner == req.owner {
            match req.self_trade {
                SelfTrade::Abort => {
                    return DryRun {
                        filled,
                        self_trade: true,
                    }
                }
                SelfTrade::CancelResting => continue,
                SelfTrade::DecrementTake => {
                    remaining -= remaining.min(maker.lots);
                    continue;
                }
            }
        }
        let q = remaining.min(maker.lots);
        remaining -= q;
        filled += q;
    }
    DryRun {
        filled,
        self_trade: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_is_the_exact_product() {
        for (p, l) in [
            (0, u64::MAX),
            (u64::MAX, 0),
            (u64::MAX, u64::MAX),
            (1 << 32, 1 << 32),
            ((1 << 32) - 1, (1 << 32) + 1),
            (25_000, 1_000_000),
            (MAX_PRICE, MAX_LOTS),
        ] {
            assert_eq!(quote(p, l), p as u128 * l as u128, "{p} × {l}");
        }
    }
}
