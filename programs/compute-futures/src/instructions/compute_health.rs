use anchor_lang::prelude::*;
use cfx_risk::margin::HealthKind;

use crate::health::{HealthCache, ViewRetriever};
use crate::state::MarginAccount;
use crate::view::views_of;

/// Reads a margin account's health as the program computes it. Remaining accounts: the
/// `(market, index)` of each position, in slot order (as for `withdraw`).
#[derive(Accounts)]
pub struct ComputeHealth<'info> {
    pub account: AccountLoader<'info, MarginAccount>,
}

/// An account's health of every kind, in quote native units: it meets a kind when that figure is
/// ≥ 0 (maintenance < 0: liquidatable; equity < 0: bad debt).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthReport {
    pub initial: i128,
    pub withdraw: i128,
    pub maintenance: i128,
    /// What a liquidation restores to zero (maintenance at the liquidation-end rate).
    pub liquidation_end: i128,
    pub equity: i128,
}

impl HealthReport {
    pub fn of(cache: &HealthCache) -> Result<Self> {
        Ok(HealthReport {
            initial: cache.health(HealthKind::Initial)?,
            withdraw: cache.health(HealthKind::Withdraw)?,
            maintenance: cache.health(HealthKind::Maintenance)?,
            liquidation_end: cache.health(HealthKind::LiquidationEnd)?,
            equity: cache.health(HealthKind::Equity)?,
        })
    }
}

pub fn compute_health<'info>(ctx: Context<'info, ComputeHealth<'info>>) -> Result<HealthReport> {
    let now = Clock::get()?.unix_timestamp;
    let remaining = views_of(ctx.remaining_accounts, false)?;
    let acc = ctx.accounts.account.load()?;
    let cache = HealthCache::new(&acc, &mut ViewRetriever::new(&[], &remaining, now))?;
    let report = HealthReport::of(&cache)?;
    // Anchor sets the return value through `solana_cpi`, which does nothing off the SBF target;
    // natively (solana-program-test's processors) it goes through the syscall stubs instead.
    #[cfg(not(target_os = "solana"))]
    {
        let mut data = Vec::with_capacity(80);
        report.serialize(&mut data)?;
        anchor_lang::compat::solana_sysvar::program_stubs::sol_set_return_data(&data);
    }
    Ok(report)
}
