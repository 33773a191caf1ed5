//! Physical delivery at expiry: longs opt in with the cash reserved, shorts opt in and escrow
//! compute tokens of a compute-token delivery window, and settlement hands the tokens over pro
//! rata with deterministic rounding. Tokens and cash are conserved, the window's supply is
//! unchanged, a short that escrowed nothing pays the longs it failed, and escrow is locked from
//! the cut-off until settlement.
#![allow(deprecated)]

use cfx_risk::settlement::{penalty_pool, settle_delivery, DeliveryRole, DeliveryTotals};
use cfx_tests::futures::*;
use cfx_tests::token::{spl_token_id, token_2022_id};
use compute_futures::error::FuturesError as E;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

/// The physically delivered series expires a day after the fixture's first market.
const P_EXPIRY: i64 = EXPIRY + 86_400;

struct Side {
    tr: Trader,
    /// Token account of the window mint.
    units: Pubkey,
    /// Position lots, lots opted in, and whether it escrows (shorts).
    lots: u64,
    opt: u64,
    escrow: bool,
}

struct Physical {
    fx: Fx,
    mint: Pubkey,
    longs: Vec<Side>,
    shorts: Vec<Side>,
    k: Trader,
}

async fn trader_for(fx: &mut Fx, owner: Keypair, deposit: u64) -> Trader {
    let tokens =
        fx.t.create_token_account(&spl_token_id(), &fx.mint.clone(), &owner.pubkey())
            .await;
    let mint = fx.mint;
    fx.t.mint_tokens(&spl_token_id(), &mint, &tokens, 1_000_000 * USD)
        .await;
    fx.margin_account(owner, tokens, 0, deposit).await
}

/// A provider mints each short its position's lots of a delivery window's tokens; the shorts
/// sell their lots at MID to the longs; the clock stands at the last-trade time.
async fn physical(longs: &[(u64, u64)], shorts: &[(u64, u64, bool)]) -> Physical {
    physical_with(longs, shorts, false).await
}

/// `physical`; with `resting`, the first short also leaves an ask of 1 lot on the book.
async fn physical_with(
    longs: &[(u64, u64)],
    shorts: &[(u64, u64, bool)],
    resting: bool,
) -> Physical {
    let (mut ctm, class) = Fx::compute_token_setup(None).await;
    let p = ctm.new_provider(&class.key, 1_000 * 2_000_000).await;
    ctm.deposit(&p, 1_000 * 2_000_000).await.unwrap();
    let w = ctm
        .create_window(&class, P_EXPIRY + 3_600, P_EXPIRY + 7_200, "2026W50")
        .await
        .unwrap();
    let mut owners = Vec::new();
    for (i, lots) in longs
        .iter()
        .map(|l| l.0)
        .chain(shorts.iter().map(|s| s.0))
        .enumerate()
    {
        let o = ctm.t.funded_keypair(1_000_000_000).await;
        let units = ctm.holder_account(&w, &o.pubkey()).await;
        if i >= longs.len() {
            ctm.mint_units(&p, &w, &units, lots).await.unwrap();
        }
        owners.push((o, units));
    }
    let mut fx = Fx::on(ctm, class.key).await;
    fx.market = fx
        .create_physical_market(market_params(P_EXPIRY), &w.key, &w.mint)
        .await
        .unwrap();
    let mut owners = owners.into_iter();
    let mut ls = Vec::new();
    for &(lots, opt) in longs {
        let (o, units) = owners.next().unwrap();
        let tr = trader_for(&mut fx, o, 1_000 * USD).await;
        ls.push(Side {
            tr,
            units,
            lots,
            opt,
            escrow: false,
        });
    }
    let mut ss = Vec::new();
    for &(lots, opt, escrow) in shorts {
        let (o, units) = owners.next().unwrap();
        let tr = trader_for(&mut fx, o, 1_000 * USD).await;
        ss.push(Side {
            tr,
            units,
            lots,
            opt,
            escrow,
        });
    }
    let k = fx.trader(10 * USD).await;
    for s in &ss {
        fx.place(&s.tr, order(ASK, POST_ONLY, MID, s.lots))
            .await
            .unwrap();
    }
    for l in &ls {
        fx.place(&l.tr, order(BID, IOC, MID, l.lots)).await.unwrap();
    }
    let makers: Vec<Pubkey> = ss.iter().map(|s| s.tr.account).collect();
    fx.crank(&makers, &k.account, 64).await.unwrap();
    if resting {
        fx.place(&ss[0].tr, order(ASK, POST_ONLY, MID + 500, 1))
            .await
            .unwrap();
    }
    // Opting in before the last trade is refused.
    if let Some(l) = ls.first() {
        let i = fx.opt_in_delivery_ix(&l.tr, 1, &[fx.market.key]);
        fx.refused(
            &[l.tr.account, fx.market.key],
            &[i],
            &[&l.tr.owner],
            Some(E::OutsideDeliveryWindow),
        )
        .await;
    }
    let now = fx.t.now().await;
    fx.advance(P_EXPIRY - 3_600 - now, INDEX_PRICE).await;
    Physical {
        fx,
        mint: w.mint,
        longs: ls,
        shorts: ss,
        k,
    }
}

