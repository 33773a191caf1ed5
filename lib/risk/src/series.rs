//! Series calendars: when the next weekly or monthly series of a class expires, and its name.
//! Unsigned day arithmetic only (the SBF target has no signed division); times are Unix seconds
//! from 1970 on.

use crate::RiskError;

const DAY: u64 = 86_400;
/// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const EPOCH_SHIFT: u64 = 719_468;

/// How often a series template lists a new series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Every week on `weekday` (0 = Monday) at `time_of_day` seconds UTC.
    Weekly { weekday: u8, time_of_day: u32 },
    /// Every month on its last `weekday` at `time_of_day` seconds UTC.
    Monthly { weekday: u8, time_of_day: u32 },
}

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01.
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + EPOCH_SHIFT;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as u64;
    (y, m, d)
}

/// Day count since 1970-01-01 of a date from 1970 on.
pub fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - EPOCH_SHIFT
}

/// Weekday of a day count (0 = Monday); 1970-01-01 was a Thursday.
pub fn weekday(days: u64) -> u64 {
    (days + 3) % 7
}

/// ISO-8601 (year, week) of a day count.
pub fn iso_week(days: u64) -> (u64, u64) {
    let thursday = days - weekday(days) + 3;
    let (y, _, _) = civil_from_days(thursday);
    (y, (thursday - days_from_civil(y, 1, 1)) / 7 + 1)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)
}

impl Schedule {
    pub fn validate(&self) -> Result<(), RiskError> {
        let (Schedule::Weekly {
            weekday,
            time_of_day,
        }
        | Schedule::Monthly {
            weekday,
            time_of_day,
        }) = *self;
        if weekday > 6 || time_of_day as u64 >= DAY {
            return Err(RiskError::InvalidInput);
        }
        Ok(())
    }

    /// The first expiry of this schedule strictly after `after`.
    pub fn next_expiry(&self, after: i64) -> Result<i64, RiskError> {
        self.validate()?;
        if after < 0 {
            return Err(RiskError::InvalidInput);
        }
        let after = after as u64;
        let next = match *self {
            Schedule::Weekly {
                weekday: wd,
                time_of_day,
            } => {
                let day = after / DAY;
                let ahead = (wd as u64 + 7 - weekday(day)) % 7;
                let mut t = (day + ahead) * DAY + time_of_day as u64;
                if t <= after {
                    t += 7 * DAY;
                }
                t
            }
            Schedule::Monthly {
                weekday: wd,
                time_of_day,
            } => {
                let (mut y, mut m, _) = civil_from_days(after / DAY);
                loop {
                    let last = days_from_civil(y, m, 1) + days_in_month(y, m) - 1;
                    let back = (weekday(last) + 7 - wd as u64) % 7;
                    let t = (last - back) * DAY + time_of_day as u64;
                    if t > after {
                        break t;
                    }
                    (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                }
            }
        };
        i64::try_from(next).map_err(|_| RiskError::Overflow)
    }

    /// The series name: `prefix` then `-2026W49` (ISO week) or `-2026M12` (month) of `expiry`,
    /// zero-padded to 24 bytes; the prefix is cut to fit.
    pub fn name(&self, prefix: &[u8], expiry: i64) -> Result<[u8; 24], RiskError> {
        if expiry < 0 {
            return Err(RiskError::InvalidInput);
        }
        let days = expiry as u64 / DAY;
        let (year, tag, n) = match self {
            Schedule::Weekly { .. } => {
                let (y, w) = iso_week(days);
                (y, b'W', w)
            }
            Schedule::Monthly { .. } => {
                let (y, m, _) = civil_from_days(days);
                (y, b'M', m)
            }
        };
        let suffix = [
            b'-',
            b'0' + (year / 1000 % 10) as u8,
            b'0' + (year / 100 % 10) as u8,
            b'0' + (year / 10 % 10) as u8,
            b'0' + (year % 10) as u8,
            tag,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ];
        let mut out = [0u8; 24];
        let len = prefix
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(prefix.len())
            .min(24 - suffix.len());
        out[..len].copy_from_slice(&prefix[..len]);
        out[len..len + suffix.len()].copy_from_slice(&suffix);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30 00:00 UTC, a Monday.
    const MON: i64 = 1_795_996_800;

    #[test]
    fn calendar_round_trips() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(MON as u64 / DAY), (2026, 11, 30));
        assert_eq!(weekday(MON as u64 / DAY), 0);
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
        for d in (0..80_000).step_by(7) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        // 2026-12-31 is in ISO week 53 of 2026; 2027-01-04 starts week 1 of 2027.
        assert_eq!(iso_week(days_from_civil(2026, 12, 31)), (2026, 53));
        assert_eq!(iso_week(days_from_civil(2027, 1, 4)), (2027, 1));
        assert_eq!(iso_week(days_from_civil(2027, 1, 1)), (2026, 53));
    }

    #[test]
    fn weekly_series_expire_each_friday_at_the_hour() {
        let s = Schedule::Weekly {
            weekday: 4,
            time_of_day: 16 * 3_600,
        };
        let fri = MON + 4 * 86_400 + 16 * 3_600; // 2026-12-04 16:00
        assert_eq!(s.next_expiry(MON), Ok(fri));
        assert_eq!(s.next_expiry(fri - 1), Ok(fri));
        assert_eq!(s.next_expiry(fri), Ok(fri + 7 * 86_400));
        assert_eq!(
            &s.name(b"H100-GPUH", fri).unwrap()[..17],
            b"H100-GPUH-2026W49"
        );
    }

    #[test]
    fn monthly_series_expire_on_the_last_friday() {
        let s = Schedule::Monthly {
            weekday: 4,
            time_of_day: 16 * 3_600,
        };
        // Last Fridays: 2026-12-25, 2027-01-29.
        let dec = days_from_civil(2026, 12, 25) as i64 * 86_400 + 16 * 3_600;
        let jan = days_from_civil(2027, 1, 29) as i64 * 86_400 + 16 * 3_600;
        assert_eq!(s.next_expiry(MON), Ok(dec));
        assert_eq!(s.next_expiry(dec), Ok(jan));
        assert_eq!(
            &s.name(b"H100-GPUH", jan).unwrap()[..17],
            b"H100-GPUH-2027M01"
        );
        assert_eq!(
            Schedule::Monthly {
                weekday: 7,
                time_of_day: 0
            }
            .next_expiry(MON),
            Err(RiskError::InvalidInput)
        );
        // A long prefix is cut so the suffix fits.
        let n = s.name(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", jan).unwrap();
        assert_eq!(&n[16..], b"-2027M01");
    }
}
