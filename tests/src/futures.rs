//! Fixtures for the compute-futures program: an exchange on a compute-token class with a price
//! index, one market, and traders with funded margin accounts.

use crate::{
    anchor_processor, compute_token as ct,
    context::{Prefund, Program, TestContext, TxError},
    token::spl_token_id,
};
use anchor_lang::solana_program::system_instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use cfx_book::{Book, BookRef, EventQueue, Order};
use cfx_client::ix as cfx_ix;
use compute_futures::{
    accounts as acc, instruction as ins,
    instructions::{
        FeeSchedule, IndexParams, MarketParams, OrderArgs, OrderKind, OrderSide, SelfTradeMode,
    },
    state::{book::HEADER_LEN, Exchange, MarginAccount, Market, PriceIndex},
};
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    rent::Rent,
    signature::Keypair,
    signer::Signer,
};

pub const ID: Pubkey = compute_futures::ID;
pub const T0: i64 = ct::T0;
/// Collateral has 6 decimals: 1_000_000 = $1.
pub const USD: u64 = 1_000_000;
/// Index price of one H100-hour: $2.50.
pub const INDEX_PRICE: u64 = 2_500_000;
/// One tick on one lot is $0.0001, so $2.50 is 25_000 ticks.
pub const TICK_VALUE: u64 = 100;
pub const MID: u64 = 25_000;
pub const BOOK_CAPACITY: usize = 256;
pub const QUEUE_CAPACITY: usize = 128;

pub fn program() -> Program {
    Program {
        name: "compute_futures",
        id: ID,
        processor: anchor_processor!(compute_futures::process_instruction),
    }
}

/// Anchor error code of a `FuturesError` variant.
pub fn code(e: compute_futures::error::FuturesError) -> u32 {
    e as u32 + anchor_lang::error::ERROR_CODE_OFFSET
}

pub fn pda(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &ID).0
}

pub fn delivery_vault_pda(market: &Pubkey) -> Pubkey {
    pda(&[Market::DELIVERY_VAULT_SEED, market.as_ref()])
}

pub fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

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

pub const BID: OrderSide = OrderSide::Bid;
pub const ASK: OrderSide = OrderSide::Ask;
pub const LIMIT: OrderKind = OrderKind::Limit;
pub const POST_ONLY: OrderKind = OrderKind::PostOnly;
pub const POST_ONLY_SLIDE: OrderKind = OrderKind::PostOnlySlide;
pub const IOC: OrderKind = OrderKind::ImmediateOrCancel;
pub const FOK: OrderKind = OrderKind::FillOrKill;
pub const MARKET: OrderKind = OrderKind::Market;

pub struct Trader {
    pub owner: Keypair,
    pub account: Pubkey,
    pub tokens: Pubkey,
}

#[derive(Clone, Copy, Debug)]
pub struct MarketFx {
    pub key: Pubkey,
    pub book: Pubkey,
    pub queue: Pubkey,
    pub expiry: i64,
    /// Physically delivered series: the window mint and the market's delivery vault.
    pub delivery: Option<(Pubkey, Pubkey)>,
}

pub struct Fx {
    pub t: TestContext,
    pub admin: Keypair,
    pub mint: Pubkey,
    pub exchange: Pubkey,
    pub vault: Pubkey,
    pub fee_vault: Pubkey,
    pub insurance_vault: Pubkey,
    pub class: Pubkey,
    pub index: Pubkey,
    pub publishers: Vec<Keypair>,
    pub market: MarketFx,
    /// Every market created so far (the conservation identity sums their counters).
    pub markets: Vec<Pubkey>,
    pub fees: FeeSchedule,
}

pub fn default_fees() -> FeeSchedule {
    FeeSchedule {
        taker_fee_bps: 10,
        maker_fee_bps: -2,
        crank_reward: 100,
    }
}

pub fn market_params(expiry: i64) -> MarketParams {
    cfx_client::setup::market_params("H100-GPUH-2026W5", expiry)
}

/// The first market's expiry: a week after `T0`, on the hour (expiries lie on the index's TWAP
/// grid).
pub const EXPIRY: i64 = (T0 + 7 * 86_400) / 3_600 * 3_600;

/// The settlement TWAP's window: the 30 minutes before expiry.
pub const SETTLE_WINDOW: u64 = 1_800;

impl Fx {
    /// Registry and class in compute-token, then an exchange, an index with three publishers
    /// quoting $2.50, and one market expiring in a week.
    pub async fn new() -> Fx {
        Self::new_with(None).await
    }

