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

    pub fn create_exchange(ctx: Context<CreateExchange>, fees: FeeSchedule) -> Result<()> {
        instructions::create_exchange(ctx, fees)
    }

    pub fn update_exchange(
        ctx: Context<UpdateExchange>,
        fees: Option<FeeSchedule>,
        paused: Option<bool>,
    ) -> Result<()> {
        instructions::update_exchange(ctx, fees, paused)
    }

    pub fn create_price_index(ctx: Context<CreatePriceIndex>, params: IndexParams) -> Result<()> {
        instructions::create_price_index(ctx, params)
    }

    pub fn update_price_index(ctx: Context<UpdatePriceIndex>, params: IndexParams) -> Result<()> {
        instructions::update_price_index(ctx, params)
    }

    pub fn publish_price(
        ctx: Context<PublishPrice>,
        price: u64,
        conf: u64,
        publish_time: i64,
    ) -> Result<()> {
        instructions::publish_price(ctx, price, conf, publish_time)
    }

    pub fn create_market(ctx: Context<CreateMarket>, params: MarketParams) -> Result<()> {
        instructions::create_market(ctx, params)
    }

    pub fn set_market_status(ctx: Context<SetMarketStatus>, status: u8) -> Result<()> {
        instructions::set_market_status(ctx, status)
    }

    pub fn create_margin_account(ctx: Context<CreateMarginAccount>, number: u16) -> Result<()> {
        instructions::create_margin_account(ctx, number)
    }

    pub fn close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
        instructions::close_margin_account(ctx)
    }

    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
        instructions::set_delegate(ctx, delegate)
    }

    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        instructions::deposit(ctx, amount)
    }

    pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
        instructions::withdraw(ctx, amount)
    }

    pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
        instructions::sweep_fees(ctx)
    }

    pub fn place_order<'info>(
        ctx: Context<'info, PlaceOrder<'info>>,
        args: OrderArgs,
    ) -> Result<()> {
        instructions::place_order(ctx, args)
    }

    pub fn cancel_order(ctx: Context<CancelOrder>, order_id: u128) -> Result<()> {
        instructions::cancel_order(ctx, order_id)
    }

    pub fn cancel_order_by_client_id(
        ctx: Context<CancelOrder>,
        client_order_id: u64,
    ) -> Result<()> {
        instructions::cancel_order_by_client_id(ctx, client_order_id)
    }

    pub fn cancel_all_orders(ctx: Context<CancelOrder>) -> Result<()> {
        instructions::cancel_all_orders(ctx)
    }

    pub fn cancel_all_and_place<'info>(
        ctx: Context<'info, PlaceOrder<'info>>,
        orders: Vec<OrderArgs>,
    ) -> Result<()> {
        instructions::cancel_all_and_place(ctx, orders)
    }

    pub fn consume_events<'info>(
        ctx: Context<'info, ConsumeEvents<'info>>,
        limit: u16,
    ) -> Result<()> {
        instructions::consume_events(ctx, limit)
    }
}
