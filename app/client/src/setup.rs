//! Setting up on any backend: mints and token accounts, and a whole exchange — registry and
//! class in compute-token, the exchange, its index with publishers, markets and funded traders.
//! The sandbox and the keeper tests run on it, as a deployment script would.

use anchor_lang::solana_program::system_instruction;
use compute_futures::instructions::{FeeSchedule, IndexParams, MarketParams};
use compute_token::instructions::CreateClassArgs;
use solana_sdk::{program_pack::Pack, pubkey::Pubkey, signature::Keypair, signer::Signer};

use crate::backend::Backend;
use crate::ix::{self, ExchangeKeys, MarketKeys};
use crate::sender::{send, SendConfig};
use crate::token_ix::{self, Bond};
use crate::{pda, ClientError};

/// Market parameters for an H100-hour series named `name` expiring at `expiry` (on the index's
/// TWAP grid): one lot = one unit, a tick = 100 native units of a 6-decimal collateral per lot,
/// 10% / 6.5% margins, a ±3% price band, trading until an hour before expiry, a 30-minute
/// settlement window with 5 fresh updates, delivery opt-ins until 10 minutes before expiry. The
/// tests, the keeper tests and the sandbox start from these.
pub fn market_params(name: &str, expiry: i64) -> MarketParams {
    let mut n = [0u8; 24];
    let len = name.len().min(24);
    n[..len].copy_from_slice(&name.as_bytes()[..len]);
    MarketParams {
        name: n,
        lot_size: 1,
        tick_value: 100,
        min_order_lots: 1,
        max_position_lots: 1_000,
        max_open_interest: 5_000,
        initial_margin_bps: 1_000,
        maintenance_margin_bps: 650,
        pnl_weight_bps: 5_000,
        price_band_bps: 300,
        ema_period: 300,
        ema_reference_lots: 100,
        mark_band_max_bps: 1_000,
        mark_band_min_bps: 50,
        mark_narrow_period: 86_400,
        last_trade_ts: expiry - 3_600,
        expiry_ts: expiry,
        liq_end_bps: 800,
        liq_penalty_bps: 250,
        liq_insurance_share_bps: 3_000,
        liq_dust_lots: 2,
        insurance_cap: 1_000_000_000,
        insurance_period: 86_400,
        settle_window: 1_800,
        settle_min_updates: 5,
        settle_fallback_delay: 3_600,
        settle_fallback_band_bps: 500,
        delivery_cutoff_ts: expiry - 600,
        delivery_penalty_bps: 1_000,
    }
}

/// The H100 GPU-hour class the tests, the keeper tests and the sandbox list: whole units, 2 bond
/// tokens per unit, a 10-minute grace period, a 10% default penalty.
pub fn h100_class() -> CreateClassArgs {
    CreateClassArgs {
        symbol: "H100-GPUH".into(),
        unit_description: "1 GPU-hour of H100 SXM 80GB".into(),
        decimals: 0,
        bond_per_unit: 2_000_000,
        grace_period: 600,
        penalty_bps: 1_000,
    }
}

/// Their fee schedule: 10 bps taker, a 2 bps maker rebate, 100 native units per cranked event.
pub fn default_fees() -> FeeSchedule {
    FeeSchedule {
        taker_fee_bps: 10,
        maker_fee_bps: -2,
        crank_reward: 100,
    }
}

/// A new mint of `program` with `payer` as its authority.
pub async fn create_mint<B: Backend>(
    b: &B,
    payer: &Keypair,
    program: &Pubkey,
    decimals: u8,
) -> Result<Pubkey, ClientError> {
    let mint = Keypair::new();
    let len = anchor_spl::token::spl_token::state::Mint::LEN;
    let rent = solana_sdk::rent::Rent::default().minimum_balance(len);
    let ixs = [
        system_instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            rent,
            len as u64,
            program,
        ),
        anchor_spl::token_2022::spl_token_2022::instruction::initialize_mint2(
            program,
            &mint.pubkey(),
            &payer.pubkey(),
            None,
            decimals,
        )
        .map_err(|e| ClientError::Rpc(e.to_string()))?,
    ];
    send(b, &SendConfig::default(), payer, &[&mint], &ixs).await?;
    Ok(mint.pubkey())
}

