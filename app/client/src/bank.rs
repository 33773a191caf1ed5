//! The in-process backend: solana-program-test's bank running both programs, natively (through
//! a processor shim) or from the SBF binaries in `SBF_OUT_DIR`. It also controls the clock, which
//! a sandbox session and keeper tests need, and stands in for `getProgramAccounts` (the bank has
//! none) by remembering every account a transaction it ran wrote or created.
#![allow(deprecated)]

use std::collections::{BTreeSet, HashMap};

use solana_program_test::{ProgramTest, ProgramTestContext};
use solana_sdk::{
    account::Account, clock::Clock, hash::Hash, pubkey::Pubkey, signature::Signature,
    transaction::Transaction,
};
use tokio::sync::Mutex;

use crate::backend::{Backend, Simulation, Status};
use crate::ClientError;

/// Wraps an Anchor program's generated `entry` so solana-program-test can run it natively.
///
/// Anchor's `entry` ties the program id, accounts and data to one lifetime; the builtin
/// signature has independent ones. The runtime keeps all three alive for the whole call, so
/// unifying them is sound for the duration of the invocation.
#[macro_export]
macro_rules! anchor_processor {
    ($entry:path) => {{
        fn shim<'a, 'b, 'c, 'd>(
            program_id: &'a $crate::anchor_lang::prelude::Pubkey,
            accounts: &'b [$crate::anchor_lang::prelude::AccountInfo<'c>],
            data: &'d [u8],
        ) -> $crate::anchor_lang::solana_program::entrypoint::ProgramResult {
            // SAFETY: see the macro's doc comment; nothing outlives this call.
            let (program_id, accounts, data): (
                &'c $crate::anchor_lang::prelude::Pubkey,
                &'c [$crate::anchor_lang::prelude::AccountInfo<'c>],
                &'c [u8],
            ) = unsafe {
                (
                    std::mem::transmute::<
                        &'a $crate::anchor_lang::prelude::Pubkey,
                        &'c $crate::anchor_lang::prelude::Pubkey,
                    >(program_id),
                    std::mem::transmute::<
                        &'b [$crate::anchor_lang::prelude::AccountInfo<'c>],
                        &'c [$crate::anchor_lang::prelude::AccountInfo<'c>],
                    >(accounts),
                    std::mem::transmute::<&'d [u8], &'c [u8]>(data),
                )
            };
            $entry(program_id, accounts, data)
        }
        $crate::solana_program_test::processor!(shim)
    }};
}

/// True when the programs run from the SBF binaries in `SBF_OUT_DIR`.
pub fn sbf() -> bool {
    std::env::var_os("SBF_OUT_DIR").is_some() || std::env::var_os("BPF_OUT_DIR").is_some()
}

/// A program-test with both cfx programs.
pub fn program_test() -> ProgramTest {
    let mut pt = ProgramTest::default();
    let sbf = sbf();
    if sbf {
        pt.prefer_bpf(true);
    }
    type Builtin = Option<solana_program_runtime::invoke_context::BuiltinFunctionWithContext>;
    let token: Builtin = anchor_processor!(compute_token::entry);
    let futures: Builtin = anchor_processor!(compute_futures::process_instruction);
    pt.add_program(
        "compute_token",
        compute_token::ID,
        if sbf { None } else { token },
    );
    pt.add_program(
        "compute_futures",
        compute_futures::ID,
        if sbf { None } else { futures },
    );
    pt
}

struct State {
    ctx: ProgramTestContext,
    /// Forced unix time, re-applied after slot warps.
    time: Option<i64>,
    known: BTreeSet<Pubkey>,
    results: HashMap<Signature, Status>,
}

/// An in-process bank.
pub struct BankBackend {
    state: Mutex<State>,
    pub payer: solana_sdk::signature::Keypair,
}

impl BankBackend {
    /// Starts a bank with both programs; `pt` from `program_test()` (more programs or
    /// accounts may be added to it first).
    pub async fn start(pt: ProgramTest) -> Self {
        let ctx = pt.start_with_context().await;
        let payer = ctx.payer.insecure_clone();
        let me = BankBackend {
            state: Mutex::new(State {
                ctx,
                time: None,
                known: BTreeSet::new(),
                results: HashMap::new(),
            }),
            payer,
        };
        if sbf() {
            // Programs deployed at genesis become invocable a slot later.
            me.warp_slots(4).await;
        }
        me
    }

