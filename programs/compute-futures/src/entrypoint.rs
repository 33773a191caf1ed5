//! The program's entrypoint.
//!
//! The trading instructions (`place_order`, `cancel_all_and_place`, the three cancels) and the
//! crank (`consume_events`) take a fast path: their accounts are read as
//! `AccountView`s straight from the runtime's input, with no `AccountInfo` allocation and no
//! Anchor account structs; they make the checks Anchor would (see `view.rs`). Every other
//! instruction, and any input the fast path cannot take, goes to Anchor's dispatcher.
//!
//! Anchor's own generated entrypoint is switched off by `build.rs` (it sets the
//! `no-entrypoint` cfg Anchor's macro looks for) unless the crate is used for CPI.

use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

use crate::instructions::{
    cancel_all_and_place_views, cancel_views, consume_events_views, place_order_views, Target,
};
use crate::keys::{first_word, tag_word};
use crate::view::{views_of, AccountView};

/// Declares the fast-path instructions, one line each: the Anchor instruction (its
/// discriminator and argument type) and the view-based handler it runs. Adding an instruction
/// to the fast path is one entry; the table expands into plain comparisons, with no indirect
/// call on the hot path. The instruction's Anchor handler stays (IDL, builders, Anchor's
/// dispatcher) and calls the same view-based code.
macro_rules! fast_path {
    ($($ix:ident => |$views:ident, $args:ident| $body:expr;)*) => {
        /// Whether the instruction `data` starts with has a fast path.
        pub fn is_fast(data: &[u8]) -> bool {
            let Some(word) = first_word(data) else { return false };
            false $(|| word == const { tag_word(crate::instruction::$ix::DISCRIMINATOR) })*
        }

        /// Runs the fast path of the instruction `data` starts with over `views`; `None` when it
        /// has none. Not inlined: the views array already fills much of the entrypoint's 4 KiB
        /// stack frame.
        #[inline(never)]
        pub fn run_fast(
            program_id: &Pubkey,
            views: &[AccountView],
            data: &[u8],
        ) -> Option<Result<()>> {
            let word = first_word(data)?;
            $(
                if word == const { tag_word(crate::instruction::$ix::DISCRIMINATOR) } {
                    if !crate::keys::is_program_id(program_id) {
                        return Some(Err(
                            anchor_lang::error::ErrorCode::DeclaredProgramIdMismatch.into(),
                        ));
                    }
                    let $views = views;
                    let parsed = <crate::instruction::$ix as ReadArgs>::read(&data[8..]);
                    crate::probe!("parsed");
                    return Some(parsed.and_then(|$args| $body));
                }
            )*
            None
        }
    };
}

fast_path! {
    PlaceOrder => |views, a| place_order_views(views, a.args);
    CancelAllAndPlace => |views, a| cancel_all_and_place_views(views, a.orders);
    CancelOrder => |views, a| cancel_views(views, Target::Id(a.order_id));
    CancelOrderByClientId => |views, a| cancel_views(views, Target::Client(a.client_order_id));
    CancelAllOrders => |views, _a| cancel_views(views, Target::All);
    ConsumeEvents => |views, a| consume_events_views(views, a.limit);
}

/// Reads an instruction's arguments after its discriminator: by default with Borsh, as Anchor's
/// dispatcher does; an instruction may read its own faster, accepting exactly the same bytes.
trait ReadArgs: AnchorDeserialize {
    fn read(mut args: &[u8]) -> Result<Self> {
        Self::deserialize(&mut args)
            .map_err(|_| anchor_lang::error::ErrorCode::InstructionDidNotDeserialize.into())
    }
}

impl ReadArgs for crate::instruction::PlaceOrder {
    /// At fixed offsets (`OrderArgs::read`): Borsh's reader cost ≈ 130 CU on every order.
    fn read(args: &[u8]) -> Result<Self> {
        crate::instructions::OrderArgs::read(args)
            .map(|args| crate::instruction::PlaceOrder { args })
            .ok_or_else(|| anchor_lang::error::ErrorCode::InstructionDidNotDeserialize.into())
    }
}
impl ReadArgs for crate::instruction::CancelAllAndPlace {}
impl ReadArgs for crate::instruction::CancelOrder {}
impl ReadArgs for crate::instruction::CancelOrderByClientId {}
impl ReadArgs for crate::instruction::CancelAllOrders {}
impl ReadArgs for crate::instruction::ConsumeEvents {}

