#!/usr/bin/env bash
# The whole test suite: type check, lint, then every test file under node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"; npx tsc -p tsconfig.json
echo "== lint"; npx eslint .

mapfile -t files < <(find packages e2e -name '*.test.ts' -not -path '*/node_modules/*' | sort)
echo "== ${#files[@]} test files"
# One file at a time: the suites start real servers and share two cores.
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
