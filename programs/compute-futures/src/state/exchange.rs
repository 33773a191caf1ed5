use anchor_lang::prelude::*;

/// Most a maker may be paid or charged, and what a taker pays: 10%.
pub const MAX_FEE_BPS: u16 = 1_000;
/// Most a crank is paid per event, in quote native units (0.065535 of a 6-decimal quote token):
/// each event records the reward its taker paid in 16 bits, so the crank pays exactly that.
pub const MAX_CRANK_REWARD: u64 = u16::MAX as u64;

/// One exchange: its collateral mint, vaults and fee schedule. Every trade and crank reads it and
/// none writes it (the counters they move are per market, in `Market`), so markets trade in
/// parallel. Zero-copy: Borsh deserialization would cost each trade thousands of compute units.
#[account(zero_copy)]
pub struct Exchange {
    pub admin: Pubkey,
    pub collateral_mint: Pubkey,
    pub collateral_token_program: Pubkey,
    /// Holds every margin account's collateral, accrued fees, reserved rebates and the crank pool.
    pub collateral_vault: Pubkey,
    /// Receives swept fees.
    pub fee_vault: Pubkey,
    /// Backstop for bad debt.
    pub insurance_vault: Pubkey,
    pub taker_fee_bps: u16,
    /// Negative = rebate, never larger than the taker fee.
    pub maker_fee_bps: i16,
    /// 1 = paused.
    pub paused: u8,
    pub bump: u8,
    pub _pad: [u8; 2],
    /// Compact id the next margin account gets (the book stores owners as u32).
    pub next_account_id: u32,
    pub _pad2: u32,
    /// Paid to whoever consumes an event, charged to the taker that produced it.
    pub crank_reward: u64,
    /// The admin may withdraw from the insurance fund only what lies above this balance.
    pub insurance_floor: u64,
    /// Room for fields added later without migrating accounts.
    pub _reserved: [u8; 120],
}

const _: () = assert!(core::mem::size_of::<Exchange>() == 344);

impl Exchange {
    pub fn is_paused(&self) -> bool {
        self.paused != 0
    }

    pub const SEED: &'static [u8] = b"exchange";
    pub const VAULT_SEED: &'static [u8] = b"vault";
    pub const FEE_VAULT_SEED: &'static [u8] = b"fees";
    pub const INSURANCE_SEED: &'static [u8] = b"insurance";
}
