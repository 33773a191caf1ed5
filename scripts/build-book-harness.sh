#!/usr/bin/env bash
# Builds lib/book's SBF harness (a no_std program) with the upstream toolchain and sbpf-linker, and
# installs what that needs. Output: target/deploy/book_harness.so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
TC=${SBF_TOOLCHAIN:-nightly-2026-10-30}
LINKER_VERSION=${SBF_LINKER_VERSION:-0.2.6}
if ! rustup run "$TC" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$TC" --profile minimal
fi
rustup component add rust-src llvm-tools --toolchain "$TC" >/dev/null
if ! sbpf-linker --version 2>/dev/null | grep -q "$LINKER_VERSION"; then
  cargo "+$TC" install sbpf-linker --version "$LINKER_VERSION" --locked
fi
target_dir=${SBF_HARNESS_TARGET_DIR:-$root/target/sbf-harness}
# The stand-in tool's linker wrapper: lowers atomics and moves stack-argument stores past Agave's
# SBPF v0 stack-frame gaps (sbpf-linker 0.2.6 alone assumes contiguous frames).
linker="$root/../shared/tools/sbf-upstream/bin/sbpf-link-lower-atomics"
cd "$root/lib/book/harness-sbf"
CARGO_TARGET_BPFEL_UNKNOWN_NONE_RUSTFLAGS="-C linker=$linker -C panic=abort -C relocation-model=static -C link-arg=--arch=v0 -C link-arg=--llvm-args=-bpf-stack-size=4096" \
  cargo "+$TC" build --release -Z build-std=core,alloc --target bpfel-unknown-none \
    --target-dir "$target_dir"
mkdir -p "$root/target/deploy"
cp "$target_dir/bpfel-unknown-none/release/libbook_harness.so" "$root/target/deploy/book_harness.so"
echo "built target/deploy/book_harness.so ($(stat -c %s "$root/target/deploy/book_harness.so") bytes)"
