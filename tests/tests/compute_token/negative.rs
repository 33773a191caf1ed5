//! Every instruction's failure cases: each fails with its own error and changes nothing.

use crate::fails_unchanged;
use cfx_tests::compute_token::{
    anchor_code, class_pda, code, ix, mint_pda, provider_pda, window_pda, ClassFx, Market,
    ProviderFx, WindowFx, T0,
};
use cfx_tests::token::spl_token_id;
use compute_token::{error::ComputeTokenError as E, instruction as ins};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

const BPU: u64 = 2_000_000;

type ArgsEdit = Box<dyn Fn(&mut compute_token::instructions::CreateClassArgs)>;

struct Fx {
    m: Market,
    class: ClassFx,
    /// Approved, bonded for 100 units, minted 50 into `w` (to `acc`).
    p: ProviderFx,
    /// A second approved provider with 100 units of bond and nothing minted.
    q: ProviderFx,
    w: WindowFx,
    /// Another window of the same class.
    w2: WindowFx,
    holder: Keypair,
    acc: Pubkey,
    /// `holder`'s account of `w2`'s mint.
    acc2: Pubkey,
    stranger: Keypair,
}

async fn setup() -> Fx {
    let mut m = Market::new(spl_token_id()).await;
    let class = m
        .create_class(Market::class_args("H100-GPUH"))
        .await
        .unwrap();
    let p = m.new_provider(&class.key, 1_000 * BPU).await;
    let q = m.new_provider(&class.key, 1_000 * BPU).await;
    m.deposit(&p, 100 * BPU).await.unwrap();
    m.deposit(&q, 100 * BPU).await.unwrap();
    let w = m
        .create_window(&class, T0 + 1_000, T0 + 4_600, "2026W49")
        .await
        .unwrap();
    let w2 = m
        .create_window(&class, T0 + 4_600, T0 + 8_200, "2026W50")
        .await
        .unwrap();
    let holder = m.t.funded_keypair(1_000_000_000).await;
    let stranger = m.t.funded_keypair(1_000_000_000).await;
    let acc = m.holder_account(&w, &holder.pubkey()).await;
    let acc2 = m.holder_account(&w2, &holder.pubkey()).await;
    m.mint_units(&p, &w, &acc, 50).await.unwrap();
    Fx {
        m,
        class,
        p,
        q,
        w,
        w2,
        holder,
        acc,
        acc2,
        stranger,
    }
}

impl Fx {
    /// Every account the program could touch, plus the signers' lamports.
    fn watched(&self) -> Vec<Pubkey> {
        vec![
            self.m.registry,
            self.m.vault,
            self.class.key,
            self.p.key,
            self.q.key,
            self.p.bond_account,
            self.q.bond_account,
            self.w.key,
            self.w.mint,
            self.w2.key,
            self.w2.mint,
            self.w.position(&self.p.key),
            self.w.position(&self.q.key),
            self.acc,
            self.acc2,
            self.holder.pubkey(),
            self.stranger.pubkey(),
            self.p.authority.pubkey(),
            self.m.admin.pubkey(),
        ]
    }

    async fn fails(
        &mut self,
        i: solana_sdk::instruction::Instruction,
        signer: &Keypair,
        extra: &[Pubkey],
        err: u32,
    ) {
        let mut watched = self.watched();
        watched.extend_from_slice(extra);
        fails_unchanged(&mut self.m, &[i], &[signer], &watched, err).await;
    }

    /// Opens a ticket of `units` for the holder against `p` inside `w`.
    async fn ticket(&mut self, units: u64) -> Pubkey {
        self.m.t.set_time(self.w.start).await;
        let (h, p, w, acc) = (
            self.holder.insecure_clone(),
            self.p.clone(),
            self.w,
            self.acc,
        );
        self.m.redeem(&h, &p, &w, &acc, units).await.unwrap()
    }
}

#[tokio::test]
async fn initialize_registry_twice_fails() {
    let mut f = setup().await;
    let s = f.stranger.insecure_clone();
    let i = f.m.initialize_registry_ix(&s.pubkey());
    // The system program refuses to allocate the existing registry again.
    let watched = f.watched();
    crate::fails_elsewhere_unchanged(&mut f.m, &[i], &[&s], &watched).await;
}

