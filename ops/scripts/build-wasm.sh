#!/usr/bin/env bash
# Builds every Starling contract to wasm32v1-none, optimises it with wasm-opt and checks it:
# valid under Soroban's feature set (MVP + mutable-globals + sign-ext + bulk-memory), no
# floating-point instructions, contract metadata sections present. Writes
# contracts/build/<name>.wasm and prints each size.
#
# Toolchain: rustup's wasm32v1-none target when `rustup target add` works; otherwise Debian's
# rustc-web with a private core/alloc sysroot (see shared/reference/wasm-toolchain.md), cached
# under $STARLING_CACHE (default ~/.cache/starling) and keyed on `rustc -vV`.
# STARLING_WASM_TOOLCHAIN=debian forces the Debian route.
# Idempotent: unchanged sources rebuild nothing. Cargo output goes to
# $STARLING_CACHE/cargo-target, outside the clone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONTRACTS="$ROOT/contracts"
OUT="$CONTRACTS/build"
CACHE="${STARLING_CACHE:-$HOME/.cache/starling}"
export CARGO_TARGET_DIR="$CACHE/cargo-target"
# Contract crates (directory names; packages are starling-<name>). shared is a library.
CONTRACT_NAMES=(analytics token certificate governance)
TARGET=wasm32v1-none
# soroban-sdk 28 refuses Wasm builds unless the build system says it shakes specs (v2).
export SOROBAN_SDK_BUILD_SYSTEM_SUPPORTS_SPEC_SHAKING_V2=1

