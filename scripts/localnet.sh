#!/usr/bin/env bash
# A local validator session by hand, in one command: both programs deployed from target/deploy
# (built here when missing), the exchange of migrations/localnet.toml bootstrapped, and the
# validator left running (RPC on 127.0.0.1:8899) until Ctrl-C. Point `cfx` and `keeper` at it
# with the lines it prints.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
if [ ! -f target/deploy/compute_token.so ] || [ ! -f target/deploy/compute_futures.so ]; then
  scripts/build-programs.sh
fi
if ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
  apt-get install -y -q libclang-dev >/dev/null || sudo apt-get install -y -q libclang-dev >/dev/null
fi
validator_target=${VALIDATOR_TARGET_DIR:-$CARGO_TARGET_DIR/validator}
(cd validator && CARGO_TARGET_DIR="$validator_target" cargo build --locked)
cargo build --locked -p cfx-cli -p cfx-keeper -p cfx-migrations --bins
bin="$CARGO_TARGET_DIR/debug"

state="$root/.localnet"
rm -rf "$state/ledger" "$state/validator.out"
mkdir -p "$state"
"$validator_target/debug/cfx-test-validator" --ledger "$state/ledger" --rpc-port 8899 \
  --ports 8000-8030 --faucet-keypair "$state/faucet.json" \
  --program "APfbeQpvvPRcxFWfsrnybc7PVirEpczViKsfFApD6QMc=$root/target/deploy/compute_token.so" \
  --program "GR94sxjfjHPCKPwvRSZAaQA7WYs7wEPQzYTbMSBCBrZS=$root/target/deploy/compute_futures.so" \
  > "$state/validator.out" 2> "$state/validator.log" &
validator=$!
trap 'kill $validator 2>/dev/null || true' EXIT INT TERM
# It prints `ready <url>` once it serves RPC with the genesis programs usable.
for _ in $(seq 1 180); do
  grep -q '^ready' "$state/validator.out" && break
  kill -0 $validator 2>/dev/null || { cat "$state/validator.log"; exit 1; }
  sleep 1
done
cat "$state/validator.out"
"$bin/cfx-migrate" -u localhost -k "$state/faucet.json" migrations/localnet.toml
mint=$("$bin/cfx-migrate" -u localhost -k "$state/faucet.json" migrations/localnet.toml --json |
  python3 -c 'import json,sys; print(next(s["address"] for s in json.load(sys.stdin)["steps"] if s["what"] == "collateral mint"))')
cat <<INFO

The exchange is up (collateral mint $mint; the faucet keypair, admin and mint authority,
is $state/faucet.json). In another shell:

  export CFX_COLLATERAL_MINT=$mint
  $bin/cfx -u localhost -k $state/faucet.json markets
  $bin/cfx -u localhost -k $state/faucet.json create-account     # the keeper's margin account
  $bin/keeper -u localhost -k $state/faucet.json --collateral-mint $mint --roles crank,expiry

Ctrl-C stops the validator.
INFO
wait $validator
