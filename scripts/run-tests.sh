#!/usr/bin/env bash
# Runs test files under node's test runner on loopback only (scripts/loopback-only.sh),
# one file at a time, with deadlines: TESSERA_TEST_TIMEOUT seconds (default 300) for
# each test file and each test in it, TESSERA_TEST_RUN_TIMEOUT (default 2400) for the
# whole run. On a failure it lists the tests that began and never finished (a hang),
# and it always lists the slowest files.
# Usage: run-tests.sh <node binary> [runner options ...] -- <test files ...>
set -euo pipefail
cd "$(dirname "$0")/.."
node=$1; shift
opts=()
while [ "$1" != -- ]; do opts+=("$1"); shift; done
shift
per_test=${TESSERA_TEST_TIMEOUT:-300}
run_limit=${TESSERA_TEST_RUN_TIMEOUT:-2400}
progress=$(mktemp -t tessera-test-progress.XXXXXX)
trap 'rm -f "$progress"' EXIT

echo "== $# test files on Node $("$node" --version), each file within ${per_test} s, the run within ${run_limit} s"
status=0
timeout --kill-after=30 "$run_limit" bash scripts/loopback-only.sh "$node" --import tsx --test --test-concurrency=1 \
  --test-timeout="$((per_test * 1000))" "${opts[@]}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./scripts/test-progress-reporter.mjs --test-reporter-destination="$progress" \
  "$@" || status=$?

stopped=
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  echo "== the run passed its deadline of ${run_limit} s (TESSERA_TEST_RUN_TIMEOUT) and was stopped"
  stopped=stopped
fi
unfinished=$(node scripts/test-progress.mjs unfinished "$progress" $stopped)
if [ "$status" != 0 ] && [ -n "$unfinished" ]; then
  echo "== tests that began and never finished:"
  echo "$unfinished"
fi
echo "== slowest test files:"
node scripts/test-progress.mjs slowest "$progress" 8
exit "$status"
