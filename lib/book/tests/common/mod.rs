//! Helpers shared by the book's integration tests.
#![allow(dead_code)]

use cfx_book::*;

/// Event sink over a Vec with a fixed number of slots.
pub struct VecSink {
    pub events: Vec<BookEvent>,
    pub slots: usize,
}

impl VecSink {
    pub fn new(slots: usize) -> VecSink {
        VecSink {
            events: Vec::new(),
            slots,
        }
    }
}

impl EventSink for VecSink {
    fn free_slots(&self) -> usize {
        self.slots - self.events.len()
    }

    fn push(&mut self, event: BookEvent) {
        assert!(
            self.events.len() < self.slots,
            "engine pushed past free_slots"
        );
        self.events.push(event);
    }
}

/// An 8-byte aligned zeroed buffer for a book of `capacity` orders per side.
pub fn book_buffer(capacity: usize) -> Vec<u64> {
    vec![0u64; Book::size_for(capacity).div_ceil(8)]
}

pub fn bytes(buf: &mut [u64]) -> &mut [u8] {
    let b: &mut [u8] = bytemuck::cast_slice_mut(buf);
    let len = b.len();
    &mut b[..len - (len % 8)]
}

pub fn req(side: Side, order_type: OrderType, price: u64, lots: u64, owner: u32) -> OrderRequest {
    OrderRequest {
        side,
        order_type,
        price,
        lots,
        owner,
        client_order_id: 0,
        expiry: 0,
        reduce_only: false,
        self_trade: SelfTrade::DecrementTake,
        match_limit: 16,
    }
}

pub fn limit(side: Side, price: u64, lots: u64, owner: u32) -> OrderRequest {
    req(side, OrderType::Limit, price, lots, owner)
}

/// Resting orders of a side as (price, lots, owner), best first.
pub fn contents(side: SideRef<'_>) -> Vec<(u64, u64, u32)> {
    side.iter().map(|o| (o.price, o.lots, o.owner)).collect()
}

pub fn fills(events: &[BookEvent]) -> Vec<(u32, u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            BookEvent::Fill(f) => Some((f.maker, f.price, f.lots)),
            _ => None,
        })
        .collect()
}

pub fn outs(events: &[BookEvent]) -> Vec<(u32, OutReason, u64, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            BookEvent::Out(o) => Some((o.owner, o.reason, o.lots, o.closed)),
            _ => None,
        })
        .collect()
}
