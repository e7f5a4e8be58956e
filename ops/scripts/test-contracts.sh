#!/usr/bin/env bash
# Builds every contract to Wasm (ops/scripts/build-wasm.sh), then runs the contracts
# workspace's tests natively on the real Soroban host, with STARLING_WASM_DIR set so the tests
# that load the built .wasm files fail (not skip) when one is missing. Extra arguments go to
# `cargo test` (e.g. `-p starling-token`, or `-- --nocapture` to see the bench figures).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${STARLING_CACHE:-$HOME/.cache/starling}"
export CARGO_TARGET_DIR="$CACHE/cargo-target"

bash "$ROOT/ops/scripts/build-wasm.sh"

export STARLING_WASM_DIR="$ROOT/contracts/build"
cd "$ROOT/contracts"

# House rule: contracts fail with contract errors (panic_with_error!), never a bare panic!,
# unwrap() or expect() outside tests. Each contract's lib.rs denies those clippy lints; clippy
# enforces them here, or, where clippy cannot be installed, a grep over the non-test sources.
CONTRACT_CRATES=(starling-shared starling-analytics starling-token starling-certificate starling-governance)
if cargo clippy --version >/dev/null 2>&1 || rustup component add clippy >/dev/null 2>&1; then
  cargo clippy --quiet --locked --lib "${CONTRACT_CRATES[@]/#/--package=}"
else
  echo "test-contracts: clippy unavailable; checking the contract sources with grep" >&2
  if grep -nE '\bpanic!\(|\.unwrap\(\)|\.expect\(' \
    shared/src/{errors,guard,interfaces,lib,roles,ttl,validate}.rs \
    {analytics,token,certificate,governance}/src/lib.rs; then
    echo "test-contracts: bare panic!/unwrap()/expect() in contract code (use panic_with_error!)" >&2
    exit 1
  fi
fi

# The workspace's own crates only; `--locked` so a stale Cargo.lock fails here, not later.
cargo test --locked --workspace "$@"
