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
reports="$(mktemp -d)"
# Runs one vitest suite with a JSON report beside its usual output, then its plain summary line.
vitest_suite() {
  local label="$1"
  shift
  local status=0
  "$@" --reporter=default --reporter=json --outputFile.json="$reports/$label.json" || status=$?
  if [ -f "$reports/$label.json" ]; then node "$STARLING_ROOT/ops/test/summary.ts" "$reports/$label.json"; fi
  [ "$status" = 0 ] || exit "$status"
}

echo "== typescript tests"
vitest_suite typescript pnpm -s exec vitest run
echo "== web (svelte-check, build, unit, browser end-to-end)"
pnpm -s --filter @starling/web run check
pnpm -s --filter @starling/web run build >/dev/null
(cd web && vitest_suite web-unit pnpm -s exec vitest run --config vitest.config.ts)
(cd web && vitest_suite web-e2e pnpm -s exec vitest run --config vitest.e2e.config.ts)
echo "== summary (vitest suites; cargo's results are above)"
node ops/test/summary.ts "$reports"/*.json
