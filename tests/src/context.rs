//! A small wrapper around `ProgramTestContext`.

use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::{
    account::Account,
    clock::Clock,
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::{Transaction, TransactionError},
};
use std::cell::Cell;
use std::collections::HashSet;

thread_local! {
    static NEXT_KEY: Cell<u64> = const { Cell::new(0) };
}

/// A keypair from a per-test sequence, restarted by `TestContext::start`: the same test code
/// makes the same keys in every context, so two runs of one flow produce identical accounts (and
/// PDA bump searches, hence compute units, repeat exactly).
pub fn new_keypair() -> Keypair {
    let n = NEXT_KEY.with(|k| {
        let n = k.get();
        k.set(n + 1);
        n
    });
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(b"cfxtests");
    secret[8..16].copy_from_slice(&n.to_le_bytes());
    Keypair::new_from_array(secret)
}

/// Lamports `TestContext::send` puts on each address a program is about to create, as an
/// attacker would (see `TestContext::prefund`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prefund {
    /// Written into the account directly (below the rent-exempt minimum of an empty account, so
    /// no transfer could leave it there).
    Set(u64),
    /// Sent with a system transfer.
    Transfer(u64),
    /// Sent with a system transfer, per address (addresses not listed get nothing).
    TransferEach(std::collections::HashMap<Pubkey, u64>),
}

impl Prefund {
    /// Lamports put on `key`.
    pub fn lamports(&self, key: &Pubkey) -> u64 {
        match self {
            Prefund::Set(l) | Prefund::Transfer(l) => *l,
            Prefund::TransferEach(m) => m.get(key).copied().unwrap_or(0),
        }
    }
}

/// A program to load: natively through `processor` or, when `SBF_OUT_DIR` is set, from
/// `<SBF_OUT_DIR>/<name>.so`.
pub struct Program {
    pub name: &'static str,
    pub id: Pubkey,
    pub processor: Option<solana_program_runtime::invoke_context::BuiltinFunctionWithContext>,
}

/// Anchor events of type `T` found in a transaction's logs (`Program data:` lines).
pub fn events<T: anchor_lang::Event>(logs: &[String]) -> Vec<T> {
    use base64::Engine;
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .filter(|d| d.starts_with(T::DISCRIMINATOR))
        .filter_map(|d| T::deserialize(&mut &d[T::DISCRIMINATOR.len()..]).ok())
        .collect()
}

/// Why a transaction failed.
#[derive(Debug)]
pub enum TxError {
    Transaction(TransactionError),
    Client(BanksClientError),
}

/// The custom error code of a failed instruction (Anchor errors are `6000 + index`).
pub fn error_code(err: &TxError) -> Option<u32> {
    match err {
        TxError::Transaction(TransactionError::InstructionError(
            _,
            InstructionError::Custom(c),
        )) => Some(*c),
        _ => None,
    }
}

pub struct TestContext {
    pub ctx: ProgramTestContext,
    /// Unix time forced on the Clock sysvar; re-applied after every slot warp.
    time: Option<i64>,
    sent: HashSet<Signature>,
    /// Logs of the last processed transaction.
    pub last_logs: Vec<String>,
    /// Return data of the last processed transaction (empty if none).
    pub last_return_data: Vec<u8>,
    /// When set, every account a transaction passes to one of `prefund_programs` as writable
    /// and not signing (an address the program creates, a PDA) and that does not exist yet gets
    /// these lamports first.
    pub prefund: Option<Prefund>,
    pub prefund_programs: Vec<Pubkey>,
    /// The addresses pre-funded so far, in order.
    pub prefunded: Vec<Pubkey>,
}

impl TestContext {
    /// True when the tests run against SBF binaries.
    pub fn sbf() -> bool {
        std::env::var_os("SBF_OUT_DIR").is_some() || std::env::var_os("BPF_OUT_DIR").is_some()
    }

    pub async fn start(programs: Vec<Program>) -> Self {
        let mut pt = ProgramTest::default();
        let sbf = Self::sbf();
        if sbf {
            pt.prefer_bpf(true);
        }
        for p in programs {
            let processor = if sbf { None } else { p.processor };
            pt.add_program(p.name, p.id, processor);
        }
        NEXT_KEY.with(|k| k.set(0));
        let ctx = pt.start_with_context().await;
        let mut me = Self {
            ctx,
            time: None,
            sent: HashSet::new(),
            last_logs: Vec::new(),
            last_return_data: Vec::new(),
            prefund: None,
            prefund_programs: Vec::new(),
            prefunded: Vec::new(),
        };
        if sbf {
            // Programs deployed at genesis become invocable a slot later.
            me.warp_slots(4).await;
        }
        me
    }

    pub fn payer(&self) -> Keypair {
        self.ctx.payer.insecure_clone()
    }

    pub fn payer_key(&self) -> Pubkey {
        self.ctx.payer.pubkey()
    }

    pub async fn clock(&mut self) -> Clock {
        self.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .expect("clock sysvar")
    }

    pub async fn now(&mut self) -> i64 {
        self.clock().await.unix_timestamp
    }

