//! Instruction builders for compute-futures, from the program's own account structs and
//! instruction data (so a layout change is a compile error here, not a silent mismatch).
//! Accounts the programs take as remaining accounts are explicit arguments: the `(market, index)`
//! pairs of a margin account's positions for its health (`health`), makers for the crank,
//! margin accounts for settlement.

use anchor_lang::solana_program::system_instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use compute_futures::{
    accounts as acc, instruction as ins,
    instructions::{FeeSchedule, IndexParams, MarketParams, OrderArgs, SeriesTemplateArgs},
    state::{book::HEADER_LEN, Exchange, Market},
};
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    rent::Rent,
};

use crate::pda;

pub use compute_futures::instructions::{OrderKind, OrderSide, SelfTradeMode};

/// Order arguments with the usual defaults: good till cancelled, not reduce-only, decrement-take
/// self-trade prevention, up to 16 makers matched.
pub fn order(side: OrderSide, order_type: OrderKind, price: u64, lots: u64) -> OrderArgs {
    OrderArgs {
        side,
        order_type,
        price,
        lots,
        client_order_id: 0,
        time_in_force: 0,
        reduce_only: false,
        self_trade: SelfTradeMode::DecrementTake,
        match_limit: 16,
    }
}

const SYSTEM: Pubkey = anchor_lang::system_program::ID;

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: compute_futures::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Appends read-only remaining accounts.
fn with_readonly(mut i: Instruction, keys: impl IntoIterator<Item = Pubkey>) -> Instruction {
    i.accounts.extend(
        keys.into_iter()
            .map(|k| AccountMeta::new_readonly(k, false)),
    );
    i
}

/// Appends writable remaining accounts.
fn with_writable(mut i: Instruction, keys: impl IntoIterator<Item = Pubkey>) -> Instruction {
    i.accounts
        .extend(keys.into_iter().map(|k| AccountMeta::new(k, false)));
    i
}

/// `(market, index)` pairs, flattened, as health checks take them.
fn health_metas(i: Instruction, health: &[(Pubkey, Pubkey)]) -> Instruction {
    with_readonly(i, health.iter().flat_map(|(m, x)| [*m, *x]))
}

/// An exchange's fixed accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExchangeKeys {
    pub exchange: Pubkey,
    pub collateral_mint: Pubkey,
    pub token_program: Pubkey,
    pub vault: Pubkey,
    pub fee_vault: Pubkey,
    pub insurance_vault: Pubkey,
}

impl ExchangeKeys {
    /// The accounts of the exchange of `collateral_mint` (a mint of `token_program`).
    pub fn derive(collateral_mint: &Pubkey, token_program: &Pubkey) -> Self {
        let exchange = pda::exchange(collateral_mint);
        ExchangeKeys {
            exchange,
            collateral_mint: *collateral_mint,
            token_program: *token_program,
            vault: pda::collateral_vault(&exchange),
            fee_vault: pda::fee_vault(&exchange),
            insurance_vault: pda::insurance_vault(&exchange),
        }
    }

    pub fn of(key: &Pubkey, e: &Exchange) -> Self {
        ExchangeKeys {
            exchange: *key,
            collateral_mint: e.collateral_mint,
            token_program: e.collateral_token_program,
            vault: e.collateral_vault,
            fee_vault: e.fee_vault,
            insurance_vault: e.insurance_vault,
        }
    }
}

/// A physically delivered series' delivery accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryKeys {
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub token_program: Pubkey,
}

/// A market's accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketKeys {
    pub market: Pubkey,
    pub index: Pubkey,
    pub book: Pubkey,
    pub event_queue: Pubkey,
    pub delivery: Option<DeliveryKeys>,
}

impl MarketKeys {
    pub fn of(key: &Pubkey, m: &Market) -> Self {
        MarketKeys {
            market: *key,
            index: m.index,
            book: m.book,
            event_queue: m.event_queue,
            delivery: (m.delivery_mint != Pubkey::default()).then_some(DeliveryKeys {
                mint: m.delivery_mint,
                vault: m.delivery_vault,
                // compute-token's window mints are Token-2022 mints.
                token_program: anchor_spl::token_2022::ID,
            }),
        }
    }
}

