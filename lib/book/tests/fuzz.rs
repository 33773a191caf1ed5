//! Fuzz test over arbitrary operation bytes: no panics, refused operations change nothing, and the
//! tree, pools and priority order stay consistent. For a longer campaign, raise proptest's case
//! count (`PROPTEST_CASES=100000 cargo test -p cfx-book --test fuzz`); there is no cargo-fuzz
//! target yet.

#[path = "common/byte_ops.rs"]
mod byte_ops;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_small_book(data in prop::collection::vec(any::<u8>(), 0..3000)) {
        byte_ops::run_bytes(5, &data);
    }

    #[test]
    fn arbitrary_bytes_large_book(data in prop::collection::vec(any::<u8>(), 0..6000)) {
        byte_ops::run_bytes(200, &data);
    }
}
