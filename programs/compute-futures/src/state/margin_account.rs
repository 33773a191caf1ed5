use anchor_lang::prelude::*;
use cfx_risk::position::Position;

use crate::error::FuturesError;
use crate::keys::{is_default, key_eq};

/// Futures series one margin account can hold at once.
pub const MAX_POSITIONS: usize = 8;
/// Resting orders one margin account can have at once.
pub const MAX_ORDERS: usize = 32;

/// A position in one market, with the lots its resting orders reserve.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PositionSlot {
    /// Default = free slot.
    pub market: Pubkey,
    pub base_lots: i64,
    /// Entry notional of the open position (long > 0), quote units.
    pub entry_quote: i64,
    /// PnL realized in this market so far, quote units (informative; already in collateral).
    pub realized_pnl: i64,
    /// Lots of resting bids and asks (and of their fills the crank has not applied yet).
    pub bid_lots: u64,
    pub ask_lots: u64,
    /// Highest bid and lowest ask price (ticks) among those lots, 0 when there are none. Kept
    /// as bounds until the side's lots are all released: margin charges what filling them at
    /// these prices would lose against the mark.
    pub bid_price_max: u64,
    pub ask_price_min: u64,
    /// Resting orders in this market.
    pub orders: u32,
    pub _pad: u32,
}

impl PositionSlot {
    pub fn position(&self) -> Position {
        Position {
            base_lots: self.base_lots,
            entry_quote: self.entry_quote,
        }
    }

    pub fn set_position(&mut self, p: Position) {
        self.base_lots = p.base_lots;
        self.entry_quote = p.entry_quote;
    }

    /// Releases `lots` reserved on `side` (0 bid, 1 ask); the side's price bound goes with its
    /// last lot.
    pub fn release(&mut self, side: u8, lots: u64) {
        if side == 0 {
            self.bid_lots = self.bid_lots.saturating_sub(lots);
            if self.bid_lots == 0 {
                self.bid_price_max = 0;
            }
        } else {
            self.ask_lots = self.ask_lots.saturating_sub(lots);
            if self.ask_lots == 0 {
                self.ask_price_min = 0;
            }
        }
    }

    /// Nothing held and nothing reserved: lots of a cancelled order whose fill the crank has not
    /// applied yet keep the slot alive.
    pub fn is_idle(&self) -> bool {
        self.base_lots == 0
            && self.entry_quote == 0
            && self.orders == 0
            && self.bid_lots == 0
            && self.ask_lots == 0
    }
}

/// A resting order of this account.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OrderSlot {
    /// Book order id as [low, high] halves; 0 = free slot.
    pub order_id: [u64; 2],
    pub client_order_id: u64,
    /// Index into `positions`.
    pub position: u8,
    /// 0 bid, 1 ask.
    pub side: u8,
    pub _pad: [u8; 6],
}

impl OrderSlot {
    pub fn id(&self) -> u128 {
        ((self.order_id[1] as u128) << 64) | self.order_id[0] as u128
    }
}

/// A trader's margin account: collateral, positions in up to 8 series and up to 32 resting orders.
/// Owned by `owner`; `delegate` may trade but never withdraw.
#[account(zero_copy)]
pub struct MarginAccount {
    pub exchange: Pubkey,
    pub owner: Pubkey,
    pub delegate: Pubkey,
    /// Collateral in quote native units; negative only after a loss larger than it (bad debt).
    pub collateral: i64,
    /// Compact id the book stores as the order owner.
    pub id: u32,
    pub number: u16,
    pub bump: u8,
    pub _pad: u8,
    pub positions: [PositionSlot; MAX_POSITIONS],
    pub orders: [OrderSlot; MAX_ORDERS],
    /// Room for fields added later without migrating accounts.
    pub _reserved: [u8; 128],
}

const _: () = assert!(core::mem::size_of::<MarginAccount>() == 2032);

/// What applying one fill did to an account's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillApplied {
    /// PnL realized by the lots the fill closed (already in collateral).
    pub realized: i64,
    /// Long lots before and after (for open interest).
    pub long_before: u64,
    pub long_after: u64,
    /// Short lots the fill added.
    pub short_growth: u64,
}

impl FillApplied {
    /// Whether the fill made the position larger on either side.
    pub fn grew(&self) -> bool {
        self.long_after > self.long_before || self.short_growth > 0
    }
}

impl MarginAccount {
    pub const SEED: &'static [u8] = b"margin";

    /// Adds `amount` (negative: takes it) to collateral, which may go negative (bad debt) but
    /// never past what an i64 holds.
    #[inline]
    pub fn credit(&mut self, amount: i128) -> Result<()> {
        let c = (self.collateral as i128)
            .checked_add(amount)
            .ok_or(FuturesError::Overflow)?;
        self.collateral = i64::try_from(c).map_err(|_| FuturesError::Overflow)?;
        Ok(())
    }

