use anchor_lang::prelude::*;
use cfx_risk::oracle::{IndexConfig, Quote, MAX_PUBLISHERS};
use cfx_risk::twap::Twap;

/// A publisher's latest quote as stored.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QuoteSlot {
    pub price: u64,
    pub conf: u64,
    pub publish_time: i64,
}

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
    pub twap: Twap,
    /// Room for fields added later without migrating accounts.
    pub _reserved: [u8; 128],
}

const _: () = assert!(core::mem::size_of::<PriceIndex>() == 2784);

impl PriceIndex {
    pub const SEED: &'static [u8] = b"index";

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