log() { printf 'build-wasm: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "missing $* and no apt-get to install it"
  if [ "$APT_UPDATED" = 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    APT_UPDATED=1
  fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

ensure_tools() {
  local missing=()
  command -v wasm-opt >/dev/null || missing+=(binaryen)
  { command -v wasm-validate >/dev/null && command -v wasm-objdump >/dev/null; } || missing+=(wabt)
  [ "${#missing[@]}" = 0 ] || apt_install "${missing[@]}"
}

# Prints the cargo environment for the chosen toolchain as `KEY=VALUE` lines.
choose_toolchain() {
  # STARLING_WASM_TOOLCHAIN=debian forces the fallback (to test it where rustup works).
  if [ "${STARLING_WASM_TOOLCHAIN:-}" != debian ] && command -v rustup >/dev/null && rustup target add "$TARGET" >/dev/null 2>&1; then
    local libdir
    libdir="$(rustc --print target-libdir --target "$TARGET" 2>/dev/null || true)"
    if [ -n "$libdir" ] && ls "$libdir"/libcore-*.rlib >/dev/null 2>&1; then
      log "toolchain: rustup $(rustc -V | cut -d' ' -f2) with target $TARGET"
      TOOLCHAIN_ENV=()
      return
    fi
  fi
  log "rustup cannot provide $TARGET here; using Debian's rustc-web with a private sysroot"
  debian_toolchain
}

debian_toolchain() {
  local pkgs=()
  [ -x /usr/bin/rustc ] && /usr/bin/rustc -V 2>/dev/null | grep -q . || pkgs+=(rustc-web cargo-web)
  [ -d /usr/lib/rustlib/src/rust/library ] || pkgs+=(rust-web-src)
  command -v wasm-ld-22 >/dev/null || pkgs+=(lld-22)
  [ "${#pkgs[@]}" = 0 ] || apt_install "${pkgs[@]}"
  local tc=starling-debian
  if command -v rustup >/dev/null; then
    rustup toolchain list | grep -q "^$tc" || rustup toolchain link "$tc" /usr >&2
    export RUSTUP_TOOLCHAIN="$tc"
  fi
  local key sysroot
  key="$(/usr/bin/rustc -vV | sha256sum | cut -c1-16)"
  sysroot="$CACHE/wasm-sysroot/$key"
  local libdir="$sysroot/lib/rustlib/$TARGET/lib"
  if ! ls "$libdir"/libcore-*.rlib >/dev/null 2>&1; then
    log "building core/alloc for $TARGET into $sysroot (once per rustc)"
    local work="$CACHE/wasm-sysroot/work-$key"
    rm -rf "$work" && mkdir -p "$work/src" "$work/.cargo"
    cat >"$work/Cargo.toml" <<'TOML'
[package]
name = "sysroot-probe"
version = "0.0.0"
edition = "2021"
[lib]
path = "src/lib.rs"
[profile.release]
opt-level = "z"
panic = "abort"
TOML
    echo '#![no_std]' >"$work/src/lib.rs"
    cat >"$work/.cargo/config.toml" <<'TOML'
[source.crates-io]
replace-with = "rust-vendor"
[source.rust-vendor]
directory = "/usr/lib/rustlib/src/rust/library/vendor"
TOML
    (cd "$work" && RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cembed-bitcode=yes" CARGO_TARGET_DIR="$work/target" \
      /usr/bin/cargo build --offline --release --target "$TARGET" -Zbuild-std=core,alloc >&2)
    mkdir -p "$libdir" "$sysroot/lib/rustlib"
    local deps="$work/target/$TARGET/release/deps"
    cp "$deps"/libcore-*.rlib "$deps"/liballoc-*.rlib "$deps"/libcompiler_builtins-*.rlib "$libdir/"
    ln -sfn /usr/lib/rustlib/x86_64-unknown-linux-gnu "$sysroot/lib/rustlib/x86_64-unknown-linux-gnu"
    rm -rf "$work"
  fi
  TOOLCHAIN_ENV=(
    "CARGO_TARGET_WASM32V1_NONE_LINKER=wasm-ld-22"
    "CARGO_TARGET_WASM32V1_NONE_RUSTFLAGS=--sysroot=$sysroot"
  )
  # Keep Debian's artefacts apart from rustup's so neither invalidates the other.
  export CARGO_TARGET_DIR="$CACHE/cargo-target-debian"
  CARGO_BIN=/usr/bin/cargo
}

check_wasm() {
  local name="$1" file="$2"
  # Soroban's feature set: MVP + mutable-globals + sign-ext + bulk-memory, nothing else.
  wasm-validate --disable-saturating-float-to-int --disable-simd --disable-multi-value \
    --disable-reference-types "$file" \
    || die "$name.wasm is not valid under Soroban's Wasm features"
  local floats
  floats="$( { wasm-objdump -d "$file"; wasm-objdump -x -j Type "$file"; } | grep -cE '\b(f32|f64)\b' || true)"
  [ "$floats" = 0 ] || die "$name.wasm contains $floats floating-point instructions or types"
  local headers
  headers="$(wasm-objdump -h "$file")"
  for section in contractenvmetav0 contractspecv0 contractmetav0; do
    grep -q "\"$section\"" <<<"$headers" || die "$name.wasm lacks the $section section"
  done
}

build_strip_tool() {
  (cd "$CONTRACTS" && env ${TOOLCHAIN_ENV[@]+"${TOOLCHAIN_ENV[@]}"} "$1" build --quiet --locked \
    -p starling-shared --features testutils --bin strip-spec-docs) \
    || die "cannot build strip-spec-docs"
}

main() {
  ensure_tools
  # Host tool that shakes unused entries out of the contract spec and empties its docs. Built
  # with the default toolchain into the tests' target dir, before a fallback toolchain is
  # chosen, so it shares the test build's host artefacts.
  local strip_tool="$CARGO_TARGET_DIR/debug/strip-spec-docs"
  if command -v cargo >/dev/null; then
    build_strip_tool cargo
  fi
  CARGO_BIN=cargo
  TOOLCHAIN_ENV=()
  choose_toolchain
  if [ ! -x "$strip_tool" ]; then
    strip_tool="$CARGO_TARGET_DIR/debug/strip-spec-docs"
    build_strip_tool "$CARGO_BIN"
  fi
  mkdir -p "$OUT"
  local name pkg raw
  for name in "${CONTRACT_NAMES[@]}"; do
    pkg="starling-$name"
    (cd "$CONTRACTS" && env ${TOOLCHAIN_ENV[@]+"${TOOLCHAIN_ENV[@]}"} "$CARGO_BIN" rustc --quiet \
      --locked --release --target "$TARGET" -p "$pkg" --crate-type=cdylib) \
      || die "cargo build of $pkg failed"
    raw="$CARGO_TARGET_DIR/$TARGET/release/${pkg//-/_}.wasm"
    [ -f "$raw" ] || die "no Wasm produced at $raw"
    # Re-optimise only when the compiler output or the strip tool changed (stamp = hashes).
    local stamp="$OUT/.$name.stamp" want
    want="$(sha256sum "$raw" "$strip_tool" | cut -c1-64 | tr '\n' ' ')"
    if [ ! -f "$OUT/$name.wasm" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
      "$strip_tool" "$raw" "$OUT/$name.stripped.tmp"
      wasm-opt -Oz --mvp-features --enable-mutable-globals --enable-sign-ext \
        --enable-bulk-memory "$OUT/$name.stripped.tmp" -o "$OUT/$name.wasm.tmp"
      rm -f "$OUT/$name.stripped.tmp"
      mv "$OUT/$name.wasm.tmp" "$OUT/$name.wasm"
      printf '%s' "$want" >"$stamp"
    fi
    check_wasm "$name" "$OUT/$name.wasm"
    printf '%-12s %7d bytes (%5.1f KiB; unoptimised %d)\n' "$name" \
      "$(stat -c %s "$OUT/$name.wasm")" \
      "$(awk -v s="$(stat -c %s "$OUT/$name.wasm")" 'BEGIN{printf "%.1f", s/1024}')" \
      "$(stat -c %s "$raw")"
  done
  log "ok: contracts/build/*.wasm"
}

main "$@"
