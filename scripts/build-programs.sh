#!/usr/bin/env bash
# Both programs built to SBF (target/deploy/*.so) with the stand-in toolchain
# (../shared/tools/sbf-upstream; platform-tools users run `anchor build` instead).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sbf_tool="$root/../shared/tools/sbf-upstream"
# One program per build, each binary kept from its own build: compute-futures links compute-token
# with `cpi` (no entrypoint), and that build also leaves a compute_token.so without an entrypoint.
built=$(mktemp -d)
for dir in programs/*/; do
  [ -f "$dir/Cargo.toml" ] || continue
  name=$(basename "$dir")
  "$sbf_tool/build.sh" -p "$name" --features "$name/upstream-sbf"
  cp "target/deploy/${name//-/_}.so" "$built/"
done
cp "$built"/*.so target/deploy/
rm -rf "$built"