/// Everyone opts in (shorts escrow where they do), the settlement price is fixed at $2.60, and
/// every account settles; checks tokens, cash and the window's supply to the unit.
async fn deliver(mut x: Physical) {
    let market = x.fx.market.key;
    let (_, vault) = x.fx.market.delivery.unwrap();
    for l in &x.longs {
        let i = x.fx.opt_in_delivery_ix(&l.tr, l.opt, &[market]);
        x.fx.t.send(&[i], &[&l.tr.owner]).await.unwrap();
    }
    for s in &x.shorts {
        let i = x.fx.opt_in_delivery_ix(&s.tr, s.opt, &[market]);
        x.fx.t.send(&[i], &[&s.tr.owner]).await.unwrap();
        if s.escrow {
            let i = x.fx.escrow_delivery_ix(&s.tr, &s.units);
            x.fx.t.send(&[i], &[&s.tr.owner]).await.unwrap();
        }
    }
    let totals = DeliveryTotals {
        long_opted: x.longs.iter().map(|l| l.opt).sum(),
        short_opted: x.shorts.iter().map(|s| s.opt).sum(),
        short_escrowed: x.shorts.iter().filter(|s| s.escrow).map(|s| s.opt).sum(),
    };
    let m = x.fx.market_state().await;
    assert_eq!(
        (
            m.delivery_long_opted,
            m.delivery_short_opted,
            m.delivery_short_escrowed
        ),
        (totals.long_opted, totals.short_opted, totals.short_escrowed)
    );
    let supply = x.fx.t.mint_supply(&x.mint).await;
    let escrowed = x.fx.t.token_balance(&vault).await;
    assert_eq!(escrowed, totals.short_escrowed);
    let all: Vec<Pubkey> = x
        .longs
        .iter()
        .chain(&x.shorts)
        .map(|s| s.tr.account)
        .chain([x.k.account])
        .collect();
    x.fx.assert_conserved(&all).await;

    // The settlement window at $2.60, crossing the delivery cut-off (10 minutes before expiry).
    let e = x.fx.market.expiry;
    x.fx.t.set_time(e - SETTLE_WINDOW as i64).await;
    x.fx.publish_all(2_600_000).await;
    for _ in 0..4 {
        x.fx.advance(300, 2_600_000).await;
    }
    x.fx.advance(60, 2_600_000).await;
    // Past the cut-off: no more opt-ins or escrow (a short that has not escrowed cannot start).
    if let Some(s) = x.shorts.iter().find(|s| !s.escrow) {
        let i = x.fx.escrow_delivery_ix(&s.tr, &s.units);
        let owner = s.tr.owner.insecure_clone();
        x.fx.refused(
            &[vault, s.tr.account, market],
            &[i],
            &[&owner],
            Some(E::OutsideDeliveryWindow),
        )
        .await;
    }
    let l = &x.longs[0];
    let i = x.fx.opt_in_delivery_ix(&l.tr, 1, &[market]);
    let owner = l.tr.owner.insecure_clone();
    x.fx.refused(
        &[l.tr.account, market],
        &[i],
        &[&owner],
        Some(E::OutsideDeliveryWindow),
    )
    .await;
    x.fx.advance(240, 2_600_000).await;
    x.fx.advance(360, 2_600_000).await;
    let i = x.fx.fix_settlement_price_ix();
    x.fx.t.send(&[i], &[]).await.unwrap();
    let price = 26_000;

    // What each account is due: its position at the price, and its delivery.
    let mut expect = Vec::new();
    let (mut long_start, mut short_start) = (0, 0);
    for (n, s) in x.longs.iter().chain(&x.shorts).enumerate() {
        let acc = x.fx.margin(&s.tr.account).await;
        let slot = acc.positions.iter().find(|p| p.market == market).unwrap();
        let pnl = slot.base_lots * (price * TICK_VALUE) as i64 - slot.entry_quote;
        let role = if n < x.longs.len() {
            let r = DeliveryRole::Long {
                start: long_start,
                lots: s.opt,
            };
            long_start += s.opt;
            r
        } else {
            let r = DeliveryRole::Short {
                start: short_start,
                lots: s.opt,
                escrowed: s.escrow,
            };
            if s.escrow {
                short_start += s.opt;
            }
            r
        };
        assert_eq!(
            slot.delivery_start,
            match role {
                DeliveryRole::Long { start, .. } => start,
                DeliveryRole::Short {
                    start,
                    escrowed: true,
                    ..
                } => start,
                _ => 0,
            }
        );
        let d = settle_delivery(role, &totals, price, TICK_VALUE, 1_000).unwrap();
        let net = pnl + d.owed as i64 - d.pays as i64;
        let tokens = x.fx.t.token_balance(&s.units).await;
        expect.push((
            acc.collateral + slot.delivery_reserve as i64,
            net,
            d,
            tokens,
        ));
    }
    let pays: u64 = expect.iter().map(|e| e.2.pays).sum();
    let owed: u64 = expect.iter().map(|e| e.2.owed).sum();
    let pool = penalty_pool(&totals, price, TICK_VALUE, 1_000).unwrap();
    let failed_pay: u64 = x
        .shorts
        .iter()
        .filter(|s| !s.escrow)
        .map(|s| s.opt * price * TICK_VALUE / 10)
        .sum();
    assert_eq!(pays - failed_pay, owed - pool, "cash for tokens balances");

    let pairs: Vec<(Pubkey, Option<Pubkey>)> = x
        .longs
        .iter()
        .chain(&x.shorts)
        .map(|s| (s.tr.account, Some(s.units)))
        .collect();
    // Margin accounts without their token accounts on a physical series: refused.
    let bare = x.fx.settle_ix(&[pairs[0].0]);
    x.fx.refused(&[pairs[0].0], &[bare], &[], None).await;
    // A token account of someone else: refused.
    let mut wrong = pairs.clone();
    wrong[0].1 = pairs[1].1;
    let i = x.fx.settle_positions_ix(&wrong);
    x.fx.refused(
        &[pairs[0].0, pairs[1].0],
        &[i],
        &[],
        Some(E::WrongDeliveryAccount),
    )
    .await;
    let i = x.fx.settle_positions_ix(&pairs);
    x.fx.t.send(&[i], &[]).await.unwrap();
    let n_longs = x.longs.len();
    for (n, (s, (coll, net, d, tokens))) in x.longs.iter().chain(&x.shorts).zip(&expect).enumerate()
    {
        let after = x.fx.margin(&s.tr.account).await.collateral;
        assert_eq!(after, coll + net, "cash of {}", s.tr.account);
        // Longs receive their share; shorts get back what the longs did not take.
        let received = if n < n_longs { d.lots } else { d.returned_lots };
        assert_eq!(
            x.fx.t.token_balance(&s.units).await,
            tokens + received,
            "tokens of {}",
            s.tr.account
        );
    }
    assert_eq!(
        x.fx.t.token_balance(&vault).await,
        0,
        "escrow all handed out"
    );
    // Supply unchanged: every token minted is in a holder's account.
    let held: u64 = {
        let mut h = 0;
        for s in x.longs.iter().chain(&x.shorts) {
            h += x.fx.t.token_balance(&s.units).await;
        }
        h
    };
    let minted: u64 = x.shorts.iter().map(|s| s.lots).sum();
    assert_eq!(held, minted);
    let mint = x.fx.t.account(&x.mint).await.unwrap();
    assert_eq!(mint.owner, token_2022_id());
    x.fx.crank(&[], &x.k.account, 16).await.unwrap();
    x.fx.assert_conserved(&all).await;
    let m = x.fx.market_state().await;
    assert_eq!(m.delivered_lots, totals.delivered());
    assert_eq!(
        (m.open_interest, m.short_interest, m.delivery_reserved),
        (0, 0, 0)
    );
    assert_eq!(
        x.fx.t.mint_supply(&x.mint).await,
        supply,
        "nothing minted or burned"
    );
    // A token sent to the vault after every delivery was settled does not block closing: it is
    // swept to an account the admin names.
    let admin = x.fx.admin.insecure_clone();
    let donor = &x.longs[0];
    if x.fx.t.token_balance(&donor.units).await > 0 {
        let owner = donor.tr.owner.insecure_clone();
        x.fx.t
            .transfer_tokens(
                &token_2022_id(),
                &donor.units,
                &x.mint,
                &vault,
                &owner,
                1,
                0,
            )
            .await
            .unwrap();
        let i = x.fx.close_market_ix(&admin.pubkey());
        x.fx.refused(&[market], &[i], &[&admin], Some(E::MarketNotEmpty))
            .await;
        let sweep =
            x.fx.t
                .create_token_account(&token_2022_id(), &x.mint, &admin.pubkey())
                .await;
        let mut i = x.fx.close_market_ix(&admin.pubkey());
        let n = i.accounts.len();
        i.accounts[n - 1] = solana_sdk::instruction::AccountMeta::new(sweep, false);
        x.fx.t.send(&[i], &[&admin]).await.unwrap();
        assert_eq!(x.fx.t.token_balance(&sweep).await, 1);
    } else {
        let i = x.fx.close_market_ix(&admin.pubkey());
        x.fx.t.send(&[i], &[&admin]).await.unwrap();
    }
    assert!(x.fx.t.account(&vault).await.is_none());
}

