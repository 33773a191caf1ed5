//! The trading instructions run on the entrypoint's fast path (account views instead of Anchor
//! account structs, see programs/compute-futures/src/entrypoint.rs). These cases prove it makes
//! every check Anchor would: each one is refused with its error and leaves state unchanged, both
//! natively and on the SBF binary (where repeated accounts arrive as the runtime's duplicate
//! markers).
#![allow(deprecated)]

use anchor_lang::error::ErrorCode as A;
use anchor_lang::{InstructionData, ToAccountMetas};
use cfx_tests::futures::*;
use compute_futures::error::FuturesError as E;
use compute_futures::instruction as ins;
use solana_sdk::account::{Account, AccountSharedData};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signer::Signer;

fn place(fx: &Fx, tr: &Trader) -> Instruction {
    fx.place_ix(tr, order(BID, POST_ONLY, MID - 10, 1))
}

fn batch(fx: &Fx, tr: &Trader) -> Instruction {
    Instruction {
        program_id: compute_futures::ID,
        accounts: fx
            .place_accounts(tr, &tr.owner.pubkey())
            .to_account_metas(None),
        data: ins::CancelAllAndPlace {
            orders: vec![order(BID, POST_ONLY, MID - 10, 1)],
        }
        .data(),
    }
}

/// Copies `key`'s account to a new address owned by `owner`.
async fn clone_owned_by(fx: &mut Fx, key: &Pubkey, owner: &Pubkey) -> Pubkey {
    let a = fx.t.account(key).await.unwrap();
    let copy = Pubkey::new_unique();
    let acc = Account { owner: *owner, ..a };
    fx.t.ctx.set_account(&copy, &AccountSharedData::from(acc));
    copy
}

