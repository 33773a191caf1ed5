#!/usr/bin/env bash
# The test command: native tests of the whole workspace, then the SBF pass — programs and the
# book harness built with the upstream toolchain, and the end-to-end suite run again against
# those binaries (SBF_OUT_DIR). Installs what it needs on a fresh machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The workspace's own target directory by default, so the main job's build (`cargo run -p
# cfx-sandbox`) is reused; .ci/run points all three at $HOME/.cache instead.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TERM_COLOR=never
# SBF builds keep their own target directories next to it, so later runs are incremental.
export SBF_TARGET_DIR=${SBF_TARGET_DIR:-$CARGO_TARGET_DIR/sbf-upstream}
export SBF_HARNESS_TARGET_DIR=${SBF_HARNESS_TARGET_DIR:-$CARGO_TARGET_DIR/sbf-harness}

log="$CARGO_TARGET_DIR/test-run.log"
mkdir -p "$CARGO_TARGET_DIR"
: > "$log"

echo "== native: cargo test --workspace"
cargo test --workspace --locked 2>&1 | tee -a "$log"

echo "== SBF: build programs and the book harness"
scripts/build-book-harness.sh
scripts/build-programs.sh

echo "== SBF: end-to-end tests against target/deploy"
export CFX_CU_DIR="$CARGO_TARGET_DIR/cu"
rm -rf "$CFX_CU_DIR"
# The integration tests of the whole workspace (the end-to-end suite and the keeper's), on the
# same build as the native pass.
SBF_OUT_DIR="$root/target/deploy" cargo test --workspace --locked --test '*' 2>&1 | tee -a "$log"
echo "== the README's main job on the SBF binaries (a short session, with compute units)"
# `--tests` so the features unify as in `cargo test --workspace` (dev-dependencies included) and
# the binaries are the ones the native pass built; a plain `--bins` rebuilt the Solana stack.
cargo build --workspace --locked --bins --tests
SBF_OUT_DIR="$root/target/deploy" "$CARGO_TARGET_DIR/debug/cfx-sandbox" --traders 10 --orders 400
echo "== IDL: the committed idl/*.json match the code"
python3 scripts/idl.py --check

echo "== the local validator suite (the binaries as separate processes, over JSON-RPC)"
validator=$(scripts/build-validator.sh)
# `--workspace`, as in the SBF pass, so the features unify as they did there and the test binary
# is the one already built (`-p cfx-tests` alone rebuilt the Solana stack: 3 minutes cold).
CFX_VALIDATOR="$validator" CFX_BIN_DIR="$CARGO_TARGET_DIR/debug" \
  SBF_OUT_DIR="$root/target/deploy" \
  cargo test --workspace --locked --test validator -- --ignored --nocapture 2>&1 | tee -a "$log"

echo "== compute units measured in the SBF pass"
cat "$CFX_CU_DIR"/*.md
# One closing line over both passes.
awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' "$log"