#[tokio::test]
async fn create_class_rejects_bad_input_and_non_admin() {
    let mut f = setup().await;
    let admin = f.m.admin.insecure_clone();
    let s = f.stranger.insecure_clone();
    let reg = f.m.registry;

    let args = Market::class_args("A100-GPUH");
    let i = f.m.create_class_ix(&s.pubkey(), args.clone());
    f.fails(i, &s, &[class_pda(&reg, "A100-GPUH")], code(E::NotAdmin))
        .await;

    let cases: Vec<(ArgsEdit, E)> = vec![
        (
            Box::new(|a| a.symbol = "BAD SYM".into()),
            E::InvalidClassSymbol,
        ),
        (Box::new(|a| a.symbol = "".into()), E::InvalidClassSymbol),
        (
            Box::new(|a| a.symbol = "X".repeat(17)),
            E::InvalidClassSymbol,
        ),
        (
            Box::new(|a| a.unit_description = String::new()),
            E::InvalidUnitDescription,
        ),
        (
            Box::new(|a| a.unit_description = "x".repeat(97)),
            E::InvalidUnitDescription,
        ),
        (Box::new(|a| a.decimals = 10), E::InvalidDecimals),
        (Box::new(|a| a.bond_per_unit = 0), E::InvalidBondPerUnit),
        (Box::new(|a| a.grace_period = 0), E::InvalidGracePeriod),
        (Box::new(|a| a.grace_period = -5), E::InvalidGracePeriod),
        (
            Box::new(|a| a.grace_period = 91 * 24 * 3600),
            E::InvalidGracePeriod,
        ),
        (Box::new(|a| a.penalty_bps = 10_001), E::InvalidPenalty),
    ];
    for (edit, err) in cases {
        let mut a = args.clone();
        edit(&mut a);
        let class = class_pda(&reg, &a.symbol);
        let i = f.m.create_class_ix(&admin.pubkey(), a);
        f.fails(i, &admin, &[class], code(err)).await;
    }
}

#[tokio::test]
async fn approve_and_suspend_need_the_admin() {
    let mut f = setup().await;
    let s = f.stranger.insecure_clone();
    let newcomer = Pubkey::new_unique();
    let i =
        f.m.approve_provider_ix(&s.pubkey(), &f.class.key, &newcomer);
    f.fails(
        i,
        &s,
        &[provider_pda(&f.class.key, &newcomer)],
        code(E::NotAdmin),
    )
    .await;
    let i =
        f.m.set_suspended_ix(&s.pubkey(), &f.class.key, &f.p.key, true);
    f.fails(i, &s, &[], code(E::NotAdmin)).await;
    // A provider of another class cannot be suspended through this class.
    let other =
        f.m.create_class(Market::class_args("A100-GPUH"))
            .await
            .unwrap();
    let admin = f.m.admin.insecure_clone();
    let i =
        f.m.set_suspended_ix(&admin.pubkey(), &other.key, &f.p.key, true);
    f.fails(i, &admin, &[other.key], code(E::WrongClass)).await;
}

#[tokio::test]
async fn deposit_bond_failures() {
    let mut f = setup().await;
    let auth = f.p.authority.insecure_clone();
    // Wrong signer: the stranger signs for p's provider account.
    let mut a = f.m.deposit_accounts(&f.p);
    a.authority = f.stranger.pubkey();
    let s = f.stranger.insecure_clone();
    f.fails(
        ix(a, ins::DepositBond { amount: 1 }),
        &s,
        &[],
        code(E::NotProviderAuthority),
    )
    .await;
    // Substituted vault: a token account of the bond mint the registry does not own.
    let (bp, bm) = (f.m.bond_program, f.m.bond_mint);
    let fake = f.m.t.create_token_account(&bp, &bm, &auth.pubkey()).await;
    let mut a = f.m.deposit_accounts(&f.p);
    a.bond_vault = fake;
    f.fails(
        ix(a, ins::DepositBond { amount: 1 }),
        &auth,
        &[fake],
        code(E::WrongBondVault),
    )
    .await;
    // Wrong bond mint; wrong token program.
    let other_mint = f.m.t.create_mint(&bp, 6).await;
    let mut a = f.m.deposit_accounts(&f.p);
    a.bond_mint = other_mint;
    f.fails(
        ix(a, ins::DepositBond { amount: 1 }),
        &auth,
        &[],
        code(E::WrongBondMint),
    )
    .await;
    let mut a = f.m.deposit_accounts(&f.p);
    a.bond_token_program = cfx_tests::token::token_2022_id();
    f.fails(
        ix(a, ins::DepositBond { amount: 1 }),
        &auth,
        &[],
        code(E::WrongTokenProgram),
    )
    .await;
    // Zero.
    let a = f.m.deposit_accounts(&f.p);
    f.fails(
        ix(a, ins::DepositBond { amount: 0 }),
        &auth,
        &[],
        code(E::ZeroAmount),
    )
    .await;
    // Overflowing the bond total.
    let a = f.m.deposit_accounts(&f.p);
    f.fails(
        ix(a, ins::DepositBond { amount: u64::MAX }),
        &auth,
        &[],
        code(E::MathOverflow),
    )
    .await;
    // More than the provider holds: the token program refuses (InsufficientFunds = 1).
    let a = f.m.deposit_accounts(&f.p);
    f.fails(ix(a, ins::DepositBond { amount: 901 * BPU }), &auth, &[], 1)
        .await;
}

