//! Keeper configuration: a TOML file, with command-line flags over it. Every key is documented
//! in docs/KEEPER.md.

use serde::Deserialize;

pub use cfx_client::expand_home;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Role {
    Crank,
    Liquidator,
    Expiry,
    Publisher,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "crank" => Ok(Role::Crank),
            "liquidator" => Ok(Role::Liquidator),
            "expiry" => Ok(Role::Expiry),
            "publisher" => Ok(Role::Publisher),
            _ => Err(format!(
                "unknown role {s:?} (crank, liquidator, expiry, publisher)"
            )),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, tag = "policy", rename_all = "snake_case")]
pub enum Fees {
    Fixed { micro_lamports: u64 },
    Percentile { percentile: u8, max: u64 },
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Publisher {
    /// The publisher's keypair file.
    pub keypair: String,
    /// The index account it publishes to.
    pub index: String,
    /// `file:PATH` (JSON `{"price": .., "conf": ..}`), `fixed:PRICE` or `random:START:STEP_BPS`.
    pub source: String,
    #[serde(default = "default_publish_ms")]
    pub interval_ms: u64,
}

fn default_publish_ms() -> u64 {
    5_000
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `localhost`, `devnet`, `testnet`, `mainnet-beta` or a URL.
    #[serde(default = "default_url")]
    pub url: String,
    /// The keeper's keypair file (solana CLI format).
    #[serde(default = "default_keypair")]
    pub keypair: String,
    /// `processed`, `confirmed` or `finalized`.
    #[serde(default = "default_commitment")]
    pub commitment: String,
    /// The exchange's collateral mint and its token program.
    pub collateral_mint: String,
    #[serde(default = "default_token_program")]
    pub collateral_token_program: String,
    /// The keeper's margin account number (rewards and liquidated positions go there).
    #[serde(default)]
    pub account_number: u16,
    /// Markets to serve; empty = all of the exchange.
    #[serde(default)]
    pub markets: Vec<String>,
    #[serde(default = "default_roles")]
    pub roles: Vec<Role>,
    #[serde(default = "default_crank_ms")]
    pub crank_interval_ms: u64,
    #[serde(default = "default_liquidator_ms")]
    pub liquidator_interval_ms: u64,
    #[serde(default = "default_expiry_ms")]
    pub expiry_interval_ms: u64,
    /// Where Prometheus scrapes; empty = no endpoint.
    #[serde(default = "default_metrics")]
    pub metrics_addr: String,
    #[serde(default = "default_fees")]
    pub fees: Fees,
    /// Send attempts per transaction (each with a fresh blockhash).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// How long a pass waits for its transaction to land before moving on (it may still land;
    /// the next pass starts from the chain's state).
    #[serde(default = "default_confirm_timeout_ms")]
    pub confirm_timeout_ms: u64,
    /// Most accounts a liquidation or settlement pass acts on.
    #[serde(default = "default_max_per_pass")]
    pub max_per_pass: usize,
    pub publisher: Option<Publisher>,
}

fn default_url() -> String {
    "localhost".into()
}
fn default_keypair() -> String {
    "~/.config/solana/id.json".into()
}
fn default_commitment() -> String {
    "confirmed".into()
}
fn default_token_program() -> String {
    anchor_spl::token::ID.to_string()
}
fn default_roles() -> Vec<Role> {
    vec![Role::Crank, Role::Liquidator, Role::Expiry]
}
fn default_crank_ms() -> u64 {
    1_000
}
fn default_liquidator_ms() -> u64 {
    2_000
}
fn default_expiry_ms() -> u64 {
    10_000
}
fn default_metrics() -> String {
    "127.0.0.1:9464".into()
}
fn default_fees() -> Fees {
    Fees::Fixed { micro_lamports: 0 }
}
fn default_confirm_timeout_ms() -> u64 {
    30_000
}
fn default_attempts() -> u32 {
    4
}
fn default_max_per_pass() -> usize {
    64
}

impl Config {
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_file_gets_every_default_and_unknown_keys_are_refused() {
        let c = Config::parse("collateral_mint = \"So11111111111111111111111111111111111111112\"")
            .unwrap();
        assert_eq!(c.url, "localhost");
        assert_eq!(c.roles, vec![Role::Crank, Role::Liquidator, Role::Expiry]);
        assert_eq!(c.fees, Fees::Fixed { micro_lamports: 0 });
        let c = Config::parse(
            "collateral_mint = \"x\"\nroles = [\"crank\"]\n[fees]\npolicy = \"percentile\"\npercentile = 75\nmax = 10000\n",
        )
        .unwrap();
        assert_eq!(c.roles, vec![Role::Crank]);
        assert_eq!(
            c.fees,
            Fees::Percentile {
                percentile: 75,
                max: 10_000
            }
        );
        assert!(Config::parse("collateral_mint = \"x\"\ncrank_interval = 5").is_err());
        assert!(
            Config::parse("url = \"devnet\"").is_err(),
            "the collateral mint is required"
        );
    }
}
