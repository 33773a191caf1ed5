//! Decodes arbitrary bytes into book operations (any values, valid or not) and runs them, checking
//! that nothing panics, refused operations change nothing, and the book stays consistent. Used by
//! the proptest fuzz test (`tests/fuzz.rs`).

use cfx_book::*;

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u64(&mut self) -> Option<u64> {
        // Mostly small values near a mid price, sometimes raw 8-byte values.
        let tag = self.u8()?;
        if tag < 200 {
            return Some(90 + (tag % 24) as u64);
        }
        if self.0.len() < 8 {
            return None;
        }
        let (head, rest) = self.0.split_at(8);
        self.0 = rest;
        Some(u64::from_le_bytes(head.try_into().unwrap()))
    }
}

struct Sink {
    events: usize,
    slots: usize,
}

impl EventSink for Sink {
    fn free_slots(&self) -> usize {
        self.slots - self.events
    }
    fn push(&mut self, _: BookEvent) {
        assert!(self.events < self.slots, "pushed past free_slots");
        self.events += 1;
    }
}

/// Runs the operations encoded in `data` on a book of `capacity` orders per side.
pub fn run_bytes(capacity: usize, data: &[u8]) {
    let mut buf = vec![0u64; Book::size_for(capacity).div_ceil(8)];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
    let len = Book::size_for(capacity);
    Book::init(&mut bytes[..len]).unwrap();
    let mut input = Bytes(data);
    let mut now = 1_000u64;
    let mut ids: Vec<u128> = Vec::new();
    while let Some(op) = input.u8() {
        let before = buf.clone();
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        let mut book = Book::load(&mut bytes[..len]).unwrap();
        let refused = match op % 8 {
            0..=4 => {
                let (Some(flags), Some(price), Some(lots), Some(owner), Some(ml), Some(exp)) = (
                    input.u8(),
                    input.u64(),
                    input.u64(),
                    input.u8(),
                    input.u8(),
                    input.u64(),
                ) else {
                    break;
                };
                let r = OrderRequest {
                    side: if flags & 1 == 0 { Side::Bid } else { Side::Ask },
                    order_type: OrderType::from_u8((flags >> 1) % 6).unwrap(),
                    price,
                    lots: if lots >= 90 { lots - 89 } else { lots },
                    owner: (owner % 4) as u32,
                    client_order_id: (owner / 4) as u64 % 4,
                    expiry: if exp < 100 {
                        0
                    } else {
                        now.wrapping_add(exp % 50).wrapping_sub(5)
                    },
                    reduce_only: flags & 0x80 != 0,
                    self_trade: SelfTrade::from_u8((flags >> 4) % 3).unwrap(),
                    match_limit: (ml % 12) as u32,
                };
                let slots = if op & 0x40 != 0 {
                    (op >> 3) as usize % 8
                } else {
                    64
                };
                let mut sink = Sink { events: 0, slots };
                match book.new_order(&r, now, &mut sink) {
                    Ok(o) => {
                        assert_eq!(
                            r.lots,
                            o.filled_lots + o.self_trade_lots + o.posted_lots + o.cancelled_lots
                        );
                        assert_eq!(sink.events as u32, o.fills + o.outs);
                        if o.posted_lots > 0 {
                            ids.push(o.order_id);
                        }
                        false
                    }
                    Err(_) => {
                        assert_eq!(sink.events, 0);
                        true
                    }
                }
            }
            5 => {
                let (Some(i), Some(owner)) = (input.u8(), input.u8()) else {
                    break;
                };
                let id = if ids.is_empty() {
                    i as u128
                } else {
                    ids[i as usize % ids.len()]
                };
                book.cancel_order(id, (owner % 4) as u32).is_err()
            }
            6 => {
                let (Some(owner), Some(cid)) = (input.u8(), input.u8()) else {
                    break;
                };
                book.cancel_by_client_id((owner % 4) as u32, (cid % 4) as u64)
                    .is_err()
            }
            _ => {
                let Some(dt) = input.u8() else { break };
                now = now.saturating_add(dt as u64 % 16);
                false
            }
        };
        let r = book.as_ref();
        r.bids.check().unwrap();
        r.asks.check().unwrap();
        if let (Some(b), Some(a)) = (r.bids.best_price(), r.asks.best_price()) {
            assert!(b < a, "crossed book");
        }
        if refused {
            assert!(buf == before, "refused operation changed the book");
        }
    }
}
