//! Node types stored in the book buffer. Leaves and inner nodes live in separate pools so a resting
//! order costs one 48-byte leaf plus one 12-byte inner node: 60 bytes.

use bytemuck::{Pod, Zeroable};

/// Empty link.
pub const NIL: u32 = u32::MAX;
/// Set on a child link that points into the leaf pool.
pub(crate) const LEAF_TAG: u32 = 1 << 31;

pub(crate) const FLAG_REDUCE_ONLY: u32 = 1;

/// A resting order.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// Low half of the key (the possibly inverted sequence); free-list link when unused.
    pub key_lo: u64,
    /// High half of the key: the price in ticks.
    pub key_hi: u64,
    pub lots: u64,
    pub client_order_id: u64,
    pub expiry: u64,
    pub owner: u32,
    pub flags: u32,
}

impl Leaf {
    #[inline(always)]
    pub fn key(&self) -> u128 {
        ((self.key_hi as u128) << 64) | self.key_lo as u128
    }

    #[inline(always)]
    pub fn price(&self) -> u64 {
        self.key_hi
    }

    pub fn reduce_only(&self) -> bool {
        self.flags & FLAG_REDUCE_ONLY != 0
    }

    #[inline(always)]
    pub fn is_expired(&self, now: u64) -> bool {
        self.expiry != 0 && self.expiry <= now
    }
}

/// A crit-bit branch: keys below it agree on every bit above `bit`, and `children[b]` holds the
/// keys whose bit `bit` (counted from the least significant) is `b`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct Inner {
    /// Child links; `children[0]` doubles as the free-list link when unused.
    pub children: [u32; 2],
    pub bit: u32,
}

/// A key split into 64-bit halves: testing one bit of a u128 by a variable shift is several
/// instructions on 64-bit SBF, testing it in the right half is one shift.
#[derive(Clone, Copy)]
pub(crate) struct KeyBits {
    hi: u64,
    lo: u64,
}

impl KeyBits {
    #[inline(always)]
    pub(crate) fn new(key: u128) -> KeyBits {
        KeyBits {
            hi: (key >> 64) as u64,
            lo: key as u64,
        }
    }

    #[inline(always)]
    pub(crate) fn bit(&self, bit: u32) -> usize {
        // Bit 6 picks the half, the low six bits the position in it (a masked shift: no
        // shift-overflow check to pay for; crit bits are below 128).
        let half = if bit & 64 != 0 { self.hi } else { self.lo };
        (half.wrapping_shr(bit) & 1) as usize
    }
}

#[inline(always)]
pub(crate) fn is_leaf(link: u32) -> bool {
    link & LEAF_TAG != 0
}

#[inline(always)]
pub(crate) fn index(link: u32) -> usize {
    (link & !LEAF_TAG) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_sizes() {
        assert_eq!(core::mem::size_of::<Leaf>(), 48);
        assert_eq!(core::mem::size_of::<Inner>(), 12);
    }
}
