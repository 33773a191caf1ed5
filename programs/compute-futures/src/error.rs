use anchor_lang::prelude::*;

#[error_code]
pub enum FuturesError {
    #[msg("Only the exchange admin may do this")]
    NotAdmin,
    #[msg("The exchange is paused")]
    ExchangePaused,
    #[msg(
        "Fee schedule invalid: taker fee at most 10%, maker rebate no larger than the taker fee"
    )]
    InvalidFees,
    #[msg("Signer is not an authorized publisher of this index")]
    NotPublisher,
    #[msg("Index configuration invalid: 1-8 publishers required, staleness and confidence limits must be positive")]
    InvalidIndexConfig,
    #[msg("Quote invalid: price must be positive and the publish time not in the future")]
    InvalidQuote,
    #[msg("Quote older than the publisher's previous one")]
    QuoteOutOfOrder,
    #[msg("The index has no fresh price: too few fresh quotes, stale, or confidence too wide")]
    StaleOracle,
    #[msg("Account does not belong to this exchange")]
    WrongExchange,
    #[msg("Index does not belong to this market or class")]
    WrongIndex,
    #[msg("Book or event-queue account does not belong to this market")]
    WrongBookAccount,
    #[msg("Book or event-queue account too small")]
    BookAccountTooSmall,
    #[msg("Account already initialized")]
    AccountAlreadyInitialized,
    #[msg("Market parameters invalid: check lot size, tick value, margins, bands and times")]
    InvalidMarketParams,
    #[msg("Market is not open for this: it is close-only, expired or settled")]
    MarketClosed,
    #[msg("Signer may not trade for this margin account")]
    NotAuthorized,
    #[msg("Only the owner may withdraw or change the delegate")]
    NotOwner,
    #[msg("Amount must be positive")]
    ZeroAmount,
    #[msg("Order size below the market minimum")]
    OrderTooSmall,
    #[msg("Order size too large")]
    InvalidQuantity,
    #[msg("Price outside the band around the mark price")]
    PriceOutsideBand,
    #[msg("Order would exceed the maximum position")]
    PositionLimit,
    #[msg("Order would exceed the market's maximum open interest")]
    OpenInterestLimit,
    #[msg("Reduce-only order would not reduce the position")]
    ReduceOnlyWouldIncrease,
    #[msg("Not enough margin: initial margin would not hold afterwards")]
    InsufficientMargin,
    #[msg("Margin account holds positions in 8 markets already")]
    TooManyPositions,
    #[msg("Margin account has 32 resting orders already")]
    TooManyOrders,
    #[msg("No resting order with that id in this account")]
    OrderNotFound,
    #[msg("Client order id already used by a resting order in this market")]
    DuplicateClientOrderId,
    #[msg("Health check needs the market and index account of every position, in position order")]
    MissingHealthAccounts,
    #[msg("Margin account still holds collateral, positions or orders")]
    AccountNotEmpty,
    #[msg("Order refused by the book")]
    BookRejected,
    #[msg("Post-only order would take liquidity")]
    PostOnlyWouldCross,
    #[msg("Fill-or-kill order cannot be filled completely")]
    WouldNotFill,
    #[msg("Order would trade with the same account (self-trade abort)")]
    SelfTrade,
    #[msg("Book side is full and the order is not better than its worst order")]
    BookFull,
    #[msg("Event queue full: run the crank first")]
    EventQueueFull,
    #[msg("Arithmetic overflow")]
    Overflow,
    #[msg("Duplicate account passed where distinct accounts are required")]
    DuplicateAccount,
    #[msg("Reduce-only orders are immediate: they cannot be post-only")]
    ReduceOnlyCannotRest,
    #[msg("Unknown side, order type or self-trade mode")]
    InvalidOrder,
    #[msg("Batch too large")]
    BatchTooLarge,
    #[msg("More accounts than the instruction takes")]
    TooManyAccounts,
    #[msg("Collateral mint has a Token-2022 extension the vault cannot work with")]
    UnsupportedCollateralMint,
    #[msg("The insurance fund would fall below its floor")]
    InsuranceBelowFloor,
    #[msg("The account meets maintenance margin: it cannot be liquidated")]
    NotLiquidatable,
    #[msg(
        "The liquidated account still has resting orders in this market: liquidate_orders first"
    )]
    LiquidateOrdersFirst,
    #[msg("The liquidated account has no position in this market")]
    NoPositionToLiquidate,
    #[msg("An account cannot liquidate an account of its own owner")]
    SelfLiquidation,
    #[msg("The liquidation price is worse than the liquidator's limit")]
    LiquidationPriceLimit,
    #[msg("The account is not bankrupt: it has positions or no negative collateral")]
    NotBankrupt,
    #[msg("The loss is not attributed to this market")]
    WrongBankruptcyMarket,
    #[msg("No open positions on the side that would carry the loss")]
    NoPositionsToSocialize,
    #[msg("A bankruptcy in a market this account trades is unresolved: withdrawals wait")]
    BankruptcyUnresolved,
    #[msg("The series is still trading: its last-trade time has not passed")]
    StillTrading,
    #[msg("The series has not expired yet")]
    NotExpired,
    #[msg("The settlement price is already fixed")]
    SettlementPriceFixed,
    #[msg("The settlement price is not fixed yet")]
    SettlementPriceNotFixed,
    #[msg("The settlement window saw too few fresh index updates")]
    TooFewIndexUpdates,
    #[msg("The settlement window's index history is gone: use the fallback")]
    SettlementHistoryGone,
    #[msg("The fallback delay after expiry has not passed")]
    FallbackTooEarly,
    #[msg("The fallback price is too far from the last valid TWAP")]
    FallbackOutsideBand,
    #[msg("The account still has resting orders in this market: release_orders first")]
    OrdersNotReleased,
    #[msg("The market still has positions, orders, events, claims or funds")]
    MarketNotEmpty,
    #[msg("The series is not physically delivered")]
    NotPhysical,
    #[msg("Delivery opt-ins are taken between the last-trade time and the delivery cut-off")]
    OutsideDeliveryWindow,
    #[msg("The position already has a delivery record, or does not match it")]
    DeliveryRecorded,
    #[msg("Liquidation stops at the last-trade time: losses are settled at expiry")]
    PastLastTrade,
    #[msg("The account has no position in this market")]
    NoPosition,
    #[msg("The delivery token account is not the owner's account of the delivery mint")]
    WrongDeliveryAccount,
    #[msg("The TWAP can fix this settlement price: use fix_settlement_price")]
    TwapAvailable,
    #[msg("The series template does not match")]
    WrongSeriesTemplate,
}

