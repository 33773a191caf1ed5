use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use cfx_risk::math::notional;
use cfx_risk::settlement::{payout, settle_delivery, DeliveryOutcome, DeliveryRole};

use crate::error::FuturesError;
use crate::events::{InsuranceDrawn, PositionSettled, SettlementPaid};
use crate::instructions::collateral::{pay_from_vault, transfer_from_exchange};
use crate::instructions::consume_events::apply_queued_events;
use crate::instructions::release_orders::margin_accounts_of;
use crate::instructions::resolve_bankruptcy::release_hold;
use crate::keys::{is_default, key_eq};
use crate::state::book::load_queue;
use crate::state::{
    Exchange, Fill, MarginAccount, Market, DELIVERY_ESCROWED, DELIVERY_LONG, DELIVERY_NONE,
    DELIVERY_SHORT,
};

/// Anyone settles, at the fixed settlement price, the positions in this market of the margin
/// accounts passed, exactly once each: the account's queued events are applied first (no crank
/// needed), the position closes at the settlement price (paying any socialized loss it owes),
/// delivery is done for a physically delivered series, and the slot is freed. A net loss is
/// collected into the market's settlement pool at once; a net gain becomes a claim on the pool,
/// paid by this same instruction once every position of the market is settled (`is_final`):
/// in full, or pro rata when the pool fell short. A loss an account cannot pay is covered by the
/// insurance fund up to the market's cap and what is left is borne by the winners' payout.
///
/// Remaining accounts: margin accounts (writable); for a physically delivered series, each one
/// followed by its owner's token account of the delivery mint. Accounts without a position here,
/// of another exchange, repeated, or not margin accounts are skipped: nothing is paid twice.
#[derive(Accounts)]
pub struct SettlePositions<'info> {
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = market.load()?.exchange == exchange.key() @ FuturesError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's event queue; owner, discriminator and market checked on load.
    #[account(mut, owner = crate::ID @ FuturesError::WrongBookAccount, address = market.load()?.event_queue @ FuturesError::WrongBookAccount)]
    pub event_queue: UncheckedAccount<'info>,
    #[account(address = exchange.load()?.collateral_mint @ FuturesError::WrongExchange)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = exchange.load()?.collateral_vault @ FuturesError::WrongExchange)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = exchange.load()?.insurance_vault @ FuturesError::WrongExchange)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = exchange.load()?.collateral_token_program @ FuturesError::WrongExchange)]
    pub token_program: Interface<'info, TokenInterface>,
    /// Physically delivered series only: the delivery mint, the escrow vault and their program.
    #[account(address = market.load()?.delivery_mint @ FuturesError::NotPhysical)]
    pub delivery_mint: Option<Box<InterfaceAccount<'info, Mint>>>,
    #[account(mut, address = market.load()?.delivery_vault @ FuturesError::NotPhysical)]
    pub delivery_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(constraint = delivery_token_program.key() == *delivery_mint.as_ref().ok_or(FuturesError::NotPhysical)?.to_account_info().owner @ FuturesError::NotPhysical)]
    pub delivery_token_program: Option<Interface<'info, TokenInterface>>,
}

impl Market {
    /// Every position of the market is settled: no lots held on either side, none pending at the
    /// crank, no queued event left unapplied to its owner, no bankruptcy held open, no delivery
    /// record left. The
    /// settlement pool is then final and its claims can be paid.
    pub fn is_settlement_final(&self, queue: &cfx_book::EventQueue) -> bool {
        self.settlement_price != 0
            && self.open_interest == 0
            && self.short_interest == 0
            && self.open_interest_pending == 0
            && self.bankruptcies_open == 0
            && self.delivery_open == 0
            && queue.iter().all(|r| r.owner_applied())
    }

    /// Quote the collateral vault holds for the open settlement claims; negative when losses
    /// nobody paid exceed every gain (a hole the conservation identity shows).
    pub fn settlement_pool(&self) -> i128 {
        self.settle_owed as i128
            - self.settle_shortfall as i128
            - self.settle_paid as i128
            - self.settle_rounding as i128
    }

