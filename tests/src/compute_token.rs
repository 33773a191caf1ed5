//! Fixtures for the compute-token program: PDAs, instruction builders and a `Market` that
//! drives a registry through the test context.

use crate::{
    anchor_processor,
    context::{Prefund, Program, TestContext, TxError},
    token::token_2022_id,
};
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use compute_token::{
    accounts as acc, instruction as ins,
    instructions::{CreateClassArgs, CreateWindowArgs},
    state::{ComputeClass, Position, Provider, Registry, Ticket, Window},
};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signature::Keypair, signer::Signer};

pub const ID: Pubkey = compute_token::ID;
/// A fixed, realistic start time so windows and deadlines are easy to read.
pub const T0: i64 = 1_796_000_000;

pub fn program() -> Program {
    Program {
        name: "compute_token",
        id: ID,
        processor: anchor_processor!(compute_token::entry),
    }
}

/// Anchor error code of a `ComputeTokenError` variant.
pub fn code(e: compute_token::error::ComputeTokenError) -> u32 {
    e as u32 + anchor_lang::error::ERROR_CODE_OFFSET
}

/// Anchor error code of a framework error (constraint failures etc.).
pub fn anchor_code(e: anchor_lang::error::ErrorCode) -> u32 {
    e as u32
}

pub fn pda(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &ID).0
}
pub fn registry_pda() -> Pubkey {
    pda(&[Registry::SEED])
}
pub fn vault_pda(registry: &Pubkey) -> Pubkey {
    pda(&[Registry::VAULT_SEED, registry.as_ref()])
}
pub fn class_pda(registry: &Pubkey, symbol: &str) -> Pubkey {
    pda(&[ComputeClass::SEED, registry.as_ref(), symbol.as_bytes()])
}
pub fn provider_pda(class: &Pubkey, authority: &Pubkey) -> Pubkey {
    pda(&[Provider::SEED, class.as_ref(), authority.as_ref()])
}
pub fn window_pda(class: &Pubkey, start: i64) -> Pubkey {
    pda(&[Window::SEED, class.as_ref(), &start.to_le_bytes()])
}
pub fn mint_pda(window: &Pubkey) -> Pubkey {
    pda(&[Window::MINT_SEED, window.as_ref()])
}
pub fn position_pda(window: &Pubkey, provider: &Pubkey) -> Pubkey {
    pda(&[Position::SEED, window.as_ref(), provider.as_ref()])
}
/// A ticket's address: position, holder and the holder's nonce. The fixtures use the
/// position's next ticket id as the nonce.
pub fn ticket_pda(position: &Pubkey, holder: &Pubkey, nonce: u64) -> Pubkey {
    pda(&[
        Ticket::SEED,
        position.as_ref(),
        holder.as_ref(),
        &nonce.to_le_bytes(),
    ])
}

pub fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

#[derive(Clone, Debug)]
pub struct ClassFx {
    pub key: Pubkey,
    pub symbol: String,
    pub decimals: u8,
    pub bond_per_unit: u64,
    pub grace_period: i64,
    pub penalty_bps: u16,
}

pub struct ProviderFx {
    pub authority: Keypair,
    pub key: Pubkey,
    pub class: Pubkey,
    /// The authority's bond-mint token account.
    pub bond_account: Pubkey,
}

