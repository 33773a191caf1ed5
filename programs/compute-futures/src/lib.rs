//! compute-futures: dated futures on compute classes.
//!
//! An exchange holds one collateral mint; a price index per compute class aggregates authorized
//! publishers; each market is one futures series traded on a lib/book crit-bit book, margined from
//! margin accounts with lib/risk, and its makers are credited by a permissionless crank.
//! See docs/ARCHITECTURE.md and docs/compute-futures.md.

use anchor_lang::prelude::*;

#[cfg(feature = "upstream-sbf")]
use solana_compiler_builtins as _;

pub mod entrypoint;
pub mod error;
pub mod events;
pub mod health;
pub mod instructions;
pub mod keys;
pub mod state;
pub mod view;

pub use entrypoint::process_instruction;

/// Logs a label and the compute units left (feature `cu-probes`, for profiling the SBF build;
/// nothing otherwise).
#[macro_export]
macro_rules! probe {
    ($label:literal) => {
        #[cfg(all(feature = "cu-probes", target_os = "solana"))]
        {
            anchor_lang::prelude::msg!($label);
            unsafe {
                anchor_lang::compat::solana_define_syscall::definitions::sol_log_compute_units_()
            };
        }
    };
}
use instructions::*;

declare_id!("GR94sxjfjHPCKPwvRSZAaQA7WYs7wEPQzYTbMSBCBrZS");

#[program]
pub mod compute_futures {
    use super::*;

    /// Admin creates an exchange for one collateral mint, with its collateral, fee and insurance
    /// vaults and fee schedule.
    pub fn create_exchange(ctx: Context<CreateExchange>, fees: FeeSchedule) -> Result<()> {
        instructions::create_exchange(ctx, fees)
    }

    /// Admin changes the fee schedule and/or pauses the exchange (no orders, deposits or
    /// withdrawals; cancels and the crank go on).
    pub fn update_exchange(
        ctx: Context<UpdateExchange>,
        fees: Option<FeeSchedule>,
        paused: Option<bool>,
    ) -> Result<()> {
        instructions::update_exchange(ctx, fees, paused)
    }

    /// Admin creates a compute class's price index: publishers, freshness and confidence limits,
    /// TWAP grid.
    pub fn create_price_index(ctx: Context<CreatePriceIndex>, params: IndexParams) -> Result<()> {
        instructions::create_price_index(ctx, params)
    }

    /// Admin replaces an index's publishers and limits; the index is stale until they quote.
    pub fn update_price_index(ctx: Context<UpdatePriceIndex>, params: IndexParams) -> Result<()> {
        instructions::update_price_index(ctx, params)
    }

    /// A publisher posts a quote; the index becomes the median of the fresh quotes when enough
    /// agree within the confidence limit.
    pub fn publish_price(
        ctx: Context<PublishPrice>,
        price: u64,
        conf: u64,
        publish_time: i64,
    ) -> Result<()> {
        instructions::publish_price(ctx, price, conf, publish_time)
    }

    /// Admin lists a futures series on a class, on client-created book and event-queue accounts.
    pub fn create_market(ctx: Context<CreateMarket>, params: MarketParams) -> Result<()> {
        instructions::create_market(ctx, params)
    }

    /// Admin stores a series template of a class: weekly or monthly expiries, the name, the
    /// last-trade and delivery cut-off times before expiry, and the market parameters.
    pub fn create_series_template(
        ctx: Context<CreateSeriesTemplate>,
        id: u16,
        args: SeriesTemplateArgs,
    ) -> Result<()> {
        instructions::create_series_template(ctx, id, args)
    }

    /// Admin lists a template's next series (expiring at `expiry`, the template's upcoming
    /// expiry), on client-created book and event-queue accounts as for `create_market`.
    pub fn list_series(ctx: Context<ListSeries>, expiry: i64) -> Result<()> {
        instructions::list_series(ctx, expiry)
    }

    /// Admin switches a series between active and close-only (emergencies).
    pub fn set_market_status(ctx: Context<SetMarketStatus>, status: u8) -> Result<()> {
        instructions::set_market_status(ctx, status)
    }

    /// A trader opens margin account `number` on the exchange.
    pub fn create_margin_account(ctx: Context<CreateMarginAccount>, number: u16) -> Result<()> {
        instructions::create_margin_account(ctx, number)
    }

