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
# The workspace's own crates only; `--locked` so a stale Cargo.lock fails here, not later.
cargo test --locked --workspace "$@"
