#!/usr/bin/env bash
# The whole test suite: type check, lint, then every test file under node's test
# runner on loopback only, with deadlines (scripts/run-tests.sh).
# CI (or TESSERA_COVERAGE=1) measures branch coverage in that same run; CI (or
# TESSERA_TEST_NODE24=1) then runs the suite again on Node 24, which is fetched and
# built while the first run goes on: nothing after the set-up needs the network.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
coverage=false; { [ -n "${CI:-}" ] || [ "${TESSERA_COVERAGE:-}" = 1 ]; } && coverage=true
node24=false; { [ -n "${CI:-}" ] || [ "${TESSERA_TEST_NODE24:-}" = 1 ]; } && node24=true

prepared=
if $node24; then
  prepare_log=$(mktemp -t tessera-node24-prepare.XXXXXX)
  bash scripts/test-node24.sh --prepare >"$prepare_log" 2>&1 &
  prepared=$!
fi

echo "== typecheck"; npx tsc -p tsconfig.json
echo "== lint"; npx eslint .

# Each run's servers log to a directory of their own; the log scan (e2e/zz-*) runs last and reads them all.
export TESSERA_TEST_LOG_DIR="${TESSERA_TEST_LOG_DIR:-$(mktemp -d -t tessera-test-logs.XXXXXX)}"
mapfile -t files < <(bash scripts/test-files.sh)

# Branch coverage of the security-relevant code (zts, zms auth, core x509 + names), measured on the
# whole suite as it runs; the reporter fails the run below COVERAGE_MIN_BRANCHES (95).
runner=()
if $coverage; then
  runner=(--experimental-test-coverage --test-reporter=./scripts/coverage-reporter.mjs --test-reporter-destination=stdout)
fi
status=0
bash scripts/run-tests.sh "$(command -v node)" "${runner[@]}" -- "${files[@]}" || status=$?

if $node24; then
  echo "== the whole suite again on Node 24"
  if ! wait "$prepared"; then
    cat "$prepare_log"
    echo "== preparing Node 24 failed (above)"
    status=1
  else
    cat "$prepare_log"
    bash scripts/test-node24.sh || status=$?
  fi
fi
echo "== the suite took $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
exit "$status"
