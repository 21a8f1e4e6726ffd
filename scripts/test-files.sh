#!/usr/bin/env bash
# Every test file of the suite, one a line; the log scan (e2e/zz-*) last, since it reads the others' logs.
set -euo pipefail
cd "$(dirname "$0")/.."
find packages e2e -name '*.test.ts' -not -path '*/node_modules/*' -not -name 'zz-*' | sort
find e2e -name 'zz-*.test.ts' | sort
