use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};
use compute_token::state::{ComputeClass, Window};

use crate::error::FuturesError;
use crate::events::SeriesTemplateSet;
use crate::instructions::create_market::{open_market, validate, MarketParams, OpenMarket};
use crate::state::{Exchange, Market, PriceIndex, SeriesTemplate};

/// A series template's calendar, name and times relative to expiry, and market parameters.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct SeriesTemplateArgs {
    /// 1 weekly, 2 monthly (the month's last `weekday`).
    pub schedule: u8,
    /// 0 = Monday.
    pub weekday: u8,
    pub time_of_day: u32,
    pub name_prefix: [u8; 16],
    pub last_trade_before: u64,
    pub delivery_cutoff_before: u64,
    pub physical: bool,
    /// Name, last-trade, expiry and delivery cut-off times are set per listing and ignored here.
    pub params: MarketParams,
}

/// Admin stores template `id` of a class: how its series roll and the parameters each is listed
/// with. The parameters are checked as `create_market` checks them, for the first series.
#[derive(Accounts)]
#[instruction(id: u16)]
pub struct CreateSeriesTemplate<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    pub class: Box<Account<'info, ComputeClass>>,
    #[account(
        constraint = index.load()?.exchange == exchange.key() @ FuturesError::WrongIndex,
        constraint = index.load()?.class == class.key() @ FuturesError::WrongIndex,
    )]
    pub index: AccountLoader<'info, PriceIndex>,
    #[account(
        init,
        payer = admin,
        space = 8 + SeriesTemplate::INIT_SPACE,
        seeds = [SeriesTemplate::SEED, exchange.key().as_ref(), class.key().as_ref(), &id.to_le_bytes()],
        bump
    )]
    pub template: Box<Account<'info, SeriesTemplate>>,
    pub system_program: Program<'info, System>,
}

/// Admin lists the next series of a template: the market expiring at `expiry`, which must be
/// the template's upcoming expiry (`SeriesTemplate::upcoming_expiry`, which clients compute the
/// same way), with the template's parameters. Accounts as for `create_market`.
#[derive(Accounts)]
#[instruction(expiry: i64)]
pub struct ListSeries<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = class @ FuturesError::WrongSeriesTemplate,
        has_one = index @ FuturesError::WrongSeriesTemplate,
        constraint = template.exchange == exchange.key() @ FuturesError::WrongSeriesTemplate,
    )]
    pub template: Box<Account<'info, SeriesTemplate>>,
    pub class: Box<Account<'info, ComputeClass>>,
    pub index: AccountLoader<'info, PriceIndex>,
    /// Delivery window of this series (physical templates); of the same class.
    #[account(constraint = delivery_window.class == class.key() @ FuturesError::InvalidMarketParams)]
    pub delivery_window: Option<Box<Account<'info, Window>>>,
    #[account(address = delivery_window.as_ref().map(|w| w.mint).unwrap_or_default() @ FuturesError::InvalidMarketParams)]
    pub delivery_mint: Option<Box<InterfaceAccount<'info, Mint>>>,
    /// CHECK: created by `open_market` as the exchange's token account of the delivery mint.
    #[account(mut, seeds = [Market::DELIVERY_VAULT_SEED, market.key().as_ref()], bump)]
    pub delivery_vault: Option<UncheckedAccount<'info>>,
    #[account(constraint = delivery_token_program.key() == *delivery_mint.as_ref().ok_or(FuturesError::InvalidMarketParams)?.to_account_info().owner @ FuturesError::InvalidMarketParams)]
    pub delivery_token_program: Option<Interface<'info, TokenInterface>>,
    /// CHECK: created by `open_market`, at its seeds.
    #[account(
        mut,
        seeds = [Market::SEED, exchange.key().as_ref(), class.key().as_ref(), &expiry.to_le_bytes()],
        bump
    )]
    pub market: UncheckedAccount<'info>,
    /// CHECK: program-owned, zeroed; initialized as the book.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: program-owned, zeroed; initialized as the event queue.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount)]
    pub event_queue: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn create_series_template(
    mut ctx: Context<CreateSeriesTemplate>,
    id: u16,
    args: SeriesTemplateArgs,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &mut ctx.accounts;
    let interval = a.index.load()?.twap.interval;
    let t = &mut a.template;
    t.exchange = a.exchange.key();
    t.class = a.class.key();
    t.index = a.index.key();
    t.id = id;
    t.bump = ctx.bumps.template;
    t.schedule = args.schedule;
    t.weekday = args.weekday;
    t.time_of_day = args.time_of_day;
    t.physical = args.physical;
    t.name_prefix = args.name_prefix;
    t.last_trade_before = args.last_trade_before;
    t.delivery_cutoff_before = args.delivery_cutoff_before;
    t.params = args.params;
    t.next_expiry = 0;
    let first = t.upcoming_expiry(now)?;
    validate(&t.params_for(first)?, now, interval, t.physical)?;
    t.next_expiry = first;
    crate::events::emit(&SeriesTemplateSet {
        template: t.key(),
        class: t.class,
        period: t.schedule as u64,
        next_expiry: first,
    });
    Ok(())
}

pub fn list_series(ctx: Context<ListSeries>, expiry: i64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let t = &a.template;
    require!(
        expiry == t.upcoming_expiry(now)? && t.physical == a.delivery_window.is_some(),
        FuturesError::WrongSeriesTemplate
    );
    let params = t.params_for(expiry)?;
    let next = t
        .schedule()?
        .next_expiry(expiry)
        .map_err(|_| error!(FuturesError::WrongSeriesTemplate))?;
    open_market(
        &OpenMarket {
            admin: &a.admin,
            exchange: &a.exchange,
            class: &a.class,
            index: &a.index,
            delivery_window: a.delivery_window.as_deref(),
            delivery_mint: a.delivery_mint.as_deref(),
            delivery_vault: a.delivery_vault.as_ref(),
            delivery_token_program: a.delivery_token_program.as_ref(),
            market: &a.market,
            book: &a.book,
            event_queue: &a.event_queue,
            system_program: &a.system_program,
            market_bump: ctx.bumps.market,
            delivery_vault_bump: ctx.bumps.delivery_vault,
        },
        &params,
    )?;
    let t = &mut ctx.accounts.template;
    t.next_expiry = next;
    t.listed += 1;
    Ok(())
}
