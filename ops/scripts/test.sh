#!/usr/bin/env bash
# The README's second command: sets up and runs every test. Postgres and Redis are real, started
# on private ports by the test harness and stopped afterwards.
# The web's browser tests drive Debian's Chromium; prereqs.sh installs it on a fresh machine.
export STARLING_NEED_CHROMIUM=1
source "$(dirname "${BASH_SOURCE[0]}")/prereqs.sh"
cd "$STARLING_ROOT"

echo "== typecheck"
pnpm -s typecheck
echo "== lint"
pnpm -s exec eslint .
pnpm -s exec prettier --check . --log-level warn
if [ -f ops/scripts/test-contracts.sh ]; then
  echo "== contracts"
  bash ops/scripts/test-contracts.sh
fi
echo "== typescript tests"
report="$(mktemp -d)/vitest.json"
status=0
pnpm -s exec vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
if [ -f "$report" ]; then node ops/test/summary.ts "$report" typescript; fi
[ "$status" = 0 ] || exit "$status"
echo "== web (svelte-check, build, unit, browser end-to-end)"
pnpm -s --filter @starling/web run check
pnpm -s --filter @starling/web run build >/dev/null
pnpm -s --filter @starling/web run test:unit
pnpm -s --filter @starling/web run test:e2e
