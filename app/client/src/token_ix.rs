//! Instruction builders for compute-token: the registry and classes (admin), providers and their
//! bonds, delivery windows and their mints, minting, redemption, fulfilment and default claims.

use anchor_lang::{InstructionData, ToAccountMetas};
use compute_token::{
    accounts as acc, instruction as ins,
    instructions::{CreateClassArgs, CreateWindowArgs},
};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

use crate::pda::token as pda;

const SYSTEM: Pubkey = anchor_lang::system_program::ID;
const TOKEN_2022: Pubkey = anchor_spl::token_2022::ID;

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: compute_token::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// The registry's bond mint and its token program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bond {
    pub mint: Pubkey,
    pub token_program: Pubkey,
}

pub fn initialize_registry(admin: &Pubkey, bond: &Bond) -> Instruction {
    let registry = pda::registry();
    ix(
        acc::InitializeRegistry {
            admin: *admin,
            registry,
            bond_mint: bond.mint,
            bond_vault: pda::bond_vault(&registry),
            bond_token_program: bond.token_program,
            system_program: SYSTEM,
        },
        ins::InitializeRegistry {},
    )
}

pub fn create_class(admin: &Pubkey, args: CreateClassArgs) -> Instruction {
    let registry = pda::registry();
    ix(
        acc::CreateClass {
            admin: *admin,
            registry,
            class: pda::class(&registry, &args.symbol),
            system_program: SYSTEM,
        },
        ins::CreateClass { args },
    )
}

pub fn approve_provider(admin: &Pubkey, class: &Pubkey, authority: &Pubkey) -> Instruction {
    ix(
        acc::ApproveProvider {
            admin: *admin,
            registry: pda::registry(),
            class: *class,
            provider: pda::provider(class, authority),
            system_program: SYSTEM,
        },
        ins::ApproveProvider {
            authority: *authority,
        },
    )
}

pub fn set_provider_suspended(
    admin: &Pubkey,
    class: &Pubkey,
    provider: &Pubkey,
    suspended: bool,
) -> Instruction {
    ix(
        acc::SetProviderSuspended {
            admin: *admin,
            registry: pda::registry(),
            class: *class,
            provider: *provider,
        },
        ins::SetProviderSuspended { suspended },
    )
}

pub fn deposit_bond(
    authority: &Pubkey,
    class: &Pubkey,
    bond: &Bond,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
    let registry = pda::registry();
    ix(
        acc::DepositBond {
            authority: *authority,
            registry,
            class: *class,
            provider: pda::provider(class, authority),
            bond_token_program: bond.token_program,
            bond_mint: bond.mint,
            bond_vault: pda::bond_vault(&registry),
            source: *source,
        },
        ins::DepositBond { amount },
    )
}

pub fn release_bond(
    authority: &Pubkey,
    class: &Pubkey,
    bond: &Bond,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    let registry = pda::registry();
    ix(
        acc::ReleaseBond {
            authority: *authority,
            registry,
            class: *class,
            provider: pda::provider(class, authority),
            bond_token_program: bond.token_program,
            bond_mint: bond.mint,
            bond_vault: pda::bond_vault(&registry),
            destination: *destination,
        },
        ins::ReleaseBond { amount },
    )
}

/// `create_window` and the window's address and mint.
pub fn create_window(
    admin: &Pubkey,
    class: &Pubkey,
    args: CreateWindowArgs,
) -> (Instruction, Pubkey, Pubkey) {
    let window = pda::window(class, args.start);
    let mint = pda::window_mint(&window);
    (
        ix(
            acc::CreateWindow {
                admin: *admin,
                registry: pda::registry(),
                class: *class,
                window,
                mint,
                token_program: TOKEN_2022,
                system_program: SYSTEM,
            },
            ins::CreateWindow { args },
        ),
        window,
        mint,
    )
}

pub fn mint_units(
    authority: &Pubkey,
    class: &Pubkey,
    window: &Pubkey,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    let provider = pda::provider(class, authority);
    ix(
        acc::MintUnits {
            authority: *authority,
            class: *class,
            provider,
            window: *window,
            mint: pda::window_mint(window),
            position: pda::position(window, &provider),
            destination: *destination,
            token_program: TOKEN_2022,
            system_program: SYSTEM,
        },
        ins::MintUnits { amount },
    )
}

/// `redeem` and the ticket's address.
#[allow(clippy::too_many_arguments)]
pub fn redeem(
    holder: &Pubkey,
    class: &Pubkey,
    provider: &Pubkey,
    window: &Pubkey,
    source: &Pubkey,
    units: u64,
    endpoint_hash: [u8; 32],
    nonce: u64,
) -> (Instruction, Pubkey) {
    let position = pda::position(window, provider);
    let ticket = pda::ticket(&position, holder, nonce);
    (
        ix(
            acc::Redeem {
                holder: *holder,
                class: *class,
                provider: *provider,
                window: *window,
                mint: pda::window_mint(window),
                position,
                source: *source,
                ticket,
                token_program: TOKEN_2022,
                system_program: SYSTEM,
            },
            ins::Redeem {
                units,
                endpoint_hash,
                nonce,
            },
        ),
        ticket,
    )
}

pub fn fulfil(
    authority: &Pubkey,
    provider: &Pubkey,
    position: &Pubkey,
    ticket: &Pubkey,
    receipt_hash: [u8; 32],
) -> Instruction {
    ix(
        acc::Fulfil {
            authority: *authority,
            provider: *provider,
            position: *position,
            ticket: *ticket,
        },
        ins::Fulfil { receipt_hash },
    )
}

#[allow(clippy::too_many_arguments)]
pub fn claim_default(
    holder: &Pubkey,
    class: &Pubkey,
    provider: &Pubkey,
    position: &Pubkey,
    ticket: &Pubkey,
    bond: &Bond,
    destination: &Pubkey,
) -> Instruction {
    let registry = pda::registry();
    ix(
        acc::ClaimDefault {
            holder: *holder,
            registry,
            class: *class,
            provider: *provider,
            position: *position,
            ticket: *ticket,
            bond_token_program: bond.token_program,
            bond_mint: bond.mint,
            bond_vault: pda::bond_vault(&registry),
            destination: *destination,
        },
        ins::ClaimDefault {},
    )
}

pub fn lapse(provider: &Pubkey, window: &Pubkey) -> Instruction {
    ix(
        acc::Lapse {
            provider: *provider,
            window: *window,
            position: pda::position(window, provider),
        },
        ins::Lapse {},
    )
}

pub fn close_ticket(holder: &Pubkey, ticket: &Pubkey) -> Instruction {
    ix(
        acc::CloseTicket {
            holder: *holder,
            ticket: *ticket,
        },
        ins::CloseTicket {},
    )
}

pub fn close_position(
    closer: &Pubkey,
    authority: &Pubkey,
    provider: &Pubkey,
    window: &Pubkey,
) -> Instruction {
    ix(
        acc::ClosePosition {
            closer: *closer,
            authority: *authority,
            provider: *provider,
            window: *window,
            position: pda::position(window, provider),
        },
        ins::ClosePosition {},
    )
}

pub fn close_window(admin: &Pubkey, class: &Pubkey, window: &Pubkey) -> Instruction {
    ix(
        acc::CloseWindow {
            admin: *admin,
            registry: pda::registry(),
            class: *class,
            window: *window,
        },
        ins::CloseWindow {},
    )
}