impl Clone for ProviderFx {
    fn clone(&self) -> Self {
        Self {
            authority: self.authority.insecure_clone(),
            key: self.key,
            class: self.class,
            bond_account: self.bond_account,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct WindowFx {
    pub key: Pubkey,
    pub class: Pubkey,
    pub mint: Pubkey,
    pub start: i64,
    pub end: i64,
}

impl WindowFx {
    pub fn position(&self, provider: &Pubkey) -> Pubkey {
        position_pda(&self.key, provider)
    }
}

pub struct Market {
    pub t: TestContext,
    pub admin: Keypair,
    pub bond_mint: Pubkey,
    pub bond_program: Pubkey,
    pub bond_decimals: u8,
    pub registry: Pubkey,
    pub vault: Pubkey,
    /// Compute units `initialize_registry` consumed.
    pub init_cu: u64,
}

impl Market {
    /// Starts a context with the program, a bond mint of `bond_program` and an initialized
    /// registry; the clock is set to `T0`.
    pub async fn new(bond_program: Pubkey) -> Self {
        let mut m = Self::uninitialized(bond_program).await;
        let i = m.initialize_registry_ix(&m.admin.pubkey());
        let admin = m.admin.insecure_clone();
        m.init_cu =
            m.t.send(&[i], &[&admin])
                .await
                .expect("initialize registry");
        m
    }

    /// Like `new`, without initializing the registry (`init_cu` stays 0).
    pub async fn uninitialized(bond_program: Pubkey) -> Self {
        Self::uninitialized_with(bond_program, None).await
    }

    /// Like `uninitialized`; with `prefund`, every account the program creates afterwards is
    /// pre-funded first (`TestContext::prefund`).
    pub async fn uninitialized_with(bond_program: Pubkey, prefund: Option<Prefund>) -> Self {
        let mut t = TestContext::start(vec![program()]).await;
        t.prefund = prefund;
        t.prefund_programs = vec![ID];
        t.set_time(T0).await;
        let admin = t.funded_keypair(10_000_000_000).await;
        let bond_decimals = 6;
        let bond_mint = t.create_mint(&bond_program, bond_decimals).await;
        let registry = registry_pda();
        let vault = vault_pda(&registry);
        Self {
            t,
            admin,
            bond_mint,
            bond_program,
            bond_decimals,
            registry,
            vault,
            init_cu: 0,
        }
    }

    pub fn initialize_registry_ix(&self, admin: &Pubkey) -> Instruction {
        ix(
            acc::InitializeRegistry {
                admin: *admin,
                registry: self.registry,
                bond_mint: self.bond_mint,
                bond_vault: self.vault,
                bond_token_program: self.bond_program,
                system_program: anchor_lang::system_program::ID,
            },
            ins::InitializeRegistry {},
        )
    }

    pub fn class_args(symbol: &str) -> CreateClassArgs {
        CreateClassArgs {
            symbol: symbol.to_string(),
            unit_description: "1 GPU-hour of H100 SXM 80GB".to_string(),
            decimals: 0,
            bond_per_unit: 2_000_000,
            grace_period: 600,
            penalty_bps: 1_000,
        }
    }

    pub fn create_class_ix(&self, admin: &Pubkey, args: CreateClassArgs) -> Instruction {
        ix(
            acc::CreateClass {
                admin: *admin,
                registry: self.registry,
                class: class_pda(&self.registry, &args.symbol),
                system_program: anchor_lang::system_program::ID,
            },
            ins::CreateClass { args },
        )
    }

    pub async fn create_class(&mut self, args: CreateClassArgs) -> Result<ClassFx, TxError> {
        let i = self.create_class_ix(&self.admin.pubkey(), args.clone());
        let admin = self.admin.insecure_clone();
        self.t.send(&[i], &[&admin]).await?;
        Ok(ClassFx {
            key: class_pda(&self.registry, &args.symbol),
            symbol: args.symbol,
            decimals: args.decimals,
            bond_per_unit: args.bond_per_unit,
            grace_period: args.grace_period,
            penalty_bps: args.penalty_bps,
        })
    }

    pub fn approve_provider_ix(
        &self,
        admin: &Pubkey,
        class: &Pubkey,
        authority: &Pubkey,
    ) -> Instruction {
        ix(
            acc::ApproveProvider {
                admin: *admin,
                registry: self.registry,
                class: *class,
                provider: provider_pda(class, authority),
                system_program: anchor_lang::system_program::ID,
            },
            ins::ApproveProvider {
                authority: *authority,
            },
        )
    }

    /// Approves a new funded provider for `class`, gives it `bond_tokens` of the bond mint
    /// in its own token account (not yet deposited).
    pub async fn new_provider(&mut self, class: &Pubkey, bond_tokens: u64) -> ProviderFx {
        self.new_provider_with(class, bond_tokens, crate::context::new_keypair())
            .await
    }

    /// Like `new_provider` with a given authority (a fixed key makes PDA bump searches, and so
    /// compute units, reproducible).
    pub async fn new_provider_with(
        &mut self,
        class: &Pubkey,
        bond_tokens: u64,
        authority: Keypair,
    ) -> ProviderFx {
        let payer = self.t.payer_key();
        let fund = anchor_lang::solana_program::system_instruction::transfer(
            &payer,
            &authority.pubkey(),
            1_000_000_000,
        );
        self.t.send(&[fund], &[]).await.expect("fund provider");
        let i = self.approve_provider_ix(&self.admin.pubkey(), class, &authority.pubkey());
        let admin = self.admin.insecure_clone();
        self.t
            .send(&[i], &[&admin])
            .await
            .expect("approve provider");
        let bond_account = self
            .t
            .create_token_account(&self.bond_program, &self.bond_mint, &authority.pubkey())
            .await;
        if bond_tokens > 0 {
            let (p, m) = (self.bond_program, self.bond_mint);
            self.t.mint_tokens(&p, &m, &bond_account, bond_tokens).await;
        }
        ProviderFx {
            key: provider_pda(class, &authority.pubkey()),
            authority,
            class: *class,
            bond_account,
        }
    }

    pub fn set_suspended_ix(
        &self,
        admin: &Pubkey,
        class: &Pubkey,
        provider: &Pubkey,
        suspended: bool,
    ) -> Instruction {
        ix(
            acc::SetProviderSuspended {
                admin: *admin,
                registry: self.registry,
                class: *class,
                provider: *provider,
            },
            ins::SetProviderSuspended { suspended },
        )
    }

    pub async fn set_suspended(&mut self, p: &ProviderFx, suspended: bool) -> Result<u64, TxError> {
        let i = self.set_suspended_ix(&self.admin.pubkey(), &p.class, &p.key, suspended);
        let admin = self.admin.insecure_clone();
        self.t.send(&[i], &[&admin]).await
    }

    pub fn deposit_accounts(&self, p: &ProviderFx) -> acc::DepositBond {
        acc::DepositBond {
            authority: p.authority.pubkey(),
            registry: self.registry,
            class: p.class,
            provider: p.key,
            bond_mint: self.bond_mint,
            bond_vault: self.vault,
            source: p.bond_account,
            bond_token_program: self.bond_program,
        }
    }

    pub async fn deposit(&mut self, p: &ProviderFx, amount: u64) -> Result<u64, TxError> {
        let i = ix(self.deposit_accounts(p), ins::DepositBond { amount });
        self.t.send(&[i], &[&p.authority]).await
    }

    pub fn window_args(class: &ClassFx, start: i64, end: i64, suffix: &str) -> CreateWindowArgs {
        CreateWindowArgs {
            start,
            end,
            name: format!("{} {}", class.symbol, suffix),
            symbol: format!("{}-{}", class.symbol, suffix),
            uri: format!(
                "https://cfx.example/windows/{}-{}.json",
                class.symbol, suffix
            ),
        }
    }

    pub fn create_window_ix(
        &self,
        admin: &Pubkey,
        class: &Pubkey,
        args: CreateWindowArgs,
    ) -> Instruction {
        let window = window_pda(class, args.start);
        ix(
            acc::CreateWindow {
                admin: *admin,
                registry: self.registry,
                class: *class,
                window,
                mint: mint_pda(&window),
                token_program: token_2022_id(),
                system_program: anchor_lang::system_program::ID,
            },
            ins::CreateWindow { args },
        )
    }

    pub async fn create_window(
        &mut self,
        class: &ClassFx,
        start: i64,
        end: i64,
        suffix: &str,
    ) -> Result<WindowFx, TxError> {
        let args = Self::window_args(class, start, end, suffix);
        let i = self.create_window_ix(&self.admin.pubkey(), &class.key, args);
        let admin = self.admin.insecure_clone();
        self.t.send(&[i], &[&admin]).await?;
        let key = window_pda(&class.key, start);
        Ok(WindowFx {
            key,
            class: class.key,
            mint: mint_pda(&key),
            start,
            end,
        })
    }

    /// A Token-2022 account of the window mint owned by `owner`.
    pub async fn holder_account(&mut self, w: &WindowFx, owner: &Pubkey) -> Pubkey {
        self.t
            .create_token_account(&token_2022_id(), &w.mint, owner)
            .await
    }

    pub fn mint_accounts(
        &self,
        p: &ProviderFx,
        w: &WindowFx,
        destination: &Pubkey,
    ) -> acc::MintUnits {
        acc::MintUnits {
            authority: p.authority.pubkey(),
            class: p.class,
            provider: p.key,
            window: w.key,
            mint: w.mint,
            position: w.position(&p.key),
            destination: *destination,
            token_program: token_2022_id(),
            system_program: anchor_lang::system_program::ID,
        }
    }

    pub async fn mint_units(
        &mut self,
        p: &ProviderFx,
        w: &WindowFx,
        destination: &Pubkey,
        amount: u64,
    ) -> Result<u64, TxError> {
        let i = ix(
            self.mint_accounts(p, w, destination),
            ins::MintUnits { amount },
        );
        self.t.send(&[i], &[&p.authority]).await
    }

    /// The nonce the fixtures give the next ticket on `position`: its next ticket id.
    pub async fn next_nonce(&mut self, position: &Pubkey) -> u64 {
        self.fetch::<Position>(position)
            .await
            .map(|p| p.next_ticket_id)
            .unwrap_or(0)
    }

    /// A redemption with the accounts `a` (nonce as `next_nonce` of `a.position`).
    pub async fn redeem_ix(
        &mut self,
        a: acc::Redeem,
        units: u64,
        endpoint_hash: [u8; 32],
    ) -> Instruction {
        let nonce = self.next_nonce(&a.position).await;
        ix(
            a,
            ins::Redeem {
                units,
                endpoint_hash,
                nonce,
            },
        )
    }

    /// Accounts of a redemption by `holder` from `source` against provider `provider` and
    /// the ticket it creates (nonce as `next_nonce`).
    pub async fn redeem_accounts(
        &mut self,
        holder: &Pubkey,
        provider: &Pubkey,
        class: &Pubkey,
        w: &WindowFx,
        source: &Pubkey,
    ) -> acc::Redeem {
        let position = w.position(provider);
        let next = self.next_nonce(&position).await;
        acc::Redeem {
            holder: *holder,
            class: *class,
            provider: *provider,
            window: w.key,
            mint: w.mint,
            position,
            source: *source,
            ticket: ticket_pda(&position, holder, next),
            token_program: token_2022_id(),
            system_program: anchor_lang::system_program::ID,
        }
    }

    /// Redeems and returns the new ticket's address.
    pub async fn redeem(
        &mut self,
        holder: &Keypair,
        p: &ProviderFx,
        w: &WindowFx,
        source: &Pubkey,
        units: u64,
    ) -> Result<Pubkey, TxError> {
        let a = self
            .redeem_accounts(&holder.pubkey(), &p.key, &p.class, w, source)
            .await;
        let ticket = a.ticket;
        let i = self.redeem_ix(a, units, [7u8; 32]).await;
        self.t.send(&[i], &[holder]).await?;
        Ok(ticket)
    }

    pub async fn fulfil_ix(
        &mut self,
        authority: &Pubkey,
        provider: &Pubkey,
        ticket: &Pubkey,
    ) -> Instruction {
        let position = self
            .fetch::<Ticket>(ticket)
            .await
            .map(|t| t.position)
            .unwrap_or_default();
        ix(
            acc::Fulfil {
                authority: *authority,
                provider: *provider,
                position,
                ticket: *ticket,
            },
            ins::Fulfil {
                receipt_hash: [9u8; 32],
            },
        )
    }

    pub async fn fulfil(&mut self, p: &ProviderFx, ticket: &Pubkey) -> Result<u64, TxError> {
        let i = self.fulfil_ix(&p.authority.pubkey(), &p.key, ticket).await;
        self.t.send(&[i], &[&p.authority]).await
    }

    pub async fn claim_accounts(
        &mut self,
        holder: &Pubkey,
        p: &ProviderFx,
        ticket: &Pubkey,
        destination: &Pubkey,
    ) -> acc::ClaimDefault {
        let position = self
            .fetch::<Ticket>(ticket)
            .await
            .map(|t| t.position)
            .unwrap_or_default();
        acc::ClaimDefault {
            holder: *holder,
            registry: self.registry,
            class: p.class,
            provider: p.key,
            position,
            ticket: *ticket,
            bond_mint: self.bond_mint,
            bond_vault: self.vault,
            destination: *destination,
            bond_token_program: self.bond_program,
        }
    }

    pub async fn claim_default(
        &mut self,
        holder: &Keypair,
        p: &ProviderFx,
        ticket: &Pubkey,
        destination: &Pubkey,
    ) -> Result<u64, TxError> {
        let a = self
            .claim_accounts(&holder.pubkey(), p, ticket, destination)
            .await;
        self.t.send(&[ix(a, ins::ClaimDefault {})], &[holder]).await
    }

    pub fn lapse_ix(&self, provider: &Pubkey, w: &WindowFx) -> Instruction {
        ix(
            acc::Lapse {
                provider: *provider,
                window: w.key,
                position: w.position(provider),
            },
            ins::Lapse {},
        )
    }

    pub async fn lapse(&mut self, p: &ProviderFx, w: &WindowFx) -> Result<u64, TxError> {
        let i = self.lapse_ix(&p.key, w);
        self.t.send(&[i], &[]).await
    }

    pub fn release_accounts(&self, p: &ProviderFx, destination: &Pubkey) -> acc::ReleaseBond {
        acc::ReleaseBond {
            authority: p.authority.pubkey(),
            registry: self.registry,
            class: p.class,
            provider: p.key,
            bond_mint: self.bond_mint,
            bond_vault: self.vault,
            destination: *destination,
            bond_token_program: self.bond_program,
        }
    }

    pub async fn release(&mut self, p: &ProviderFx, amount: u64) -> Result<u64, TxError> {
        let i = ix(
            self.release_accounts(p, &p.bond_account),
            ins::ReleaseBond { amount },
        );
        self.t.send(&[i], &[&p.authority]).await
    }

    pub async fn close_ticket(
        &mut self,
        holder: &Keypair,
        ticket: &Pubkey,
    ) -> Result<u64, TxError> {
        let i = ix(
            acc::CloseTicket {
                holder: holder.pubkey(),
                ticket: *ticket,
            },
            ins::CloseTicket {},
        );
        self.t.send(&[i], &[holder]).await
    }

    /// `closer` signs (anyone); the rent goes to `rent_to`, which must be the authority.
    pub fn close_position_ix(
        &self,
        closer: &Pubkey,
        rent_to: &Pubkey,
        provider: &Pubkey,
        w: &WindowFx,
    ) -> Instruction {
        ix(
            acc::ClosePosition {
                closer: *closer,
                authority: *rent_to,
                provider: *provider,
                window: w.key,
                position: w.position(provider),
            },
            ins::ClosePosition {},
        )
    }

    /// Closes `p`'s position in `w`, signed by the context payer (closing is permissionless).
    pub async fn close_position(&mut self, p: &ProviderFx, w: &WindowFx) -> Result<u64, TxError> {
        let payer = self.t.payer_key();
        let i = self.close_position_ix(&payer, &p.authority.pubkey(), &p.key, w);
        self.t.send(&[i], &[]).await
    }

    pub fn close_window_ix(&self, admin: &Pubkey, w: &WindowFx) -> Instruction {
        ix(
            acc::CloseWindow {
                admin: *admin,
                registry: self.registry,
                class: w.class,
                window: w.key,
            },
            ins::CloseWindow {},
        )
    }

    pub async fn close_window(&mut self, w: &WindowFx) -> Result<u64, TxError> {
        let i = self.close_window_ix(&self.admin.pubkey(), w);
        let admin = self.admin.insecure_clone();
        self.t.send(&[i], &[&admin]).await
    }

    /// Overwrites a program account's data with `f` applied to its deserialized state: for
    /// tests that break an invariant on purpose.
    pub async fn corrupt<T>(&mut self, key: &Pubkey, f: impl FnOnce(&mut T))
    where
        T: AccountDeserialize + anchor_lang::AccountSerialize,
    {
        let mut account = self.t.account(key).await.expect("account to corrupt");
        let mut state = T::try_deserialize(&mut account.data.as_slice()).expect("state");
        f(&mut state);
        let mut data = Vec::new();
        state.try_serialize(&mut data).expect("serialize");
        account.data[..data.len()].copy_from_slice(&data);
        self.t
            .ctx
            .set_account(key, &solana_sdk::account::AccountSharedData::from(account));
    }

    /// Deserializes a program account (None if it does not exist).
    pub async fn fetch<T: AccountDeserialize>(&mut self, key: &Pubkey) -> Option<T> {
        let a = self.t.account(key).await?;
        T::try_deserialize(&mut a.data.as_slice()).ok()
    }

    pub async fn provider(&mut self, key: &Pubkey) -> Provider {
        self.fetch(key).await.expect("provider account")
    }

    pub async fn window(&mut self, key: &Pubkey) -> Window {
        self.fetch(key).await.expect("window account")
    }

    pub async fn ticket(&mut self, key: &Pubkey) -> Ticket {
        self.fetch(key).await.expect("ticket account")
    }

    pub async fn registry_state(&mut self) -> Registry {
        let r = self.registry;
        self.fetch(&r).await.expect("registry account")
    }
}

/// Token-2022 mint extensions for bond-mint tests.
#[derive(Clone, Copy, Debug)]
pub enum MintExtension {
    PermanentDelegate,
    TransferFee,
    TransferHook,
    /// Harmless for a bond mint; accepted.
    MintCloseAuthority,
}

/// Creates a Token-2022 mint (payer = mint authority, 6 decimals) with one extension.
pub async fn create_mint_with_extension(t: &mut TestContext, ext: MintExtension) -> Pubkey {
    use anchor_spl::token_2022::spl_token_2022::{
        self,
        extension::{transfer_fee, transfer_hook, ExtensionType},
        state::Mint as MintState,
    };
    let program = token_2022_id();
    let mint = crate::context::new_keypair();
    let payer = t.payer_key();
    let (ty, init) = match ext {
        MintExtension::PermanentDelegate => (
            ExtensionType::PermanentDelegate,
            spl_token_2022::instruction::initialize_permanent_delegate(
                &program,
                &mint.pubkey(),
                &payer,
            ),
        ),
        MintExtension::TransferFee => (
            ExtensionType::TransferFeeConfig,
            transfer_fee::instruction::initialize_transfer_fee_config(
                &program,
                &mint.pubkey(),
                Some(&payer),
                Some(&payer),
                50,
                1_000_000,
            ),
        ),
        MintExtension::TransferHook => (
            ExtensionType::TransferHook,
            transfer_hook::instruction::initialize(
                &program,
                &mint.pubkey(),
                Some(payer),
                Some(Pubkey::new_unique()),
            ),
        ),
        MintExtension::MintCloseAuthority => (
            ExtensionType::MintCloseAuthority,
            spl_token_2022::instruction::initialize_mint_close_authority(
                &program,
                &mint.pubkey(),
                Some(&payer),
            ),
        ),
    };
    let len = ExtensionType::try_calculate_account_len::<MintState>(&[ty]).unwrap();
    let ixs = [
        anchor_lang::solana_program::system_instruction::create_account(
            &payer,
            &mint.pubkey(),
            anchor_lang::prelude::Rent::default().minimum_balance(len),
            len as u64,
            &program,
        ),
        init.unwrap(),
        spl_token_2022::instruction::initialize_mint2(&program, &mint.pubkey(), &payer, None, 6)
            .unwrap(),
    ];
    t.send(&ixs, &[&mint])
        .await
        .expect("create mint with extension");
    mint.pubkey()
}