/// `owner`'s associated token account of `mint`, created if missing.
pub async fn token_account<B: Backend>(
    b: &B,
    payer: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
    program: &Pubkey,
) -> Result<Pubkey, ClientError> {
    let ata = anchor_spl::associated_token::get_associated_token_address_with_program_id(
        owner, mint, program,
    );
    if b.get_account(&ata).await?.is_none() {
        let i = anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
            &payer.pubkey(), owner, mint, program,
        );
        send(b, &SendConfig::default(), payer, &[], &[i]).await?;
    }
    Ok(ata)
}

/// Mints `amount` of `mint` (authority `payer`) to `to`.
pub async fn mint_to<B: Backend>(
    b: &B,
    payer: &Keypair,
    program: &Pubkey,
    mint: &Pubkey,
    to: &Pubkey,
    amount: u64,
) -> Result<(), ClientError> {
    let i = anchor_spl::token_2022::spl_token_2022::instruction::mint_to(
        program,
        mint,
        to,
        &payer.pubkey(),
        &[],
        amount,
    )
    .map_err(|e| ClientError::Rpc(e.to_string()))?;
    send(b, &SendConfig::default(), payer, &[], &[i]).await?;
    Ok(())
}

/// Moves lamports from `payer` to `to`.
pub async fn fund<B: Backend>(
    b: &B,
    payer: &Keypair,
    to: &Pubkey,
    lamports: u64,
) -> Result<(), ClientError> {
    let i = system_instruction::transfer(&payer.pubkey(), to, lamports);
    send(b, &SendConfig::default(), payer, &[], &[i]).await?;
    Ok(())
}

/// An exchange set up on a backend: its keys, its class and index, its publishers.
pub struct Session {
    pub admin: Keypair,
    pub exchange: ExchangeKeys,
    pub bond: Bond,
    pub class: Pubkey,
    pub index: Pubkey,
    pub publishers: Vec<Keypair>,
    pub markets: Vec<MarketKeys>,
}

/// A trader: its wallet, collateral token account and margin account.
pub struct Trader {
    pub owner: Keypair,
    pub tokens: Pubkey,
    pub account: Pubkey,
}

impl Session {
    /// compute-token's registry and a class (decimals 0: one token is one unit), an exchange on
    /// a new 6-decimal SPL collateral mint (fees as given), and the class's index with
    /// `publishers` publishers, all required, quotes fresh for `staleness` seconds, on a 60 s
    /// TWAP grid. `admin` pays.
    pub async fn open<B: Backend>(
        b: &B,
        admin: Keypair,
        class: CreateClassArgs,
        fees: FeeSchedule,
        publishers: usize,
        staleness: u64,
    ) -> Result<Session, ClientError> {
        let spl = anchor_spl::token::ID;
        let cfg = SendConfig::default();
        let bond = Bond {
            mint: create_mint(b, &admin, &spl, 6).await?,
            token_program: spl,
        };
        send(
            b,
            &cfg,
            &admin,
            &[],
            &[token_ix::initialize_registry(&admin.pubkey(), &bond)],
        )
        .await?;
        let class_key = pda::token::class(&pda::token::registry(), &class.symbol);
        send(
            b,
            &cfg,
            &admin,
            &[],
            &[token_ix::create_class(&admin.pubkey(), class)],
        )
        .await?;
        let collateral = create_mint(b, &admin, &spl, 6).await?;
        let exchange = ExchangeKeys::derive(&collateral, &spl);
        send(
            b,
            &cfg,
            &admin,
            &[],
            &[ix::create_exchange(&admin.pubkey(), &exchange, fees)],
        )
        .await?;
        let pubs: Vec<Keypair> = (0..publishers).map(|_| Keypair::new()).collect();
        for p in &pubs {
            fund(b, &admin, &p.pubkey(), 100_000_000).await?;
        }
        let params = IndexParams {
            publishers: pubs.iter().map(|k| k.pubkey()).collect(),
            min_publishers: publishers as u8,
            max_staleness: staleness,
            max_conf_bps: 200,
            twap_interval: 60,
        };
        send(
            b,
            &cfg,
            &admin,
            &[],
            &[ix::create_price_index(
                &admin.pubkey(),
                &exchange.exchange,
                &class_key,
                params,
            )],
        )
        .await?;
        Ok(Session {
            index: pda::price_index(&exchange.exchange, &class_key),
            admin,
            exchange,
            bond,
            class: class_key,
            publishers: pubs,
            markets: Vec::new(),
        })
    }