#[tokio::test]
async fn create_window_failures() {
    let mut f = setup().await;
    let admin = f.m.admin.insecure_clone();
    let s = f.stranger.insecure_clone();
    let c = f.class.clone();
    let start = T0 + 10_000;
    let w = window_pda(&c.key, start);
    let watch = [w, mint_pda(&w)];

    let args = Market::window_args(&c, start, start + 3_600, "2026W51");
    let i = f.m.create_window_ix(&s.pubkey(), &c.key, args.clone());
    f.fails(i, &s, &watch, code(E::NotAdmin)).await;

    let mut a = args.clone();
    a.end = a.start;
    let i = f.m.create_window_ix(&admin.pubkey(), &c.key, a);
    f.fails(i, &admin, &watch, code(E::InvalidWindowTimes))
        .await;

    let past = T0 - 10_000;
    let a = Market::window_args(&c, past, past + 3_600, "2026W01");
    let pw = window_pda(&c.key, past);
    let i = f.m.create_window_ix(&admin.pubkey(), &c.key, a);
    f.fails(i, &admin, &[pw, mint_pda(&pw)], code(E::InvalidWindowTimes))
        .await;

    for sym in [
        "A100-GPUH-2026W51",
        "H100-GPUH",
        "H100-GPUH-",
        "H100-GPUH2026W51",
        "H100-GPUH-0123456789ABCDEF",
    ] {
        let mut a = args.clone();
        a.symbol = sym.into();
        let i = f.m.create_window_ix(&admin.pubkey(), &c.key, a);
        f.fails(i, &admin, &watch, code(E::InvalidWindowSymbol))
            .await;
    }
    let mut a = args.clone();
    a.name = String::new();
    let i = f.m.create_window_ix(&admin.pubkey(), &c.key, a);
    f.fails(i, &admin, &watch, code(E::InvalidWindowMetadata))
        .await;
    let mut a = args.clone();
    a.uri = "u".repeat(201);
    let i = f.m.create_window_ix(&admin.pubkey(), &c.key, a);
    f.fails(i, &admin, &watch, code(E::InvalidWindowMetadata))
        .await;
}

#[tokio::test]
async fn mint_units_failures() {
    let mut f = setup().await;
    let auth = f.p.authority.insecure_clone();
    let s = f.stranger.insecure_clone();
    let p = &f.p.clone();
    let (w, w2, acc, acc2) = (f.w, f.w2, f.acc, f.acc2);
    let pos2 = w2.position(&p.key);

    // Wrong signer.
    let mut a = f.m.mint_accounts(p, &w, &acc);
    a.authority = s.pubkey();
    f.fails(
        ix(a, ins::MintUnits { amount: 1 }),
        &s,
        &[],
        code(E::NotProviderAuthority),
    )
    .await;

    // Unapproved: the stranger's provider account does not exist.
    let mut a = f.m.mint_accounts(p, &w, &acc);
    a.authority = s.pubkey();
    a.provider = provider_pda(&f.class.key, &s.pubkey());
    a.position = w.position(&a.provider);
    let extra = [a.provider, a.position];
    f.fails(
        ix(a, ins::MintUnits { amount: 1 }),
        &s,
        &extra,
        anchor_code(anchor_lang::error::ErrorCode::AccountNotInitialized),
    )
    .await;

    // Wrong mint: w2's mint with w.
    let mut a = f.m.mint_accounts(p, &w, &acc2);
    a.mint = w2.mint;
    f.fails(
        ix(a, ins::MintUnits { amount: 1 }),
        &auth,
        &[],
        code(E::WrongWindowMint),
    )
    .await;
    // Destination of another window's mint.
    let a = f.m.mint_accounts(p, &w, &acc2);
    f.fails(
        ix(a, ins::MintUnits { amount: 1 }),
        &auth,
        &[],
        code(E::WrongWindowMint),
    )
    .await;
    // Window of another class.
    let other =
        f.m.create_class(Market::class_args("A100-GPUH"))
            .await
            .unwrap();
    let ow =
        f.m.create_window(&other, T0 + 1_000, T0 + 4_600, "2026W49")
            .await
            .unwrap();
    let oacc = f.m.holder_account(&ow, &f.holder.pubkey()).await;
    let a = f.m.mint_accounts(p, &ow, &oacc);
    let extra = [ow.key, ow.mint, oacc, ow.position(&p.key)];
    f.fails(
        ix(a, ins::MintUnits { amount: 1 }),
        &auth,
        &extra,
        code(E::WrongWindow),
    )
    .await;
    // Zero and overflowing amounts.
    let a = f.m.mint_accounts(p, &w2, &acc2);
    f.fails(
        ix(a, ins::MintUnits { amount: 0 }),
        &auth,
        &[pos2],
        code(E::ZeroAmount),
    )
    .await;
    let a = f.m.mint_accounts(p, &w, &acc);
    f.fails(
        ix(a, ins::MintUnits { amount: u64::MAX }),
        &auth,
        &[],
        code(E::MathOverflow),
    )
    .await;
    let a = f.m.mint_accounts(p, &w2, &acc2);
    f.fails(
        ix(
            a,
            ins::MintUnits {
                amount: u64::MAX / 2,
            },
        ),
        &auth,
        &[pos2],
        code(E::MathOverflow),
    )
    .await;
    // Suspended.
    let p2 = p.clone();
    f.m.set_suspended(&p2, true).await.unwrap();
    let a = f.m.mint_accounts(&p2, &w, &acc);
    f.fails(
        ix(a, ins::MintUnits { amount: 1 }),
        &auth,
        &[],
        code(E::ProviderSuspended),
    )
    .await;
}

