//! compute-token: the issuance side of the cfx market.
//!
//! A compute token is a claim on one unit of a compute class, delivered inside one delivery
//! window by the provider who minted it. Providers back what they mint with a bond; a holder
//! whose redemption is not fulfilled by its deadline is paid from that bond.
//! See `docs/compute-token.md` for the design.

use anchor_lang::prelude::*;

#[cfg(feature = "upstream-sbf")]
use solana_compiler_builtins as _;

pub mod create;
pub mod error;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;

use instructions::*;

declare_id!("APfbeQpvvPRcxFWfsrnybc7PVirEpczViKsfFApD6QMc");

#[program]
pub mod compute_token {
    use super::*;

    pub fn initialize_registry(ctx: Context<InitializeRegistry>) -> Result<()> {
        instructions::initialize_registry(ctx)
    }

    pub fn create_class(ctx: Context<CreateClass>, args: CreateClassArgs) -> Result<()> {
        instructions::create_class(ctx, args)
    }

    pub fn approve_provider(ctx: Context<ApproveProvider>, authority: Pubkey) -> Result<()> {
        instructions::approve_provider(ctx, authority)
    }

    pub fn set_provider_suspended(
        ctx: Context<SetProviderSuspended>,
        suspended: bool,
    ) -> Result<()> {
        instructions::set_provider_suspended(ctx, suspended)
    }

    pub fn deposit_bond(ctx: Context<DepositBond>, amount: u64) -> Result<()> {
        instructions::deposit_bond(ctx, amount)
    }

    pub fn create_window(ctx: Context<CreateWindow>, args: CreateWindowArgs) -> Result<()> {
        instructions::create_window(ctx, args)
    }

    pub fn mint_units(ctx: Context<MintUnits>, amount: u64) -> Result<()> {
        instructions::mint_units(ctx, amount)
    }

    pub fn redeem(
        ctx: Context<Redeem>,
        units: u64,
        endpoint_hash: [u8; 32],
        nonce: u64,
    ) -> Result<()> {
        instructions::redeem(ctx, units, endpoint_hash, nonce)
    }

    pub fn fulfil(ctx: Context<Fulfil>, receipt_hash: [u8; 32]) -> Result<()> {
        instructions::fulfil(ctx, receipt_hash)
    }

    pub fn claim_default(ctx: Context<ClaimDefault>) -> Result<()> {
        instructions::claim_default(ctx)
    }

    pub fn lapse(ctx: Context<Lapse>) -> Result<()> {
        instructions::lapse(ctx)
    }

    pub fn release_bond(ctx: Context<ReleaseBond>, amount: u64) -> Result<()> {
        instructions::release_bond(ctx, amount)
    }

    pub fn close_ticket(ctx: Context<CloseTicket>) -> Result<()> {
        instructions::close_ticket(ctx)
    }

    pub fn close_position(ctx: Context<ClosePosition>) -> Result<()> {
        instructions::close_position(ctx)
    }

    pub fn close_window(ctx: Context<CloseWindow>) -> Result<()> {
        instructions::close_window(ctx)
    }
}
