//! Native timings of the engine on books of 1,000 and 4,000 resting orders per side spread over
//! 100 price levels: post an order, cancel an order, and a taker that fills 1 or 10 makers.
//! `cargo bench -p cfx-book` (numbers in docs/PERFORMANCE.md).

use std::time::{Duration, Instant};

use cfx_book::*;
use criterion::{criterion_group, criterion_main, Criterion};

struct Sink(usize);

impl EventSink for Sink {
    fn free_slots(&self) -> usize {
        usize::MAX - self.0
    }
    fn push(&mut self, _: BookEvent) {
        self.0 += 1;
    }
}

const NOW: u64 = 1_000;

fn order(side: Side, order_type: OrderType, price: u64, lots: u64, owner: u32) -> OrderRequest {
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
        match_limit: 32,
    }
}

/// A book with `n` asks on 100 levels from 10_001 up and `n` bids on 100 levels from 9_999 down.
fn filled_book(n: usize) -> Vec<u64> {
    let mut buf = vec![0u64; Book::size_for(4096).div_ceil(8)];
    let mut book = Book::init(bytemuck::cast_slice_mut(&mut buf)).unwrap();
    for i in 0..n {
        let level = (i % 100) as u64;
        let owner = (i % 50) as u32 + 10;
        book.new_order(
            &order(Side::Ask, OrderType::PostOnly, 10_001 + level, 10, owner),
            NOW,
            &mut Sink(0),
        )
        .unwrap();
        book.new_order(
            &order(Side::Bid, OrderType::PostOnly, 9_999 - level, 10, owner),
            NOW,
            &mut Sink(0),
        )
        .unwrap();
    }
    buf
}

fn bench(c: &mut Criterion) {
    for n in [1_000usize, 4_000] {
        let mut buf = filled_book(n);
        let mut g = c.benchmark_group(format!("book_{n}_per_side"));
        g.bench_function("post_order", |b| {
            b.iter_custom(|iters| {
                let mut book = Book::load(bytemuck::cast_slice_mut(&mut buf)).unwrap();
                let mut spent = Duration::ZERO;
                let mut ids = Vec::with_capacity(64);
                for i in 0..iters {
                    let r = order(Side::Bid, OrderType::PostOnly, 9_950 - (i % 50), 5, 1);
                    let t = Instant::now();
                    let out = book.new_order(&r, NOW, &mut Sink(0)).unwrap();
                    spent += t.elapsed();
                    ids.push(out.order_id);
                    if ids.len() == 64 {
                        for id in ids.drain(..) {
                            book.cancel_order(id, 1).unwrap();
                        }
                    }
                }
                for id in ids {
                    book.cancel_order(id, 1).unwrap();
                }
                spent
            })
        });
        g.bench_function("cancel_order", |b| {
            b.iter_custom(|iters| {
                let mut book = Book::load(bytemuck::cast_slice_mut(&mut buf)).unwrap();
                let mut spent = Duration::ZERO;
                for i in 0..iters {
                    let r = order(Side::Bid, OrderType::PostOnly, 9_950 - (i % 50), 5, 1);
                    let id = book.new_order(&r, NOW, &mut Sink(0)).unwrap().order_id;
                    let t = Instant::now();
                    book.cancel_order(id, 1).unwrap();
                    spent += t.elapsed();
                }
                spent
            })
        });
        for makers in [1u64, 10] {
            g.bench_function(format!("take_{makers}_makers"), |b| {
                b.iter_custom(|iters| {
                    let mut book = Book::load(bytemuck::cast_slice_mut(&mut buf)).unwrap();
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let r = order(
                            Side::Bid,
                            OrderType::ImmediateOrCancel,
                            10_100,
                            10 * makers,
                            2,
                        );
                        let t = Instant::now();
                        let out = book.new_order(&r, NOW, &mut Sink(0)).unwrap();
                        spent += t.elapsed();
                        assert_eq!(out.fills as u64, makers);
                        // Put the taken liquidity back at the best level.
                        for _ in 0..makers {
                            let m = order(Side::Ask, OrderType::PostOnly, 10_001, 10, 3);
                            book.new_order(&m, NOW, &mut Sink(0)).unwrap();
                        }
                    }
                    spent
                })
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