pub fn create_exchange(admin: &Pubkey, e: &ExchangeKeys, fees: FeeSchedule) -> Instruction {
    ix(
        acc::CreateExchange {
            admin: *admin,
            collateral_mint: e.collateral_mint,
            exchange: e.exchange,
            collateral_vault: e.vault,
            fee_vault: e.fee_vault,
            insurance_vault: e.insurance_vault,
            token_program: e.token_program,
            system_program: SYSTEM,
        },
        ins::CreateExchange { fees },
    )
}

pub fn update_exchange(
    admin: &Pubkey,
    exchange: &Pubkey,
    fees: Option<FeeSchedule>,
    paused: Option<bool>,
) -> Instruction {
    ix(
        acc::UpdateExchange {
            admin: *admin,
            exchange: *exchange,
        },
        ins::UpdateExchange { fees, paused },
    )
}

pub fn create_price_index(
    admin: &Pubkey,
    exchange: &Pubkey,
    class: &Pubkey,
    params: IndexParams,
) -> Instruction {
    ix(
        acc::CreatePriceIndex {
            admin: *admin,
            exchange: *exchange,
            class: *class,
            index: pda::price_index(exchange, class),
            system_program: SYSTEM,
        },
        ins::CreatePriceIndex { params },
    )
}

pub fn update_price_index(
    admin: &Pubkey,
    exchange: &Pubkey,
    index: &Pubkey,
    params: IndexParams,
) -> Instruction {
    ix(
        acc::UpdatePriceIndex {
            admin: *admin,
            exchange: *exchange,
            index: *index,
        },
        ins::UpdatePriceIndex { params },
    )
}

pub fn publish_price(
    publisher: &Pubkey,
    index: &Pubkey,
    price: u64,
    conf: u64,
    publish_time: i64,
) -> Instruction {
    ix(
        acc::PublishPrice {
            publisher: *publisher,
            index: *index,
        },
        ins::PublishPrice {
            price,
            conf,
            publish_time,
        },
    )
}

/// The two system instructions creating a book of `book_capacity` orders per side and an event
/// queue of `queue_capacity` events (program-owned, zeroed), as `create_market` and
/// `list_series` expect them; `book` and `queue` sign.
pub fn create_book_accounts(
    payer: &Pubkey,
    book: &Pubkey,
    queue: &Pubkey,
    book_capacity: usize,
    queue_capacity: usize,
) -> [Instruction; 2] {
    let book_len = HEADER_LEN + cfx_book::Book::size_for(book_capacity);
    let queue_len = HEADER_LEN + cfx_book::EventQueue::size_for(queue_capacity);
    let rent = Rent::default();
    [
        system_instruction::create_account(
            payer,
            book,
            rent.minimum_balance(book_len),
            book_len as u64,
            &compute_futures::ID,
        ),
        system_instruction::create_account(
            payer,
            queue,
            rent.minimum_balance(queue_len),
            queue_len as u64,
            &compute_futures::ID,
        ),
    ]
}

/// A delivery window (account, mint) for a physically delivered series.
pub type Window = Option<(Pubkey, Pubkey)>;

fn market_accounts(
    admin: &Pubkey,
    exchange: &Pubkey,
    class: &Pubkey,
    market: Pubkey,
    book: &Pubkey,
    queue: &Pubkey,
    window: Window,
) -> acc::CreateMarket {
    acc::CreateMarket {
        admin: *admin,
        exchange: *exchange,
        class: *class,
        index: pda::price_index(exchange, class),
        delivery_window: window.map(|w| w.0),
        delivery_mint: window.map(|w| w.1),
        delivery_vault: window.map(|_| pda::delivery_vault(&market)),
        delivery_token_program: window.map(|_| anchor_spl::token_2022::ID),
        market,
        book: *book,
        event_queue: *queue,
        system_program: SYSTEM,
    }
}

pub fn create_market(
    admin: &Pubkey,
    exchange: &Pubkey,
    class: &Pubkey,
    book: &Pubkey,
    queue: &Pubkey,
    window: Window,
    params: MarketParams,
) -> Instruction {
    let market = pda::market(exchange, class, params.expiry_ts);
    ix(
        market_accounts(admin, exchange, class, market, book, queue, window),
        ins::CreateMarket { params },
    )
}

pub fn create_series_template(
    admin: &Pubkey,
    exchange: &Pubkey,
    class: &Pubkey,
    id: u16,
    args: SeriesTemplateArgs,
) -> Instruction {
    ix(
        acc::CreateSeriesTemplate {
            admin: *admin,
            exchange: *exchange,
            class: *class,
            index: pda::price_index(exchange, class),
            template: pda::series_template(exchange, class, id),
            system_program: SYSTEM,
        },
        ins::CreateSeriesTemplate { id, args },
    )
}

