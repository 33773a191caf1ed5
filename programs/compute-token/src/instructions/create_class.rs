use crate::{
    create::Creator,
    error::ComputeTokenError,
    events::ClassCreated,
    state::{
        ComputeClass, Registry, MAX_CLASS_SYMBOL_LEN, MAX_DECIMALS, MAX_GRACE_PERIOD,
        MAX_UNIT_DESCRIPTION_LEN,
    },
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateClassArgs {
    pub symbol: String,
    pub unit_description: String,
    pub decimals: u8,
    pub bond_per_unit: u64,
    pub grace_period: i64,
    pub penalty_bps: u16,
}

/// Admin defines a compute class. The symbol is the class's PDA seed, so it is unique.
#[derive(Accounts)]
#[instruction(args: CreateClassArgs)]
pub struct CreateClass<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        seeds = [Registry::SEED],
        bump = registry.bump,
        has_one = admin @ ComputeTokenError::NotAdmin,
    )]
    pub registry: Box<Account<'info, Registry>>,
    /// CHECK: created here (`crate::create`), at its seeds.
    #[account(
        mut,
        seeds = [ComputeClass::SEED, registry.key().as_ref(), args.symbol.as_bytes()],
        bump,
    )]
    pub class: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

/// Symbols appear in window symbols and wallets: printable ASCII, no spaces.
pub fn valid_symbol(symbol: &str, max_len: usize) -> bool {
    !symbol.is_empty() && symbol.len() <= max_len && symbol.bytes().all(|b| b.is_ascii_graphic())
}

pub fn create_class(ctx: Context<CreateClass>, args: CreateClassArgs) -> Result<()> {
    require!(
        valid_symbol(&args.symbol, MAX_CLASS_SYMBOL_LEN),
        ComputeTokenError::InvalidClassSymbol
    );
    require!(
        !args.unit_description.is_empty()
            && args.unit_description.len() <= MAX_UNIT_DESCRIPTION_LEN,
        ComputeTokenError::InvalidUnitDescription
    );
    require!(
        args.decimals <= MAX_DECIMALS,
        ComputeTokenError::InvalidDecimals
    );
    require!(
        args.bond_per_unit > 0,
        ComputeTokenError::InvalidBondPerUnit
    );
    require!(
        args.grace_period > 0 && args.grace_period <= MAX_GRACE_PERIOD,
        ComputeTokenError::InvalidGracePeriod
    );
    require!(
        u64::from(args.penalty_bps) <= crate::math::BPS,
        ComputeTokenError::InvalidPenalty
    );

    let a = &ctx.accounts;
    let registry_key = a.registry.key();
    let class = ComputeClass {
        registry: registry_key,
        symbol: args.symbol,
        unit_description: args.unit_description,
        decimals: args.decimals,
        bond_per_unit: args.bond_per_unit,
        grace_period: args.grace_period,
        penalty_bps: args.penalty_bps,
        bump: ctx.bumps.class,
    };
    Creator {
        payer: &a.admin.to_account_info(),
        system_program: &a.system_program.to_account_info(),
    }
    .create_anchor_account(
        &a.class,
        8 + ComputeClass::INIT_SPACE,
        &[
            ComputeClass::SEED,
            registry_key.as_ref(),
            class.symbol.as_bytes(),
            &[class.bump],
        ],
        &class,
    )?;
    emit!(ClassCreated {
        class: a.class.key(),
        symbol: class.symbol.clone(),
        unit_description: class.unit_description.clone(),
        decimals: class.decimals,
        bond_per_unit: class.bond_per_unit,
        grace_period: class.grace_period,
        penalty_bps: class.penalty_bps,
    });
    Ok(())
}
