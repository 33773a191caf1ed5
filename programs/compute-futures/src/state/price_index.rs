use anchor_lang::prelude::*;
use cfx_risk::oracle::{IndexConfig, Quote, MAX_PUBLISHERS};
use cfx_risk::twap::{Twap, CHECKPOINTS};

/// A publisher's latest quote as stored.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QuoteSlot {
    pub price: u64,
    pub conf: u64,
    pub publish_time: i64,
}

/// One grid point of the TWAP accumulator, as stored: lib/risk's `Checkpoint`, field for field.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TwapCheckpoint {
    /// Grid time (a multiple of the interval); 0 = empty.
    pub time: i64,
    /// Σ price × seconds up to `time`, as [low, high] u64 halves.
    pub cumulative: [u64; 2],
    /// Seconds with an update at or before `time`.
    pub updates: u64,
}

/// The TWAP accumulator as stored: lib/risk's `Twap`, field for field, declared here so the IDL
/// describes it (lib/risk has no Anchor types). Read and written as a `Twap` through
/// `PriceIndex::twap` / `twap_mut`.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct TwapState {
    /// Seconds between grid points.
    pub interval: u64,
    /// Price in effect since `last_time`.
    pub last_price: u64,
    pub last_time: i64,
    pub cumulative: [u64; 2],
    /// Updates recorded so far.
    pub updates: u64,
    pub checkpoints: [TwapCheckpoint; CHECKPOINTS],
}

const _: () = assert!(
    core::mem::size_of::<TwapState>() == core::mem::size_of::<Twap>()
        && core::mem::align_of::<TwapState>() == core::mem::align_of::<Twap>()
);

/// The compute price index of one compute class: up to 8 authorized publishers, the median of
/// their fresh quotes, and a TWAP accumulator on a fixed grid.
#[account(zero_copy)]
pub struct PriceIndex {
    pub exchange: Pubkey,
    /// The compute-token class this index prices.
    pub class: Pubkey,
    pub publishers: [Pubkey; MAX_PUBLISHERS],
    pub quotes: [QuoteSlot; MAX_PUBLISHERS],
    pub max_staleness: u64,
    pub max_conf_bps: u64,
    /// Latest accepted index price (quote native units per whole compute unit) and confidence.
    pub price: u64,
    pub conf: u64,
    /// Publish time of the oldest quote behind `price`.
    pub last_update: i64,
    pub min_publishers: u8,
    pub bump: u8,
    pub _pad: [u8; 6],
    pub twap: TwapState,
    /// Room for fields added later without migrating accounts.
    pub _reserved: [u8; 128],
}

const _: () = assert!(core::mem::size_of::<PriceIndex>() == 2784);

impl PriceIndex {
    pub const SEED: &'static [u8] = b"index";

    /// The TWAP accumulator (same size, alignment and field order: asserted above and tested).
    pub fn twap(&self) -> &Twap {
        bytemuck::cast_ref(&self.twap)
    }

    pub fn twap_mut(&mut self) -> &mut Twap {
        bytemuck::cast_mut(&mut self.twap)
    }

    pub fn config(&self) -> IndexConfig {
        IndexConfig {
            max_staleness: self.max_staleness,
            min_publishers: self.min_publishers,
            max_conf_bps: self.max_conf_bps,
        }
    }

    pub fn quotes(&self) -> [Quote; MAX_PUBLISHERS] {
        let mut out = [Quote::default(); MAX_PUBLISHERS];
        for (o, q) in out.iter_mut().zip(self.quotes.iter()) {
            *o = Quote {
                price: q.price,
                conf: q.conf,
                publish_time: q.publish_time,
            };
        }
        out
    }

    pub fn publisher_slot(&self, key: &Pubkey) -> Option<usize> {
        if *key == Pubkey::default() {
            return None;
        }
        self.publishers.iter().position(|p| p == key)
    }

    /// The index price if it was accepted within `max_staleness` of `now`.
    pub fn fresh_price(&self, now: i64) -> Option<u64> {
        let age = now.checked_sub(self.last_update)?;
        (self.price > 0 && age >= 0 && age as u64 <= self.max_staleness).then_some(self.price)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_twap_is_lib_risk_field_for_field() {
        let mut t = Twap::new(60).unwrap();
        t.last_price = 7;
        t.last_time = -8;
        t.cumulative = [9, 10];
        t.updates = 11;
        t.checkpoints[3].time = 12;
        t.checkpoints[3].cumulative = [13, 14];
        t.checkpoints[CHECKPOINTS - 1].updates = 15;
        let s: &TwapState = bytemuck::cast_ref(&t);
        assert_eq!(
            (
                s.interval,
                s.last_price,
                s.last_time,
                s.cumulative,
                s.updates
            ),
            (60, 7, -8, [9, 10], 11)
        );
        assert_eq!(
            (s.checkpoints[3].time, s.checkpoints[3].cumulative),
            (12, [13, 14])
        );
        assert_eq!(s.checkpoints[CHECKPOINTS - 1].updates, 15);
    }
}
