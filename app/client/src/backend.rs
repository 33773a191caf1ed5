//! One async backend trait over where the programs run: a real cluster over JSON-RPC
//! (`RpcBackend`) or an in-process bank (`BankBackend`). The keeper and the sandbox are generic
//! over it, so they run unchanged on both.

use std::future::Future;

use solana_sdk::{
    account::Account,
    clock::Clock,
    hash::Hash,
    pubkey::Pubkey,
    signature::Signature,
    transaction::{Transaction, TransactionError},
};

use crate::ClientError;

/// What simulating a transaction said.
#[derive(Clone, Debug, Default)]
pub struct Simulation {
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub units_consumed: Option<u64>,
    /// What the last instruction returned (`compute_health`'s report, for one).
    pub return_data: Option<Vec<u8>>,
}

/// Where a sent transaction stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not seen (yet, or its blockhash expired before it landed).
    Unknown,
    /// Landed and succeeded.
    Succeeded,
    /// Landed and failed: it changed nothing but its fee.
    Failed(TransactionError),
}

pub trait Backend: Send + Sync {
    fn get_account(
        &self,
        key: &Pubkey,
    ) -> impl Future<Output = Result<Option<Account>, ClientError>> + Send;

    fn get_accounts(
        &self,
        keys: &[Pubkey],
    ) -> impl Future<Output = Result<Vec<Option<Account>>, ClientError>> + Send;

    /// Accounts owned by `program` whose data starts with `discriminator` (and, when given, is
    /// `len` bytes long).
    fn program_accounts(
        &self,
        program: &Pubkey,
        discriminator: &[u8],
        len: Option<usize>,
    ) -> impl Future<Output = Result<Vec<(Pubkey, Account)>, ClientError>> + Send;

    fn latest_blockhash(&self) -> impl Future<Output = Result<Hash, ClientError>> + Send;

    /// Whether `blockhash` can still land a transaction.
    fn blockhash_valid(
        &self,
        blockhash: &Hash,
    ) -> impl Future<Output = Result<bool, ClientError>> + Send;

    fn simulate(
        &self,
        tx: &Transaction,
    ) -> impl Future<Output = Result<Simulation, ClientError>> + Send;

    /// Submits a signed transaction; it may or may not land (`status` says).
    fn send(&self, tx: &Transaction)
        -> impl Future<Output = Result<Signature, ClientError>> + Send;

    fn status(
        &self,
        signature: &Signature,
    ) -> impl Future<Output = Result<Status, ClientError>> + Send;

    fn clock(&self) -> impl Future<Output = Result<Clock, ClientError>> + Send;

    /// Recent prioritization fees (micro-lamports per CU) paid by transactions writing
    /// `writable`; empty when the backend has none.
    fn recent_fees(
        &self,
        writable: &[Pubkey],
    ) -> impl Future<Output = Result<Vec<u64>, ClientError>> + Send;
}