    /// Like `new`; with `prefund`, every account either program creates is pre-funded first
    /// (`TestContext::prefund`).
    pub async fn new_with(prefund: Option<Prefund>) -> Fx {
        let (ctm, class) = Self::compute_token_setup(prefund).await;
        Self::on(ctm, class.key).await
    }

    /// The compute-token half of `new`: a registry and the H100-GPUH class, on a context that
    /// also runs compute-futures. Create windows, providers and compute tokens here before
    /// `on` opens the exchange on the class.
    pub async fn compute_token_setup(prefund: Option<Prefund>) -> (ct::Market, ct::ClassFx) {
        let mut t = TestContext::start(vec![ct::program(), program()]).await;
        t.prefund = prefund;
        t.prefund_programs = vec![ct::ID, ID];
        t.set_time(T0).await;
        let admin = t.funded_keypair(100_000_000_000).await;
        let bond_mint = t.create_mint(&spl_token_id(), 6).await;
        let mut ctm = ct::Market {
            t,
            admin: admin.insecure_clone(),
            bond_mint,
            bond_program: spl_token_id(),
            bond_decimals: 6,
            registry: ct::registry_pda(),
            vault: ct::vault_pda(&ct::registry_pda()),
            init_cu: 0,
        };
        let i = ctm.initialize_registry_ix(&admin.pubkey());
        ctm.t.send(&[i], &[&admin]).await.expect("registry");
        let class = ctm
            .create_class(ct::Market::class_args("H100-GPUH"))
            .await
            .expect("class");
        (ctm, class)
    }

    /// The exchange, its index and first market on the class `class` of `ctm`'s registry.
    pub async fn on(ctm: ct::Market, class: Pubkey) -> Fx {
        let admin = ctm.admin.insecure_clone();
        let mut t = ctm.t;
        let mint = t.create_mint(&spl_token_id(), 6).await;
        let exchange = pda(&[Exchange::SEED, mint.as_ref()]);
        let vault = pda(&[Exchange::VAULT_SEED, exchange.as_ref()]);
        let fee_vault = pda(&[Exchange::FEE_VAULT_SEED, exchange.as_ref()]);
        let insurance_vault = pda(&[Exchange::INSURANCE_SEED, exchange.as_ref()]);
        let fees = default_fees();
        let i = ix(
            acc::CreateExchange {
                admin: admin.pubkey(),
                collateral_mint: mint,
                exchange,
                collateral_vault: vault,
                fee_vault,
                insurance_vault,
                token_program: spl_token_id(),
                system_program: anchor_lang::system_program::ID,
            },
            ins::CreateExchange { fees },
        );
        t.send(&[i], &[&admin]).await.expect("create exchange");
        let publishers: Vec<Keypair> = (0..3).map(|_| crate::context::new_keypair()).collect();
        let index = pda(&[PriceIndex::SEED, exchange.as_ref(), class.as_ref()]);
        let i = ix(
            acc::CreatePriceIndex {
                admin: admin.pubkey(),
                exchange,
                class,
                index,
                system_program: anchor_lang::system_program::ID,
            },
            ins::CreatePriceIndex {
                params: IndexParams {
                    publishers: publishers.iter().map(|k| k.pubkey()).collect(),
                    min_publishers: 3,
                    max_staleness: 60,
                    max_conf_bps: 200,
                    twap_interval: 60,
                },
            },
        );
        t.send(&[i], &[&admin]).await.expect("create index");
        let mut fx = Fx {
            t,
            admin,
            mint,
            exchange,
            vault,
            fee_vault,
            insurance_vault,
            class,
            index,
            publishers,
            market: MarketFx {
                key: Pubkey::default(),
                book: Pubkey::default(),
                queue: Pubkey::default(),
                expiry: 0,
                delivery: None,
            },
            markets: Vec::new(),
            fees,
        };
        fx.publish_all(INDEX_PRICE).await;
        fx.market = fx.create_market(EXPIRY).await.expect("create market");
        fx
    }

    pub fn publish_ix(&self, publisher: &Pubkey, price: u64, conf: u64, time: i64) -> Instruction {
        cfx_ix::publish_price(publisher, &self.index, price, conf, time)
    }

    /// Every publisher quotes `price` now.
    pub async fn publish_all(&mut self, price: u64) {
        let now = self.t.now().await;
        for k in 0..self.publishers.len() {
            let p = self.publishers[k].insecure_clone();
            let i = self.publish_ix(&p.pubkey(), price, price / 1_000, now);
            self.t.send(&[i], &[&p]).await.expect("publish");
        }
    }

