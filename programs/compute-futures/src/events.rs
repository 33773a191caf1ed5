use anchor_lang::prelude::*;
use anchor_lang::Event;

/// Room for the largest event (`OrderPlaced`: 8 + 154 bytes).
const EVENT_BUF: usize = 192;

/// Logs `event` exactly as Anchor's `emit!` does (discriminator + Borsh in one `sol_log_data`
/// field, so clients decode it the same way), serialized on the stack instead of into a growing
/// `Vec`: the trading path emits an event per order and per fill.
pub fn emit<E: Event>(event: &E) {
    let mut buf = [0u8; EVENT_BUF];
    let d = E::DISCRIMINATOR;
    buf[..d.len()].copy_from_slice(d);
    let mut w: &mut [u8] = &mut buf[d.len()..];
    let room = w.len();
    if event.serialize(&mut w).is_err() {
        // Larger than the buffer (not the case for any event here; a test checks it).
        anchor_lang::solana_program::log::sol_log_data(&[&event.data()]);
        return;
    }
    let len = d.len() + room - w.len();
    anchor_lang::solana_program::log::sol_log_data(&[&buf[..len]]);
}

#[event]
pub struct ExchangeCreated {
    pub exchange: Pubkey,
    pub admin: Pubkey,
    pub collateral_mint: Pubkey,
}

#[event]
pub struct ExchangeUpdated {
    pub exchange: Pubkey,
    pub taker_fee_bps: u16,
    pub maker_fee_bps: i16,
    pub crank_reward: u64,
    pub paused: bool,
}

#[event]
pub struct PriceIndexCreated {
    pub index: Pubkey,
    pub class: Pubkey,
    pub publishers: u8,
}

#[event]
pub struct PriceIndexUpdated {
    pub index: Pubkey,
    pub publishers: u8,
    pub min_publishers: u8,
    pub max_staleness: u64,
    pub max_conf_bps: u64,
}

#[event]
pub struct PricePublished {
    pub index: Pubkey,
    pub publisher: Pubkey,
    pub price: u64,
    pub conf: u64,
    pub publish_time: i64,
    /// Whether the index price was updated (enough fresh, tight quotes).
    pub accepted: bool,
    pub index_price: u64,
}

#[event]
pub struct MarketCreated {
    pub market: Pubkey,
    pub class: Pubkey,
    pub index: Pubkey,
    pub expiry_ts: i64,
    pub book_capacity: u32,
    pub event_capacity: u32,
}

#[event]
pub struct MarketStatusChanged {
    pub market: Pubkey,
    pub status: u8,
}

#[event]
pub struct MarginAccountCreated {
    pub account: Pubkey,
    pub owner: Pubkey,
    pub id: u32,
}

#[event]
pub struct MarginAccountClosed {
    pub account: Pubkey,
}

#[event]
pub struct DelegateSet {
    pub account: Pubkey,
    pub delegate: Pubkey,
}

#[event]
pub struct CollateralDeposited {
    pub account: Pubkey,
    pub amount: u64,
    pub collateral: i64,
}

#[event]
pub struct CollateralWithdrawn {
    pub account: Pubkey,
    pub amount: u64,
    pub collateral: i64,
}

#[event]
pub struct OrderPlaced {
    pub market: Pubkey,
    pub account: Pubkey,
    pub order_id: u128,
    pub client_order_id: u64,
    pub side: u8,
    pub order_type: u8,
    pub price: u64,
    pub lots: u64,
    pub filled_lots: u64,
    /// Quote value of the fills (ticks × lots × tick value).
    pub filled_quote: u64,
    pub posted_lots: u64,
    pub cancelled_lots: u64,
    pub taker_fee: u64,
    pub realized_pnl: i64,
}

/// One order an `OrdersCancelled` event lists.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelledOrder {
    pub order_id: u128,
    pub client_order_id: u64,
    /// Lots removed from the book.
    pub lots: u64,
}

/// The orders one instruction (a cancel, cancel-all-and-place, a liquidation of orders) took off
/// one market's book for one account. One log entry per instruction, not per order: each
/// `sol_log_data` call costs ≈ 300 CU, so a cancel-all of 20 orders logged one by one spent
/// more on logs than on the book.
#[event]
pub struct OrdersCancelled {
    pub market: Pubkey,
    pub account: Pubkey,
    pub orders: Vec<CancelledOrder>,
}

/// Discriminator, market, account and the list's length.
const CANCEL_HEAD: usize = 8 + 32 + 32 + 4;
const CANCEL_ENTRY: usize = 32;

/// Bytes of an `OrdersCancelled` log listing `orders` orders: the size of `CancelLog`'s buffer.
pub const fn cancel_log_len(orders: usize) -> usize {
    CANCEL_HEAD + CANCEL_ENTRY * orders
}

