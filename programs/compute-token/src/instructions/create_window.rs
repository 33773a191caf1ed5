use crate::{
    create::Creator,
    error::ComputeTokenError,
    events::WindowCreated,
    instructions::create_class::valid_symbol,
    state::{ComputeClass, Registry, Window},
};
use anchor_lang::{
    prelude::*,
    system_program::{transfer, Transfer},
};
use anchor_spl::{
    token_2022::{
        spl_token_2022::{extension::ExtensionType, state::Mint as MintState},
        Token2022,
    },
    token_interface::{
        initialize_mint2, metadata_pointer_initialize, token_metadata_initialize, InitializeMint2,
        MetadataPointerInitialize, TokenMetadataInitialize,
    },
};

pub const MAX_WINDOW_NAME_LEN: usize = 64;
pub const MAX_WINDOW_SUFFIX_LEN: usize = 15;
pub const MAX_WINDOW_URI_LEN: usize = 200;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateWindowArgs {
    pub start: i64,
    pub end: i64,
    /// e.g. "H100 GPU-hour, week 49 of 2026".
    pub name: String,
    /// Must be `<class symbol>-<suffix>`, e.g. `H100-GPUH-2026W49`.
    pub symbol: String,
    pub uri: String,
}

/// Admin opens a delivery window [start, end) of a class and creates its Token-2022 mint:
/// metadata pointer to itself, token metadata, mint authority the window PDA, no freeze
/// authority.
#[derive(Accounts)]
#[instruction(args: CreateWindowArgs)]
pub struct CreateWindow<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        seeds = [Registry::SEED],
        bump = registry.bump,
        has_one = admin @ ComputeTokenError::NotAdmin,
    )]
    pub registry: Box<Account<'info, Registry>>,
    #[account(has_one = registry @ ComputeTokenError::WrongClass)]
    pub class: Box<Account<'info, ComputeClass>>,
    /// CHECK: created here (`crate::create`), at its seeds.
    #[account(
        mut,
        seeds = [Window::SEED, class.key().as_ref(), &args.start.to_le_bytes()],
        bump,
    )]
    pub window: UncheckedAccount<'info>,
    /// CHECK: created here as the window's Token-2022 mint, at its seeds.
    #[account(mut, seeds = [Window::MINT_SEED, window.key().as_ref()], bump)]
    pub mint: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
}

/// Bytes the token-metadata extension adds to the mint: TLV header (4), update authority
/// (32), mint (32), three length-prefixed strings and an empty additional-metadata vector.
fn metadata_len(args: &CreateWindowArgs) -> usize {
    4 + 32 + 32 + (4 + args.name.len()) + (4 + args.symbol.len()) + (4 + args.uri.len()) + 4
}

pub fn create_window(ctx: Context<CreateWindow>, args: CreateWindowArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let class = &ctx.accounts.class;
    require!(
        args.start < args.end && args.end > now,
        ComputeTokenError::InvalidWindowTimes
    );
    require!(
        !args.name.is_empty()
            && args.name.len() <= MAX_WINDOW_NAME_LEN
            && args.uri.len() <= MAX_WINDOW_URI_LEN,
        ComputeTokenError::InvalidWindowMetadata
    );
    let suffix = args
        .symbol
        .strip_prefix(class.symbol.as_str())
        .and_then(|rest| rest.strip_prefix('-'));
    require!(
        suffix.is_some_and(|s| valid_symbol(s, MAX_WINDOW_SUFFIX_LEN)),
        ComputeTokenError::InvalidWindowSymbol
    );
    let redeem_deadline = args
        .end
        .checked_add(class.grace_period)
        .ok_or(ComputeTokenError::MathOverflow)?;

    let class_key = class.key();
    let window_key = ctx.accounts.window.key();
    let mint_key = ctx.accounts.mint.key();
    let start_bytes = args.start.to_le_bytes();
    let window_bump = ctx.bumps.window;
    let mint_bump = ctx.bumps.mint;
    let window = Window {
        class: class_key,
        mint: mint_key,
        start: args.start,
        end: args.end,
        redeem_deadline,
        bump: window_bump,
        mint_bump,
        ..Default::default()
    };
    let creator = Creator {
        payer: &ctx.accounts.admin.to_account_info(),
        system_program: &ctx.accounts.system_program.to_account_info(),
    };
    let window_info = ctx.accounts.window.to_account_info();
    creator.create_anchor_account(
        &window_info,
        8 + Window::INIT_SPACE,
        &[
            Window::SEED,
            class_key.as_ref(),
            &start_bytes,
            &[window_bump],
        ],
        &window,
    )?;

    // The mint: metadata pointer to itself, then the mint, then (below) its metadata.
    let token_program = ctx.accounts.token_program.to_account_info();
    let mint_info = ctx.accounts.mint.to_account_info();
    let mint_len =
        ExtensionType::try_calculate_account_len::<MintState>(&[ExtensionType::MetadataPointer])?;
    creator.create_pda(
        &mint_info,
        mint_len,
        token_program.key,
        &[Window::MINT_SEED, window_key.as_ref(), &[mint_bump]],
    )?;
    metadata_pointer_initialize(
        CpiContext::new(
            token_program.key(),
            MetadataPointerInitialize {
                token_program_id: token_program.clone(),
                mint: mint_info.clone(),
            },
        ),
        Some(window_key),
        Some(mint_key),
    )?;
    initialize_mint2(
        CpiContext::new(
            token_program.key(),
            InitializeMint2 {
                mint: mint_info.clone(),
            },
        ),
        class.decimals,
        &window_key,
        None,
    )?;

    // Token-2022 grows the mint itself when writing the metadata, but the rent for the
    // larger account must already be there.
    let new_len = mint_info
        .data_len()
        .checked_add(metadata_len(&args))
        .ok_or(ComputeTokenError::MathOverflow)?;
    let needed = Rent::get()?
        .minimum_balance(new_len)
        .saturating_sub(mint_info.lamports());
    if needed > 0 {
        transfer(
            CpiContext::new(
                ctx.accounts.system_program.key(),
                Transfer {
                    from: ctx.accounts.admin.to_account_info(),
                    to: mint_info.clone(),
                },
            ),
            needed,
        )?;
    }

    let seeds: &[&[u8]] = &[
        Window::SEED,
        class_key.as_ref(),
        &start_bytes,
        &[window_bump],
    ];
    token_metadata_initialize(
        CpiContext::new_with_signer(
            ctx.accounts.token_program.key(),
            TokenMetadataInitialize {
                program_id: ctx.accounts.token_program.to_account_info(),
                metadata: mint_info.clone(),
                update_authority: window_info.clone(),
                mint_authority: window_info.clone(),
                mint: mint_info,
            },
            &[seeds],
        ),
        args.name,
        args.symbol.clone(),
        args.uri,
    )?;

    emit!(WindowCreated {
        window: window_key,
        class: class_key,
        mint: mint_key,
        start: args.start,
        end: args.end,
        redeem_deadline,
        symbol: args.symbol,
    });
    Ok(())
}
