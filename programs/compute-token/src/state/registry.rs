use anchor_lang::prelude::*;

/// The program's single registry: who administers it and where bonds are held.
#[account]
#[derive(InitSpace)]
pub struct Registry {
    pub admin: Pubkey,
    /// Stablecoin-like mint all bonds are denominated in.
    pub bond_mint: Pubkey,
    /// Token account (PDA, authority = this registry) holding every provider's bond.
    pub bond_vault: Pubkey,
    /// Token program of `bond_mint` (SPL Token or Token-2022).
    pub bond_token_program: Pubkey,
    /// Sum of all provider bonds; equals the vault balance.
    pub total_bond: u64,
    pub bump: u8,
    pub vault_bump: u8,
}

impl Registry {
    pub const SEED: &'static [u8] = b"registry";
    pub const VAULT_SEED: &'static [u8] = b"bond_vault";
}
