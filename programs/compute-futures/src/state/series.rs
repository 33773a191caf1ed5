use anchor_lang::prelude::*;
use cfx_risk::series::Schedule;

use crate::error::FuturesError;
use crate::instructions::MarketParams;

/// How a class's series roll: the calendar, the name, the times relative to expiry and the
/// market parameters every series of it is listed with (`list_series`).
#[account]
#[derive(InitSpace)]
pub struct SeriesTemplate {
    pub exchange: Pubkey,
    pub class: Pubkey,
    pub index: Pubkey,
    pub id: u16,
    pub bump: u8,
    /// 1 weekly, 2 monthly (the month's last `weekday`).
    pub schedule: u8,
    /// 0 = Monday.
    pub weekday: u8,
    /// Physically delivered series (each listing passes its delivery window).
    pub physical: bool,
    /// Expiry time of day, seconds UTC.
    pub time_of_day: u32,
    /// Name prefix, such as `H100-GPUH`; the listing appends `-2026W49` or `-2026M12`.
    pub name_prefix: [u8; 16],
    /// Seconds before expiry that trading stops, and that delivery opt-ins close.
    pub last_trade_before: u64,
    pub delivery_cutoff_before: u64,
    /// Every other parameter of a listed market (its name and times are set per listing).
    pub params: MarketParams,
    /// The expiry the next listing gets, unless its last trade has passed by then.
    pub next_expiry: i64,
    pub listed: u32,
}

impl SeriesTemplate {
    pub const SEED: &'static [u8] = b"series";

    pub fn schedule(&self) -> Result<Schedule> {
        let s = match self.schedule {
            1 => Schedule::Weekly {
                weekday: self.weekday,
                time_of_day: self.time_of_day,
            },
            2 => Schedule::Monthly {
                weekday: self.weekday,
                time_of_day: self.time_of_day,
            },
            _ => return err!(FuturesError::WrongSeriesTemplate),
        };
        s.validate()
            .map_err(|_| error!(FuturesError::WrongSeriesTemplate))?;
        Ok(s)
    }

    /// The expiry of the series the template lists at `now`: the stored next one, or, when its
    /// last trade would already have passed, the first whose last trade is still ahead.
    pub fn upcoming_expiry(&self, now: i64) -> Result<i64> {
        let before = i64::try_from(self.last_trade_before).map_err(|_| FuturesError::Overflow)?;
        if self.next_expiry.saturating_sub(before) > now {
            return Ok(self.next_expiry);
        }
        let after = now.checked_add(before).ok_or(FuturesError::Overflow)?;
        self.schedule()?
            .next_expiry(after)
            .map_err(|_| error!(FuturesError::WrongSeriesTemplate))
    }

    /// The market parameters of the series expiring at `expiry`.
    pub fn params_for(&self, expiry: i64) -> Result<MarketParams> {
        let mut p = self.params;
        p.name = self
            .schedule()?
            .name(&self.name_prefix, expiry)
            .map_err(|_| error!(FuturesError::WrongSeriesTemplate))?;
        p.expiry_ts = expiry;
        p.last_trade_ts = expiry.saturating_sub(self.last_trade_before.min(i64::MAX as u64) as i64);
        p.delivery_cutoff_ts =
            expiry.saturating_sub(self.delivery_cutoff_before.min(i64::MAX as u64) as i64);
        Ok(p)
    }
}
