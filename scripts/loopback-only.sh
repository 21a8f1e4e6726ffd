#!/usr/bin/env bash
# Runs a command where only loopback exists: a new network namespace holding
# just `lo` (so reaching any other address fails at once, loudly) and a new PID
# namespace (so nothing the command started outlives it, even after a kill).
# Needs root, as CI has; elsewhere it says so and runs the command as it is,
# unless CI is set. TESSERA_TEST_NETNS=0 turns it off.
set -euo pipefail
if [ "${TESSERA_TEST_NETNS:-1}" = 0 ]; then exec "$@"; fi
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
  if [ -n "${CI:-}" ]; then
    echo "loopback-only: CI runs the tests in a loopback-only namespace, which needs root, unshare (util-linux) and ip (iproute2)" >&2
    exit 1
  fi
  echo "loopback-only: not root (or no unshare/ip): the tests run with this machine's own network; 'sudo npm test' runs them on loopback only" >&2
  exec "$@"
fi
# bash stays PID 1 of the namespace (it reaps orphans); --kill-child ends the namespace with unshare.
exec unshare --net --pid --fork --kill-child --mount-proc -- bash -c 'ip link set lo up && "$@"' loopback-only "$@"
