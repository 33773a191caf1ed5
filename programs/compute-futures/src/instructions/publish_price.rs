use anchor_lang::prelude::*;
use cfx_risk::oracle::aggregate;

use crate::error::FuturesError;
use crate::events::PricePublished;
use crate::state::{PriceIndex, QuoteSlot};

/// An authorized publisher posts (price, confidence, publish time). The index becomes the median of
/// fresh quotes when enough fresh, tight quotes exist; otherwise it keeps its last price (which then
/// goes stale) and the event says so.
#[derive(Accounts)]
pub struct PublishPrice<'info> {
    pub publisher: Signer<'info>,
    #[account(mut)]
    pub index: AccountLoader<'info, PriceIndex>,
}

pub fn publish_price(
    ctx: Context<PublishPrice>,
    price: u64,
    conf: u64,
    publish_time: i64,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut index = ctx.accounts.index.load_mut()?;
    let key = ctx.accounts.publisher.key();
    let slot = index
        .publisher_slot(&key)
        .ok_or(FuturesError::NotPublisher)?;
    // A quote must be fresh on arrival: one already at the staleness limit adds nothing.
    let age = now.saturating_sub(publish_time);
    require!(
        price > 0 && publish_time <= now && publish_time > 0 && (age as u64) < index.max_staleness,
        FuturesError::InvalidQuote
    );
    require!(
        publish_time > index.quotes[slot].publish_time,
        FuturesError::QuoteOutOfOrder
    );
    index.quotes[slot] = QuoteSlot {
        price,
        conf,
        publish_time,
    };
    let accepted = match aggregate(&index.quotes(), now, &index.config()) {
        Ok(p) => {
            index.price = p.price;
            index.conf = p.conf;
            // The price holds while `min_publishers` of its inputs are fresh.
            index.last_update = p.as_of;
            index
                .twap_mut()
                .update(p.price, now)
                .map_err(FuturesError::from)?;
            true
        }
        Err(_) => false,
    };
    crate::events::emit(&PricePublished {
        index: ctx.accounts.index.key(),
        publisher: key,
        price,
        conf,
        publish_time,
        accepted,
        index_price: index.price,
    });
    Ok(())
}
