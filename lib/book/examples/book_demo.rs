//! Replays a generated order flow through the engine and prints fills and the resulting book.
//! `cargo run --release -p cfx-book --example book_demo [-- <orders> <seed>]`
//!
//! Two market makers quote ladders around a drifting H100-hour price (ticks of $0.0001) with
//! post-only orders that expire; takers send IOC, market and limit orders; makers cancel and
//! re-quote. Every step is checked against the book's own invariants.

use cfx_book::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Printer {
    fills: u64,
    volume: u64,
    quote: u128,
    outs: [u64; 3],
    shown: u64,
}

impl EventSink for Printer {
    fn free_slots(&self) -> usize {
        usize::MAX
    }
    fn push(&mut self, event: BookEvent) {
        match event {
            BookEvent::Fill(f) => {
                self.fills += 1;
                self.volume += f.lots;
                self.quote += f.price as u128 * f.lots as u128;
                if self.shown < 12 {
                    self.shown += 1;
                    println!(
                        "  fill: taker #{} {:?} {} lots from maker #{} at ${}",
                        f.taker,
                        f.taker_side,
                        f.lots,
                        f.maker,
                        dollars(f.price)
                    );
                }
            }
            BookEvent::Out(o) => self.outs[o.reason as usize] += 1,
        }
    }
}

fn dollars(ticks: u64) -> String {
    format!("{}.{:04}", ticks / 10_000, ticks % 10_000)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let orders: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let capacity = 1024;
    let mut buf = vec![0u64; Book::size_for(capacity).div_ceil(8)];
    let mut book =
        Book::init(&mut bytemuck::cast_slice_mut(&mut buf)[..Book::size_for(capacity)]).unwrap();
    let mut rng = Rng(seed | 1);
    let mut sink = Printer {
        fills: 0,
        volume: 0,
        quote: 0,
        outs: [0; 3],
        shown: 0,
    };
    let mut mid: u64 = 2_4500; // $2.45 per H100-hour
    let mut now = 1_764_000_000u64;
    let mut refused = 0u64;
    let mut cancelled = 0u64;
    let mut resting: Vec<(u128, u32)> = Vec::new();
    println!(
        "cfx book demo: {orders} orders, seed {seed}, {capacity} orders per side ({} bytes)",
        Book::size_for(capacity)
    );
    println!("first fills:");
    for i in 0..orders {
        now += rng.below(3);
        if rng.below(50) == 0 {
            mid = (mid as i64 + rng.below(201) as i64 - 100).max(1_0000) as u64;
        }
        let roll = rng.below(100);
        let owner = rng.below(8) as u32;
        let side = if rng.below(2) == 0 {
            Side::Bid
        } else {
            Side::Ask
        };
        let mut req = OrderRequest {
            side,
            order_type: OrderType::PostOnly,
            price: 0,
            lots: 1 + rng.below(20),
            owner,
            client_order_id: i,
            expiry: 0,
            reduce_only: false,
            self_trade: SelfTrade::DecrementTake,
            match_limit: 16,
        };
        let offset = 1 + rng.below(40);
        req.price = match side {
            Side::Bid => mid - offset,
            Side::Ask => mid + offset,
        };
        match roll {
            0..=54 => {
                // Maker quote, sometimes with an expiry, sliding behind the touch if needed.
                req.owner = rng.below(2) as u32;
                req.order_type = OrderType::PostOnlySlide;
                if rng.below(3) == 0 {
                    req.expiry = now + 5 + rng.below(60);
                }
            }
            55..=69 => {
                if let Some(k) =
                    (!resting.is_empty()).then(|| rng.below(resting.len() as u64) as usize)
                {
                    let (id, owner) = resting.swap_remove(k);
                    if book.cancel_order(id, owner).is_ok() {
                        cancelled += 1;
                    }
                }
                continue;
            }
            70..=84 => {
                req.order_type = OrderType::ImmediateOrCancel;
                req.price = match side {
                    Side::Bid => mid + rng.below(30),
                    Side::Ask => mid - rng.below(30),
                };
            }
            85..=89 => req.order_type = OrderType::Market,
            _ => {
                req.order_type = OrderType::Limit;
                req.price = match side {
                    Side::Bid => mid + 10 - rng.below(40),
                    Side::Ask => mid - 10 + rng.below(40),
                };
            }
        }
        match book.new_order(&req, now, &mut sink) {
            Ok(out) if out.posted_lots > 0 => resting.push((out.order_id, req.owner)),
            Ok(_) => {}
            Err(_) => refused += 1,
        }
        let r = book.as_ref();
        if let (Some(b), Some(a)) = (r.bids.best_price(), r.asks.best_price()) {
            assert!(b < a, "book crossed");
        }
    }
    let r = book.as_ref();
    r.bids.check().unwrap();
    r.asks.check().unwrap();
    println!("book at the end (top 5 levels):");
    let asks: Vec<Level> = r.asks.levels().take(5).collect();
    for l in asks.iter().rev() {
        println!(
            "  ask ${}  {:>5} lots  {:>3} orders",
            dollars(l.price),
            l.lots,
            l.orders
        );
    }
    for l in r.bids.levels().take(5) {
        println!(
            "  bid ${}  {:>5} lots  {:>3} orders",
            dollars(l.price),
            l.lots,
            l.orders
        );
    }
    let vwap = if sink.volume > 0 {
        (sink.quote / sink.volume as u128) as u64
    } else {
        0
    };
    println!(
        "fills {}, volume {} lots, VWAP ${}; resting {} bids / {} asks; cancelled {}, expired {}, self-trade {}, evicted {}; refused {}",
        sink.fills,
        sink.volume,
        dollars(vwap),
        r.bids.len(),
        r.asks.len(),
        cancelled,
        sink.outs[OutReason::Expired as usize],
        sink.outs[OutReason::SelfTrade as usize],
        sink.outs[OutReason::Evicted as usize],
        refused
    );
}
