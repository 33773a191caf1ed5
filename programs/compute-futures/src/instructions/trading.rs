//! What every trading instruction shares: the accounts it holds while it trades (`Trader`),
//! loading and checking them (`TradeAccounts`, `with_trader`), the margin check after it, and
//! what it records in each event's tag for the crank.

use anchor_lang::prelude::*;
use cfx_book::{Book, EventQueue};
use cfx_risk::margin::HealthKind;

use crate::error::FuturesError;
use crate::health::{account_health, prices, Prices};
use crate::keys::key_eq;
use crate::state::book::{load_book, load_queue};
use crate::state::{Exchange, MarginAccount, Market, PriceIndex};
use crate::view::{check_book_account, require_distinct, AccountView};

/// What place_order records in an event's tag for the crank: the crank reward for the event in
/// the high half; in the low half, for a fill the maker fee rate, for an out `OWNER_PAYS` when
/// the removed order was another account's expired order, whose owner, not the taker, pays the
/// reward at the crank. The crank charges, pays and
/// rewards exactly that, whatever the fee schedule is by the time it runs.
pub fn encode_tag(low: i16, crank_reward: u16) -> u32 {
    (low as u16 as u32) | ((crank_reward as u32) << 16)
}

/// (low half, crank reward) of an event's tag.
pub fn decode_tag(tag: u32) -> (i16, u16) {
    (tag as u16 as i16, (tag >> 16) as u16)
}

/// Low half of an out's tag: the order's owner pays the crank reward.
pub const OWNER_PAYS: i16 = 1;

/// Whether `event`, with `low` the low half of its tag, is an out whose order's owner pays the
/// crank reward (rather than the taker, into the market's pool). A fill's low half is a fee
/// rate and may equal `OWNER_PAYS`: only outs count.
#[inline(always)]
pub fn owner_pays(event: &cfx_book::BookEvent, low: i16) -> bool {
    matches!(event, cfx_book::BookEvent::Out(_)) && low == OWNER_PAYS
}

/// What an instruction that trades holds while it trades.
pub struct Trader<'a> {
    pub exchange: &'a Exchange,
    pub market_key: &'a Pubkey,
    pub market: &'a mut Market,
    pub account_key: &'a Pubkey,
    pub account: &'a mut MarginAccount,
    pub prices: Prices,
    pub now: i64,
}

/// Margin after trading. Normally initial health must hold. An instruction whose orders are all
/// reduce-only is exempt from that, so an account below initial margin can always cut risk: it
/// must leave maintenance health ≥ 0, or no lower than before and without bad debt (equity ≥ 0),
/// so a reduce-only sale far from the mark to a friend cannot move losses onto the exchange.
pub fn check_margin(
    t: &Trader,
    remaining: &[AccountView],
    maintenance_before: Option<i128>,
) -> Result<()> {
    let known = [(t.market_key, &*t.market, t.prices)];
    match maintenance_before {
        Some(before) => {
            let after =
                account_health(t.account, &known, remaining, t.now, HealthKind::Maintenance)?;
            let ok = after >= 0
                || (after >= before
                    && account_health(t.account, &known, remaining, t.now, HealthKind::Equity)?
                        >= 0);
            require!(ok, FuturesError::InsufficientMargin);
        }
        None => {
            let h = account_health(t.account, &known, remaining, t.now, HealthKind::Initial)?;
            require!(h >= 0, FuturesError::InsufficientMargin);
        }
    }
    Ok(())
}

/// The accounts of a trading instruction, checked and loaded: `PlaceOrder`'s, in its order,
/// then the (market, index) pairs of the account's other positions.
pub struct TradeAccounts<'a> {
    pub signer: &'a Pubkey,
    pub exchange: &'a Exchange,
    pub account_key: &'a Pubkey,
    pub account: &'a mut MarginAccount,
    pub market_key: &'a Pubkey,
    pub market: &'a mut Market,
    pub index: &'a PriceIndex,
    pub book: Book<'a>,
    pub queue: EventQueue<'a>,
    pub remaining: &'a [AccountView<'a>],
}

impl<'a> TradeAccounts<'a> {
    /// The checks of `PlaceOrder`'s Anchor constraints plus the ones between accounts: every
    /// account distinct, owned by this program, of its type, writable where written, and the
    /// market's own index, book and queue.
    #[inline(always)]
    pub fn load(views: &'a [AccountView<'a>]) -> Result<Self> {
        let [signer, exchange, account, market, index, book, queue, remaining @ ..] = views else {
            return Err(anchor_lang::error::ErrorCode::AccountNotEnoughKeys.into());
        };
        signer.check_signer()?;
        require_distinct(&views[..7])?;
        check_book_account(book)?;
        check_book_account(queue)?;
        // SAFETY: the seven accounts are distinct (no repeats above) and each is borrowed once;
        // the exchange is only read.
        let (exchange_data, acc, m, idx) = unsafe {
            (
                exchange.load::<Exchange>()?,
                account.load_mut::<MarginAccount>()?,
                market.load_mut::<Market>()?,
                index.load::<PriceIndex>()?,
            )
        };
        require!(
            key_eq(&acc.exchange, exchange.key()),
            FuturesError::WrongExchange
        );
        require!(
            key_eq(&m.exchange, exchange.key()),
            FuturesError::WrongExchange
        );
        require!(key_eq(index.key(), &m.index), FuturesError::WrongIndex);
        require!(key_eq(book.key(), &m.book), FuturesError::WrongBookAccount);
        require!(
            key_eq(queue.key(), &m.event_queue),
            FuturesError::WrongBookAccount
        );
        let market_key = market.key();
        // SAFETY: as above.
        let (book_data, queue_data) = unsafe { (book.data_mut(), queue.data_mut()) };
        Ok(TradeAccounts {
            signer: signer.key(),
            exchange: exchange_data,
            account_key: account.key(),
            account: acc,
            market_key,
            market: m,
            index: idx,
            book: load_book(book_data, market_key)?,
            queue: load_queue(queue_data, market_key)?,
            remaining,
        })
    }
}

/// Runs `f` with everything a trading instruction needs loaded and checked, then checks margin.
/// `reduce_only`: every order `f` places is reduce-only (see `check_margin`).
pub fn with_trader<R>(
    views: &[AccountView],
    reduce_only: bool,
    f: impl FnOnce(&mut Trader, &mut Book, &mut EventQueue) -> Result<R>,
) -> Result<R> {
    crate::probe!("with_trader");
    let a = TradeAccounts::load(views)?;
    crate::probe!("loaded");
    require!(a.account.can_trade(a.signer), FuturesError::NotAuthorized);
    let now = Clock::get()?.unix_timestamp;
    crate::probe!("clock");
    let prices = prices(a.market, a.index, now)?;
    crate::probe!("mark");
    let maintenance_before = if reduce_only {
        Some(account_health(
            a.account,
            &[(a.market_key, &*a.market, prices)],
            a.remaining,
            now,
            HealthKind::Maintenance,
        )?)
    } else {
        None
    };
    let (mut book, mut queue) = (a.book, a.queue);
    let mut t = Trader {
        exchange: a.exchange,
        market_key: a.market_key,
        market: a.market,
        account_key: a.account_key,
        account: a.account,
        prices,
        now,
    };
    let r = f(&mut t, &mut book, &mut queue)?;
    crate::probe!("placed");
    t.account.release_idle_in(t.market_key);
    crate::probe!("released");
    check_margin(&t, a.remaining, maintenance_before)?;
    crate::probe!("margin");
    Ok(r)
}
