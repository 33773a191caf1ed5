//! Mark price: the futures' own price (an EMA of trades and mid) held inside a band around the index
//! that narrows toward expiry, so the mark converges on the settlement price and a thin book can
//! move margin only as far as the band allows.

use crate::math::{mul_div_floor, wide_mul};
use crate::{RiskError, BPS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkConfig {
    /// Seconds over which a new sample fully replaces the EMA.
    pub ema_period: u64,
    /// Band half-width far from expiry, bps of the index.
    pub band_max_bps: u64,
    /// Band half-width at expiry.
    pub band_min_bps: u64,
    /// The band narrows linearly over this many seconds before expiry.
    pub narrow_period: u64,
}

/// Moves `ema` toward a trade price `sample` by `min(dt, period) / period` of the gap, scaled by
/// `min(lots, reference_lots) / reference_lots`: a trade smaller than the reference size moves the
/// mark proportionally less, so a one-lot wash trade cannot reset it. Rounds toward the old value,
/// so an update never overshoots. `ema` 0 (no EMA yet) is an error: seed it with the index mark.
pub fn ema_update(
    ema: u64,
    sample: u64,
    dt: u64,
    period: u64,
    lots: u64,
    reference_lots: u64,
) -> Result<u64, RiskError> {
    if ema == 0 || period == 0 || reference_lots == 0 {
        return Err(RiskError::InvalidInput);
    }
    let num = wide_mul(dt.min(period), lots.min(reference_lots));
    let den = wide_mul(period, reference_lots);
    if sample >= ema {
        let step = mul_div_floor((sample - ema) as u128, num, den)?;
        Ok(ema + step as u64)
    } else {
        let step = mul_div_floor((ema - sample) as u128, num, den)?;
        Ok(ema - step as u64)
    }
}

pub fn band_bps(now: i64, expiry: i64, cfg: &MarkConfig) -> Result<u64, RiskError> {
    if cfg.band_min_bps > cfg.band_max_bps || cfg.band_max_bps > BPS {
        return Err(RiskError::InvalidInput);
    }
    let left = expiry.saturating_sub(now).max(0) as u64;
    if cfg.narrow_period == 0 || left >= cfg.narrow_period {
        return Ok(cfg.band_max_bps);
    }
    let extra = mul_div_floor(
        (cfg.band_max_bps - cfg.band_min_bps) as u128,
        left as u128,
        cfg.narrow_period as u128,
    )?;
    Ok(cfg.band_min_bps + extra as u64)
}

/// `price` clamped to `index × (1 ± band)`; the band edges round inward.
pub fn clamp_to_band(price: u64, index: u64, band_bps: u64) -> Result<u64, RiskError> {
    let width = mul_div_floor(index as u128, band_bps as u128, BPS as u128)? as u64;
    let lo = index - width.min(index);
    let hi = index.checked_add(width).ok_or(RiskError::Overflow)?;
    Ok(price.clamp(lo.max(1), hi))
}

/// The mark: the EMA clamped to the band around the index at `now`.
pub fn mark_price(
    ema: u64,
    index: u64,
    now: i64,
    expiry: i64,
    cfg: &MarkConfig,
) -> Result<u64, RiskError> {
    if index == 0 {
        return Err(RiskError::InvalidInput);
    }
    let src = if ema == 0 { index } else { ema };
    clamp_to_band(src, index, band_bps(now, expiry, cfg)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: MarkConfig = MarkConfig {
        ema_period: 300,
        band_max_bps: 1_000,
        band_min_bps: 50,
        narrow_period: 86_400,
    };

    #[test]
    fn ema_moves_by_elapsed_share() {
        // Full-size trades (≥ 10 reference lots): by the elapsed share of the 300 s period.
        assert_eq!(ema_update(1_000, 1_300, 30, 300, 10, 10), Ok(1_030));
        assert_eq!(ema_update(1_000, 700, 30, 300, 50, 10), Ok(970));
        assert_eq!(ema_update(1_000, 1_300, 3_000, 300, 10, 10), Ok(1_300));
        assert_eq!(ema_update(1_000, 1_001, 1, 300, 10, 10), Ok(1_000));
        assert_eq!(ema_update(1_000, 999, 1, 300, 10, 10), Ok(1_000));
        // No EMA yet, no period or no reference size: the caller must seed or configure it.
        assert_eq!(
            ema_update(0, 250, 1, 300, 1, 10),
            Err(RiskError::InvalidInput)
        );
        assert_eq!(
            ema_update(1_000, 250, 1, 0, 1, 10),
            Err(RiskError::InvalidInput)
        );
        assert_eq!(
            ema_update(1_000, 250, 1, 300, 1, 0),
            Err(RiskError::InvalidInput)
        );
    }

    #[test]
    fn small_trades_move_the_ema_less() {
        // After a full idle period, a full-size trade replaces the EMA; one lot of a 100-lot
        // reference moves it 1% of the way.
        assert_eq!(ema_update(1_000, 1_300, 300, 300, 100, 100), Ok(1_300));
        assert_eq!(ema_update(1_000, 1_300, 300, 300, 1, 100), Ok(1_003));
        assert_eq!(ema_update(1_000, 700, 300, 300, 1, 100), Ok(997));
        // Half the period and half the size: a quarter of the gap.
        assert_eq!(ema_update(1_000, 1_400, 150, 300, 50, 100), Ok(1_100));
    }

    #[test]
    fn band_narrows_toward_expiry() {
        let expiry = 1_000_000;
        assert_eq!(band_bps(expiry - 200_000, expiry, &CFG), Ok(1_000));
        assert_eq!(band_bps(expiry - 86_400, expiry, &CFG), Ok(1_000));
        assert_eq!(band_bps(expiry - 43_200, expiry, &CFG), Ok(50 + 950 / 2));
        assert_eq!(band_bps(expiry, expiry, &CFG), Ok(50));
        assert_eq!(band_bps(expiry + 10, expiry, &CFG), Ok(50));
    }

    #[test]
    fn mark_is_clamped_around_index() {
        // Index $2.50 (25_000), band 10%: [22_500, 27_500].
        let far = 0;
        let expiry = 1_000_000;
        assert_eq!(mark_price(26_000, 25_000, far, expiry, &CFG), Ok(26_000));
        assert_eq!(mark_price(40_000, 25_000, far, expiry, &CFG), Ok(27_500));
        assert_eq!(mark_price(1, 25_000, far, expiry, &CFG), Ok(22_500));
        assert_eq!(mark_price(0, 25_000, far, expiry, &CFG), Ok(25_000));
        // At expiry the band is 0.5%: [24_875, 25_125].
        assert_eq!(mark_price(40_000, 25_000, expiry, expiry, &CFG), Ok(25_125));
        assert_eq!(
            mark_price(1, 0, far, expiry, &CFG),
            Err(RiskError::InvalidInput)
        );
    }
}