#[tokio::test]
async fn more_longs_than_escrow_are_served_pro_rata_and_a_failed_short_pays_them() {
    // Longs opt in 3 + 3 + 4; shorts escrow 4 + 3 and one opts in 2 and escrows nothing.
    let x = physical(
        &[(3, 3), (3, 3), (4, 4)],
        &[(4, 4, true), (3, 3, true), (3, 2, false)],
    )
    .await;
    deliver(x).await;
}

#[tokio::test]
async fn more_escrow_than_longs_goes_back_to_the_shorts() {
    let x = physical(&[(2, 2), (3, 1)], &[(3, 3, true), (2, 2, true)]).await;
    deliver(x).await;
}

#[tokio::test]
async fn delivery_records_are_checked() {
    let mut x = physical(&[(3, 3)], &[(3, 3, true)]).await;
    let market = x.fx.market.key;
    let l = &x.longs[0];
    let s = &x.shorts[0];
    let w = [l.tr.account, s.tr.account, market];
    // More lots than the position.
    let i = x.fx.opt_in_delivery_ix(&l.tr, 4, &[market]);
    let lo = l.tr.owner.insecure_clone();
    x.fx.refused(&w, &[i], &[&lo], Some(E::InvalidQuantity))
        .await;
    // Not the owner.
    let mut i = x.fx.opt_in_delivery_ix(&l.tr, 1, &[market]);
    let so = s.tr.owner.insecure_clone();
    i.accounts[0].pubkey = so.pubkey();
    x.fx.refused(&w, &[i], &[&so], Some(E::NotOwner)).await;
    // Escrow without opting in, and by a long.
    let i = x.fx.escrow_delivery_ix(&s.tr, &s.units);
    x.fx.refused(&w, &[i], &[&so], Some(E::DeliveryRecorded))
        .await;
    // Once only.
    let i = x.fx.opt_in_delivery_ix(&l.tr, 1, &[market]);
    x.fx.t.send(&[i], &[&lo]).await.unwrap();
    let i = x.fx.opt_in_delivery_ix(&l.tr, 1, &[market]);
    x.fx.refused(&w, &[i], &[&lo], Some(E::DeliveryRecorded))
        .await;
    let i = x.fx.escrow_delivery_ix(&l.tr, &l.units);
    x.fx.refused(&w, &[i], &[&lo], Some(E::DeliveryRecorded))
        .await;
    // A cash-settled series takes no opt-ins.
    let cash = x.fx.create_market(P_EXPIRY + 86_400).await.unwrap();
    let physical = std::mem::replace(&mut x.fx.market, cash);
    let i = x.fx.opt_in_delivery_ix(&l.tr, 1, &[x.fx.market.key]);
    x.fx.refused(&w, &[i], &[&lo], None).await;
    x.fx.market = physical;
}

#[tokio::test]
async fn a_position_with_an_order_left_opts_in_only_once_it_is_released() {
    let mut x = physical_with(&[(3, 3)], &[(3, 3, true)], true).await;
    let market = x.fx.market.key;
    let s = &x.shorts[0];
    let so = s.tr.owner.insecure_clone();
    let i = x.fx.opt_in_delivery_ix(&s.tr, 3, &[market]);
    x.fx.refused(
        &[s.tr.account, market],
        &[i],
        &[&so],
        Some(E::OrdersNotReleased),
    )
    .await;
    let i = x.fx.release_orders_ix(&[s.tr.account], 8);
    x.fx.t.send(&[i], &[]).await.unwrap();
    let i = x.fx.opt_in_delivery_ix(&s.tr, 3, &[market]);
    x.fx.t.send(&[i], &[&so]).await.unwrap();
    // The short reserved the penalty on its lots at the index plus the band: 3 lots of 2,500,000,
    // +3%, 10% of it.
    let slot =
        x.fx.margin(&s.tr.account)
            .await
            .positions
            .into_iter()
            .find(|p| p.market == market)
            .unwrap();
    assert_eq!(slot.delivery_reserve, 772_500);
    assert_eq!(x.fx.market_state().await.delivery_open, 1);
}
