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

#[event]
pub struct OrderCancelled {
    pub market: Pubkey,
    pub account: Pubkey,
    pub order_id: u128,
    pub client_order_id: u64,
    pub lots: u64,
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
