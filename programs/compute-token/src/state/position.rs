use super::{Provider, Window};
use crate::{
    events::UnitsLapsed,
    math::{add, sub_inv},
};
use anchor_lang::prelude::*;

/// What one provider minted into one window. Lets unredeemed units be lapsed per window.
#[account]
#[derive(InitSpace, Default)]
pub struct Position {
    pub provider: Pubkey,
    pub window: Pubkey,
    pub minted: u64,
    pub redeemed: u64,
    pub lapsed: u64,
    /// Set once the units left at the window's end have been lapsed.
    pub settled: bool,
    pub open_tickets: u32,
    /// Seed of the next ticket opened against this position.
    pub next_ticket_id: u64,
    pub bump: u8,
}

impl Position {
    pub const SEED: &'static [u8] = b"position";

    /// Units minted and neither redeemed nor lapsed.
    /// `minted ≥ redeemed + lapsed` always holds; if it did not, this fails with
    /// `InvariantBroken`.
    pub fn outstanding(&self) -> Result<u64> {
        sub_inv(sub_inv(self.minted, self.redeemed)?, self.lapsed)
    }

    /// Lapse what is left once the window has ended. Idempotent.
    pub fn settle(
        &mut self,
        position_key: Pubkey,
        provider: &mut Provider,
        window: &mut Window,
    ) -> Result<()> {
        if self.settled {
            return Ok(());
        }
        let units = self.outstanding()?;
        self.lapsed = add(self.lapsed, units)?;
        self.settled = true;
        provider.record_lapse(units)?;
        window.lapsed = add(window.lapsed, units)?;
        emit!(UnitsLapsed {
            position: position_key,
            provider: self.provider,
            window: self.window,
            units,
            provider_outstanding: provider.outstanding,
        });
        Ok(())
    }
}