#[allow(clippy::too_many_arguments)]
pub fn list_series(
    admin: &Pubkey,
    exchange: &Pubkey,
    class: &Pubkey,
    template: &Pubkey,
    book: &Pubkey,
    queue: &Pubkey,
    window: Window,
    expiry: i64,
) -> Instruction {
    let market = pda::market(exchange, class, expiry);
    let a = market_accounts(admin, exchange, class, market, book, queue, window);
    ix(
        acc::ListSeries {
            admin: a.admin,
            exchange: a.exchange,
            template: *template,
            class: a.class,
            index: a.index,
            delivery_window: a.delivery_window,
            delivery_mint: a.delivery_mint,
            delivery_vault: a.delivery_vault,
            delivery_token_program: a.delivery_token_program,
            market: a.market,
            book: a.book,
            event_queue: a.event_queue,
            system_program: SYSTEM,
        },
        ins::ListSeries { expiry },
    )
}

pub fn set_market_status(
    admin: &Pubkey,
    exchange: &Pubkey,
    market: &Pubkey,
    status: u8,
) -> Instruction {
    ix(
        acc::SetMarketStatus {
            admin: *admin,
            exchange: *exchange,
            market: *market,
        },
        ins::SetMarketStatus { status },
    )
}

/// `create_margin_account` and the account's address.
pub fn create_margin_account(
    owner: &Pubkey,
    exchange: &Pubkey,
    number: u16,
) -> (Instruction, Pubkey) {
    let account = pda::margin_account(exchange, owner, number);
    (
        ix(
            acc::CreateMarginAccount {
                owner: *owner,
                exchange: *exchange,
                account,
                system_program: SYSTEM,
            },
            ins::CreateMarginAccount { number },
        ),
        account,
    )
}

pub fn close_margin_account(owner: &Pubkey, account: &Pubkey) -> Instruction {
    ix(
        acc::CloseMarginAccount {
            owner: *owner,
            account: *account,
        },
        ins::CloseMarginAccount {},
    )
}

pub fn set_delegate(owner: &Pubkey, account: &Pubkey, delegate: &Pubkey) -> Instruction {
    ix(
        acc::SetDelegate {
            owner: *owner,
            account: *account,
        },
        ins::SetDelegate {
            delegate: *delegate,
        },
    )
}

pub fn deposit(
    depositor: &Pubkey,
    e: &ExchangeKeys,
    account: &Pubkey,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
    ix(
        acc::Deposit {
            depositor: *depositor,
            exchange: e.exchange,
            account: *account,
            collateral_mint: e.collateral_mint,
            vault: e.vault,
            source: *source,
            token_program: e.token_program,
        },
        ins::Deposit { amount },
    )
}

pub fn withdraw(
    owner: &Pubkey,
    e: &ExchangeKeys,
    account: &Pubkey,
    destination: &Pubkey,
    amount: u64,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    health_metas(
        ix(
            acc::Withdraw {
                owner: *owner,
                exchange: e.exchange,
                account: *account,
                collateral_mint: e.collateral_mint,
                vault: e.vault,
                destination: *destination,
                token_program: e.token_program,
            },
            ins::Withdraw { amount },
        ),
        health,
    )
}

pub fn compute_health(account: &Pubkey, health: &[(Pubkey, Pubkey)]) -> Instruction {
    health_metas(
        ix(
            acc::ComputeHealth { account: *account },
            ins::ComputeHealth {},
        ),
        health,
    )
}

pub fn liquidate_orders(
    liquidator: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
    other_health: &[(Pubkey, Pubkey)],
) -> Instruction {
    health_metas(
        ix(
            acc::LiquidateOrders {
                liquidator: *liquidator,
                account: *account,
                market: m.market,
                index: m.index,
                book: m.book,
            },
            ins::LiquidateOrders {},
        ),
        other_health,
    )
}

/// `liquidate_position`: `health` is the liquidated account's other positions' pairs, then the
/// liquidator's.
#[allow(clippy::too_many_arguments)]
pub fn liquidate_position(
    signer: &Pubkey,
    liquidator_account: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
    max_lots: u64,
    limit_price: u64,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    health_metas(
        ix(
            acc::LiquidatePosition {
                liquidator: *signer,
                liquidator_account: *liquidator_account,
                account: *account,
                market: m.market,
                index: m.index,
                event_queue: m.event_queue,
            },
            ins::LiquidatePosition {
                max_lots,
                limit_price,
            },
        ),
        health,
    )
}

