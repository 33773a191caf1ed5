//! Human amounts ↔ native units: collateral (`12.5` with 6 decimals is 12,500,000), prices in
//! collateral per compute unit to the market's ticks, sizes in compute units to lots — refused
//! when off the market's grid, with the nearest valid values in the message.

use crate::CliError;

/// `text` (such as `12.5`) in units of `decimals` decimals.
pub fn parse_decimal(text: &str, decimals: u32) -> Result<u64, CliError> {
    let bad = || {
        CliError::input(format!(
            "{text:?} is not an amount with at most {decimals} decimals"
        ))
    };
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > decimals as usize
    {
        return Err(bad());
    }
    let scale = 10u64.checked_pow(decimals).ok_or_else(bad)?;
    let w: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let f: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u64>().map_err(|_| bad())? * 10u64.pow(decimals - frac.len() as u32)
    };
    w.checked_mul(scale)
        .and_then(|v| v.checked_add(f))
        .ok_or_else(bad)
}

/// `native` with `decimals` decimals, as text.
pub fn format_decimal(native: i128, decimals: u32) -> String {
    let scale = 10i128.pow(decimals);
    let sign = if native < 0 { "-" } else { "" };
    let n = native.abs();
    if decimals == 0 {
        return format!("{sign}{n}");
    }
    format!(
        "{sign}{}.{:0width$}",
        n / scale,
        n % scale,
        width = decimals as usize
    )
}

/// The grid of one market: quote native units per tick per lot, base units per lot and per
/// whole compute unit, collateral decimals.
#[derive(Clone, Copy, Debug)]
pub struct Grid {
    pub tick_value: u64,
    pub lot_size: u64,
    pub unit_scale: u64,
    pub quote_decimals: u32,
}

impl Grid {
    /// Native quote units per whole compute unit at `ticks`.
    fn per_unit(&self, ticks: u128) -> u128 {
        ticks * self.tick_value as u128 * self.unit_scale as u128 / self.lot_size as u128
    }

    /// A price in collateral per compute unit (`2.5`) in ticks; off-grid prices are refused with
    /// the two nearest valid ones.
    pub fn price_to_ticks(&self, text: &str) -> Result<u64, CliError> {
        let native = parse_decimal(text, self.quote_decimals)? as u128;
        let den = self.tick_value as u128 * self.unit_scale as u128;
        let num = native * self.lot_size as u128;
        if !num.is_multiple_of(den) || num == 0 {
            let below = num / den;
            let (lo, hi) = (below, below + 1);
            let show = |t: u128| format_decimal(self.per_unit(t) as i128, self.quote_decimals);
            return Err(CliError::input(format!(
                "price {text} is not on the market's tick grid: nearest {} or {}",
                if lo == 0 {
                    "(none below)".into()
                } else {
                    show(lo)
                },
                show(hi)
            )));
        }
        u64::try_from(num / den).map_err(|_| CliError::input(format!("price {text} too large")))
    }

    pub fn ticks_to_price(&self, ticks: u64) -> String {
        format_decimal(self.per_unit(ticks as u128) as i128, self.quote_decimals)
    }

    /// A size in compute units (`units`) in lots; sizes that are not whole lots are refused with
    /// the nearest ones.
    pub fn units_to_lots(&self, units: u64) -> Result<u64, CliError> {
        let base = units as u128 * self.unit_scale as u128;
        let lot = self.lot_size as u128;
        if !base.is_multiple_of(lot) || base == 0 {
            let lo = base / lot;
            return Err(CliError::input(format!(
                "{units} compute units is not a whole number of lots ({} units each): nearest {} or {} units",
                lot as f64 / self.unit_scale as f64,
                lo * lot / self.unit_scale as u128,
                (lo + 1) * lot / self.unit_scale as u128
            )));
        }
        Ok((base / lot) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_and_bad_text_is_refused() {
        assert_eq!(parse_decimal("12.5", 6).unwrap(), 12_500_000);
        assert_eq!(parse_decimal("0.000001", 6).unwrap(), 1);
        assert_eq!(parse_decimal("3", 0).unwrap(), 3);
        assert!(parse_decimal("1.0000001", 6).is_err());
        assert!(parse_decimal("-1", 6).is_err());
        assert!(parse_decimal("abc", 6).is_err());
        assert!(parse_decimal(".", 6).is_err());
        assert_eq!(format_decimal(-12_500_000, 6), "-12.500000");
    }

    #[test]
    fn prices_and_sizes_on_the_grid() {
        let g = Grid {
            tick_value: 100,
            lot_size: 1,
            unit_scale: 1,
            quote_decimals: 6,
        };
        assert_eq!(g.price_to_ticks("2.5").unwrap(), 25_000);
        assert_eq!(g.ticks_to_price(25_001), "2.500100");
        let e = g.price_to_ticks("2.50005").unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.message.contains("2.500000 or 2.500100"), "{}", e.message);
        assert_eq!(g.units_to_lots(7).unwrap(), 7);
        let lots_of_ten = Grid { lot_size: 10, ..g };
        let e = lots_of_ten.units_to_lots(15).unwrap_err();
        assert!(e.message.contains("nearest 10 or 20"), "{}", e.message);
    }
}
