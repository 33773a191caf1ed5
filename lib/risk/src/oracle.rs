//! The compute price index: the median of authorized publishers' fresh quotes.
//!
//! A thin index is the classic way to manipulate a futures market, so the index refuses to exist
//! rather than print a weak number: too few publishers, too few fresh quotes or too wide a
//! confidence interval are errors, and margin then falls back to refusing risk-increasing actions.

use crate::{RiskError, BPS};

/// Most publishers an index accepts.
pub const MAX_PUBLISHERS: usize = 8;

/// One publisher's latest quote. A slot that never quoted has price 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quote {
    /// Price in the index's own units (quote native units per compute unit, scaled by its exponent).
    pub price: u64,
    /// Half-width of the publisher's confidence interval, same units.
    pub conf: u64,
    pub publish_time: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexConfig {
    /// Oldest quote age, in seconds, that still counts.
    pub max_staleness: u64,
    /// Fresh quotes needed for an index price (at least 1).
    pub min_publishers: u8,
    /// Widest accepted confidence, in bps of the price.
    pub max_conf_bps: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexPrice {
    pub price: u64,
    pub conf: u64,
    /// Quotes that were fresh and used.
    pub fresh: u8,
    /// Publish time of the `min_publishers`-th newest quote used: the price holds while that
    /// many of its inputs are fresh, and one publisher posting old quotes cannot make it stale.
    pub as_of: i64,
}

/// Median of a small set; for an even count the lower of the two middle values, so one
/// publisher's outlier can never pull the index past an honest quote.
fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values[(values.len() - 1) / 2]
}

/// The upper middle value: confidence errs on the wide side.
fn median_upper(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

/// The index price at `now` from the publishers' latest quotes.
pub fn aggregate(quotes: &[Quote], now: i64, cfg: &IndexConfig) -> Result<IndexPrice, RiskError> {
    if quotes.len() > MAX_PUBLISHERS || cfg.min_publishers == 0 {
        return Err(RiskError::InvalidInput);
    }
    let mut prices = [0u64; MAX_PUBLISHERS];
    let mut confs = [0u64; MAX_PUBLISHERS];
    let mut published = 0u8;
    let mut times = [0i64; MAX_PUBLISHERS];
    let mut fresh = 0usize;
    for q in quotes.iter().filter(|q| q.price > 0) {
        published += 1;
        let age = now.checked_sub(q.publish_time).ok_or(RiskError::Overflow)?;
        if age < 0 || age as u64 > cfg.max_staleness {
            continue;
        }
        prices[fresh] = q.price;
        confs[fresh] = q.conf;
        times[fresh] = q.publish_time;
        fresh += 1;
    }
    if published < cfg.min_publishers {
        return Err(RiskError::TooFewPublishers);
    }
    if fresh < cfg.min_publishers as usize {
        return Err(RiskError::StaleQuotes);
    }
    let price = median(&mut prices[..fresh]);
    let conf = median_upper(&mut confs[..fresh]);
    if conf as u128 * BPS as u128 > cfg.max_conf_bps as u128 * price as u128 {
        return Err(RiskError::ConfidenceTooWide);
    }
    let times = &mut times[..fresh];
    times.sort_unstable_by(|a, b| b.cmp(a));
    Ok(IndexPrice {
        price,
        conf,
        fresh: fresh as u8,
        as_of: times[cfg.min_publishers as usize - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: IndexConfig = IndexConfig {
        max_staleness: 60,
        min_publishers: 3,
        max_conf_bps: 200,
    };

    fn q(price: u64, conf: u64, t: i64) -> Quote {
        Quote {
            price,
            conf,
            publish_time: t,
        }
    }

    #[test]
    fn median_of_fresh_quotes() {
        // Three fresh quotes: $1.92, $2.58, $2.71 (prices in 1e-4 $): median is $2.58.
        let quotes = [
            q(19_200, 10, 990),
            q(25_800, 20, 995),
            q(27_100, 30, 1000),
            Quote::default(),
        ];
        let p = aggregate(&quotes, 1000, &CFG).unwrap();
        assert_eq!((p.price, p.conf, p.fresh, p.as_of), (25_800, 20, 3, 990));
        // Four: mean of the middle two, rounded down.
        let quotes = [
            q(100, 1, 1000),
            q(103, 1, 1000),
            q(104, 1, 1000),
            q(500, 1, 1000),
        ];
        assert_eq!(aggregate(&quotes, 1000, &CFG).unwrap().price, 103);
        // An outlier cannot move the median: one publisher quoting 1000x changes nothing.
        let quotes = [q(100, 1, 1000), q(101, 1, 1000), q(100_000, 1, 1000)];
        assert_eq!(aggregate(&quotes, 1000, &CFG).unwrap().price, 101);
    }

    #[test]
    fn refuses_thin_stale_or_wide() {
        let two = [q(100, 1, 1000), q(101, 1, 1000)];
        assert_eq!(
            aggregate(&two, 1000, &CFG),
            Err(RiskError::TooFewPublishers)
        );
        let stale = [q(100, 1, 1000), q(101, 1, 1000), q(102, 1, 939)];
        assert_eq!(aggregate(&stale, 1000, &CFG), Err(RiskError::StaleQuotes));
        // Exactly max_staleness old still counts; a quote from the future does not.
        let edge = [q(100, 1, 1000), q(101, 1, 1000), q(102, 1, 940)];
        assert!(aggregate(&edge, 1000, &CFG).is_ok());
        let future = [q(100, 1, 1000), q(101, 1, 1000), q(102, 1, 1001)];
        assert_eq!(aggregate(&future, 1000, &CFG), Err(RiskError::StaleQuotes));
        // conf 2% of price is the limit: 2 on 100 passes, 3 fails.
        let ok = [q(100, 2, 1000), q(100, 2, 1000), q(100, 2, 1000)];
        assert!(aggregate(&ok, 1000, &CFG).is_ok());
        let wide = [q(100, 3, 1000), q(100, 3, 1000), q(100, 3, 1000)];
        assert_eq!(
            aggregate(&wide, 1000, &CFG),
            Err(RiskError::ConfidenceTooWide)
        );
        // A fourth publisher posting old quotes does not age the index: it holds as long as
        // three inputs are fresh (the third newest, 995).
        let old = [
            q(100, 1, 1000),
            q(101, 1, 998),
            q(102, 1, 995),
            q(90, 1, 941),
        ];
        assert_eq!(aggregate(&old, 1000, &CFG).unwrap().as_of, 995);
        let nine = [q(100, 1, 1000); 9];
        assert_eq!(aggregate(&nine, 1000, &CFG), Err(RiskError::InvalidInput));
    }
}