    /// Applies a fill of `lots` worth `value` (quote native units) to position slot `pos`, as a
    /// buy or a sell: the position, its running realized PnL, and collateral credited with the
    /// PnL realized less `charges` (fees, crank reward; negative for a rebate). The one place a
    /// trade changes an account, for the taker at the order, the maker at the crank, and
    /// liquidation and settlement after them. The market's counters are the caller's
    /// (`Market::on_long_change` with what this returns).
    #[inline]
    pub fn apply_fill(
        &mut self,
        pos: usize,
        buy: bool,
        lots: u64,
        value: u128,
        charges: i128,
    ) -> Result<FillApplied> {
        let slot = &mut self.positions[pos];
        let mut p = slot.position();
        let long_before = p.base_lots.max(0) as u64;
        let short_before = p.base_lots.min(0).unsigned_abs();
        let realized = p
            .apply_trade(buy, lots, value)
            .map_err(FuturesError::from)?
            .realized;
        slot.set_position(p);
        // Informative running total (collateral holds the money): saturating, never a failure.
        slot.realized_pnl = slot.realized_pnl.saturating_add(realized);
        self.credit(realized as i128 - charges)?;
        Ok(FillApplied {
            realized,
            long_before,
            long_after: p.base_lots.max(0) as u64,
            short_growth: p
                .base_lots
                .min(0)
                .unsigned_abs()
                .saturating_sub(short_before),
        })
    }

    /// Releases `lots` of order `order_id`'s reservation on `side` (0 bid, 1 ask) in position
    /// `pos`, forgetting the order when `closed`. If the owner already cancelled the order (its
    /// slot is gone), the lots are still reserved on the position and are released there.
    pub fn release_lots(&mut self, pos: usize, side: u8, order_id: u128, lots: u64, closed: bool) {
        match self.find_order(pos, order_id) {
            Some(slot) => self.release_order(slot, lots, closed),
            None => self.positions[pos].release(side, lots),
        }
    }

    pub fn can_trade(&self, signer: &Pubkey) -> bool {
        key_eq(signer, &self.owner)
            || (key_eq(signer, &self.delegate) && !is_default(&self.delegate))
    }

    pub fn find_position(&self, market: &Pubkey) -> Option<usize> {
        self.positions
            .iter()
            .position(|p| key_eq(&p.market, market))
    }

    /// The slot for `market`, claiming a free one if needed.
    pub fn position_slot(&mut self, market: &Pubkey) -> Result<usize> {
        if let Some(i) = self.find_position(market) {
            return Ok(i);
        }
        let i = self
            .positions
            .iter()
            .position(|p| is_default(&p.market))
            .ok_or(FuturesError::TooManyPositions)?;
        self.positions[i] = PositionSlot {
            market: *market,
            ..PositionSlot::default()
        };
        Ok(i)
    }

    /// Frees position slots with nothing in them.
    pub fn release_idle_positions(&mut self) {
        for p in self.positions.iter_mut() {
            if p.is_idle() && !is_default(&p.market) {
                *p = PositionSlot::default();
            }
        }
    }

    /// The slot of order `order_id` in the market of position `position`. Order ids are only
    /// unique within one book, so the market must be part of the lookup.
    pub fn find_order(&self, position: usize, order_id: u128) -> Option<usize> {
        if order_id == 0 {
            return None;
        }
        self.orders
            .iter()
            .position(|o| o.id() == order_id && o.position as usize == position)
    }

    pub fn find_client_order(&self, position: usize, client_order_id: u64) -> Option<usize> {
        // The client id first: it differs for nearly every slot and is one word.
        self.orders.iter().position(|o| {
            o.client_order_id == client_order_id && o.position as usize == position && o.id() != 0
        })
    }

    /// Records a resting order and reserves its lots.
    pub fn add_order(
        &mut self,
        position: usize,
        side: u8,
        order_id: u128,
        client_order_id: u64,
        lots: u64,
    ) -> Result<()> {
        let slot = self
            .orders
            .iter()
            .position(|o| o.id() == 0)
            .ok_or(FuturesError::TooManyOrders)?;
        self.orders[slot] = OrderSlot {
            order_id: [order_id as u64, (order_id >> 64) as u64],
            client_order_id,
            position: position as u8,
            side,
            _pad: [0; 6],
        };
        // A book order id is `price << 64 | sequence`.
        let price = (order_id >> 64) as u64;
        let p = &mut self.positions[position];
        p.orders += 1;
        if side == 0 {
            p.bid_lots = p.bid_lots.checked_add(lots).ok_or(FuturesError::Overflow)?;
            p.bid_price_max = p.bid_price_max.max(price);
        } else {
            p.ask_lots = p.ask_lots.checked_add(lots).ok_or(FuturesError::Overflow)?;
            p.ask_price_min = if p.ask_price_min == 0 {
                price
            } else {
                p.ask_price_min.min(price)
            };
        }
        Ok(())
    }

    /// Releases `lots` of a resting order's reservation; forgets the order when `closed`.
    pub fn release_order(&mut self, slot: usize, lots: u64, closed: bool) {
        let o = self.orders[slot];
        self.positions[o.position as usize].release(o.side, lots);
        if closed {
            let p = &mut self.positions[o.position as usize];
            p.orders = p.orders.saturating_sub(1);
            self.orders[slot] = OrderSlot::default();
        }
    }
}