impl Fx {
    /// Sends a redeem of `units` by `holder` naming `provider`, burning from `source` (with the
    /// window's mint, or `mint` in its place), and expects error `err` with nothing changed.
    #[allow(clippy::too_many_arguments)]
    async fn redeem_fails(
        &mut self,
        holder: &Keypair,
        provider: &Pubkey,
        source: &Pubkey,
        mint: Option<Pubkey>,
        units: u64,
        err: u32,
    ) {
        let (class, w) = (self.class.key, self.w);
        let mut a = self
            .m
            .redeem_accounts(&holder.pubkey(), provider, &class, &w, source)
            .await;
        if let Some(m) = mint {
            a.mint = m;
        }
        let t = a.ticket;
        let i = self.m.redeem_ix(a, units, [1; 32]).await;
        self.fails(i, holder, &[t], err).await;
    }
}

#[tokio::test]
async fn redeem_failures() {
    let mut f = setup().await;
    f.m.t.set_time(f.w.start).await;
    let h = f.holder.insecure_clone();
    let s = f.stranger.insecure_clone();
    let (p, q, w2, acc, acc2) = (f.p.key, f.q.key, f.w2, f.acc, f.acc2);

    // More than the provider has outstanding.
    f.redeem_fails(&h, &p, &acc, None, 51, code(E::InsufficientOutstanding))
        .await;
    // Naming a provider with no position in this window.
    let uninit = anchor_code(anchor_lang::error::ErrorCode::AccountNotInitialized);
    f.redeem_fails(&h, &q, &acc, None, 1, uninit).await;
    // Wrong mint for the window.
    f.redeem_fails(&h, &p, &acc, Some(w2.mint), 1, code(E::WrongWindowMint))
        .await;
    // Source holds another window's units.
    f.redeem_fails(&h, &p, &acc2, None, 1, code(E::WrongWindowMint))
        .await;
    // Someone else's tokens: the token program refuses the burn (OwnerMismatch = 4).
    f.redeem_fails(&s, &p, &acc, None, 1, 4).await;
    // Zero.
    f.redeem_fails(&h, &p, &acc, None, 0, code(E::ZeroAmount))
        .await;
    // Overflow-sized request.
    f.redeem_fails(
        &h,
        &p,
        &acc,
        None,
        u64::MAX,
        code(E::InsufficientOutstanding),
    )
    .await;
}

#[tokio::test]
async fn fulfil_failures() {
    let mut f = setup().await;
    let ticket = f.ticket(10).await;
    let q_auth = f.q.authority.insecure_clone();
    let p_auth = f.p.authority.insecure_clone();
    let s = f.stranger.insecure_clone();

    // Another provider's authority with its own provider account: not its ticket.
    let i = f.m.fulfil_ix(&q_auth.pubkey(), &f.q.key, &ticket).await;
    f.fails(i, &q_auth, &[ticket], code(E::WrongProvider)).await;
    // A stranger signing for p.
    let i = f.m.fulfil_ix(&s.pubkey(), &f.p.key, &ticket).await;
    f.fails(i, &s, &[ticket], code(E::NotProviderAuthority))
        .await;

    // Double fulfil.
    let p = f.p.clone();
    f.m.fulfil(&p, &ticket).await.unwrap();
    let i = f.m.fulfil_ix(&p_auth.pubkey(), &f.p.key, &ticket).await;
    f.fails(i, &p_auth, &[ticket], code(E::TicketNotOpen)).await;

    // Fulfil after the deadline.
    let late = f.ticket(5).await;
    let deadline = f.m.ticket(&late).await.deadline;
    f.m.t.set_time(deadline).await;
    let i = f.m.fulfil_ix(&p_auth.pubkey(), &f.p.key, &late).await;
    f.fails(i, &p_auth, &[late, ticket], code(E::DeadlinePassed))
        .await;
}

