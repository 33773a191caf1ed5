//! Order requests, outcomes and the order-id (crit-bit key) encoding.

use crate::node::Leaf;

/// Side of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Side {
    Bid = 0,
    Ask = 1,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        }
    }

    pub fn from_u8(v: u8) -> Option<Side> {
        match v {
            0 => Some(Side::Bid),
            1 => Some(Side::Ask),
            _ => None,
        }
    }

    /// The side an order id belongs to: bid keys store the inverted sequence, whose top bit is set.
    pub fn of_order_id(order_id: u128) -> Side {
        if (order_id as u64) >> 63 == 1 {
            Side::Bid
        } else {
            Side::Ask
        }
    }

    /// Child index that leads to the best order of this side: bids are best at the highest key,
    /// asks at the lowest.
    #[inline(always)]
    pub(crate) fn best_dir(self) -> usize {
        match self {
            Side::Bid => 1,
            Side::Ask => 0,
        }
    }
}

/// Order id = crit-bit key: the price in the high 64 bits, the sequence number in the low 64 bits
/// (inverted for bids) so one u128 comparison gives price-time priority on both sides.
#[inline(always)]
pub fn order_id(side: Side, price: u64, seq: u64) -> u128 {
    let low = match side {
        Side::Bid => !seq,
        Side::Ask => seq,
    };
    ((price as u128) << 64) | low as u128
}

/// Price in ticks of an order id.
#[inline(always)]
pub fn price_of(order_id: u128) -> u64 {
    (order_id >> 64) as u64
}

/// Sequence number of an order id.
pub fn seq_of(order_id: u128) -> u64 {
    let low = order_id as u64;
    match Side::of_order_id(order_id) {
        Side::Bid => !low,
        Side::Ask => low,
    }
}

/// How an order interacts with the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderType {
    /// Takes what crosses its price, rests the remainder.
    Limit = 0,
    /// Rests only; refused if it would take.
    PostOnly = 1,
    /// Rests only; re-priced one tick behind the best opposite order if it would take.
    PostOnlySlide = 2,
    /// Takes what crosses its price, cancels the remainder.
    ImmediateOrCancel = 3,
    /// Takes its whole quantity or nothing (refused, book unchanged).
    FillOrKill = 4,
    /// Immediate-or-cancel without a price limit.
    Market = 5,
}

impl OrderType {
    pub fn from_u8(v: u8) -> Option<OrderType> {
        Some(match v {
            0 => OrderType::Limit,
            1 => OrderType::PostOnly,
            2 => OrderType::PostOnlySlide,
            3 => OrderType::ImmediateOrCancel,
            4 => OrderType::FillOrKill,
            5 => OrderType::Market,
            _ => return None,
        })
    }
}

/// What happens when a taker meets a resting order of its own owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum SelfTrade {
    /// Both the taker and the resting order shrink by the overlap; nothing trades.
    #[default]
    DecrementTake = 0,
    /// The resting order is cancelled whole; the taker goes on matching.
    CancelResting = 1,
    /// The whole order is refused with [`crate::BookError::SelfTrade`], book unchanged.
    Abort = 2,
}

impl SelfTrade {
    pub fn from_u8(v: u8) -> Option<SelfTrade> {
        Some(match v {
            0 => SelfTrade::DecrementTake,
            1 => SelfTrade::CancelResting,
            2 => SelfTrade::Abort,
            _ => return None,
        })
    }
}

/// A new order as the caller asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRequest {
    pub side: Side,
    pub order_type: OrderType,
    /// Limit price in ticks (ignored for market orders).
    pub price: u64,
    pub lots: u64,
    /// Compact owner id; the caller maps it to an account.
    pub owner: u32,
    pub client_order_id: u64,
    /// Unix time at which a resting order stops being valid; 0 = good till cancelled.
    pub expiry: u64,
    pub reduce_only: bool,
    pub self_trade: SelfTrade,
    /// Most resting orders this call may touch (fill, self-trade, or remove as expired).
    pub match_limit: u32,
}

/// What a new order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderOutcome {
    /// Id of the posted order (also set when nothing was posted: the id it would have had).
    pub order_id: u128,
    /// Price the order was posted at (differs from the request after a slide); 0 for market orders.
    pub price: u64,
    /// Lots left resting on the book.
    pub posted_lots: u64,
    /// Lots traded against other owners.
    pub filled_lots: u64,
    /// Σ price × lots over the fills, in ticks × lots.
    pub filled_quote: u128,
    /// Lots removed from the taker by decrement-take self-trade prevention.
    pub self_trade_lots: u64,
    /// Lots neither filled, decremented nor posted (IOC/market remainder, match limit hit).
    pub cancelled_lots: u64,
    /// Number of fill events emitted.
    pub fills: u32,
    /// Number of out events emitted (expired, self-trade, evicted).
    pub outs: u32,
    /// The call stopped at its match limit with crossing orders left; the remainder was not posted.
    pub match_limit_hit: bool,
}

/// A resting order, as read from the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub order_id: u128,
    pub side: Side,
    pub price: u64,
    pub lots: u64,
    pub owner: u32,
    pub client_order_id: u64,
    pub expiry: u64,
    pub reduce_only: bool,
}

impl Order {
    pub(crate) fn from_leaf(leaf: &Leaf) -> Order {
        let order_id = leaf.key();
        Order {
            order_id,
            side: Side::of_order_id(order_id),
            price: leaf.price(),
            lots: leaf.lots,
            owner: leaf.owner,
            client_order_id: leaf.client_order_id,
            expiry: leaf.expiry,
            reduce_only: leaf.reduce_only(),
        }
    }

    /// Whether the order is no longer valid at `now`.
    pub fn is_expired(&self, now: u64) -> bool {
        self.expiry != 0 && self.expiry <= now
    }
}
