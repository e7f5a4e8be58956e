#!/usr/bin/env bash
# The README's first command: sets up a fresh machine and starts the whole system.
source "$(dirname "${BASH_SOURCE[0]}")/prereqs.sh"
cd "$STARLING_ROOT"
exec node ops/start/start.ts
