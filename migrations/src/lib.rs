//! Bootstrap of an exchange on any cluster from a declarative file (TOML): compute-token's
//! registry, classes and approved providers, delivery windows, the exchange, its price indexes,
//! series templates and markets.
//!
//! Every step looks at the chain first: what exists is left alone (and compared with the file:
//! a difference is reported, never overwritten), what is missing is created, so a second run
//! changes nothing and says so. `dry_run` only reports what a run would do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anchor_lang::AccountDeserialize;
use cfx_client::backend::Backend;
use cfx_client::compute_futures::instructions::{
    FeeSchedule, IndexParams, MarketParams, SeriesTemplateArgs,
};
use cfx_client::compute_futures::state::{Exchange, Market, PriceIndex, SeriesTemplate};
use cfx_client::compute_token::instructions::{CreateClassArgs, CreateWindowArgs};
use cfx_client::compute_token::state::{ComputeClass, Registry, Window};
use cfx_client::decode::zero_copy;
use cfx_client::ix::{self, ExchangeKeys};
use cfx_client::sender::{send, SendConfig};
use cfx_client::token_ix::{self, Bond};
use cfx_client::{pda, ClientError};
use serde::Deserialize;
use solana_sdk::instruction::Instruction;
use solana_sdk::program_pack::Pack;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair};
use solana_sdk::signer::Signer;

/// The file: everything an exchange needs, by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub registry: RegistryFile,
    #[serde(default)]
    pub classes: Vec<ClassFile>,
    pub exchange: ExchangeFile,
    #[serde(default)]
    pub indexes: Vec<IndexFile>,
    #[serde(default)]
    pub windows: Vec<WindowFile>,
    /// Named market parameter sets, used by markets and templates.
    #[serde(default)]
    pub params: BTreeMap<String, ParamsFile>,
    #[serde(default)]
    pub templates: Vec<TemplateFile>,
    #[serde(default)]
    pub markets: Vec<MarketFile>,
}

/// A mint: an existing one by address, or one this run creates from a keypair file (the admin
/// is its authority; on localnet and devnet only, where test tokens are made up).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintFile {
    pub mint: Option<String>,
    pub mint_keypair: Option<String>,
    #[serde(default = "six")]
    pub decimals: u8,
    /// `spl-token` or `token-2022`.
    #[serde(default = "spl_token")]
    pub token_program: String,
}

fn six() -> u8 {
    6
}