    /// The owner closes an empty margin account and takes back its rent.
    pub fn close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
        instructions::close_margin_account(ctx)
    }

    /// The owner sets (or clears) a delegate that may trade but never withdraw.
    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
        instructions::set_delegate(ctx, delegate)
    }

    /// Anyone deposits collateral into a margin account.
    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        instructions::deposit(ctx, amount)
    }

    /// The owner withdraws collateral the account's margin does not need. Remaining accounts:
    /// (market, index) of each position.
    pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
        instructions::withdraw(ctx, amount)
    }

    /// Anyone reads a margin account's health of every kind, as the program computes it (the
    /// instruction's return data). Remaining accounts: (market, index) of each position.
    pub fn compute_health<'info>(
        ctx: Context<'info, ComputeHealth<'info>>,
    ) -> Result<HealthReport> {
        instructions::compute_health(ctx)
    }

    /// Anyone cancels, in one market, the resting orders of an account below maintenance margin
    /// (the first step of its liquidation). Remaining accounts: (market, index) of each other
    /// position.
    pub fn liquidate_orders<'info>(ctx: Context<'info, LiquidateOrders<'info>>) -> Result<()> {
        instructions::liquidate_orders(ctx)
    }

    /// Anyone with a margin account takes over lots of a position of an account below
    /// maintenance at the penalty price, at most `max_lots` and no worse than `limit_price`
    /// (ticks). Remaining accounts: (market, index) of the liquidated account's other
    /// positions, then of the liquidator's.
    pub fn liquidate_position<'info>(
        ctx: Context<'info, LiquidatePosition<'info>>,
        max_lots: u64,
        limit_price: u64,
    ) -> Result<()> {
        instructions::liquidate_position(ctx, max_lots, limit_price)
    }

    /// Anyone makes a bankrupt account (no positions, negative collateral) whole from the
    /// insurance fund up to the market's cap, socializing the rest over the opposite side; or
    /// lifts the withdrawal hold of one whose equity is back at zero or above (remaining
    /// accounts: (market, index) of each of its positions).
    pub fn resolve_bankruptcy<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
        instructions::resolve_bankruptcy(ctx)
    }

    /// Anyone moves one market's insurance receipts to the insurance vault.
    pub fn sweep_insurance(ctx: Context<SweepInsurance>) -> Result<()> {
        instructions::sweep_insurance(ctx)
    }

    /// Anyone adds collateral to the insurance fund.
    pub fn deposit_insurance(ctx: Context<DepositInsurance>, amount: u64) -> Result<()> {
        instructions::deposit_insurance(ctx, amount)
    }

    /// Admin withdraws from the insurance fund what lies above its floor.
    pub fn withdraw_insurance(ctx: Context<WithdrawInsurance>, amount: u64) -> Result<()> {
        instructions::withdraw_insurance(ctx, amount)
    }

    /// Admin sets the insurance fund's floor.
    pub fn set_insurance_floor(ctx: Context<SetInsuranceFloor>, floor: u64) -> Result<()> {
        instructions::set_insurance_floor(ctx, floor)
    }

    /// Admin moves one market's accrued fees to the fee vault.
    pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
        instructions::sweep_fees(ctx)
    }

    /// Anyone takes up to `limit` resting orders off the book of a series past its last-trade
    /// time, freeing their reservations (remaining accounts: the owners' margin accounts; orders
    /// of owners not passed are queued for the crank).
    pub fn release_orders<'info>(
        ctx: Context<'info, ReleaseOrders<'info>>,
        limit: u16,
    ) -> Result<()> {
        instructions::release_orders(ctx, limit)
    }

    /// Anyone fixes an expired series' settlement price, once, as the index TWAP over its
    /// settlement window; refused with too few fresh index updates in it.
    pub fn fix_settlement_price(ctx: Context<FixSettlementPrice>) -> Result<()> {
        instructions::fix_settlement_price(ctx)
    }

    /// Admin posts the settlement price of an expired series the TWAP cannot fix, after the
    /// fallback delay and within the band of the last valid TWAP.
    pub fn post_settlement_price(ctx: Context<PostSettlementPrice>, price: u64) -> Result<()> {
        instructions::post_settlement_price(ctx, price)
    }

    /// Anyone settles the positions of the margin accounts passed at the settlement price,
    /// once each, with physical delivery where opted in, and pays settled winners once the
    /// market is fully settled. Remaining accounts: margin accounts (each followed by its
    /// owner's delivery-mint token account on a physically delivered series).
    pub fn settle_positions<'info>(ctx: Context<'info, SettlePositions<'info>>) -> Result<()> {
        instructions::settle_positions(ctx)
    }

    /// The owner opts `lots` of a position in a physically delivered series into delivery
    /// (a long reserves the cash to pay). Remaining accounts: (market, index) of each position.
    pub fn opt_in_delivery<'info>(
        ctx: Context<'info, OptInDelivery<'info>>,
        lots: u64,
    ) -> Result<()> {
        instructions::opt_in_delivery(ctx, lots)
    }

    /// A short that opted in escrows the compute tokens of its opted-in lots.
    pub fn escrow_delivery(ctx: Context<EscrowDelivery>) -> Result<()> {
        instructions::escrow_delivery(ctx)
    }

    /// Admin closes a fully settled, empty market and takes back the rent of its accounts.
    pub fn close_market(ctx: Context<CloseMarket>) -> Result<()> {
        instructions::close_market(ctx)
    }

    /// Owner or delegate places an order (fast path). Remaining accounts: (market, index) of
    /// every other position, for the margin check.
    pub fn place_order<'info>(
        ctx: Context<'info, PlaceOrder<'info>>,
        args: OrderArgs,
    ) -> Result<()> {
        instructions::place_order(ctx, args)
    }

    /// Owner or delegate cancels one resting order by id (fast path).
    pub fn cancel_order(ctx: Context<CancelOrder>, order_id: u128) -> Result<()> {
        instructions::cancel_order(ctx, order_id)
    }

    /// Owner or delegate cancels one resting order by client order id (fast path).
    pub fn cancel_order_by_client_id(
        ctx: Context<CancelOrder>,
        client_order_id: u64,
    ) -> Result<()> {
        instructions::cancel_order_by_client_id(ctx, client_order_id)
    }

    /// Owner or delegate cancels all its resting orders in one market (fast path).
    pub fn cancel_all_orders(ctx: Context<CancelOrder>) -> Result<()> {
        instructions::cancel_all_orders(ctx)
    }

    /// Owner or delegate cancels all its orders in a market and places up to 8 new ones, with
    /// one margin check (fast path).
    pub fn cancel_all_and_place<'info>(
        ctx: Context<'info, PlaceOrder<'info>>,
        orders: Vec<OrderArgs>,
    ) -> Result<()> {
        instructions::cancel_all_and_place(ctx, orders)
    }

    /// Anyone applies queued events to makers' accounts and is paid the crank reward (fast
    /// path). Remaining accounts: the makers' margin accounts.
    pub fn consume_events<'info>(
        ctx: Context<'info, ConsumeEvents<'info>>,
        limit: u16,
    ) -> Result<()> {
        instructions::consume_events(ctx, limit)
    }
}
