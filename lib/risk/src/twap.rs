//! Time-weighted average of the index, from an on-chain accumulator with checkpoints on a fixed time
//! grid. Between updates the index is constant, so the cumulative sum at every grid point is exact;
//! a TWAP between two grid points (e.g. the 30 minutes before expiry) is exact too.

use bytemuck::{Pod, Zeroable};

use crate::RiskError;

/// Grid points kept.
pub const CHECKPOINTS: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Grid time (a multiple of the interval); 0 = empty.
    pub time: i64,
    /// Σ price × seconds from the accumulator's start up to `time`, as [low, high] u64 halves.
    pub cumulative: [u64; 2],
    /// Seconds with an update at or before `time`: the count over a window says how many fresh
    /// index prices it saw, where the sum alone cannot tell a fresh price from an extrapolated
    /// one.
    pub updates: u64,
}

/// Zero-copy accumulator, stored in the index account.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct Twap {
    /// Seconds between grid points.
    pub interval: u64,
    /// Price in effect since `last_time`.
    pub last_price: u64,
    pub last_time: i64,
    pub cumulative: [u64; 2],
    /// Updates recorded so far.
    pub updates: u64,
    pub checkpoints: [Checkpoint; CHECKPOINTS],
}

fn split(v: u128) -> [u64; 2] {
    [v as u64, (v >> 64) as u64]
}

fn join(v: [u64; 2]) -> u128 {
    ((v[1] as u128) << 64) | v[0] as u128
}

/// Longest checkpoint interval: a day (the grid arithmetic stays far from overflow).
pub const MAX_INTERVAL: u64 = 86_400;

impl Twap {
    pub fn new(interval: u64) -> Result<Twap, RiskError> {
        if interval == 0 || interval > MAX_INTERVAL {
            return Err(RiskError::InvalidInput);
        }
        Ok(Twap {
            interval,
            ..Zeroable::zeroed()
        })
    }

    fn slot(&self, time: i64) -> usize {
        ((time as u64 / self.interval) % CHECKPOINTS as u64) as usize
    }

    /// Cumulative sum at `t` ≥ last_time, extrapolating the current price.
    fn cumulative_at(&self, t: i64) -> Result<u128, RiskError> {
        let dt = t.checked_sub(self.last_time).ok_or(RiskError::Overflow)?;
        if dt < 0 {
            return Err(RiskError::InvalidInput);
        }
        join(self.cumulative)
            .checked_add(self.last_price as u128 * dt as u128)
            .ok_or(RiskError::Overflow)
    }

    /// Records that the index is `price` from `now` on. Times must not go backwards.
    pub fn update(&mut self, price: u64, now: i64) -> Result<(), RiskError> {
        if now < self.last_time || now < 0 || self.interval == 0 {
            return Err(RiskError::InvalidInput);
        }
        if self.last_time == 0 {
            // First price: history starts here.
            self.last_price = price;
            self.last_time = now;
            self.updates = 1;
            let g = now - (now as u64 % self.interval) as i64;
            if g == now {
                let s = self.slot(g);
                self.checkpoints[s] = Checkpoint {
                    time: g,
                    cumulative: [0, 0],
                    updates: 1,
                };
            }
            return Ok(());
        }
        // Grid points in (last_time, now]; only the newest CHECKPOINTS of them can be kept.
        let iv = self.interval as i64;
        let last_grid = now - (now as u64 % self.interval) as i64;
        let first_grid = self.last_time - (self.last_time as u64 % self.interval) as i64 + iv;
        let mut g = first_grid.max(last_grid - iv * (CHECKPOINTS as i64 - 1));
        // Fresh updates are counted once per second: several in the same second (one publisher
        // re-posting) are one.
        let updates = if now > self.last_time {
            self.updates.checked_add(1).ok_or(RiskError::Overflow)?
        } else {
            self.updates
        };
        while g <= last_grid {
            let cum = self.cumulative_at(g)?;
            let s = self.slot(g);
            self.checkpoints[s] = Checkpoint {
                time: g,
                cumulative: split(cum),
                // An update exactly on a grid point counts in it (at or before `time`).
                updates: if g == now { updates } else { self.updates },
            };
            g += iv;
        }
        self.cumulative = split(self.cumulative_at(now)?);
        self.last_price = price;
        self.last_time = now;
        self.updates = updates;
        Ok(())
    }