#[tokio::test]
async fn claim_default_failures() {
    let mut f = setup().await;
    let ticket = f.ticket(10).await;
    let h = f.holder.insecure_clone();
    let s = f.stranger.insecure_clone();
    let (bp, bm) = (f.m.bond_program, f.m.bond_mint);
    let h_bond = f.m.t.create_token_account(&bp, &bm, &h.pubkey()).await;
    let s_bond = f.m.t.create_token_account(&bp, &bm, &s.pubkey()).await;
    let extra = [ticket, h_bond, s_bond];

    // Before the deadline.
    let a =
        f.m.claim_accounts(&h.pubkey(), &f.p, &ticket, &h_bond)
            .await;
    f.fails(
        ix(a, ins::ClaimDefault {}),
        &h,
        &extra,
        code(E::DeadlineNotPassed),
    )
    .await;

    let deadline = f.m.ticket(&ticket).await.deadline;
    f.m.t.set_time(deadline).await;
    // Someone else's ticket.
    let a =
        f.m.claim_accounts(&s.pubkey(), &f.p, &ticket, &s_bond)
            .await;
    f.fails(
        ix(a, ins::ClaimDefault {}),
        &s,
        &extra,
        code(E::NotTicketHolder),
    )
    .await;
    // Naming another provider to drain its bond.
    let mut a =
        f.m.claim_accounts(&h.pubkey(), &f.p, &ticket, &h_bond)
            .await;
    a.provider = f.q.key;
    f.fails(
        ix(a, ins::ClaimDefault {}),
        &h,
        &extra,
        code(E::WrongProvider),
    )
    .await;
    // Substituted vault.
    let fake =
        f.m.t
            .create_token_account(&bp, &bm, &f.m.registry.clone())
            .await;
    f.m.t.mint_tokens(&bp, &bm, &fake, 1_000 * BPU).await;
    let mut a =
        f.m.claim_accounts(&h.pubkey(), &f.p, &ticket, &h_bond)
            .await;
    a.bond_vault = fake;
    let mut extra2 = extra.to_vec();
    extra2.push(fake);
    f.fails(
        ix(a, ins::ClaimDefault {}),
        &h,
        &extra2,
        code(E::WrongBondVault),
    )
    .await;
    // Payout to an account of another mint.
    let other_mint = f.m.t.create_mint(&bp, 6).await;
    let other =
        f.m.t
            .create_token_account(&bp, &other_mint, &h.pubkey())
            .await;
    let a = f.m.claim_accounts(&h.pubkey(), &f.p, &ticket, &other).await;
    let mut extra3 = extra.to_vec();
    extra3.push(other);
    f.fails(
        ix(a, ins::ClaimDefault {}),
        &h,
        &extra3,
        anchor_code(anchor_lang::error::ErrorCode::ConstraintTokenMint),
    )
    .await;
}

#[tokio::test]
async fn lapse_failures() {
    let mut f = setup().await;
    let pos = f.w.position(&f.p.key);
    let payer = f.m.t.payer();
    let i = f.m.lapse_ix(&f.p.key, &f.w);
    f.fails(i, &payer, &[pos], code(E::WindowNotEnded)).await;
    f.m.t.set_time(f.w.end).await;
    // Position of p paired with q's provider account.
    let mut i = f.m.lapse_ix(&f.p.key, &f.w);
    i.accounts[0].pubkey = f.q.key;
    f.fails(i, &payer, &[pos], code(E::WrongProvider)).await;
    // Position of w paired with w2.
    let mut i = f.m.lapse_ix(&f.p.key, &f.w);
    i.accounts[1].pubkey = f.w2.key;
    f.fails(i, &payer, &[pos], code(E::WrongWindow)).await;
    let p = f.p.clone();
    let w = f.w;
    f.m.lapse(&p, &w).await.unwrap();
    let i = f.m.lapse_ix(&f.p.key, &f.w);
    f.fails(i, &payer, &[pos], code(E::AlreadyLapsed)).await;
}

