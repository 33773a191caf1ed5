use anchor_lang::prelude::*;

/// One code per failure; each message says what to change.
#[error_code]
pub enum ComputeTokenError {
    #[msg("Arithmetic overflow: the amount is too large for this account's totals")]
    MathOverflow,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Only the registry admin can do this")]
    NotAdmin,
    #[msg("Only the provider's authority can do this")]
    NotProviderAuthority,
    #[msg("Only the ticket's holder can do this")]
    NotTicketHolder,
    #[msg("Class symbol must be 1 to 16 printable ASCII characters without spaces")]
    InvalidClassSymbol,
    #[msg("Unit description must be 1 to 96 bytes")]
    InvalidUnitDescription,
    #[msg("Decimals must be at most 9")]
    InvalidDecimals,
    #[msg("Bond per unit must be greater than zero")]
    InvalidBondPerUnit,
    #[msg("Grace period must be between 1 second and 90 days")]
    InvalidGracePeriod,
    #[msg("Default penalty must be at most 10000 bps")]
    InvalidPenalty,
    #[msg("The bond vault is not this registry's vault; pass registry.bond_vault")]
    WrongBondVault,
    #[msg("The account belongs to a different compute class")]
    WrongClass,
    #[msg("The account belongs to a different delivery window")]
    WrongWindow,
    #[msg("The account belongs to a different provider")]
    WrongProvider,
    #[msg("The token account is not for this window's mint")]
    WrongWindowMint,
    #[msg("The provider is suspended; ask the admin to reinstate it")]
    ProviderSuspended,
    #[msg("Window must end after it starts and after the current time")]
    InvalidWindowTimes,
    #[msg("Window name must be 1 to 64 bytes, uri at most 200 bytes")]
    InvalidWindowMetadata,
    #[msg("Window symbol must be the class symbol, a dash and a 1 to 15 character suffix")]
    InvalidWindowSymbol,
    #[msg("The window has ended; its units can no longer be minted or redeemed")]
    WindowEnded,
    #[msg("The window has not started yet; redeem once it opens")]
    WindowNotStarted,
    #[msg("The window has not ended yet")]
    WindowNotEnded,
    #[msg(
        "Minting this many units would exceed what the provider's bond covers (outstanding \
         units plus open tickets, at bond value); deposit more bond"
    )]
    BondTooSmall,
    #[msg("The provider does not have that many outstanding units in this window")]
    InsufficientOutstanding,
    #[msg("The ticket is not open (already fulfilled or claimed)")]
    TicketNotOpen,
    #[msg("The ticket's deadline has passed; it can no longer be fulfilled")]
    DeadlinePassed,
    #[msg("The ticket's deadline has not passed yet; claim after it")]
    DeadlineNotPassed,
    #[msg("The ticket is still open; fulfil it or claim the default first")]
    TicketStillOpen,
    #[msg("The amount exceeds the bond not needed by outstanding units and open tickets")]
    BondLocked,
    #[msg("This position's units have already lapsed")]
    AlreadyLapsed,
    #[msg("The position still has open tickets")]
    PositionHasOpenTickets,
    #[msg("The window still has positions; close them first")]
    WindowHasPositions,
    #[msg("The window's redemption deadline has not passed yet")]
    WindowDeadlineNotPassed,
    #[msg("The bond mint is not this registry's bond mint; pass registry.bond_mint")]
    WrongBondMint,
    #[msg("The token program is not the bond mint's; pass registry.bond_token_program")]
    WrongTokenProgram,
    #[msg(
        "The bond mint has a permanent delegate, transfer fee or transfer hook extension; \
         use a bond mint without them"
    )]
    UnsupportedBondMintExtension,
    #[msg(
        "The rent of a closed position goes to the provider's authority; pass provider.authority"
    )]
    WrongRentRecipient,
    #[msg(
        "Accounting invariant broken (the provider's bond is below what it locks, or a \
         position redeemed and lapsed more than it minted); nothing was changed, report it"
    )]
    InvariantBroken,
    #[msg("The position is not the ticket's position; pass ticket.position")]
    WrongPosition,
}
