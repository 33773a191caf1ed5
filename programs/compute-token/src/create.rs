//! Account creation that no one can block by sending lamports to the address first.
//!
//! Every account both programs create lives at a predictable address (a PDA). Anchor 1.2's
//! `init` creates a pre-funded address with the system program's `CreateAccountAllowPrefund`
//! (SIMD-0312), which runtimes without that feature refuse: one transfer of rent to the address
//! would block the account forever. So no instruction uses `init`; each creates its accounts here,
//! with the three system instructions every runtime has. Also used by compute-futures.
//!
//! Whatever the address holds beforehand, the account ends exactly as an unfunded creation makes
//! it: owner, size, zeroed data and the rent-exempt minimum. Lamports someone sent there are never
//! kept: a shortfall is topped up by the payer, and anything above the rent-exempt minimum is
//! returned to the payer (the PDA signs that transfer). A sender therefore loses what it sent to
//! whoever creates the account, and cannot change what the account holds — a native-SOL token
//! account, whose token amount comes from its lamports, starts at 0 like any other.

use anchor_lang::prelude::*;
use anchor_lang::system_program::{
    allocate, assign, create_account, transfer, Allocate, Assign, CreateAccount, Transfer,
};
use anchor_spl::token_2022::spl_token_2022::{
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
    state::{Account as TokenAccountState, Mint as MintState},
};
use anchor_spl::token_interface::{initialize_account3, InitializeAccount3};

/// The accounts every creation needs: who pays, and the system program.
#[derive(Clone)]
pub struct Creator<'a, 'info> {
    pub payer: &'a AccountInfo<'info>,
    pub system_program: &'a AccountInfo<'info>,
}

impl<'info> Creator<'_, 'info> {
    /// Creates `target`, the PDA that `seeds` (with its bump) sign for, with `space` zeroed bytes
    /// owned by `owner`, holding exactly the rent-exempt minimum.
    ///
    /// Refused with `AccountNotSystemOwned` when the address already holds an account (owned by
    /// a program, or with data), and with `TryingToInitPayerAsProgramAccount` when the payer is
    /// the target.
    pub fn create_pda(
        &self,
        target: &AccountInfo<'info>,
        space: usize,
        owner: &Pubkey,
        seeds: &[&[u8]],
    ) -> Result<()> {
        require_keys_neq!(
            *self.payer.key,
            *target.key,
            ErrorCode::TryingToInitPayerAsProgramAccount
        );
        require!(
            *target.owner == System::id() && target.data_is_empty(),
            ErrorCode::AccountNotSystemOwned
        );
        let rent = Rent::get()?.minimum_balance(space);
        let held = target.lamports();
        let system = self.system_program.key();
        let signer: &[&[&[u8]]] = &[seeds];
        if held == 0 {
            return create_account(
                CpiContext::new_with_signer(
                    system,
                    CreateAccount {
                        from: self.payer.clone(),
                        to: target.clone(),
                    },
                    signer,
                ),
                rent,
                space as u64,
                owner,
            );
        }
        if held < rent {
            transfer(
                CpiContext::new(
                    system,
                    Transfer {
                        from: self.payer.clone(),
                        to: target.clone(),
                    },
                ),
                rent - held,
            )?;
        } else if held > rent {
            // The address is still a system account the PDA signs for: send the surplus back.
            transfer(
                CpiContext::new_with_signer(
                    system,
                    Transfer {
                        from: target.clone(),
                        to: self.payer.clone(),
                    },
                    signer,
                ),
                held - rent,
            )?;
        }
        allocate(
            CpiContext::new_with_signer(
                system,
                Allocate {
                    account_to_allocate: target.clone(),
                },
                signer,
            ),
            space as u64,
        )?;
        assign(
            CpiContext::new_with_signer(
                system,
                Assign {
                    account_to_assign: target.clone(),
                },
                signer,
            ),
            owner,
        )
    }

    /// Creates `target` (a PDA signed by `seeds`) as an account of `T` owned by this program and
    /// writes `value` with its discriminator.
    pub fn create_anchor_account<T: AccountSerialize + Owner>(
        &self,
        target: &AccountInfo<'info>,
        space: usize,
        seeds: &[&[u8]],
        value: &T,
    ) -> Result<()> {
        self.create_pda(target, space, &T::owner(), seeds)?;
        let mut data = target.try_borrow_mut_data()?;
        value.try_serialize(&mut &mut data[..])
    }

    /// Creates `target` (a PDA signed by `seeds`) as a token account of `mint` held by
    /// `authority`, under the mint's token program, with the account extensions the mint
    /// requires (Token-2022), as Anchor's `token::` init does.
    pub fn create_token_account(
        &self,
        target: &AccountInfo<'info>,
        mint: &AccountInfo<'info>,
        authority: &AccountInfo<'info>,
        token_program: &AccountInfo<'info>,
        seeds: &[&[u8]],
    ) -> Result<()> {
        let space = token_account_len(mint)?;
        self.create_pda(target, space, token_program.key, seeds)?;
        initialize_account3(CpiContext::new(
            token_program.key(),
            InitializeAccount3 {
                account: target.clone(),
                mint: mint.clone(),
                authority: authority.clone(),
            },
        ))
    }
}

/// Size of a token account of `mint`: the base layout, plus for a Token-2022 mint the account
/// extensions its mint extensions require.
pub fn token_account_len(mint: &AccountInfo) -> Result<usize> {
    if *mint.owner != anchor_spl::token_2022::ID {
        return Ok(anchor_spl::token::TokenAccount::LEN);
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    let required =
        ExtensionType::get_required_init_account_extensions(&state.get_extension_types()?);
    Ok(ExtensionType::try_calculate_account_len::<TokenAccountState>(&required)?)
}
