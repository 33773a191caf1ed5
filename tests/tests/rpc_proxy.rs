//! The faulty RPC proxy of the validator suite, and the client's answers to it, against a fake
//! JSON-RPC server: rate limits are waited out, a read whose connection is cut is tried again,
//! a swallowed transaction is reported sent (only a re-broadcast can land it), a late one
//! reaches the server after its delay.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cfx_client::backend::{Backend, CommitmentConfig, RpcBackend};
use cfx_tests::rpc_proxy::{read_request, FaultProxy, Faults};
use serde_json::{json, Value};
use solana_sdk::{hash::Hash, signature::Keypair, signer::Signer, transaction::Transaction};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// A JSON-RPC server answering `getSlot`, `getLatestBlockhash` and `sendTransaction` (counted),
/// one request per connection, as the proxy sends them.
async fn fake_node(blockhash: Hash) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sends = Arc::new(AtomicU64::new(0));
    let seen = sends.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let Ok(Some(body)) = read_request(&mut sock, &mut Vec::new()).await else {
                continue;
            };
            let req: Value = serde_json::from_slice(&body).unwrap();
            let result = match req["method"].as_str().unwrap() {
                "getSlot" => json!(42),
                "getLatestBlockhash" => json!({
                    "context": {"slot": 42},
                    "value": {"blockhash": blockhash.to_string(), "lastValidBlockHeight": 100},
                }),
                "sendTransaction" => {
                    seen.fetch_add(1, Ordering::SeqCst);
                    json!("accepted")
                }
                m => panic!("unexpected {m}"),
            };
            let out = json!({"jsonrpc": "2.0", "result": result, "id": req["id"]}).to_string();
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{out}",
                out.len()
            );
            let _ = sock.write_all(answer.as_bytes()).await;
        }
    });
    (addr, sends)
}

fn backend(url: &str) -> RpcBackend {
    RpcBackend::new(url, CommitmentConfig::confirmed())
}

fn a_transaction() -> Transaction {
    let payer = Keypair::new();
    let ix = anchor_lang::solana_program::system_instruction::transfer(
        &payer.pubkey(),
        &Keypair::new().pubkey(),
        1,
    );
    Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[&payer], Hash::default())
}

#[tokio::test]
async fn the_client_outlasts_a_misbehaving_endpoint() {
    let blockhash = Hash::new_unique();
    let (node, sends) = fake_node(blockhash).await;

    // Every other request rate-limited: the RPC client waits each 429 out.
    let proxy = FaultProxy::start(
        node,
        Faults {
            throttle_every: 2,
            ..Faults::default()
        },
    );
    let b = backend(&proxy.url);
    for _ in 0..4 {
        assert_eq!(b.client.get_slot().await.unwrap(), 42);
    }
    assert!(proxy.counts.get(&proxy.counts.throttled) >= 2);
    drop(proxy);

    // Every other read cut before its answer: a bare call fails, the backend's read tries again.
    let proxy = FaultProxy::start(
        node,
        Faults {
            cut_every: 2,
            ..Faults::default()
        },
    );
    let b = backend(&proxy.url);
    assert_eq!(b.client.get_slot().await.unwrap(), 42);
    assert!(b.client.get_slot().await.is_err(), "the second read is cut");
    for _ in 0..4 {
        assert_eq!(b.latest_blockhash().await.unwrap(), blockhash);
    }
    assert!(proxy.counts.get(&proxy.counts.cut) >= 3);
    drop(proxy);

    // A swallowed transaction is reported sent, with its signature, and never reaches the node.
    let proxy = FaultProxy::start(
        node,
        Faults {
            drop_send_every: 1,
            ..Faults::default()
        },
    );
    let tx = a_transaction();
    assert_eq!(
        backend(&proxy.url).send(&tx).await.unwrap(),
        tx.signatures[0]
    );
    assert_eq!(proxy.counts.get(&proxy.counts.dropped), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sends.load(Ordering::SeqCst), 0);
    drop(proxy);

    // A late one is answered at once and reaches the node after its delay.
    let proxy = FaultProxy::start(
        node,
        Faults {
            late_send_every: 1,
            late_by: Duration::from_millis(500),
            ..Faults::default()
        },
    );
    let tx = a_transaction();
    assert_eq!(
        backend(&proxy.url).send(&tx).await.unwrap(),
        tx.signatures[0]
    );
    assert_eq!(sends.load(Ordering::SeqCst), 0);
    let mut waited = 0;
    while sends.load(Ordering::SeqCst) == 0 && waited < 50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(
        sends.load(Ordering::SeqCst),
        1,
        "the late transaction arrived"
    );
    assert_eq!(proxy.counts.get(&proxy.counts.late), 1);
}
