use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};
use cfx_book::{Book, EventQueue};
use cfx_risk::BPS;
use compute_token::create::Creator;
use compute_token::state::{ComputeClass, Window};

use crate::error::FuturesError;
use crate::events::MarketCreated;
use crate::state::book::{init_header, BOOK_DISCRIMINATOR, HEADER_LEN, QUEUE_DISCRIMINATOR};
use crate::state::create::create_zero_copy;
use crate::state::{Exchange, Market, MarketStatus, PriceIndex, MAX_PRICE_TICKS};

/// Widest band an admin fallback settlement price may have around its reference.
pub const MAX_FALLBACK_BAND_BPS: u64 = 1_000;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, InitSpace)]
pub struct MarketParams {
    pub name: [u8; 24],
    pub lot_size: u64,
    pub tick_value: u64,
    pub min_order_lots: u64,
    pub max_position_lots: u64,
    pub max_open_interest: u64,
    pub initial_margin_bps: u64,
    pub maintenance_margin_bps: u64,
    pub pnl_weight_bps: u64,
    pub price_band_bps: u64,
    pub ema_period: u64,
    pub ema_reference_lots: u64,
    pub mark_band_max_bps: u64,
    pub mark_band_min_bps: u64,
    pub mark_narrow_period: u64,
    pub last_trade_ts: i64,
    pub expiry_ts: i64,
    /// Liquidation: the rate it restores (maintenance ≤ this ≤ initial), the price concession
    /// of the liquidated account (below maintenance), the insurance fund's share of it, and the
    /// smallest remainder a liquidation leaves.
    pub liq_end_bps: u64,
    pub liq_penalty_bps: u64,
    pub liq_insurance_share_bps: u64,
    pub liq_dust_lots: u64,
    /// Most the insurance fund pays for this market's bankruptcies per `insurance_period`
    /// seconds; the rest is socialized.
    pub insurance_cap: u64,
    pub insurance_period: u64,
    /// Expiry: the settlement TWAP's window before `expiry_ts` (a multiple of the index's TWAP
    /// interval, within its ring), the fresh index updates it needs, the delay after expiry
    /// before the admin may post a fallback price, and that price's band around the last valid
    /// TWAP.
    pub settle_window: u64,
    pub settle_min_updates: u64,
    pub settle_fallback_delay: u64,
    pub settle_fallback_band_bps: u64,
    /// Physical delivery (with a delivery window): opt-ins close at this time (between the
    /// last-trade time and expiry); penalty per lot a short opted in and did not escrow, bps of
    /// its value.
    pub delivery_cutoff_ts: i64,
    pub delivery_penalty_bps: u64,
}

