//! One event per state change, emitted through the program log.

use anchor_lang::prelude::*;

#[event]
pub struct RegistryInitialized {
    pub registry: Pubkey,
    pub admin: Pubkey,
    pub bond_mint: Pubkey,
    pub bond_vault: Pubkey,
}

#[event]
pub struct ClassCreated {
    pub class: Pubkey,
    pub symbol: String,
    pub unit_description: String,
    pub decimals: u8,
    pub bond_per_unit: u64,
    pub grace_period: i64,
    pub penalty_bps: u16,
}

#[event]
pub struct ProviderApproved {
    pub provider: Pubkey,
    pub class: Pubkey,
    pub authority: Pubkey,
}

#[event]
pub struct ProviderSuspensionChanged {
    pub provider: Pubkey,
    pub suspended: bool,
}

#[event]
pub struct BondDeposited {
    pub provider: Pubkey,
    pub amount: u64,
    pub bond: u64,
}

#[event]
pub struct WindowCreated {
    pub window: Pubkey,
    pub class: Pubkey,
    pub mint: Pubkey,
    pub start: i64,
    pub end: i64,
    pub redeem_deadline: i64,
    pub symbol: String,
}

#[event]
pub struct UnitsMinted {
    pub provider: Pubkey,
    pub window: Pubkey,
    pub destination: Pubkey,
    pub units: u64,
    pub provider_outstanding: u64,
}

#[event]
pub struct RedemptionOpened {
    pub ticket: Pubkey,
    pub holder: Pubkey,
    pub provider: Pubkey,
    pub window: Pubkey,
    pub units: u64,
    pub endpoint_hash: [u8; 32],
    pub deadline: i64,
}

#[event]
pub struct RedemptionFulfilled {
    pub ticket: Pubkey,
    pub provider: Pubkey,
    pub receipt_hash: [u8; 32],
}

#[event]
pub struct DefaultClaimed {
    pub ticket: Pubkey,
    pub holder: Pubkey,
    pub provider: Pubkey,
    /// The ticket's bond value (units × bond per unit, rounded down); always paid in full.
    pub value: u64,
    /// Value plus the class penalty.
    pub owed: u64,
    /// Value plus the penalty actually paid: the penalty comes only from bond that no other
    /// outstanding units or open tickets lock.
    pub paid: u64,
    /// True when that free bond could not pay the whole penalty (`paid < owed`).
    pub capped: bool,
}

#[event]
pub struct UnitsLapsed {
    pub position: Pubkey,
    pub provider: Pubkey,
    pub window: Pubkey,
    pub units: u64,
    pub provider_outstanding: u64,
}

#[event]
pub struct BondReleased {
    pub provider: Pubkey,
    pub amount: u64,
    pub bond: u64,
}

#[event]
pub struct TicketClosed {
    pub ticket: Pubkey,
}

#[event]
pub struct PositionClosed {
    pub position: Pubkey,
}

#[event]
pub struct WindowClosed {
    pub window: Pubkey,
}