#[tokio::test]
async fn release_bond_failures() {
    let mut f = setup().await;
    let auth = f.p.authority.insecure_clone();
    let s = f.stranger.insecure_clone();
    // 50 units outstanding lock 50 * BPU of the 100 * BPU bond.
    let a = f.m.release_accounts(&f.p, &f.p.bond_account);
    f.fails(
        ix(
            a,
            ins::ReleaseBond {
                amount: 50 * BPU + 1,
            },
        ),
        &auth,
        &[],
        code(E::BondLocked),
    )
    .await;
    let a = f.m.release_accounts(&f.p, &f.p.bond_account);
    f.fails(
        ix(a, ins::ReleaseBond { amount: u64::MAX }),
        &auth,
        &[],
        code(E::BondLocked),
    )
    .await;
    let a = f.m.release_accounts(&f.p, &f.p.bond_account);
    f.fails(
        ix(a, ins::ReleaseBond { amount: 0 }),
        &auth,
        &[],
        code(E::ZeroAmount),
    )
    .await;
    // A stranger releasing p's bond to itself.
    let (bp, bm) = (f.m.bond_program, f.m.bond_mint);
    let s_bond = f.m.t.create_token_account(&bp, &bm, &s.pubkey()).await;
    let mut a = f.m.release_accounts(&f.p, &s_bond);
    a.authority = s.pubkey();
    f.fails(
        ix(a, ins::ReleaseBond { amount: 1 }),
        &s,
        &[s_bond],
        code(E::NotProviderAuthority),
    )
    .await;
    // Substituted vault.
    let fake = f.m.t.create_token_account(&bp, &bm, &auth.pubkey()).await;
    let mut a = f.m.release_accounts(&f.p, &f.p.bond_account);
    a.bond_vault = fake;
    f.fails(
        ix(a, ins::ReleaseBond { amount: 1 }),
        &auth,
        &[fake],
        code(E::WrongBondVault),
    )
    .await;
    // Wrong bond mint; wrong token program (Token-2022 for an SPL Token bond mint).
    let other_mint = f.m.t.create_mint(&bp, 6).await;
    let mut a = f.m.release_accounts(&f.p, &f.p.bond_account);
    a.bond_mint = other_mint;
    f.fails(
        ix(a, ins::ReleaseBond { amount: 1 }),
        &auth,
        &[other_mint],
        code(E::WrongBondMint),
    )
    .await;
    let mut a = f.m.release_accounts(&f.p, &f.p.bond_account);
    a.bond_token_program = cfx_tests::token::token_2022_id();
    f.fails(
        ix(a, ins::ReleaseBond { amount: 1 }),
        &auth,
        &[],
        code(E::WrongTokenProgram),
    )
    .await;
    // An open ticket keeps its value locked: 40 outstanding + 10 in the ticket ⇒ 50 units.
    let _ticket = f.ticket(10).await;
    let a = f.m.release_accounts(&f.p, &f.p.bond_account);
    f.fails(
        ix(
            a,
            ins::ReleaseBond {
                amount: 50 * BPU + 1,
            },
        ),
        &auth,
        &[],
        code(E::BondLocked),
    )
    .await;
    let p = f.p.clone();
    f.m.release(&p, 50 * BPU).await.unwrap();
    assert_eq!(f.m.provider(&f.p.key).await.bond, 50 * BPU);
}

#[tokio::test]
async fn close_failures() {
    let mut f = setup().await;
    let ticket = f.ticket(10).await;
    let h = f.holder.insecure_clone();
    let s = f.stranger.insecure_clone();
    let auth = f.p.authority.insecure_clone();
    let admin = f.m.admin.insecure_clone();

    // Ticket: still open; someone else's.
    let i = ix(
        compute_token::accounts::CloseTicket {
            holder: h.pubkey(),
            ticket,
        },
        ins::CloseTicket {},
    );
    f.fails(i, &h, &[ticket], code(E::TicketStillOpen)).await;
    let i = ix(
        compute_token::accounts::CloseTicket {
            holder: s.pubkey(),
            ticket,
        },
        ins::CloseTicket {},
    );
    f.fails(i, &s, &[ticket], code(E::NotTicketHolder)).await;

    // Position (anyone may close it, rent to the authority): before the window ends; with an
    // open ticket; with the rent sent to someone else.
    let i =
        f.m.close_position_ix(&s.pubkey(), &auth.pubkey(), &f.p.key, &f.w);
    f.fails(i, &s, &[ticket], code(E::WindowNotEnded)).await;
    f.m.t.set_time(f.w.end).await;
    let i =
        f.m.close_position_ix(&s.pubkey(), &auth.pubkey(), &f.p.key, &f.w);
    f.fails(i, &s, &[ticket], code(E::PositionHasOpenTickets))
        .await;
    let i =
        f.m.close_position_ix(&s.pubkey(), &s.pubkey(), &f.p.key, &f.w);
    f.fails(i, &s, &[ticket], code(E::WrongRentRecipient)).await;
    // Position of p named with q's provider account.
    let mut i =
        f.m.close_position_ix(&s.pubkey(), &f.q.authority.pubkey(), &f.q.key, &f.w);
    i.accounts[4].pubkey = f.w.position(&f.p.key);
    f.fails(i, &s, &[ticket], code(E::WrongProvider)).await;

    // Window: by a stranger; before the deadline; with positions left.
    let i = f.m.close_window_ix(&s.pubkey(), &f.w);
    f.fails(i, &s, &[ticket], code(E::NotAdmin)).await;
    let i = f.m.close_window_ix(&admin.pubkey(), &f.w);
    f.fails(i, &admin, &[ticket], code(E::WindowDeadlineNotPassed))
        .await;
    let deadline = f.m.ticket(&ticket).await.deadline;
    f.m.t.set_time(deadline).await;
    let i = f.m.close_window_ix(&admin.pubkey(), &f.w);
    f.fails(i, &admin, &[ticket], code(E::WindowHasPositions))
        .await;
}

