#!/usr/bin/env bash
# Builds `cfx-test-validator` (validator/, its own workspace) and prints the binary's path.
# solana-test-validator builds rocksdb's bindings with libclang, installed here when missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
  apt-get install -y -q libclang-dev >&2 || sudo apt-get install -y -q libclang-dev >&2
fi
target=${VALIDATOR_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}/validator}
(cd "$root/validator" && CARGO_TARGET_DIR="$target" cargo build --locked >&2)
echo "$target/debug/cfx-test-validator"
