//! cfx risk math: pure, integer-only functions shared by the futures program and its keepers.
//!
//! Units: prices of a market are in ticks; a position is in lots (signed, long > 0); quote amounts
//! are native units of the collateral mint. `tick_value` is the quote value of one tick on one lot,
//! so `price × lots × tick_value` is a notional. Ratios are basis points (1/10,000). Every rounding
//! goes in the protocol's favour: requirements and fees up, credits and rebates down. Nothing here
//! divides a signed integer (the SBF target cannot), and nothing panics: overflow is an error.
#![cfg_attr(not(test), no_std)]

pub mod delivery;
pub mod fees;
pub mod liquidation;
pub mod margin;
pub mod mark;
pub mod math;
pub mod oracle;
pub mod position;
pub mod series;
pub mod settlement;
pub mod twap;

/// Why a risk computation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RiskError {
    /// An intermediate value left its integer range.
    Overflow,
    /// Fewer fresh quotes than the index requires.
    TooFewPublishers,
    /// Enough publishers exist, but too few of their quotes are fresh.
    StaleQuotes,
    /// The index confidence interval is wider than allowed.
    ConfidenceTooWide,
    /// A quote with a zero price, or a configuration that makes no sense.
    InvalidInput,
    /// The TWAP accumulator holds no history that far back.
    InsufficientHistory,
    /// A TWAP window saw fewer fresh index updates than required.
    TooFewUpdates,
}

impl core::fmt::Display for RiskError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RiskError::Overflow => "arithmetic overflow",
            RiskError::TooFewPublishers => "too few publishers have quoted",
            RiskError::StaleQuotes => "too few fresh quotes: the index is stale",
            RiskError::ConfidenceTooWide => "index confidence interval too wide",
            RiskError::InvalidInput => "invalid input",
            RiskError::InsufficientHistory => "no price history that far back",
            RiskError::TooFewUpdates => "too few fresh index updates in the window",
        })
    }
}

/// 100% in basis points.
pub const BPS: u64 = 10_000;
