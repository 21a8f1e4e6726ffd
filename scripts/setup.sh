#!/usr/bin/env bash
# Installs what Tessera needs on a fresh machine: npm packages (when missing or
# stale), Debian's PostgreSQL (for the test suite's throwaway databases) and
# Chromium (for the UI tests), and builds the web UI when its build is missing
# or older than its sources. Safe to run again: it only does what is missing.
# --bench also installs what the benchmarks compare against (cfssl) or measure with (time).
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=false
bench=false
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=true ;;
    --bench) bench=true ;;
    *) echo "setup: unknown option $arg (--quiet, --bench)" >&2; exit 2 ;;
  esac
done
say() { $quiet || echo "setup: $*"; }

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required (found $(node --version))" >&2
  exit 1
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=false
apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "setup: $* missing and this is not a Debian-like system: install it by hand" >&2
    exit 1
  fi
  $apt_updated || { as_root apt-get update -qq; apt_updated=true; }
  echo "setup: installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL server binaries (initdb, postgres): tests start their own throwaway server.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_install postgresql
else
  say "PostgreSQL present"
fi

# openssl: tests check issued certificates with it.
command -v openssl >/dev/null || apt_install openssl

# Chromium: the UI tests drive Debian's build through playwright-core, which never downloads a browser.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
else
  say "Chromium present"
fi

# nginx: a real relying party in the tests (mTLS with Tessera's CA and CRL).
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx
# nginx's stream module and pgbouncer: the three-replica test (e2e/scale-out.test.ts) passes ZTS's
# mutual TLS through nginx untouched, and runs the replicas through pgbouncer in transaction mode.
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || apt_install libnginx-mod-stream
[ -x /usr/sbin/pgbouncer ] || apt_install pgbouncer

# Prometheus and promtool: the metrics tests start their own Prometheus (never the system service).
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  apt_install prometheus
else
  say "Prometheus present"
fi

# Python's grpcio and grpc-tools: the siad socket tests drive the Workload API with a client generated from its .proto.
if ! /usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null; then
  apt_install python3-grpcio python3-grpc-tools
else
  say "python3-grpcio and python3-grpc-tools present"
fi

# cfssl: the peer the signing benchmark measures next to Tessera.
if $bench && ! command -v cfssl >/dev/null; then
  apt_install golang-cfssl
fi

# time (/usr/bin/time): the siad benchmark reads each run's peak memory from it.
if $bench && [ ! -x /usr/bin/time ]; then
  apt_install time
fi

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (better-sqlite3 compiles from source: a few minutes the first time)"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm packages up to date"
fi

# The web UI (served by `tessera serve` at /): built when packages/ui/dist is
# missing or any of its sources is newer (the server-side code in src/server aside).
ui=packages/ui
if [ ! -f $ui/dist/index.html ] ||
  [ -n "$(find $ui/src $ui/public $ui/index.html $ui/vite.config.ts -path $ui/src/server -prune -o -newer $ui/dist/index.html -print -quit)" ]; then
  echo "setup: building the web UI"
  npm run build -w $ui --silent >/dev/null
else
  say "web UI build up to date"
fi