/// An `OrdersCancelled` event built in a caller's stack buffer as orders are cancelled, logged
/// once by `emit` with the bytes `emit!` would log. The caller sizes the buffer
/// (`cancel_log_len`): one order for a single cancel, `MAX_ORDERS` (an account's most) for a
/// cancel-all, so a single cancel does not pay for clearing a kilobyte.
pub struct CancelLog<'b> {
    buf: &'b mut [u8],
    n: usize,
}

impl<'b> CancelLog<'b> {
    /// `buf` must hold at least the header (`cancel_log_len(0)`).
    pub fn new(buf: &'b mut [u8], market: &Pubkey, account: &Pubkey) -> Self {
        buf[..8].copy_from_slice(OrdersCancelled::DISCRIMINATOR);
        buf[8..40].copy_from_slice(market.as_ref());
        buf[40..72].copy_from_slice(account.as_ref());
        CancelLog { buf, n: 0 }
    }

    /// Adds an order; `false` when the buffer is full.
    pub fn push(&mut self, order_id: u128, client_order_id: u64, lots: u64) -> bool {
        let at = cancel_log_len(self.n);
        let Some(e) = self.buf.get_mut(at..at + CANCEL_ENTRY) else {
            return false;
        };
        e[..16].copy_from_slice(&order_id.to_le_bytes());
        e[16..24].copy_from_slice(&client_order_id.to_le_bytes());
        e[24..].copy_from_slice(&lots.to_le_bytes());
        self.n += 1;
        true
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The event's bytes as `emit!` would log them.
    pub fn bytes(&mut self) -> &[u8] {
        self.buf[72..76].copy_from_slice(&(self.n as u32).to_le_bytes());
        &self.buf[..cancel_log_len(self.n)]
    }

    /// Logs the event, if any order was cancelled.
    pub fn emit(mut self) {
        if self.n > 0 {
            anchor_lang::solana_program::log::sol_log_data(&[self.bytes()]);
        }
    }
}

#[event]
pub struct MakerFilled {
    pub market: Pubkey,
    pub account: Pubkey,
    pub order_id: u128,
    pub price: u64,
    pub lots: u64,
    pub maker_fee: i64,
    pub realized_pnl: i64,
    pub event_seq: u64,
}

#[event]
pub struct MakerOut {
    pub market: Pubkey,
    pub account: Pubkey,
    pub order_id: u128,
    pub lots: u64,
    pub reason: u8,
    pub event_seq: u64,
}

#[event]
pub struct EventsConsumed {
    pub market: Pubkey,
    pub consumed: u32,
    pub remaining: u32,
    pub reward: u64,
}

#[event]
pub struct FeesSwept {
    pub exchange: Pubkey,
    pub market: Pubkey,
    pub amount: u64,
}

/// A liquidator cancelled the resting orders of an account below maintenance in one market.
#[event]
pub struct OrdersLiquidated {
    pub account: Pubkey,
    pub market: Pubkey,
    pub liquidator: Pubkey,
    /// Orders taken off the book.
    pub cancelled: u32,
    /// Maintenance health before (negative).
    pub maintenance_health: i128,
}

/// A liquidator took over lots of a position below maintenance at the penalty price.
#[event]
pub struct PositionLiquidated {
    pub account: Pubkey,
    pub market: Pubkey,
    pub liquidator: Pubkey,
    /// Lots taken over; positive when the liquidated account was long (the liquidator bought).
    pub base_lots: i64,
    pub price: u64,
    /// The penalty against the mark (quote native units) and the insurance fund's share of it.
    pub penalty: u64,
    pub insurance_share: u64,
    /// Queued events of the liquidated account (fills, outs) applied first.
    pub events_applied: u32,
    /// Maintenance health of the liquidated account before and after.
    pub maintenance_before: i128,
    pub maintenance_after: i128,
    /// The liquidated account's collateral after (negative: it is bankrupt).
    pub collateral_after: i64,
}

/// A bankrupt account's negative collateral was made whole: `insurance` from the insurance fund,
/// `socialized` spread over the open lots of one side of the market.
#[event]
pub struct BankruptcyResolved {
    pub account: Pubkey,
    pub market: Pubkey,
    pub insurance: u64,
    pub socialized: u64,
    /// Side that carries `socialized`: 0 longs, 1 shorts.
    pub side: u8,
    /// The side's loss index after (per lot, scaled by 10^9).
    pub loss_index: u128,
}

/// The insurance fund paid for a bankruptcy: from what the market held for it and from the
/// insurance vault.
#[event]
pub struct InsuranceDrawn {
    pub market: Pubkey,
    pub account: Pubkey,
    pub from_market: u64,
    pub from_vault: u64,
    /// What the fund may still pay for this market in the current period.
    pub room_left: u64,
}

/// A loss the insurance fund did not cover was spread over one side's open lots.
#[event]
pub struct LossSocialized {
    pub market: Pubkey,
    pub account: Pubkey,
    pub amount: u64,
    /// 0 longs, 1 shorts; the lots that carry it and the side's loss index after.
    pub side: u8,
    pub lots: u64,
    pub loss_index: u128,
}

/// A position paid its share of socialized losses when it was next touched.
#[event]
pub struct SocializedLossPaid {
    pub account: Pubkey,
    pub market: Pubkey,
    pub amount: u64,
}

/// Collateral added to the insurance fund (by anyone).
#[event]
pub struct InsuranceDeposited {
    pub exchange: Pubkey,
    pub depositor: Pubkey,
    pub amount: u64,
    /// The insurance vault's balance after.
    pub balance: u64,
}

/// The admin took collateral out of the insurance fund, above its floor.
#[event]
pub struct InsuranceWithdrawn {
    pub exchange: Pubkey,
    pub amount: u64,
    pub balance: u64,
}

/// The admin set the insurance fund's floor.
#[event]
pub struct InsuranceFloorSet {
    pub exchange: Pubkey,
    pub floor: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_event_fits_the_stack_buffer() {
        let e = OrderPlaced {
            market: Pubkey::new_unique(),
            account: Pubkey::new_unique(),
            order_id: u128::MAX,
            client_order_id: u64::MAX,
            side: 1,
            order_type: 5,
            price: u64::MAX,
            lots: u64::MAX,
            filled_lots: u64::MAX,
            filled_quote: u64::MAX,
            posted_lots: u64::MAX,
            cancelled_lots: u64::MAX,
            taker_fee: u64::MAX,
            realized_pnl: i64::MIN,
        };
        let data = e.data();
        assert_eq!(data.len(), 8 + 154);
        assert!(data.len() <= EVENT_BUF);
    }