#[tokio::test]
async fn fast_path_checks_every_account() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let w = [a.account, b.account];
    let owner = a.owner.insecure_clone();
    // Positions of the place_order accounts.
    const SIGNER: usize = 0;
    const EXCHANGE: usize = 1;
    const ACCOUNT: usize = 2;
    const MARKET: usize = 3;
    const INDEX: usize = 4;
    const BOOK: usize = 5;
    const QUEUE: usize = 6;

    for make in [place, batch] {
        // The owner does not sign (another key pays and signs).
        let mut i = make(&fx, &a);
        i.accounts[SIGNER].is_signer = false;
        fx.refused_code(&w, &[i], &[], A::AccountNotSigner as u32)
            .await;
        // Someone else signs for the account.
        let mut i = make(&fx, &a);
        i.accounts[SIGNER] = AccountMeta::new_readonly(b.owner.pubkey(), true);
        fx.refused(&w, &[i], &[&b.owner], Some(E::NotAuthorized))
            .await;
        // Written accounts passed read-only (the exchange is only read).
        for pos in [ACCOUNT, MARKET] {
            let mut i = make(&fx, &a);
            i.accounts[pos].is_writable = false;
            fx.refused_code(&w, &[i], &[&owner], A::AccountNotMutable as u32)
                .await;
        }
        for pos in [BOOK, QUEUE] {
            let mut i = make(&fx, &a);
            i.accounts[pos].is_writable = false;
            fx.refused(&w, &[i], &[&owner], Some(E::WrongBookAccount))
                .await;
        }
        // Accounts of the wrong type: (a copy of) the exchange as the margin account, the
        // market as the exchange, the margin account as the index.
        let (exchange, market) = (fx.exchange, fx.market.key);
        let exchange_copy = clone_owned_by(&mut fx, &exchange, &compute_futures::ID).await;
        let market_copy = clone_owned_by(&mut fx, &market, &compute_futures::ID).await;
        for (pos, with) in [(ACCOUNT, exchange_copy), (EXCHANGE, market_copy)] {
            let mut i = make(&fx, &a);
            i.accounts[pos] = AccountMeta::new(with, false);
            fx.refused_code(&w, &[i], &[&owner], A::AccountDiscriminatorMismatch as u32)
                .await;
        }
        let mut i = make(&fx, &a);
        i.accounts[INDEX] = AccountMeta::new_readonly(b.account, false);
        fx.refused_code(&w, &[i], &[&owner], A::AccountDiscriminatorMismatch as u32)
            .await;
        // Repeated accounts: the market as the index, the book as the queue, the margin
        // account twice.
        for (pos, with) in [
            (INDEX, fx.market.key),
            (QUEUE, fx.market.book),
            (MARKET, a.account),
        ] {
            let mut i = make(&fx, &a);
            i.accounts[pos] = AccountMeta::new(with, false);
            fx.refused(&w, &[i], &[&owner], Some(E::DuplicateAccount))
                .await;
        }
        // Too few accounts; more than a trading instruction takes.
        let mut i = make(&fx, &a);
        i.accounts.truncate(QUEUE);
        fx.refused_code(&w, &[i], &[&owner], A::AccountNotEnoughKeys as u32)
            .await;
        // (One extra key repeated: a transaction locks at most 64 distinct accounts.)
        let mut i = make(&fx, &a);
        let extra = Pubkey::new_unique();
        for _ in 0..compute_futures::view::MAX_VIEWS {
            i.accounts.push(AccountMeta::new_readonly(extra, false));
        }
        fx.refused(&w, &[i], &[&owner], Some(E::TooManyAccounts))
            .await;
        // Truncated instruction data.
        let mut i = make(&fx, &a);
        i.data.truncate(12);
        fx.refused_code(&w, &[i], &[&owner], A::InstructionDidNotDeserialize as u32)
            .await;
    }

    // Accounts with the right bytes under another owner: margin account, market, exchange and
    // index copied into accounts the token program owns; book and queue likewise.
    let foreign = anchor_spl::token::ID;
    for (pos, key) in [
        (ACCOUNT, a.account),
        (MARKET, fx.market.key),
        (EXCHANGE, fx.exchange),
        (INDEX, fx.index),
    ] {
        let copy = clone_owned_by(&mut fx, &key, &foreign).await;
        let mut i = place(&fx, &a);
        i.accounts[pos].pubkey = copy;
        fx.refused_code(&w, &[i], &[&owner], A::AccountOwnedByWrongProgram as u32)
            .await;
    }
    for (pos, key) in [(BOOK, fx.market.book), (QUEUE, fx.market.queue)] {
        let copy = clone_owned_by(&mut fx, &key, &foreign).await;
        let mut i = place(&fx, &a);
        i.accounts[pos].pubkey = copy;
        fx.refused(&w, &[i], &[&owner], Some(E::WrongBookAccount))
            .await;
    }
    // A program-owned copy of the index (another oracle, same bytes) is not the market's index.
    let index = fx.index;
    let copy = clone_owned_by(&mut fx, &index, &compute_futures::ID).await;
    let mut i = place(&fx, &a);
    i.accounts[INDEX].pubkey = copy;
    fx.refused(&w, &[i], &[&owner], Some(E::WrongIndex)).await;
    // A program-owned copy of the book is still not the market's book.
    let book = fx.market.book;
    let copy = clone_owned_by(&mut fx, &book, &compute_futures::ID).await;
    let mut i = place(&fx, &a);
    i.accounts[BOOK].pubkey = copy;
    fx.refused(&w, &[i], &[&owner], Some(E::WrongBookAccount))
        .await;

    // After all of that, the same instructions go through unchanged.
    fx.t.send(&[place(&fx, &a)], &[&owner]).await.unwrap();
    fx.t.send(&[batch(&fx, &a)], &[&owner]).await.unwrap();
    let m = fx.margin(&a.account).await;
    assert_eq!(m.orders.iter().filter(|o| o.id() != 0).count(), 1);
}

