use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    transfer_checked, Mint, TokenAccount, TokenInterface, TransferChecked,
};
use cfx_risk::margin::HealthKind;
use cfx_risk::settlement::{delivery_reserve, penalty_reserve, DeliveryTotals};

use crate::error::FuturesError;
use crate::events::DeliveryRecorded;
use crate::health::{health_with, prices, ViewRetriever};
use crate::state::{
    Exchange, MarginAccount, Market, PriceIndex, DELIVERY_ESCROWED, DELIVERY_LONG, DELIVERY_NONE,
    DELIVERY_SHORT,
};
use crate::view::views_of;

impl Market {
    pub fn delivery_totals(&self) -> DeliveryTotals {
        DeliveryTotals {
            long_opted: self.delivery_long_opted,
            short_opted: self.delivery_short_opted,
            short_escrowed: self.delivery_short_escrowed,
        }
    }

    /// Opt-ins and escrow are taken once trading has stopped (positions no longer change) and
    /// before the delivery cut-off.
    fn check_delivery_window(&self, now: i64) -> Result<()> {
        require!(
            self.delivery_mint != Pubkey::default(),
            FuturesError::NotPhysical
        );
        require!(
            now >= self.last_trade_ts && now < self.delivery_cutoff_ts && !self.is_settled(),
            FuturesError::OutsideDeliveryWindow
        );
        Ok(())
    }
}

/// The owner of a position in a physically delivered series opts `lots` of it into delivery,
/// between the last-trade time and the delivery cut-off, once per position, with nothing of it
/// resting or waiting for the crank. A long reserves, out of its collateral, the lots' value at
/// today's index plus the price band; a short reserves the penalty on that value, then escrows the
/// tokens (`escrow_delivery`) or pays the penalty for every lot it opted in and did not escrow.
/// Either must still meet initial margin. Remaining accounts: `(market, index)` of each
/// position, in slot order (as for `withdraw`).
#[derive(Accounts)]
pub struct OptInDelivery<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ FuturesError::NotOwner)]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(mut, constraint = market.load()?.exchange == account.load()?.exchange @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = market.load()?.index @ FuturesError::WrongIndex)]
    pub index: AccountLoader<'info, PriceIndex>,
}

