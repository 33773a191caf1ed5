//! Model-based property test: long random sequences of orders, cancels and clock moves run against
//! the engine and against a plain BTreeMap reference book. Outcomes, events and book contents must be
//! identical after every step, and the invariants must hold: never crossed, lots conserved, node
//! accounting exact.

mod common;

use std::collections::BTreeMap;

use cfx_book::*;
use common::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct MOrder {
    lots: u64,
    owner: u32,
    client_order_id: u64,
    expiry: u64,
    reduce_only: bool,
}

/// The reference book: each side a BTreeMap from order id to order, written from the rules in the
/// engine's documentation without its tree, dry runs or path bookkeeping.
#[derive(Clone, Debug)]
struct Model {
    bids: BTreeMap<u128, MOrder>,
    asks: BTreeMap<u128, MOrder>,
    seq: u64,
    capacity: usize,
}

fn side_map(m: &mut Model, side: Side) -> &mut BTreeMap<u128, MOrder> {
    match side {
        Side::Bid => &mut m.bids,
        Side::Ask => &mut m.asks,
    }
}

/// Order ids of a side, best first.
fn priority(map: &BTreeMap<u128, MOrder>, side: Side) -> Vec<u128> {
    match side {
        Side::Bid => map.keys().rev().copied().collect(),
        Side::Ask => map.keys().copied().collect(),
    }
}

fn crosses(side: Side, limit: Option<u64>, price: u64) -> bool {
    match (side, limit) {
        (_, None) => true,
        (Side::Bid, Some(l)) => price <= l,
        (Side::Ask, Some(l)) => price >= l,
    }
}

fn expired(o: &MOrder, now: u64) -> bool {
    o.expiry != 0 && o.expiry <= now
}

fn out(id: u128, o: &MOrder, reason: OutReason, lots: u64, closed: bool) -> BookEvent {
    BookEvent::Out(OutEvent {
        side: Side::of_order_id(id),
        owner: o.owner,
        order_id: id,
        client_order_id: o.client_order_id,
        lots,
        reason,
        closed,
    })
}

impl Model {
    fn new(capacity: usize) -> Model {
        Model {
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            seq: 0,
            capacity,
        }
    }

    fn worst(&self, side: Side) -> Option<u128> {
        match side {
            Side::Bid => self.bids.keys().next().copied(),
            Side::Ask => self.asks.keys().next_back().copied(),
        }
    }