    fn checkpoint_at(&self, time: i64) -> Result<&Checkpoint, RiskError> {
        if time < 0 || self.interval == 0 || !(time as u64).is_multiple_of(self.interval) {
            return Err(RiskError::InvalidInput);
        }
        let c = &self.checkpoints[self.slot(time)];
        if c.time != time {
            return Err(RiskError::InsufficientHistory);
        }
        Ok(c)
    }

    /// Updates recorded in (start, end], each a grid time still in the ring or a time at or
    /// after the last update.
    pub fn updates_between(&self, start: i64, end: i64) -> Result<u64, RiskError> {
        if end <= start {
            return Err(RiskError::InvalidInput);
        }
        let from = self.state_at(start)?.1;
        let to = self.state_at(end)?.1;
        to.checked_sub(from).ok_or(RiskError::InvalidInput)
    }

    /// The settlement price of a window ending at `end` (a grid time, or at or after the last
    /// update) and lasting `window` seconds (a multiple of the interval): its TWAP, refused when
    /// fewer than `min_updates` fresh prices arrived in it (the sum extrapolates a stale price)
    /// or when its start left the ring.
    pub fn window_twap(&self, end: i64, window: u64, min_updates: u64) -> Result<u64, RiskError> {
        if window == 0 || !window.is_multiple_of(self.interval) || self.last_time == 0 {
            return Err(RiskError::InvalidInput);
        }
        let start = end.checked_sub(window as i64).ok_or(RiskError::Overflow)?;
        if self.updates_between(start, end)? < min_updates {
            return Err(RiskError::TooFewUpdates);
        }
        self.twap(start, end)
    }

    /// The newest window TWAP that `window_twap` accepts among windows ending on a grid point at
    /// or before `end`, with the grid time it ends at: the reference an emergency price must stay
    /// near. Bounded by the ring's length.
    pub fn last_valid_twap(
        &self,
        end: i64,
        window: u64,
        min_updates: u64,
    ) -> Result<(i64, u64), RiskError> {
        if end < 0 || self.interval == 0 {
            return Err(RiskError::InvalidInput);
        }
        let iv = self.interval as i64;
        let mut g = end - (end as u64 % self.interval) as i64;
        for _ in 0..CHECKPOINTS {
            match self.window_twap(g, window, min_updates) {
                Ok(price) => return Ok((g, price)),
                Err(RiskError::Overflow) => return Err(RiskError::Overflow),
                Err(_) => g -= iv,
            }
            if g <= 0 {
                break;
            }
        }
        Err(RiskError::InsufficientHistory)
    }

    /// Cumulative sum and updates recorded at `t`: a grid time still in the ring, or any time at
    /// or after the last update (extrapolating the current price).
    fn state_at(&self, t: i64) -> Result<(u128, u64), RiskError> {
        if t >= self.last_time && self.last_time != 0 {
            return Ok((self.cumulative_at(t)?, self.updates));
        }
        let c = self.checkpoint_at(t)?;
        Ok((join(c.cumulative), c.updates))
    }

    /// Average price over [start, end], each a grid time still in the ring or a time at or
    /// after the last update.
    pub fn twap(&self, start: i64, end: i64) -> Result<u64, RiskError> {
        if end <= start {
            return Err(RiskError::InvalidInput);
        }
        let from = self.state_at(start)?.0;
        let to = self.state_at(end)?.0;
        let sum = to.checked_sub(from).ok_or(RiskError::InvalidInput)?;
        u64::try_from(sum / (end - start) as u128).map_err(|_| RiskError::Overflow)
    }