    /// Advances `n` slots (a new blockhash), keeping a forced time.
    pub async fn warp_slots(&self, n: u64) {
        let mut s = self.state.lock().await;
        let slot = s.ctx.banks_client.get_root_slot().await.expect("slot");
        s.ctx.warp_to_slot(slot + n).expect("warp");
        if let Some(t) = s.time {
            let mut clock: Clock = s.ctx.banks_client.get_sysvar().await.expect("clock");
            clock.unix_timestamp = t;
            s.ctx.set_sysvar(&clock);
        }
    }

    /// Forces the Clock's unix time (kept across later slot warps).
    pub async fn set_time(&self, unix_timestamp: i64) {
        let mut s = self.state.lock().await;
        let mut clock: Clock = s.ctx.banks_client.get_sysvar().await.expect("clock");
        clock.unix_timestamp = unix_timestamp;
        s.ctx.set_sysvar(&clock);
        s.time = Some(unix_timestamp);
    }

    /// Remembers accounts for `program_accounts` (the bank has no index of its own).
    pub async fn watch(&self, keys: &[Pubkey]) {
        self.state.lock().await.known.extend(keys.iter().copied());
    }

    /// Runs a transaction and returns its result with the compute units and logs, as
    /// `send` + `status` would but in one call.
    pub async fn process(
        &self,
        tx: &Transaction,
    ) -> Result<
        (
            Result<(), solana_sdk::transaction::TransactionError>,
            u64,
            Vec<String>,
        ),
        ClientError,
    > {
        let mut s = self.state.lock().await;
        if let Some(done) = s.results.get(&tx.signatures[0]) {
            // A re-broadcast: a cluster runs a transaction once.
            let r = match done {
                Status::Failed(e) => Err(e.clone()),
                _ => Ok(()),
            };
            return Ok((r, 0, Vec::new()));
        }
        s.known.extend(tx.message.account_keys.iter().copied());
        let r = s
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx.clone())
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))?;
        let (logs, cu) = r
            .metadata
            .map(|m| (m.log_messages, m.compute_units_consumed))
            .unwrap_or_default();
        let status = match &r.result {
            Ok(()) => Status::Succeeded,
            Err(e) => Status::Failed(e.clone()),
        };
        s.results.insert(tx.signatures[0], status);
        Ok((r.result, cu, logs))
    }
}

impl Backend for BankBackend {
    async fn get_account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError> {
        let s = self.state.lock().await;
        s.ctx
            .banks_client
            .get_account(*key)
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))
    }

    async fn get_accounts(&self, keys: &[Pubkey]) -> Result<Vec<Option<Account>>, ClientError> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.get_account(k).await?);
        }
        Ok(out)
    }

    async fn program_accounts(
        &self,
        program: &Pubkey,
        discriminator: &[u8],
        len: Option<usize>,
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        let known: Vec<Pubkey> = self.state.lock().await.known.iter().copied().collect();
        let mut out = Vec::new();
        for (k, a) in known.iter().zip(self.get_accounts(&known).await?) {
            let Some(a) = a else { continue };
            if a.owner == *program
                && a.data.starts_with(discriminator)
                && len.is_none_or(|l| a.data.len() == l)
            {
                out.push((*k, a));
            }
        }
        Ok(out)
    }

    async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
        let s = self.state.lock().await;
        s.ctx
            .banks_client
            .get_latest_blockhash()
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))
    }

    async fn blockhash_valid(&self, _blockhash: &Hash) -> Result<bool, ClientError> {
        // The bank keeps the recent blockhashes of the slots it has warped through.
        Ok(true)
    }

    async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ClientError> {
        let s = self.state.lock().await;
        let r = s
            .ctx
            .banks_client
            .simulate_transaction(tx.clone())
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))?;
        let (logs, units, ret) = r
            .simulation_details
            .map(|d| {
                (
                    d.logs,
                    Some(d.units_consumed),
                    d.return_data.map(|r| r.data),
                )
            })
            .unwrap_or_default();
        Ok(Simulation {
            err: r.result.and_then(|r| r.err()),
            logs,
            units_consumed: units,
            return_data: ret,
        })
    }

    async fn send(&self, tx: &Transaction) -> Result<Signature, ClientError> {
        // The outcome is kept for `status`.
        let _ = self.process(tx).await?;
        Ok(tx.signatures[0])
    }

    async fn status(&self, signature: &Signature) -> Result<Status, ClientError> {
        Ok(self
            .state
            .lock()
            .await
            .results
            .get(signature)
            .cloned()
            .unwrap_or(Status::Unknown))
    }

    async fn clock(&self) -> Result<Clock, ClientError> {
        let s = self.state.lock().await;
        s.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))
    }

    async fn recent_fees(&self, _writable: &[Pubkey]) -> Result<Vec<u64>, ClientError> {
        Ok(Vec::new())
    }
}
