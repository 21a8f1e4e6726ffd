#!/usr/bin/env bash
# The benchmarks (not tests): Tessera next to a peer (or its targets), measured in the same run.
# Arguments go to the signing benchmark; TESSERA_BENCH_ZMS_SIZES (e.g. 1000,10000) to the ZMS scale one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --quiet --bench
# Servers start from the build, as in production (one worker per core).
node packages/server/build.mjs
node --import tsx bench/cert-issuance.ts "$@"
node --import tsx bench/tls-floor.ts
node --import tsx bench/access-token.ts
node --import tsx bench/siad.ts
node --import tsx bench/zms-scale.ts ${TESSERA_BENCH_ZMS_SIZES:+--sizes "$TESSERA_BENCH_ZMS_SIZES"}
node --import tsx bench/zms-start.ts
