//! Typed errors. Every error leaves the book, the event sink and the sequence counter unchanged.

/// Why an operation on the book was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum BookError {
    /// Quantity is zero or above [`crate::MAX_LOTS`].
    InvalidQuantity = 1,
    /// Limit price is zero or above [`crate::MAX_PRICE`] (or a slide would leave that range).
    InvalidPrice,
    /// The order's expiry time is not in the future.
    AlreadyExpired,
    /// Match limit is zero or above [`crate::MAX_MATCH_LIMIT`].
    InvalidMatchLimit,
    /// The event sink has fewer free slots than the order could need (match limit + 1).
    EventSinkFull,
    /// A post-only order would have taken liquidity.
    PostOnlyWouldCross,
    /// A fill-or-kill order could not be filled completely.
    WouldNotFill,
    /// The order would trade with an order of the same owner and the self-trade mode is abort.
    SelfTrade,
    /// More expired orders stand in the way than the match limit allows removing.
    MatchLimitReached,
    /// The side is full and the order is not better than its least aggressive order.
    BookFull,
    /// No resting order has that id.
    OrderNotFound,
    /// The resting order belongs to another owner.
    WrongOwner,
    /// An order with that key already rests on the book.
    DuplicateOrderId,
    /// The order sequence counter is exhausted.
    SequenceExhausted,
    /// The buffer is too small for a header and one order per side (or one event).
    BufferTooSmall,
    /// The buffer is not 8-byte aligned.
    BufferMisaligned,
    /// The buffer does not hold an initialized book (or queue) of its own size.
    NotInitialized,
    /// The buffer already holds an initialized book (or queue).
    AlreadyInitialized,
    /// The event queue is full.
    QueueFull,
}

impl core::fmt::Display for BookError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let text = match self {
            BookError::InvalidQuantity => "quantity must be between 1 and MAX_LOTS",
            BookError::InvalidPrice => "price must be between 1 and MAX_PRICE ticks",
            BookError::AlreadyExpired => "order expiry is not in the future",
            BookError::InvalidMatchLimit => "match limit must be between 1 and MAX_MATCH_LIMIT",
            BookError::EventSinkFull => "not enough room in the event queue for this order",
            BookError::PostOnlyWouldCross => "post-only order would take liquidity",
            BookError::WouldNotFill => "fill-or-kill order cannot be filled completely",
            BookError::SelfTrade => "order would trade against an order of the same owner",
            BookError::MatchLimitReached => {
                "too many expired orders in the way; raise the match limit"
            }
            BookError::BookFull => "book side is full and the order is not better than its worst",
            BookError::OrderNotFound => "no resting order with that id",
            BookError::WrongOwner => "the order belongs to another owner",
            BookError::DuplicateOrderId => "an order with that id already rests on the book",
            BookError::SequenceExhausted => "order sequence exhausted",
            BookError::BufferTooSmall => "buffer too small",
            BookError::BufferMisaligned => "buffer is not 8-byte aligned",
            BookError::NotInitialized => {
                "buffer does not hold an initialized structure of its size"
            }
            BookError::AlreadyInitialized => "buffer is already initialized",
            BookError::QueueFull => "event queue is full",
        };
        f.write_str(text)
    }
}