#[tokio::test]
async fn cancel_fast_path_checks_every_account() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&a, order(BID, POST_ONLY, MID - 10, 1))
        .await
        .unwrap();
    let id = fx.book_orders().await.0[0].order_id;
    let w = [a.account, b.account];
    let owner = a.owner.insecure_clone();
    const SIGNER: usize = 0;
    const ACCOUNT: usize = 1;
    const MARKET: usize = 2;
    const BOOK: usize = 3;
    let by_id = |fx: &Fx| ix(fx.cancel_accounts(&a), ins::CancelOrder { order_id: id });
    let all = |fx: &Fx| ix(fx.cancel_accounts(&a), ins::CancelAllOrders {});
    let exchange = fx.exchange;
    let exchange_copy = clone_owned_by(&mut fx, &exchange, &compute_futures::ID).await;
    let makers: [&dyn Fn(&Fx) -> Instruction; 2] = [&by_id, &all];
    for make in makers {
        let mut i = make(&fx);
        i.accounts[SIGNER].is_signer = false;
        fx.refused_code(&w, &[i], &[], A::AccountNotSigner as u32)
            .await;
        let mut i = make(&fx);
        i.accounts[SIGNER] = AccountMeta::new_readonly(b.owner.pubkey(), true);
        fx.refused(&w, &[i], &[&b.owner], Some(E::NotAuthorized))
            .await;
        let mut i = make(&fx);
        i.accounts[ACCOUNT].is_writable = false;
        fx.refused_code(&w, &[i], &[&owner], A::AccountNotMutable as u32)
            .await;
        let mut i = make(&fx);
        i.accounts[BOOK].is_writable = false;
        fx.refused(&w, &[i], &[&owner], Some(E::WrongBookAccount))
            .await;
        let mut i = make(&fx);
        i.accounts[ACCOUNT].pubkey = exchange_copy;
        fx.refused_code(&w, &[i], &[&owner], A::AccountDiscriminatorMismatch as u32)
            .await;
        let mut i = make(&fx);
        i.accounts[MARKET].pubkey = fx.exchange;
        fx.refused_code(&w, &[i], &[&owner], A::AccountDiscriminatorMismatch as u32)
            .await;
        // The market as its own book; the queue as the book.
        let mut i = make(&fx);
        i.accounts[BOOK].pubkey = fx.market.key;
        fx.refused(&w, &[i], &[&owner], Some(E::DuplicateAccount))
            .await;
        let mut i = make(&fx);
        i.accounts[BOOK].pubkey = fx.market.queue;
        fx.refused(&w, &[i], &[&owner], Some(E::WrongBookAccount))
            .await;
        let mut i = make(&fx);
        i.accounts.truncate(BOOK);
        fx.refused_code(&w, &[i], &[&owner], A::AccountNotEnoughKeys as u32)
            .await;
    }
    let mut i = by_id(&fx);
    i.data.truncate(16);
    fx.refused_code(&w, &[i], &[&owner], A::InstructionDidNotDeserialize as u32)
        .await;
    // Still cancellable afterwards.
    fx.t.send(&[by_id(&fx)], &[&owner]).await.unwrap();
    assert!(fx.book_orders().await.0.is_empty());
}