fn to_program_result(r: Result<()>) -> core::result::Result<(), ProgramError> {
    r.map_err(|e| {
        e.log();
        e.into()
    })
}

/// Processes one instruction given as `AccountInfo`s (native tests and Anchor's dispatcher see
/// the same handlers as the on-chain entrypoint).
pub fn process_instruction<'info>(
    program_id: &'info Pubkey,
    accounts: &'info [AccountInfo<'info>],
    data: &'info [u8],
) -> core::result::Result<(), ProgramError> {
    if is_fast(data) {
        let r = views_of(accounts, true).and_then(|v| {
            run_fast(program_id, &v, data).unwrap_or_else(|| {
                Err(anchor_lang::error::ErrorCode::InstructionFallbackNotFound.into())
            })
        });
        return to_program_result(r);
    }
    crate::entry(program_id, accounts, data)
}

/// Walks the runtime's serialized input (SBPF v0 "aligned" layout) into views; `None` when it
/// holds more accounts than a fast-path instruction takes.
///
/// # Safety
/// `input` must be the buffer the runtime passed to the entrypoint.
#[cfg(any(cfx_own_entrypoint, test))]
pub unsafe fn walk_input<'a>(
    input: *mut u8,
    views: &mut crate::view::Views<'a>,
) -> Option<(&'a Pubkey, &'a [u8])> {
    use anchor_lang::solana_program::entrypoint::{
        BPF_ALIGN_OF_U128, MAX_PERMITTED_DATA_INCREASE, NON_DUP_MARKER,
    };
    // The runtime's layout of one account: [dup marker, signer, writable, executable, 4 bytes
    // original length] key(32) owner(32) lamports(8) data_len(8) data, 10 KiB of realloc room,
    // padding to 8, rent epoch(8); a repeat is [index of the first, 7 bytes padding].
    let n = *(input as *const u64) as usize;
    if n > crate::view::MAX_VIEWS {
        return None;
    }
    // Pointer arithmetic, not checked offsets: the runtime guarantees the layout, and the
    // overflow checks of offset sums were a third of the walk's cost.
    let mut p = input.add(8);
    for i in 0..n {
        let dup = *p as usize;
        if dup == NON_DUP_MARKER as usize {
            let len = *(p.add(80) as *const u64) as usize;
            // `i < n <= MAX_VIEWS`.
            views.write(
                i,
                &*(p.add(8) as *const Pubkey),
                &*(p.add(40) as *const Pubkey),
                p.add(88),
                len as u32,
                // The runtime writes these flags as 0 or 1, a `bool`'s bytes: read as they are
                // (normalizing each byte cost branches on every account).
                *(p.add(1) as *const bool),
                *(p.add(2) as *const bool),
                None,
            );
            p = p.add(88 + MAX_PERMITTED_DATA_INCREASE + 8).add(len);
            // The input buffer is 8-aligned, so aligning the address aligns the offset.
            p = p.add((p as usize).wrapping_neg() & (BPF_ALIGN_OF_U128 - 1));
        } else {
            // A repeat names an earlier position, already written.
            if dup >= i {
                return None;
            }
            views.set_len(i);
            let o = views.get(dup)?;
            let (key, owner, data, len) = (o.key(), o.owner(), o.data_ptr(), o.data_len() as u32);
            let (is_signer, is_writable) = (o.is_signer, o.is_writable);
            views.write(
                i,
                key,
                owner,
                data,
                len,
                is_signer,
                is_writable,
                Some(dup as u8),
            );
            p = p.add(8);
        }
    }
    views.set_len(n);
    let len = *(p as *const u64) as usize;
    let data = core::slice::from_raw_parts(p.add(8), len);
    let program_id = &*(p.add(8).add(len) as *const Pubkey);
    Some((program_id, data))
}

/// # Safety
/// Called by the runtime with its serialized input.
#[cfg(cfx_own_entrypoint)]
#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    use anchor_lang::solana_program::entrypoint::{deserialize, SUCCESS};
    crate::probe!("entry");
    let mut views = crate::view::Views::new();
    if let Some((program_id, data)) = walk_input(input, &mut views) {
        crate::probe!("walked");
        if let Some(r) = run_fast(program_id, views.as_slice(), data) {
            return match to_program_result(r) {
                Ok(()) => SUCCESS,
                Err(e) => e.into(),
            };
        }
    }
    let (program_id, accounts, data) = deserialize(input);
    match crate::entry(program_id, &accounts, data) {
        Ok(()) => SUCCESS,
        Err(e) => e.into(),
    }
}