/// `fulfil` and `claim_default` take the position from `ticket.position`; another position of
/// the same provider (here in `w2`) is refused.
#[tokio::test]
async fn fulfil_and_claim_refuse_a_substituted_position() {
    let mut f = setup().await;
    let (p, w2, acc2) = (f.p.clone(), f.w2, f.acc2);
    f.m.mint_units(&p, &w2, &acc2, 5).await.unwrap();
    let other_pos = w2.position(&p.key);
    let ticket = f.ticket(10).await;
    let p_auth = p.authority.insecure_clone();
    let h = f.holder.insecure_clone();

    let mut i = f.m.fulfil_ix(&p_auth.pubkey(), &p.key, &ticket).await;
    i.accounts[2].pubkey = other_pos;
    f.fails(i, &p_auth, &[ticket, other_pos], code(E::WrongPosition))
        .await;

    let deadline = f.m.ticket(&ticket).await.deadline;
    f.m.t.set_time(deadline).await;
    let (bp, bm) = (f.m.bond_program, f.m.bond_mint);
    let h_bond = f.m.t.create_token_account(&bp, &bm, &h.pubkey()).await;
    let mut a = f.m.claim_accounts(&h.pubkey(), &p, &ticket, &h_bond).await;
    a.position = other_pos;
    f.fails(
        ix(a, ins::ClaimDefault {}),
        &h,
        &[ticket, other_pos, h_bond],
        code(E::WrongPosition),
    )
    .await;
    // Wrong bond mint and wrong token program on a claim.
    let other_mint = f.m.t.create_mint(&bp, 6).await;
    let mut a = f.m.claim_accounts(&h.pubkey(), &p, &ticket, &h_bond).await;
    a.bond_mint = other_mint;
    f.fails(
        ix(a, ins::ClaimDefault {}),
        &h,
        &[ticket, h_bond, other_mint],
        code(E::WrongBondMint),
    )
    .await;
    let mut a = f.m.claim_accounts(&h.pubkey(), &p, &ticket, &h_bond).await;
    a.bond_token_program = cfx_tests::token::token_2022_id();
    f.fails(
        ix(a, ins::ClaimDefault {}),
        &h,
        &[ticket, h_bond],
        code(E::WrongTokenProgram),
    )
    .await;
    // With the right accounts the claim goes through.
    f.m.claim_default(&h, &p, &ticket, &h_bond).await.unwrap();
}

/// `redeem` against a substituted position, a window of another class or a provider of
/// another class.
#[tokio::test]
async fn redeem_refuses_substituted_accounts() {
    let mut f = setup().await;
    let (p, w, w2, acc, acc2) = (f.p.clone(), f.w, f.w2, f.acc, f.acc2);
    f.m.mint_units(&p, &w2, &acc2, 5).await.unwrap();
    f.m.t.set_time(w.start).await;
    let h = f.holder.insecure_clone();
    let units = || ins::Redeem {
        units: 1,
        endpoint_hash: [1; 32],
        nonce: 0,
    };

    // p's position in w2 named for a redemption in w: not the (w, p) PDA.
    let mut a =
        f.m.redeem_accounts(&h.pubkey(), &p.key, &p.class, &w, &acc)
            .await;
    a.position = w2.position(&p.key);
    a.ticket = cfx_tests::compute_token::ticket_pda(&a.position, &h.pubkey(), 0);
    let extra = [a.position, a.ticket];
    f.fails(
        ix(a, units()),
        &h,
        &extra,
        anchor_code(anchor_lang::error::ErrorCode::ConstraintSeeds),
    )
    .await;

    // A window (and its mint and tokens) of another class, with p's real position in w.
    let other =
        f.m.create_class(Market::class_args("A100-GPUH"))
            .await
            .unwrap();
    let ow =
        f.m.create_window(&other, T0 + 1_000, T0 + 4_600, "2026W49")
            .await
            .unwrap();
    let oacc = f.m.holder_account(&ow, &h.pubkey()).await;
    let mut a =
        f.m.redeem_accounts(&h.pubkey(), &p.key, &p.class, &w, &acc)
            .await;
    a.window = ow.key;
    a.mint = ow.mint;
    a.source = oacc;
    let extra = [a.ticket, ow.key, ow.mint, oacc];
    f.fails(ix(a, units()), &h, &extra, code(E::WrongWindow))
        .await;

    // A provider of another class, with p's position and the right window.
    let r = f.m.new_provider(&other.key, 0).await;
    let mut a =
        f.m.redeem_accounts(&h.pubkey(), &p.key, &p.class, &w, &acc)
            .await;
    a.provider = r.key;
    let extra = [a.ticket, r.key];
    f.fails(ix(a, units()), &h, &extra, code(E::WrongClass))
        .await;
    // The same provider with its own class named: the window is then of another class.
    let mut a =
        f.m.redeem_accounts(&h.pubkey(), &p.key, &other.key, &w, &acc)
            .await;
    a.provider = r.key;
    let extra = [a.ticket, r.key];
    f.fails(ix(a, units()), &h, &extra, code(E::WrongWindow))
        .await;
}

