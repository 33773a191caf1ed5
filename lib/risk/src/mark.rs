//! Mark price: the futures' own price (an EMA of trades and mid) held inside a band around the index
//! that narrows toward expiry, so the mark converges on the settlement price and a thin book can
//! move margin only as far as the band allows.

use crate::math::mul_div_floor;
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

/// Moves `ema` toward `sample` by `min(dt, period) / period` of the gap, rounding toward the old
/// value so a single update never overshoots.
pub fn ema_update(ema: u64, sample: u64, dt: u64, period: u64) -> Result<u64, RiskError> {
    if ema == 0 || period == 0 {
        return Ok(sample);
    }
    let w = dt.min(period) as u128;
    if sample >= ema {
        let step = mul_div_floor((sample - ema) as u128, w, period as u128)?;
        Ok(ema + step as u64)
    } else {
        let step = mul_div_floor((ema - sample) as u128, w, period as u128)?;
        Ok(ema - step as u64)
    }
}

/// Band half-width at `now` for a market expiring at `expiry`.
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
        assert_eq!(ema_update(0, 250, 1, 300), Ok(250));
        assert_eq!(ema_update(1_000, 1_300, 30, 300), Ok(1_030));
        assert_eq!(ema_update(1_000, 700, 30, 300), Ok(970));
        assert_eq!(ema_update(1_000, 1_300, 3_000, 300), Ok(1_300));
        // 1 tick gap, short dt: rounds toward the old value.
        assert_eq!(ema_update(1_000, 1_001, 1, 300), Ok(1_000));
        assert_eq!(ema_update(1_000, 999, 1, 300), Ok(1_000));
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