fn spl_token() -> String {
    "spl-token".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    pub bond: MintFile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassFile {
    pub symbol: String,
    pub unit_description: String,
    pub decimals: u8,
    pub bond_per_unit: u64,
    pub grace_period: i64,
    pub penalty_bps: u16,
    /// Provider authorities to approve.
    #[serde(default)]
    pub providers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeFile {
    pub collateral: MintFile,
    pub taker_fee_bps: u16,
    pub maker_fee_bps: i16,
    pub crank_reward: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexFile {
    /// Class symbol.
    pub class: String,
    pub publishers: Vec<String>,
    pub min_publishers: u8,
    pub max_staleness: u64,
    pub max_conf_bps: u64,
    pub twap_interval: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowFile {
    pub class: String,
    pub start: i64,
    pub end: i64,
    pub name: String,
    pub symbol: String,
    #[serde(default)]
    pub uri: String,
}

/// `MarketParams` without the name and times, which each market or listing sets; times before
/// expiry instead of absolute ones.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsFile {
    pub lot_size: u64,
    pub tick_value: u64,
    pub min_order_lots: u64,
    pub max_position_lots: u64,
    pub max_open_interest: u64,
    pub initial_margin_bps: u64,
    pub maintenance_margin_bps: u64,
    pub pnl_weight_bps: u64,
    pub price_band_bps: u64,
    pub ema_period: u64,
    pub ema_reference_lots: u64,
    pub mark_band_max_bps: u64,
    pub mark_band_min_bps: u64,
    pub mark_narrow_period: u64,
    pub last_trade_before_expiry: u64,
    pub liq_end_bps: u64,
    pub liq_penalty_bps: u64,
    pub liq_insurance_share_bps: u64,
    pub liq_dust_lots: u64,
    pub insurance_cap: u64,
    pub insurance_period: u64,
    pub settle_window: u64,
    pub settle_min_updates: u64,
    pub settle_fallback_delay: u64,
    pub settle_fallback_band_bps: u64,
    #[serde(default)]
    pub delivery_cutoff_before_expiry: u64,
    #[serde(default)]
    pub delivery_penalty_bps: u64,
}

impl ParamsFile {
    fn market_params(&self, name: &str, expiry: i64) -> Result<MarketParams, Error> {
        let before = |s: u64, what: &str| {
            i64::try_from(s)
                .ok()
                .and_then(|s| expiry.checked_sub(s))
                .ok_or_else(|| Error::File(format!("{what} of {name}: out of range")))
        };
        Ok(MarketParams {
            name: name24(name)?,
            lot_size: self.lot_size,
            tick_value: self.tick_value,
            min_order_lots: self.min_order_lots,
            max_position_lots: self.max_position_lots,
            max_open_interest: self.max_open_interest,
            initial_margin_bps: self.initial_margin_bps,
            maintenance_margin_bps: self.maintenance_margin_bps,
            pnl_weight_bps: self.pnl_weight_bps,
            price_band_bps: self.price_band_bps,
            ema_period: self.ema_period,
            ema_reference_lots: self.ema_reference_lots,
            mark_band_max_bps: self.mark_band_max_bps,
            mark_band_min_bps: self.mark_band_min_bps,
            mark_narrow_period: self.mark_narrow_period,
            last_trade_ts: before(self.last_trade_before_expiry, "last_trade_before_expiry")?,
            expiry_ts: expiry,
            liq_end_bps: self.liq_end_bps,
            liq_penalty_bps: self.liq_penalty_bps,
            liq_insurance_share_bps: self.liq_insurance_share_bps,
            liq_dust_lots: self.liq_dust_lots,
            insurance_cap: self.insurance_cap,
            insurance_period: self.insurance_period,
            settle_window: self.settle_window,
            settle_min_updates: self.settle_min_updates,
            settle_fallback_delay: self.settle_fallback_delay,
            settle_fallback_band_bps: self.settle_fallback_band_bps,
            delivery_cutoff_ts: before(
                self.delivery_cutoff_before_expiry,
                "delivery_cutoff_before_expiry",
            )?,
            delivery_penalty_bps: self.delivery_penalty_bps,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFile {
    pub class: String,
    pub id: u16,
    /// `weekly` or `monthly` (the month's last `weekday`).
    pub schedule: String,
    /// 0 = Monday.
    pub weekday: u8,
    /// Expiry time of day, seconds UTC.
    pub time_of_day: u32,
    /// Series names are the prefix and `-2026W49` / `-2026M12`.
    pub name_prefix: String,
    #[serde(default)]
    pub physical: bool,
    /// Name of a `[params.*]` set.
    pub params: String,
    /// Keep the template's nearest series still trading listed (cash-settled templates): a run
    /// lists it when it is not, so running on a schedule rolls the series.
    #[serde(default)]
    pub list_next: bool,
    #[serde(default = "book_capacity")]
    pub book_capacity: usize,
    #[serde(default = "queue_capacity")]
    pub queue_capacity: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketFile {
    pub class: String,
    pub name: String,
    /// Unix time, on the index's TWAP grid.
    pub expiry: i64,
    /// Name of a `[params.*]` set.
    pub params: String,
    /// Start time of the class's delivery window the series delivers (physical series).
    pub delivery_window: Option<i64>,
    #[serde(default = "book_capacity")]
    pub book_capacity: usize,
    #[serde(default = "queue_capacity")]
    pub queue_capacity: usize,
}

fn book_capacity() -> usize {
    1_024
}

fn queue_capacity() -> usize {
    512
}

fn name24(name: &str) -> Result<[u8; 24], Error> {
    let mut n = [0u8; 24];
    if name.len() > 24 {
        return Err(Error::File(format!(
            "name {name:?} is longer than 24 bytes"
        )));
    }
    n[..name.len()].copy_from_slice(name.as_bytes());
    Ok(n)
}

#[derive(Debug)]
pub enum Error {
    /// The file is wrong: nothing was sent.
    File(String),
    /// The cluster or a program refused a step; the steps before it are done.
    Chain(String, ClientError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::File(m) => write!(f, "{m}"),
            Error::Chain(step, e) => write!(f, "{step}: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// What one step found or did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    WouldCreate,
    Exists,
    /// Exists with other values than the file's (field: chain → file); left as it is.
    Differs(Vec<String>),
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub what: String,
    pub address: String,
    pub status: Status,
}

/// Every step of a run, in order.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub steps: Vec<Step>,
}

impl Report {
    /// Steps that created something (or would, in a dry run).
    pub fn changes(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.status, Status::Created | Status::WouldCreate))
            .count()
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            let status = match &s.status {
                Status::Created => "created".to_string(),
                Status::WouldCreate => "would create".to_string(),
                Status::Exists => "exists".to_string(),
                Status::Differs(d) => format!("exists, differs: {}", d.join(", ")),
            };
            out.push_str(&format!("{:<40} {:<45} {status}\n", s.what, s.address));
        }
        let n = self.changes();
        out.push_str(&if n == 0 {
            "nothing to do: the cluster matches the file\n".to_string()
        } else {
            format!("{n} change(s)\n")
        });
        out
    }
}

/// Reads a deployment file; relative keypair paths are relative to the file.
pub fn load(path: &Path) -> Result<(Deployment, PathBuf), Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::File(format!("{}: {e}", path.display())))?;
    let d: Deployment =
        toml::from_str(&text).map_err(|e| Error::File(format!("{}: {e}", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok((d, dir))
}

fn key(s: &str, what: &str) -> Result<Pubkey, Error> {
    s.parse()
        .map_err(|_| Error::File(format!("{what}: {s:?} is not a public key")))
}

fn token_program(s: &str) -> Result<Pubkey, Error> {
    match s {
        "spl-token" => Ok(anchor_spl::token::ID),
        "token-2022" => Ok(anchor_spl::token_2022::ID),
        other => Err(Error::File(format!(
            "token_program {other:?}: spl-token or token-2022"
        ))),
    }
}

/// A mint of the file, resolved: its address, program, and the keypair to create it with.
struct Mint {
    address: Pubkey,
    program: Pubkey,
    decimals: u8,
    create: Option<Keypair>,
}

/// The keypair in `path`; a new one written there (solana CLI format) when the file does not
/// exist, so a localnet file needs no keys prepared. In a dry run nothing is written.
fn keypair_file(path: &Path, dry_run: bool, what: &str) -> Result<Keypair, Error> {
    if path.exists() {
        return read_keypair_file(path)
            .map_err(|e| Error::File(format!("{what}: {}: {e}", path.display())));
    }
    let k = Keypair::new();
    if !dry_run {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::File(format!("{what}: {}: {e}", parent.display())))?;
        }
        let bytes: Vec<u8> = k.to_bytes().to_vec();
        std::fs::write(path, serde_json::to_string(&bytes).expect("bytes"))
            .map_err(|e| Error::File(format!("{what}: {}: {e}", path.display())))?;
    }
    Ok(k)
}

/// A public key given as an address, or as a keypair file (relative to the deployment file;
/// created when missing).
fn key_or_file(s: &str, dir: &Path, dry_run: bool, what: &str) -> Result<Pubkey, Error> {
    if let Ok(k) = s.parse() {
        return Ok(k);
    }
    if !s.ends_with(".json") {
        return Err(Error::File(format!(
            "{what}: {s:?} is neither a public key nor a keypair file (.json)"
        )));
    }
    Ok(keypair_file(&dir.join(s), dry_run, what)?.pubkey())
}

fn mint(m: &MintFile, dir: &Path, dry_run: bool, what: &str) -> Result<Mint, Error> {
    let program = token_program(&m.token_program)?;
    match (&m.mint, &m.mint_keypair) {
        (Some(a), None) => Ok(Mint {
            address: key(a, what)?,
            program,
            decimals: m.decimals,
            create: None,
        }),
        (None, Some(p)) => {
            let k = keypair_file(&dir.join(p), dry_run, what)?;
            Ok(Mint {
                address: k.pubkey(),
                program,
                decimals: m.decimals,
                create: Some(k),
            })
        }
        _ => Err(Error::File(format!(
            "{what}: give exactly one of mint = ADDRESS or mint_keypair = FILE"
        ))),
    }
}

/// Everything the file names, resolved before anything is sent: a bad file sends nothing.
struct Plan<'d> {
    d: &'d Deployment,
    bond: Mint,
    collateral: Mint,
    classes: BTreeMap<String, Pubkey>,
    /// Providers and publishers, as the file names them.
    keys: BTreeMap<String, Pubkey>,
}

impl<'d> Plan<'d> {
    fn new(d: &'d Deployment, dir: &Path, dry_run: bool) -> Result<Self, Error> {
        let registry = pda::token::registry();
        let classes: BTreeMap<String, Pubkey> = d
            .classes
            .iter()
            .map(|c| (c.symbol.clone(), pda::token::class(&registry, &c.symbol)))
            .collect();
        let mut keys = BTreeMap::new();
        for (list, what) in d
            .classes
            .iter()
            .map(|c| (&c.providers, "provider"))
            .chain(d.indexes.iter().map(|i| (&i.publishers, "publisher")))
        {
            for s in list {
                if !keys.contains_key(s) {
                    keys.insert(s.clone(), key_or_file(s, dir, dry_run, what)?);
                }
            }
        }
        let plan = Plan {
            d,
            bond: mint(&d.registry.bond, dir, dry_run, "registry.bond")?,
            collateral: mint(&d.exchange.collateral, dir, dry_run, "exchange.collateral")?,
            classes,
            keys,
        };
        // Every name resolves and every parameter set builds.
        for i in &d.indexes {
            plan.class(&i.class)?;
        }
        for w in &d.windows {
            plan.class(&w.class)?;
        }
        for t in &d.templates {
            plan.class(&t.class)?;
            plan.params(&t.params)?;
            schedule(&t.schedule)?;
        }
        for m in &d.markets {
            plan.class(&m.class)?;
            plan.params(&m.params)?.market_params(&m.name, m.expiry)?;
        }
        Ok(plan)
    }

    fn class(&self, symbol: &str) -> Result<Pubkey, Error> {
        self.classes
            .get(symbol)
            .copied()
            .ok_or_else(|| Error::File(format!("class {symbol:?} is not in [[classes]]")))
    }

    fn key(&self, s: &str) -> Pubkey {
        self.keys[s]
    }

    fn params(&self, name: &str) -> Result<&ParamsFile, Error> {
        self.d
            .params
            .get(name)
            .ok_or_else(|| Error::File(format!("params {name:?} is not a [params.{name}] table")))
    }
}

fn schedule(s: &str) -> Result<u8, Error> {
    match s {
        "weekly" => Ok(1),
        "monthly" => Ok(2),
        other => Err(Error::File(format!(
            "schedule {other:?}: weekly or monthly"
        ))),
    }
}

/// Runs a deployment: `admin` signs and pays; with `dry_run` nothing is sent.
pub struct Runner<'a, B: Backend> {
    pub backend: &'a B,
    pub admin: &'a Keypair,
    pub dry_run: bool,
    report: Report,
}

impl<'a, B: Backend> Runner<'a, B> {
    pub fn new(backend: &'a B, admin: &'a Keypair, dry_run: bool) -> Self {
        Runner {
            backend,
            admin,
            dry_run,
            report: Report::default(),
        }
    }

    async fn exists(&self, k: &Pubkey, what: &str) -> Result<Option<Vec<u8>>, Error> {
        self.backend
            .get_account(k)
            .await
            .map(|a| a.map(|a| a.data))
            .map_err(|e| Error::Chain(what.into(), e))
    }

    fn note(&mut self, what: String, address: &Pubkey, status: Status) {
        self.report.steps.push(Step {
            what,
            address: address.to_string(),
            status,
        });
    }

    /// Creates `address` with `ixs` unless it exists (then `compare` says how it differs).
    async fn ensure(
        &mut self,
        what: String,
        address: Pubkey,
        signers: &[&Keypair],
        ixs: impl FnOnce() -> Vec<Instruction>,
        compare: impl FnOnce(&[u8]) -> Vec<String>,
    ) -> Result<bool, Error> {
        if let Some(data) = self.exists(&address, &what).await? {
            let d = compare(&data);
            let status = if d.is_empty() {
                Status::Exists
            } else {
                Status::Differs(d)
            };
            self.note(what, &address, status);
            return Ok(false);
        }
        if self.dry_run {
            self.note(what, &address, Status::WouldCreate);
            return Ok(true);
        }
        send(
            self.backend,
            &SendConfig::default(),
            self.admin,
            signers,
            &ixs(),
        )
        .await
        .map_err(|e| Error::Chain(what.clone(), e))?;
        self.note(what, &address, Status::Created);
        Ok(true)
    }

    /// Runs every step of `d` in order (registry, classes, providers, windows, exchange,
    /// indexes, templates, markets) and reports what each found or did.
    pub async fn run(mut self, d: &Deployment, dir: &Path) -> Result<Report, Error> {
        let plan = Plan::new(d, dir, self.dry_run)?;
        let admin = self.admin.pubkey();
        let mints = [
            (&plan.bond, "bond mint"),
            (&plan.collateral, "collateral mint"),
        ];
        // Mints given by address must be there before anything is sent.
        for (m, what) in mints {
            if m.create.is_none() && self.exists(&m.address, what).await?.is_none() {
                return Err(Error::File(format!(
                    "{what} {} does not exist on this cluster",
                    m.address
                )));
            }
        }
        for (m, what) in mints {
            self.ensure_mint(m, what).await?;
        }
        let bond = Bond {
            mint: plan.bond.address,
            token_program: plan.bond.program,
        };
        let registry = pda::token::registry();
        self.ensure(
            "registry".into(),
            registry,
            &[],
            || vec![token_ix::initialize_registry(&admin, &bond)],
            |data| {
                let mut diff = Vec::new();
                if let Ok(r) = Registry::try_deserialize(&mut &data[..]) {
                    differ(&mut diff, "bond_mint", r.bond_mint, bond.mint);
                    differ(&mut diff, "admin", r.admin, admin);
                }
                diff
            },
        )
        .await?;
        for c in &d.classes {
            let k = plan.class(&c.symbol)?;
            let args = CreateClassArgs {
                symbol: c.symbol.clone(),
                unit_description: c.unit_description.clone(),
                decimals: c.decimals,
                bond_per_unit: c.bond_per_unit,
                grace_period: c.grace_period,
                penalty_bps: c.penalty_bps,
            };
            self.ensure(
                format!("class {}", c.symbol),
                k,
                &[],
                || vec![token_ix::create_class(&admin, args)],
                |data| {
                    let mut diff = Vec::new();
                    if let Ok(x) = ComputeClass::try_deserialize(&mut &data[..]) {
                        differ(&mut diff, "decimals", x.decimals, c.decimals);
                        differ(&mut diff, "bond_per_unit", x.bond_per_unit, c.bond_per_unit);
                        differ(&mut diff, "grace_period", x.grace_period, c.grace_period);
                        differ(&mut diff, "penalty_bps", x.penalty_bps, c.penalty_bps);
                    }
                    diff
                },
            )
            .await?;
            for p in &c.providers {
                let authority = plan.key(p);
                self.ensure(
                    format!("provider {} of {}", short(&authority), c.symbol),
                    pda::token::provider(&k, &authority),
                    &[],
                    || vec![token_ix::approve_provider(&admin, &k, &authority)],
                    |_| Vec::new(),
                )
                .await?;
            }
        }
        for w in &d.windows {
            let class = plan.class(&w.class)?;
            let args = CreateWindowArgs {
                start: w.start,
                end: w.end,
                name: w.name.clone(),
                symbol: w.symbol.clone(),
                uri: w.uri.clone(),
            };
            let (i, window, _) = token_ix::create_window(&admin, &class, args);
            self.ensure(
                format!("window {}", w.symbol),
                window,
                &[],
                || vec![i],
                |data| {
                    let mut diff = Vec::new();
                    if let Ok(x) = Window::try_deserialize(&mut &data[..]) {
                        differ(&mut diff, "end", x.end, w.end);
                    }
                    diff
                },
            )
            .await?;
        }
        let e = ExchangeKeys::derive(&plan.collateral.address, &plan.collateral.program);
        let fees = FeeSchedule {
            taker_fee_bps: d.exchange.taker_fee_bps,
            maker_fee_bps: d.exchange.maker_fee_bps,
            crank_reward: d.exchange.crank_reward,
        };
        self.ensure(
            "exchange".into(),
            e.exchange,
            &[],
            || vec![ix::create_exchange(&admin, &e, fees)],
            |data| {
                let mut diff = Vec::new();
                if let Ok(x) = zero_copy::<Exchange>(data) {
                    differ(&mut diff, "admin", x.admin, admin);
                    differ(
                        &mut diff,
                        "taker_fee_bps",
                        x.taker_fee_bps,
                        fees.taker_fee_bps,
                    );
                    differ(
                        &mut diff,
                        "maker_fee_bps",
                        x.maker_fee_bps,
                        fees.maker_fee_bps,
                    );
                    differ(&mut diff, "crank_reward", x.crank_reward, fees.crank_reward);
                }
                diff
            },
        )
        .await?;
        for i in &d.indexes {
            let class = plan.class(&i.class)?;
            let publishers: Vec<Pubkey> = i.publishers.iter().map(|p| plan.key(p)).collect();
            let params = IndexParams {
                publishers: publishers.clone(),
                min_publishers: i.min_publishers,
                max_staleness: i.max_staleness,
                max_conf_bps: i.max_conf_bps,
                twap_interval: i.twap_interval,
            };
            self.ensure(
                format!("index {}", i.class),
                pda::price_index(&e.exchange, &class),
                &[],
                || vec![ix::create_price_index(&admin, &e.exchange, &class, params)],
                |data| {
                    let mut diff = Vec::new();
                    if let Ok(x) = zero_copy::<PriceIndex>(data) {
                        let on_chain: Vec<Pubkey> = x
                            .publishers
                            .iter()
                            .filter(|k| **k != Pubkey::default())
                            .copied()
                            .collect();
                        if on_chain != publishers {
                            diff.push("publishers".into());
                        }
                        differ(
                            &mut diff,
                            "min_publishers",
                            x.min_publishers,
                            i.min_publishers,
                        );
                        differ(&mut diff, "max_staleness", x.max_staleness, i.max_staleness);
                        differ(&mut diff, "max_conf_bps", x.max_conf_bps, i.max_conf_bps);
                        differ(&mut diff, "twap_interval", x.twap.interval, i.twap_interval);
                    }
                    diff
                },
            )
            .await?;
        }
        for t in &d.templates {
            let class = plan.class(&t.class)?;
            let p = plan.params(&t.params)?;
            let mut prefix = [0u8; 16];
            if t.name_prefix.len() > 16 {
                return Err(Error::File(format!(
                    "name_prefix {:?} is longer than 16 bytes",
                    t.name_prefix
                )));
            }
            prefix[..t.name_prefix.len()].copy_from_slice(t.name_prefix.as_bytes());
            let args = SeriesTemplateArgs {
                schedule: schedule(&t.schedule)?,
                weekday: t.weekday,
                time_of_day: t.time_of_day,
                name_prefix: prefix,
                last_trade_before: p.last_trade_before_expiry,
                delivery_cutoff_before: p.delivery_cutoff_before_expiry,
                physical: t.physical,
                // Name and times are set per listing.
                params: p.market_params("", 0)?,
            };
            let template = pda::series_template(&e.exchange, &class, t.id);
            self.ensure(
                format!("template {} #{}", t.class, t.id),
                template,
                &[],
                || {
                    vec![ix::create_series_template(
                        &admin,
                        &e.exchange,
                        &class,
                        t.id,
                        args,
                    )]
                },
                |_| Vec::new(),
            )
            .await?;
            if t.list_next && !t.physical {
                self.list_next(&e.exchange, &class, &template, t).await?;
            }
        }
        for m in &d.markets {
            let class = plan.class(&m.class)?;
            let params = plan.params(&m.params)?.market_params(&m.name, m.expiry)?;
            let window = m.delivery_window.map(|start| {
                let w = pda::token::window(&class, start);
                (w, pda::token::window_mint(&w))
            });
            let (book, queue) = (Keypair::new(), Keypair::new());
            let market = pda::market(&e.exchange, &class, m.expiry);
            self.ensure(
                format!("market {}", m.name),
                market,
                &[&book, &queue],
                || {
                    let mut ixs = ix::create_book_accounts(
                        &admin,
                        &book.pubkey(),
                        &queue.pubkey(),
                        m.book_capacity,
                        m.queue_capacity,
                    )
                    .to_vec();
                    ixs.push(ix::create_market(
                        &admin,
                        &e.exchange,
                        &class,
                        &book.pubkey(),
                        &queue.pubkey(),
                        window,
                        params,
                    ));
                    ixs
                },
                |data| {
                    let mut diff = Vec::new();
                    if let Ok(x) = zero_copy::<Market>(data) {
                        differ(&mut diff, "name", x.name, params.name);
                        differ(&mut diff, "tick_value", x.tick_value, params.tick_value);
                        differ(&mut diff, "lot_size", x.lot_size, params.lot_size);
                        differ(
                            &mut diff,
                            "initial_margin_bps",
                            x.initial_margin_bps,
                            params.initial_margin_bps,
                        );
                        differ(
                            &mut diff,
                            "maintenance_margin_bps",
                            x.maintenance_margin_bps,
                            params.maintenance_margin_bps,
                        );
                        differ(
                            &mut diff,
                            "last_trade_ts",
                            x.last_trade_ts,
                            params.last_trade_ts,
                        );
                        differ(
                            &mut diff,
                            "max_open_interest",
                            x.max_open_interest,
                            params.max_open_interest,
                        );
                    }
                    diff
                },
            )
            .await?;
        }
        Ok(self.report)
    }

    /// A mint the file asks this run to create (from its keypair), unless it exists.
    async fn ensure_mint(&mut self, m: &Mint, what: &str) -> Result<(), Error> {
        let Some(k) = &m.create else {
            // Given by address: checked to exist before the run started.
            return Ok(());
        };
        let admin = self.admin.pubkey();
        let len = anchor_spl::token::spl_token::state::Mint::LEN;
        let ixs = vec![
            anchor_lang::solana_program::system_instruction::create_account(
                &admin,
                &k.pubkey(),
                solana_sdk::rent::Rent::default().minimum_balance(len),
                len as u64,
                &m.program,
            ),
            anchor_spl::token_2022::spl_token_2022::instruction::initialize_mint2(
                &m.program,
                &k.pubkey(),
                &admin,
                None,
                m.decimals,
            )
            .map_err(|e| Error::File(format!("{what}: {e}")))?,
        ];
        self.ensure(what.into(), m.address, &[k], || ixs, |_| Vec::new())
            .await?;
        Ok(())
    }

    /// Lists the template's nearest series still trading, if it is not listed yet.
    async fn list_next(
        &mut self,
        exchange: &Pubkey,
        class: &Pubkey,
        template: &Pubkey,
        t: &TemplateFile,
    ) -> Result<(), Error> {
        let what = format!("next series of {} #{}", t.class, t.id);
        let t_chain = match self.exists(template, &what).await? {
            Some(data) => SeriesTemplate::try_deserialize(&mut &data[..])
                .map_err(|_| Error::File(format!("{template} is not a series template")))?,
            None => {
                // Dry run: the template is not there yet, so neither is its first listing.
                self.note(what, template, Status::WouldCreate);
                return Ok(());
            }
        };
        // The nearest series still trading: listed once, then left alone until it stops
        // trading (a later run lists the one after it).
        let now = self
            .backend
            .clock()
            .await
            .map_err(|e| Error::Chain(what.clone(), e))?
            .unix_timestamp;
        let before = i64::try_from(t_chain.last_trade_before).unwrap_or(i64::MAX);
        let next = t_chain
            .schedule()
            .ok()
            .and_then(|s| s.next_expiry(now.saturating_add(before)).ok())
            .ok_or_else(|| Error::File(format!("template {template}: no next expiry")))?;
        let (book, queue) = (Keypair::new(), Keypair::new());
        let admin = self.admin.pubkey();
        let market = pda::market(exchange, class, next);
        self.ensure(
            what,
            market,
            &[&book, &queue],
            || {
                let mut ixs = ix::create_book_accounts(
                    &admin,
                    &book.pubkey(),
                    &queue.pubkey(),
                    t.book_capacity,
                    t.queue_capacity,
                )
                .to_vec();
                ixs.push(ix::list_series(
                    &admin,
                    exchange,
                    class,
                    template,
                    &book.pubkey(),
                    &queue.pubkey(),
                    None,
                    next,
                ));
                ixs
            },
            |_| Vec::new(),
        )
        .await?;
        Ok(())
    }
}

fn differ<T: PartialEq + std::fmt::Debug>(diff: &mut Vec<String>, field: &str, chain: T, file: T) {
    if chain != file {
        diff.push(format!("{field} {chain:?} → {file:?}"));
    }
}

fn short(k: &Pubkey) -> String {
    let s = k.to_string();
    format!("{}…", &s[..8])
}