    fn full_and_not_better(&self, side: Side, key: u128) -> bool {
        let map = match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        };
        map.len() >= self.capacity
            && match (side, self.worst(side)) {
                (_, None) => false,
                (Side::Bid, Some(w)) => key <= w,
                (Side::Ask, Some(w)) => key >= w,
            }
    }

    fn rest(
        &mut self,
        r: &OrderRequest,
        key: u128,
        lots: u64,
        ev: &mut Vec<BookEvent>,
        o: &mut OrderOutcome,
    ) {
        let cap = self.capacity;
        if side_map(self, r.side).len() >= cap {
            let w = self.worst(r.side).unwrap();
            let wo = side_map(self, r.side).remove(&w).unwrap();
            ev.push(out(w, &wo, OutReason::Evicted, wo.lots, true));
            o.outs += 1;
        }
        side_map(self, r.side).insert(
            key,
            MOrder {
                lots,
                owner: r.owner,
                client_order_id: r.client_order_id,
                expiry: r.expiry,
                reduce_only: r.reduce_only,
            },
        );
        o.posted_lots = lots;
    }

    fn new_order(
        &mut self,
        r: &OrderRequest,
        now: u64,
        slots: usize,
    ) -> Result<(OrderOutcome, Vec<BookEvent>), BookError> {
        if r.lots == 0 || r.lots > MAX_LOTS {
            return Err(BookError::InvalidQuantity);
        }
        let market = r.order_type == OrderType::Market;
        if !market && (r.price == 0 || r.price > MAX_PRICE) {
            return Err(BookError::InvalidPrice);
        }
        if r.expiry != 0 && r.expiry <= now {
            return Err(BookError::AlreadyExpired);
        }
        if r.match_limit == 0 || r.match_limit > MAX_MATCH_LIMIT {
            return Err(BookError::InvalidMatchLimit);
        }
        if slots < r.match_limit as usize + 1 {
            return Err(BookError::EventSinkFull);
        }
        // Work on a copy; commit only on success, so errors change nothing by construction.
        let mut m = self.clone();
        let result = match r.order_type {
            OrderType::PostOnly | OrderType::PostOnlySlide => m.post_only(r, now),
            _ => m.take(r, now),
        };
        if result.is_ok() {
            m.seq += 1;
            *self = m;
        }
        result
    }

    fn post_only(
        &mut self,
        r: &OrderRequest,
        now: u64,
    ) -> Result<(OrderOutcome, Vec<BookEvent>), BookError> {
        let opp = r.side.opposite();
        let mut price = r.price;
        let mut expired_in_way = 0;
        for id in priority(side_map(self, opp), opp) {
            let o = &side_map(self, opp)[&id];
            if !crosses(r.side, Some(r.price), price_of(id)) {
                break;
            }
            if !expired(o, now) {
                if r.order_type == OrderType::PostOnly {
                    return Err(BookError::PostOnlyWouldCross);
                }
                let p = price_of(id) as i128 + if r.side == Side::Bid { -1 } else { 1 };
                if p <= 0 || p > MAX_PRICE as i128 {
                    return Err(BookError::InvalidPrice);
                }
                price = p as u64;
                break;
            }
            expired_in_way += 1;
            if expired_in_way > r.match_limit {
                return Err(BookError::MatchLimitReached);
            }
        }
        let key = order_id(r.side, price, self.seq);
        if self.full_and_not_better(r.side, key) {
            return Err(BookError::BookFull);
        }
        let mut o = OrderOutcome {
            order_id: key,
            price,
            ..Default::default()
        };
        let mut ev = Vec::new();
        for id in priority(side_map(self, opp), opp) {
            let mo = side_map(self, opp)[&id].clone();
            if !crosses(r.side, Some(price), price_of(id)) || !expired(&mo, now) {
                break;
            }
            side_map(self, opp).remove(&id);
            ev.push(out(id, &mo, OutReason::Expired, mo.lots, true));
            o.outs += 1;
        }
        self.rest(r, key, r.lots, &mut ev, &mut o);
        Ok((o, ev))
    }

    fn take(
        &mut self,
        r: &OrderRequest,
        now: u64,
    ) -> Result<(OrderOutcome, Vec<BookEvent>), BookError> {
        let opp = r.side.opposite();
        let limit = (r.order_type != OrderType::Market).then_some(r.price);
        let price = limit.unwrap_or(0);
        let key = order_id(r.side, price, self.seq);
        if r.order_type == OrderType::Limit && self.full_and_not_better(r.side, key) {
            return Err(BookError::BookFull);
        }
        let mut o = OrderOutcome {
            order_id: key,
            price,
            ..Default::default()
        };
        let mut ev = Vec::new();
        let mut remaining = r.lots;
        let mut budget = r.match_limit;
        while remaining > 0 {
            let Some(id) = priority(side_map(self, opp), opp).first().copied() else {
                break;
            };
            if !crosses(r.side, limit, price_of(id)) {
                break;
            }
            if budget == 0 {
                o.match_limit_hit = true;
                break;
            }
            budget -= 1;
            let maker = side_map(self, opp)[&id].clone();
            if expired(&maker, now) {
                side_map(self, opp).remove(&id);
                ev.push(out(id, &maker, OutReason::Expired, maker.lots, true));
                o.outs += 1;
                continue;
            }
            let q = remaining.min(maker.lots);
            let self_trade = maker.owner == r.owner;
            if self_trade && r.self_trade == SelfTrade::Abort {
                return Err(BookError::SelfTrade);
            }
            let taken = if self_trade && r.self_trade == SelfTrade::CancelResting {
                maker.lots
            } else {
                q
            };
            if taken == maker.lots {
                side_map(self, opp).remove(&id);
            } else {
                side_map(self, opp).get_mut(&id).unwrap().lots -= taken;
            }
            if self_trade {
                if r.self_trade == SelfTrade::DecrementTake {
                    remaining -= q;
                    o.self_trade_lots += q;
                }
                ev.push(out(
                    id,
                    &maker,
                    OutReason::SelfTrade,
                    taken,
                    taken == maker.lots,
                ));
                o.outs += 1;
                continue;
            }
            ev.push(BookEvent::Fill(FillEvent {
                taker_side: r.side,
                maker: maker.owner,
                taker: r.owner,
                price: price_of(id),
                lots: q,
                maker_order_id: id,
                maker_client_order_id: maker.client_order_id,
                maker_out: q == maker.lots,
            }));
            remaining -= q;
            o.filled_lots += q;
            o.filled_quote += price_of(id) as u128 * q as u128;
            o.fills += 1;
        }
        if r.order_type == OrderType::FillOrKill && o.filled_lots < r.lots {
            return Err(BookError::WouldNotFill);
        }
        if remaining > 0 {
            if r.order_type == OrderType::Limit && !o.match_limit_hit {
                self.rest(r, key, remaining, &mut ev, &mut o);
            } else {
                o.cancelled_lots = remaining;
            }
        }
        Ok((o, ev))
    }

    fn cancel(&mut self, id: u128, owner: u32) -> Result<Order, BookError> {
        let side = Side::of_order_id(id);
        let map = side_map(self, side);
        let o = map.get(&id).ok_or(BookError::OrderNotFound)?;
        if o.owner != owner {
            return Err(BookError::WrongOwner);
        }
        let o = map.remove(&id).unwrap();
        Ok(to_order(id, &o))
    }

    fn cancel_by_client_id(
        &mut self,
        owner: u32,
        client_order_id: u64,
    ) -> Result<Order, BookError> {
        for side in [Side::Bid, Side::Ask] {
            for id in priority(side_map(self, side), side) {
                let o = &side_map(self, side)[&id];
                if o.owner == owner && o.client_order_id == client_order_id {
                    return self.cancel(id, owner);
                }
            }
        }
        Err(BookError::OrderNotFound)
    }

    fn orders(&self, side: Side) -> Vec<Order> {
        let map = match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        };
        let mut v: Vec<Order> = map.iter().map(|(id, o)| to_order(*id, o)).collect();
        if side == Side::Bid {
            v.reverse();
        }
        v
    }
}

