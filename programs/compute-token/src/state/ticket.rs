use anchor_lang::prelude::*;

#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace, Default,
)]
pub enum TicketStatus {
    #[default]
    Open,
    Fulfilled,
    Defaulted,
}

/// A holder's request for delivery of burned units by one provider.
#[account]
#[derive(InitSpace, Default)]
pub struct Ticket {
    pub holder: Pubkey,
    pub provider: Pubkey,
    pub window: Pubkey,
    pub position: Pubkey,
    /// Sequence number of the ticket among its position's tickets.
    pub id: u64,
    /// The holder's choice that, with position and holder, seeds the ticket's address.
    pub nonce: u64,
    /// Base units burned for this ticket.
    pub units: u64,
    /// Hash of where the holder wants delivery (endpoint, credentials); kept off-chain.
    pub endpoint_hash: [u8; 32],
    /// Window end + grace period.
    pub deadline: i64,
    pub status: TicketStatus,
    /// Provider's delivery receipt hash, set on fulfilment.
    pub receipt_hash: [u8; 32],
    /// Bond paid to the holder on default.
    pub paid: u64,
    pub bump: u8,
}

impl Ticket {
    pub const SEED: &'static [u8] = b"ticket";
}
