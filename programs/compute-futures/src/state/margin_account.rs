use anchor_lang::prelude::*;
use cfx_risk::liquidation::SocializedLoss;
use cfx_risk::position::Position;

use crate::error::FuturesError;
use crate::events::SocializedLossPaid;
use crate::keys::{is_default, key_eq};
use crate::state::{join_u128, split_u128, Market};

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
    /// Delivery record (`DELIVERY_*`).
    pub delivery: u8,
    pub _pad: [u8; 3],
    /// The market's socialized-loss index of this position's side when it last paid (u128 as
    /// [low, high]): it owes `lots × (index − this)` when next touched.
    pub loss_paid: [u64; 2],
    /// Lots opted in to take (long) or deliver (short), and where they start in the side's
    /// records (their pro-rata range).
    pub delivery_lots: u64,
    pub delivery_start: u64,
    /// Quote a long reserved out of collateral to pay for delivery.
    pub delivery_reserve: u64,
    /// A settled winner's gain, claimed from the market's settlement pool once every position
    /// there is settled.
    pub settle_gain: u64,
}

/// No delivery record.
pub const DELIVERY_NONE: u8 = 0;
/// A long opted in to take delivery.
pub const DELIVERY_LONG: u8 = 1;
/// A short opted in to deliver and has not escrowed.
pub const DELIVERY_SHORT: u8 = 2;
/// A short opted in and escrowed its tokens.
pub const DELIVERY_ESCROWED: u8 = 3;

impl PositionSlot {
    pub fn position(&self) -> Position {
        Position {
            base_lots: self.base_lots,
            entry_quote: self.entry_quote,
        }
    }

    /// Whether the position paid up to `index` (a market's raw loss index of its side): word by
    /// word, since an array comparison may become a byte-wise `memcmp` on SBF.
    #[inline(always)]
    pub fn paid_up(&self, index: &[u64; 2]) -> bool {
        self.loss_paid[0] == index[0] && self.loss_paid[1] == index[1]
    }

    pub fn loss_paid(&self) -> u128 {
        join_u128(self.loss_paid)
    }

    pub fn set_loss_paid(&mut self, index: u128) {
        self.loss_paid = split_u128(index);
    }

    /// Socialized loss this position owes at the market's index for its side, rounded up.
    pub fn loss_owed(&self, market_index: u128) -> u64 {
        let lots = self.base_lots.unsigned_abs();
        let paid = self.loss_paid();
        if lots == 0 || market_index <= paid {
            return 0;
        }
        SocializedLoss {
            index: market_index,
        }
        .owed(lots, paid)
        .unwrap_or(u64::MAX)
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
            && self.delivery == DELIVERY_NONE
            && self.settle_gain == 0
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
        join_u128(self.order_id)
    }
}

/// The bit of `MarginAccount::client_ids` for a client order id: consecutive ids get distinct
/// bits.
#[inline(always)]
pub fn client_id_bit(client_order_id: u64) -> u64 {
    1 << (client_order_id % 64)
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
    /// Where a loss this account cannot pay is attributed: the market of the fill that last left
    /// its collateral negative, and the side that carries it there (0 longs, 1 shorts: the
    /// side opposite the losing position). Fixed once a liquidation holds it (`debt_held`).
    pub debt_market: Pubkey,
    pub debt_side: u8,
    /// 1 once a liquidation left this account bankrupt and counted it in `debt_market`'s
    /// `bankruptcies_open`; 0 again when resolved.
    pub debt_held: u8,
    pub _pad2: [u8; 6],
    pub positions: [PositionSlot; MAX_POSITIONS],
    pub orders: [OrderSlot; MAX_ORDERS],
    /// The client ids of resting orders, one bit each (`client_id_bit`): set when an order is
    /// added, cleared once no order is left, so a superset. A new order's client id is looked
    /// for among the 32 order slots only when its bit is set, which for ids numbered in
    /// sequence (as market makers number them) is almost never.
    pub client_ids: u64,
    /// Room for fields added later without migrating accounts.
    pub _reserved: [u8; 120],
}

