//! A seeded random sequence of operations; after every step the books must balance:
//! vault balance = Σ provider bonds = registry total; each provider's outstanding units =
//! minted − redeemed − lapsed = Σ of its positions; each window mint's supply = minted −
//! burned = Σ holder balances; each provider's bond ≥ the value of its outstanding units and
//! open tickets, and its open-ticket units = Σ its open tickets. A small model predicts the
//! outcome of every mint (value of outstanding + open tickets ≤ bond), redeem, fulfil (before
//! the deadline), default claim (after it, paying value + the penalty from free bond), lapse,
//! release and ticket close, so a step that wrongly succeeds or fails stops the test.

use cfx_tests::compute_token::{Market, ProviderFx, WindowFx, T0};
use cfx_tests::token::spl_token_id;
use compute_token::state::{Position, TicketStatus};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

const BPU: u64 = 2_000_000;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct World {
    m: Market,
    providers: Vec<ProviderFx>,
    windows: Vec<WindowFx>,
    holders: Vec<Keypair>,
    /// accounts[h][w]: holder h's account of window w.
    accounts: Vec<Vec<Pubkey>>,
    tickets: Vec<(Pubkey, usize, usize)>, // (ticket, provider index, holder index)
    holder_bond: Vec<Pubkey>,
}

impl World {
    async fn check(&mut self, step: usize) {
        let mut bonds = 0u64;
        for i in 0..self.providers.len() {
            let key = self.providers[i].key;
            let pr = self.m.provider(&key).await;
            bonds += pr.bond;
            assert_eq!(
                pr.outstanding,
                pr.minted - pr.redeemed - pr.lapsed,
                "step {step}: provider {i} outstanding"
            );
            let mut sum_pos = 0;
            for w in self.windows.clone() {
                if let Some(pos) = self.m.fetch::<Position>(&w.position(&key)).await {
                    sum_pos += pos.minted - pos.redeemed - pos.lapsed;
                }
            }
            assert_eq!(
                pr.outstanding, sum_pos,
                "step {step}: provider {i} positions"
            );
            assert!(
                pr.bond >= (pr.outstanding + pr.open_ticket_units) * BPU,
                "step {step}: provider {i} bond {} below its lock",
                pr.bond
            );
            let mut open_units = 0;
            for (t, tp, _) in self.tickets.clone() {
                let tk = self.m.ticket(&t).await;
                if tp == i && tk.status == TicketStatus::Open {
                    open_units += tk.units;
                }
            }
            assert_eq!(
                pr.open_ticket_units, open_units,
                "step {step}: provider {i} open tickets"
            );
        }
        let vault = self.m.vault;
        assert_eq!(
            self.m.t.token_balance(&vault).await,
            bonds,
            "step {step}: vault"
        );
        assert_eq!(
            self.m.registry_state().await.total_bond,
            bonds,
            "step {step}: registry"
        );
        for (wi, w) in self.windows.clone().iter().enumerate() {
            let win = self.m.window(&w.key).await;
            let supply = self.m.t.mint_supply(&w.mint).await;
            assert_eq!(
                supply,
                win.minted - win.burned,
                "step {step}: window {wi} supply"
            );
            let mut held = 0;
            for h in 0..self.holders.len() {
                held += self.m.t.token_balance(&self.accounts[h][wi]).await;
            }
            assert_eq!(supply, held, "step {step}: window {wi} holdings");
        }
    }
}

