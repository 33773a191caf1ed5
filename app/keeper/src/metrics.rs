//! Keeper metrics, served in the Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Counters and gauges of one keeper process.
#[derive(Default, Debug)]
pub struct Metrics {
    pub events_cranked: AtomicU64,
    pub crank_transactions: AtomicU64,
    /// Quote native units of crank rewards paid into the keeper's margin account.
    pub rewards_earned: AtomicU64,
    pub liquidations: AtomicU64,
    pub orders_liquidated: AtomicU64,
    pub bankruptcies_resolved: AtomicU64,
    pub orders_released: AtomicU64,
    pub settlement_prices_fixed: AtomicU64,
    pub accounts_settled: AtomicU64,
    pub prices_published: AtomicU64,
    pub transactions_failed: AtomicU64,
    pub rpc_errors: AtomicU64,
    /// Events waiting in the queues at the last crank pass (gauge).
    pub queue_lag_events: AtomicU64,
    /// Passes run, per role together.
    pub passes: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 14] = [
            (
                "cfx_keeper_events_cranked_total",
                "counter",
                "Queue events consumed",
                &self.events_cranked,
            ),
            (
                "cfx_keeper_crank_transactions_total",
                "counter",
                "consume_events transactions landed",
                &self.crank_transactions,
            ),
            (
                "cfx_keeper_rewards_earned_total",
                "counter",
                "Crank rewards earned, quote native units",
                &self.rewards_earned,
            ),
            (
                "cfx_keeper_liquidations_total",
                "counter",
                "liquidate_position transactions landed",
                &self.liquidations,
            ),
            (
                "cfx_keeper_orders_liquidated_total",
                "counter",
                "liquidate_orders transactions landed",
                &self.orders_liquidated,
            ),
            (
                "cfx_keeper_bankruptcies_resolved_total",
                "counter",
                "resolve_bankruptcy transactions landed",
                &self.bankruptcies_resolved,
            ),
            (
                "cfx_keeper_orders_released_total",
                "counter",
                "Resting orders released after the last trade",
                &self.orders_released,
            ),
            (
                "cfx_keeper_settlement_prices_fixed_total",
                "counter",
                "Settlement prices fixed",
                &self.settlement_prices_fixed,
            ),
            (
                "cfx_keeper_accounts_settled_total",
                "counter",
                "Accounts passed to settle_positions that settled",
                &self.accounts_settled,
            ),
            (
                "cfx_keeper_prices_published_total",
                "counter",
                "Index quotes published",
                &self.prices_published,
            ),
            (
                "cfx_keeper_transactions_failed_total",
                "counter",
                "Transactions refused in simulation or on chain",
                &self.transactions_failed,
            ),
            (
                "cfx_keeper_rpc_errors_total",
                "counter",
                "Backend (RPC) errors",
                &self.rpc_errors,
            ),
            (
                "cfx_keeper_queue_lag_events",
                "gauge",
                "Events waiting in the event queues at the last crank pass",
                &self.queue_lag_events,
            ),
            (
                "cfx_keeper_passes_total",
                "counter",
                "Role passes run",
                &self.passes,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, v) in rows {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                v.load(Relaxed)
            ));
        }
        out
    }
}

/// Serves `metrics` over HTTP on `listener` (any path) until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => {
                let Ok((mut sock, _)) = accepted else { continue };
                let body = metrics.render();
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = sock.read(&mut buf).await;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(body.as_bytes()).await;
                });
            }
        }
    }
}
