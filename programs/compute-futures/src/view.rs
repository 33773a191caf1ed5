//! Accounts as the runtime lays them out, without `AccountInfo`'s `Rc<RefCell>` wrapping.
//!
//! The trading instructions (`place_order`, `cancel_all_and_place`) are the hot path of the
//! exchange; they read their accounts through `AccountView`s taken straight from the program
//! input (see `entrypoint.rs`) and check owner, discriminator, signer and writability here, the
//! same checks Anchor's `Signer` and `AccountLoader` make. Natively (tests), views are built
//! from `AccountInfo`s so both builds run the same handler.

use core::marker::PhantomData;
use core::mem::size_of;

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::*;
use anchor_lang::ZeroCopy;

/// One account of the instruction.
#[derive(Clone, Copy)]
pub struct AccountView<'a> {
    key: &'a Pubkey,
    owner: &'a Pubkey,
    data: *mut u8,
    /// Account data is at most 10 MiB.
    len: u32,
    pub is_signer: bool,
    pub is_writable: bool,
    /// The position of the earlier account this one repeats.
    pub duplicate_of: Option<u8>,
    _data: PhantomData<&'a mut [u8]>,
}

impl<'a> AccountView<'a> {
    /// A view of an `AccountInfo`; `duplicate_of` is filled in by `views_of` / `views_of_ix`.
    pub fn of_info(info: &AccountInfo<'a>) -> Self {
        // SAFETY: the RefCell holds the account's data slice for the whole instruction; its
        // `&mut [u8]` is read as the raw fat pointer it is (same layout), so no reference to the
        // data is made here and a borrow the caller holds elsewhere stays valid.
        let raw: *mut [u8] = unsafe { core::ptr::read(info.data.as_ptr() as *const *mut [u8]) };
        let (ptr, len) = (raw as *mut u8, raw.len());
        AccountView {
            key: info.key,
            owner: info.owner,
            data: ptr,
            len: len as u32,
            is_signer: info.is_signer,
            is_writable: info.is_writable,
            duplicate_of: None,
            _data: PhantomData,
        }
    }

    pub fn key(&self) -> &'a Pubkey {
        self.key
    }

    pub fn owner(&self) -> &'a Pubkey {
        self.owner
    }

    pub fn data_ptr(&self) -> *mut u8 {
        self.data
    }

    pub fn data_len(&self) -> usize {
        self.len as usize
    }

    /// # Safety
    /// No mutable borrow of this account's data may be alive.
    pub unsafe fn data(&self) -> &'a [u8] {
        core::slice::from_raw_parts(self.data, self.len as usize)
    }

    /// # Safety
    /// No other borrow of this account's data may be alive while the result is.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn data_mut(&self) -> &'a mut [u8] {
        core::slice::from_raw_parts_mut(self.data, self.len as usize)
    }

    pub fn check_signer(&self) -> Result<()> {
        if !self.is_signer {
            return Err(ErrorCode::AccountNotSigner.into());
        }
        Ok(())
    }

    /// Owned by this program and, when `writable`, writable and not a repeat of an earlier
    /// account (so it can be borrowed mutably).
    pub fn check_program_account(&self, writable: bool) -> Result<()> {
        if !crate::keys::is_program_id(self.owner) {
            return Err(ErrorCode::AccountOwnedByWrongProgram.into());
        }
        if writable {
            if !self.is_writable {
                return Err(ErrorCode::AccountNotMutable.into());
            }
            if self.duplicate_of.is_some() {
                return Err(crate::error::FuturesError::DuplicateAccount.into());
            }
        }
        Ok(())
    }

    /// The account's `T`, after the owner and discriminator checks of `AccountLoader`.
    ///
    /// # Safety
    /// No mutable borrow of this account's data may be alive while the result is.
    pub unsafe fn load<T: ZeroCopy + Owner>(&self) -> Result<&'a T> {
        self.check_program_account(false)?;
        let data = self.data();
        Ok(bytemuck::from_bytes(typed::<T>(data)?))
    }

    /// The account's `T` for writing: writable, not a repeat, owner and discriminator checked.
    ///
    /// # Safety
    /// No other borrow of this account's data may be alive while the result is.
    pub unsafe fn load_mut<T: ZeroCopy + Owner>(&self) -> Result<&'a mut T> {
        self.check_program_account(true)?;
        self.load_mut_repeatable()
    }

    /// The account's `T` for writing, checking only its type: for an account already checked by
    /// `load` that may repeat another one borrowed at other times (the crank's makers and
    /// reward account).
    ///
    /// # Safety
    /// No other borrow of this account's data may be alive while the result is.
    pub unsafe fn load_mut_repeatable<T: ZeroCopy>(&self) -> Result<&'a mut T> {
        let data = self.data_mut();
        typed::<T>(data)?;
        let n = T::DISCRIMINATOR.len();
        Ok(bytemuck::from_bytes_mut(&mut data[n..n + size_of::<T>()]))
    }
}

/// No account of `views` repeats another: each may then be borrowed once, mutably or not.
pub fn require_distinct(views: &[AccountView]) -> Result<()> {
    for v in views {
        require!(
            v.duplicate_of.is_none(),
            crate::error::FuturesError::DuplicateAccount
        );
    }
    Ok(())
}