    #[test]
    fn the_cancel_log_is_the_event_emit_would_log() {
        let (market, account) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut buf = [0u8; cancel_log_len(crate::state::MAX_ORDERS)];
        let mut log = CancelLog::new(&mut buf, &market, &account);
        let mut orders = Vec::new();
        for i in 0..crate::state::MAX_ORDERS as u64 {
            let o = CancelledOrder {
                order_id: (u128::from(i) << 64) | 7,
                client_order_id: u64::MAX - i,
                lots: i + 1,
            };
            assert!(log.push(o.order_id, o.client_order_id, o.lots));
            orders.push(o);
            let e = OrdersCancelled {
                market,
                account,
                orders: orders.clone(),
            };
            assert_eq!(log.bytes(), e.data().as_slice());
        }
        // Full: a cancel-all's buffer has room for every order slot of an account, no more.
        assert!(!log.push(1, 1, 1));
        assert_eq!(log.len(), crate::state::MAX_ORDERS);
    }
}

#[event]
pub struct OrdersReleased {
    pub market: Pubkey,
    /// Orders taken off the book, and of them those whose owner's account was passed (the
    /// others wait in the event queue for the crank).
    pub released: u32,
    pub applied: u32,
    pub remaining: u32,
}

#[event]
pub struct SettlementPriceFixed {
    pub market: Pubkey,
    pub price: u64,
    /// `SettlementSource`: 1 TWAP, 2 admin fallback.
    pub source: u8,
    /// The TWAP the price was taken from or bounded by, and the end of its window.
    pub reference_price: u64,
    pub reference_end: i64,
    pub fresh_updates: u64,
}

#[event]
pub struct PositionSettled {
    pub market: Pubkey,
    pub account: Pubkey,
    pub lots: i64,
    pub price: u64,
    /// PnL of the position at the settlement price (after any socialized loss it owed).
    pub realized_pnl: i64,
    /// Net cash of the settlement (PnL and delivery): negative = paid in; positive = the claim
    /// on the pool (`gain`), paid once the market is settled (`SettlementPaid`).
    pub net: i64,
    pub delivered_lots: u64,
    pub returned_lots: u64,
    /// Loss the account could not pay: covered by insurance (`insurance`), the rest by the
    /// winners' payout (`shortfall`).
    pub insurance: u64,
    pub shortfall: u64,
}

#[event]
pub struct SettlementPaid {
    pub market: Pubkey,
    pub account: Pubkey,
    pub gain: u64,
    pub paid: u64,
}

#[event]
pub struct DeliveryRecorded {
    pub market: Pubkey,
    pub account: Pubkey,
    /// `DELIVERY_*` of the margin account's position slot.
    pub kind: u8,
    pub lots: u64,
    pub start: u64,
    /// Quote reserved (longs) or tokens escrowed (shorts, base units).
    pub amount: u64,
}

#[event]
pub struct MarketClosed {
    pub market: Pubkey,
    pub settlement_price: u64,
    pub settled_accounts: u64,
    pub delivered_lots: u64,
    pub to_insurance: u64,
}

#[event]
pub struct SeriesTemplateSet {
    pub template: Pubkey,
    pub class: Pubkey,
    pub period: u64,
    pub next_expiry: i64,
}
