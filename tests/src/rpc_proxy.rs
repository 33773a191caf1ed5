//! A JSON-RPC proxy in front of a validator that misbehaves the way public endpoints do, so the
//! validator suite can run the keeper and the CLI through it: it rate-limits (HTTP 429), cuts
//! connections before answering a read, swallows transactions (answered as accepted, never
//! forwarded: they land only if the client sends them again), black-holes others (every
//! broadcast of them swallowed: they never land, and only a new transaction can do their work)
//! and lands others late (answered at once, forwarded seconds later). It counts what it did, so
//! a test can check every fault happened. `CFX_PROXY_TRACE=1` prints each request and answer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which requests misbehave: every n-th of their kind (0: none).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Requests answered `429 Too Many Requests`.
    pub throttle_every: u64,
    /// Reads whose connection is closed without an answer.
    pub cut_every: u64,
    /// `sendTransaction`s answered as accepted and dropped.
    pub drop_send_every: u64,
    /// Transactions (counted once per signature) whose every broadcast is answered as accepted
    /// and dropped.
    pub black_hole_every: u64,
    /// `sendTransaction`s answered at once and forwarded `late_by` later.
    pub late_send_every: u64,
    pub late_by: Duration,
    /// Print each request and answer (`CFX_PROXY_TRACE` set when the proxy starts).
    pub trace: bool,
}

/// What the proxy did.
#[derive(Debug, Default)]
pub struct Counts {
    pub requests: AtomicU64,
    pub sends: AtomicU64,
    pub throttled: AtomicU64,
    pub cut: AtomicU64,
    pub dropped: AtomicU64,
    pub black_holed: AtomicU64,
    pub late: AtomicU64,
    /// Every transaction seen, by signature: whether it is black-holed.
    seen: std::sync::Mutex<std::collections::HashMap<String, bool>>,
}

impl Counts {
    pub fn get(&self, c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// A running proxy, on a thread and runtime of its own (so it keeps serving while a test
/// blocks on a child process); stops when dropped.
pub struct FaultProxy {
    pub url: String,
    pub counts: Arc<Counts>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl FaultProxy {
    /// Listens on a free local port, forwarding to the JSON-RPC server at `upstream`.
    pub fn start(upstream: SocketAddr, faults: Faults) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let trace = faults.trace || std::env::var_os("CFX_PROXY_TRACE").is_some();
        let (c, f) = (counts.clone(), Arc::new(Faults { trace, ..faults }));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let accept = async {
                    while let Ok((sock, _)) = listener.accept().await {
                        let (c, f) = (c.clone(), f.clone());
                        tokio::spawn(async move {
                            let _ = serve(sock, upstream, &f, &c).await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
        });
        FaultProxy {
            url,
            counts,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

fn every(n: u64, count: u64) -> bool {
    n != 0 && count.is_multiple_of(n)
}

async fn serve(
    mut sock: TcpStream,
    upstream: SocketAddr,
    faults: &Faults,
    counts: &Counts,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(body) = read_request(&mut sock, &mut buf).await? {
        let n = counts.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if faults.trace {
            eprintln!("proxy {n} {}", json["method"]);
        }
        if every(faults.throttle_every, n) {
            counts.throttled.fetch_add(1, Ordering::Relaxed);
            sock.write_all(b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n")
                .await?;
            continue;
        }
        if json["method"] == "sendTransaction" {
            let Some((signature, answer)) = accepted(&json) else {
                return Ok(());
            };
            let k = counts.sends.fetch_add(1, Ordering::Relaxed) + 1;
            // Decided when a transaction is first seen; its re-broadcasts share the fate.
            let black_hole = {
                let mut seen = counts.seen.lock().unwrap();
                let n = seen.len() as u64 + 1;
                *seen
                    .entry(signature)
                    .or_insert_with(|| every(faults.black_hole_every, n))
            };
            let drop_it = !black_hole && every(faults.drop_send_every, k);
            let late = !black_hole && !drop_it && every(faults.late_send_every, k);
            if black_hole || drop_it || late {
                sock.write_all(&answer).await?;
                if black_hole {
                    counts.black_holed.fetch_add(1, Ordering::Relaxed);
                } else if drop_it {
                    counts.dropped.fetch_add(1, Ordering::Relaxed);
                } else {
                    counts.late.fetch_add(1, Ordering::Relaxed);
                    let delay = faults.late_by;
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = forward(upstream, &body).await;
                    });
                }
                continue;
            }
        } else if every(faults.cut_every, n) {
            counts.cut.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let response = forward(upstream, &body).await?;
        if faults.trace {
            eprintln!(
                "proxy {n} -> {}",
                String::from_utf8_lossy(&response)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        sock.write_all(&response).await?;
    }
    Ok(())
}

/// The next HTTP request's body from `sock` (`buf` keeps what was read past it); `None` once the
/// client closed the connection.
pub async fn read_request(
    sock: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Ok(Some(body))
}

/// Sends `body` to the server on a connection of its own; the raw HTTP response.
async fn forward(upstream: SocketAddr, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {upstream}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    up.write_all(head.as_bytes()).await?;
    up.write_all(body).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    Ok(response)
}

/// The transaction's signature (its first, after the one-byte signature count of a base64 wire
/// transaction) and the answer a node gives a `sendTransaction` it took.
fn accepted(request: &Value) -> Option<(String, Vec<u8>)> {
    let wire = base64::engine::general_purpose::STANDARD
        .decode(request["params"][0].as_str()?)
        .ok()?;
    let signature = solana_sdk::signature::Signature::try_from(wire.get(1..65)?).ok()?;
    let signature = signature.to_string();
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "result": signature,
        "id": request["id"],
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    Some((signature, answer.into_bytes()))
}
