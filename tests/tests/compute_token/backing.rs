//! What the bond backs: outstanding units and open tickets at their value, one definition for
//! minting, releasing and default claims (`Provider::locked_bond`). These tests would fail on
//! the rules they replace: a mint cap that ignored open tickets (a provider could mint to
//! itself, redeem and mint again on the same bond), and default penalties paid out of the bond
//! that backs other holders' units.

use crate::{assert_code, check_claim_event, fails_unchanged};
use cfx_tests::{
    compute_token::{code, ix, Market, ProviderFx, WindowFx, T0},
    token::spl_token_id,
};
use compute_token::{error::ComputeTokenError as E, instruction as ins, state::TicketStatus};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

const BPU: u64 = 2_000_000;

struct Fx {
    m: Market,
    p: ProviderFx,
    /// [T0+1000, T0+4600), deadline T0+5200.
    w: WindowFx,
    /// [T0+4600, T0+8200): still open when `w`'s tickets can be claimed.
    w2: WindowFx,
}

/// A provider with `bond` deposited and two consecutive windows of a class with a 10 %
/// default penalty and a 600 s grace period.
async fn setup(bond: u64) -> Fx {
    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, bond).await.unwrap();
    let w = m
        .create_window(&class, T0 + 1_000, T0 + 4_600, "2026W49")
        .await
        .unwrap();
    let w2 = m
        .create_window(&class, T0 + 4_600, T0 + 8_200, "2026W50")
        .await
        .unwrap();
    Fx { m, p, w, w2 }
}

impl Fx {
    /// A funded holder with a units account in `w` and `w2` and a bond-mint account.
    async fn holder(&mut self) -> (Keypair, Pubkey, Pubkey, Pubkey) {
        let h = self.m.t.funded_keypair(1_000_000_000).await;
        let (w, w2) = (self.w, self.w2);
        let a = self.m.holder_account(&w, &h.pubkey()).await;
        let a2 = self.m.holder_account(&w2, &h.pubkey()).await;
        let (bp, bm) = (self.m.bond_program, self.m.bond_mint);
        let b = self.m.t.create_token_account(&bp, &bm, &h.pubkey()).await;
        (h, a, a2, b)
    }

    /// Claims `ticket` for `h` into `dest`; checks the payout, the ticket and the event.
    async fn claim(&mut self, h: &Keypair, ticket: &Pubkey, dest: &Pubkey, expect: Claim) {
        let p = self.p.clone();
        let bond_before = self.m.provider(&p.key).await.bond;
        let dest_before = self.m.t.token_balance(dest).await;
        self.m.claim_default(h, &p, ticket, dest).await.unwrap();
        check_claim_event(
            &self.m,
            expect.value,
            expect.owed,
            expect.paid,
            expect.capped,
        );
        assert_eq!(
            self.m.t.token_balance(dest).await,
            dest_before + expect.paid
        );
        let t = self.m.ticket(ticket).await;
        assert_eq!((t.status, t.paid), (TicketStatus::Defaulted, expect.paid));
        let pr = self.m.provider(&p.key).await;
        assert_eq!(pr.bond, bond_before - expect.paid);
        let vault = self.m.vault;
        assert_eq!(self.m.t.token_balance(&vault).await, pr.bond);
        assert_eq!(self.m.registry_state().await.total_bond, pr.bond);
    }
}

struct Claim {
    value: u64,
    owed: u64,
    paid: u64,
    capped: bool,
}