/// Admin opens a futures series on a class, priced by that class's index. The book and event-queue
/// accounts are created by the client beforehand (system `create_account`, owner = this program,
/// zeroed, any size): their size sets the book's capacity and the queue's.
#[derive(Accounts)]
#[instruction(params: MarketParams)]
pub struct CreateMarket<'info> {
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
    /// Delivery window for physically delivered series; must be of the same class.
    #[account(constraint = delivery_window.class == class.key() @ FuturesError::InvalidMarketParams)]
    pub delivery_window: Option<Box<Account<'info, Window>>>,
    /// The delivery window's mint (physically delivered series).
    #[account(address = delivery_window.as_ref().map(|w| w.mint).unwrap_or_default() @ FuturesError::InvalidMarketParams)]
    pub delivery_mint: Option<Box<InterfaceAccount<'info, Mint>>>,
    /// CHECK: created here as the exchange's token account of the delivery mint, at its seeds.
    #[account(mut, seeds = [Market::DELIVERY_VAULT_SEED, market.key().as_ref()], bump)]
    pub delivery_vault: Option<UncheckedAccount<'info>>,
    #[account(constraint = delivery_token_program.key() == *delivery_mint.as_ref().ok_or(FuturesError::InvalidMarketParams)?.to_account_info().owner @ FuturesError::InvalidMarketParams)]
    pub delivery_token_program: Option<Interface<'info, TokenInterface>>,
    /// CHECK: created here (`compute_token::create`), at its seeds.
    #[account(
        mut,
        seeds = [Market::SEED, exchange.key().as_ref(), class.key().as_ref(), &params.expiry_ts.to_le_bytes()],
        bump
    )]
    pub market: UncheckedAccount<'info>,
    /// CHECK: program-owned, zeroed; initialized here as the book.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: program-owned, zeroed; initialized here as the event queue.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount)]
    pub event_queue: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn validate(p: &MarketParams, now: i64, twap_interval: u64, physical: bool) -> Result<()> {
    let ring = twap_interval.saturating_mul(cfx_risk::twap::CHECKPOINTS as u64 - 1);
    require!(
        p.settle_window > 0
            && twap_interval > 0
            && p.settle_window.is_multiple_of(twap_interval)
            // The settlement window starts and ends on the index's TWAP grid.
            && p.expiry_ts > 0
            && (p.expiry_ts as u64).is_multiple_of(twap_interval)
            && p.settle_window <= ring
            && p.settle_window <= p.expiry_ts.max(0) as u64
            && p.settle_min_updates > 0
            // An emergency price stays within 10% of the reference.
            && p.settle_fallback_band_bps <= MAX_FALLBACK_BAND_BPS
            && p.settle_fallback_delay <= i64::MAX as u64
            && (!physical
                || (p.delivery_cutoff_ts >= p.last_trade_ts
                    && p.delivery_cutoff_ts <= p.expiry_ts
                    && p.delivery_penalty_bps <= BPS)),
        FuturesError::InvalidMarketParams
    );
    let margin = cfx_risk::margin::MarginParams {
        initial_bps: p.initial_margin_bps,
        maintenance_bps: p.maintenance_margin_bps,
        liq_end_bps: p.liq_end_bps,
        pnl_weight_bps: p.pnl_weight_bps,
    };
    let liquidation = cfx_risk::liquidation::LiquidationParams {
        penalty_bps: p.liq_penalty_bps,
        insurance_share_bps: p.liq_insurance_share_bps,
        dust_lots: p.liq_dust_lots,
    };
    require!(
        p.lot_size > 0
            && p.tick_value > 0
            && p.min_order_lots > 0
            && p.max_position_lots >= p.min_order_lots
            && p.max_open_interest >= p.max_position_lots
            && margin.validate().is_ok()
            && liquidation.validate(&margin).is_ok()
            && p.insurance_period > 0
            && p.price_band_bps > 0
            && p.ema_period > 0
            && p.ema_reference_lots > 0
            // A resting order filled at the edge of the band loses at most the band against the
            // mark: the initial margin charged on it must cover that and still leave maintenance.
            && p.price_band_bps.saturating_add(p.maintenance_margin_bps) <= p.initial_margin_bps
            && p.mark_band_min_bps <= p.mark_band_max_bps
            && p.mark_band_max_bps <= BPS
            && p.last_trade_ts > now
            && p.expiry_ts >= p.last_trade_ts
            // The largest position at the highest price an order may have stays within the i64
            // quote amounts of margin accounts (entry notional, collateral).
            && (p.max_position_lots as u128)
                .saturating_mul(p.tick_value as u128)
                .saturating_mul(MAX_PRICE_TICKS as u128)
                <= i64::MAX as u128,
        FuturesError::InvalidMarketParams
    );
    Ok(())
}

pub fn create_market(ctx: Context<CreateMarket>, params: MarketParams) -> Result<()> {
    let a = &ctx.accounts;
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
    )
}

/// The accounts a new market is opened on (`create_market`, `list_series`), checked by their
/// instruction's accounts struct.
pub struct OpenMarket<'a, 'info> {
    pub admin: &'a Signer<'info>,
    pub exchange: &'a AccountLoader<'info, Exchange>,
    pub class: &'a Account<'info, ComputeClass>,
    pub index: &'a AccountLoader<'info, PriceIndex>,
    pub delivery_window: Option<&'a Account<'info, Window>>,
    pub delivery_mint: Option<&'a InterfaceAccount<'info, Mint>>,
    pub delivery_vault: Option<&'a UncheckedAccount<'info>>,
    pub delivery_token_program: Option<&'a Interface<'info, TokenInterface>>,
    pub market: &'a UncheckedAccount<'info>,
    pub book: &'a UncheckedAccount<'info>,
    pub event_queue: &'a UncheckedAccount<'info>,
    pub system_program: &'a Program<'info, System>,
    pub market_bump: u8,
    pub delivery_vault_bump: Option<u8>,
}

