//! Reading an exchange: its markets, their indexes and its margin accounts, decoded (by
//! `getProgramAccounts` on a cluster; the bank keeps the accounts it has seen).

use std::collections::HashMap;

use crate::backend::Backend;
use crate::decode::zero_copy;
use crate::ClientError;
use anchor_lang::Discriminator;
use compute_futures::state::{MarginAccount, Market, PriceIndex};
use solana_sdk::pubkey::Pubkey;

/// Decoded accounts of one exchange at one time.
pub struct Snapshot {
    pub now: i64,
    pub markets: Vec<(Pubkey, Market)>,
    pub indexes: Vec<(Pubkey, PriceIndex)>,
    pub accounts: Vec<(Pubkey, MarginAccount)>,
}

fn len_of<T>() -> usize {
    8 + std::mem::size_of::<T>()
}

pub async fn markets<B: Backend>(
    b: &B,
    exchange: &Pubkey,
) -> Result<Vec<(Pubkey, Market)>, ClientError> {
    let raw = b
        .program_accounts(
            &compute_futures::ID,
            Market::DISCRIMINATOR,
            Some(len_of::<Market>()),
        )
        .await?;
    let mut out = Vec::new();
    for (k, a) in raw {
        let m: Market = zero_copy(&a.data)?;
        if m.exchange == *exchange {
            out.push((k, m));
        }
    }
    out.sort_by_key(|(_, m)| m.expiry_ts);
    Ok(out)
}

pub async fn margin_accounts<B: Backend>(
    b: &B,
    exchange: &Pubkey,
) -> Result<Vec<(Pubkey, MarginAccount)>, ClientError> {
    let raw = b
        .program_accounts(
            &compute_futures::ID,
            MarginAccount::DISCRIMINATOR,
            Some(len_of::<MarginAccount>()),
        )
        .await?;
    let mut out = Vec::new();
    for (k, a) in raw {
        let m: MarginAccount = zero_copy(&a.data)?;
        if m.exchange == *exchange {
            out.push((k, m));
        }
    }
    Ok(out)
}

pub async fn snapshot<B: Backend>(b: &B, exchange: &Pubkey) -> Result<Snapshot, ClientError> {
    let markets = markets(b, exchange).await?;
    let mut index_keys: Vec<Pubkey> = markets.iter().map(|(_, m)| m.index).collect();
    index_keys.sort();
    index_keys.dedup();
    let mut indexes = Vec::new();
    for (k, a) in index_keys.iter().zip(b.get_accounts(&index_keys).await?) {
        let a = a.ok_or(ClientError::MissingAccount(*k))?;
        indexes.push((*k, zero_copy::<PriceIndex>(&a.data)?));
    }
    let accounts = margin_accounts(b, exchange).await?;
    let now = b.clock().await?.unix_timestamp;
    Ok(Snapshot {
        now,
        markets,
        indexes,
        accounts,
    })
}

impl Snapshot {
    /// Margin account keys by the compact id the book and queue store.
    pub fn ids(&self) -> HashMap<u32, Pubkey> {
        self.accounts.iter().map(|(k, a)| (a.id, *k)).collect()
    }

    pub fn market(&self, key: &Pubkey) -> Option<&Market> {
        self.markets.iter().find(|(k, _)| k == key).map(|(_, m)| m)
    }
}