/// Finding 1: a provider mints to itself, redeems its own units and tries to mint again on the
/// bond that now backs its own ticket. Refused; the other holder's units stay fully backed
/// through the provider's claim on its own ticket.
#[tokio::test]
async fn self_redemption_cannot_remint_the_same_bond() {
    let mut f = setup(100 * BPU).await;
    let p = f.p.clone();
    let (w, w2) = (f.w, f.w2);
    let (alice, _, alice_w2, alice_bond) = f.holder().await;
    let own = p.authority.insecure_clone();
    let own_w = f.m.holder_account(&w, &own.pubkey()).await;
    let (bp, bm) = (f.m.bond_program, f.m.bond_mint);
    let own_bond = f.m.t.create_token_account(&bp, &bm, &own.pubkey()).await;

    // 60 units to Alice in the later window, 40 to itself: the bond is fully used.
    f.m.mint_units(&p, &w2, &alice_w2, 60).await.unwrap();
    f.m.mint_units(&p, &w, &own_w, 40).await.unwrap();
    f.m.t.set_time(w.start).await;
    let own_ticket = f.m.redeem(&own, &p, &w, &own_w, 40).await.unwrap();
    let pr = f.m.provider(&p.key).await;
    assert_eq!((pr.outstanding, pr.open_ticket_units), (60, 40));

    // The old rule (outstanding + amount ≤ bond / bond per unit: 60 + 40 ≤ 100) allowed this.
    let watched = [p.key, w.key, w.mint, own_w, w.position(&p.key), f.m.vault];
    for amount in [40, 1] {
        let i = ix(f.m.mint_accounts(&p, &w, &own_w), ins::MintUnits { amount });
        fails_unchanged(&mut f.m, &[i], &[&own], &watched, code(E::BondTooSmall)).await;
    }
    assert_code(f.m.release(&p, 1).await, code(E::BondLocked));

    // After the deadline the provider claims its own ticket: the ticket's value comes back,
    // and nothing is free for the penalty; Alice's 60 units keep their full backing.
    f.m.t.set_time(w.end + 600).await;
    f.claim(
        &own,
        &own_ticket,
        &own_bond,
        Claim {
            value: 40 * BPU,
            owed: 44 * BPU,
            paid: 40 * BPU,
            capped: true,
        },
    )
    .await;
    assert_eq!(f.m.provider(&p.key).await.bond, 60 * BPU);
    assert_code(f.m.release(&p, 1).await, code(E::BondLocked));

    // Alice redeems in her window, the provider defaults, and she gets the full value.
    f.m.t.set_time(w2.start).await;
    let t = f.m.redeem(&alice, &p, &w2, &alice_w2, 60).await.unwrap();
    f.m.t.set_time(w2.end + 600).await;
    f.claim(
        &alice,
        &t,
        &alice_bond,
        Claim {
            value: 60 * BPU,
            owed: 66 * BPU,
            paid: 60 * BPU,
            capped: true,
        },
    )
    .await;
    assert_eq!(f.m.provider(&p.key).await.bond, 0);
}

/// A provider's own fulfilled ticket frees its lock: minting up to the bond again is allowed.
#[tokio::test]
async fn fulfilled_tickets_free_the_bond_for_minting() {
    let mut f = setup(10 * BPU).await;
    let p = f.p.clone();
    let w = f.w;
    let (h, hw, _, _) = f.holder().await;
    f.m.mint_units(&p, &w, &hw, 10).await.unwrap();
    f.m.t.set_time(w.start).await;
    let t = f.m.redeem(&h, &p, &w, &hw, 4).await.unwrap();
    assert_code(f.m.mint_units(&p, &w, &hw, 1).await, code(E::BondTooSmall));
    f.m.fulfil(&p, &t).await.unwrap();
    f.m.mint_units(&p, &w, &hw, 4).await.unwrap();
    assert_code(f.m.mint_units(&p, &w, &hw, 1).await, code(E::BondTooSmall));
}