    /// Moves the clock and has every publisher quote `price` at the new time.
    pub async fn advance(&mut self, seconds: i64, price: u64) {
        let now = self.t.now().await;
        self.t.set_time(now + seconds).await;
        self.publish_all(price).await;
    }

    /// Creates a market and its book and event-queue accounts.
    pub async fn create_market(&mut self, expiry: i64) -> Result<MarketFx, TxError> {
        self.create_market_with(market_params(expiry), BOOK_CAPACITY, QUEUE_CAPACITY)
            .await
    }

    pub async fn create_market_with(
        &mut self,
        params: MarketParams,
        book_capacity: usize,
        queue_capacity: usize,
    ) -> Result<MarketFx, TxError> {
        self.create_market_full(params, book_capacity, queue_capacity, None)
            .await
    }

    /// A physically delivered market on the compute-token window `window` (its mint `mint`).
    pub async fn create_physical_market(
        &mut self,
        params: MarketParams,
        window: &Pubkey,
        mint: &Pubkey,
    ) -> Result<MarketFx, TxError> {
        self.create_market_full(
            params,
            BOOK_CAPACITY,
            QUEUE_CAPACITY,
            Some((*window, *mint)),
        )
        .await
    }

    pub async fn create_market_full(
        &mut self,
        params: MarketParams,
        book_capacity: usize,
        queue_capacity: usize,
        window: Option<(Pubkey, Pubkey)>,
    ) -> Result<MarketFx, TxError> {
        self.open_market(
            params.expiry_ts,
            book_capacity,
            queue_capacity,
            window,
            |a| ix(a, ins::CreateMarket { params }),
        )
        .await
    }

    /// `list_series` of `template` for `expiry`.
    pub async fn list_series(
        &mut self,
        template: &Pubkey,
        expiry: i64,
    ) -> Result<MarketFx, TxError> {
        let template = *template;
        self.open_market(expiry, BOOK_CAPACITY, QUEUE_CAPACITY, None, |a| {
            ix(
                acc::ListSeries {
                    admin: a.admin,
                    exchange: a.exchange,
                    template,
                    class: a.class,
                    index: a.index,
                    delivery_window: None,
                    delivery_mint: None,
                    delivery_vault: None,
                    delivery_token_program: None,
                    market: a.market,
                    book: a.book,
                    event_queue: a.event_queue,
                    system_program: a.system_program,
                },
                ins::ListSeries { expiry },
            )
        })
        .await
    }

    /// Creates book and queue accounts and sends the instruction `make` builds from the market's
    /// accounts (as `create_market` takes them).
    async fn open_market(
        &mut self,
        expiry: i64,
        book_capacity: usize,
        queue_capacity: usize,
        window: Option<(Pubkey, Pubkey)>,
        make: impl FnOnce(acc::CreateMarket) -> Instruction,
    ) -> Result<MarketFx, TxError> {
        let book = crate::context::new_keypair();
        let queue = crate::context::new_keypair();
        let payer = self.t.payer_key();
        let book_len = HEADER_LEN + Book::size_for(book_capacity);
        let queue_len = HEADER_LEN + EventQueue::size_for(queue_capacity);
        let market = pda(&[
            Market::SEED,
            self.exchange.as_ref(),
            self.class.as_ref(),
            &expiry.to_le_bytes(),
        ]);
        let ixs = [
            system_instruction::create_account(
                &payer,
                &book.pubkey(),
                Rent::default().minimum_balance(book_len),
                book_len as u64,
                &ID,
            ),
            system_instruction::create_account(
                &payer,
                &queue.pubkey(),
                Rent::default().minimum_balance(queue_len),
                queue_len as u64,
                &ID,
            ),
            make(acc::CreateMarket {
                admin: self.admin.pubkey(),
                exchange: self.exchange,
                class: self.class,
                index: self.index,
                delivery_window: window.map(|w| w.0),
                delivery_mint: window.map(|w| w.1),
                delivery_vault: window.map(|_| delivery_vault_pda(&market)),
                delivery_token_program: window.map(|_| crate::token::token_2022_id()),
                market,
                book: book.pubkey(),
                event_queue: queue.pubkey(),
                system_program: anchor_lang::system_program::ID,
            }),
        ];
        let admin = self.admin.insecure_clone();
        self.t.send(&ixs, &[&admin, &book, &queue]).await?;
        self.markets.push(market);
        Ok(MarketFx {
            key: market,
            book: book.pubkey(),
            queue: queue.pubkey(),
            expiry,
            delivery: window.map(|w| (w.1, delivery_vault_pda(&market))),
        })
    }

