#!/usr/bin/env bash
# Branch coverage of the security-relevant code (packages/zts, packages/zms/src/auth,
# packages/core/src/x509, core names.ts and principal-token.ts), measured by Node's test runner on the
# tests that exercise it; fails when a group is below COVERAGE_MIN_BRANCHES (default 95).
# scripts/test.sh measures the same on the whole suite as it runs (CI); this is the quicker check.
# Usage: bash scripts/coverage.sh [extra test files...]
set -euo pipefail
cd "$(dirname "$0")/.."

tests=(
  e2e/attack/*.test.ts
  packages/zts/test/*.test.ts
  packages/server/test/zts-instances.test.ts
  packages/server/test/zts-tokens.test.ts
  packages/server/test/token-keys.test.ts
  packages/server/test/zms-refusals.test.ts
  packages/server/test/zms-session.test.ts
  packages/server/test/zms-workflow.test.ts
  packages/server/test/zms-user-tokens.test.ts
  packages/server/test/zts-principal-tokens.test.ts
  packages/core/test/x509-*.test.ts
  packages/core/test/principal-token.test.ts
  "$@"
)

exec bash scripts/run-tests.sh "$(command -v node)" --experimental-test-coverage \
  --test-reporter=./scripts/coverage-reporter.mjs --test-reporter-destination=stdout -- "${tests[@]}"