fn to_order(id: u128, o: &MOrder) -> Order {
    Order {
        order_id: id,
        side: Side::of_order_id(id),
        price: price_of(id),
        lots: o.lots,
        owner: o.owner,
        client_order_id: o.client_order_id,
        expiry: o.expiry,
        reduce_only: o.reduce_only,
    }
}

#[derive(Clone, Debug)]
enum Op {
    Place(OrderRequest, usize),
    /// Cancel the n-th resting order (by priority over both sides) as `owner`.
    Cancel(usize, u32),
    CancelMissing(u128),
    CancelClient(u32, u64),
    Advance(u64),
}

fn arb_request() -> impl Strategy<Value = OrderRequest> {
    (
        any::<bool>(),
        prop_oneof![
            4 => Just(OrderType::Limit),
            2 => Just(OrderType::PostOnly),
            2 => Just(OrderType::PostOnlySlide),
            2 => Just(OrderType::ImmediateOrCancel),
            2 => Just(OrderType::FillOrKill),
            1 => Just(OrderType::Market),
        ],
        prop_oneof![20 => 95u64..106, 1 => Just(0u64), 1 => Just(1u64), 1 => Just(MAX_PRICE), 1 => Just(u64::MAX)],
        prop_oneof![20 => 1u64..12, 1 => Just(0u64), 1 => Just(MAX_LOTS), 1 => Just(u64::MAX)],
        0u32..4,
        0u64..4,
        prop_oneof![3 => Just(0u64), 2 => 1u64..30],
        any::<bool>(),
        prop_oneof![Just(SelfTrade::DecrementTake), Just(SelfTrade::CancelResting), Just(SelfTrade::Abort)],
        prop_oneof![20 => 1u32..6, 1 => Just(0u32), 1 => Just(MAX_MATCH_LIMIT + 1)],
    )
        .prop_map(|(bid, order_type, price, lots, owner, cid, expiry, ro, stp, ml)| OrderRequest {
            side: if bid { Side::Bid } else { Side::Ask },
            order_type,
            price,
            lots,
            owner,
            client_order_id: cid,
            // Relative expiry; made absolute when the op runs.
            expiry,
            reduce_only: ro,
            self_trade: stp,
            match_limit: ml,
        })
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (arb_request(), prop_oneof![9 => Just(64usize), 1 => 0usize..8]).prop_map(|(r, s)| Op::Place(r, s)),
        3 => (0usize..40, 0u32..4).prop_map(|(i, o)| Op::Cancel(i, o)),
        1 => any::<u128>().prop_map(Op::CancelMissing),
        1 => (0u32..4, 0u64..4).prop_map(|(o, c)| Op::CancelClient(o, c)),
        2 => (0u64..8).prop_map(Op::Advance),
    ]
}

/// Lots bookkeeping across the run: every placed lot is resting, filled, decremented, cancelled
/// or removed by an out event.
#[derive(Default)]
struct Ledger {
    placed: u128,
    filled: u128,
    self_traded: u128,
    cancelled: u128,
    out: u128,
}