/// Validates `params` and opens the market: book and queue initialized, delivery vault created
/// for a physically delivered series, the market account created at its seeds.
pub fn open_market(a: &OpenMarket, params: &MarketParams) -> Result<()> {
    let params = *params;
    let now = Clock::get()?.unix_timestamp;
    let physical = a.delivery_window.is_some();
    validate(&params, now, a.index.load()?.twap.interval, physical)?;
    require!(
        physical == a.delivery_mint.is_some()
            && physical == a.delivery_vault.is_some()
            && physical == a.delivery_token_program.is_some(),
        FuturesError::InvalidMarketParams
    );
    require_keys_neq!(
        a.book.key(),
        a.event_queue.key(),
        FuturesError::DuplicateAccount
    );
    let market_key = a.market.key();
    let (book_capacity, event_capacity) = {
        let mut data = a.book.try_borrow_mut_data()?;
        init_header(&mut data, &BOOK_DISCRIMINATOR, &market_key)?;
        let book =
            Book::init(&mut data[HEADER_LEN..]).map_err(|_| FuturesError::BookAccountTooSmall)?;
        let cap = book.bids.as_ref().capacity();
        let mut qdata = a.event_queue.try_borrow_mut_data()?;
        init_header(&mut qdata, &QUEUE_DISCRIMINATOR, &market_key)?;
        let queue = EventQueue::init(&mut qdata[HEADER_LEN..])
            .map_err(|_| FuturesError::BookAccountTooSmall)?;
        // A taker may need match limit + 1 slots; keep room for at least a modest order.
        require!(queue.capacity() > 16, FuturesError::BookAccountTooSmall);
        (cap as u32, queue.capacity() as u32)
    };
    let (exchange_key, class_key) = (a.exchange.key(), a.class.key());
    let creator = Creator {
        payer: &a.admin.to_account_info(),
        system_program: &a.system_program.to_account_info(),
    };
    let mut delivery_vault = Pubkey::default();
    if let (Some(mint), Some(vault), Some(program)) = (
        &a.delivery_mint,
        &a.delivery_vault,
        &a.delivery_token_program,
    ) {
        let bump = a
            .delivery_vault_bump
            .ok_or(FuturesError::InvalidMarketParams)?;
        creator.create_token_account(
            &vault.to_account_info(),
            &mint.to_account_info(),
            &a.exchange.to_account_info(),
            &program.to_account_info(),
            &[Market::DELIVERY_VAULT_SEED, market_key.as_ref(), &[bump]],
        )?;
        delivery_vault = vault.key();
    }
    let mut m = create_zero_copy::<Market>(
        &creator,
        a.market,
        &[
            Market::SEED,
            exchange_key.as_ref(),
            class_key.as_ref(),
            &params.expiry_ts.to_le_bytes(),
            &[a.market_bump],
        ],
    )?;
    m.exchange = exchange_key;
    m.index = a.index.key();
    m.class = class_key;
    m.delivery_mint = a
        .delivery_window
        .as_ref()
        .map(|w| w.mint)
        .unwrap_or_default();
    m.book = a.book.key();
    m.event_queue = a.event_queue.key();
    m.name = params.name;
    m.lot_size = params.lot_size;
    m.unit_scale = 10u64.pow(a.class.decimals as u32);
    m.tick_value = params.tick_value;
    m.min_order_lots = params.min_order_lots;
    m.max_position_lots = params.max_position_lots;
    m.max_open_interest = params.max_open_interest;
    m.initial_margin_bps = params.initial_margin_bps;
    m.maintenance_margin_bps = params.maintenance_margin_bps;
    m.pnl_weight_bps = params.pnl_weight_bps;
    m.price_band_bps = params.price_band_bps;
    m.ema_period = params.ema_period;
    m.ema_reference_lots = params.ema_reference_lots;
    m.mark_band_max_bps = params.mark_band_max_bps;
    m.mark_band_min_bps = params.mark_band_min_bps;
    m.mark_narrow_period = params.mark_narrow_period;
    m.expiry_ts = params.expiry_ts;
    m.last_trade_ts = params.last_trade_ts;
    m.liq_end_bps = params.liq_end_bps;
    m.liq_penalty_bps = params.liq_penalty_bps;
    m.liq_insurance_share_bps = params.liq_insurance_share_bps;
    m.liq_dust_lots = params.liq_dust_lots;
    m.insurance_cap = params.insurance_cap;
    m.insurance_period = params.insurance_period;
    m.insurance_period_start = now;
    m.settle_window = params.settle_window;
    m.settle_min_updates = params.settle_min_updates;
    m.settle_fallback_delay = params.settle_fallback_delay;
    m.settle_fallback_band_bps = params.settle_fallback_band_bps;
    if physical {
        m.delivery_cutoff_ts = params.delivery_cutoff_ts;
        m.delivery_penalty_bps = params.delivery_penalty_bps;
        m.delivery_vault = delivery_vault;
    }
    m.status = MarketStatus::Active as u8;
    m.bump = a.market_bump;
    crate::events::emit(&MarketCreated {
        market: market_key,
        class: m.class,
        index: m.index,
        expiry_ts: m.expiry_ts,
        book_capacity,
        event_capacity,
    });
    Ok(())
}
