//! The committed IDL (idl/*.json) describes what the programs accept: instructions built from it
//! alone (tests/src/idl.rs, no program types) equal the client crate's, byte for byte, and the
//! programs run them — the fast-path `place_order` and `cancel_all_orders` among them.

use std::collections::HashMap;

use cfx_client::backend::Backend;
use cfx_client::bank::{program_test, BankBackend};
use cfx_client::compute_futures::state::MarginAccount;
use cfx_client::decode::zero_copy;
use cfx_client::ix::{self, OrderKind, OrderSide};
use cfx_client::sender::{send, SendConfig};
use cfx_client::setup::{market_params, Session};
use cfx_tests::idl::Idl;
use serde_json::json;
use solana_sdk::signer::Signer;

const T0: i64 = 1_796_083_200;

#[tokio::test]
async fn instructions_built_from_the_committed_idl_run() {
    let b = BankBackend::start(program_test()).await;
    b.set_time(T0).await;
    let class = cfx_client::setup::h100_class();
    let fees = cfx_client::setup::default_fees();
    let mut s = Session::open(&b, b.payer.insecure_clone(), class, fees, 1, 600)
        .await
        .unwrap();
    s.publish(&b, 2_500_000, T0).await.unwrap();
    let m = s
        .list_market(&b, market_params("H100-GPUH-IDL", T0 + 7 * 86_400), 64, 64)
        .await
        .unwrap();
    let t = s.trader(&b, 250_000_000).await.unwrap();
    let owner = t.owner.pubkey();
    let e = &s.exchange;
    let idl = Idl::load("compute_futures");
    assert_eq!(idl.program, cfx_client::compute_futures::ID);
    let accounts = |pairs: &[(&'static str, solana_sdk::pubkey::Pubkey)]| -> HashMap<_, _> {
        pairs.iter().copied().collect()
    };

    // A second margin account, created and funded by IDL-built instructions.
    let (client_create, account) = ix::create_margin_account(&owner, &e.exchange, 5);
    let create = idl.instruction(
        "create_margin_account",
        &accounts(&[
            ("owner", owner),
            ("exchange", e.exchange),
            ("account", account),
        ]),
        &json!({"number": 5}),
    );
    assert_eq!(create, client_create);
    let deposit = idl.instruction(
        "deposit",
        &accounts(&[
            ("depositor", owner),
            ("exchange", e.exchange),
            ("account", account),
            ("collateral_mint", e.collateral_mint),
            ("vault", e.vault),
            ("source", t.tokens),
            ("token_program", e.token_program),
        ]),
        &json!({"amount": 250_000_000u64}),
    );
    assert_eq!(
        deposit,
        ix::deposit(&owner, e, &account, &t.tokens, 250_000_000)
    );
    send(
        &b,
        &SendConfig::default(),
        &t.owner,
        &[],
        &[create, deposit],
    )
    .await
    .unwrap();

    // The fast path: a post-only bid, then cancel-all, from the IDL's layouts.
    let trade = || {
        accounts(&[
            ("signer", owner),
            ("exchange", e.exchange),
            ("account", account),
            ("market", m.market),
            ("index", m.index),
            ("book", m.book),
            ("event_queue", m.event_queue),
        ])
    };
    let args = json!({"args": {
        "side": "Bid", "order_type": "PostOnly", "price": 24_900, "lots": 3,
        "client_order_id": 42, "time_in_force": 0, "reduce_only": false,
        "self_trade": "DecrementTake", "match_limit": 16,
    }});
    let place = idl.instruction("place_order", &trade(), &args);
    let mut client_args = ix::order(OrderSide::Bid, OrderKind::PostOnly, 24_900, 3);
    client_args.client_order_id = 42;
    assert_eq!(
        place,
        ix::place_order(&owner, &e.exchange, &account, &m, client_args, &[])
    );
    send(&b, &SendConfig::default(), &t.owner, &[], &[place])
        .await
        .unwrap();
    let a: MarginAccount =
        zero_copy(&b.get_account(&account).await.unwrap().unwrap().data).unwrap();
    assert_eq!(a.collateral, 250_000_000);
    assert_eq!(a.orders.iter().filter(|o| o.id() != 0).count(), 1);
    let mut cancel_accounts = trade();
    cancel_accounts.remove("exchange");
    cancel_accounts.remove("index");
    cancel_accounts.remove("event_queue");
    let cancel = idl.instruction("cancel_all_orders", &cancel_accounts, &json!({}));
    assert_eq!(cancel, ix::cancel_all_orders(&owner, &account, &m));
    send(&b, &SendConfig::default(), &t.owner, &[], &[cancel])
        .await
        .unwrap();
    let a: MarginAccount =
        zero_copy(&b.get_account(&account).await.unwrap().unwrap().data).unwrap();
    assert_eq!(a.orders.iter().filter(|o| o.id() != 0).count(), 0);
}
