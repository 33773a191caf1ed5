//! cfx order book: a zero-copy crit-bit order book and matching engine.
//!
//! The book lives in one caller-provided byte buffer (on chain: account data) holding a header and,
//! per side, a pool of 48-byte leaves (resting orders) and a pool of 12-byte inner nodes, 60 bytes
//! per order. Nothing allocates; the same code runs in the program and in keepers and clients.
//!
//! Priority is price-time: the crit-bit key is `price << 64 | seq` (sequence inverted for bids), and
//! that key is the order id. Matching ([`Book::new_order`]) supports limit, post-only, post-only
//! slide, IOC, fill-or-kill and market orders, three self-trade modes and a per-call match limit.
//! Every refused operation returns a [`BookError`] and changes nothing.
#![cfg_attr(not(test), no_std)]

mod book;
mod error;
mod event;
mod node;
mod order;
mod side;

pub use book::{Book, BookHeader, BookRef};
pub use error::BookError;
pub use event::{
    BookEvent, EventQueue, EventRecord, EventSink, FillEvent, OutEvent, OutReason, QueueHeader,
    EVENT_FILL, EVENT_OUT,
};
pub use node::{Inner, Leaf, NIL};
pub use order::{
    order_id, price_of, seq_of, Order, OrderOutcome, OrderRequest, OrderType, SelfTrade, Side,
};
pub use side::{BookSide, Level, Levels, SideHeader, SideIter, SideRef};

/// Highest limit price, in ticks.
pub const MAX_PRICE: u64 = i64::MAX as u64;
/// Largest order, in lots.
pub const MAX_LOTS: u64 = i64::MAX as u64;
/// Most resting orders one call may touch.
pub const MAX_MATCH_LIMIT: u32 = 1024;
/// Bytes one resting order occupies: a leaf plus the inner node it adds to the tree.
pub const BYTES_PER_ORDER: usize = core::mem::size_of::<Leaf>() + core::mem::size_of::<Inner>();
