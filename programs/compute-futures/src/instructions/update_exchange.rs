use anchor_lang::prelude::*;

use crate::error::FuturesError;
use crate::events::ExchangeUpdated;
use crate::instructions::FeeSchedule;
use crate::state::Exchange;

/// Admin changes the fee schedule and the pause switch.
#[derive(Accounts)]
pub struct UpdateExchange<'info> {
    pub admin: Signer<'info>,
    #[account(mut, constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
}

pub fn update_exchange(
    ctx: Context<UpdateExchange>,
    fees: Option<FeeSchedule>,
    paused: Option<bool>,
) -> Result<()> {
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    if let Some(f) = fees {
        f.validate()?;
        exchange.taker_fee_bps = f.taker_fee_bps;
        exchange.maker_fee_bps = f.maker_fee_bps;
        exchange.crank_reward = f.crank_reward;
    }
    if let Some(p) = paused {
        exchange.paused = p as u8;
    }
    crate::events::emit(&ExchangeUpdated {
        exchange: ctx.accounts.exchange.key(),
        taker_fee_bps: exchange.taker_fee_bps,
        maker_fee_bps: exchange.maker_fee_bps,
        crank_reward: exchange.crank_reward,
        paused: exchange.is_paused(),
    });
    Ok(())
}
