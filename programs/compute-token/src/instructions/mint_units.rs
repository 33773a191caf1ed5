use crate::{
    create::Creator,
    error::ComputeTokenError,
    events::UnitsMinted,
    math::add,
    state::{ComputeClass, Position, Provider, Window},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    token_2022::Token2022,
    token_interface::{mint_to, Mint, MintTo, TokenAccount},
};

/// An approved provider mints units of a window to any token account of that window's mint,
/// as long as its bond covers what it would then lock: the value of all its outstanding units
/// plus the value of its open tickets (`Provider::locked_bond`). Open tickets count because
/// their value is owed to their holders on default; without them a provider could mint to
/// itself, redeem and mint again on the same bond. Only before the window ends.
#[derive(Accounts)]
pub struct MintUnits<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    pub class: Box<Account<'info, ComputeClass>>,
    #[account(
        mut,
        has_one = class @ ComputeTokenError::WrongClass,
        has_one = authority @ ComputeTokenError::NotProviderAuthority,
    )]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut, has_one = class @ ComputeTokenError::WrongWindow)]
    pub window: Box<Account<'info, Window>>,
    #[account(mut, address = window.mint @ ComputeTokenError::WrongWindowMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: the provider's position in the window, at its seeds; created here on the first
    /// mint (`crate::create`), read and written as a `Position` after that.
    #[account(
        mut,
        seeds = [Position::SEED, window.key().as_ref(), provider.key().as_ref()],
        bump,
    )]
    pub position: UncheckedAccount<'info>,
    #[account(
        mut,
        constraint = destination.mint == mint.key() @ ComputeTokenError::WrongWindowMint,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
}

pub fn mint_units(ctx: Context<MintUnits>, amount: u64) -> Result<()> {
    require!(amount > 0, ComputeTokenError::ZeroAmount);
    let accounts = ctx.accounts;
    require!(
        !accounts.provider.suspended,
        ComputeTokenError::ProviderSuspended
    );
    let now = Clock::get()?.unix_timestamp;
    require!(now < accounts.window.end, ComputeTokenError::WindowEnded);

    let provider = &mut accounts.provider;
    provider.outstanding = add(provider.outstanding, amount)?;
    provider.minted = add(provider.minted, amount)?;
    require!(
        provider.locked_bond(&accounts.class)? <= provider.bond,
        ComputeTokenError::BondTooSmall
    );

    let window = &mut accounts.window;
    let position_info = accounts.position.to_account_info();
    let mut position = if *position_info.owner == crate::ID {
        Position::try_deserialize(&mut &position_info.try_borrow_data()?[..])?
    } else {
        let position = Position {
            provider: provider.key(),
            window: window.key(),
            bump: ctx.bumps.position,
            ..Default::default()
        };
        // Created empty here; written once below with the minted units.
        Creator {
            payer: &accounts.authority.to_account_info(),
            system_program: &accounts.system_program.to_account_info(),
        }
        .create_pda(
            &position_info,
            8 + Position::INIT_SPACE,
            &crate::ID,
            &[
                Position::SEED,
                position.window.as_ref(),
                position.provider.as_ref(),
                &[position.bump],
            ],
        )?;
        window.open_positions = window
            .open_positions
            .checked_add(1)
            .ok_or(ComputeTokenError::MathOverflow)?;
        position
    };
    position.minted = add(position.minted, amount)?;
    position.try_serialize(&mut &mut position_info.try_borrow_mut_data()?[..])?;
    window.minted = add(window.minted, amount)?;

    let start_bytes = window.start.to_le_bytes();
    let class_key = accounts.class.key();
    let seeds: &[&[u8]] = &[
        Window::SEED,
        class_key.as_ref(),
        &start_bytes,
        &[window.bump],
    ];
    mint_to(
        CpiContext::new_with_signer(
            accounts.token_program.key(),
            MintTo {
                mint: accounts.mint.to_account_info(),
                to: accounts.destination.to_account_info(),
                authority: window.to_account_info(),
            },
            &[seeds],
        ),
        amount,
    )?;

    emit!(UnitsMinted {
        provider: provider.key(),
        window: window.key(),
        destination: accounts.destination.key(),
        units: amount,
        provider_outstanding: provider.outstanding,
    });
    Ok(())
}
