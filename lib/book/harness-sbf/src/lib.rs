//! A minimal SBF program (no Solana crates) that runs cfx-book over account data so the engine's
//! compute units can be measured on the real VM. Accounts: 0 = book, 1 = event queue, both owned by
//! this program and writable. Instruction data: one op byte, then little-endian arguments.
//!
//! Ops: 0 init; 1 place order; 2 cancel order; 3 post `n` orders over levels (setup);
//! 4 drain the event queue; 5 load only (the baseline of cancel); 6 load and parse an order
//! without placing it (the baseline of place).
#![no_std]

use cfx_book::{Book, EventQueue, OrderRequest, OrderType, SelfTrade, Side};

use solana_compiler_builtins as _;

#[cfg(target_arch = "bpf")]
extern "C" {
    fn abort() -> !;
}

#[cfg(target_arch = "bpf")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe { abort() }
}

/// Bytes the runtime leaves after each account's data for reallocation.
const DATA_INCREASE: usize = 10 * 1024;

struct Input {
    book: &'static mut [u8],
    queue: &'static mut [u8],
    data: &'static [u8],
}

unsafe fn read_u64(p: *const u8) -> u64 {
    core::ptr::read_unaligned(p as *const u64)
}

/// Parses the loader's aligned serialization: two distinct accounts, then instruction data.
unsafe fn parse(input: *mut u8) -> Option<Input> {
    if read_u64(input) != 2 {
        return None;
    }
    let mut p = input.add(8);
    let mut slices: [(*mut u8, usize); 2] = [(core::ptr::null_mut(), 0); 2];
    for slot in slices.iter_mut() {
        if *p != u8::MAX || *p.add(2) == 0 {
            return None; // duplicated or read-only account
        }
        let len = read_u64(p.add(80)) as usize;
        *slot = (p.add(88), len);
        let end = 88 + len + DATA_INCREASE;
        p = p.add((end + 7) & !7).add(8);
    }
    let data_len = read_u64(p) as usize;
    Some(Input {
        book: core::slice::from_raw_parts_mut(slices[0].0, slices[0].1),
        queue: core::slice::from_raw_parts_mut(slices[1].0, slices[1].1),
        data: core::slice::from_raw_parts(p.add(8), data_len),
    })
}

struct Args<'a>(&'a [u8]);

impl Args<'_> {
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        if self.0.len() < N {
            return None;
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        head.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        self.bytes::<1>().map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.bytes().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.bytes().map(u64::from_le_bytes)
    }
    fn u128(&mut self) -> Option<u128> {
        self.bytes().map(u128::from_le_bytes)
    }
}

fn run(input: Input) -> Option<u64> {
    let mut args = Args(input.data);
    let op = args.u8()?;
    if op == 0 {
        Book::init(input.book).ok()?;
        EventQueue::init(input.queue).ok()?;
        return Some(0);
    }
    let mut book = Book::load(input.book).ok()?;
    let mut queue = EventQueue::load(input.queue).ok()?;
    match op {
        1 | 6 => {
            let side = Side::from_u8(args.u8()?)?;
            let order_type = OrderType::from_u8(args.u8()?)?;
            let self_trade = SelfTrade::from_u8(args.u8()?)?;
            let reduce_only = args.u8()? != 0;
            let owner = args.u32()?;
            let price = args.u64()?;
            let lots = args.u64()?;
            let client_order_id = args.u64()?;
            let expiry = args.u64()?;
            let match_limit = args.u32()?;
            let now = args.u64()?;
            let req = OrderRequest {
                side,
                order_type,
                price,
                lots,
                owner,
                client_order_id,
                expiry,
                reduce_only,
                self_trade,
                match_limit,
            };
            if op == 6 {
                // Parse-only baseline for op 1.
                return Some(core::hint::black_box(&req).lots);
            }
            let out = book.new_order(&req, now, &mut queue).ok()?;
            Some(out.fills as u64)
        }
        2 => {
            let order_id = args.u128()?;
            let owner = args.u32()?;
            book.cancel_order(order_id, owner).ok()?;
            Some(0)
        }
        3 => {
            let side = Side::from_u8(args.u8()?)?;
            let n = args.u32()?;
            let first_price = args.u64()?;
            let levels = args.u64()?.max(1);
            let lots = args.u64()?;
            for i in 0..n as u64 {
                let level = i % levels;
                let price = match side {
                    Side::Ask => first_price + level,
                    Side::Bid => first_price - level,
                };
                let req = OrderRequest {
                    side,
                    order_type: OrderType::PostOnly,
                    price,
                    lots,
                    owner: 100 + (i % 50) as u32,
                    client_order_id: i,
                    expiry: 0,
                    reduce_only: false,
                    self_trade: SelfTrade::DecrementTake,
                    match_limit: 1,
                };
                book.new_order(&req, 0, &mut queue).ok()?;
            }
            Some(0)
        }
        4 => {
            while queue.pop().is_some() {}
            Some(0)
        }
        5 => Some(book.bids.len() as u64),
        _ => None,
    }
}

/// Program entrypoint: 0 on success, 1 on any refusal.
///
/// # Safety
/// Called by the runtime with its serialized input.
#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    match parse(input).and_then(run) {
        Some(_) => 0,
        None => 1,
    }
}
