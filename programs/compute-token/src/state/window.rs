use anchor_lang::prelude::*;

/// One delivery window [start, end) of a class, with its own Token-2022 mint.
#[account]
#[derive(InitSpace, Default)]
pub struct Window {
    pub class: Pubkey,
    pub mint: Pubkey,
    pub start: i64,
    pub end: i64,
    /// end + the class grace period: last moment a redemption can be fulfilled.
    pub redeem_deadline: i64,
    pub minted: u64,
    pub burned: u64,
    pub lapsed: u64,
    /// Positions not yet closed; the window can close when this is zero.
    pub open_positions: u32,
    pub bump: u8,
    pub mint_bump: u8,
}

impl Window {
    pub const SEED: &'static [u8] = b"window";
    pub const MINT_SEED: &'static [u8] = b"window_mint";
}