    /// Every publisher quotes `price` as of `now`.
    pub async fn publish<B: Backend>(
        &self,
        b: &B,
        price: u64,
        now: i64,
    ) -> Result<(), ClientError> {
        for p in &self.publishers {
            let i = ix::publish_price(&p.pubkey(), &self.index, price, price / 1_000, now);
            send(b, &SendConfig::default(), &self.admin, &[p], &[i]).await?;
        }
        Ok(())
    }

    /// Lists a cash-settled market with `params`, a book of `book_capacity` orders per side
    /// and a queue of `queue_capacity` events.
    pub async fn list_market<B: Backend>(
        &mut self,
        b: &B,
        params: MarketParams,
        book_capacity: usize,
        queue_capacity: usize,
    ) -> Result<MarketKeys, ClientError> {
        let (book, queue) = (Keypair::new(), Keypair::new());
        let admin = self.admin.pubkey();
        let mut ixs = ix::create_book_accounts(
            &admin,
            &book.pubkey(),
            &queue.pubkey(),
            book_capacity,
            queue_capacity,
        )
        .to_vec();
        ixs.push(ix::create_market(
            &admin,
            &self.exchange.exchange,
            &self.class,
            &book.pubkey(),
            &queue.pubkey(),
            None,
            params,
        ));
        send(
            b,
            &SendConfig::default(),
            &self.admin,
            &[&book, &queue],
            &ixs,
        )
        .await?;
        let keys = MarketKeys {
            market: pda::market(&self.exchange.exchange, &self.class, params.expiry_ts),
            index: self.index,
            book: book.pubkey(),
            event_queue: queue.pubkey(),
            delivery: None,
        };
        self.markets.push(keys);
        Ok(keys)
    }

    /// A funded wallet with a margin account holding `deposit` of collateral (and as much again
    /// in its token account).
    pub async fn trader<B: Backend>(&self, b: &B, deposit: u64) -> Result<Trader, ClientError> {
        let owner = Keypair::new();
        fund(b, &self.admin, &owner.pubkey(), 1_000_000_000).await?;
        let spl = self.exchange.token_program;
        let tokens = token_account(
            b,
            &self.admin,
            &self.exchange.collateral_mint,
            &owner.pubkey(),
            &spl,
        )
        .await?;
        mint_to(
            b,
            &self.admin,
            &spl,
            &self.exchange.collateral_mint,
            &tokens,
            deposit.max(1) * 2,
        )
        .await?;
        let (i, account) = ix::create_margin_account(&owner.pubkey(), &self.exchange.exchange, 0);
        let mut ixs = vec![i];
        if deposit > 0 {
            ixs.push(ix::deposit(
                &owner.pubkey(),
                &self.exchange,
                &account,
                &tokens,
                deposit,
            ));
        }
        send(b, &SendConfig::default(), &self.admin, &[&owner], &ixs).await?;
        Ok(Trader {
            owner,
            tokens,
            account,
        })
    }
}
