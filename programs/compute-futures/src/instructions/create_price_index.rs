use anchor_lang::prelude::*;
use cfx_risk::oracle::MAX_PUBLISHERS;
use cfx_risk::twap::Twap;
use compute_token::state::ComputeClass;

use crate::error::FuturesError;
use crate::events::{PriceIndexCreated, PriceIndexUpdated};
use crate::state::create::create_zero_copy;
use crate::state::{Exchange, PriceIndex};
use compute_token::create::Creator;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct IndexParams {
    pub publishers: Vec<Pubkey>,
    pub min_publishers: u8,
    /// Seconds a quote stays fresh.
    pub max_staleness: u64,
    /// Widest accepted confidence, bps of the price.
    pub max_conf_bps: u64,
    /// Seconds between TWAP grid points.
    pub twap_interval: u64,
}

/// Admin creates the price index of a compute class.
#[derive(Accounts)]
pub struct CreatePriceIndex<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    pub class: Box<Account<'info, ComputeClass>>,
    /// CHECK: created here (`compute_token::create`), at its seeds.
    #[account(
        mut,
        seeds = [PriceIndex::SEED, exchange.key().as_ref(), class.key().as_ref()],
        bump
    )]
    pub index: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn set_publishers(index: &mut PriceIndex, params: &IndexParams) -> Result<()> {
    let n = params.publishers.len();
    require!(
        (1..=MAX_PUBLISHERS).contains(&n)
            // At least three fresh quotes (or all of them, with fewer publishers): with two, the
            // median is one publisher's choice.
            && params.min_publishers as usize >= n.min(3)
            && params.min_publishers as usize <= n
            && params.max_staleness > 0
            && params.max_conf_bps > 0
            && (1..=cfx_risk::twap::MAX_INTERVAL).contains(&params.twap_interval),
        FuturesError::InvalidIndexConfig
    );
    for (i, p) in params.publishers.iter().enumerate() {
        require!(
            *p != Pubkey::default() && !params.publishers[..i].contains(p),
            FuturesError::InvalidIndexConfig
        );
    }
    index.publishers = [Pubkey::default(); MAX_PUBLISHERS];
    index.publishers[..n].copy_from_slice(&params.publishers);
    index.quotes = Default::default();
    index.min_publishers = params.min_publishers;
    index.max_staleness = params.max_staleness;
    index.max_conf_bps = params.max_conf_bps;
    Ok(())
}

pub fn create_price_index(ctx: Context<CreatePriceIndex>, params: IndexParams) -> Result<()> {
    let a = &ctx.accounts;
    let (exchange_key, class_key) = (a.exchange.key(), a.class.key());
    let creator = Creator {
        payer: &a.admin.to_account_info(),
        system_program: &a.system_program.to_account_info(),
    };
    let mut index = create_zero_copy::<PriceIndex>(
        &creator,
        &a.index,
        &[
            PriceIndex::SEED,
            exchange_key.as_ref(),
            class_key.as_ref(),
            &[ctx.bumps.index],
        ],
    )?;
    index.exchange = exchange_key;
    index.class = class_key;
    index.bump = ctx.bumps.index;
    *index.twap_mut() =
        Twap::new(params.twap_interval).map_err(|_| FuturesError::InvalidIndexConfig)?;
    set_publishers(&mut index, &params)?;
    crate::events::emit(&PriceIndexCreated {
        index: ctx.accounts.index.key(),
        class: index.class,
        publishers: params.publishers.len() as u8,
    });
    Ok(())
}

/// Admin replaces the publisher set and limits of an index (quotes are cleared).
#[derive(Accounts)]
pub struct UpdatePriceIndex<'info> {
    pub admin: Signer<'info>,
    #[account(constraint = exchange.load()?.admin == admin.key() @ FuturesError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = index.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub index: AccountLoader<'info, PriceIndex>,
}

pub fn update_price_index(ctx: Context<UpdatePriceIndex>, params: IndexParams) -> Result<()> {
    let mut index = ctx.accounts.index.load_mut()?;
    set_publishers(&mut index, &params)?;
    // The old price came from the old publishers: stale until the new set quotes.
    index.price = 0;
    index.conf = 0;
    index.last_update = 0;
    crate::events::emit(&PriceIndexUpdated {
        index: ctx.accounts.index.key(),
        publishers: params.publishers.len() as u8,
        min_publishers: params.min_publishers,
        max_staleness: params.max_staleness,
        max_conf_bps: params.max_conf_bps,
    });
    Ok(())
}