    /// Forces the Clock's unix timestamp (kept across later slot warps).
    pub async fn set_time(&mut self, unix_timestamp: i64) {
        let mut clock = self.clock().await;
        clock.unix_timestamp = unix_timestamp;
        self.ctx.set_sysvar(&clock);
        self.time = Some(unix_timestamp);
    }

    /// Advances `n` slots (new blockhash), keeping any forced time.
    pub async fn warp_slots(&mut self, n: u64) {
        let slot = self.ctx.banks_client.get_root_slot().await.expect("slot");
        self.ctx.warp_to_slot(slot + n).expect("warp");
        self.ctx.last_blockhash = self
            .ctx
            .banks_client
            .get_latest_blockhash()
            .await
            .expect("blockhash");
        if let Some(t) = self.time {
            let mut clock = self.clock().await;
            clock.unix_timestamp = t;
            self.ctx.set_sysvar(&clock);
        }
    }

    /// Sends `ixs` paid by the context payer and signed by `signers`; returns the compute units
    /// the transaction consumed. Identical transactions are made distinct by moving to a new
    /// blockhash, so a repeated instruction is really executed again.
    pub async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<u64, TxError> {
        if let Some(prefund) = self.prefund.clone() {
            self.prefund_created(ixs, signers, &prefund).await;
        }
        let payer = self.payer();
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|k| k.pubkey() != payer.pubkey()),
        );
        let mut tx = Transaction::new_signed_with_payer(
            ixs,
            Some(&payer.pubkey()),
            &all,
            self.ctx.last_blockhash,
        );
        if self.sent.contains(&tx.signatures[0]) {
            self.warp_slots(1).await;
            tx = Transaction::new_signed_with_payer(
                ixs,
                Some(&payer.pubkey()),
                &all,
                self.ctx.last_blockhash,
            );
        }
        self.sent.insert(tx.signatures[0]);
        let mut res = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx.clone())
            .await
            .map_err(TxError::Client)?;
        // The test bank now and then reports an account lock still held by the transaction
        // before (seen twice in ~40 runs of the suite, in `prefunded`; an immediate resend met
        // the same lock). A lock refusal happens before execution and changes nothing, so the
        // same transaction is sent again after a moment, a few times.
        for attempt in 1..=8u64 {
            if !matches!(
                res.result,
                Err(solana_sdk::transaction::TransactionError::AccountInUse)
            ) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
            res = self
                .ctx
                .banks_client
                .process_transaction_with_metadata(tx.clone())
                .await
                .map_err(TxError::Client)?;
        }
        let (logs, cu, ret) = res
            .metadata
            .map(|m| {
                (
                    m.log_messages,
                    m.compute_units_consumed,
                    m.return_data.map(|r| r.data).unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        self.last_logs = logs;
        self.last_return_data = ret;
        match res.result {
            Ok(()) => Ok(cu),
            Err(e) => Err(TxError::Transaction(e)),
        }
    }

    async fn prefund_created(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        prefund: &Prefund,
    ) {
        let signing: HashSet<Pubkey> = signers.iter().map(|k| k.pubkey()).collect();
        for i in ixs {
            if !self.prefund_programs.contains(&i.program_id) {
                continue;
            }
            for meta in &i.accounts {
                let key = meta.pubkey;
                if !meta.is_writable
                    || meta.is_signer
                    || signing.contains(&key)
                    || key == self.payer_key()
                    || self.account(&key).await.is_some()
                {
                    continue;
                }
                let lamports = prefund.lamports(&key);
                if lamports == 0 {
                    continue;
                }
                match prefund {
                    Prefund::Set(_) => self.ctx.set_account(
                        &key,
                        &solana_sdk::account::AccountSharedData::new(
                            lamports,
                            0,
                            &anchor_lang::system_program::ID,
                        ),
                    ),
                    Prefund::Transfer(_) | Prefund::TransferEach(_) => {
                        let payer = self.payer();
                        let tx = Transaction::new_signed_with_payer(
                            &[anchor_lang::solana_program::system_instruction::transfer(
                                &payer.pubkey(),
                                &key,
                                lamports,
                            )],
                            Some(&payer.pubkey()),
                            &[&payer],
                            self.ctx.last_blockhash,
                        );
                        self.ctx
                            .banks_client
                            .process_transaction(tx)
                            .await
                            .expect("pre-fund transfer");
                    }
                }
                self.prefunded.push(key);
            }
        }
    }

    pub async fn account(&mut self, key: &Pubkey) -> Option<Account> {
        self.ctx
            .banks_client
            .get_account(*key)
            .await
            .expect("get_account")
    }

    /// Data, lamports and owner of each key; compare two snapshots to prove nothing changed.
    pub async fn snapshot(&mut self, keys: &[Pubkey]) -> Vec<Option<(u64, Pubkey, Vec<u8>)>> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.account(k).await.map(|a| (a.lamports, a.owner, a.data)));
        }
        out
    }

    pub async fn lamports(&mut self, key: &Pubkey) -> u64 {
        self.account(key).await.map(|a| a.lamports).unwrap_or(0)
    }

    /// A new keypair funded by the payer.
    pub async fn funded_keypair(&mut self, lamports: u64) -> Keypair {
        let kp = new_keypair();
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &self.payer_key(),
            &kp.pubkey(),
            lamports,
        );
        self.send(&[ix], &[]).await.expect("fund keypair");
        kp
    }
}