/// Finding 2: with other holders' units outstanding and another ticket open, a default claim
/// pays its value in full and its penalty only from bond that nothing else locks.
#[tokio::test]
async fn default_penalty_comes_only_from_free_bond() {
    // 100 units minted against 104 units' worth of bond: 4 free for penalties.
    let mut f = setup(104 * BPU).await;
    let p = f.p.clone();
    let (w, w2) = (f.w, f.w2);
    let (alice, _, alice_w2, alice_bond) = f.holder().await;
    let (bob, bob_w, _, bob_bond) = f.holder().await;
    let (carol, carol_w, _, carol_bond) = f.holder().await;
    f.m.mint_units(&p, &w2, &alice_w2, 50).await.unwrap();
    f.m.mint_units(&p, &w, &bob_w, 30).await.unwrap();
    f.m.mint_units(&p, &w, &carol_w, 20).await.unwrap();
    f.m.t.set_time(w.start).await;
    let bob_t = f.m.redeem(&bob, &p, &w, &bob_w, 30).await.unwrap();
    let carol_t = f.m.redeem(&carol, &p, &w, &carol_w, 20).await.unwrap();

    // Past w's deadline; w2 is still open, Alice's 50 units outstanding.
    f.m.t.set_time(w.end + 600).await;
    // Bob: value 30, penalty 3; others lock 50 + 20, so 104 − 30 − 70 = 4 is free: paid in full.
    f.claim(
        &bob,
        &bob_t,
        &bob_bond,
        Claim {
            value: 30 * BPU,
            owed: 33 * BPU,
            paid: 33 * BPU,
            capped: false,
        },
    )
    .await;
    // Carol: value 20, penalty 2; 71 − 20 − 50 = 1 is free: the penalty is capped at 1.
    // (Paying 22 would leave 49 for Alice's 50 units.)
    f.claim(
        &carol,
        &carol_t,
        &carol_bond,
        Claim {
            value: 20 * BPU,
            owed: 22 * BPU,
            paid: 21 * BPU,
            capped: true,
        },
    )
    .await;
    assert_eq!(f.m.provider(&p.key).await.bond, 50 * BPU);
    assert_code(f.m.release(&p, 1).await, code(E::BondLocked));

    // Alice's units are still fully backed.
    f.m.t.set_time(w2.start).await;
    let t = f.m.redeem(&alice, &p, &w2, &alice_w2, 50).await.unwrap();
    f.m.t.set_time(w2.end + 600).await;
    f.claim(
        &alice,
        &t,
        &alice_bond,
        Claim {
            value: 50 * BPU,
            owed: 55 * BPU,
            paid: 50 * BPU,
            capped: true,
        },
    )
    .await;
    let pr = f.m.provider(&p.key).await;
    assert_eq!((pr.bond, pr.outstanding, pr.open_ticket_units), (0, 0, 0));
}

/// The lock rounds up once over outstanding + ticket units, so moving units into a ticket never
/// lifts it above the bond, and the claim's value rounds down.
#[tokio::test]
async fn lock_rounds_up_once_and_claims_round_down() {
    let mut m = Market::new(spl_token_id()).await;
    let mut args = Market::class_args("LLM70B-MTOK");
    args.decimals = 3;
    args.bond_per_unit = 1_500; // 1.5 bond base units per base unit
    let class = m.create_class(args).await.unwrap();
    let p = m.new_provider(&class.key, 1_000).await;
    m.deposit(&p, 3).await.unwrap();
    let w = m
        .create_window(&class, T0 + 1_000, T0 + 4_600, "2026W49")
        .await
        .unwrap();
    let h = m.t.funded_keypair(1_000_000_000).await;
    let hw = m.holder_account(&w, &h.pubkey()).await;
    let (bp, bm) = (m.bond_program, m.bond_mint);
    let hb = m.t.create_token_account(&bp, &bm, &h.pubkey()).await;
    m.mint_units(&p, &w, &hw, 2).await.unwrap(); // locks ceil(3.0) = 3
    assert_code(m.mint_units(&p, &w, &hw, 1).await, code(E::BondTooSmall));
    m.t.set_time(w.start).await;
    // 1 outstanding + 1 in a ticket: ceil(1.5 + 1.5) = 3, not ceil(1.5) + ceil(1.5) = 4.
    let t = m.redeem(&h, &p, &w, &hw, 1).await.unwrap();
    assert_code(m.release(&p, 1).await, code(E::BondLocked));
    m.t.set_time(w.end + class.grace_period).await;
    // Value floor(1.5) = 1, penalty floor(0.15) = 0.
    m.claim_default(&h, &p, &t, &hb).await.unwrap();
    check_claim_event(&m, 1, 1, 1, false);
    assert_eq!(m.t.token_balance(&hb).await, 1);
    // The remaining unit locks ceil(1.5) = 2 = the bond, until it lapses.
    assert_eq!(m.provider(&p.key).await.bond, 2);
    assert_code(m.release(&p, 1).await, code(E::BondLocked));
    m.lapse(&p, &w).await.unwrap();
    m.release(&p, 2).await.unwrap();
}