#[tokio::test]
async fn close_window_refuses_the_wrong_class() {
    let mut f = setup().await;
    let admin = f.m.admin.insecure_clone();
    let other =
        f.m.create_class(Market::class_args("A100-GPUH"))
            .await
            .unwrap();
    // Past every deadline, with the window's only position closed: only the class is wrong.
    f.m.t.set_time(f.w.end + f.class.grace_period).await;
    let (p, w) = (f.p.clone(), f.w);
    f.m.close_position(&p, &w).await.unwrap();
    let mut i = f.m.close_window_ix(&admin.pubkey(), &f.w);
    i.accounts[2].pubkey = other.key;
    f.fails(i, &admin, &[other.key], code(E::WrongWindow)).await;
    f.m.close_window(&w).await.unwrap();
}

/// Token-2022 bond mints with a permanent delegate, a transfer fee or a transfer hook are
/// refused; a mint with a harmless extension is accepted.
#[tokio::test]
async fn initialize_registry_refuses_unsafe_bond_mint_extensions() {
    use cfx_tests::compute_token::{create_mint_with_extension, MintExtension as X};
    let mut m = Market::uninitialized(cfx_tests::token::token_2022_id()).await;
    let admin = m.admin.insecure_clone();
    let watched = [m.registry, m.vault, admin.pubkey()];
    for ext in [X::PermanentDelegate, X::TransferFee, X::TransferHook] {
        m.bond_mint = create_mint_with_extension(&mut m.t, ext).await;
        let i = m.initialize_registry_ix(&admin.pubkey());
        fails_unchanged(
            &mut m,
            &[i],
            &[&admin],
            &watched,
            code(E::UnsupportedBondMintExtension),
        )
        .await;
        assert!(m.t.account(&m.registry.clone()).await.is_none(), "{ext:?}");
    }
    m.bond_mint = create_mint_with_extension(&mut m.t, X::MintCloseAuthority).await;
    let i = m.initialize_registry_ix(&admin.pubkey());
    m.t.send(&[i], &[&admin]).await.unwrap();
    assert_eq!(m.registry_state().await.bond_mint, m.bond_mint);
}

/// A broken invariant fails loudly instead of being clamped: a position that redeemed more
/// than it minted, and a provider whose bond is below what it locks.
#[tokio::test]
async fn broken_invariants_fail_with_invariant_broken() {
    use compute_token::state::{Position, Provider};
    let mut f = setup().await;
    let (p, w, acc) = (f.p.clone(), f.w, f.acc);
    let h = f.holder.insecure_clone();
    let pos = w.position(&p.key);
    f.m.corrupt::<Position>(&pos, |s| s.redeemed = s.minted + 1)
        .await;
    f.m.t.set_time(w.start).await;
    let a =
        f.m.redeem_accounts(&h.pubkey(), &p.key, &p.class, &w, &acc)
            .await;
    let t = a.ticket;
    let i = f.m.redeem_ix(a, 1, [1; 32]).await;
    f.fails(i, &h, &[t], code(E::InvariantBroken)).await;
    let payer = f.m.t.payer();
    f.m.t.set_time(w.end).await;
    let i = f.m.lapse_ix(&p.key, &w);
    f.fails(i, &payer, &[], code(E::InvariantBroken)).await;

    // 50 units outstanding lock 50 units' worth; a bond of 49 is below that.
    f.m.corrupt::<Position>(&pos, |s| s.redeemed = 0).await;
    f.m.corrupt::<Provider>(&p.key, |s| s.bond = 49 * BPU).await;
    let auth = p.authority.insecure_clone();
    let a = f.m.release_accounts(&p, &p.bond_account);
    f.fails(
        ix(a, ins::ReleaseBond { amount: 1 }),
        &auth,
        &[],
        code(E::InvariantBroken),
    )
    .await;
}
