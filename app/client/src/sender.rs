//! Sending transactions as a keeper must on a real cluster: the compute-unit limit from a
//! simulation (a failing simulation is reported, not sent), a priority fee (fixed or a
//! percentile of recent fees), re-broadcasts of the same signed transaction while it can land
//! (`land`, which the CLI uses for transactions it did not build), and a new one (fresh
//! blockhash) only once the old one's blockhash has expired unseen — so the work is never done
//! twice. Not confirmed in time while still able to land: `NotConfirmed`,
//! with the signature to check.

use std::time::Duration;

use solana_sdk::{
    hash::Hash,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::Transaction,
};

use solana_compute_budget_interface::ComputeBudgetInstruction;

use crate::backend::{Backend, Status};
use crate::errors::describe_tx;
use crate::ClientError;

/// Priority fee, micro-lamports per compute unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeePolicy {
    Fixed(u64),
    /// The `percentile` (0–100) of recent fees paid on the transaction's writable accounts,
    /// at most `max`.
    Percentile {
        percentile: u8,
        max: u64,
    },
}

#[derive(Clone, Debug)]
pub struct SendConfig {
    pub fee: FeePolicy,
    /// Transactions built at most (each after the previous one's blockhash expired unseen).
    pub attempts: u32,
    /// How long to wait for one transaction to land before reporting `NotConfirmed`.
    pub confirm_timeout: Duration,
    pub poll_interval: Duration,
    /// Head room over the simulated compute units, percent.
    pub cu_margin_pct: u64,
}

impl Default for SendConfig {
    fn default() -> Self {
        SendConfig {
            fee: FeePolicy::Fixed(0),
            attempts: 4,
            confirm_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(400),
            cu_margin_pct: 10,
        }
    }
}

/// A landed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub signature: Signature,
    /// Compute units the simulation measured.
    pub units: u64,
    pub attempts: u32,
}

const MAX_CU: u64 = 1_400_000;

/// The fee `policy` gives from `recent` fees.
pub fn priority_fee(policy: FeePolicy, recent: &mut [u64]) -> u64 {
    match policy {
        FeePolicy::Fixed(f) => f,
        FeePolicy::Percentile { percentile, max } => {
            if recent.is_empty() {
                return 0;
            }
            recent.sort_unstable();
            let i = (recent.len() - 1) * percentile.min(100) as usize / 100;
            recent[i].min(max)
        }
    }
}

fn build(
    ixs: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
    blockhash: Hash,
    cu: u64,
    fee: u64,
) -> Transaction {
    let mut all = vec![ComputeBudgetInstruction::set_compute_unit_limit(cu as u32)];
    if fee > 0 {
        all.push(ComputeBudgetInstruction::set_compute_unit_price(fee));
    }
    all.extend_from_slice(ixs);
    let mut keys: Vec<&Keypair> = vec![payer];
    keys.extend(
        signers
            .iter()
            .copied()
            .filter(|k| k.pubkey() != payer.pubkey()),
    );
    Transaction::new_signed_with_payer(&all, Some(&payer.pubkey()), &keys, blockhash)
}

fn failed(
    tx: &Transaction,
    error: solana_sdk::transaction::TransactionError,
    logs: Vec<String>,
) -> ClientError {
    ClientError::Transaction {
        description: describe_tx(tx, &error),
        error,
        logs,
    }
}

