use crate::{
    create::Creator, error::ComputeTokenError, events::RegistryInitialized, state::Registry,
};
use anchor_lang::prelude::*;
use anchor_spl::{
    token_2022::{
        spl_token_2022::{
            extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
            state::Mint as MintState,
        },
        Token2022,
    },
    token_interface::{Mint, TokenInterface},
};

/// Token-2022 mint extensions a bond mint must not have: a permanent delegate can move the
/// vault's tokens without the registry; a transfer fee makes the vault receive less than a
/// deposit (breaking vault balance = Σ bonds); a transfer hook runs a program of the mint
/// authority's choice on every deposit, release and claim, and could block them.
pub const REJECTED_BOND_MINT_EXTENSIONS: [ExtensionType; 3] = [
    ExtensionType::PermanentDelegate,
    ExtensionType::TransferFeeConfig,
    ExtensionType::TransferHook,
];

/// Creates the program's registry and its bond vault. The signer becomes admin. The bond mint
/// may be SPL Token or Token-2022, but not a Token-2022 mint with any of
/// `REJECTED_BOND_MINT_EXTENSIONS`.
#[derive(Accounts)]
pub struct InitializeRegistry<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    /// CHECK: created here (`crate::create`), at its seeds.
    #[account(mut, seeds = [Registry::SEED], bump)]
    pub registry: UncheckedAccount<'info>,
    #[account(mint::token_program = bond_token_program)]
    pub bond_mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: created here as the registry's token account of `bond_mint`, at its seeds.
    #[account(mut, seeds = [Registry::VAULT_SEED, registry.key().as_ref()], bump)]
    pub bond_vault: UncheckedAccount<'info>,
    pub bond_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn initialize_registry(ctx: Context<InitializeRegistry>) -> Result<()> {
    let a = &ctx.accounts;
    check_bond_mint_extensions(&a.bond_mint.to_account_info())?;
    let creator = Creator {
        payer: &a.admin.to_account_info(),
        system_program: &a.system_program.to_account_info(),
    };
    let registry = Registry {
        admin: a.admin.key(),
        bond_mint: a.bond_mint.key(),
        bond_vault: a.bond_vault.key(),
        bond_token_program: a.bond_token_program.key(),
        total_bond: 0,
        bump: ctx.bumps.registry,
        vault_bump: ctx.bumps.bond_vault,
    };
    creator.create_anchor_account(
        &a.registry,
        8 + Registry::INIT_SPACE,
        &[Registry::SEED, &[registry.bump]],
        &registry,
    )?;
    let registry_key = a.registry.key();
    creator.create_token_account(
        &a.bond_vault,
        &a.bond_mint.to_account_info(),
        &a.registry,
        &a.bond_token_program.to_account_info(),
        &[
            Registry::VAULT_SEED,
            registry_key.as_ref(),
            &[registry.vault_bump],
        ],
    )?;
    emit!(RegistryInitialized {
        registry: registry_key,
        admin: registry.admin,
        bond_mint: registry.bond_mint,
        bond_vault: registry.bond_vault,
    });
    Ok(())
}

fn check_bond_mint_extensions(mint: &AccountInfo) -> Result<()> {
    require!(
        !mint_has_extension(mint, &REJECTED_BOND_MINT_EXTENSIONS)?,
        ComputeTokenError::UnsupportedBondMintExtension
    );
    Ok(())
}

/// Whether `mint` is a Token-2022 mint with any of `types` (an SPL Token mint has none). Also
/// used by compute-futures for its collateral mint.
pub fn mint_has_extension(mint: &AccountInfo, types: &[ExtensionType]) -> Result<bool> {
    if *mint.owner != Token2022::id() {
        return Ok(false);
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    Ok(state
        .get_extension_types()?
        .iter()
        .any(|t| types.contains(t)))
}
