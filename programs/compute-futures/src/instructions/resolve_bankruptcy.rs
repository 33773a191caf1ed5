use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::error::FuturesError;
use crate::events::{BankruptcyResolved, InsuranceDrawn, LossSocialized};
use crate::health::{HealthCache, ViewRetriever};
use crate::instructions::collateral::pay_from_vault;
use crate::state::{Exchange, MarginAccount, Market};
use crate::view::views_of;
use cfx_risk::margin::HealthKind;

/// Anyone makes a bankrupt account whole: an account with no positions left and negative
/// collateral. The insurance fund pays first — what the market holds for it, then the insurance
/// vault — up to the market's cap for the current period; the rest is socialized over the open
/// lots of the side opposite the losing position (the market's loss index), which each position
/// pays when next touched. The loss belongs to the market recorded on the account
/// (`debt_market`): the fill that left it negative, or the liquidation that found it bankrupt.
/// An account a liquidation found bankrupt whose equity is no longer negative (its owner
/// deposited, or prices recovered before its last position went) has nothing to cover: this only
/// lifts the market's withdrawal hold, so no one can keep it on. Remaining accounts, then: the
/// `(market, index)` of each of its positions, in slot order (as for `withdraw`).
#[derive(Accounts)]
pub struct ResolveBankruptcy<'info> {
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = account.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub account: AccountLoader<'info, MarginAccount>,
    #[account(mut, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.collateral_vault @ FuturesError::WrongExchange)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = exchange.load()?.insurance_vault @ FuturesError::WrongExchange)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
}

/// The account no longer holds its market's withdrawals.
pub fn release_hold(acc: &mut MarginAccount, m: &mut Market) -> Result<()> {
    if acc.debt_held != 0 {
        m.bankruptcies_open = m
            .bankruptcies_open
            .checked_sub(1)
            .ok_or(FuturesError::Overflow)?;
        acc.debt_held = 0;
    }
    Ok(())
}

/// What covering a bankrupt account's loss took.
#[derive(Default)]
struct Cover {
    insurance: u64,
    /// Of `insurance`, what must come out of the insurance vault (a token transfer).
    from_vault: u64,
    socialized: u64,
    /// The carrying side's loss index after.
    loss_index: u128,
}

/// Makes a bankrupt account's collateral whole: the insurance fund first (the market's receipts,
/// then `vault_balance` of the insurance vault) up to the market's room this period, the rest
/// socialized over the side opposite the losing position.
fn cover_loss(
    acc: &mut MarginAccount,
    m: &mut Market,
    now: i64,
    vault_balance: u64,
    account_key: &Pubkey,
    market_key: &Pubkey,
) -> Result<Cover> {
    let loss = acc.collateral.unsigned_abs();
    let room_total = m.insurance_room(now);
    let room = room_total.min(loss);
    let from_accrued = room.min(m.insurance_accrued);
    let from_vault = (room - from_accrued).min(vault_balance);
    let insurance = from_accrued + from_vault;
    let socialized = loss - insurance;
    let longs = acc.debt_side == 0;
    if insurance > 0 {
        crate::events::emit(&InsuranceDrawn {
            market: *market_key,
            account: *account_key,
            from_market: from_accrued,
            from_vault,
            room_left: room_total - insurance,
        });
    }
    let side_lots = if longs {
        m.open_interest
    } else {
        m.short_interest
    };
    if socialized > 0 && side_lots == 0 && m.is_settled() {
        // Every position of that side is settled already: the winners' payout bears the loss
        // instead of a loss index no position would pay.
        m.absorb_settlement_loss(socialized)?;
        crate::events::emit(&LossSocialized {
            market: *market_key,
            account: *account_key,
            amount: socialized,
            side: !longs as u8,
            lots: 0,
            loss_index: m.loss_index(longs),
        });
    } else if socialized > 0 {
        m.socialize_loss(socialized, longs)?;
        crate::events::emit(&LossSocialized {
            market: *market_key,
            account: *account_key,
            amount: socialized,
            side: !longs as u8,
            lots: if longs {
                m.open_interest
            } else {
                m.short_interest
            },
            loss_index: m.loss_index(longs),
        });
    }
    m.insurance_accrued -= from_accrued;
    m.on_insurance_drawn(insurance)?;
    acc.collateral = 0;
    Ok(Cover {
        insurance,
        from_vault,
        socialized,
        loss_index: m.loss_index(longs),
    })
}

pub fn resolve_bankruptcy<'info>(ctx: Context<'info, ResolveBankruptcy<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let remaining = views_of(ctx.remaining_accounts, false)?;
    let a = &ctx.accounts;
    let (account_key, market_key) = (a.account.key(), a.market.key());
    let (from_vault, event) = {
        let mut acc = a.account.load_mut()?;
        acc.release_idle_positions();
        let bankrupt = acc.is_bankrupt();
        require!(bankrupt || acc.debt_held != 0, FuturesError::NotBankrupt);
        require_keys_eq!(
            acc.debt_market,
            market_key,
            FuturesError::WrongBankruptcyMarket
        );
        if !bankrupt {
            // Not (or no longer) bankrupt: only a hold can be lifted, once the account's equity
            // is back at zero or above (its owner deposited, or prices recovered), measured with
            // no benefit of the doubt (`HealthKind::Solvency`: worse of mark and index, resting
            // orders' fill loss), so a mark walked by wash trades cannot lift it. Measured before
            // the market is borrowed: the remaining accounts may hold it too.
            let cache =
                HealthCache::new_boxed(&acc, &mut ViewRetriever::new(&[], &remaining, now))?;
            require!(
                cache.health(HealthKind::Solvency)? >= 0,
                FuturesError::NotBankrupt
            );
        }
        let mut m = a.market.load_mut()?;
        let longs = acc.debt_side == 0;
        let cover = if bankrupt {
            cover_loss(
                &mut acc,
                &mut m,
                now,
                a.insurance_vault.amount,
                &account_key,
                &market_key,
            )?
        } else {
            Cover::default()
        };
        release_hold(&mut acc, &mut m)?;
        acc.debt_market = Pubkey::default();
        (
            cover.from_vault,
            BankruptcyResolved {
                account: account_key,
                market: market_key,
                insurance: cover.insurance,
                socialized: cover.socialized,
                side: !longs as u8,
                loss_index: cover.loss_index,
            },
        )
    };
    if from_vault > 0 {
        pay_from_vault(
            &a.exchange,
            &a.token_program,
            &a.collateral_mint,
            &a.insurance_vault,
            &a.vault,
            from_vault,
        )?;
    }
    crate::events::emit(&event);
    Ok(())
}
