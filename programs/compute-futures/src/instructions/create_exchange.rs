use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::ExtensionType;
use anchor_spl::token_interface::{Mint, TokenInterface};
use compute_token::create::Creator;
use compute_token::instructions::initialize_registry::mint_has_extension;

use crate::error::FuturesError;
use crate::events::ExchangeCreated;
use crate::state::create::create_zero_copy;
use crate::state::{Exchange, MAX_CRANK_REWARD, MAX_FEE_BPS};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct FeeSchedule {
    pub taker_fee_bps: u16,
    /// Negative = rebate.
    pub maker_fee_bps: i16,
    /// Quote native units per event, at most `MAX_CRANK_REWARD`.
    pub crank_reward: u64,
}

impl FeeSchedule {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.taker_fee_bps <= MAX_FEE_BPS
                && self.maker_fee_bps.unsigned_abs() <= self.taker_fee_bps
                && self.crank_reward <= MAX_CRANK_REWARD,
            FuturesError::InvalidFees
        );
        Ok(())
    }
}

/// Token-2022 extensions a collateral mint must not have: a permanent delegate could move the
/// vault's tokens without the exchange; a transfer fee makes the vault receive less than a
/// deposit credits (breaking vault = Σ collateral + counters); a transfer hook runs a program of
/// the mint authority's choice on every deposit and withdrawal and could block them.
pub const REJECTED_COLLATERAL_MINT_EXTENSIONS: [ExtensionType; 3] = [
    ExtensionType::PermanentDelegate,
    ExtensionType::TransferFeeConfig,
    ExtensionType::TransferHook,
];

/// Creates an exchange for one collateral mint, with its collateral, fee and insurance vaults.
#[derive(Accounts)]
pub struct CreateExchange<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(mint::token_program = token_program)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: created here (`compute_token::create`), at its seeds.
    #[account(mut, seeds = [Exchange::SEED, collateral_mint.key().as_ref()], bump)]
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: created here as the exchange's token account of the collateral mint, at its seeds.
    #[account(mut, seeds = [Exchange::VAULT_SEED, exchange.key().as_ref()], bump)]
    pub collateral_vault: UncheckedAccount<'info>,
    /// CHECK: as `collateral_vault`.
    #[account(mut, seeds = [Exchange::FEE_VAULT_SEED, exchange.key().as_ref()], bump)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: as `collateral_vault`.
    #[account(mut, seeds = [Exchange::INSURANCE_SEED, exchange.key().as_ref()], bump)]
    pub insurance_vault: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn create_exchange(ctx: Context<CreateExchange>, fees: FeeSchedule) -> Result<()> {
    fees.validate()?;
    let a = &ctx.accounts;
    require!(
        !mint_has_extension(
            &a.collateral_mint.to_account_info(),
            &REJECTED_COLLATERAL_MINT_EXTENSIONS
        )?,
        FuturesError::UnsupportedCollateralMint
    );
    let creator = Creator {
        payer: &a.admin.to_account_info(),
        system_program: &a.system_program.to_account_info(),
    };
    let mint = a.collateral_mint.to_account_info();
    let token_program = a.token_program.to_account_info();
    let exchange_key = a.exchange.key();
    let bumps = &ctx.bumps;
    for (vault, seed, bump) in [
        (
            &a.collateral_vault,
            Exchange::VAULT_SEED,
            bumps.collateral_vault,
        ),
        (&a.fee_vault, Exchange::FEE_VAULT_SEED, bumps.fee_vault),
        (
            &a.insurance_vault,
            Exchange::INSURANCE_SEED,
            bumps.insurance_vault,
        ),
    ] {
        creator.create_token_account(
            vault,
            &mint,
            &a.exchange,
            &token_program,
            &[seed, exchange_key.as_ref(), &[bump]],
        )?;
    }
    let mut exchange = create_zero_copy::<Exchange>(
        &creator,
        &a.exchange,
        &[Exchange::SEED, mint.key.as_ref(), &[bumps.exchange]],
    )?;
    exchange.admin = a.admin.key();
    exchange.collateral_mint = a.collateral_mint.key();
    exchange.collateral_token_program = a.token_program.key();
    exchange.collateral_vault = a.collateral_vault.key();
    exchange.fee_vault = a.fee_vault.key();
    exchange.insurance_vault = a.insurance_vault.key();
    exchange.taker_fee_bps = fees.taker_fee_bps;
    exchange.maker_fee_bps = fees.maker_fee_bps;
    exchange.crank_reward = fees.crank_reward;
    exchange.next_account_id = 1;
    exchange.bump = ctx.bumps.exchange;
    crate::events::emit(&ExchangeCreated {
        exchange: exchange_key,
        admin: exchange.admin,
        collateral_mint: exchange.collateral_mint,
    });
    Ok(())
}