/// A short that opted in escrows the compute tokens of all the lots it opted in, before the
/// delivery cut-off. Escrow stays in the market's delivery vault until settlement: delivered to
/// longs, or returned when the longs took less.
#[derive(Accounts)]
pub struct EscrowDelivery<'info> {
    pub owner: Signer<'info>,
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = owner @ FuturesError::NotOwner,
        constraint = account.load()?.exchange == exchange.key() @ FuturesError::WrongExchange,
    )]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(mut, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = market.load()?.delivery_mint @ FuturesError::NotPhysical)]
    pub delivery_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = market.load()?.delivery_vault @ FuturesError::NotPhysical)]
    pub delivery_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = delivery_mint, token::authority = owner, token::token_program = token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn opt_in_delivery<'info>(ctx: Context<'info, OptInDelivery<'info>>, lots: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let market_key = a.market.key();
    require!(lots > 0, FuturesError::InvalidQuantity);
    let (start, reserve_per, long) = {
        let m = a.market.load()?;
        m.check_delivery_window(now)?;
        let acc = a.account.load()?;
        let pos = acc
            .find_position(&market_key)
            .ok_or(FuturesError::NoPosition)?;
        let slot = &acc.positions[pos];
        require!(
            slot.delivery == DELIVERY_NONE,
            FuturesError::DeliveryRecorded
        );
        // Nothing resting and no fill of its own waiting for the crank: the position is final.
        require!(
            slot.orders == 0 && slot.bid_lots == 0 && slot.ask_lots == 0,
            FuturesError::OrdersNotReleased
        );
        require!(
            slot.base_lots.unsigned_abs() >= lots,
            FuturesError::InvalidQuantity
        );
        let long = slot.base_lots > 0;
        let index = prices(&m, &*a.index.load()?, now)?.index;
        // A long reserves the price of the tokens; a short, the penalty it would owe for not
        // delivering them.
        let reserve = if long {
            delivery_reserve(lots, index, m.tick_value, m.price_band_bps)
        } else {
            penalty_reserve(
                lots,
                index,
                m.tick_value,
                m.price_band_bps,
                m.delivery_penalty_bps,
            )
        }
        .map_err(FuturesError::from)?;
        let start = if long { m.delivery_long_opted } else { 0 };
        (start, reserve, long)
    };
    let remaining = views_of(ctx.remaining_accounts, false)?;
    {
        let mut acc = a.account.load_mut()?;
        let pos = acc.find_position(&market_key).unwrap_or_default();
        acc.credit(-(reserve_per as i128))?;
        let slot = &mut acc.positions[pos];
        slot.delivery = if long { DELIVERY_LONG } else { DELIVERY_SHORT };
        slot.delivery_lots = lots;
        slot.delivery_start = start;
        slot.delivery_reserve = reserve_per;
        require!(acc.collateral >= 0, FuturesError::InsufficientMargin);
        let h = health_with(
            &acc,
            &mut ViewRetriever::new(&[], &remaining, now),
            HealthKind::Initial,
        )?;
        require!(h >= 0, FuturesError::InsufficientMargin);
    }
    let mut m = a.market.load_mut()?;
    m.delivery_open = m
        .delivery_open
        .checked_add(1)
        .ok_or(FuturesError::Overflow)?;
    m.delivery_reserved = m
        .delivery_reserved
        .checked_add(reserve_per)
        .ok_or(FuturesError::Overflow)?;
    if long {
        m.delivery_long_opted = m
            .delivery_long_opted
            .checked_add(lots)
            .ok_or(FuturesError::Overflow)?;
    } else {
        m.delivery_short_opted = m
            .delivery_short_opted
            .checked_add(lots)
            .ok_or(FuturesError::Overflow)?;
    }
    crate::events::emit(&DeliveryRecorded {
        market: market_key,
        account: a.account.key(),
        kind: if long { DELIVERY_LONG } else { DELIVERY_SHORT },
        lots,
        start,
        amount: reserve_per,
    });
    Ok(())
}

pub fn escrow_delivery(ctx: Context<EscrowDelivery>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let market_key = a.market.key();
    let mut m = a.market.load_mut()?;
    m.check_delivery_window(now)?;
    let mut acc = a.account.load_mut()?;
    let pos = acc
        .find_position(&market_key)
        .ok_or(FuturesError::NoPosition)?;
    let slot = &mut acc.positions[pos];
    require!(
        slot.delivery == DELIVERY_SHORT,
        FuturesError::DeliveryRecorded
    );
    let lots = slot.delivery_lots;
    let amount = lots.checked_mul(m.lot_size).ok_or(FuturesError::Overflow)?;
    slot.delivery = DELIVERY_ESCROWED;
    slot.delivery_start = m.delivery_short_escrowed;
    m.delivery_short_escrowed = m
        .delivery_short_escrowed
        .checked_add(lots)
        .ok_or(FuturesError::Overflow)?;
    let start = slot.delivery_start;
    drop(acc);
    drop(m);
    transfer_checked(
        CpiContext::new(
            a.token_program.key(),
            TransferChecked {
                from: a.source.to_account_info(),
                mint: a.delivery_mint.to_account_info(),
                to: a.delivery_vault.to_account_info(),
                authority: a.owner.to_account_info(),
            },
        ),
        amount,
        a.delivery_mint.decimals,
    )?;
    crate::events::emit(&DeliveryRecorded {
        market: market_key,
        account: a.account.key(),
        kind: DELIVERY_ESCROWED,
        lots,
        start,
        amount,
    });
    Ok(())
}
