pub mod book;
pub mod create;
pub mod exchange;
pub mod margin_account;
pub mod market;
pub mod price_index;
pub mod series;

pub use exchange::*;
pub use margin_account::*;
pub use market::*;
pub use price_index::*;
pub use series::*;

/// A u128 stored as `[low, high]` u64 halves (zero-copy accounts keep 8-byte alignment, the same
/// on SBF and natively).
#[inline(always)]
pub fn join_u128(v: [u64; 2]) -> u128 {
    ((v[1] as u128) << 64) | v[0] as u128
}

/// `v` as `[low, high]` halves (see `join_u128`).
#[inline(always)]
pub fn split_u128(v: u128) -> [u64; 2] {
    [v as u64, (v >> 64) as u64]
}
