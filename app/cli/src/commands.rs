//! The commands: flags as the solana CLI has them, reads, trader and provider actions, and the
//! signing modes.

use anchor_lang::Discriminator;
use base64::Engine;
use cfx_client::backend::Backend;
use cfx_client::compute_futures::state::{Exchange, MarginAccount, Market, PriceIndex};
use cfx_client::compute_token::instructions::CreateWindowArgs;
use cfx_client::compute_token::state::{ComputeClass, Provider, Ticket, TicketStatus, Window};
use cfx_client::decode::{book, borsh_account, event_queue, zero_copy};
use cfx_client::errors::describe_tx;
use cfx_client::ix::{self, ExchangeKeys, MarketKeys, OrderKind, OrderSide, SelfTradeMode};
use cfx_client::sender::{land, Landing, SendConfig};
use cfx_client::views::{health_accounts, margin_view};
use cfx_client::{pda, query, token_ix};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::message::Message;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;

use crate::amounts::{format_decimal, parse_decimal, Grid};
use crate::{pubkey, CliError, Output};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "cfx",
    about = "cfx: compute futures for traders, compute providers and wallets"
)]
pub struct Cli {
    /// Cluster: localhost, devnet, testnet, mainnet-beta or a URL.
    #[arg(long, short = 'u', global = true, default_value = "localhost")]
    pub url: String,
    /// Keypair file (solana CLI format). usb:// and other signer URIs are not supported.
    #[arg(
        long,
        short = 'k',
        global = true,
        default_value = "~/.config/solana/id.json"
    )]
    pub keypair: String,
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub output: Format,
    /// Same as `--output json`.
    #[arg(long, global = true)]
    pub json: bool,
    /// processed, confirmed or finalized.
    #[arg(long, global = true, default_value = "confirmed")]
    pub commitment: String,
    /// The exchange, by its collateral mint.
    #[arg(long, global = true, env = "CFX_COLLATERAL_MINT")]
    pub collateral_mint: Option<String>,
    /// Sign and print `signer=signature` pairs; send nothing (needs --blockhash).
    #[arg(long, global = true)]
    pub sign_only: bool,
    #[arg(long, global = true)]
    pub blockhash: Option<String>,
    /// A signature made elsewhere: PUBKEY=SIGNATURE (repeatable).
    #[arg(long = "signer", global = true)]
    pub signers: Vec<String>,
    /// Print the unsigned transaction (base64) for a wallet to sign; send nothing.
    #[arg(long, global = true, alias = "unsigned")]
    pub dump_transaction_message: bool,
    /// Fee payer when it is not the keypair (offline signing).
    #[arg(long, global = true)]
    pub fee_payer: Option<String>,
    /// Act for this wallet instead of the keypair's (its signature comes with --signer, or
    /// the transaction is signed offline).
    #[arg(long, global = true)]
    pub authority: Option<String>,
    /// Durable nonce account: the transaction uses its stored blockhash (never expires) and
    /// advances it first, for signing offline without a deadline.
    #[arg(long, global = true)]
    pub nonce: Option<String>,
    /// The nonce account's authority (default: the keypair; otherwise its signature comes
    /// with --signer).
    #[arg(long, global = true)]
    pub nonce_authority: Option<String>,
    /// Show simulation logs on failure.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Limit,
    PostOnly,
    PostOnlySlide,
    Ioc,
    Fok,
    Market,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Every series of the exchange: status, expiry, mark, index, open interest.
    Markets,
    /// A market's book: price levels (or every order with --l3).
    Book {
        market: String,
        #[arg(long)]
        l3: bool,
        #[arg(long, default_value_t = 10)]
        depth: usize,
    },
    /// A margin account: collateral, positions, PnL, health, open orders.
    Account {
        /// The margin account (default: the keypair's, number --number).
        address: Option<String>,
        #[arg(long, default_value_t = 0)]
        number: u16,
    },
    /// The price index of a compute class.
    Index { class: String },
    /// compute-token's classes.
    Classes,
    /// compute-token's providers (of one class).
    Providers { class: Option<String> },
    /// Events waiting in a market's queue.
    Events { market: String },
    /// Open margin account --number.
    CreateAccount {
        #[arg(long, default_value_t = 0)]
        number: u16,
    },
    /// Deposit collateral (in collateral units, such as 100.5).
    Deposit {
        amount: String,
        #[arg(long, default_value_t = 0)]
        number: u16,
        /// Token account to pay from (default: the associated one).
        #[arg(long)]
        from: Option<String>,
    },
    /// Withdraw collateral the account's margin does not need.
    Withdraw {
        amount: String,
        #[arg(long, default_value_t = 0)]
        number: u16,
        #[arg(long)]
        to: Option<String>,
    },
    /// Place an order: price in collateral per compute unit, size in lots (or --units).
    Order {
        market: String,
        #[arg(value_enum)]
        side: Side,
        price: String,
        size: u64,
        /// The size is in compute units, not lots.
        #[arg(long)]
        units: bool,
        #[arg(long = "type", value_enum, default_value = "limit")]
        kind: Kind,
        #[arg(long)]
        reduce_only: bool,
        #[arg(long, default_value_t = 0)]
        client_id: u64,
        /// Seconds a resting order lives (0: until cancelled).
        #[arg(long, default_value_t = 0)]
        time_in_force: u32,
        #[arg(long, default_value_t = 0)]
        number: u16,
    },
    /// Cancel an order by id, by client id, or all of the account's in a market.
    Cancel {
        market: String,
        #[arg(long)]
        id: Option<u128>,
        #[arg(long)]
        client_id: Option<u64>,
        #[arg(long)]
        all: bool,
        #[arg(long, default_value_t = 0)]
        number: u16,
    },
    /// Let KEY trade (never withdraw) for the account; the default key clears it.
    Delegate {
        delegate: String,
        #[arg(long, default_value_t = 0)]
        number: u16,
    },
    /// Close an empty margin account and take back its rent.
    CloseAccount {
        #[arg(long, default_value_t = 0)]
        number: u16,
    },
    /// Provider: deposit bond tokens (bond units) for a class.
    BondDeposit {
        class: String,
        amount: String,
        #[arg(long)]
        from: String,
    },
    /// Provider: release bond the provider's open windows do not need.
    BondRelease {
        class: String,
        amount: String,
        #[arg(long)]
        to: String,
    },
    /// Registry admin: open a delivery window [start, end) of a class and create its mint.
    CreateWindow {
        class: String,
        /// Unix time the window opens.
        #[arg(long)]
        start: i64,
        /// Unix time it ends (redemptions close; fulfilment until end + the class's grace).
        #[arg(long)]
        end: i64,
        /// Token name, e.g. "H100 GPU-hour, week 49 of 2026".
        #[arg(long)]
        name: String,
        /// `<class symbol>-<suffix>`, e.g. H100-GPUH-2026W49.
        #[arg(long)]
        symbol: String,
        #[arg(long, default_value = "")]
        uri: String,
    },
    /// Provider: mint compute tokens of a delivery window to a token account.
    Mint {
        class: String,
        window: String,
        /// Units, in the class's decimals (as `redeem` takes them).
        amount: String,
        #[arg(long)]
        to: String,
    },
    /// Provider: mark a ticket delivered, with a receipt (its SHA-256 is stored).
    Fulfil {
        ticket: String,
        #[arg(long)]
        receipt: String,
    },
    /// Holder: burn compute tokens of a window for delivery by a provider; opens a ticket.
    Redeem {
        window: String,
        /// Units, in the class's decimals.
        amount: String,
        /// The provider account (see `providers`) whose tokens these are.
        #[arg(long)]
        provider: String,
        /// Where to deliver (endpoint, credentials): only its SHA-256 goes on chain.
        #[arg(long)]
        endpoint: String,
        /// Token account to burn from (default: the associated one).
        #[arg(long)]
        from: Option<String>,
        /// Seed of the ticket's address (default: the first free one).
        #[arg(long)]
        ticket_nonce: Option<u64>,
    },
    /// Holder: after the deadline, claim an unfulfilled ticket's compensation from the bond.
    ClaimDefault {
        ticket: String,
        /// Bond-token account to be paid to (default: the associated one, created if missing).
        #[arg(long)]
        to: Option<String>,
    },
    /// Holder: close a fulfilled or claimed ticket and take back its rent.
    CloseTicket { ticket: String },
    /// Redemption tickets, of a holder (default: the keypair's) or of a provider.
    Tickets {
        #[arg(long)]
        holder: Option<String>,
        #[arg(long)]
        provider: Option<String>,
    },
}