    /// `create_series_template` `id` of the fixture's class with `args`.
    pub fn create_series_template_ix(
        &self,
        signer: &Pubkey,
        id: u16,
        args: compute_futures::instructions::SeriesTemplateArgs,
    ) -> (Instruction, Pubkey) {
        let template = pda(&[
            compute_futures::state::SeriesTemplate::SEED,
            self.exchange.as_ref(),
            self.class.as_ref(),
            &id.to_le_bytes(),
        ]);
        let i = ix(
            acc::CreateSeriesTemplate {
                admin: *signer,
                exchange: self.exchange,
                class: self.class,
                index: self.index,
                template,
                system_program: anchor_lang::system_program::ID,
            },
            ins::CreateSeriesTemplate { id, args },
        );
        (i, template)
    }

    pub fn margin_pda(&self, owner: &Pubkey, number: u16) -> Pubkey {
        pda(&[
            MarginAccount::SEED,
            self.exchange.as_ref(),
            owner.as_ref(),
            &number.to_le_bytes(),
        ])
    }

    /// A trader with a margin account holding `deposit` of collateral.
    pub async fn trader(&mut self, deposit: u64) -> Trader {
        let owner = self.t.funded_keypair(1_000_000_000).await;
        let tokens = self
            .t
            .create_token_account(&spl_token_id(), &self.mint, &owner.pubkey())
            .await;
        self.t
            .mint_tokens(&spl_token_id(), &self.mint, &tokens, 1_000_000 * USD)
            .await;
        self.margin_account(owner, tokens, 0, deposit).await
    }

    /// Margin account `number` of `owner` (paying from `tokens`), holding `deposit`.
    pub async fn margin_account(
        &mut self,
        owner: Keypair,
        tokens: Pubkey,
        number: u16,
        deposit: u64,
    ) -> Trader {
        let account = self.margin_pda(&owner.pubkey(), number);
        let i = ix(
            acc::CreateMarginAccount {
                owner: owner.pubkey(),
                exchange: self.exchange,
                account,
                system_program: anchor_lang::system_program::ID,
            },
            ins::CreateMarginAccount { number },
        );
        self.t
            .send(&[i], &[&owner])
            .await
            .expect("create margin account");
        let tr = Trader {
            owner,
            account,
            tokens,
        };
        if deposit > 0 {
            self.deposit(&tr, deposit).await.expect("deposit");
        }
        tr
    }

    pub fn deposit_ix(&self, tr: &Trader, amount: u64) -> Instruction {
        cfx_ix::deposit(
            &tr.owner.pubkey(),
            &self.keys(),
            &tr.account,
            &tr.tokens,
            amount,
        )
    }

    pub async fn deposit(&mut self, tr: &Trader, amount: u64) -> Result<u64, TxError> {
        let i = self.deposit_ix(tr, amount);
        self.t.send(&[i], &[&tr.owner]).await
    }

    pub fn withdraw_ix(&self, tr: &Trader, signer: &Pubkey, amount: u64) -> Instruction {
        cfx_ix::withdraw(
            signer,
            &self.keys(),
            &tr.account,
            &tr.tokens,
            amount,
            &[(self.market.key, self.index)],
        )
    }

    /// The markets of the account's positions in slot order, but `except`: what a trading or
    /// withdrawing instruction passes (with the index, one per market) for the margin check.
    pub async fn health_markets(
        &mut self,
        account: &Pubkey,
        except: Option<Pubkey>,
    ) -> Vec<Pubkey> {
        let m = self.margin(account).await;
        m.positions
            .iter()
            .map(|p| p.market)
            .filter(|k| *k != Pubkey::default() && Some(*k) != except)
            .collect()
    }

    /// `withdraw_ix` with the health accounts of `markets` instead of the current market's.
    pub fn withdraw_ix_with(&self, tr: &Trader, amount: u64, markets: &[Pubkey]) -> Instruction {
        cfx_ix::withdraw(
            &tr.owner.pubkey(),
            &self.keys(),
            &tr.account,
            &tr.tokens,
            amount,
            &self.pairs(markets),
        )
    }

    pub fn place_accounts(&self, tr: &Trader, signer: &Pubkey) -> acc::PlaceOrder {
        acc::PlaceOrder {
            signer: *signer,
            exchange: self.exchange,
            account: tr.account,
            market: self.market.key,
            index: self.index,
            book: self.market.book,
            event_queue: self.market.queue,
        }
    }

    pub fn place_ix(&self, tr: &Trader, args: OrderArgs) -> Instruction {
        self.place_ix_with(tr, args, &[])
    }