const _: () = assert!(core::mem::size_of::<MarginAccount>() == 2456);

/// One fill as it lands on one account: bought or sold `lots` worth `value` (quote native
/// units), paying `charges` out of collateral (fees, crank reward, insurance share; negative for
/// a rebate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    pub buy: bool,
    pub lots: u64,
    pub value: u128,
    pub charges: i128,
}

/// What applying one fill did to an account's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillApplied {
    /// PnL realized by the lots the fill closed (already in collateral).
    pub realized: i64,
    /// Long and short lots before and after (for open and short interest).
    pub long_before: u64,
    pub long_after: u64,
    pub short_before: u64,
    pub short_after: u64,
}

impl FillApplied {
    /// Whether the fill made the position larger on either side.
    pub fn grew(&self) -> bool {
        self.long_after > self.long_before || self.short_after > self.short_before
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

    /// Takes up to `amount` from collateral, never into debt, and returns what it took (a charge
    /// owed by whoever has it: the crank reward of an expired order's owner).
    #[inline]
    pub fn pay_up_to_collateral(&mut self, amount: u64) -> u64 {
        let take = amount.min(self.collateral.max(0) as u64);
        self.collateral -= take as i64;
        take
    }

    /// Applies a fill of `lots` worth `value` (quote native units) to position slot `pos`, as a
    /// buy or a sell: the position, its running realized PnL, and collateral credited with the
    /// PnL realized less `charges` (fees, crank reward; negative for a rebate). The one place a
    /// trade changes an account, for the taker at the order, the maker at the crank, and
    /// liquidation and settlement after them, through `trade`, which keeps the market's
    /// counters and the socialized loss with it.
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
            short_before,
            short_after: p.base_lots.min(0).unsigned_abs(),
        })
    }

    /// A trade of this account in `market` (the market of position `pos`), the one way every
    /// fill lands: the position pays the socialized loss it owes first, then the fill is applied
    /// (`apply_fill`), the market's interest counters follow, and the position starts owing from
    /// the current index of its side. A fill that leaves collateral negative attributes the loss
    /// to this market (`debt_market`) unless a liquidation already fixed it.
    #[inline(always)]
    pub fn trade(
        &mut self,
        account_key: &Pubkey,
        pos: usize,
        market: &mut Market,
        f: Fill,
    ) -> Result<FillApplied> {
        // Nearly every market never socializes a loss: then no position owes or records any.
        if !market.has_socialized_losses() {
            let fill = self.apply_fill(pos, f.buy, f.lots, f.value, f.charges)?;
            market.on_position_change(&fill)?;
            if self.collateral < 0 && self.debt_held == 0 {
                self.note_debt(pos, f.buy);
            }
            return Ok(fill);
        }
        let side_before = self.positions[pos].base_lots.signum();
        // Owes nothing unless its side's index moved since it last paid.
        if side_before != 0
            && !self.positions[pos].paid_up(&market.loss_index[(side_before < 0) as usize])
        {
            self.pay_socialized_loss(account_key, pos, market)?;
        }
        let fill = self.apply_fill(pos, f.buy, f.lots, f.value, f.charges)?;
        market.on_position_change(&fill)?;
        let slot = &mut self.positions[pos];
        let side_after = slot.base_lots.signum();
        if side_after != side_before && side_after != 0 {
            // Opened or flipped: owes from the current index of its new side.
            let index = &market.loss_index[(side_after < 0) as usize];
            slot.loss_paid = [index[0], index[1]];
        }
        if self.collateral < 0 && self.debt_held == 0 {
            self.note_debt(pos, f.buy);
        }
        Ok(fill)
    }

    /// A fill (a buy if `buy`) in position `pos` left collateral negative: the loss belongs to
    /// that market, carried by the side opposite the losing position.
    #[inline(never)]
    fn note_debt(&mut self, pos: usize, buy: bool) {
        self.debt_market = self.positions[pos].market;
        // The losing position was short when this fill bought: longs carry the loss.
        self.debt_side = if buy { 0 } else { 1 };
    }

    /// Position `pos` pays the socialized loss it owes in `market`. Collateral may go negative
    /// paying it, like any loss. Rare: out of line, off the trading path's hot code.
    #[inline(never)]
    pub fn pay_socialized_loss(
        &mut self,
        account_key: &Pubkey,
        pos: usize,
        market: &mut Market,
    ) -> Result<u64> {
        let slot = &self.positions[pos];
        let index = market.loss_index(slot.base_lots > 0);
        let owed = slot.loss_owed(index);
        if owed == 0 {
            return Ok(0);
        }
        self.credit(-(owed as i128))?;
        self.positions[pos].set_loss_paid(index);
        market.on_loss_collected(owed)?;
        crate::events::emit(&SocializedLossPaid {
            account: *account_key,
            market: self.positions[pos].market,
            amount: owed,
        });
        Ok(owed)
    }

    /// No position slot in use and collateral negative: a loss only the insurance fund or the
    /// other traders can pay.
    pub fn is_bankrupt(&self) -> bool {
        self.collateral < 0 && self.positions.iter().all(|p| is_default(&p.market))
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

    /// Frees position slot `pos` if nothing is left in it. Only the slot an instruction changed
    /// can have become idle (every instruction frees its own), so this is all a trade, a cancel
    /// or a crank event needs.
    #[inline(always)]
    pub fn release_if_idle(&mut self, pos: usize) {
        if self.positions[pos].is_idle() {
            self.positions[pos] = PositionSlot::default();
        }
    }

    /// Frees the slot of `market` if nothing is left in it.
    #[inline(always)]
    pub fn release_idle_in(&mut self, market: &Pubkey) {
        if let Some(pos) = self.find_position(market) {
            self.release_if_idle(pos);
        }
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

    /// Whether an order with `client_order_id` may rest (see `client_ids`); `false` means none
    /// does.
    #[inline(always)]
    pub fn may_hold_client_id(&self, client_order_id: u64) -> bool {
        self.client_ids & client_id_bit(client_order_id) != 0
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
        if client_order_id != 0 {
            self.client_ids |= client_id_bit(client_order_id);
        }
        self.orders[slot] = OrderSlot {
            order_id: split_u128(order_id),
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
            if p.orders == 0 {
                self.clear_client_ids_if_no_orders();
            }
        }
    }

    /// Out of line: reached when a market's last order leaves, not once per order.
    #[cold]
    #[inline(never)]
    fn clear_client_ids_if_no_orders(&mut self) {
        if self.positions.iter().all(|p| p.orders == 0) {
            self.client_ids = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client-id filter holds every resting order's id (so a repeat is always looked for)
    /// and empties with the last order.
    #[test]
    fn client_id_filter_covers_resting_orders() {
        let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
        let (m1, m2) = (Pubkey::new_unique(), Pubkey::new_unique());
        let (p1, p2) = (a.position_slot(&m1).unwrap(), a.position_slot(&m2).unwrap());
        // Ids in sequence take distinct bits; 64 apart they share one.
        let ids = [100u64, 101, 102, 164];
        for (i, cid) in ids.iter().enumerate() {
            let pos = if i % 2 == 0 { p1 } else { p2 };
            let order_id = ((25_000u128 + i as u128) << 64) | i as u128;
            a.add_order(pos, 0, order_id, *cid, 1).unwrap();
        }
        assert_eq!(a.client_ids.count_ones(), 3);
        for cid in ids {
            assert!(a.may_hold_client_id(cid));
        }
        assert!(!a.may_hold_client_id(103));
        // Orders leave: the filter stays a superset until the account has none.
        for (n, cid) in ids.iter().enumerate() {
            let pos = if n % 2 == 0 { p1 } else { p2 };
            let slot = a.find_client_order(pos, *cid).unwrap();
            a.release_order(slot, 1, true);
            for rest in &ids[n + 1..] {
                assert!(a.may_hold_client_id(*rest));
            }
        }
        assert_eq!(a.client_ids, 0);
        // Client id 0 (none) is never recorded.
        a.add_order(p1, 1, (25_000u128 << 64) | 9, 0, 1).unwrap();
        assert_eq!(a.client_ids, 0);
    }
}