fn err_client(e: cfx_client::ClientError) -> CliError {
    e.into()
}

async fn account<B: Backend>(b: &B, key: &Pubkey) -> Result<Vec<u8>, CliError> {
    Ok(b.get_account(key)
        .await
        .map_err(err_client)?
        .ok_or_else(|| CliError::input(format!("account {key} not found")))?
        .data)
}

fn exchange_mint(cli: &Cli) -> Result<Pubkey, CliError> {
    let m = cli.collateral_mint.as_deref().ok_or_else(|| {
        CliError::input("which exchange: pass --collateral-mint (or set CFX_COLLATERAL_MINT)")
    })?;
    pubkey(m, "--collateral-mint")
}

async fn exchange<B: Backend>(cli: &Cli, b: &B) -> Result<(ExchangeKeys, Exchange), CliError> {
    let key = pda::exchange(&exchange_mint(cli)?);
    let e: Exchange = zero_copy(&account(b, &key).await?).map_err(err_client)?;
    Ok((ExchangeKeys::of(&key, &e), e))
}

async fn market<B: Backend>(
    b: &B,
    text: &str,
    ex: &Pubkey,
) -> Result<(MarketKeys, Market), CliError> {
    let key = pubkey(text, "market")?;
    let data = account(b, &key).await?;
    let m: Market =
        zero_copy(&data).map_err(|_| CliError::input(format!("{key} is not a market")))?;
    if m.exchange != *ex {
        return Err(CliError::input(format!(
            "market {key} belongs to another exchange"
        )));
    }
    Ok((MarketKeys::of(&key, &m), m))
}

fn grid(m: &Market, decimals: u8) -> Grid {
    Grid {
        tick_value: m.tick_value,
        lot_size: m.lot_size,
        unit_scale: m.unit_scale,
        quote_decimals: decimals as u32,
    }
}

async fn decimals<B: Backend>(b: &B, mint: &Pubkey) -> Result<u8, CliError> {
    let data = account(b, mint).await?;
    data.get(44)
        .copied()
        .ok_or_else(|| CliError::input(format!("{mint} is not a mint")))
}

fn name(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches('\0')
        .to_string()
}

fn status_name(m: &Market, now: i64) -> &'static str {
    if m.settlement_price != 0 {
        "settled"
    } else if now >= m.expiry_ts {
        "expired"
    } else if now >= m.last_trade_ts {
        "closed"
    } else if m.status == 1 {
        "close-only"
    } else {
        "active"
    }
}