    /// `place_ix` with the (market, index) pairs of the trader's positions in `other_markets`,
    /// which the margin check needs.
    pub fn place_ix_with(
        &self,
        tr: &Trader,
        args: OrderArgs,
        other_markets: &[Pubkey],
    ) -> Instruction {
        cfx_ix::place_order(
            &tr.owner.pubkey(),
            &self.exchange,
            &tr.account,
            &self.market_keys(),
            args,
            &self.pairs(other_markets),
        )
    }

    pub async fn place(&mut self, tr: &Trader, args: OrderArgs) -> Result<u64, TxError> {
        let i = self.place_ix(tr, args);
        self.t.send(&[i], &[&tr.owner]).await
    }

    pub fn cancel_accounts(&self, tr: &Trader) -> acc::CancelOrder {
        acc::CancelOrder {
            signer: tr.owner.pubkey(),
            account: tr.account,
            market: self.market.key,
            book: self.market.book,
        }
    }

    pub fn crank_ix(&self, makers: &[Pubkey], reward_to: &Pubkey, limit: u16) -> Instruction {
        cfx_ix::consume_events(
            &self.exchange,
            &self.market_keys(),
            reward_to,
            makers,
            limit,
        )
    }

    pub async fn crank(
        &mut self,
        makers: &[Pubkey],
        reward_to: &Pubkey,
        limit: u16,
    ) -> Result<u64, TxError> {
        let i = self.crank_ix(makers, reward_to, limit);
        self.t.send(&[i], &[]).await
    }

    pub async fn margin(&mut self, key: &Pubkey) -> MarginAccount {
        let data = self.t.account(key).await.expect("margin account").data;
        bytemuck::pod_read_unaligned(&data[8..8 + core::mem::size_of::<MarginAccount>()])
    }

    pub async fn market_state(&mut self) -> Market {
        let key = self.market.key;
        self.market_state_of(&key).await
    }

    pub async fn market_state_of(&mut self, key: &Pubkey) -> Market {
        let data = self.t.account(key).await.expect("market").data;
        bytemuck::pod_read_unaligned(&data[8..8 + core::mem::size_of::<Market>()])
    }

    pub async fn index_state(&mut self) -> PriceIndex {
        let key = self.index;
        let data = self.t.account(&key).await.expect("index").data;
        bytemuck::pod_read_unaligned(&data[8..8 + core::mem::size_of::<PriceIndex>()])
    }

    pub async fn exchange_state(&mut self) -> Exchange {
        let key = self.exchange;
        let data = self.t.account(&key).await.expect("exchange").data;
        bytemuck::pod_read_unaligned(&data[8..8 + core::mem::size_of::<Exchange>()])
    }