    /// A loss nobody pays once the settlement price is fixed: the winners' payout bears it. Once
    /// every claim is paid there is no payout left to bear it: it stays owed by the market as an
    /// uncollectable socialized loss, so the books still balance.
    pub fn absorb_settlement_loss(&mut self, loss: u64) -> Result<()> {
        self.socialized_total = self.socialized_total.saturating_add(loss);
        if self.settle_owed != 0 && self.settle_claimed == self.settle_owed {
            self.loss_outstanding = self
                .loss_outstanding
                .checked_add(loss)
                .ok_or(FuturesError::Overflow)?;
        } else {
            self.settle_shortfall = self
                .settle_shortfall
                .checked_add(loss)
                .ok_or(FuturesError::Overflow)?;
        }
        Ok(())
    }
}

/// The delivery role recorded on a position slot.
pub fn delivery_role(delivery: u8, start: u64, lots: u64) -> DeliveryRole {
    match delivery {
        DELIVERY_LONG => DeliveryRole::Long { start, lots },
        DELIVERY_SHORT => DeliveryRole::Short {
            start,
            lots,
            escrowed: false,
        },
        DELIVERY_ESCROWED => DeliveryRole::Short {
            start,
            lots,
            escrowed: true,
        },
        _ => DeliveryRole::None,
    }
}

/// What settling one account did.
struct Settled {
    lots: i64,
    realized: i64,
    net: i128,
    delivery: DeliveryOutcome,
    insurance: u64,
    from_vault: u64,
    shortfall: u64,
}

/// Settles position `pos` of `acc` in `m` at the settlement price. `vault_left` is what the
/// insurance vault can still pay in this instruction.
fn settle_one(
    acc: &mut MarginAccount,
    key: &Pubkey,
    market_key: &Pubkey,
    pos: usize,
    m: &mut Market,
    now: i64,
    vault_left: u64,
) -> Result<Settled> {
    let slot = acc.positions[pos];
    let price = m.settlement_price;
    let lots = slot.base_lots;
    let mut realized = 0i64;
    if lots != 0 {
        let value =
            notional(price, lots.unsigned_abs(), m.tick_value).map_err(FuturesError::from)?;
        realized = acc
            .trade(
                key,
                pos,
                m,
                Fill {
                    buy: lots < 0,
                    lots: lots.unsigned_abs(),
                    value,
                    charges: 0,
                },
            )?
            .realized;
    }
    let totals = m.delivery_totals();
    let d = settle_delivery(
        delivery_role(slot.delivery, slot.delivery_start, slot.delivery_lots),
        &totals,
        price,
        m.tick_value,
        m.delivery_penalty_bps,
    )
    .map_err(FuturesError::from)?;
    // The trade credited the PnL; the settlement nets it with delivery and hands back the
    // long's reserve, then moves the net through the pool.
    let net = realized as i128 + d.owed as i128 - d.pays as i128;
    m.delivery_reserved = m
        .delivery_reserved
        .checked_sub(slot.delivery_reserve)
        .ok_or(FuturesError::Overflow)?;
    acc.credit(slot.delivery_reserve as i128 - realized as i128)?;
    if slot.delivery != DELIVERY_NONE {
        m.delivery_open = m
            .delivery_open
            .checked_sub(1)
            .ok_or(FuturesError::Overflow)?;
    }
    {
        let s = &mut acc.positions[pos];
        s.delivery = DELIVERY_NONE;
        s.delivery_lots = 0;
        s.delivery_start = 0;
        s.delivery_reserve = 0;
    }
    let mut net = net;
    if net > 0 && acc.collateral < 0 {
        // An account in debt pays its debt out of its gain first; only the rest is a claim.
        let offset = net.min(acc.collateral.unsigned_abs() as i128);
        acc.credit(offset)?;
        net -= offset;
    }
    if net > 0 {
        let gain = u64::try_from(net).map_err(|_| FuturesError::Overflow)?;
        acc.positions[pos].settle_gain = gain;
        m.settle_owed = m
            .settle_owed
            .checked_add(gain)
            .ok_or(FuturesError::Overflow)?;
    } else {
        acc.credit(net)?;
        acc.release_if_idle(pos);
    }
    let loss = if net < 0 {
        u64::try_from(net.unsigned_abs()).map_err(|_| FuturesError::Overflow)?
    } else {
        0
    };
    let held_here = acc.debt_held != 0 && key_eq(&acc.debt_market, market_key);
    let (mut insurance, mut from_vault, mut shortfall) = (0, 0, 0);
    if acc.collateral < 0 && acc.is_bankrupt() {
        // Nothing else backs the debt: the insurance fund, then the winners' payout, cover what
        // this settlement took beyond the account's collateral — all of its debt when this
        // market holds it.
        let debt = acc.collateral.unsigned_abs();
        let unpaid = if held_here { debt } else { loss.min(debt) };
        let room = m.insurance_room(now).min(unpaid);
        let from_accrued = room.min(m.insurance_accrued);
        from_vault = (room - from_accrued).min(vault_left);
        insurance = from_accrued + from_vault;
        m.insurance_accrued -= from_accrued;
        m.on_insurance_drawn(insurance)?;
        shortfall = unpaid - insurance;
        m.absorb_settlement_loss(shortfall)?;
        acc.credit(unpaid as i128)?;
        if insurance > 0 {
            crate::events::emit(&InsuranceDrawn {
                market: *market_key,
                account: *key,
                from_market: from_accrued,
                from_vault,
                room_left: m.insurance_room(now),
            });
        }
    } else if acc.collateral < 0 && acc.debt_held == 0 && loss > 0 {
        // Other positions back the debt: the market holds the account, and its payouts wait,
        // until a liquidation leaves it bankrupt (then `resolve_bankruptcy` covers it here) or
        // its equity is back (anyone lifts the hold).
        acc.debt_market = *market_key;
        acc.debt_side = if lots > 0 { 1 } else { 0 };
        acc.debt_held = 1;
        m.bankruptcies_open = m
            .bankruptcies_open
            .checked_add(1)
            .ok_or(FuturesError::Overflow)?;
    }
    if held_here
        && acc.collateral >= 0
        && acc
            .positions
            .iter()
            .all(|p| is_default(&p.market) || key_eq(&p.market, market_key))
    {
        // Made whole, with nothing left at risk: the hold ends.
        release_hold(acc, m)?;
    }
    if acc.collateral >= 0 && key_eq(&acc.debt_market, market_key) && acc.debt_held == 0 {
        acc.debt_market = Pubkey::default();
    }
    m.settled_accounts += 1;
    if matches!(slot.delivery, DELIVERY_LONG) {
        m.delivered_lots = m.delivered_lots.saturating_add(d.lots);
    }
    Ok(Settled {
        lots,
        realized,
        net,
        delivery: d,
        insurance,
        from_vault,
        shortfall,
    })
}