/// Sends `ixs` (paid by `payer`, signed by `signers` too) and waits until it lands.
pub async fn send<B: Backend>(
    backend: &B,
    cfg: &SendConfig,
    payer: &Keypair,
    signers: &[&Keypair],
    ixs: &[Instruction],
) -> Result<Sent, ClientError> {
    let blockhash = backend.latest_blockhash().await?;
    let draft = build(ixs, payer, signers, blockhash, MAX_CU, 0);
    let sim = backend.simulate(&draft).await?;
    if let Some(err) = sim.err {
        return Err(failed(&draft, err, sim.logs));
    }
    let units = sim.units_consumed.unwrap_or(MAX_CU);
    let cu = (units + units * cfg.cu_margin_pct / 100 + 1_000).min(MAX_CU);
    let writable: Vec<Pubkey> = draft
        .message
        .account_keys
        .iter()
        .enumerate()
        .filter(|(i, _)| draft.message.is_maybe_writable(*i, None))
        .map(|(_, k)| *k)
        .collect();
    let mut recent = match cfg.fee {
        FeePolicy::Fixed(_) => Vec::new(),
        FeePolicy::Percentile { .. } => backend.recent_fees(&writable).await.unwrap_or_default(),
    };
    let fee = priority_fee(cfg.fee, &mut recent);
    let mut blockhash = blockhash;
    let mut last = None;
    for attempt in 1..=cfg.attempts.max(1) {
        if attempt > 1 {
            blockhash = backend.latest_blockhash().await?;
        }
        let tx = build(ixs, payer, signers, blockhash, cu, fee);
        let signature = tx.signatures[0];
        last = Some(signature);
        match land(backend, cfg, &tx, true).await? {
            Landing::Landed => {
                return Ok(Sent {
                    signature,
                    units,
                    attempts: attempt,
                })
            }
            // Can never land: a new one may be built.
            Landing::Expired { .. } => continue,
            // Still alive and unseen: it may yet land, so it is not rebuilt.
            Landing::Pending => return Err(ClientError::NotConfirmed(signature)),
        }
    }
    Err(ClientError::NotConfirmed(
        last.expect("at least one attempt"),
    ))
}

/// How the broadcast of one signed transaction ended (a landed failure is an error).
#[derive(Debug)]
pub enum Landing {
    Landed,
    /// Its blockhash expired with the transaction unseen: it never lands. The first send's
    /// error, if it had one.
    Expired {
        send_error: Option<ClientError>,
    },
    /// Unseen but still able to land when `confirm_timeout` ran out.
    Pending,
}

/// Submits the signed `tx`, then re-broadcasts it (the same transaction: it can land at most
/// once; an endpoint may drop it without a word) until it lands, its blockhash expires unseen
/// or `cfg.confirm_timeout` runs out. `expires`: false for a durable-nonce transaction, which
/// stays alive until its nonce moves.
pub async fn land<B: Backend>(
    backend: &B,
    cfg: &SendConfig,
    tx: &Transaction,
    expires: bool,
) -> Result<Landing, ClientError> {
    let signature = tx.signatures[0];
    let send_error = backend.send(tx).await.err();
    let deadline = tokio::time::Instant::now() + cfg.confirm_timeout;
    let mut polls = 0u32;
    loop {
        match backend.status(&signature).await {
            Ok(Status::Succeeded) => return Ok(Landing::Landed),
            Ok(Status::Failed(e)) => return Err(failed(tx, e, Vec::new())),
            Ok(Status::Unknown) | Err(_) => {}
        }
        if expires
            && !backend
                .blockhash_valid(&tx.message.recent_blockhash)
                .await
                .unwrap_or(true)
        {
            // Dead unless it landed just before: a last look decides.
            return match backend.status(&signature).await? {
                Status::Succeeded => Ok(Landing::Landed),
                Status::Failed(e) => Err(failed(tx, e, Vec::new())),
                Status::Unknown => Ok(Landing::Expired { send_error }),
            };
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Landing::Pending);
        }
        polls += 1;
        if polls.is_multiple_of(8) {
            let _ = backend.send(tx).await;
        }
        tokio::time::sleep(cfg.poll_interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_policies() {
        assert_eq!(priority_fee(FeePolicy::Fixed(7), &mut []), 7);
        let mut fees = vec![50, 10, 40, 20, 30];
        let p = FeePolicy::Percentile {
            percentile: 75,
            max: 1_000,
        };
        assert_eq!(priority_fee(p, &mut fees), 40);
        let capped = FeePolicy::Percentile {
            percentile: 100,
            max: 45,
        };
        assert_eq!(priority_fee(capped, &mut fees), 45);
        assert_eq!(priority_fee(p, &mut []), 0);
    }
}