#[cfg(feature = "rpc")]
mod rpc {
    use super::*;
    pub use solana_commitment_config::CommitmentConfig;
    use solana_rpc_client::nonblocking::rpc_client::RpcClient;
    use solana_rpc_client::rpc_client::RpcClientConfig;
    use solana_rpc_client_api::config::{
        RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
        RpcSimulateTransactionConfig,
    };
    use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};

    /// A cluster over JSON-RPC.
    pub struct RpcBackend {
        pub client: RpcClient,
    }

    /// A cluster URL from the solana CLI's monikers or a URL.
    pub fn cluster_url(moniker: &str) -> String {
        match moniker {
            "localhost" | "l" => "http://127.0.0.1:8899".into(),
            "devnet" | "d" => "https://api.devnet.solana.com".into(),
            "testnet" | "t" => "https://api.testnet.solana.com".into(),
            "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
            url => url.into(),
        }
    }

    impl RpcBackend {
        pub fn new(url: &str, commitment: CommitmentConfig) -> Self {
            let _ = RpcClientConfig::with_commitment(commitment);
            RpcBackend {
                client: RpcClient::new_with_commitment(cluster_url(url), commitment),
            }
        }
    }

    fn rpc_err(e: impl std::fmt::Display) -> ClientError {
        ClientError::Rpc(e.to_string())
    }

    /// Tries of one read before its transport error is reported.
    const READ_TRIES: u32 = 4;

    /// Whether `e` is the transport failing (connection refused or cut, a timeout, a 5xx, or a
    /// 429 the RPC client's own pauses did not outlast) rather than the node answering: worth
    /// another try. The node's answers (bad params, an unknown blockhash) are not retried.
    fn transient(e: &solana_rpc_client_api::client_error::Error) -> bool {
        use solana_rpc_client_api::client_error::ErrorKind;
        match e.kind() {
            ErrorKind::Io(_) => true,
            ErrorKind::Reqwest(r) => r
                .status()
                .is_none_or(|s| s.is_server_error() || s.as_u16() == 429),
            _ => false,
        }
    }

    /// Runs a read, again after growing pauses (0.2, 0.4, 0.8 s) while it fails transiently:
    /// public endpoints drop connections and rate-limit, and one such blip should not fail a
    /// CLI command or cost a keeper its turn. Sends are not retried here: the sender
    /// re-broadcasts the same signed transaction until it lands or its blockhash expires.
    async fn read<T, F, Fut>(mut f: F) -> Result<T, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, solana_rpc_client_api::client_error::Error>>,
    {
        let mut pause = std::time::Duration::from_millis(200);
        let mut tries = 1;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if tries < READ_TRIES && transient(&e) => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    tries += 1;
                }
                Err(e) => return Err(rpc_err(e)),
            }
        }
    }

    impl Backend for RpcBackend {
        async fn get_account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError> {
            // Through `getMultipleAccounts`: the client's `get_account*` turn a transport error
            // into an "account not found" message, which cannot be told from the node's answer.
            let (keys, c) = ([*key], self.client.commitment());
            let r = read(|| self.client.get_multiple_accounts_with_commitment(&keys, c)).await?;
            Ok(r.value.into_iter().next().flatten())
        }

        async fn get_accounts(&self, keys: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
            let mut out = Vec::with_capacity(keys.len());
            for chunk in keys.chunks(100) {
                out.extend(read(|| self.client.get_multiple_accounts(chunk)).await?);
            }
            Ok(out)
        }

        async fn program_accounts(
            &self,
            program: &Pubkey,
            discriminator: &[u8],
            len: Option<usize>,
        ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
            #![allow(deprecated)]
            let mut filters = vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                0,
                discriminator.to_vec(),
            ))];
            if let Some(len) = len {
                filters.push(RpcFilterType::DataSize(len as u64));
            }
            let config = RpcProgramAccountsConfig {
                filters: Some(filters),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(solana_rpc_client_api::response::UiAccountEncoding::Base64),
                    commitment: Some(self.client.commitment()),
                    ..Default::default()
                },
                ..Default::default()
            };
            read(|| {
                self.client
                    .get_program_accounts_with_config(program, config.clone())
            })
            .await
        }

        async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
            read(|| self.client.get_latest_blockhash()).await
        }

        async fn blockhash_valid(&self, blockhash: &Hash) -> Result<bool, ClientError> {
            let c = self.client.commitment();
            read(|| self.client.is_blockhash_valid(blockhash, c)).await
        }

        async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ClientError> {
            let config = RpcSimulateTransactionConfig {
                sig_verify: false,
                replace_recent_blockhash: true,
                commitment: Some(self.client.commitment()),
                ..Default::default()
            };
            let r = read(|| {
                self.client
                    .simulate_transaction_with_config(tx, config.clone())
            })
            .await?
            .value;
            use base64::Engine;
            let return_data = r.return_data.and_then(|d| {
                base64::engine::general_purpose::STANDARD
                    .decode(d.data.0)
                    .ok()
            });
            Ok(Simulation {
                err: r.err.map(Into::into),
                logs: r.logs.unwrap_or_default(),
                units_consumed: r.units_consumed,
                return_data,
            })
        }

        async fn send(&self, tx: &Transaction) -> Result<Signature, ClientError> {
            self.client
                .send_transaction_with_config(
                    tx,
                    RpcSendTransactionConfig {
                        skip_preflight: true,
                        max_retries: Some(0),
                        ..Default::default()
                    },
                )
                .await
                .map_err(rpc_err)
        }

        async fn status(&self, signature: &Signature) -> Result<Status, ClientError> {
            let sigs = [*signature];
            let r = read(|| self.client.get_signature_statuses(&sigs)).await?;
            Ok(match r.value.into_iter().next().flatten() {
                None => Status::Unknown,
                Some(s) if !s.satisfies_commitment(self.client.commitment()) => Status::Unknown,
                Some(s) => match s.err {
                    None => Status::Succeeded,
                    Some(e) => Status::Failed(e),
                },
            })
        }

        async fn clock(&self) -> Result<Clock, ClientError> {
            let a = self
                .get_account(&solana_sdk::sysvar::clock::ID)
                .await?
                .ok_or(ClientError::Decode("clock sysvar"))?;
            bincode_clock(&a.data)
        }

        async fn recent_fees(&self, writable: &[Pubkey]) -> Result<Vec<u64>, ClientError> {
            let r = read(|| self.client.get_recent_prioritization_fees(writable)).await?;
            Ok(r.into_iter().map(|f| f.prioritization_fee).collect())
        }
    }
}

#[cfg(feature = "rpc")]
pub use rpc::{cluster_url, CommitmentConfig, RpcBackend};

/// The Clock sysvar from its account data (five little-endian 8-byte fields).
pub fn bincode_clock(data: &[u8]) -> Result<Clock, ClientError> {
    if data.len() < 40 {
        return Err(ClientError::Decode("clock sysvar"));
    }
    let w = |i: usize| u64::from_le_bytes(data[i * 8..i * 8 + 8].try_into().unwrap());
    Ok(Clock {
        slot: w(0),
        epoch_start_timestamp: w(1) as i64,
        epoch: w(2),
        leader_schedule_epoch: w(3),
        unix_timestamp: w(4) as i64,
    })
}

/// A shared backend (several keepers, or a keeper and a test, on one bank).
impl<B: Backend> Backend for std::sync::Arc<B> {
    async fn get_account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError> {
        (**self).get_account(key).await
    }
    async fn get_accounts(&self, keys: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
        (**self).get_accounts(keys).await
    }
    async fn program_accounts(
        &self,
        program: &Pubkey,
        discriminator: &[u8],
        len: Option<usize>,
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        (**self).program_accounts(program, discriminator, len).await
    }
    async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
        (**self).latest_blockhash().await
    }
    async fn blockhash_valid(&self, blockhash: &Hash) -> Result<bool, ClientError> {
        (**self).blockhash_valid(blockhash).await
    }
    async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ClientError> {
        (**self).simulate(tx).await
    }
    async fn send(&self, tx: &Transaction) -> Result<Signature, ClientError> {
        (**self).send(tx).await
    }
    async fn status(&self, signature: &Signature) -> Result<Status, ClientError> {
        (**self).status(signature).await
    }
    async fn clock(&self) -> Result<Clock, ClientError> {
        (**self).clock().await
    }
    async fn recent_fees(&self, writable: &[Pubkey]) -> Result<Vec<u64>, ClientError> {
        (**self).recent_fees(writable).await
    }
}
