use anchor_lang::prelude::*;

use crate::error::FuturesError;
use crate::events::MarketStatusChanged;
use crate::state::{Exchange, Market, MarketStatus};

/// Admin moves a market between active and close-only. Expiry and settlement are time-driven and
/// belong to the settlement instructions; they cannot be set here.
#[derive(Accounts)]
pub struct SetMarketStatus<'info> {
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
}

pub fn set_market_status(ctx: Context<SetMarketStatus>, status: u8) -> Result<()> {
    let new = MarketStatus::from_u8(status).ok_or(FuturesError::InvalidMarketParams)?;
    let mut m = ctx.accounts.market.load_mut()?;
    let current = m.status();
    require!(
        matches!(current, MarketStatus::Active | MarketStatus::CloseOnly)
            && matches!(new, MarketStatus::Active | MarketStatus::CloseOnly),
        FuturesError::MarketClosed
    );
    m.status = new as u8;
    crate::events::emit(&MarketStatusChanged {
        market: ctx.accounts.market.key(),
        status,
    });
    Ok(())
}