#[tokio::test]
async fn books_balance_after_every_step() {
    let seed: u64 = std::env::var("CFX_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x005E_EDCF);
    let steps: usize = std::env::var("CFX_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(250);
    let mut rng = Rng((seed ^ 0x9E37_79B9_7F4A_7C15).max(1));

    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let mut providers = Vec::new();
    for _ in 0..3 {
        let p = m.new_provider(&class.key, 10_000 * BPU).await;
        m.deposit(&p, 30 * BPU).await.unwrap();
        providers.push(p);
    }
    let windows = vec![
        m.create_window(&class, T0 + 200, T0 + 4_000, "2026W49")
            .await
            .unwrap(),
        m.create_window(&class, T0 + 2_000, T0 + 8_000, "2026W50")
            .await
            .unwrap(),
    ];
    let mut holders = Vec::new();
    let mut accounts = Vec::new();
    let mut holder_bond = Vec::new();
    for _ in 0..3 {
        let h = m.t.funded_keypair(1_000_000_000).await;
        let mut row = Vec::new();
        for w in &windows {
            row.push(m.holder_account(w, &h.pubkey()).await);
        }
        let (bp, bm) = (m.bond_program, m.bond_mint);
        holder_bond.push(m.t.create_token_account(&bp, &bm, &h.pubkey()).await);
        accounts.push(row);
        holders.push(h);
    }
    let mut world = World {
        m,
        providers,
        windows,
        holders,
        accounts,
        tickets: Vec::new(),
        holder_bond,
    };
    let mut now = T0;
    let (mut ok, mut failed) = (0usize, 0usize);
    let mut succeeded_by_kind = [0usize; 10];
    let (mut fulfilled, mut claimed) = (0usize, 0usize);
    world.check(0).await;

    for step in 1..=steps {
        let pi = rng.below(3) as usize;
        let wi = rng.below(2) as usize;
        let hi = rng.below(3) as usize;
        let p = world.providers[pi].clone();
        let w = world.windows[wi];
        let kind = rng.below(10) as usize;
        let res = match kind {
            0 => world.m.deposit(&p, (1 + rng.below(40)) * BPU).await,
            1 | 2 => {
                let amount = 1 + rng.below(30);
                let pr = world.m.provider(&p.key).await;
                // Outstanding units and open tickets both stay locked at their value.
                let expect_ok = !pr.suspended
                    && now < w.end
                    && (pr.outstanding + amount + pr.open_ticket_units) * BPU <= pr.bond;
                let acc = world.accounts[hi][wi];
                let r = world.m.mint_units(&p, &w, &acc, amount).await;
                assert_eq!(
                    r.is_ok(),
                    expect_ok,
                    "step {step}: mint {amount} predicted {expect_ok}: {r:?}"
                );
                r
            }
            3 => {
                let to = (hi + 1) % 3;
                let from_acc = world.accounts[hi][wi];
                let to_acc = world.accounts[to][wi];
                let bal = world.m.t.token_balance(&from_acc).await;
                let h = world.holders[hi].insecure_clone();
                world
                    .m
                    .t
                    .transfer_tokens(
                        &cfx_tests::token::token_2022_id(),
                        &from_acc,
                        &w.mint,
                        &to_acc,
                        &h,
                        bal / 2 + 1,
                        0,
                    )
                    .await
            }
            4 | 5 => {
                let h = world.holders[hi].insecure_clone();
                let acc = world.accounts[hi][wi];
                let units = 1 + rng.below(6);
                let held = world.m.t.token_balance(&acc).await;
                let left = world
                    .m
                    .fetch::<Position>(&w.position(&p.key))
                    .await
                    .map(|pos| pos.minted - pos.redeemed - pos.lapsed)
                    .unwrap_or(0);
                let expect_ok = w.start <= now && now < w.end && units <= held && units <= left;
                let r = world.m.redeem(&h, &p, &w, &acc, units).await;
                assert_eq!(
                    r.is_ok(),
                    expect_ok,
                    "step {step}: redeem {units} predicted {expect_ok}: {r:?}"
                );
                if let Ok(t) = r {
                    world.tickets.push((t, pi, hi));
                }
                r.map(|_| 0)
            }
            6 => {
                if world.tickets.is_empty() {
                    continue;
                }
                // Mostly an open ticket (so fulfils and claims happen), sometimes any ticket
                // (so resolving a resolved ticket is refused).
                let mut pool = Vec::new();
                for &(t, tp, th) in &world.tickets {
                    if world.m.ticket(&t).await.status == TicketStatus::Open {
                        pool.push((t, tp, th));
                    }
                }
                if pool.is_empty() || rng.below(4) == 0 {
                    pool = world.tickets.clone();
                }
                let (t, tp, th) = pool[rng.below(pool.len() as u64) as usize];
                let owner = world.providers[tp].clone();
                let tk = world.m.ticket(&t).await;
                let open = tk.status == TicketStatus::Open;
                if rng.below(2) == 0 {
                    let expect_ok = open && now < tk.deadline;
                    let r = world.m.fulfil(&owner, &t).await;
                    assert_eq!(
                        r.is_ok(),
                        expect_ok,
                        "step {step}: fulfil (open {open}, deadline {}) at {now}: {r:?}",
                        tk.deadline
                    );
                    if r.is_ok() {
                        fulfilled += 1;
                        assert_eq!(world.m.ticket(&t).await.status, TicketStatus::Fulfilled);
                    }
                    r
                } else {
                    let expect_ok = open && now >= tk.deadline;
                    // Value in full; the 10 % penalty only from what others do not lock.
                    let pr = world.m.provider(&owner.key).await;
                    let paid = if open {
                        let value = tk.units * BPU;
                        let others = (pr.outstanding + pr.open_ticket_units - tk.units) * BPU;
                        let free = pr.bond - value - others;
                        value + (value / 10).min(free)
                    } else {
                        0
                    };
                    let h = world.holders[th].insecure_clone();
                    let dest = world.holder_bond[th];
                    let before = world.m.t.token_balance(&dest).await;
                    let r = world.m.claim_default(&h, &owner, &t, &dest).await;
                    assert_eq!(
                        r.is_ok(),
                        expect_ok,
                        "step {step}: claim (open {open}, deadline {}) at {now}: {r:?}",
                        tk.deadline
                    );
                    if r.is_ok() {
                        claimed += 1;
                        let tk = world.m.ticket(&t).await;
                        assert_eq!((tk.status, tk.paid), (TicketStatus::Defaulted, paid));
                        assert_eq!(world.m.t.token_balance(&dest).await, before + paid);
                        let bond = world.m.provider(&owner.key).await.bond;
                        assert_eq!(bond, pr.bond - paid, "step {step}: bond after claim");
                    }
                    r
                }
            }
            7 => {
                let pos = world.m.fetch::<Position>(&w.position(&p.key)).await;
                let expect_ok = now >= w.end && pos.is_some_and(|pos| !pos.settled);
                let r = world.m.lapse(&p, &w).await;
                assert_eq!(
                    r.is_ok(),
                    expect_ok,
                    "step {step}: lapse predicted {expect_ok}: {r:?}"
                );
                r
            }
            8 => {
                // Close a resolved ticket (rent back to its holder); open ones must refuse.
                if world.tickets.is_empty() {
                    continue;
                }
                let idx = rng.below(world.tickets.len() as u64) as usize;
                let (t, _, th) = world.tickets[idx];
                let open = world.m.ticket(&t).await.status == TicketStatus::Open;
                let h = world.holders[th].insecure_clone();
                let r = world.m.close_ticket(&h, &t).await;
                assert_eq!(
                    r.is_ok(),
                    !open,
                    "step {step}: close ticket (open: {open}): {r:?}"
                );
                if r.is_ok() {
                    assert!(world.m.t.account(&t).await.is_none());
                    world.tickets.swap_remove(idx);
                }
                r
            }
            _ => {
                let pr = world.m.provider(&p.key).await;
                // Outstanding units and open tickets lock their value; penalties lock nothing.
                let locked = (pr.outstanding + pr.open_ticket_units) * BPU;
                let free = pr.bond - locked;
                let amount = 1 + rng.below(2 * free.max(1));
                let r = world.m.release(&p, amount).await;
                assert_eq!(
                    r.is_ok(),
                    amount <= free,
                    "step {step}: release {amount} of free {free}: {r:?}"
                );
                r
            }
        };
        if res.is_ok() {
            ok += 1;
            succeeded_by_kind[kind] += 1;
        } else {
            failed += 1
        }
        // Time moves forward by up to 24 000 s / steps per step (96 s for the default 250
        // steps), so any run spans both windows and their deadlines.
        now += rng.below((24_000 / steps as u64).max(2)) as i64;
        world.m.t.set_time(now).await;
        world.check(step).await;
    }
    println!(
        "random sequence: seed {seed:#x}, {steps} steps, {ok} succeeded, {failed} rejected, \
         {fulfilled} fulfilled, {claimed} claimed"
    );
    // The run must have exercised the state changes it claims to check.
    let [deposit, mint1, mint2, _transfer, redeem1, redeem2, resolve, lapse, _close, release] =
        succeeded_by_kind;
    assert!(
        deposit > 0
            && mint1 + mint2 > 0
            && redeem1 + redeem2 > 0
            && resolve > 0
            && fulfilled > 0
            && claimed > 0
            && lapse > 0
            && release > 0,
        "a kind of step never succeeded: {succeeded_by_kind:?}, fulfilled {fulfilled}, \
         claimed {claimed}"
    );
}
