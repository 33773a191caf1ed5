//! Read models: a market's book as price levels (L2) or orders (L3), and a margin account with
//! its health of every kind computed by the program's own code over decoded accounts
//! (`compute_futures::health::HealthCache` with a `DecodedRetriever`), so a keeper or a wallet
//! sees the numbers the chain will compute.

use cfx_book::Order;
use cfx_risk::margin::HealthKind;
use compute_futures::health::{prices, DecodedRetriever, HealthCache, Prices};
use compute_futures::state::{MarginAccount, Market, PriceIndex};
use solana_sdk::pubkey::Pubkey;

use crate::decode::BookOrders;
use crate::ClientError;

/// One price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    pub price: u64,
    pub lots: u64,
    pub orders: u32,
}

/// Price levels of both sides, best first, at most `depth` each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct L2 {
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

fn levels(orders: &[Order], depth: usize) -> Vec<Level> {
    let mut out: Vec<Level> = Vec::new();
    for o in orders {
        match out.last_mut() {
            Some(l) if l.price == o.price => {
                l.lots += o.lots;
                l.orders += 1;
            }
            _ => {
                if out.len() == depth {
                    break;
                }
                out.push(Level {
                    price: o.price,
                    lots: o.lots,
                    orders: 1,
                });
            }
        }
    }
    out
}

impl BookOrders {
    pub fn l2(&self, depth: usize) -> L2 {
        L2 {
            bids: levels(&self.bids, depth),
            asks: levels(&self.asks, depth),
        }
    }

    pub fn best_bid(&self) -> Option<u64> {
        self.bids.first().map(|o| o.price)
    }

    pub fn best_ask(&self) -> Option<u64> {
        self.asks.first().map(|o| o.price)
    }

    /// The orders of margin account `owner_id` (the id the book stores).
    pub fn orders_of(&self, owner_id: u32) -> impl Iterator<Item = &Order> + '_ {
        self.bids
            .iter()
            .chain(&self.asks)
            .filter(move |o| o.owner == owner_id)
    }
}

/// Health of every kind, as the program computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    pub initial: i128,
    pub withdraw: i128,
    pub solvency: i128,
    pub maintenance: i128,
    pub liquidation_end: i128,
    pub equity: i128,
}

/// One position of a margin account, valued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionView {
    pub market: Pubkey,
    pub base_lots: i64,
    pub entry_quote: i64,
    pub prices: Option<Prices>,
    /// PnL at the mark (quote native units), when the prices are known.
    pub unrealized_pnl: Option<i128>,
    pub realized_pnl: i64,
    pub bid_lots: u64,
    pub ask_lots: u64,
    /// A settled winner's claim waiting for the market's payout.
    pub settlement_claim: u64,
}

/// A margin account with its positions valued and its health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarginView {
    pub key: Pubkey,
    pub collateral: i64,
    pub positions: Vec<PositionView>,
    /// `None` when a market or index it needs was not given or is stale.
    pub health: Option<Health>,
    /// The program's refusal when health could not be computed.
    pub health_error: Option<String>,
    pub in_debt: bool,
    pub held: bool,
}

impl MarginView {
    /// Whether a liquidator may start on it (maintenance below zero).
    pub fn liquidatable(&self) -> bool {
        self.health.is_some_and(|h| h.maintenance < 0)
    }

    /// No position left and collateral below zero: `resolve_bankruptcy` covers it.
    pub fn bankrupt(&self) -> bool {
        self.collateral < 0 && self.positions.is_empty()
    }
}

/// The health cache of `acc` over decoded `markets` and `indexes` at `now`.
pub fn health_cache(
    acc: &MarginAccount,
    markets: &[(Pubkey, Market)],
    indexes: &[(Pubkey, PriceIndex)],
    now: i64,
) -> Result<HealthCache, String> {
    let mut r = DecodedRetriever {
        markets,
        indexes,
        now,
    };
    HealthCache::new(acc, &mut r).map_err(|e| e.to_string())
}

/// Values `acc` (at `key`) with the markets and indexes it trades, decoded.
pub fn margin_view(
    key: &Pubkey,
    acc: &MarginAccount,
    markets: &[(Pubkey, Market)],
    indexes: &[(Pubkey, PriceIndex)],
    now: i64,
) -> MarginView {
    let mut positions = Vec::new();
    for slot in acc
        .positions
        .iter()
        .filter(|p| p.market != Pubkey::default())
    {
        let market = markets
            .iter()
            .find(|(k, _)| *k == slot.market)
            .map(|m| &m.1);
        let p = market.and_then(|m| {
            let (_, index) = indexes.iter().find(|(k, _)| *k == m.index)?;
            prices(m, index, now).ok()
        });
        let unrealized = match (p, market) {
            (Some(p), Some(m)) => Some(
                slot.base_lots as i128 * p.mark as i128 * m.tick_value as i128
                    - slot.entry_quote as i128,
            ),
            _ => None,
        };
        positions.push(PositionView {
            market: slot.market,
            base_lots: slot.base_lots,
            entry_quote: slot.entry_quote,
            prices: p,
            unrealized_pnl: unrealized,
            realized_pnl: slot.realized_pnl,
            bid_lots: slot.bid_lots,
            ask_lots: slot.ask_lots,
            settlement_claim: slot.settle_gain,
        });
    }
    let (health, health_error) = match health_cache(acc, markets, indexes, now) {
        Ok(c) => {
            let h = |k| c.health(k).unwrap_or(i128::MIN);
            (
                Some(Health {
                    initial: h(HealthKind::Initial),
                    withdraw: h(HealthKind::Withdraw),
                    solvency: h(HealthKind::Solvency),
                    maintenance: h(HealthKind::Maintenance),
                    liquidation_end: h(HealthKind::LiquidationEnd),
                    equity: h(HealthKind::Equity),
                }),
                None,
            )
        }
        Err(e) => (None, Some(e)),
    };
    MarginView {
        key: *key,
        collateral: acc.collateral,
        positions,
        health,
        health_error,
        in_debt: acc.collateral < 0,
        held: acc.debt_held != 0,
    }
}

/// The `(market, index)` pairs of `acc`'s positions in slot order, as `withdraw` and the
/// health checks take them; `skip` leaves one market out (the order's own market).
pub fn health_accounts(
    acc: &MarginAccount,
    markets: &[(Pubkey, Market)],
    skip: Option<&Pubkey>,
) -> Result<Vec<(Pubkey, Pubkey)>, ClientError> {
    acc.positions
        .iter()
        .filter(|p| p.market != Pubkey::default() && Some(&p.market) != skip)
        .map(|p| {
            markets
                .iter()
                .find(|(k, _)| *k == p.market)
                .map(|(k, m)| (*k, m.index))
                .ok_or(ClientError::MissingAccount(p.market))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfx_book::Side;

    fn o(price: u64, lots: u64) -> Order {
        Order {
            order_id: 0,
            side: Side::Bid,
            price,
            lots,
            owner: 1,
            client_order_id: 0,
            expiry: 0,
            reduce_only: false,
        }
    }

    #[test]
    fn levels_merge_orders_at_one_price_best_first() {
        let b = BookOrders {
            bids: vec![o(100, 2), o(100, 3), o(99, 1), o(98, 1)],
            asks: vec![],
        };
        let l2 = b.l2(2);
        assert_eq!(
            l2.bids,
            vec![
                Level {
                    price: 100,
                    lots: 5,
                    orders: 2
                },
                Level {
                    price: 99,
                    lots: 1,
                    orders: 1
                }
            ]
        );
        assert_eq!(b.best_bid(), Some(100));
        assert_eq!(b.best_ask(), None);
    }
}