#[tokio::test]
async fn crank_fast_path_checks_every_account() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    fx.place(&a, order(ASK, POST_ONLY, 25_100, 2))
        .await
        .unwrap();
    fx.place(&b, order(BID, IOC, 25_100, 1)).await.unwrap();
    assert_eq!(fx.queue_len().await, 1);
    let w = [a.account, b.account];
    const EXCHANGE: usize = 0;
    const MARKET: usize = 1;
    const QUEUE: usize = 2;
    const REWARD: usize = 3;
    let exchange = fx.exchange;
    let exchange_copy = clone_owned_by(&mut fx, &exchange, &compute_futures::ID).await;
    // Written accounts passed read-only (the exchange is only read).
    for pos in [MARKET, REWARD] {
        let mut i = fx.crank_ix(&[a.account], &b.account, 8);
        i.accounts[pos].is_writable = false;
        fx.refused_code(&w, &[i], &[], A::AccountNotMutable as u32)
            .await;
    }
    let mut i = fx.crank_ix(&[a.account], &b.account, 8);
    i.accounts[QUEUE].is_writable = false;
    fx.refused(&w, &[i], &[], Some(E::WrongBookAccount)).await;
    // A copy of the exchange (right type and owner, another address) in its place.
    let mut i = fx.crank_ix(&[a.account], &b.account, 8);
    i.accounts[EXCHANGE].pubkey = exchange_copy;
    fx.refused(&w, &[i], &[], Some(E::WrongExchange)).await;
    let mut i = fx.crank_ix(&[a.account], &b.account, 8);
    i.accounts[REWARD].pubkey = exchange_copy;
    fx.refused_code(&w, &[i], &[], A::AccountDiscriminatorMismatch as u32)
        .await;
    let mut i = fx.crank_ix(&[a.account], &b.account, 8);
    i.accounts[QUEUE].pubkey = fx.market.key;
    fx.refused(&w, &[i], &[], Some(E::DuplicateAccount)).await;
    let mut i = fx.crank_ix(&[a.account], &b.account, 8);
    i.accounts[REWARD].pubkey = fx.exchange;
    fx.refused(&w, &[i], &[], Some(E::DuplicateAccount)).await;
    let mut i = fx.crank_ix(&[], &b.account, 8);
    i.accounts.truncate(REWARD);
    fx.refused_code(&w, &[i], &[], A::AccountNotEnoughKeys as u32)
        .await;
    let mut i = fx.crank_ix(&[a.account], &b.account, 8);
    i.data.truncate(9);
    fx.refused_code(&w, &[i], &[], A::InstructionDidNotDeserialize as u32)
        .await;
    // Makers that are not margin accounts of the exchange (the market itself, the exchange, a
    // read-only margin account) are ignored: the crank succeeds and stops at the event.
    let mut i = fx.crank_ix(&[fx.market.key, fx.exchange, a.account], &b.account, 8);
    let n = i.accounts.len();
    i.accounts[n - 1].is_writable = false;
    let keys = fx.watched(&w);
    let before = fx.t.snapshot(&keys).await;
    fx.t.send(&[i], &[]).await.unwrap();
    assert_eq!(fx.queue_len().await, 1);
    let after = fx.t.snapshot(&keys).await;
    assert_eq!(before, after, "a crank that consumed nothing changed state");
    // With the maker it goes through.
    fx.crank(&[a.account], &b.account, 8).await.unwrap();
    assert_eq!(fx.queue_len().await, 0);
    fx.assert_solvent(&w).await;
}

/// Random substitutions, repeats and flag flips over place_order's accounts: the instruction
/// goes through exactly when every key is the right one, the owner signs and every written
/// account is writable (extra flags are harmless); otherwise it is refused and changes nothing.
#[tokio::test]
async fn random_account_mixes_are_refused_unless_exact() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let owner = a.owner.insecure_clone();
    let (exchange, index, book) = (fx.exchange, fx.index, fx.market.book);
    let pool = [
        fx.exchange,
        a.account,
        b.account,
        fx.market.key,
        fx.index,
        fx.market.book,
        fx.market.queue,
        fx.vault,
        b.owner.pubkey(),
        clone_owned_by(&mut fx, &exchange, &compute_futures::ID).await,
        clone_owned_by(&mut fx, &index, &compute_futures::ID).await,
        clone_owned_by(&mut fx, &book, &compute_futures::ID).await,
    ];
    // Written accounts: margin account, market, book, queue (the exchange is only read).
    let must_write = [false, false, true, true, false, true, true];
    let w = [a.account, b.account];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let (mut refused, mut passed) = (0, 0);
    for _ in 0..150 {
        let canonical = fx.place_ix(&a, order(BID, POST_ONLY, MID - 10 - rand(50), 1));
        let mut i = canonical.clone();
        // One to three changes: a key from the pool, or a flag flipped.
        for _ in 0..1 + rand(3) {
            let pos = rand(7) as usize;
            match rand(3) {
                0 => i.accounts[pos].pubkey = pool[rand(pool.len() as u64) as usize],
                1 => i.accounts[pos].is_writable = !i.accounts[pos].is_writable,
                _ => i.accounts[pos].is_signer = !i.accounts[pos].is_signer,
            }
        }
        // The runtime requires a signature for every signer flag; sign for the keys we hold.
        let signer_ok = i.accounts[0].is_signer;
        let exact = i
            .accounts
            .iter()
            .zip(canonical.accounts.iter())
            .enumerate()
            .all(|(k, (x, c))| x.pubkey == c.pubkey && (x.is_writable || !must_write[k]))
            && signer_ok;
        let strangers_sign = i
            .accounts
            .iter()
            .any(|m| m.is_signer && m.pubkey != owner.pubkey() && m.pubkey != b.owner.pubkey());
        if strangers_sign {
            continue; // no transaction can be signed for it
        }
        let mut signers: Vec<&solana_sdk::signature::Keypair> = Vec::new();
        if i.accounts
            .iter()
            .any(|m| m.is_signer && m.pubkey == owner.pubkey())
        {
            signers.push(&owner);
        }
        if i.accounts
            .iter()
            .any(|m| m.is_signer && m.pubkey == b.owner.pubkey())
        {
            signers.push(&b.owner);
        }
        let keys = fx.watched(&w);
        let before = fx.t.snapshot(&keys).await;
        let r = fx.t.send(&[i], &signers).await;
        if exact {
            r.expect("the right accounts with harmless extra flags go through");
            passed += 1;
        } else {
            assert!(r.is_err(), "a wrong account mix went through");
            assert_eq!(
                fx.t.snapshot(&keys).await,
                before,
                "a refusal changed state"
            );
            refused += 1;
        }
    }
    assert!(
        refused > 20 && passed > 3,
        "{refused} refused, {passed} passed"
    );
}