fn check_book(book: &Book<'_>, model: &Model, ledger: &Ledger) -> Result<(), TestCaseError> {
    let r = book.as_ref();
    r.bids
        .check()
        .map_err(|e| TestCaseError::fail(format!("bids: {e}")))?;
    r.asks
        .check()
        .map_err(|e| TestCaseError::fail(format!("asks: {e}")))?;
    let bids: Vec<Order> = r.bids.iter().collect();
    let asks: Vec<Order> = r.asks.iter().collect();
    prop_assert_eq!(&bids, &model.orders(Side::Bid));
    prop_assert_eq!(&asks, &model.orders(Side::Ask));
    prop_assert_eq!(r.seq_num, model.seq);
    if let (Some(b), Some(a)) = (r.bids.best_price(), r.asks.best_price()) {
        prop_assert!(b < a, "book crossed: bid {} ask {}", b, a);
    }
    let resting: u128 = bids.iter().chain(asks.iter()).map(|o| o.lots as u128).sum();
    // A fill removes its lots from both the taker and the maker order.
    prop_assert_eq!(
        ledger.placed,
        resting + 2 * ledger.filled + ledger.self_traded + ledger.cancelled + ledger.out
    );
    Ok(())
}

fn run(capacity: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut buf = book_buffer(capacity);
    Book::init(bytes(&mut buf)).unwrap();
    let mut model = Model::new(capacity);
    let mut now = 100u64;
    let mut ledger = Ledger::default();
    for op in ops {
        let mut book = Book::load(bytes(&mut buf)).unwrap();
        match op {
            Op::Place(mut r, slots) => {
                if r.expiry != 0 {
                    r.expiry += now - 3;
                }
                let mut sink = VecSink::new(slots);
                let got = book.new_order(&r, now, &mut sink);
                let want = model.new_order(&r, now, slots);
                match (&got, &want) {
                    (Ok(g), Ok((w, events))) => {
                        prop_assert_eq!(g, w);
                        prop_assert_eq!(&sink.events, events);
                        prop_assert_eq!(
                            r.lots,
                            g.filled_lots + g.self_trade_lots + g.posted_lots + g.cancelled_lots
                        );
                        ledger.placed += r.lots as u128;
                        ledger.filled += g.filled_lots as u128;
                        ledger.self_traded += g.self_trade_lots as u128;
                        ledger.cancelled += g.cancelled_lots as u128;
                        for e in &sink.events {
                            if let BookEvent::Out(o) = e {
                                ledger.out += o.lots as u128;
                            }
                        }
                    }
                    (Err(g), Err(w)) => {
                        prop_assert_eq!(g, w);
                        prop_assert!(sink.events.is_empty());
                    }
                    _ => prop_assert!(
                        false,
                        "engine {:?} vs model {:?} for {:?}",
                        got,
                        want.map(|x| x.0),
                        r
                    ),
                }
            }
            Op::Cancel(i, owner) => {
                let all: Vec<Order> = model
                    .orders(Side::Bid)
                    .into_iter()
                    .chain(model.orders(Side::Ask))
                    .collect();
                if all.is_empty() {
                    continue;
                }
                let id = all[i % all.len()].order_id;
                let got = book.cancel_order(id, owner);
                prop_assert_eq!(got, model.cancel(id, owner));
                if let Ok(o) = got {
                    ledger.cancelled += o.lots as u128;
                }
            }
            Op::CancelMissing(id) => {
                let got = book.cancel_order(id, 0);
                prop_assert_eq!(got, model.cancel(id, 0));
                if let Ok(o) = got {
                    ledger.cancelled += o.lots as u128;
                }
            }
            Op::CancelClient(owner, cid) => {
                let got = book.cancel_by_client_id(owner, cid);
                prop_assert_eq!(got, model.cancel_by_client_id(owner, cid));
                if let Ok(o) = got {
                    ledger.cancelled += o.lots as u128;
                }
            }
            Op::Advance(dt) => now += dt,
        }
        check_book(&book, &model, &ledger)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Small sides, so eviction and full-book refusals happen often.
    #[test]
    fn engine_matches_model_small_book(ops in prop::collection::vec(arb_op(), 1..200)) {
        run(6, ops)?;
    }

    #[test]
    fn engine_matches_model_large_book(ops in prop::collection::vec(arb_op(), 1..400)) {
        run(64, ops)?;
    }
}
