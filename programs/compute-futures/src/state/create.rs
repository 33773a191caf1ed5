//! Creating this program's zero-copy accounts with `compute_token::create` (never Anchor's
//! `init`: see that module and docs/ARCHITECTURE.md).

use anchor_lang::prelude::*;
use anchor_lang::ZeroCopy;
use compute_token::create::Creator;
use std::cell::RefMut;

/// Creates `target`, the PDA of this program that `seeds` sign for, as a zeroed account of `T`
/// with its discriminator written, and returns `T` to fill in.
pub fn create_zero_copy<'a, 'info, T: ZeroCopy + Owner>(
    creator: &Creator<'_, 'info>,
    target: &'a AccountInfo<'info>,
    seeds: &[&[u8]],
) -> Result<RefMut<'a, T>> {
    let len = 8 + core::mem::size_of::<T>();
    creator.create_pda(target, len, &T::owner(), seeds)?;
    let mut data = target.try_borrow_mut_data()?;
    data[..8].copy_from_slice(T::DISCRIMINATOR);
    Ok(RefMut::map(data, |d| {
        bytemuck::from_bytes_mut(&mut d[8..len])
    }))
}
