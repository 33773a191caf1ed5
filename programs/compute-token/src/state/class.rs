use crate::math::{mul_div, to_u64, BPS};
use anchor_lang::prelude::*;

pub const MAX_CLASS_SYMBOL_LEN: usize = 16;
pub const MAX_UNIT_DESCRIPTION_LEN: usize = 96;
pub const MAX_DECIMALS: u8 = 9;
pub const MAX_GRACE_PERIOD: i64 = 90 * 24 * 3600;

/// A kind of compute, e.g. `H100-GPUH` = "1 GPU-hour of H100 SXM 80GB".
#[account]
#[derive(InitSpace)]
pub struct ComputeClass {
    pub registry: Pubkey,
    #[max_len(MAX_CLASS_SYMBOL_LEN)]
    pub symbol: String,
    #[max_len(MAX_UNIT_DESCRIPTION_LEN)]
    pub unit_description: String,
    /// Decimals of every window mint of this class; one unit = 10^decimals base units.
    pub decimals: u8,
    /// Bond (in bond-mint base units) backing one whole unit.
    pub bond_per_unit: u64,
    /// Seconds after a window's end during which providers may fulfil redemptions.
    pub grace_period: i64,
    /// Extra paid to a holder on default, in bps of the ticket's bond value.
    pub penalty_bps: u16,
    pub bump: u8,
}

impl ComputeClass {
    pub const SEED: &'static [u8] = b"class";

    fn unit_scale(&self) -> u128 {
        10u128.pow(u32::from(self.decimals))
    }

    /// Bond value of `base_units`: units × bond per unit. Rounded up where bond is required
    /// or locked (`round_up = true`), down where it is paid out (`round_up = false`), so
    /// what is locked always covers what is paid.
    pub fn value(&self, base_units: u64, round_up: bool) -> Result<u64> {
        let value = u128::from(base_units) * u128::from(self.bond_per_unit);
        to_u64(mul_div(value, 1, self.unit_scale(), round_up)?)
    }

    /// Default penalty on a ticket of `base_units`: `penalty_bps` of its exact value,
    /// rounded down (it is paid out).
    pub fn penalty(&self, base_units: u64) -> Result<u64> {
        let value = u128::from(base_units) * u128::from(self.bond_per_unit);
        let num = u128::from(self.penalty_bps);
        let den = u128::from(BPS) * self.unit_scale();
        to_u64(mul_div(value, num, den, false)?)
    }
}
