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
validator=$(scripts/build-validator.sh)
cargo build --locked -p cfx-cli -p cfx-keeper -p cfx-migrations --bins
bin="$CARGO_TARGET_DIR/debug"

state="$root/.localnet"
rm -rf "$state/ledger" "$state/validator.out"
mkdir -p "$state"
"$validator" --ledger "$state/ledger" --rpc-port 8899 \
  --ports 8000-8030 --faucet-keypair "$state/faucet.json" \
  --program "APfbeQpvvPRcxFWfsrnybc7PVirEpczViKsfFApD6QMc=$root/target/deploy/compute_token.so" \
  --program "GR94sxjfjHPCKPwvRSZAaQA7WYs7wEPQzYTbMSBCBrZS=$root/target/deploy/compute_futures.so" \
  > "$state/validator.out" 2> "$state/validator.log" &
validator_pid=$!
trap 'kill $validator_pid 2>/dev/null || true' EXIT INT TERM
# It prints `ready <url>` once it serves RPC with the genesis programs usable.
for _ in $(seq 1 180); do
  grep -q '^ready' "$state/validator.out" && break
  kill -0 $validator_pid 2>/dev/null || { cat "$state/validator.log"; exit 1; }
  sleep 1
done
cat "$state/validator.out"
# One bootstrap run: its steps printed, the collateral mint taken from its report.
mint=$("$bin/cfx-migrate" -u localhost -k "$state/faucet.json" migrations/localnet.toml --json |
  python3 -c '
import json, sys
steps = json.load(sys.stdin)["steps"]
for s in steps:
    print("{:<40} {:<45} {}".format(s["what"], s["address"], s["status"]), file=sys.stderr)
print(next(s["address"] for s in steps if s["what"] == "collateral mint"))')
cat <<INFO

The exchange is up (collateral mint $mint; the faucet keypair, admin and mint authority,
is $state/faucet.json). In another shell:

  export CFX_COLLATERAL_MINT=$mint
  $bin/cfx -u localhost -k $state/faucet.json markets
  $bin/cfx -u localhost -k $state/faucet.json create-account     # the keeper's margin account
  $bin/keeper -u localhost -k $state/faucet.json --collateral-mint $mint --roles crank,expiry

Ctrl-C stops the validator.
INFO
wait $validator_pid
