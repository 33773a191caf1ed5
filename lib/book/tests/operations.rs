//! Unit tests: one or more per operation and order type.

mod common;

use cfx_book::*;
use common::*;

const NOW: u64 = 1_000;

/// Runs `f` on a fresh book of `cap` orders per side after placing `setup` (at time NOW).
fn with_book(cap: usize, setup: &[OrderRequest]) -> Vec<u64> {
    let mut buf = book_buffer(cap);
    let mut book = Book::init(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(1 << 16);
    for r in setup {
        book.new_order(r, NOW, &mut sink).unwrap();
    }
    buf
}

/// Asserts that the order is refused with `err` and leaves every byte of the book and the sink as
/// they were.
fn assert_refused(buf: &mut Vec<u64>, r: &OrderRequest, now: u64, slots: usize, err: BookError) {
    let before = buf.clone();
    let mut sink = VecSink::new(slots);
    let mut book = Book::load(bytes(buf)).unwrap();
    assert_eq!(book.new_order(r, now, &mut sink), Err(err));
    assert!(sink.events.is_empty());
    assert_eq!(*buf, before, "a refused order changed the book");
}

#[test]
fn sizes_and_init() {
    assert_eq!(BYTES_PER_ORDER, 60);
    assert_eq!(Book::size_for(1), 64 + 96);
    assert_eq!(Book::capacity_for(Book::size_for(4096)), 4096);
    assert_eq!(Book::capacity_for(Book::size_for(4096) - 1), 4095);
    assert_eq!(Book::capacity_for(10), 0);
    let mut buf = book_buffer(4);
    assert!(matches!(
        Book::load(bytes(&mut buf)),
        Err(BookError::NotInitialized)
    ));
    Book::init(bytes(&mut buf)).unwrap();
    assert!(matches!(
        Book::init(bytes(&mut buf)),
        Err(BookError::AlreadyInitialized)
    ));
    let book = Book::load(bytes(&mut buf)).unwrap();
    assert_eq!(book.bids.as_ref().capacity(), 4);
    assert_eq!(book.seq_num(), 0);
    let b = bytes(&mut buf);
    assert!(matches!(
        Book::load(&mut b[1..]),
        Err(BookError::BufferMisaligned)
    ));
    assert!(matches!(
        Book::init(&mut [0u8; 16][..]),
        Err(BookError::BufferTooSmall)
    ));
    // A buffer of another size does not pass for the book it was initialized as.
    let mut big = book_buffer(8);
    Book::init(bytes(&mut big)).unwrap();
    let len = Book::size_for(4);
    assert!(matches!(
        Book::load(&mut bytes(&mut big)[..len]),
        Err(BookError::NotInitialized)
    ));
}

#[test]
fn price_time_priority_on_both_sides() {
    let buf = with_book(
        16,
        &[
            limit(Side::Bid, 99, 1, 1),
            limit(Side::Bid, 100, 2, 2),
            limit(Side::Bid, 100, 3, 3),
            limit(Side::Bid, 98, 4, 4),
            limit(Side::Ask, 103, 5, 5),
            limit(Side::Ask, 101, 6, 6),
            limit(Side::Ask, 101, 7, 7),
        ],
    );
    let book = BookRef::load(bytemuck::cast_slice(&buf)).unwrap();
    assert_eq!(
        contents(book.bids),
        vec![(100, 2, 2), (100, 3, 3), (99, 1, 1), (98, 4, 4)]
    );
    assert_eq!(
        contents(book.asks),
        vec![(101, 6, 6), (101, 7, 7), (103, 5, 5)]
    );
    assert_eq!(book.bids.best_price(), Some(100));
    assert_eq!(book.asks.best_price(), Some(101));
    assert_eq!(book.bids.worst().unwrap().owner, 4);
    assert_eq!(book.asks.worst().unwrap().owner, 5);
    let levels: Vec<Level> = book.bids.levels().collect();
    assert_eq!(
        levels,
        vec![
            Level {
                price: 100,
                lots: 5,
                orders: 2
            },
            Level {
                price: 99,
                lots: 1,
                orders: 1
            },
            Level {
                price: 98,
                lots: 4,
                orders: 1
            },
        ]
    );
    book.bids.check().unwrap();
    book.asks.check().unwrap();
    let id = book.bids.best().unwrap().order_id;
    assert_eq!(Side::of_order_id(id), Side::Bid);
    assert_eq!(price_of(id), 100);
    assert_eq!(seq_of(id), 1);
    assert_eq!(book.bids.find(id).unwrap().lots, 2);
}

#[test]
fn limit_fills_across_levels_and_rests_remainder() {
    let mut buf = with_book(
        16,
        &[
            limit(Side::Ask, 101, 2, 1),
            limit(Side::Ask, 102, 3, 2),
            limit(Side::Ask, 104, 5, 3),
        ],
    );
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let out = book
        .new_order(&limit(Side::Bid, 102, 7, 9), NOW, &mut sink)
        .unwrap();
    assert_eq!(fills(&sink.events), vec![(1, 101, 2), (2, 102, 3)]);
    assert_eq!(out.filled_lots, 5);
    assert_eq!(out.filled_quote, 101 * 2 + 102 * 3);
    assert_eq!(out.posted_lots, 2);
    assert_eq!(out.fills, 2);
    assert_eq!(out.cancelled_lots, 0);
    assert_eq!(contents(book.bids.as_ref()), vec![(102, 2, 9)]);
    assert_eq!(contents(book.asks.as_ref()), vec![(104, 5, 3)]);
    match sink.events[1] {
        BookEvent::Fill(f) => {
            assert!(f.maker_out);
            assert_eq!(f.taker, 9);
            assert_eq!(f.taker_side, Side::Bid);
        }
        _ => panic!("expected a fill"),
    }
    // A partial fill of the maker leaves it at the top with fewer lots and the same id.
    let maker_id = book.asks.as_ref().best().unwrap().order_id;
    let mut sink = VecSink::new(64);
    let out = book
        .new_order(&limit(Side::Bid, 104, 1, 9), NOW, &mut sink)
        .unwrap();
    assert_eq!(out.filled_lots, 1);
    match sink.events[0] {
        BookEvent::Fill(f) => {
            assert!(!f.maker_out);
            assert_eq!(f.maker_order_id, maker_id);
        }
        _ => panic!("expected a fill"),
    }
    assert_eq!(book.asks.as_ref().best().unwrap().lots, 4);
}

#[test]
fn ioc_and_market_never_rest() {
    let mut buf = with_book(
        16,
        &[limit(Side::Bid, 100, 2, 1), limit(Side::Bid, 90, 3, 2)],
    );
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let out = book
        .new_order(
            &req(Side::Ask, OrderType::ImmediateOrCancel, 95, 4, 9),
            NOW,
            &mut sink,
        )
        .unwrap();
    assert_eq!(
        (out.filled_lots, out.cancelled_lots, out.posted_lots),
        (2, 2, 0)
    );
    assert!(book.asks.is_empty());
    let out = book
        .new_order(&req(Side::Ask, OrderType::Market, 0, 10, 9), NOW, &mut sink)
        .unwrap();
    assert_eq!((out.filled_lots, out.cancelled_lots), (3, 7));
    assert_eq!(out.filled_quote, 270);
    assert!(book.bids.is_empty() && book.asks.is_empty());
}

#[test]
fn fill_or_kill_is_all_or_nothing() {
    let setup = [limit(Side::Ask, 101, 2, 1), limit(Side::Ask, 102, 3, 2)];
    let mut buf = with_book(16, &setup);
    let fok = |lots, price| req(Side::Bid, OrderType::FillOrKill, price, lots, 9);
    assert_refused(&mut buf, &fok(6, 102), NOW, 64, BookError::WouldNotFill);
    assert_refused(&mut buf, &fok(3, 101), NOW, 64, BookError::WouldNotFill);
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let out = book.new_order(&fok(5, 102), NOW, &mut sink).unwrap();
    assert_eq!(out.filled_lots, 5);
    assert!(book.asks.is_empty());
    // Own orders are not liquidity for FOK: decremented lots are not fills.
    let mut buf = with_book(
        16,
        &[limit(Side::Ask, 101, 2, 9), limit(Side::Ask, 101, 2, 1)],
    );
    assert_refused(&mut buf, &fok(3, 101), NOW, 64, BookError::WouldNotFill);
}

#[test]
fn post_only_refuses_to_cross_and_slide_reprices() {
    let mut buf = with_book(
        16,
        &[limit(Side::Ask, 101, 2, 1), limit(Side::Bid, 98, 2, 2)],
    );
    let po = |side, price, ot| req(side, ot, price, 1, 9);
    assert_refused(
        &mut buf,
        &po(Side::Bid, 101, OrderType::PostOnly),
        NOW,
        64,
        BookError::PostOnlyWouldCross,
    );
    assert_refused(
        &mut buf,
        &po(Side::Ask, 97, OrderType::PostOnly),
        NOW,
        64,
        BookError::PostOnlyWouldCross,
    );
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let out = book
        .new_order(&po(Side::Bid, 100, OrderType::PostOnly), NOW, &mut sink)
        .unwrap();
    assert_eq!((out.price, out.posted_lots), (100, 1));
    let out = book
        .new_order(
            &po(Side::Bid, 150, OrderType::PostOnlySlide),
            NOW,
            &mut sink,
        )
        .unwrap();
    assert_eq!((out.price, out.posted_lots, out.filled_lots), (100, 1, 0));
    let out = book
        .new_order(&po(Side::Ask, 50, OrderType::PostOnlySlide), NOW, &mut sink)
        .unwrap();
    assert_eq!(out.price, 101);
    assert!(sink.events.is_empty());
    assert_eq!(contents(book.asks.as_ref()), vec![(101, 2, 1), (101, 1, 9)]);
    // A bid slid below one tick is refused.
    let mut buf = with_book(16, &[limit(Side::Ask, 1, 1, 1)]);
    assert_refused(
        &mut buf,
        &po(Side::Bid, 5, OrderType::PostOnlySlide),
        NOW,
        64,
        BookError::InvalidPrice,
    );
}

#[test]
fn post_only_clears_expired_orders_it_would_cross() {
    let mut stale = limit(Side::Ask, 100, 2, 1);
    stale.expiry = NOW + 5;
    let mut buf = with_book(16, &[stale, stale, limit(Side::Ask, 103, 1, 2)]);
    let later = NOW + 10;
    let mut po = req(Side::Bid, OrderType::PostOnly, 101, 1, 9);
    po.match_limit = 1;
    assert_refused(&mut buf, &po, later, 64, BookError::MatchLimitReached);
    po.match_limit = 2;
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let out = book.new_order(&po, later, &mut sink).unwrap();
    assert_eq!(out.posted_lots, 1);
    assert_eq!(
        outs(&sink.events),
        vec![
            (1, OutReason::Expired, 2, true),
            (1, OutReason::Expired, 2, true)
        ]
    );
    assert_eq!(contents(book.asks.as_ref()), vec![(103, 1, 2)]);
}

#[test]
fn self_trade_modes() {
    let setup = [limit(Side::Ask, 101, 2, 9), limit(Side::Ask, 101, 3, 1)];
    // Decrement-take: the overlap disappears from both, nothing trades.
    let mut buf = with_book(16, &setup);
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let out = book
        .new_order(&limit(Side::Bid, 101, 4, 9), NOW, &mut sink)
        .unwrap();
    assert_eq!(
        (out.self_trade_lots, out.filled_lots, out.posted_lots),
        (2, 2, 0)
    );
    assert_eq!(outs(&sink.events), vec![(9, OutReason::SelfTrade, 2, true)]);
    assert_eq!(fills(&sink.events), vec![(1, 101, 2)]);
    assert_eq!(contents(book.asks.as_ref()), vec![(101, 1, 1)]);
    // Decrement-take that leaves part of the resting order.
    let mut buf = with_book(16, &setup);
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let out = book
        .new_order(&limit(Side::Bid, 101, 1, 9), NOW, &mut sink)
        .unwrap();
    assert_eq!((out.self_trade_lots, out.filled_lots), (1, 0));
    assert_eq!(
        outs(&sink.events),
        vec![(9, OutReason::SelfTrade, 1, false)]
    );
    assert_eq!(contents(book.asks.as_ref()), vec![(101, 1, 9), (101, 3, 1)]);
    // Cancel-resting: the own order goes whole, the taker trades on.
    let mut buf = with_book(16, &setup);
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let mut r = limit(Side::Bid, 101, 4, 9);
    r.self_trade = SelfTrade::CancelResting;
    let out = book.new_order(&r, NOW, &mut sink).unwrap();
    assert_eq!(
        (out.self_trade_lots, out.filled_lots, out.posted_lots),
        (0, 3, 1)
    );
    assert_eq!(outs(&sink.events), vec![(9, OutReason::SelfTrade, 2, true)]);
    // Abort: refused, nothing changes.
    let mut buf = with_book(16, &setup);
    r.self_trade = SelfTrade::Abort;
    assert_refused(&mut buf, &r, NOW, 64, BookError::SelfTrade);
    // Abort does not fire when the own order is beyond the price limit.
    let mut buf = with_book(
        16,
        &[limit(Side::Ask, 101, 2, 1), limit(Side::Ask, 105, 3, 9)],
    );
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    r.price = 102;
    assert_eq!(book.new_order(&r, NOW, &mut sink).unwrap().filled_lots, 2);
}

#[test]
fn match_limit_stops_without_resting_a_crossed_order() {
    let setup: Vec<OrderRequest> = (0..5).map(|i| limit(Side::Ask, 100 + i, 1, 1)).collect();
    let mut buf = with_book(16, &setup);
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let mut r = limit(Side::Bid, 110, 10, 2);
    r.match_limit = 3;
    let out = book.new_order(&r, NOW, &mut sink).unwrap();
    assert!(out.match_limit_hit);
    assert_eq!(
        (out.filled_lots, out.posted_lots, out.cancelled_lots),
        (3, 0, 7)
    );
    assert!(book.bids.is_empty());
    assert_eq!(book.asks.len(), 2);
    // Exactly enough budget for the crossing orders: the remainder rests.
    let mut sink = VecSink::new(64);
    r.match_limit = 2;
    let out = book.new_order(&r, NOW, &mut sink).unwrap();
    assert!(!out.match_limit_hit);
    assert_eq!((out.filled_lots, out.posted_lots), (2, 8));
}

#[test]
fn expired_orders_are_removed_when_met() {
    let mut short = limit(Side::Ask, 100, 2, 1);
    short.expiry = NOW + 10;
    let mut buf = with_book(16, &[short, limit(Side::Ask, 101, 3, 2)]);
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    // Before expiry it trades.
    let out = book
        .new_order(&limit(Side::Bid, 100, 1, 9), NOW + 9, &mut sink)
        .unwrap();
    assert_eq!(out.filled_lots, 1);
    // At expiry it is removed with an out event and the taker trades with the next order.
    let mut sink = VecSink::new(64);
    let out = book
        .new_order(&limit(Side::Bid, 101, 2, 9), NOW + 10, &mut sink)
        .unwrap();
    assert_eq!(outs(&sink.events), vec![(1, OutReason::Expired, 1, true)]);
    assert_eq!(fills(&sink.events), vec![(2, 101, 2)]);
    assert_eq!(out.outs, 1);
    // An order that is already expired is refused.
    let mut r = limit(Side::Bid, 90, 1, 9);
    r.expiry = NOW;
    assert_refused(&mut buf, &r, NOW, 64, BookError::AlreadyExpired);
}

#[test]
fn full_side_evicts_worst_or_refuses() {
    let setup: Vec<OrderRequest> = (0..4)
        .map(|i| limit(Side::Bid, 100 + i, 1, i as u32))
        .collect();
    let mut buf = with_book(4, &setup);
    // Not better than the worst (same price, later): refused.
    assert_refused(
        &mut buf,
        &limit(Side::Bid, 100, 1, 9),
        NOW,
        64,
        BookError::BookFull,
    );
    assert_refused(
        &mut buf,
        &req(Side::Bid, OrderType::PostOnly, 99, 1, 9),
        NOW,
        64,
        BookError::BookFull,
    );
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    let out = book
        .new_order(&limit(Side::Bid, 101, 1, 9), NOW, &mut sink)
        .unwrap();
    assert_eq!(out.posted_lots, 1);
    assert_eq!(outs(&sink.events), vec![(0, OutReason::Evicted, 1, true)]);
    assert_eq!(
        contents(book.bids.as_ref()),
        vec![(103, 1, 3), (102, 1, 2), (101, 1, 1), (101, 1, 9)]
    );
    book.bids.as_ref().check().unwrap();
    // A full side still accepts a taker that crosses.
    let mut sink = VecSink::new(64);
    book.new_order(&limit(Side::Ask, 200, 1, 5), NOW, &mut sink)
        .unwrap();
    let out = book
        .new_order(&limit(Side::Bid, 200, 1, 6), NOW, &mut sink)
        .unwrap();
    assert_eq!(out.filled_lots, 1);
}

#[test]
fn cancel_by_id_and_client_id() {
    let mut a = limit(Side::Ask, 105, 2, 1);
    a.client_order_id = 77;
    let mut buf = with_book(
        8,
        &[limit(Side::Bid, 100, 1, 1), a, limit(Side::Bid, 99, 1, 2)],
    );
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let id = book.bids.as_ref().best().unwrap().order_id;
    assert_eq!(book.cancel_order(id, 2), Err(BookError::WrongOwner));
    let o = book.cancel_order(id, 1).unwrap();
    assert_eq!((o.price, o.lots, o.owner), (100, 1, 1));
    assert_eq!(book.cancel_order(id, 1), Err(BookError::OrderNotFound));
    assert_eq!(
        book.cancel_by_client_id(2, 77),
        Err(BookError::OrderNotFound)
    );
    let o = book.cancel_by_client_id(1, 77).unwrap();
    assert_eq!((o.side, o.price), (Side::Ask, 105));
    assert!(book.asks.is_empty());
    assert_eq!(contents(book.bids.as_ref()), vec![(99, 1, 2)]);
    book.bids.as_ref().check().unwrap();
}

#[test]
fn bad_input_is_refused_without_change() {
    let mut buf = with_book(
        8,
        &[limit(Side::Ask, 101, 2, 1), limit(Side::Bid, 99, 2, 2)],
    );
    let ok = limit(Side::Bid, 100, 1, 9);
    let cases = [
        (OrderRequest { lots: 0, ..ok }, BookError::InvalidQuantity),
        (
            OrderRequest {
                lots: MAX_LOTS + 1,
                ..ok
            },
            BookError::InvalidQuantity,
        ),
        (
            OrderRequest {
                lots: u64::MAX,
                ..ok
            },
            BookError::InvalidQuantity,
        ),
        (OrderRequest { price: 0, ..ok }, BookError::InvalidPrice),
        (
            OrderRequest {
                price: u64::MAX,
                ..ok
            },
            BookError::InvalidPrice,
        ),
        (
            OrderRequest {
                match_limit: 0,
                ..ok
            },
            BookError::InvalidMatchLimit,
        ),
        (
            OrderRequest {
                match_limit: u32::MAX,
                ..ok
            },
            BookError::InvalidMatchLimit,
        ),
        (OrderRequest { expiry: 1, ..ok }, BookError::AlreadyExpired),
    ];
    for (r, err) in cases {
        assert_refused(&mut buf, &r, NOW, 64, err);
    }
    assert_refused(&mut buf, &ok, NOW, 16, BookError::EventSinkFull);
    // Extreme but valid values work.
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(2000);
    let big = OrderRequest {
        price: MAX_PRICE,
        lots: MAX_LOTS,
        match_limit: MAX_MATCH_LIMIT,
        ..ok
    };
    let out = book.new_order(&big, NOW, &mut sink).unwrap();
    assert_eq!(out.filled_lots, 2);
    assert_eq!(out.posted_lots, MAX_LOTS - 2);
    let out = book
        .new_order(
            &OrderRequest {
                side: Side::Ask,
                price: 1,
                owner: 10,
                ..big
            },
            NOW,
            &mut sink,
        )
        .unwrap();
    assert_eq!(
        out.filled_quote,
        MAX_PRICE as u128 * (MAX_LOTS - 2) as u128 + 99 * 2
    );
}

#[test]
fn event_queue_is_a_sink() {
    let mut qbuf = vec![0u64; EventQueue::size_for(8) / 8];
    let mut queue = EventQueue::init(bytemuck::cast_slice_mut(&mut qbuf)).unwrap();
    let mut buf = with_book(
        8,
        &[limit(Side::Ask, 101, 2, 1), limit(Side::Ask, 102, 2, 2)],
    );
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut r = limit(Side::Bid, 102, 3, 9);
    r.match_limit = 7;
    book.new_order(&r, NOW, &mut queue).unwrap();
    assert_eq!(queue.len(), 2);
    let decoded: Vec<BookEvent> = queue.iter().map(|r| r.decode().unwrap()).collect();
    assert_eq!(fills(&decoded), vec![(1, 101, 2), (2, 102, 1)]);
    r.match_limit = 7;
    assert_eq!(
        book.new_order(&r, NOW, &mut queue),
        Err(BookError::EventSinkFull)
    );
}

/// Prices at every power of two make the ask side a chain as deep as the price has bits (60 and
/// more inner nodes above the lowest levels): insertions there keep the tree valid and
/// price-time order.
#[test]
fn inserting_into_a_deep_tree() {
    let prices: Vec<u64> = (0..62).map(|k| 1u64 << k).collect();
    let setup: Vec<OrderRequest> = prices
        .iter()
        .enumerate()
        .map(|(i, p)| limit(Side::Ask, *p, 1, i as u32))
        .collect();
    let mut buf = with_book(256, &setup);
    let mut book = Book::load(bytes(&mut buf)).unwrap();
    let mut sink = VecSink::new(64);
    // Join the deepest levels (price 1 and 2: paths of 60 and more nodes) and a shallow one.
    for (n, p) in [1u64, 2, 1, 1 << 61, 3].iter().enumerate() {
        let r = req(Side::Ask, OrderType::PostOnly, *p, 2, 100 + n as u32);
        book.new_order(&r, NOW, &mut sink).unwrap();
        book.asks.as_ref().check().unwrap();
    }
    let got = contents(book.asks.as_ref());
    assert_eq!(got.len(), 62 + 5);
    // Best (lowest) first; at one price, the earlier order first.
    assert_eq!(
        &got[..5],
        &[(1, 1, 0), (1, 2, 100), (1, 2, 102), (2, 1, 1), (2, 2, 101)]
    );
    assert_eq!(got[5], (3, 2, 104));
    assert_eq!(got.last(), Some(&(1 << 61, 2, 103)));
    assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
}
