//! Key comparisons as four 64-bit words.
//!
//! On the SBF VM `==` on two `Pubkey`s is a `memcmp` (a call and a byte loop, ~100 CU); the
//! trading path compares a dozen keys. Compared as four words they cost ~10 CU.

use anchor_lang::prelude::Pubkey;

/// The key as four words. An unaligned read: the SBF VM allows misaligned loads (and
/// platform-tools emits them), so this is four loads wherever the key sits.
#[inline(always)]
fn words(k: &Pubkey) -> [u64; 4] {
    // SAFETY: a `Pubkey` is 32 readable bytes.
    unsafe { core::ptr::read_unaligned(k.as_ref().as_ptr() as *const [u64; 4]) }
}

/// `a == b`.
#[inline(always)]
pub fn key_eq(a: &Pubkey, b: &Pubkey) -> bool {
    let (x, y) = (words(a), words(b));
    x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3]
}

/// `k == Pubkey::default()`: an empty slot.
#[inline(always)]
pub fn is_default(k: &Pubkey) -> bool {
    let x = words(k);
    x[0] | x[1] | x[2] | x[3] == 0
}

const fn id_words() -> [u64; 4] {
    let b = crate::ID.to_bytes();
    let mut w = [0u64; 4];
    let mut i = 0;
    while i < 4 {
        let o = i * 8;
        w[i] = u64::from_ne_bytes([
            b[o],
            b[o + 1],
            b[o + 2],
            b[o + 3],
            b[o + 4],
            b[o + 5],
            b[o + 6],
            b[o + 7],
        ]);
        i += 1;
    }
    w
}

/// This program's id as the words `words` reads.
static PROGRAM_ID: [u64; 4] = id_words();

/// `k == crate::ID`.
#[inline(always)]
pub fn is_program_id(k: &Pubkey) -> bool {
    let x = words(k);
    x[0] == PROGRAM_ID[0] && x[1] == PROGRAM_ID[1] && x[2] == PROGRAM_ID[2] && x[3] == PROGRAM_ID[3]
}

/// An 8-byte discriminator as the little-endian word it is in memory (for `tag_is`).
pub const fn tag_word(tag: &[u8]) -> u64 {
    let mut w = 0u64;
    let mut j = 0;
    while j < 8 {
        w |= (tag[j] as u64) << (8 * j);
        j += 1;
    }
    w
}

/// The first 8 bytes of `data` as a little-endian word (one load).
#[inline(always)]
pub fn first_word(data: &[u8]) -> Option<u64> {
    let head = data.get(..8)?;
    // SAFETY: 8 readable bytes.
    Some(u64::from_le(unsafe {
        core::ptr::read_unaligned(head.as_ptr() as *const u64)
    }))
}

/// `data` starts with the discriminator whose word is `tag`.
#[inline(always)]
pub fn tag_is(data: &[u8], tag: u64) -> bool {
    first_word(data) == Some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_and_byte_comparisons_agree() {
        let mut buf = [0u64; 9];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        let k = Pubkey::new_unique();
        bytes[..32].copy_from_slice(k.as_ref());
        bytes[33..65].copy_from_slice(k.as_ref());
        let aligned: &Pubkey = bytemuck::from_bytes(&bytes[..32]);
        let unaligned: &Pubkey = bytemuck::from_bytes(&bytes[33..65]);
        assert!(key_eq(aligned, &k) && key_eq(unaligned, aligned));
        let mut other = k.to_bytes();
        other[31] ^= 1;
        assert!(!key_eq(aligned, &Pubkey::from(other)));
        assert!(!is_default(aligned) && is_default(&Pubkey::default()));
        let id = crate::ID;
        bytes[..32].copy_from_slice(id.as_ref());
        let aligned: &Pubkey = bytemuck::from_bytes(&bytes[..32]);
        assert!(is_program_id(aligned) && is_program_id(&id) && !is_program_id(&k));
        let (tid, tk) = (tag_word(&id.as_ref()[..8]), tag_word(&k.as_ref()[..8]));
        assert!(tag_is(&bytes[..32], tid) && tag_is(&bytes[1..32], tag_word(&bytes[1..9])));
        assert!(!tag_is(&bytes[..32], tk));
        assert!(!tag_is(&bytes[..4], tid));
    }
}
