//! The cfx keeper: permissionless roles that keep markets running — the crank (drains event
//! queues, earning their rewards), the liquidator (finds accounts below maintenance with the
//! program's own health code and liquidates the worst first; resolves bankruptcies), the expiry
//! settler (releases orders after the last trade, fixes settlement prices, settles every
//! account) and the index publisher. Each role pass reads the chain afresh and every instruction
//! it sends is idempotent on chain, so a keeper that stops and restarts continues where it was
//! without doing anything twice. Generic over `cfx_client::Backend`: the same code runs against
//! a cluster and against the in-process bank.

/// The exchange's accounts, decoded (`cfx_client::query`).
pub use cfx_client::query as chain;
pub mod config;
pub mod metrics;
pub mod roles;

use std::sync::Arc;

use cfx_client::backend::Backend;
use cfx_client::ix::ExchangeKeys;
use cfx_client::sender::{send, SendConfig, Sent};
use cfx_client::ClientError;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signature::Keypair};

pub use metrics::Metrics;

/// What every role needs: where to send, who pays and signs, which exchange and markets.
pub struct Keeper<B: Backend> {
    pub backend: Arc<B>,
    /// Pays fees and signs; owner of `account`.
    pub payer: Keypair,
    /// The keeper's margin account: crank rewards are paid into it; liquidations take positions
    /// into it (it needs collateral for that).
    pub account: Pubkey,
    pub exchange: ExchangeKeys,
    /// Markets to serve; empty = every market of the exchange.
    pub markets: Vec<Pubkey>,
    pub send: SendConfig,
    pub metrics: Arc<Metrics>,
    /// Most accounts one role pass acts on (bounds a pass's time on a large exchange).
    pub max_per_pass: usize,
}

impl<B: Backend> Keeper<B> {
    /// Sends `ixs` signed by the payer (and `extra`), counting failures.
    pub async fn send(&self, ixs: &[Instruction], extra: &[&Keypair]) -> Result<Sent, ClientError> {
        let r = send(&*self.backend, &self.send, &self.payer, extra, ixs).await;
        match &r {
            Err(ClientError::Transaction { description, .. }) => {
                Metrics::add(&self.metrics.transactions_failed, 1);
                tracing::debug!(%description, "transaction refused");
            }
            Err(e) => {
                Metrics::add(&self.metrics.rpc_errors, 1);
                tracing::warn!(error = %e, "send failed");
            }
            Ok(_) => {}
        }
        r
    }

    fn serves(&self, market: &Pubkey) -> bool {
        self.markets.is_empty() || self.markets.contains(market)
    }
}
