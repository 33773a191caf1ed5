//! Program-derived addresses of both programs, as the programs derive them.

use compute_futures::state::{Exchange, MarginAccount, Market, PriceIndex, SeriesTemplate};
use solana_sdk::pubkey::Pubkey;

pub const FUTURES: Pubkey = compute_futures::ID;
pub const TOKEN: Pubkey = compute_token::ID;

fn futures(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &FUTURES).0
}

pub fn exchange(collateral_mint: &Pubkey) -> Pubkey {
    futures(&[Exchange::SEED, collateral_mint.as_ref()])
}

pub fn collateral_vault(exchange: &Pubkey) -> Pubkey {
    futures(&[Exchange::VAULT_SEED, exchange.as_ref()])
}

pub fn fee_vault(exchange: &Pubkey) -> Pubkey {
    futures(&[Exchange::FEE_VAULT_SEED, exchange.as_ref()])
}

pub fn insurance_vault(exchange: &Pubkey) -> Pubkey {
    futures(&[Exchange::INSURANCE_SEED, exchange.as_ref()])
}

pub fn price_index(exchange: &Pubkey, class: &Pubkey) -> Pubkey {
    futures(&[PriceIndex::SEED, exchange.as_ref(), class.as_ref()])
}

pub fn market(exchange: &Pubkey, class: &Pubkey, expiry_ts: i64) -> Pubkey {
    futures(&[
        Market::SEED,
        exchange.as_ref(),
        class.as_ref(),
        &expiry_ts.to_le_bytes(),
    ])
}

pub fn delivery_vault(market: &Pubkey) -> Pubkey {
    futures(&[Market::DELIVERY_VAULT_SEED, market.as_ref()])
}

pub fn margin_account(exchange: &Pubkey, owner: &Pubkey, number: u16) -> Pubkey {
    futures(&[
        MarginAccount::SEED,
        exchange.as_ref(),
        owner.as_ref(),
        &number.to_le_bytes(),
    ])
}

pub fn series_template(exchange: &Pubkey, class: &Pubkey, id: u16) -> Pubkey {
    futures(&[
        SeriesTemplate::SEED,
        exchange.as_ref(),
        class.as_ref(),
        &id.to_le_bytes(),
    ])
}

/// compute-token addresses.
pub mod token {
    use super::*;
    use compute_token::state::{ComputeClass, Position, Provider, Registry, Ticket, Window};

    fn pda(seeds: &[&[u8]]) -> Pubkey {
        Pubkey::find_program_address(seeds, &TOKEN).0
    }

    pub fn registry() -> Pubkey {
        pda(&[Registry::SEED])
    }

    pub fn bond_vault(registry: &Pubkey) -> Pubkey {
        pda(&[Registry::VAULT_SEED, registry.as_ref()])
    }

    pub fn class(registry: &Pubkey, symbol: &str) -> Pubkey {
        pda(&[ComputeClass::SEED, registry.as_ref(), symbol.as_bytes()])
    }

    pub fn provider(class: &Pubkey, authority: &Pubkey) -> Pubkey {
        pda(&[Provider::SEED, class.as_ref(), authority.as_ref()])
    }

    pub fn window(class: &Pubkey, start: i64) -> Pubkey {
        pda(&[Window::SEED, class.as_ref(), &start.to_le_bytes()])
    }

    pub fn window_mint(window: &Pubkey) -> Pubkey {
        pda(&[Window::MINT_SEED, window.as_ref()])
    }

    pub fn position(window: &Pubkey, provider: &Pubkey) -> Pubkey {
        pda(&[Position::SEED, window.as_ref(), provider.as_ref()])
    }

    pub fn ticket(position: &Pubkey, holder: &Pubkey, nonce: u64) -> Pubkey {
        pda(&[
            Ticket::SEED,
            position.as_ref(),
            holder.as_ref(),
            &nonce.to_le_bytes(),
        ])
    }
}
