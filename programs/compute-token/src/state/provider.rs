use super::ComputeClass;
use crate::math::{add, sub_inv};
use anchor_lang::prelude::*;

/// A provider approved by the admin for one class. Its bond backs every window of that class.
#[account]
#[derive(InitSpace, Default)]
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

    /// Units the bond backs at their value: outstanding units (a holder may still redeem
    /// them) plus the units of open tickets (a holder may still claim them).
    pub fn backed_units(&self) -> Result<u64> {
        add(self.outstanding, self.open_ticket_units)
    }

    /// Bond that outstanding units and open tickets lock: `value(outstanding + open ticket
    /// units)`, rounded up once over the sum. The same definition bounds minting (locked ≤
    /// bond after the mint), releasing (only `bond − locked` leaves) and the penalty of a
    /// default claim (paid only from `bond − locked` once the ticket's value is paid).
    /// Penalties are not locked.
    pub fn locked_bond(&self, class: &ComputeClass) -> Result<u64> {
        class.value(self.backed_units()?, true)
    }

    /// Bond that nothing needs: `bond − locked`. Every instruction keeps `bond ≥ locked`;
    /// if that ever broke, this fails with `InvariantBroken`.
    pub fn free_bond(&self, class: &ComputeClass) -> Result<u64> {
        sub_inv(self.bond, self.locked_bond(class)?)
    }

    /// Account for units that lapsed unredeemed at a window's end.
    pub fn record_lapse(&mut self, units: u64) -> Result<()> {
        self.outstanding = sub_inv(self.outstanding, units)?;
        self.lapsed = add(self.lapsed, units)?;
        Ok(())
    }
}
