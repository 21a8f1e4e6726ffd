#!/usr/bin/env bash
# The whole test suite: type check, lint, then every test file under node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"; npx tsc -p tsconfig.json
echo "== lint"; npx eslint .

mapfile -t files < <(find packages e2e -name '*.test.ts' -not -path '*/node_modules/*' | sort)
echo "== ${#files[@]} test files"
# Branch coverage, measured in this same run (not a second one): node's usual report on stdout
# (TAP when not a terminal, with its closing "# tests/# pass/# fail" lines), then node's coverage
# table and the per-group table of scripts/coverage-reporter.mjs, which fails the run when zts,
# zms auth or core x509+names is below COVERAGE_MIN_BRANCHES (95). TESSERA_COVERAGE=0 skips it.
coverage=()
if [ "${TESSERA_COVERAGE:-1}" != 0 ]; then
  report=tap; [ -t 1 ] && report=spec
  coverage=(--experimental-test-coverage --test-reporter="$report" --test-reporter-destination=stdout
    --test-reporter=./scripts/coverage-reporter.mjs --test-reporter-destination=stdout)
fi
# One file at a time: the suites start real servers and share two cores.
exec node --import tsx --test --test-concurrency=1 "${coverage[@]}" "${files[@]}"
