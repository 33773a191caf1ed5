use super::ComputeClass;
use crate::math::{add, sub};
use anchor_lang::prelude::*;

/// A provider approved by the admin for one class. Its bond backs every window of that class.
#[account]
#[derive(InitSpace)]
pub struct Provider {
    pub class: Pubkey,
    pub authority: Pubkey,
    /// Bond held for this provider in the registry vault.
    pub bond: u64,
    /// Units minted and neither redeemed nor lapsed, over all windows.
    pub outstanding: u64,
    /// Units of this provider's open (unfulfilled, unclaimed) tickets.
    pub open_ticket_units: u64,
    pub minted: u64,
    pub redeemed: u64,
    pub lapsed: u64,
    pub suspended: bool,
    pub bump: u8,
}

impl Provider {
    pub const SEED: &'static [u8] = b"provider";

    /// Bond that outstanding units and open tickets need: outstanding units at their bond
    /// value, open tickets at value plus penalty (rounded up).
    pub fn locked_bond(&self, class: &ComputeClass) -> Result<u64> {
        add(
            class.bond_for(self.outstanding)?,
            class.default_claim_for(self.open_ticket_units, true)?,
        )
    }

    /// Bond that may be withdrawn now.
    pub fn free_bond(&self, class: &ComputeClass) -> Result<u64> {
        Ok(self.bond.saturating_sub(self.locked_bond(class)?))
    }

    /// Account for units that lapsed unredeemed at a window's end.
    pub fn record_lapse(&mut self, units: u64) -> Result<()> {
        self.outstanding = sub(self.outstanding, units)?;
        self.lapsed = add(self.lapsed, units)?;
        Ok(())
    }
}
