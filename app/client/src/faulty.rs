//! A backend wrapper that injects the faults of a real cluster — RPC errors, sends that fail,
//! transactions dropped before landing, transactions that land late, expired blockhashes — from
//! a seeded generator, so keepers can be tested to recover and end where a clean run ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use solana_sdk::{
    account::Account, clock::Clock, hash::Hash, pubkey::Pubkey, signature::Signature,
    transaction::Transaction,
};

use crate::backend::{Backend, Simulation, Status};
use crate::ClientError;

/// Fault rates, each out of 1,000 calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// A read (`get_account`, `program_accounts`, `clock`, …) fails.
    pub read_error: u32,
    /// `send` fails without submitting.
    pub send_error: u32,
    /// `send` reports success but the transaction never lands.
    pub dropped: u32,
    /// The transaction lands, but `status` says `Unknown` for the next `late_polls` checks.
    pub late: u32,
    pub late_polls: u32,
    /// The transaction is not submitted and its blockhash expires (it can never land).
    pub expired: u32,
}

/// Counts of faults injected.
#[derive(Debug, Default)]
pub struct Injected {
    pub read_errors: AtomicU64,
    pub send_errors: AtomicU64,
    pub dropped: AtomicU64,
    pub late: AtomicU64,
    pub expired: AtomicU64,
}

pub struct FaultyBackend<B> {
    pub inner: B,
    pub faults: Faults,
    pub injected: Injected,
    rng: Mutex<u64>,
    /// Late transactions: checks left before their status shows.
    hidden: Mutex<HashMap<Signature, u32>>,
    /// Blockhashes made to expire.
    expired: Mutex<std::collections::HashSet<Hash>>,
}

impl<B: Backend> FaultyBackend<B> {
    pub fn new(inner: B, faults: Faults, seed: u64) -> Self {
        FaultyBackend {
            inner,
            faults,
            injected: Injected::default(),
            rng: Mutex::new(seed | 1),
            hidden: Mutex::new(HashMap::new()),
            expired: Mutex::new(Default::default()),
        }
    }

    fn roll(&self, per_mille: u32) -> bool {
        if per_mille == 0 {
            return false;
        }
        let mut s = self.rng.lock().unwrap();
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        (*s % 1_000) < per_mille as u64
    }

    fn read_fault(&self) -> Result<(), ClientError> {
        if self.roll(self.faults.read_error) {
            self.injected.read_errors.fetch_add(1, Relaxed);
            return Err(ClientError::Rpc("injected: read failed".into()));
        }
        Ok(())
    }
}

impl<B: Backend> Backend for FaultyBackend<B> {
    async fn get_account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError> {
        self.read_fault()?;
        self.inner.get_account(key).await
    }

    async fn get_accounts(&self, keys: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
        self.read_fault()?;
        self.inner.get_accounts(keys).await
    }

    async fn program_accounts(
        &self,
        program: &Pubkey,
        discriminator: &[u8],
        len: Option<usize>,
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        self.read_fault()?;
        self.inner
            .program_accounts(program, discriminator, len)
            .await
    }

    async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
        self.read_fault()?;
        self.inner.latest_blockhash().await
    }

    async fn blockhash_valid(&self, blockhash: &Hash) -> Result<bool, ClientError> {
        if self.expired.lock().unwrap().contains(blockhash) {
            return Ok(false);
        }
        self.inner.blockhash_valid(blockhash).await
    }

    async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ClientError> {
        self.read_fault()?;
        self.inner.simulate(tx).await
    }

    async fn send(&self, tx: &Transaction) -> Result<Signature, ClientError> {
        if self.roll(self.faults.send_error) {
            self.injected.send_errors.fetch_add(1, Relaxed);
            return Err(ClientError::Rpc("injected: send failed".into()));
        }
        if self.roll(self.faults.expired) {
            self.injected.expired.fetch_add(1, Relaxed);
            self.expired
                .lock()
                .unwrap()
                .insert(tx.message.recent_blockhash);
            return Ok(tx.signatures[0]);
        }
        if self
            .expired
            .lock()
            .unwrap()
            .contains(&tx.message.recent_blockhash)
        {
            // A re-broadcast of a transaction whose blockhash expired: refused.
            return Err(ClientError::Rpc("blockhash not found".into()));
        }
        if self.roll(self.faults.dropped) {
            self.injected.dropped.fetch_add(1, Relaxed);
            return Ok(tx.signatures[0]);
        }
        let sig = self.inner.send(tx).await?;
        // A re-broadcast of a late transaction does not make it later.
        if !self.hidden.lock().unwrap().contains_key(&sig) && self.roll(self.faults.late) {
            self.injected.late.fetch_add(1, Relaxed);
            self.hidden
                .lock()
                .unwrap()
                .insert(sig, self.faults.late_polls.max(1));
        }
        Ok(sig)
    }

    async fn status(&self, signature: &Signature) -> Result<Status, ClientError> {
        {
            let mut hidden = self.hidden.lock().unwrap();
            if let Some(left) = hidden.get_mut(signature) {
                if *left > 0 {
                    *left -= 1;
                    return Ok(Status::Unknown);
                }
            }
        }
        self.read_fault()?;
        self.inner.status(signature).await
    }

    async fn clock(&self) -> Result<Clock, ClientError> {
        self.read_fault()?;
        self.inner.clock().await
    }

    async fn recent_fees(&self, writable: &[Pubkey]) -> Result<Vec<u64>, ClientError> {
        self.inner.recent_fees(writable).await
    }
}

impl<B: Backend> std::ops::Deref for FaultyBackend<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.inner
    }
}