impl From<cfx_risk::RiskError> for FuturesError {
    fn from(e: cfx_risk::RiskError) -> Self {
        match e {
            cfx_risk::RiskError::TooFewPublishers
            | cfx_risk::RiskError::StaleQuotes
            | cfx_risk::RiskError::ConfidenceTooWide
            | cfx_risk::RiskError::InsufficientHistory => FuturesError::StaleOracle,
            cfx_risk::RiskError::TooFewUpdates => FuturesError::TooFewIndexUpdates,
            _ => FuturesError::Overflow,
        }
    }
}

impl From<cfx_book::BookError> for FuturesError {
    fn from(e: cfx_book::BookError) -> Self {
        use cfx_book::BookError as B;
        match e {
            B::InvalidQuantity => FuturesError::InvalidQuantity,
            B::InvalidPrice => FuturesError::PriceOutsideBand,
            B::PostOnlyWouldCross => FuturesError::PostOnlyWouldCross,
            B::WouldNotFill => FuturesError::WouldNotFill,
            B::SelfTrade => FuturesError::SelfTrade,
            B::BookFull => FuturesError::BookFull,
            B::EventSinkFull | B::QueueFull => FuturesError::EventQueueFull,
            B::OrderNotFound | B::WrongOwner => FuturesError::OrderNotFound,
            _ => FuturesError::BookRejected,
        }
    }
}
