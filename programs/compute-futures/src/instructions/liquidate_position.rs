use anchor_lang::prelude::*;
use cfx_risk::margin::HealthKind;

use crate::error::FuturesError;
use crate::events::PositionLiquidated;
use crate::health::{
    health_with, plan_liquidation, prices, HealthCache, LiquidationPlan, ViewRetriever,
};
use crate::instructions::consume_events::apply_queued_events;
use crate::keys::key_eq;
use crate::state::book::load_queue;
use crate::state::{Fill, MarginAccount, Market, PriceIndex};
use crate::view::views_of;

/// Anyone with a margin account of their own takes over part of a position of an account below
/// maintenance margin, at the penalty price (the mark moved against the liquidated account by the
/// market's penalty): the fewest lots that bring the account back to liquidation-end health, or
/// all of it when the rest would be dust, capped by `max_lots`. The liquidator pays the insurance
/// fund's share of the penalty and must meet initial margin afterwards.
///
/// The liquidated account must have no resting orders in this market (`liquidate_orders` first).
/// Its fills still in this market's event queue are applied first, so the crank neither hides
/// the account nor blocks its liquidation. Remaining accounts: the `(market, index)` of each
/// other position of the liquidated account, in slot order, then the same for the liquidator.
#[derive(Accounts)]
pub struct LiquidatePosition<'info> {
    pub liquidator: Signer<'info>,
    /// The liquidator's margin account (owner or delegate signs); takes the lots over.
    #[account(
        mut,
        constraint = liquidator_account.load()?.can_trade(&liquidator.key()) @ FuturesError::NotAuthorized,
    )]
    pub liquidator_account: AccountLoader<'info, MarginAccount>,
    #[account(mut)]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(mut, constraint = market.load()?.exchange == account.load()?.exchange @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = market.load()?.index @ FuturesError::WrongIndex)]
    pub index: AccountLoader<'info, PriceIndex>,
    /// CHECK: the market's event queue; owner, discriminator and market checked on load.
    #[account(mut, address = market.load()?.event_queue @ FuturesError::WrongBookAccount)]
    pub event_queue: UncheckedAccount<'info>,
}

pub fn liquidate_position<'info>(
    ctx: Context<'info, LiquidatePosition<'info>>,
    max_lots: u64,
    limit_price: u64,
) -> Result<()> {
    require!(max_lots > 0, FuturesError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let remaining = views_of(ctx.remaining_accounts, false)?;
    let a = &ctx.accounts;
    let (market_key, account_key, liquidator_key) =
        (a.market.key(), a.account.key(), a.liquidator_account.key());
    require_keys_neq!(account_key, liquidator_key, FuturesError::SelfLiquidation);
    let mut market = a.market.load_mut()?;
    // Positions are frozen from the last-trade time: what they lose after it is settled at
    // expiry (insurance, then the winners' payout, cover an account that cannot pay).
    require!(now < market.last_trade_ts, FuturesError::PastLastTrade);
    let prices = prices(&market, &*a.index.load()?, now)?;
    let mut acc = a.account.load_mut()?;
    let mut liq = a.liquidator_account.load_mut()?;
    require!(
        key_eq(&liq.exchange, &market.exchange),
        FuturesError::WrongExchange
    );
    require!(
        !key_eq(&liq.owner, &acc.owner),
        FuturesError::SelfLiquidation
    );
    // Events of this account the crank has not applied yet (its fills, its orders' outs):
    // applied now, so they neither hide the account nor keep an order slot alive.
    let (events_applied, owner_paid) = {
        require_keys_eq!(
            *a.event_queue.owner,
            crate::ID,
            FuturesError::WrongBookAccount
        );
        let mut data = a.event_queue.try_borrow_mut_data()?;
        let mut queue = load_queue(&mut data, &market_key)?;
        apply_queued_events(&mut acc, &account_key, &market_key, &mut market, &mut queue)?
    };
    // The crank rewards an expired order's owner paid: the liquidator did the crank's work.
    liq.credit(owner_paid as i128)?;
    let pos = acc
        .find_position(&market_key)
        .filter(|p| acc.positions[*p].base_lots != 0)
        .ok_or(FuturesError::NoPositionToLiquidate)?;
    require!(
        acc.positions[pos].orders == 0,
        FuturesError::LiquidateOrdersFirst
    );

    let (mut cache, consumed) = {
        let known = [(&market_key, &*market, prices)];
        let mut retriever = ViewRetriever::new(&known, &remaining, now);
        let cache = HealthCache::new_boxed(&acc, &mut retriever)?;
        (cache, retriever.consumed())
    };
    let entry = cache
        .entry_of(pos)
        .ok_or(FuturesError::NoPositionToLiquidate)?;
    let LiquidationPlan {
        long,
        price,
        lots,
        value,
        insurance,
        liquidator_share,
        maintenance_before,
    } = plan_liquidation(&cache, entry, &market, prices.mark, max_lots)?
        .ok_or(FuturesError::NotLiquidatable)?;
    // The liquidator buys a long (pays at most its limit) and sells a short (gets at least it).
    require!(
        if long {
            price <= limit_price
        } else {
            price >= limit_price
        },
        FuturesError::LiquidationPriceLimit
    );

    let fill = Fill {
        buy: !long,
        lots,
        value,
        charges: 0,
    };
    acc.trade(&account_key, pos, &mut market, fill)?;
    let lpos = liq.position_slot(&market_key)?;
    liq.trade(
        &liquidator_key,
        lpos,
        &mut market,
        Fill {
            buy: long,
            charges: insurance as i128,
            ..fill
        },
    )?;
    market.on_insurance_received(insurance)?;
    require!(
        liq.positions[lpos].base_lots.unsigned_abs() <= market.max_position_lots,
        FuturesError::PositionLimit
    );

    cache.refresh(&acc, pos, &market, prices);
    let maintenance_after = cache.health(HealthKind::Maintenance)?;
    // lib/risk guarantees it (the penalty is below the maintenance rate); kept as a backstop.
    require!(
        maintenance_after >= maintenance_before,
        FuturesError::NotLiquidatable
    );
    if cache.health(HealthKind::Equity)? < 0 && acc.debt_held == 0 {
        // Bankrupt: the loss belongs to this market, carried by the side opposite the
        // liquidated position if the insurance fund cannot pay it; withdrawals from this market
        // wait until it is resolved.
        acc.debt_held = 1;
        acc.debt_market = market_key;
        acc.debt_side = long as u8;
        market.bankruptcies_open = market
            .bankruptcies_open
            .checked_add(1)
            .ok_or(FuturesError::Overflow)?;
    }
    acc.release_if_idle(pos);
    let collateral_after = acc.collateral;
    drop(acc);

    let known = [(&market_key, &*market, prices)];
    let h = health_with(
        &liq,
        &mut ViewRetriever::new(&known, &remaining[consumed.min(remaining.len())..], now),
        HealthKind::Initial,
    )?;
    require!(h >= 0, FuturesError::InsufficientMargin);
    liq.release_if_idle(lpos);

    crate::events::emit(&PositionLiquidated {
        account: account_key,
        market: market_key,
        liquidator: liquidator_key,
        base_lots: if long { lots as i64 } else { -(lots as i64) },
        price,
        penalty: insurance.saturating_add(liquidator_share),
        insurance_share: insurance,
        events_applied,
        maintenance_before,
        maintenance_after,
        collateral_after,
    });
    Ok(())
}
