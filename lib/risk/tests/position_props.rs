//! Property: over any sequence of fills, realized PnL plus unrealized PnL at the last fill price never
//! exceeds the exact cash flow, and falls short of it by less than one quote unit per reduction.

use cfx_risk::position::Position;
use proptest::prelude::*;

proptest! {
    #[test]
    fn pnl_is_conserved_up_to_rounding_in_protocol_favour(
        fills in prop::collection::vec((any::<bool>(), 1u64..1_000, 1u64..50), 1..60),
        tick_value in 1u64..5,
    ) {
        let mut p = Position::default();
        let mut cash: i128 = 0;
        let mut realized: i128 = 0;
        let mut reductions: i128 = 0;
        let mut last = 1;
        for (buy, price, lots) in fills {
            let v = (price * lots * tick_value) as i128;
            cash += if buy { -v } else { v };
            let r = p.apply_fill(buy, price, lots, tick_value).unwrap();
            realized += r.realized as i128;
            if r.closed_lots > 0 {
                reductions += 1;
            }
            last = price;
        }
        // Exact: cash + value of the open position at `last`.
        let open = p.base_lots as i128 * (last * tick_value) as i128;
        let exact = cash + open;
        let ours = realized + p.unrealized_pnl(last, tick_value).unwrap();
        prop_assert!(ours <= exact, "ours {} exact {}", ours, exact);
        prop_assert!(exact - ours <= reductions, "lost {} over {} reductions", exact - ours, reductions);
    }
}