pub fn resolve_bankruptcy(
    e: &ExchangeKeys,
    account: &Pubkey,
    market: &Pubkey,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    health_metas(
        ix(
            acc::ResolveBankruptcy {
                exchange: e.exchange,
                account: *account,
                market: *market,
                collateral_mint: e.collateral_mint,
                vault: e.vault,
                insurance_vault: e.insurance_vault,
                token_program: e.token_program,
            },
            ins::ResolveBankruptcy {},
        ),
        health,
    )
}

pub fn sweep_insurance(e: &ExchangeKeys, market: &Pubkey) -> Instruction {
    ix(
        acc::SweepInsurance {
            exchange: e.exchange,
            market: *market,
            collateral_mint: e.collateral_mint,
            vault: e.vault,
            insurance_vault: e.insurance_vault,
            token_program: e.token_program,
        },
        ins::SweepInsurance {},
    )
}

pub fn deposit_insurance(
    depositor: &Pubkey,
    e: &ExchangeKeys,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
    ix(
        acc::DepositInsurance {
            depositor: *depositor,
            exchange: e.exchange,
            collateral_mint: e.collateral_mint,
            insurance_vault: e.insurance_vault,
            source: *source,
            token_program: e.token_program,
        },
        ins::DepositInsurance { amount },
    )
}

pub fn withdraw_insurance(
    admin: &Pubkey,
    e: &ExchangeKeys,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    ix(
        acc::WithdrawInsurance {
            admin: *admin,
            exchange: e.exchange,
            collateral_mint: e.collateral_mint,
            insurance_vault: e.insurance_vault,
            destination: *destination,
            token_program: e.token_program,
        },
        ins::WithdrawInsurance { amount },
    )
}

pub fn set_insurance_floor(admin: &Pubkey, exchange: &Pubkey, floor: u64) -> Instruction {
    ix(
        acc::SetInsuranceFloor {
            admin: *admin,
            exchange: *exchange,
        },
        ins::SetInsuranceFloor { floor },
    )
}

pub fn sweep_fees(admin: &Pubkey, e: &ExchangeKeys, market: &Pubkey) -> Instruction {
    ix(
        acc::SweepFees {
            admin: *admin,
            exchange: e.exchange,
            market: *market,
            collateral_mint: e.collateral_mint,
            vault: e.vault,
            fee_vault: e.fee_vault,
            token_program: e.token_program,
        },
        ins::SweepFees {},
    )
}

fn place_accounts(
    signer: &Pubkey,
    exchange: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
) -> acc::PlaceOrder {
    acc::PlaceOrder {
        signer: *signer,
        exchange: *exchange,
        account: *account,
        market: m.market,
        index: m.index,
        book: m.book,
        event_queue: m.event_queue,
    }
}

/// `place_order`; `other_health`: the (market, index) of every other position, in slot order.
pub fn place_order(
    signer: &Pubkey,
    exchange: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
    args: OrderArgs,
    other_health: &[(Pubkey, Pubkey)],
) -> Instruction {
    health_metas(
        ix(
            place_accounts(signer, exchange, account, m),
            ins::PlaceOrder { args },
        ),
        other_health,
    )
}

pub fn cancel_all_and_place(
    signer: &Pubkey,
    exchange: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
    orders: Vec<OrderArgs>,
    other_health: &[(Pubkey, Pubkey)],
) -> Instruction {
    health_metas(
        ix(
            place_accounts(signer, exchange, account, m),
            ins::CancelAllAndPlace { orders },
        ),
        other_health,
    )
}

fn cancel_accounts(signer: &Pubkey, account: &Pubkey, m: &MarketKeys) -> acc::CancelOrder {
    acc::CancelOrder {
        signer: *signer,
        account: *account,
        market: m.market,
        book: m.book,
    }
}

pub fn cancel_order(
    signer: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
    order_id: u128,
) -> Instruction {
    ix(
        cancel_accounts(signer, account, m),
        ins::CancelOrder { order_id },
    )
}

pub fn cancel_order_by_client_id(
    signer: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
    client_order_id: u64,
) -> Instruction {
    ix(
        cancel_accounts(signer, account, m),
        ins::CancelOrderByClientId { client_order_id },
    )
}

pub fn cancel_all_orders(signer: &Pubkey, account: &Pubkey, m: &MarketKeys) -> Instruction {
    ix(cancel_accounts(signer, account, m), ins::CancelAllOrders {})
}

