//! SPL Token / Token-2022 helpers. Base layouts only (no extensions on created accounts).

use crate::context::TestContext;
use anchor_lang::{
    prelude::Rent, solana_program::program_pack::Pack, solana_program::system_instruction,
};
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::{BaseStateWithExtensions, StateWithExtensions},
    state::{Account as TokenAccountState, Mint as MintState},
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

pub fn spl_token_id() -> Pubkey {
    anchor_spl::token::ID
}

pub fn token_2022_id() -> Pubkey {
    anchor_spl::token_2022::ID
}

impl TestContext {
    /// Creates a mint of `token_program` with the payer as mint authority.
    pub async fn create_mint(&mut self, token_program: &Pubkey, decimals: u8) -> Pubkey {
        let mint = crate::context::new_keypair();
        let payer = self.payer_key();
        let ixs = [
            system_instruction::create_account(
                &payer,
                &mint.pubkey(),
                Rent::default().minimum_balance(MintState::LEN),
                MintState::LEN as u64,
                token_program,
            ),
            spl_token_2022::instruction::initialize_mint2(
                token_program,
                &mint.pubkey(),
                &payer,
                None,
                decimals,
            )
            .unwrap(),
        ];
        self.send(&ixs, &[&mint]).await.expect("create mint");
        mint.pubkey()
    }

    /// Creates a plain token account of `mint` owned by `owner`.
    pub async fn create_token_account(
        &mut self,
        token_program: &Pubkey,
        mint: &Pubkey,
        owner: &Pubkey,
    ) -> Pubkey {
        let account = crate::context::new_keypair();
        let payer = self.payer_key();
        let ixs = [
            system_instruction::create_account(
                &payer,
                &account.pubkey(),
                Rent::default().minimum_balance(TokenAccountState::LEN),
                TokenAccountState::LEN as u64,
                token_program,
            ),
            spl_token_2022::instruction::initialize_account3(
                token_program,
                &account.pubkey(),
                mint,
                owner,
            )
            .unwrap(),
        ];
        self.send(&ixs, &[&account])
            .await
            .expect("create token account");
        account.pubkey()
    }

    /// Mints with the payer as mint authority.
    pub async fn mint_tokens(
        &mut self,
        token_program: &Pubkey,
        mint: &Pubkey,
        to: &Pubkey,
        amount: u64,
    ) {
        let payer = self.payer_key();
        let ix = spl_token_2022::instruction::mint_to(token_program, mint, to, &payer, &[], amount)
            .unwrap();
        self.send(&[ix], &[]).await.expect("mint tokens");
    }

    /// Transfers with `transfer_checked`, signed by `owner`.
    #[allow(clippy::too_many_arguments)]
    pub async fn transfer_tokens(
        &mut self,
        token_program: &Pubkey,
        from: &Pubkey,
        mint: &Pubkey,
        to: &Pubkey,
        owner: &Keypair,
        amount: u64,
        decimals: u8,
    ) -> Result<u64, crate::TxError> {
        let ix = spl_token_2022::instruction::transfer_checked(
            token_program,
            from,
            mint,
            to,
            &owner.pubkey(),
            &[],
            amount,
            decimals,
        )
        .unwrap();
        self.send(&[ix], &[owner]).await
    }

    /// Token balance of an account (0 if it does not exist).
    pub async fn token_balance(&mut self, account: &Pubkey) -> u64 {
        match self.account(account).await {
            Some(a) => {
                StateWithExtensions::<TokenAccountState>::unpack(&a.data)
                    .expect("token account")
                    .base
                    .amount
            }
            None => 0,
        }
    }

    /// Supply, decimals and the raw account data of a mint.
    pub async fn mint_state(&mut self, mint: &Pubkey) -> (MintState, Vec<u8>) {
        let a = self.account(mint).await.expect("mint exists");
        let base = StateWithExtensions::<MintState>::unpack(&a.data)
            .expect("mint")
            .base;
        (base, a.data)
    }

    pub async fn mint_supply(&mut self, mint: &Pubkey) -> u64 {
        self.mint_state(mint).await.0.supply
    }
}

/// Name, symbol and uri from a Token-2022 mint's metadata extension, the way a wallet reads
/// them; also checks that the metadata pointer points at the mint itself.
pub fn read_token_metadata(mint: &Pubkey, data: &[u8]) -> (String, String, String) {
    use anchor_spl::token_2022::spl_token_2022::extension::metadata_pointer::MetadataPointer;
    use anchor_spl::token_interface::spl_token_metadata_interface::state::TokenMetadata;
    let state = StateWithExtensions::<MintState>::unpack(data).expect("mint");
    let pointer = state
        .get_extension::<MetadataPointer>()
        .expect("metadata pointer");
    assert_eq!(
        Option::<Pubkey>::from(pointer.metadata_address),
        Some(*mint),
        "metadata pointer must point at the mint"
    );
    let md = state
        .get_variable_len_extension::<TokenMetadata>()
        .expect("token metadata");
    assert_eq!(md.mint, *mint);
    (md.name, md.symbol, md.uri)
}
