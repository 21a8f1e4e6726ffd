#!/usr/bin/env bash
# The whole test suite: type check, lint, then every test file under node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"; npx tsc -p tsconfig.json
echo "== lint"; npx eslint .

# Each run's servers log to a directory of their own; the log scan (e2e/zz-*) runs last and reads them all.
export TESSERA_TEST_LOG_DIR="${TESSERA_TEST_LOG_DIR:-$(mktemp -d -t tessera-test-logs.XXXXXX)}"
mapfile -t files < <(find packages e2e -name '*.test.ts' -not -path '*/node_modules/*' -not -name 'zz-*' | sort; find e2e -name 'zz-*.test.ts' | sort)
echo "== ${#files[@]} test files"
# One file at a time: the suites start real servers and share two cores.
node --import tsx --test --test-concurrency=1 "${files[@]}"

# CI (and TESSERA_COVERAGE=1) measures branch coverage of the security-relevant code (zts, zms auth,
# core x509 + names) on the tests that exercise it, and fails below COVERAGE_MIN_BRANCHES (95).
if [ -n "${CI:-}" ] || [ "${TESSERA_COVERAGE:-}" = 1 ]; then
  echo "== branch coverage of the security-relevant code"
  bash scripts/coverage.sh
fi

# CI (and TESSERA_TEST_NODE24=1) runs the whole suite again on Node 24, from npm's node@24.
if [ -n "${CI:-}" ] || [ "${TESSERA_TEST_NODE24:-}" = 1 ]; then
  echo "== the whole suite again on Node 24"
  bash scripts/test-node24.sh
fi