    /// Resting orders (bids, asks), best first.
    pub async fn book_orders(&mut self) -> (Vec<Order>, Vec<Order>) {
        let key = self.market.book;
        let data = self.t.account(&key).await.expect("book").data;
        let payload = &data[HEADER_LEN..];
        let n = payload.len() / 8 * 8;
        let mut words = vec![0u64; n / 8];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words).copy_from_slice(&payload[..n]);
        let book = BookRef::load(bytemuck::cast_slice(&words)).expect("book");
        (book.bids.iter().collect(), book.asks.iter().collect())
    }

    /// Owner ids (maker for fills) of the queued events, oldest first.
    pub async fn queue_owners(&mut self) -> Vec<u32> {
        let key = self.market.queue;
        let data = self.t.account(&key).await.expect("queue").data;
        let mut words = vec![0u64; (data.len() - HEADER_LEN) / 8];
        let n = words.len() * 8;
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)
            .copy_from_slice(&data[HEADER_LEN..HEADER_LEN + n]);
        let q = EventQueue::load(bytemuck::cast_slice_mut(&mut words)).expect("queue");
        q.iter().map(|r| r.owner).collect()
    }

    /// Events waiting for the crank in the current market.
    pub async fn queue_len(&mut self) -> usize {
        let key = self.market.key;
        self.queue_len_of(&key).await
    }

    /// The account's health as the program computes it (`compute_health`), with the
    /// `(market, index)` of each of `markets` as the health accounts.
    pub async fn compute_health(
        &mut self,
        account: &Pubkey,
        markets: &[Pubkey],
    ) -> Result<compute_futures::instructions::HealthReport, TxError> {
        use anchor_lang::AnchorDeserialize;
        let mut accounts = acc::ComputeHealth { account: *account }.to_account_metas(None);
        for m in markets {
            accounts.push(AccountMeta::new_readonly(*m, false));
            accounts.push(AccountMeta::new_readonly(self.index, false));
        }
        let i = Instruction {
            program_id: ID,
            accounts,
            data: ins::ComputeHealth {}.data(),
        };
        self.t.send(&[i], &[]).await?;
        Ok(compute_futures::instructions::HealthReport::deserialize(
            &mut &self.t.last_return_data[..],
        )
        .expect("compute_health returns a HealthReport"))
    }

    /// Fees accrued, rebates reserved and crank pool, summed over every market.
    pub async fn market_counters(&mut self) -> (u64, u64, u64) {
        let mut sums = (0, 0, 0);
        for key in self.markets.clone() {
            let m = self.market_state_of(&key).await;
            sums.0 += m.fees_accrued;
            sums.1 += m.rebates_reserved;
            sums.2 += m.crank_pool;
        }
        sums
    }

    /// Conservation identity: the collateral vault holds every account's collateral minus the
    /// entry notional of its positions (zero-sum across accounts once the crank has run), plus
    /// each market's fees, reserved rebates, crank pool and insurance receipts, less the losses
    /// socialized onto positions and not collected from them yet. Holds with bad debt
    /// outstanding (negative collateral) too; every market's lots sum to zero.
    pub async fn assert_conserved(&mut self, accounts: &[Pubkey]) {
        let vault = self.t.token_balance(&self.vault.clone()).await as i128;
        let mut counters: i128 = 0;
        for key in self.markets.clone() {
            let m = self.market_state_of(&key).await;
            counters += m.fees_accrued as i128
                + m.rebates_reserved as i128
                + m.crank_pool as i128
                + m.insurance_accrued as i128
                - m.loss_outstanding as i128
                + m.settlement_pool()
                + m.delivery_reserved as i128;
        }
        let mut sum: i128 = 0;
        let mut base = std::collections::HashMap::<Pubkey, i128>::new();
        for a in accounts {
            let m = self.margin(a).await;
            sum += m.collateral as i128;
            for p in m.positions.iter() {
                sum -= p.entry_quote as i128;
                *base.entry(p.market).or_default() += p.base_lots as i128;
            }
        }
        for key in self.markets.clone() {
            assert_eq!(
                self.queue_len_of(&key).await,
                0,
                "checked with empty queues"
            );
        }
        for (market, lots) in base {
            assert_eq!(lots, 0, "positions in {market} do not sum to zero");
        }
        assert_eq!(
            vault,
            sum + counters,
            "vault does not match collateral + market counters"
        );
    }

    /// `assert_conserved`, and no account in bad debt.
    pub async fn assert_solvent(&mut self, accounts: &[Pubkey]) {
        for a in accounts {
            let m = self.margin(a).await;
            assert!(m.collateral >= 0, "bad debt: collateral {}", m.collateral);
        }
        self.assert_conserved(accounts).await;
    }

    /// Events waiting in `market`'s queue.
    pub async fn queue_len_of(&mut self, market: &Pubkey) -> usize {
        let queue = self.market_state_of(market).await.event_queue;
        let data = self.t.account(&queue).await.expect("queue").data;
        let mut words = vec![0u64; (data.len() - HEADER_LEN) / 8];
        let n = words.len() * 8;
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)
            .copy_from_slice(&data[HEADER_LEN..HEADER_LEN + n]);
        EventQueue::load(bytemuck::cast_slice_mut(&mut words))
            .expect("queue")
            .len()
    }

    /// `liquidate_orders` of `account` in the current market.
    pub fn liquidate_orders_ix(&self, liquidator: &Pubkey, account: &Pubkey) -> Instruction {
        cfx_ix::liquidate_orders(liquidator, account, &self.market_keys(), &[])
    }

    /// `liquidate_position` of `account` in the current market by `liquidator`, with the health
    /// accounts of the liquidated account's other markets, then of the liquidator's.
    pub async fn liquidate_position_ix(
        &mut self,
        liquidator: &Trader,
        account: &Pubkey,
        max_lots: u64,
        limit_price: u64,
    ) -> Instruction {
        let market = self.market.key;
        let theirs = self.health_markets(account, Some(market)).await;
        let mine = self.health_markets(&liquidator.account, Some(market)).await;
        let health: Vec<Pubkey> = theirs.into_iter().chain(mine).collect();
        cfx_ix::liquidate_position(
            &liquidator.owner.pubkey(),
            &liquidator.account,
            account,
            &self.market_keys(),
            max_lots,
            limit_price,
            &self.pairs(&health),
        )
    }

    pub async fn liquidate_position(
        &mut self,
        liquidator: &Trader,
        account: &Pubkey,
        max_lots: u64,
        limit_price: u64,
    ) -> Result<u64, TxError> {
        let i = self
            .liquidate_position_ix(liquidator, account, max_lots, limit_price)
            .await;
        self.t.send(&[i], &[&liquidator.owner]).await
    }

    /// `update_exchange` setting the fee schedule, signed by `signer` (the admin, to succeed).
    pub fn set_fees_ix(&self, signer: &Pubkey, fees: FeeSchedule) -> Instruction {
        cfx_ix::update_exchange(signer, &self.exchange, Some(fees), None)
    }

    /// `resolve_bankruptcy_ix` with the health accounts of the account's positions (lifting a
    /// hold on an account that still holds positions).
    pub async fn resolve_bankruptcy_ix_with_health(
        &mut self,
        account: &Pubkey,
        market: &Pubkey,
    ) -> Instruction {
        let mut i = self.resolve_bankruptcy_ix(account, market);
        for m in self.health_markets(account, None).await {
            i.accounts.push(AccountMeta::new_readonly(m, false));
            i.accounts
                .push(AccountMeta::new_readonly(self.index, false));
        }
        i
    }

    pub fn resolve_bankruptcy_ix(&self, account: &Pubkey, market: &Pubkey) -> Instruction {
        cfx_ix::resolve_bankruptcy(&self.keys(), account, market, &[])
    }

    pub fn deposit_insurance_ix(
        &self,
        depositor: &Pubkey,
        source: &Pubkey,
        amount: u64,
    ) -> Instruction {
        cfx_ix::deposit_insurance(depositor, &self.keys(), source, amount)
    }

    pub fn sweep_insurance_ix(&self, market: &Pubkey) -> Instruction {
        cfx_ix::sweep_insurance(&self.keys(), market)
    }

    /// `release_orders` of the current market, with `owners`' margin accounts.
    pub fn release_orders_ix(&self, owners: &[Pubkey], limit: u16) -> Instruction {
        cfx_ix::release_orders(&self.market_keys(), owners, limit)
    }

    pub fn fix_settlement_price_ix(&self) -> Instruction {
        cfx_ix::fix_settlement_price(&self.market_keys())
    }

    pub fn post_settlement_price_ix(&self, signer: &Pubkey, price: u64) -> Instruction {
        cfx_ix::post_settlement_price(signer, &self.exchange, &self.market_keys(), price)
    }

    /// `settle_positions` of the current market over `accounts`; on a physically delivered
    /// series each entry is (margin account, owner's delivery token account).
    pub fn settle_positions_ix(&self, accounts: &[(Pubkey, Option<Pubkey>)]) -> Instruction {
        cfx_ix::settle_positions(&self.keys(), &self.market_keys(), accounts)
    }

    /// `settle_positions` of cash-settled accounts.
    pub fn settle_ix(&self, accounts: &[Pubkey]) -> Instruction {
        let v: Vec<_> = accounts.iter().map(|a| (*a, None)).collect();
        self.settle_positions_ix(&v)
    }

    pub fn close_market_ix(&self, signer: &Pubkey) -> Instruction {
        cfx_ix::close_market(signer, &self.keys(), &self.market_keys(), None)
    }

    /// `opt_in_delivery` of `tr` for `lots`, with its positions' (market, index) pairs.
    pub fn opt_in_delivery_ix(&self, tr: &Trader, lots: u64, markets: &[Pubkey]) -> Instruction {
        cfx_ix::opt_in_delivery(
            &tr.owner.pubkey(),
            &tr.account,
            &self.market_keys(),
            lots,
            &self.pairs(markets),
        )
    }

    pub fn escrow_delivery_ix(&self, tr: &Trader, source: &Pubkey) -> Instruction {
        cfx_ix::escrow_delivery(
            &tr.owner.pubkey(),
            &self.exchange,
            &tr.account,
            &self.market_keys(),
            source,
        )
        .expect("physical market")
    }

    /// The exchange's accounts, as the client crate's builders take them.
    pub fn keys(&self) -> cfx_ix::ExchangeKeys {
        cfx_ix::ExchangeKeys {
            exchange: self.exchange,
            collateral_mint: self.mint,
            token_program: spl_token_id(),
            vault: self.vault,
            fee_vault: self.fee_vault,
            insurance_vault: self.insurance_vault,
        }
    }

    /// The current market's accounts, as the client crate's builders take them.
    pub fn market_keys(&self) -> cfx_ix::MarketKeys {
        cfx_ix::MarketKeys {
            market: self.market.key,
            index: self.index,
            book: self.market.book,
            event_queue: self.market.queue,
            delivery: self
                .market
                .delivery
                .map(|(mint, vault)| cfx_ix::DeliveryKeys {
                    mint,
                    vault,
                    token_program: crate::token::token_2022_id(),
                }),
        }
    }

    /// `(market, index)` health pairs of `markets` (one index serves them all here).
    pub fn pairs(&self, markets: &[Pubkey]) -> Vec<(Pubkey, Pubkey)> {
        markets.iter().map(|m| (*m, self.index)).collect()
    }

    /// What a client computes from decoded accounts: `account`'s health cache with the given
    /// markets' prices now (the program's own `HealthCache` over a `DecodedRetriever`).
    pub async fn off_chain_cache(
        &mut self,
        account: &Pubkey,
        markets: &[Pubkey],
    ) -> compute_futures::health::HealthCache {
        let acc = self.margin(account).await;
        let mut decoded = Vec::new();
        for m in markets {
            decoded.push((*m, self.market_state_of(m).await));
        }
        let index = self.index_state().await;
        let now = self.t.now().await;
        let mut retriever = compute_futures::health::DecodedRetriever {
            markets: &decoded,
            indexes: &[(self.index, index)],
            now,
        };
        compute_futures::health::HealthCache::new(&acc, &mut retriever).expect("health cache")
    }

    /// `market`'s mark and index now, in ticks, as the program computes them.
    pub async fn prices_of(&mut self, market: &Pubkey) -> compute_futures::health::Prices {
        let m = self.market_state_of(market).await;
        let index = self.index_state().await;
        let now = self.t.now().await;
        compute_futures::health::prices(&m, &index, now).expect("fresh index")
    }

    /// Another margin account (`number`) of `tr`'s owner, holding `deposit`.
    pub async fn second_account(&mut self, tr: &Trader, number: u16, deposit: u64) -> Trader {
        self.margin_account(tr.owner.insecure_clone(), tr.tokens, number, deposit)
            .await
    }
}