/// A book or event-queue account about to be written: owned by this program, writable, not a
/// repeat (its header is checked when it is loaded).
pub fn check_book_account(v: &AccountView) -> Result<()> {
    v.check_program_account(true)
        .map_err(|_| error!(crate::error::FuturesError::WrongBookAccount))
}

/// The bytes of a `T` after its discriminator.
fn typed<T: ZeroCopy>(data: &[u8]) -> Result<&[u8]> {
    let disc = T::DISCRIMINATOR;
    if data.len() < disc.len() {
        return Err(ErrorCode::AccountDiscriminatorNotFound.into());
    }
    let matches = if disc.len() == 8 {
        crate::keys::tag_is(data, const { crate::keys::tag_word(T::DISCRIMINATOR) })
    } else {
        &data[..disc.len()] == disc
    };
    if !matches {
        return Err(ErrorCode::AccountDiscriminatorMismatch.into());
    }
    data.get(disc.len()..disc.len() + size_of::<T>())
        .ok_or_else(|| ErrorCode::AccountDidNotDeserialize.into())
}

/// Most accounts a view-based instruction takes: a transaction locks at most 64 accounts.
pub const MAX_VIEWS: usize = 64;

/// A fixed array of views, so taking them allocates nothing.
pub struct Views<'a> {
    views: [core::mem::MaybeUninit<AccountView<'a>>; MAX_VIEWS],
    len: usize,
}

impl<'a> Views<'a> {
    pub fn new() -> Self {
        Views {
            views: [const { core::mem::MaybeUninit::uninit() }; MAX_VIEWS],
            len: 0,
        }
    }

    /// Writes view `i` in place, field by field (on the VM a whole-struct copy of this size is
    /// a byte-wise `memcpy` loop, ~100 CU), without touching the length: the input walk sets
    /// it once.
    ///
    /// # Safety
    /// `i < MAX_VIEWS`; `data` points to `len` bytes that stay valid for `'a` and that nothing
    /// else accesses except through views of the same account.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn write(
        &mut self,
        i: usize,
        key: &'a Pubkey,
        owner: &'a Pubkey,
        data: *mut u8,
        len: u32,
        is_signer: bool,
        is_writable: bool,
        duplicate_of: Option<u8>,
    ) {
        // SAFETY: `i` is in bounds (caller); every field of the (maybe uninitialized) slot is
        // written once, through raw pointers.
        unsafe {
            let p = self.views.as_mut_ptr().add(i) as *mut AccountView<'a>;
            core::ptr::addr_of_mut!((*p).key).write(key);
            core::ptr::addr_of_mut!((*p).owner).write(owner);
            core::ptr::addr_of_mut!((*p).data).write(data);
            core::ptr::addr_of_mut!((*p).len).write(len);
            core::ptr::addr_of_mut!((*p).is_signer).write(is_signer);
            core::ptr::addr_of_mut!((*p).is_writable).write(is_writable);
            core::ptr::addr_of_mut!((*p).duplicate_of).write(duplicate_of);
            core::ptr::addr_of_mut!((*p)._data).write(PhantomData);
        }
    }

    /// Sets the number of views written.
    ///
    /// # Safety
    /// Views `0..n` have been written (`write`), `n <= MAX_VIEWS`.
    #[inline(always)]
    pub unsafe fn set_len(&mut self, n: usize) {
        self.len = n;
    }

    /// View `i` if written.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Option<&AccountView<'a>> {
        self.as_slice().get(i)
    }

    pub fn as_slice(&self) -> &[AccountView<'a>] {
        // SAFETY: the first `len` entries were written by `push_parts`.
        unsafe { core::slice::from_raw_parts(self.views.as_ptr() as *const AccountView, self.len) }
    }
}

/// Views of `infos`, on the heap (the native dispatcher, health accounts of `withdraw`). With
/// `mark_repeats`, an account that repeats an earlier one is marked the way the runtime's input
/// marks it (quadratic; read-only uses do not need it). At most `MAX_VIEWS`.
pub fn views_of<'a>(infos: &[AccountInfo<'a>], mark_repeats: bool) -> Result<Vec<AccountView<'a>>> {
    collect_views(infos.iter(), mark_repeats)
}

/// Views of an Anchor instruction's accounts followed by its remaining accounts, repeats marked:
/// what the Anchor handlers of the fast-path instructions pass to the view-based handlers.
pub fn views_of_ix<'a>(
    fixed: &[AccountInfo<'a>],
    remaining: &[AccountInfo<'a>],
) -> Result<Vec<AccountView<'a>>> {
    collect_views(fixed.iter().chain(remaining), true)
}

fn collect_views<'a, 'b>(
    infos: impl Iterator<Item = &'b AccountInfo<'a>>,
    mark_repeats: bool,
) -> Result<Vec<AccountView<'a>>>
where
    'a: 'b,
{
    let mut out: Vec<AccountView<'a>> = Vec::new();
    for info in infos {
        require!(
            out.len() < MAX_VIEWS,
            crate::error::FuturesError::TooManyAccounts
        );
        let mut v = AccountView::of_info(info);
        if mark_repeats {
            v.duplicate_of = out.iter().position(|o| o.key == v.key).map(|p| p as u8);
        }
        out.push(v);
    }
    Ok(out)
}

impl Default for Views<'_> {
    fn default() -> Self {
        Views::new()
    }
}