/// `consume_events`: `makers`, the margin accounts of the queued events' owners (writable).
pub fn consume_events(
    exchange: &Pubkey,
    m: &MarketKeys,
    reward_account: &Pubkey,
    makers: &[Pubkey],
    limit: u16,
) -> Instruction {
    with_writable(
        ix(
            acc::ConsumeEvents {
                exchange: *exchange,
                market: m.market,
                event_queue: m.event_queue,
                reward_account: *reward_account,
            },
            ins::ConsumeEvents { limit },
        ),
        makers.iter().copied(),
    )
}

pub fn release_orders(m: &MarketKeys, owners: &[Pubkey], limit: u16) -> Instruction {
    with_writable(
        ix(
            acc::ReleaseOrders {
                market: m.market,
                book: m.book,
                event_queue: m.event_queue,
            },
            ins::ReleaseOrders { limit },
        ),
        owners.iter().copied(),
    )
}

pub fn fix_settlement_price(m: &MarketKeys) -> Instruction {
    ix(
        acc::FixSettlementPrice {
            market: m.market,
            index: m.index,
        },
        ins::FixSettlementPrice {},
    )
}

pub fn post_settlement_price(
    admin: &Pubkey,
    exchange: &Pubkey,
    m: &MarketKeys,
    price: u64,
) -> Instruction {
    ix(
        acc::PostSettlementPrice {
            admin: *admin,
            exchange: *exchange,
            market: m.market,
            index: m.index,
        },
        ins::PostSettlementPrice { price },
    )
}

/// `settle_positions` over `accounts`: (margin account, its owner's delivery-mint token account,
/// needed on a physically delivered series).
pub fn settle_positions(
    e: &ExchangeKeys,
    m: &MarketKeys,
    accounts: &[(Pubkey, Option<Pubkey>)],
) -> Instruction {
    let d = m.delivery;
    let i = ix(
        acc::SettlePositions {
            exchange: e.exchange,
            market: m.market,
            event_queue: m.event_queue,
            collateral_mint: e.collateral_mint,
            vault: e.vault,
            insurance_vault: e.insurance_vault,
            token_program: e.token_program,
            delivery_mint: d.map(|d| d.mint),
            delivery_vault: d.map(|d| d.vault),
            delivery_token_program: d.map(|d| d.token_program),
        },
        ins::SettlePositions {},
    );
    with_writable(
        i,
        accounts
            .iter()
            .flat_map(|(a, t)| std::iter::once(*a).chain(t.filter(|_| d.is_some()))),
    )
}

pub fn opt_in_delivery(
    owner: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
    lots: u64,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    health_metas(
        ix(
            acc::OptInDelivery {
                owner: *owner,
                account: *account,
                market: m.market,
                index: m.index,
            },
            ins::OptInDelivery { lots },
        ),
        health,
    )
}

pub fn escrow_delivery(
    owner: &Pubkey,
    exchange: &Pubkey,
    account: &Pubkey,
    m: &MarketKeys,
    source: &Pubkey,
) -> Option<Instruction> {
    let d = m.delivery?;
    Some(ix(
        acc::EscrowDelivery {
            owner: *owner,
            exchange: *exchange,
            account: *account,
            market: m.market,
            delivery_mint: d.mint,
            delivery_vault: d.vault,
            source: *source,
            token_program: d.token_program,
        },
        ins::EscrowDelivery {},
    ))
}

/// `close_market`; `sweep`, a token account of the delivery mint for tokens sent to the vault
/// after settlement (physical series, only when there are some).
pub fn close_market(
    admin: &Pubkey,
    e: &ExchangeKeys,
    m: &MarketKeys,
    sweep: Option<Pubkey>,
) -> Instruction {
    let d = m.delivery;
    ix(
        acc::CloseMarket {
            admin: *admin,
            exchange: e.exchange,
            market: m.market,
            book: m.book,
            event_queue: m.event_queue,
            collateral_mint: e.collateral_mint,
            vault: e.vault,
            fee_vault: e.fee_vault,
            insurance_vault: e.insurance_vault,
            token_program: e.token_program,
            delivery_vault: d.map(|d| d.vault),
            delivery_mint: d.map(|d| d.mint),
            delivery_token_program: d.map(|d| d.token_program),
            delivery_sweep: sweep.filter(|_| d.is_some()),
        },
        ins::CloseMarket {},
    )
}