/// Pays a settled winner's claim once the market is fully settled: its gain, less its pro-rata
/// share of the losses nobody paid.
fn pay_claim(acc: &mut MarginAccount, pos: usize, m: &mut Market) -> Result<(u64, u64)> {
    let gain = acc.positions[pos].settle_gain;
    let backed = m.settle_owed.saturating_sub(m.settle_shortfall);
    let paid = payout(gain, backed, m.settle_owed).map_err(FuturesError::from)?;
    acc.positions[pos].settle_gain = 0;
    acc.credit(paid as i128)?;
    acc.release_if_idle(pos);
    m.settle_paid += paid;
    m.settle_claimed += gain;
    if m.settle_claimed == m.settle_owed {
        // Every claim is paid: what rounding left goes to the insurance fund.
        let left = u64::try_from(m.settlement_pool().max(0)).map_err(|_| FuturesError::Overflow)?;
        m.settle_rounding += left;
        m.on_insurance_received(left)?;
    }
    Ok((gain, paid))
}

pub fn settle_positions<'info>(ctx: Context<'info, SettlePositions<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let market_key = a.market.key();
    let exchange_key = a.exchange.key();
    let mut m = a.market.load_mut()?;
    require!(m.is_settled(), FuturesError::SettlementPriceNotFixed);
    let physical = m.delivery_mint != Pubkey::default();
    let delivery = if physical {
        Some((
            a.delivery_mint.as_ref().ok_or(FuturesError::NotPhysical)?,
            a.delivery_vault.as_ref().ok_or(FuturesError::NotPhysical)?,
            a.delivery_token_program
                .as_ref()
                .ok_or(FuturesError::NotPhysical)?,
        ))
    } else {
        None
    };
    // Margin accounts, each with its owner's delivery token account on a physical series.
    let stride = if physical { 2 } else { 1 };
    let infos = ctx.remaining_accounts;
    require!(
        infos.len().is_multiple_of(stride),
        anchor_lang::error::ErrorCode::AccountNotEnoughKeys
    );
    let mut accounts = Vec::with_capacity(infos.len() / stride);
    for (i, chunk) in infos.chunks(stride).enumerate() {
        let found = margin_accounts_of(&infos[i * stride..i * stride + 1], &exchange_key);
        if let Some((_, loader)) = found.into_iter().next() {
            if accounts
                .iter()
                .any(|(l, _): &(AccountLoader<MarginAccount>, _)| l.key() == loader.key())
            {
                continue;
            }
            accounts.push((loader, chunk.get(1)));
        }
    }
    let mut qdata = a.event_queue.try_borrow_mut_data()?;
    let mut queue = load_queue(&mut qdata, &market_key)?;
    let mut vault_left = a.insurance_vault.amount;
    let mut from_vault_total = 0u64;
    // Token movements, made after the loop (lots of the delivery mint's base units).
    let mut deliveries: Vec<(usize, u64)> = Vec::new();
    for (n, (loader, token_account)) in accounts.iter().enumerate() {
        let key = loader.key();
        let mut acc = loader.load_mut()?;
        if acc.find_position(&market_key).is_none() {
            continue;
        }
        let (_, owner_paid) = apply_queued_events(&mut acc, &key, &market_key, &mut m, &mut queue)?;
        // Rewards an expired order's owner owes go to the insurance fund: no cranker did the work.
        m.on_insurance_received(owner_paid)?;
        let Some(pos) = acc.find_position(&market_key) else {
            continue;
        };
        let slot = acc.positions[pos];
        require!(
            slot.orders == 0 && slot.bid_lots == 0 && slot.ask_lots == 0,
            FuturesError::OrdersNotReleased
        );
        if slot.base_lots == 0 && slot.delivery == DELIVERY_NONE {
            // Settled before: only its claim is left (paid below), or nothing.
            acc.release_if_idle(pos);
            continue;
        }
        let s = settle_one(&mut acc, &key, &market_key, pos, &mut m, now, vault_left)?;
        vault_left -= s.from_vault;
        from_vault_total += s.from_vault;
        let tokens = s.delivery.lots.max(s.delivery.returned_lots);
        if tokens > 0 {
            let to = token_account.ok_or(FuturesError::WrongDeliveryAccount)?;
            let (mint, _, _) = delivery.ok_or(FuturesError::NotPhysical)?;
            let ta = InterfaceAccount::<TokenAccount>::try_from(to)
                .map_err(|_| error!(FuturesError::WrongDeliveryAccount))?;
            require_keys_eq!(ta.owner, acc.owner, FuturesError::WrongDeliveryAccount);
            require_keys_eq!(ta.mint, mint.key(), FuturesError::WrongDeliveryAccount);
            let base = if s.delivery.lots > 0 && slot.delivery == DELIVERY_LONG {
                s.delivery.lots
            } else {
                s.delivery.returned_lots
            };
            if base > 0 {
                deliveries.push((
                    n,
                    base.checked_mul(m.lot_size).ok_or(FuturesError::Overflow)?,
                ));
            }
        }
        crate::events::emit(&PositionSettled {
            market: market_key,
            account: key,
            lots: s.lots,
            price: m.settlement_price,
            realized_pnl: s.realized,
            net: i64::try_from(s.net).map_err(|_| FuturesError::Overflow)?,
            delivered_lots: s.delivery.lots,
            returned_lots: s.delivery.returned_lots,
            insurance: s.insurance,
            shortfall: s.shortfall,
        });
    }
    if m.is_settlement_final(&queue) {
        for (loader, _) in accounts.iter() {
            let mut acc = loader.load_mut()?;
            let Some(pos) = acc.find_position(&market_key) else {
                continue;
            };
            if acc.positions[pos].settle_gain == 0 || acc.positions[pos].base_lots != 0 {
                continue;
            }
            let (gain, paid) = pay_claim(&mut acc, pos, &mut m)?;
            crate::events::emit(&SettlementPaid {
                market: market_key,
                account: loader.key(),
                gain,
                paid,
            });
        }
    }
    drop(qdata);
    drop(m);
    if from_vault_total > 0 {
        pay_from_vault(
            &a.exchange,
            &a.token_program,
            &a.collateral_mint,
            &a.insurance_vault,
            &a.vault,
            from_vault_total,
        )?;
    }
    if let Some((mint, vault, program)) = delivery {
        for (n, amount) in deliveries {
            let to = accounts[n].1.ok_or(FuturesError::NotPhysical)?;
            transfer_from_exchange(&a.exchange, program, mint, vault, to, amount)?;
        }
    }
    Ok(())
}