/// Markets trade in parallel: no trading instruction and not the crank writes the exchange
/// account (its counters are per market), so transactions of different markets never lock the
/// same writable account except a trader's own margin account. Checked on the account metas of
/// every fast-path instruction as the program's own builders produce them, and each instruction
/// then runs with the exchange read-only.
#[tokio::test]
async fn trading_and_crank_take_the_exchange_read_only() {
    let mut fx = Fx::new().await;
    let a = fx.trader(1_000 * USD).await;
    let b = fx.trader(1_000 * USD).await;
    let owner = a.owner.insecure_clone();
    let cancel = |fx: &Fx, data: Vec<u8>| Instruction {
        program_id: compute_futures::ID,
        accounts: fx.cancel_accounts(&a).to_account_metas(None),
        data,
    };
    let place_one = |fx: &Fx, price: u64| fx.place_ix(&a, order(BID, POST_ONLY, price, 1));
    let instructions = [
        ("place_order", place_one(&fx, MID - 10)),
        ("cancel_all_and_place", batch(&fx, &a)),
        (
            "cancel_order_by_client_id",
            cancel(
                &fx,
                ins::CancelOrderByClientId { client_order_id: 0 }.data(),
            ),
        ),
        (
            "cancel_all_orders",
            cancel(&fx, ins::CancelAllOrders {}.data()),
        ),
        ("consume_events", fx.crank_ix(&[a.account], &b.account, 8)),
    ];
    for (name, i) in &instructions {
        for m in &i.accounts {
            if m.pubkey == fx.exchange {
                assert!(!m.is_writable, "{name} takes the exchange writable");
            }
        }
        let writable: Vec<Pubkey> = i
            .accounts
            .iter()
            .filter(|m| m.is_writable)
            .map(|m| m.pubkey)
            .collect();
        assert!(!writable.contains(&fx.exchange), "{name}");
    }
    // Each runs as built (so with the exchange read-only); the order cancelled by id is the one
    // the first instruction placed.
    let exchange_before = fx.t.account(&fx.exchange).await.unwrap();
    for (name, i) in instructions {
        let signers: Vec<&solana_sdk::signature::Keypair> = if name == "consume_events" {
            vec![]
        } else {
            vec![&owner]
        };
        fx.t.send(&[i], &signers)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    let id = {
        fx.place(&a, order(BID, POST_ONLY, MID - 20, 1))
            .await
            .unwrap();
        let (bids, _) = fx.book_orders().await;
        bids[0].order_id
    };
    let i = cancel(&fx, ins::CancelOrder { order_id: id }.data());
    assert!(!i
        .accounts
        .iter()
        .any(|m| m.pubkey == fx.exchange && m.is_writable));
    fx.t.send(&[i], &[&owner]).await.unwrap();
    assert_eq!(
        fx.t.account(&fx.exchange).await.unwrap(),
        exchange_before,
        "the exchange account never changed"
    );
    fx.assert_solvent(&[a.account, b.account]).await;
}
