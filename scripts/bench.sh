#!/usr/bin/env bash
# The benchmarks (not tests): Tessera next to a peer, measured in the same run. Arguments go to the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --quiet --bench
node --import tsx bench/cert-issuance.ts "$@"
node --import tsx bench/access-token.ts "$@"