/// Runs one command. `keypair` is the loaded `--keypair` (absent when the command needs none
/// and none was found).
pub async fn run<B: Backend>(
    cli: &Cli,
    b: &B,
    keypair: Option<&Keypair>,
) -> Result<Output, CliError> {
    let signer =
        || keypair.ok_or_else(|| CliError::input(format!("keypair {} not found", cli.keypair)));
    let owner = || -> Result<Pubkey, CliError> {
        match &cli.authority {
            Some(a) => pubkey(a, "--authority"),
            None => Ok(signer()?.pubkey()),
        }
    };
    match &cli.command {
        Command::Markets => {
            let (e, ex) = exchange(cli, b).await?;
            let d = decimals(b, &ex.collateral_mint).await?;
            let now = b.clock().await.map_err(err_client)?.unix_timestamp;
            let markets = query::markets(b, &e.exchange).await.map_err(err_client)?;
            let mut human = String::from("market                                        name                 status      expiry       mark        index       open interest\n");
            let mut rows = Vec::new();
            for (k, m) in &markets {
                let g = grid(m, d);
                let index: Option<PriceIndex> = account(b, &m.index)
                    .await
                    .ok()
                    .and_then(|a| zero_copy(&a).ok());
                let prices = index
                    .and_then(|i| cfx_client::compute_futures::health::prices(m, &i, now).ok());
                let mark = prices
                    .map(|p| g.ticks_to_price(p.mark))
                    .unwrap_or_else(|| "stale".into());
                let idx = prices
                    .map(|p| g.ticks_to_price(p.index))
                    .unwrap_or_else(|| "stale".into());
                human.push_str(&format!(
                    "{k:<45} {:<20} {:<11} {:<12} {mark:<11} {idx:<11} {}\n",
                    name(&m.name),
                    status_name(m, now),
                    m.expiry_ts,
                    m.open_interest
                ));
                rows.push(json!({
                    "market": k.to_string(), "name": name(&m.name), "status": status_name(m, now),
                    "expiry_ts": m.expiry_ts, "last_trade_ts": m.last_trade_ts,
                    "mark": mark, "index": idx, "open_interest_lots": m.open_interest,
                    "physical": m.delivery_mint != Pubkey::default(),
                    "settlement_price": (m.settlement_price != 0).then(|| g.ticks_to_price(m.settlement_price)),
                }));
            }
            Ok(Output::new(human, json!({ "markets": rows })))
        }
        Command::Book {
            market: mk,
            l3,
            depth,
        } => {
            let (e, ex) = exchange(cli, b).await?;
            let (keys, m) = market(b, mk, &e.exchange).await?;
            let g = grid(&m, decimals(b, &ex.collateral_mint).await?);
            let orders = book(&account(b, &keys.book).await?, &keys.market).map_err(err_client)?;
            if *l3 {
                let row = |o: &cfx_book::Order| json!({"order_id": o.order_id.to_string(), "price": g.ticks_to_price(o.price), "ticks": o.price, "lots": o.lots, "owner_id": o.owner, "client_order_id": o.client_order_id});
                let mut human = String::from("side  price        lots      owner   order id\n");
                for (side, os) in [("bid", &orders.bids), ("ask", &orders.asks)] {
                    for o in os.iter() {
                        human.push_str(&format!(
                            "{side:<5} {:<12} {:<9} {:<7} {}\n",
                            g.ticks_to_price(o.price),
                            o.lots,
                            o.owner,
                            o.order_id
                        ));
                    }
                }
                return Ok(Output::new(
                    human,
                    json!({"bids": orders.bids.iter().map(row).collect::<Vec<_>>(), "asks": orders.asks.iter().map(row).collect::<Vec<_>>()}),
                ));
            }
            let l2 = orders.l2(*depth);
            let level = |l: &cfx_client::views::Level| json!({"price": g.ticks_to_price(l.price), "ticks": l.price, "lots": l.lots, "orders": l.orders});
            let mut human = String::from("      bids (lots @ price)        asks (lots @ price)\n");
            for i in 0..l2.bids.len().max(l2.asks.len()) {
                let b_ = l2
                    .bids
                    .get(i)
                    .map(|l| format!("{} @ {}", l.lots, g.ticks_to_price(l.price)))
                    .unwrap_or_default();
                let a_ = l2
                    .asks
                    .get(i)
                    .map(|l| format!("{} @ {}", l.lots, g.ticks_to_price(l.price)))
                    .unwrap_or_default();
                human.push_str(&format!("      {b_:<26} {a_}\n"));
            }
            Ok(Output::new(
                human,
                json!({"bids": l2.bids.iter().map(level).collect::<Vec<_>>(), "asks": l2.asks.iter().map(level).collect::<Vec<_>>()}),
            ))
        }
        Command::Account { address, number } => {
            let (e, ex) = exchange(cli, b).await?;
            let d = decimals(b, &ex.collateral_mint).await? as u32;
            let key = match address {
                Some(a) => pubkey(a, "account")?,
                None => pda::margin_account(&e.exchange, &owner()?, *number),
            };
            let acc: MarginAccount = zero_copy(&account(b, &key).await?)
                .map_err(|_| CliError::input(format!("{key} is not a margin account")))?;
            let snap = query::snapshot(b, &e.exchange).await.map_err(err_client)?;
            let view = margin_view(&key, &acc, &snap.markets, &snap.indexes, snap.now);
            let mut human = format!(
                "account {key}\ncollateral {}\n",
                format_decimal(acc.collateral as i128, d)
            );
            let mut positions = Vec::new();
            for p in &view.positions {
                let m = snap.market(&p.market);
                let g = m.map(|m| grid(m, d as u8));
                let liq = match (m, p.prices, view.health) {
                    (Some(m), Some(pr), Some(h)) if p.base_lots != 0 => {
                        // Where maintenance health reaches zero with everything else held.
                        let per_tick = p.base_lots.unsigned_abs() as i128
                            * m.tick_value as i128
                            * (10_000 - m.maintenance_margin_bps as i128)
                            / 10_000;
                        let move_ticks = h.maintenance / per_tick.max(1);
                        let t = if p.base_lots > 0 {
                            pr.mark as i128 - move_ticks
                        } else {
                            pr.mark as i128 + move_ticks
                        };
                        Some(t.max(0) as u64)
                    }
                    _ => None,
                };
                let show = |t: u64| g.map(|g| g.ticks_to_price(t)).unwrap_or_default();
                human.push_str(&format!(
                    "position {} {:+} lots  entry {}  unrealized {}  liquidation ≈ {}\n",
                    p.market,
                    p.base_lots,
                    format_decimal(p.entry_quote as i128, d),
                    p.unrealized_pnl
                        .map(|v| format_decimal(v, d))
                        .unwrap_or_else(|| "?".into()),
                    liq.map(show).unwrap_or_else(|| "-".into()),
                ));
                positions.push(json!({
                    "market": p.market.to_string(), "lots": p.base_lots,
                    "entry": format_decimal(p.entry_quote as i128, d),
                    "unrealized_pnl": p.unrealized_pnl.map(|v| format_decimal(v, d)),
                    "realized_pnl": format_decimal(p.realized_pnl as i128, d),
                    "resting_bid_lots": p.bid_lots, "resting_ask_lots": p.ask_lots,
                    "liquidation_price": liq.map(show),
                    "settlement_claim": format_decimal(p.settlement_claim as i128, d),
                }));
            }
            let orders: Vec<_> = acc.orders.iter().filter(|o| o.id() != 0).map(|o| json!({"order_id": o.id().to_string(), "client_order_id": o.client_order_id, "market": acc.positions[o.position as usize].market.to_string(), "side": if o.side == 0 {"bid"} else {"ask"}})).collect();
            human.push_str(&format!("open orders {}\n", orders.len()));
            let health = view.health.map(|h| json!({
                "initial": format_decimal(h.initial, d), "maintenance": format_decimal(h.maintenance, d),
                "withdraw": format_decimal(h.withdraw, d), "equity": format_decimal(h.equity, d),
            }));
            if let Some(h) = view.health {
                human.push_str(&format!(
                    "health: initial {}  maintenance {}  equity {}\n",
                    format_decimal(h.initial, d),
                    format_decimal(h.maintenance, d),
                    format_decimal(h.equity, d)
                ));
            }
            Ok(Output::new(
                human,
                json!({
                    "account": key.to_string(), "owner": acc.owner.to_string(), "collateral": format_decimal(acc.collateral as i128, d),
                    "positions": positions, "open_orders": orders, "health": health, "held": view.held,
                }),
            ))
        }
        Command::Index { class } => {
            let (e, ex) = exchange(cli, b).await?;
            let d = decimals(b, &ex.collateral_mint).await? as u32;
            let key = pda::price_index(&e.exchange, &pubkey(class, "class")?);
            let i: PriceIndex = zero_copy(&account(b, &key).await?).map_err(err_client)?;
            let now = b.clock().await.map_err(err_client)?.unix_timestamp;
            let fresh = i.fresh_price(now).is_some();
            let human = format!(
                "index {key}\nprice {} per unit ({})  conf {}  updated {}\n",
                format_decimal(i.price as i128, d),
                if fresh { "fresh" } else { "stale" },
                format_decimal(i.conf as i128, d),
                i.last_update
            );
            Ok(Output::new(
                human,
                json!({"index": key.to_string(), "price": format_decimal(i.price as i128, d), "conf": format_decimal(i.conf as i128, d), "fresh": fresh, "last_update": i.last_update, "min_publishers": i.min_publishers}),
            ))
        }
        Command::Classes => {
            let raw = b
                .program_accounts(&pda::TOKEN, ComputeClass::DISCRIMINATOR, None)
                .await
                .map_err(err_client)?;
            let mut human = String::new();
            let mut rows = Vec::new();
            for (k, a) in raw {
                let c: ComputeClass = borsh_account(&a.data).map_err(err_client)?;
                human.push_str(&format!(
                    "{k}  {}  {} (decimals {})\n",
                    c.symbol, c.unit_description, c.decimals
                ));
                rows.push(json!({"class": k.to_string(), "symbol": c.symbol, "unit": c.unit_description, "decimals": c.decimals}));
            }
            Ok(Output::new(human, json!({"classes": rows})))
        }
        Command::Providers { class } => {
            let filter = class.as_deref().map(|c| pubkey(c, "class")).transpose()?;
            let raw = b
                .program_accounts(&pda::TOKEN, Provider::DISCRIMINATOR, None)
                .await
                .map_err(err_client)?;
            let mut human = String::new();
            let mut rows = Vec::new();
            for (k, a) in raw {
                let p: Provider = borsh_account(&a.data).map_err(err_client)?;
                if filter.is_some_and(|c| c != p.class) {
                    continue;
                }
                human.push_str(&format!(
                    "{k}  class {}  authority {}  bond {}\n",
                    p.class, p.authority, p.bond
                ));
                rows.push(json!({"provider": k.to_string(), "class": p.class.to_string(), "authority": p.authority.to_string(), "bond": p.bond, "suspended": p.suspended}));
            }
            Ok(Output::new(human, json!({"providers": rows})))
        }
        Command::Events { market: mk } => {
            let (e, _) = exchange(cli, b).await?;
            let (keys, _) = market(b, mk, &e.exchange).await?;
            let events = event_queue(&account(b, &keys.event_queue).await?, &keys.market)
                .map_err(err_client)?;
            let mut human = format!("{} events waiting\n", events.len());
            let mut rows = Vec::new();
            for ev in &events {
                let (kind, lots) = match ev.event {
                    cfx_book::BookEvent::Fill(f) => ("fill", f.lots),
                    cfx_book::BookEvent::Out(o) => ("out", o.lots),
                };
                human.push_str(&format!(
                    "#{} {kind} {lots} lots owner {}{}\n",
                    ev.seq_num,
                    ev.owner(),
                    if ev.owner_applied { " (applied)" } else { "" }
                ));
                rows.push(json!({"seq": ev.seq_num, "kind": kind, "lots": lots, "owner_id": ev.owner(), "owner_applied": ev.owner_applied}));
            }
            Ok(Output::new(human, json!({"events": rows})))
        }
        Command::CreateAccount { number } => {
            let (e, _) = exchange(cli, b).await?;
            let (i, key) = ix::create_margin_account(&owner()?, &e.exchange, *number);
            let mut out = execute(cli, b, keypair, vec![i]).await?;
            out.json["account"] = json!(key.to_string());
            out.human.push_str(&format!("margin account {key}\n"));
            Ok(out)
        }
        Command::Deposit {
            amount,
            number,
            from,
        } => {
            let (e, _) = exchange(cli, b).await?;
            let d = decimals(b, &e.collateral_mint).await? as u32;
            let native = parse_decimal(amount, d)?;
            let me = owner()?;
            let source =
                token_account_or_ata(from, "--from", &me, &e.collateral_mint, &e.token_program)?;
            let acc = pda::margin_account(&e.exchange, &me, *number);
            execute(
                cli,
                b,
                keypair,
                vec![ix::deposit(&me, &e, &acc, &source, native)],
            )
            .await
        }
        Command::Withdraw { amount, number, to } => {
            let (e, _) = exchange(cli, b).await?;
            let d = decimals(b, &e.collateral_mint).await? as u32;
            let native = parse_decimal(amount, d)?;
            let me = owner()?;
            let dest = token_account_or_ata(to, "--to", &me, &e.collateral_mint, &e.token_program)?;
            let key = pda::margin_account(&e.exchange, &me, *number);
            let acc: MarginAccount = zero_copy(&account(b, &key).await?).map_err(err_client)?;
            let markets = query::markets(b, &e.exchange).await.map_err(err_client)?;
            let health = health_accounts(&acc, &markets, None).map_err(err_client)?;
            execute(
                cli,
                b,
                keypair,
                vec![ix::withdraw(&me, &e, &key, &dest, native, &health)],
            )
            .await
        }
        Command::Order {
            market: mk,
            side,
            price,
            size,
            units,
            kind,
            reduce_only,
            client_id,
            time_in_force,
            number,
        } => {
            let (e, _) = exchange(cli, b).await?;
            let (keys, m) = market(b, mk, &e.exchange).await?;
            let g = grid(&m, decimals(b, &e.collateral_mint).await?);
            let lots = if *units {
                g.units_to_lots(*size)?
            } else {
                *size
            };
            if lots == 0 {
                return Err(CliError::input("size must be at least one lot"));
            }
            let ticks = if *kind == Kind::Market {
                0
            } else {
                g.price_to_ticks(price)?
            };
            let me = owner()?;
            let key = pda::margin_account(&e.exchange, &me, *number);
            let acc: MarginAccount = zero_copy(&account(b, &key).await?).map_err(err_client)?;
            let markets = query::markets(b, &e.exchange).await.map_err(err_client)?;
            let others = health_accounts(&acc, &markets, Some(&keys.market)).map_err(err_client)?;
            let args = cfx_client::compute_futures::instructions::OrderArgs {
                side: if *side == Side::Buy {
                    OrderSide::Bid
                } else {
                    OrderSide::Ask
                },
                order_type: match kind {
                    Kind::Limit => OrderKind::Limit,
                    Kind::PostOnly => OrderKind::PostOnly,
                    Kind::PostOnlySlide => OrderKind::PostOnlySlide,
                    Kind::Ioc => OrderKind::ImmediateOrCancel,
                    Kind::Fok => OrderKind::FillOrKill,
                    Kind::Market => OrderKind::Market,
                },
                price: ticks,
                lots,
                client_order_id: *client_id,
                time_in_force: *time_in_force,
                reduce_only: *reduce_only,
                self_trade: SelfTradeMode::DecrementTake,
                match_limit: 16,
            };
            let mut out = execute(
                cli,
                b,
                keypair,
                vec![ix::place_order(
                    &me,
                    &e.exchange,
                    &key,
                    &keys,
                    args,
                    &others,
                )],
            )
            .await?;
            out.json["ticks"] = json!(ticks);
            out.json["lots"] = json!(lots);
            Ok(out)
        }
        Command::Cancel {
            market: mk,
            id,
            client_id,
            all,
            number,
        } => {
            let (e, _) = exchange(cli, b).await?;
            let (keys, _) = market(b, mk, &e.exchange).await?;
            let me = owner()?;
            let key = pda::margin_account(&e.exchange, &me, *number);
            let i = match (id, client_id, all) {
                (Some(id), None, false) => ix::cancel_order(&me, &key, &keys, *id),
                (None, Some(c), false) => ix::cancel_order_by_client_id(&me, &key, &keys, *c),
                (None, None, true) => ix::cancel_all_orders(&me, &key, &keys),
                _ => {
                    return Err(CliError::input(
                        "cancel one of: --id ID, --client-id ID, --all",
                    ))
                }
            };
            execute(cli, b, keypair, vec![i]).await
        }
        Command::Delegate { delegate, number } => {
            let (e, _) = exchange(cli, b).await?;
            let me = owner()?;
            let key = pda::margin_account(&e.exchange, &me, *number);
            execute(
                cli,
                b,
                keypair,
                vec![ix::set_delegate(&me, &key, &pubkey(delegate, "delegate")?)],
            )
            .await
        }
        Command::CloseAccount { number } => {
            let (e, _) = exchange(cli, b).await?;
            let me = owner()?;
            let key = pda::margin_account(&e.exchange, &me, *number);
            execute(cli, b, keypair, vec![ix::close_margin_account(&me, &key)]).await
        }
        Command::BondDeposit {
            class,
            amount,
            from,
        }
        | Command::BondRelease {
            class,
            amount,
            to: from,
        } => {
            let registry = pda::token::registry();
            let reg: cfx_client::compute_token::state::Registry =
                borsh_account(&account(b, &registry).await?).map_err(err_client)?;
            let bond = token_ix::Bond {
                mint: reg.bond_mint,
                token_program: reg.bond_token_program,
            };
            let native = parse_decimal(amount, decimals(b, &reg.bond_mint).await? as u32)?;
            let (class, other) = (pubkey(class, "class")?, pubkey(from, "token account")?);
            let i = if matches!(cli.command, Command::BondDeposit { .. }) {
                token_ix::deposit_bond(&owner()?, &class, &bond, &other, native)
            } else {
                token_ix::release_bond(&owner()?, &class, &bond, &other, native)
            };
            execute(cli, b, keypair, vec![i]).await
        }
        Command::Mint {
            class,
            window,
            amount,
            to,
        } => {
            let class = pubkey(class, "class")?;
            let c: ComputeClass = borsh_account(&account(b, &class).await?)
                .map_err(|_| CliError::input(format!("{class} is not a compute class")))?;
            let units = parse_decimal(amount, c.decimals as u32)?;
            let i = token_ix::mint_units(
                &owner()?,
                &class,
                &pubkey(window, "window")?,
                &pubkey(to, "--to")?,
                units,
            );
            execute(cli, b, keypair, vec![i]).await
        }
        Command::CreateWindow {
            class,
            start,
            end,
            name,
            symbol,
            uri,
        } => {
            let class = pubkey(class, "class")?;
            let (i, window, mint) = token_ix::create_window(
                &owner()?,
                &class,
                CreateWindowArgs {
                    start: *start,
                    end: *end,
                    name: name.clone(),
                    symbol: symbol.clone(),
                    uri: uri.clone(),
                },
            );
            let mut out = execute(cli, b, keypair, vec![i]).await?;
            out.json["window"] = json!(window.to_string());
            out.json["mint"] = json!(mint.to_string());
            out.human
                .push_str(&format!("window {window}\nmint {mint}\n"));
            Ok(out)
        }
        Command::Fulfil { ticket, receipt } => {
            let key = pubkey(ticket, "ticket")?;
            let t: Ticket = borsh_account(&account(b, &key).await?)
                .map_err(|_| CliError::input(format!("{key} is not a ticket")))?;
            let i = token_ix::fulfil(
                &owner()?,
                &t.provider,
                &t.position,
                &key,
                solana_sdk::hash::hash(receipt.as_bytes()).to_bytes(),
            );
            execute(cli, b, keypair, vec![i]).await
        }
        Command::Redeem {
            window,
            amount,
            provider,
            endpoint,
            from,
            ticket_nonce,
        } => {
            let window = pubkey(window, "window")?;
            let w: Window = borsh_account(&account(b, &window).await?)
                .map_err(|_| CliError::input(format!("{window} is not a delivery window")))?;
            let c: ComputeClass =
                borsh_account(&account(b, &w.class).await?).map_err(err_client)?;
            let units = parse_decimal(amount, c.decimals as u32)?;
            let provider = pubkey(provider, "--provider")?;
            let me = owner()?;
            let source =
                token_account_or_ata(from, "--from", &me, &w.mint, &anchor_spl::token_2022::ID)?;
            let position = pda::token::position(&window, &provider);
            let nonce = match ticket_nonce {
                Some(n) => *n,
                None => {
                    let mut n = 0;
                    while b
                        .get_account(&pda::token::ticket(&position, &me, n))
                        .await
                        .map_err(err_client)?
                        .is_some()
                    {
                        n += 1;
                    }
                    n
                }
            };
            let (i, ticket) = token_ix::redeem(
                &me,
                &w.class,
                &provider,
                &window,
                &source,
                units,
                solana_sdk::hash::hash(endpoint.as_bytes()).to_bytes(),
                nonce,
            );
            let mut out = execute(cli, b, keypair, vec![i]).await?;
            out.json["ticket"] = json!(ticket.to_string());
            out.human.push_str(&format!("ticket {ticket}\n"));
            Ok(out)
        }
        Command::ClaimDefault { ticket, to } => {
            let key = pubkey(ticket, "ticket")?;
            let t: Ticket = borsh_account(&account(b, &key).await?)
                .map_err(|_| CliError::input(format!("{key} is not a ticket")))?;
            let p: Provider = borsh_account(&account(b, &t.provider).await?).map_err(err_client)?;
            let registry = pda::token::registry();
            let reg: cfx_client::compute_token::state::Registry =
                borsh_account(&account(b, &registry).await?).map_err(err_client)?;
            let bond = token_ix::Bond {
                mint: reg.bond_mint,
                token_program: reg.bond_token_program,
            };
            let me = owner()?;
            let mut ixs = Vec::new();
            let destination =
                token_account_or_ata(to, "--to", &me, &bond.mint, &bond.token_program)?;
            if to.is_none() {
                ixs.push(anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
                    &payer(cli, keypair)?, &me, &bond.mint, &bond.token_program,
                ));
            }
            ixs.push(token_ix::claim_default(
                &me,
                &p.class,
                &t.provider,
                &t.position,
                &key,
                &bond,
                &destination,
            ));
            execute(cli, b, keypair, ixs).await
        }
        Command::CloseTicket { ticket } => {
            let key = pubkey(ticket, "ticket")?;
            execute(
                cli,
                b,
                keypair,
                vec![token_ix::close_ticket(&owner()?, &key)],
            )
            .await
        }
        Command::Tickets { holder, provider } => {
            let provider = provider
                .as_deref()
                .map(|p| pubkey(p, "--provider"))
                .transpose()?;
            let holder = match (holder, provider) {
                (Some(h), _) => Some(pubkey(h, "--holder")?),
                (None, None) => Some(owner()?),
                (None, Some(_)) => None,
            };
            let raw = b
                .program_accounts(&pda::TOKEN, Ticket::DISCRIMINATOR, None)
                .await
                .map_err(err_client)?;
            let mut human = String::new();
            let mut rows = Vec::new();
            for (k, a) in raw {
                let t: Ticket = borsh_account(&a.data).map_err(err_client)?;
                if holder.is_some_and(|h| h != t.holder)
                    || provider.is_some_and(|p| p != t.provider)
                {
                    continue;
                }
                let status = match t.status {
                    TicketStatus::Open => "open",
                    TicketStatus::Fulfilled => "fulfilled",
                    TicketStatus::Defaulted => "defaulted",
                };
                human.push_str(&format!(
                    "{k}  {status:<9}  {} units  provider {}  deadline {}\n",
                    t.units, t.provider, t.deadline
                ));
                rows.push(json!({"ticket": k.to_string(), "status": status, "units": t.units, "holder": t.holder.to_string(), "provider": t.provider.to_string(), "window": t.window.to_string(), "deadline": t.deadline, "paid": t.paid}));
            }
            Ok(Output::new(human, json!({"tickets": rows})))
        }
    }
}

