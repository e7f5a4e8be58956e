#!/usr/bin/env bash
# Builds the local chain's release binary into the shared cargo target dir and prints its path.
# The workspace's release profile is tuned for contract Wasm (opt-level z, panic=abort, LTO);
# the server wants speed and must survive a panicking request, so those are overridden here.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$STARLING_ROOT/contracts"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=3
export CARGO_PROFILE_RELEASE_PANIC=unwind
export CARGO_PROFILE_RELEASE_LTO=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
export CARGO_PROFILE_RELEASE_STRIP=symbols
cargo build --release -p localnet --bin localnet >&2
echo "$CARGO_TARGET_DIR/release/localnet"