    /// Average over the last `window` seconds, starting at the grid point at or after `now − window`.
    pub fn twap_recent(&self, now: i64, window: u64) -> Result<u64, RiskError> {
        let target = now.checked_sub(window as i64).ok_or(RiskError::Overflow)?;
        let rem = target.rem_euclid(self.interval as i64);
        let start = if rem == 0 {
            target
        } else {
            target + (self.interval as i64 - rem)
        };
        if start >= now {
            return Err(RiskError::InvalidInput);
        }
        self.twap(start, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_twap_between_grid_points() {
        let mut t = Twap::new(60).unwrap();
        t.update(100, 600).unwrap();
        t.update(200, 630).unwrap(); // 100 for 30 s
        t.update(400, 700).unwrap(); // 200 for 70 s (crossing the 660 grid point)
                                     // From 600 to 660: 100 × 30 + 200 × 30 = 9_000 over 60 s = 150.
        assert_eq!(t.twap(600, 660), Ok(150));
        // From 660 to 760 (after the last update: 400 extrapolated): 200 × 40 + 400 × 60 over 100.
        assert_eq!(t.twap(660, 760), Ok((200 * 40 + 400 * 60) / 100));
        t.update(400, 800).unwrap();
        assert_eq!(t.twap(600, 720), Ok((100 * 30 + 200 * 70 + 400 * 20) / 120));
        // Recent window: the last 100 s from 800 start at grid 720.
        assert_eq!(t.twap_recent(800, 100), Ok(400));
        assert_eq!(t.twap(590, 660), Err(RiskError::InvalidInput));
        assert_eq!(t.twap(540, 660), Err(RiskError::InsufficientHistory));
        assert_eq!(t.update(1, 799), Err(RiskError::InvalidInput));
    }

    #[test]
    fn interval_is_bounded() {
        assert_eq!(Twap::new(0).err(), Some(RiskError::InvalidInput));
        assert_eq!(
            Twap::new(MAX_INTERVAL + 1).err(),
            Some(RiskError::InvalidInput)
        );
        // The longest interval survives far-apart updates without overflow.
        let mut t = Twap::new(MAX_INTERVAL).unwrap();
        t.update(10, 1_000_000_000).unwrap();
        t.update(20, 1_000_000_000 + 1_000 * MAX_INTERVAL as i64)
            .unwrap();
    }

    #[test]
    fn long_gaps_keep_only_the_ring() {
        let mut t = Twap::new(10).unwrap();
        t.update(50, 100).unwrap();
        t.update(70, 100 + 10 * 1000).unwrap();
        let end = 100 + 10 * 1000;
        let oldest = end - 10 * (CHECKPOINTS as i64 - 1);
        assert_eq!(t.twap(oldest, end), Ok(50));
        assert_eq!(
            t.twap(oldest - 10, end),
            Err(RiskError::InsufficientHistory)
        );
        assert_eq!(t.twap(end, end + 10), Ok(70));
    }

    #[test]
    fn settlement_windows_count_fresh_updates() {
        let mut t = Twap::new(60).unwrap();
        t.update(100, 600).unwrap(); // on a grid point: counted at 600
        t.update(110, 610).unwrap();
        t.update(120, 700).unwrap();
        // (600, 720]: the updates at 610 and 700.
        assert_eq!(t.updates_between(600, 720), Ok(2));
        // A second update in the same second counts once.
        t.update(121, 700).unwrap();
        assert_eq!(t.updates_between(600, 720), Ok(2));
        t.update(120, 700).unwrap();
        assert_eq!(
            t.updates_between(540, 720),
            Err(RiskError::InsufficientHistory)
        );
        // The window [600, 720]: 100 × 10 + 110 × 90 + 120 × 20 over 120 s.
        let avg = (100 * 10 + 110 * 90 + 120 * 20) / 120;
        assert_eq!(t.window_twap(720, 120, 2), Ok(avg));
        assert_eq!(t.window_twap(720, 120, 3), Err(RiskError::TooFewUpdates));
        assert_eq!(t.window_twap(720, 90, 1), Err(RiskError::InvalidInput));
        // Nothing fresh after 700: a window ending at 900 is the extrapolated 120 only.
        assert_eq!(t.window_twap(900, 120, 1), Err(RiskError::TooFewUpdates));
        // The newest window at or before 900 with two fresh updates ends at 720.
        assert_eq!(t.last_valid_twap(900, 120, 2), Ok((720, avg)));
        assert_eq!(
            t.last_valid_twap(900, 120, 5),
            Err(RiskError::InsufficientHistory)
        );
    }
}