/// A token account argument: the one given, or `owner`'s associated account of `mint`.
fn token_account_or_ata(
    given: &Option<String>,
    flag: &str,
    owner: &Pubkey,
    mint: &Pubkey,
    program: &Pubkey,
) -> Result<Pubkey, CliError> {
    match given {
        Some(k) => pubkey(k, flag),
        None => Ok(
            anchor_spl::associated_token::get_associated_token_address_with_program_id(
                owner, mint, program,
            ),
        ),
    }
}

/// The fee payer: --fee-payer, or the keypair.
fn payer(cli: &Cli, keypair: Option<&Keypair>) -> Result<Pubkey, CliError> {
    match (&cli.fee_payer, keypair) {
        (Some(p), _) => pubkey(p, "--fee-payer"),
        (None, Some(k)) => Ok(k.pubkey()),
        (None, None) => Err(CliError::input(format!(
            "keypair {} not found (or pass --fee-payer)",
            cli.keypair
        ))),
    }
}

/// The blockhash a durable nonce account holds, and its authority. The account is the system
/// program's, bincode `Versions(State::Initialized(Data))`: version u32, state u32 (1:
/// initialized), authority, durable nonce, fee calculator.
async fn nonce_of<B: Backend>(b: &B, nonce: &Pubkey) -> Result<(Hash, Pubkey), CliError> {
    let a = b
        .get_account(nonce)
        .await
        .map_err(err_client)?
        .ok_or_else(|| CliError::input(format!("nonce account {nonce} not found")))?;
    let initialized = a.owner == anchor_lang::solana_program::system_program::ID
        && a.data.len() >= 80
        && a.data[4..8] == 1u32.to_le_bytes();
    if !initialized {
        return Err(CliError::input(format!(
            "{nonce} is not an initialized nonce account"
        )));
    }
    let authority = Pubkey::try_from(&a.data[8..40]).expect("32 bytes");
    let hash = Hash::new_from_array(a.data[40..72].try_into().expect("32 bytes"));
    Ok((hash, authority))
}