#[cfg(cfx_own_entrypoint)]
anchor_lang::solana_program::entrypoint::custom_heap_default!();
#[cfg(cfx_own_entrypoint)]
anchor_lang::solana_program::entrypoint::custom_panic_default!();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Views;
    use anchor_lang::solana_program::entrypoint::{MAX_PERMITTED_DATA_INCREASE, NON_DUP_MARKER};

    enum Acc {
        Unique(Pubkey, Pubkey, bool, bool, Vec<u8>),
        Repeat(u8),
    }

    /// Lays accounts out as the runtime's aligned serializer does: (key, owner, signer, writable,
    /// data) or a repeat of an earlier position.
    fn serialize(accounts: &[Acc], data: &[u8], program: &Pubkey) -> Vec<u64> {
        let mut b: Vec<u8> = Vec::new();
        b.extend_from_slice(&(accounts.len() as u64).to_le_bytes());
        for a in accounts {
            match a {
                Acc::Unique(key, owner, signer, writable, d) => {
                    b.extend_from_slice(&[
                        NON_DUP_MARKER,
                        *signer as u8,
                        *writable as u8,
                        0,
                        0,
                        0,
                        0,
                        0,
                    ]);
                    b.extend_from_slice(key.as_ref());
                    b.extend_from_slice(owner.as_ref());
                    b.extend_from_slice(&7u64.to_le_bytes());
                    b.extend_from_slice(&(d.len() as u64).to_le_bytes());
                    b.extend_from_slice(d);
                    b.resize(b.len() + MAX_PERMITTED_DATA_INCREASE, 0);
                    b.resize(b.len().next_multiple_of(8), 0);
                    b.extend_from_slice(&0u64.to_le_bytes());
                }
                Acc::Repeat(dup) => b.extend_from_slice(&[*dup, 0, 0, 0, 0, 0, 0, 0]),
            }
        }
        b.extend_from_slice(&(data.len() as u64).to_le_bytes());
        b.extend_from_slice(data);
        b.extend_from_slice(program.as_ref());
        // u64 backing keeps the buffer 8-aligned, like the runtime's.
        let mut words = vec![0u64; b.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..b.len()].copy_from_slice(&b);
        words
    }

    #[test]
    fn walks_the_runtime_layout() {
        let (k1, k2, owner, program) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let accounts = [
            Acc::Unique(k1, owner, true, false, vec![]),
            Acc::Unique(k2, owner, false, true, vec![1, 2, 3]),
            Acc::Repeat(1),
        ];
        let mut buf = serialize(&accounts, &[9, 8, 7], &program);
        let mut views = Views::new();
        let (pid, data) = unsafe { walk_input(buf.as_mut_ptr() as *mut u8, &mut views) }.unwrap();
        assert_eq!(*pid, program);
        assert_eq!(data, &[9, 8, 7]);
        let v = views.as_slice();
        assert_eq!(v.len(), 3);
        assert_eq!(
            (*v[0].key(), v[0].is_signer, v[0].is_writable),
            (k1, true, false)
        );
        assert_eq!(*v[1].owner(), owner);
        assert_eq!(unsafe { v[1].data() }, &[1, 2, 3]);
        assert_eq!(v[1].duplicate_of, None);
        assert_eq!((*v[2].key(), v[2].duplicate_of), (k2, Some(1)));
        assert_eq!(unsafe { v[2].data() }, &[1, 2, 3]);

        // A repeat must name an earlier position (the runtime never writes otherwise).
        let mut buf = serialize(
            &[Acc::Unique(k1, owner, true, false, vec![]), Acc::Repeat(1)],
            &[],
            &program,
        );
        let mut views = Views::new();
        assert!(unsafe { walk_input(buf.as_mut_ptr() as *mut u8, &mut views) }.is_none());

        // More accounts than a fast-path instruction takes: left to Anchor.
        let many: Vec<_> = (0..crate::view::MAX_VIEWS + 1)
            .map(|_| Acc::Unique(Pubkey::new_unique(), owner, false, false, vec![]))
            .collect();
        let mut buf = serialize(&many, &[], &program);
        let mut views = Views::new();
        assert!(unsafe { walk_input(buf.as_mut_ptr() as *mut u8, &mut views) }.is_none());
    }
}