/// Asserts that `r` failed with the program error `e`.
pub fn assert_err(r: Result<u64, TxError>, e: compute_futures::error::FuturesError) {
    match r {
        Ok(_) => panic!("expected {e:?}, the transaction succeeded"),
        Err(err) => assert_eq!(
            crate::error_code(&err),
            Some(code(e)),
            "expected {e:?}, got {err:?}"
        ),
    }
}

impl Fx {
    /// Accounts a refused instruction must leave untouched: exchange, vaults, market, book, queue,
    /// index and the given margin accounts.
    pub fn watched(&self, accounts: &[Pubkey]) -> Vec<Pubkey> {
        let mut v = vec![
            self.exchange,
            self.vault,
            self.fee_vault,
            self.insurance_vault,
            self.market.key,
            self.market.book,
            self.market.queue,
            self.index,
        ];
        v.extend_from_slice(accounts);
        v
    }

    /// Sends `ixs`, has `check` judge the result, and checks that none of the watched accounts
    /// changed.
    async fn refused_with(
        &mut self,
        accounts: &[Pubkey],
        ixs: &[Instruction],
        signers: &[&Keypair],
        check: impl FnOnce(Result<u64, TxError>),
    ) {
        let keys = self.watched(accounts);
        let before = self.t.snapshot(&keys).await;
        check(self.t.send(ixs, signers).await);
        assert_eq!(
            self.t.snapshot(&keys).await,
            before,
            "a refused instruction changed state"
        );
    }

    /// `refused` for errors identified by their number (Anchor's own errors).
    pub async fn refused_code(
        &mut self,
        accounts: &[Pubkey],
        ixs: &[Instruction],
        signers: &[&Keypair],
        code: u32,
    ) {
        self.refused_with(accounts, ixs, signers, |r| match r {
            Ok(_) => panic!("expected error {code}, the transaction succeeded"),
            Err(err) => assert_eq!(
                crate::error_code(&err),
                Some(code),
                "expected error {code}, got {err:?}"
            ),
        })
        .await
    }

    /// Sends `ixs`, expects the program error `e` (any error when `None`), and checks that none of
    /// the watched accounts changed.
    pub async fn refused(
        &mut self,
        accounts: &[Pubkey],
        ixs: &[Instruction],
        signers: &[&Keypair],
        e: Option<compute_futures::error::FuturesError>,
    ) {
        self.refused_with(accounts, ixs, signers, |r| match e {
            Some(e) => assert_err(r, e),
            None => assert!(r.is_err(), "expected a refusal, the transaction succeeded"),
        })
        .await
    }
}