/// Signs and sends `ixs`, or prints what the signing flags ask for.
async fn execute<B: Backend>(
    cli: &Cli,
    b: &B,
    keypair: Option<&Keypair>,
    ixs: Vec<Instruction>,
) -> Result<Output, CliError> {
    let payer = payer(cli, keypair)?;
    let given = match &cli.blockhash {
        Some(h) => Some(
            h.parse::<Hash>()
                .map_err(|_| CliError::input(format!("--blockhash {h:?} is not a blockhash")))?,
        ),
        None => None,
    };
    let mut ixs = ixs;
    let blockhash = if let Some(n) = &cli.nonce {
        // A durable nonce: advance it first; the blockhash is the one it holds (given with
        // --blockhash when signing offline, read from the cluster otherwise).
        let nonce = pubkey(n, "--nonce")?;
        let authority = match (&cli.nonce_authority, keypair) {
            (Some(a), _) => pubkey(a, "--nonce-authority")?,
            (None, Some(k)) => k.pubkey(),
            (None, None) => payer,
        };
        ixs.insert(
            0,
            anchor_lang::solana_program::system_instruction::advance_nonce_account(
                &nonce, &authority,
            ),
        );
        match given {
            Some(h) => h,
            None if cli.sign_only => {
                return Err(CliError::input(
                    "--sign-only needs --blockhash (the nonce account's)",
                ))
            }
            None => {
                let (h, stored) = nonce_of(b, &nonce).await?;
                if stored != authority {
                    return Err(CliError::input(format!(
                        "nonce account {nonce} has authority {stored}, not {authority}"
                    )));
                }
                h
            }
        }
    } else {
        match given {
            Some(h) => h,
            None if cli.sign_only => return Err(CliError::input("--sign-only needs --blockhash")),
            None => b.latest_blockhash().await.map_err(err_client)?,
        }
    };
    let message = Message::new_with_blockhash(&ixs, Some(&payer), &blockhash);
    let mut tx = Transaction::new_unsigned(message);
    let required: Vec<Pubkey> =
        tx.message.account_keys[..tx.message.header.num_required_signatures as usize].to_vec();
    if cli.dump_transaction_message {
        let bytes = bincode::serialize(&tx).map_err(|e| CliError::input(e.to_string()))?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        return Ok(Output::new(
            format!("{b64}\n"),
            json!({"transaction": b64, "blockhash": blockhash.to_string(), "signers": required.iter().map(|k| k.to_string()).collect::<Vec<_>>()}),
        ));
    }
    if let Some(k) = keypair.filter(|k| required.contains(&k.pubkey())) {
        tx.try_partial_sign(&[k], blockhash)
            .map_err(|e| CliError::input(e.to_string()))?;
    }
    let data = tx.message_data();
    for s in &cli.signers {
        let (k, sig) = s
            .split_once('=')
            .ok_or_else(|| CliError::input(format!("--signer {s:?}: PUBKEY=SIGNATURE")))?;
        let k = pubkey(k, "--signer")?;
        let sig: Signature = sig
            .parse()
            .map_err(|_| CliError::input(format!("--signer {s:?}: not a signature")))?;
        let pos = required.iter().position(|r| *r == k).ok_or_else(|| {
            CliError::input(format!("--signer {k} does not sign this transaction"))
        })?;
        if !sig.verify(k.as_ref(), &data) {
            return Err(CliError::input(format!(
                "the signature of {k} does not verify for this transaction: nothing sent"
            )));
        }
        tx.signatures[pos] = sig;
    }
    let present: Vec<(Pubkey, Signature)> = required
        .iter()
        .zip(&tx.signatures)
        .filter(|(_, s)| **s != Signature::default())
        .map(|(k, s)| (*k, *s))
        .collect();
    let absent: Vec<Pubkey> = required
        .iter()
        .zip(&tx.signatures)
        .filter(|(_, s)| **s == Signature::default())
        .map(|(k, _)| *k)
        .collect();
    if cli.sign_only {
        let mut human = format!("Blockhash: {blockhash}\nSigners (Pubkey=Signature):\n");
        for (k, s) in &present {
            human.push_str(&format!("  {k}={s}\n"));
        }
        if !absent.is_empty() {
            human.push_str("Absent Signers (Pubkey):\n");
            for k in &absent {
                human.push_str(&format!("  {k}\n"));
            }
        }
        return Ok(Output::new(
            human,
            json!({
                "blockhash": blockhash.to_string(),
                "signers": present.iter().map(|(k, s)| format!("{k}={s}")).collect::<Vec<_>>(),
                "absent": absent.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            }),
        ));
    }
    if !absent.is_empty() {
        return Err(CliError::input(format!(
            "missing signatures of {}: sign with their keypairs or pass --signer PUBKEY=SIGNATURE",
            absent
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let sim = b.simulate(&tx).await.map_err(err_client)?;
    if let Some(e) = sim.err {
        return Err(CliError {
            message: describe_tx(&tx, &e),
            code: 1,
            logs: sim.logs,
        });
    }
    // Re-broadcast until it lands or can no longer land (a durable nonce keeps it alive
    // until the nonce moves).
    let sig = tx.signatures[0];
    let message = match land(b, &SendConfig::default(), &tx, cli.nonce.is_none())
        .await
        .map_err(err_client)?
    {
        Landing::Landed => {
            return Ok(Output::new(
                format!("Signature: {sig}\n"),
                json!({"signature": sig.to_string(), "units": sim.units_consumed}),
            ));
        }
        Landing::Expired { send_error } => {
            let why = send_error
                .map(|e| format!(" (sending it failed: {e})"))
                .unwrap_or_default();
            format!("transaction {sig} expired before it landed{why}: nothing was done, send again")
        }
        Landing::Pending => {
            format!("transaction {sig} not confirmed: check it before sending again")
        }
    };
    Err(CliError {
        message,
        code: 3,
        logs: Vec::new(),
    })
}
