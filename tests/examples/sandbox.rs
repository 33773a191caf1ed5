//! The in-process sandbox exchange session: the real compute-token and compute-futures programs
//! on solana-program-test (natively, or the SBF binaries when `SBF_OUT_DIR` is set), no
//! validator. A compute class and its price index, one H100-hour futures series, a market maker
//! refreshing quotes with `cancel_all_and_place`, two takers, publishers moving the index and a
//! keeper cranking the queue; it prints the session and checks solvency at the end.
//!
//! `cargo run --profile test -p cfx-tests --example sandbox [rounds]`

use cfx_risk::margin::HealthKind;
use cfx_tests::futures::*;
use cfx_tests::TestContext;
use compute_futures::health::{account_health, index_ticks, mark_ticks, prices};
use compute_futures::instructions::OrderArgs;
use compute_futures::state::MarginAccount;
use solana_sdk::signer::Signer;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn usd(native: i128) -> String {
    format!("{:.4}", native as f64 / USD as f64)
}

/// Initial and maintenance health of an account holding only this market, computed off-chain
/// by the program's own health function with the mark the program uses.
async fn health(fx: &mut Fx, m: &MarginAccount) -> (i128, i128) {
    let market = fx.market_state().await;
    let index = fx.index_state().await;
    let now = fx.t.now().await;
    let prices = prices(&market, &index, now).expect("fresh index");
    let known = [(&fx.market.key, &market, prices)];
    let h = |kind| account_health(m, &known, &[], now, kind).expect("health");
    (h(HealthKind::Initial), h(HealthKind::Maintenance))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(40);
    // solana-program-test logs every instruction; the session prints its own summary.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let mode = if TestContext::sbf() {
        "SBF binaries"
    } else {
        "native processors"
    };
    println!("cfx sandbox: in-process exchange ({mode}), {rounds} rounds of 30 s");
    let mut fx = Fx::new().await;
    println!(
        "exchange {}  index {}  market {} (H100 GPU-hours, 1 lot = 1 hour, tick = $0.0001, expiry in 7 days)",
        fx.exchange, fx.index, fx.market.key
    );
    let maker = fx.trader(50_000 * USD).await;
    let alice = fx.trader(5_000 * USD).await;
    let bob = fx.trader(5_000 * USD).await;
    let keeper = fx.trader(0).await;
    let names = ["maker", "alice", "bob", "keeper"];
    let all = [&maker, &alice, &bob, &keeper];
    let accounts: Vec<_> = all.iter().map(|t| t.account).collect();

    let mut rng = Rng(0xcf0c_5a4d_b0c5);
    let mut index_price = INDEX_PRICE;
    let (mut quotes, mut takes, mut refused, mut cranked) = (0, 0, 0, 0);
    let (mut place_cu, mut batch_cu, mut crank_cu) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        // Publishers move the index by up to ±0.5%.
        index_price = index_price * (995 + rng.below(11)) / 1_000;
        fx.advance(30, index_price).await;
        // The maker requotes three levels a side, 50 lots each, around the index (its fair
        // value); trades there pull the mark along.
        let (fair, mark) = {
            let market = fx.market_state().await;
            let index = fx.index_state().await;
            let now = fx.t.now().await;
            (
                index_ticks(&market, index.price).unwrap(),
                mark_ticks(&market, &index, now).unwrap(),
            )
        };
        // Within the position limit on either side (position plus all resting bids, position
        // less all resting asks): the maker quotes less on the side its inventory already
        // leans to, as a market maker managing inventory would.
        // Quotes stay inside the price band around the mark, which the exchange enforces: when
        // the mark lags a fast index, the maker's fair value can lie outside it.
        let band = {
            let bps = fx.market_state().await.price_band_bps;
            mark * bps / 10_000
        };
        let inside = |p: u64| p.clamp(mark - band, mark + band);
        let (base, limit) = {
            let m = fx.margin(&maker.account).await;
            let base = m
                .positions
                .iter()
                .find(|p| p.market == fx.market.key)
                .map(|p| p.base_lots)
                .unwrap_or(0);
            (base, fx.market_state().await.max_position_lots as i64)
        };
        let mut bid_room = (limit - base).max(0) as u64;
        let mut ask_room = (limit + base).max(0) as u64;
        let mut orders: Vec<OrderArgs> = Vec::new();
        for k in 0..3 {
            let bid = bid_room.min(50);
            if bid > 0 {
                orders.push(order(BID, POST_ONLY_SLIDE, inside(fair - 10 - 10 * k), bid));
                bid_room -= bid;
            }
            let ask = ask_room.min(50);
            if ask > 0 {
                orders.push(order(ASK, POST_ONLY_SLIDE, inside(fair + 10 + 10 * k), ask));
                ask_room -= ask;
            }
        }
        let n = orders.len();
        let i = ix(
            fx.place_accounts(&maker, &maker.owner.pubkey()),
            compute_futures::instruction::CancelAllAndPlace { orders },
        );
        match fx.t.send(&[i], &[&maker.owner]).await {
            Ok(cu) => {
                batch_cu.push(cu);
                quotes += n;
            }
            Err(e) => {
                refused += 1;
                println!("  round {round}: the maker's requote refused: {e:?}");
            }
        }
        // A taker sends a market order of 5-60 lots (GPU-hours).
        let (who, taker) = if rng.below(2) == 0 {
            ("alice", &alice)
        } else {
            ("bob", &bob)
        };
        let side = [BID, ASK][rng.below(2) as usize];
        let lots = 5 + rng.below(56);
        match fx.place(taker, order(side, MARKET, 0, lots)).await {
            Ok(cu) => {
                takes += 1;
                place_cu.push(cu);
            }
            Err(e) => {
                refused += 1;
                println!("  round {round}: {who}'s order refused: {e:?}");
            }
        }
        // The keeper applies the fills to the maker and collects the crank reward.
        while fx.queue_len().await > 0 {
            let before = fx.queue_len().await;
            crank_cu.push(fx.crank(&accounts, &keeper.account, 64).await.unwrap());
            cranked += before - fx.queue_len().await;
        }
        if round % 10 == 0 || round == rounds {
            let (bids, asks) = fx.book_orders().await;
            let m = fx.market_state().await;
            println!(
                "round {round:>3}: index ${:.4}  mark {mark}  best {} / {}  open interest {} lots  volume {} lots",
                index_price as f64 / USD as f64,
                bids.first().map(|o| o.price).unwrap_or(0),
                asks.first().map(|o| o.price).unwrap_or(0),
                m.open_interest,
                m.volume_lots,
            );
        }
    }

    println!("\naccount   position  entry $      collateral $  realized $  init health $  maint health $");
    for (name, t) in names.iter().zip(all.iter()) {
        let m = fx.margin(&t.account).await;
        let p = m
            .positions
            .iter()
            .find(|p| p.market == fx.market.key)
            .copied()
            .unwrap_or_default();
        let (init, maint) = health(&mut fx, &m).await;
        println!(
            "{name:<8} {:>9}  {:>11}  {:>12}  {:>10}  {:>13}  {:>14}",
            p.base_lots,
            usd(p.entry_quote as i128),
            usd(m.collateral as i128),
            usd(p.realized_pnl as i128),
            usd(init),
            usd(maint),
        );
    }
    let (fees, rebates, pool) = fx.market_counters().await;
    println!(
        "\n{quotes} quotes, {takes} market orders ({refused} refused), {cranked} events cranked; \
         fees accrued ${}, rebates reserved ${}, crank pool ${}",
        usd(fees as i128),
        usd(rebates as i128),
        usd(pool as i128),
    );
    fx.assert_solvent(&accounts).await;
    println!(
        "solvency: vault = Σ (collateral − entry) + fees + rebates + crank pool, positions sum to 0 ✓"
    );
    if TestContext::sbf() {
        let med = |mut v: Vec<u64>| {
            v.sort_unstable();
            v.get(v.len() / 2).copied().unwrap_or(0)
        };
        println!(
            "compute units (medians): market order {}, cancel_all_and_place of 6 {}, crank {}",
            med(place_cu),
            med(batch_cu),
            med(crank_cu)
        );
    }
}
