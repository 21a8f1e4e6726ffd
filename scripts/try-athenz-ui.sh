#!/usr/bin/env bash
# Runs Athenz's own UI (ui/ of AthenZ/athenz) against `tessera serve`, on
# loopback, as its dev setup (ui/scripts/setup_dev_ui.sh) would do against
# Athenz's ZMS. Not part of `npm test`: it needs npm and a copy of the UI.
#
#   git --git-dir=<athenz clone>/.git archive HEAD:ui | tar -x -C /tmp/athenz-ui
#   scripts/try-athenz-ui.sh /tmp/athenz-ui [data-dir]
#
# It installs and builds the UI when its build is missing (npm ci
# --ignore-scripts; next build), makes the UI's keys, writes its athenz.conf,
# extended-config.js and users_data.json, starts `tessera serve` with
# --authorized-services athenz.ui-server and --cors-origins <the UI's origin>,
# registers athenz.ui-server's key in ZMS, creates a user and a domain, starts
# the UI and prints its URL. Ctrl-C stops both.
#
# The UI copy gets one patch for a bug of its own (see docs/ui.md):
# src/server/clients.js calls setOktaCookieinClients, which it never defines.
#
# Env: UI_PORT (3000), ZMS_PORT (4443), ZTS_PORT (8443),
# TESSERA_ADMIN_PASSWORD (admin's password; default admin-password),
# TRY_USER / TRY_PASSWORD (a second user; default jane / jane-password).
set -euo pipefail
ui=${1:?usage: try-athenz-ui.sh <athenz-ui-dir> [data-dir]}
ui=$(cd "$ui" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${2:-$(mktemp -d /tmp/tessera-athenz-ui.XXXXXX)}
mkdir -p "$data"
data=$(cd "$data" && pwd)
UI_PORT=${UI_PORT:-3000}
ZMS_PORT=${ZMS_PORT:-4443}
ZTS_PORT=${ZTS_PORT:-8443}
ADMIN_PASSWORD=${TESSERA_ADMIN_PASSWORD:-admin-password}
TRY_USER=${TRY_USER:-jane}
TRY_PASSWORD=${TRY_PASSWORD:-jane-password}
ui_origin="https://localhost:$UI_PORT"
zms="https://localhost:$ZMS_PORT/zms/v1"
say() { echo "try-athenz-ui: $*"; }

[ -f "$ui/app.js" ] && [ -f "$ui/src/config/zms.json" ] || { echo "try-athenz-ui: $ui is not Athenz's ui/ directory" >&2; exit 2; }

# The UI's own bug: clients.js uses setOktaCookieinClients without defining it (every page is a 500).
if ! grep -q 'function setOktaCookieinClients\|const setOktaCookieinClients' "$ui/src/server/clients.js"; then
  say "patching src/server/clients.js: define setOktaCookieinClients (the UI calls it, never defines it)"
  printf '\n// tessera try-athenz-ui: the UI calls this but never defines it.\nconst setOktaCookieinClients = setCookieinClients;\n' >> "$ui/src/server/clients.js"
fi

if [ ! -d "$ui/node_modules" ]; then
  say "npm ci --ignore-scripts in $ui"
  (cd "$ui" && npm ci --ignore-scripts --no-audit --no-fund)
fi
if [ ! -f "$ui/.next/BUILD_ID" ]; then
  say "building the UI (next build; a few minutes)"
  (cd "$ui" && NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 npx next build)
fi

# Keys, as setup_dev_ui.sh makes them: the UI's service key pair, its TLS key
# and certificate (localhost), the cookie-session secret, an (empty) MSD token.
keys="$ui/keys"
mkdir -p "$keys"
if [ ! -f "$keys/athenz.ui-server.pem" ]; then
  openssl genrsa -out "$keys/athenz.ui-server.pem" 2048 2>/dev/null
  openssl rsa -in "$keys/athenz.ui-server.pem" -pubout -out "$keys/athenz.ui-server_pub.pem" 2>/dev/null
fi
if [ ! -f "$keys/ui_cert.pem" ]; then
  openssl req -x509 -nodes -newkey rsa:2048 -keyout "$keys/ui_key.pem" -out "$keys/ui_cert.pem" -days 30 \
    -subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' 2>/dev/null
fi
[ -f "$keys/cookie-session" ] || head -c 24 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9' > "$keys/cookie-session"
touch "$keys/msd-api-access-token"

# Tessera, with the UI's service allowed to carry user tokens and the UI's origin allowed to log in.
say "starting tessera serve (data in $data; log in $data/tessera.log)"
TESSERA_ADMIN_PASSWORD=$ADMIN_PASSWORD node "$repo/packages/server/bin/tessera.js" serve --data-dir "$data" \
  --zms-port "$ZMS_PORT" --zts-port "$ZTS_PORT" --log-format json --log-level "${TESSERA_LOG_LEVEL:-debug}" \
  --authorized-services athenz.ui-server --cors-origins "$ui_origin" > "$data/tessera.log" 2>&1 &
tessera_pid=$!
ui_pid=
stop() {
  [ -n "$ui_pid" ] && kill "$ui_pid" 2>/dev/null
  kill "$tessera_pid" 2>/dev/null
  wait 2>/dev/null
}
trap stop EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 300); do
  grep -q '^  Store ' "$data/tessera.log" 2>/dev/null && break
  kill -0 "$tessera_pid" 2>/dev/null || { cat "$data/tessera.log" >&2; exit 1; }
  sleep 0.2
done
ca="$data/ca.cert.pem"
call() { curl -sS --fail-with-body --cacert "$ca" "$@"; }
token=$(call -u "admin:$ADMIN_PASSWORD" "$zms/user/_self_/token" | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
admin() { local method=$1 path=$2; shift 2; call -X "$method" -H "Authorization: Bearer $token" -H 'content-type: application/json' "$zms$path" "$@"; }
# Athenz's YBase64 of a PEM file.
ybase64() { base64 -w0 < "$1" | tr '+/=' '._-'; }

say "registering athenz.ui-server (key 0) in ZMS; user $TRY_USER; domain sports"
admin PUT /domain/athenz/service/ui-server \
  -d "{\"name\":\"athenz.ui-server\",\"publicKeys\":[{\"id\":\"0\",\"key\":\"$(ybase64 "$keys/athenz.ui-server_pub.pem")\"}]}"
admin PUT "/user/$TRY_USER/password" -d "{\"password\":\"$TRY_PASSWORD\"}"
admin GET /domain/sports >/dev/null 2>&1 ||
  admin POST /domain -d "{\"name\":\"sports\",\"adminUsers\":[\"user.admin\",\"user.$TRY_USER\"]}" >/dev/null

# athenz.conf: ZMS's published key (sys.auth.zms), which the UI checks user tokens with.
zms_keys=$(admin GET /domain/sys.auth/service/zms | node -pe 'JSON.stringify(JSON.parse(require("fs").readFileSync(0)).publicKeys)')
cat > "$ui/src/config/athenz.conf" <<EOF
{ "zmsUrl": "https://localhost:$ZMS_PORT/", "ztsUrl": "https://localhost:$ZTS_PORT/", "zmsPublicKeys": $zms_keys }
EOF
cat > "$ui/src/config/users_data.json" <<EOF
[
  { "is_human": 1, "login": "admin", "gecos": "Tessera Admin", "enabled_status": 1 },
  { "is_human": 1, "login": "$TRY_USER", "gecos": "$TRY_USER", "enabled_status": 1 }
]
EOF
# Overrides of the UI's default-config.js 'local' environment. Every service
# URL is Tessera's on loopback (MSD and UMS, which Tessera does not have, also
# point there, so their calls get a quick 404 rather than leaving the machine).
cat > "$ui/src/config/extended-config.js" <<EOF
// Written by tessera's scripts/try-athenz-ui.sh.
module.exports = function () {
    return {
        zms: '$zms/',
        zmsLoginUrl: '$zms/',
        zmsConnectSrcUrl: 'https://localhost:$ZMS_PORT',
        zts: 'https://localhost:$ZTS_PORT/zts/v1/',
        msd: 'https://localhost:$ZMS_PORT/msd/v1/',
        ums: 'https://localhost:$ZMS_PORT/ums/v1/',
        cloud_sso: '$zms/',
        port: $UI_PORT,
        allowedDevOrigins: ['localhost'],
        msdAuthHeaderPath: '$keys/msd-api-access-token',
        // The default lists IANA names that Node 20 / OpenSSL 3 reject (no TLS handshake at all).
        serverCipherSuites: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
        // Templates for a new personal domain: the default names 'openhouse', which neither Athenz's ZMS nor Tessera has.
        templates: [],
        // Tessera's AWS providers are athenz.aws.<region>; the template is Tessera's aws_instance_launch_provider.
        allProviders: [
            { id: 'aws_instance_launch_provider', name: 'AWS EC2/EKS/Fargate launches instances for the service', service: 'athenz.aws.us-west-2' },
        ],
    };
};
EOF

say "starting the UI (log in $data/ui.log)"
(cd "$ui" && NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 NODE_EXTRA_CA_CERTS="$ca" PORT="$UI_PORT" \
  DEBUG="${DEBUG:-AthenzUI:*}" exec node app.js > "$data/ui.log" 2>&1) &
ui_pid=$!
for _ in $(seq 1 300); do
  curl -sk -o /dev/null "$ui_origin/status" && break
  kill -0 "$ui_pid" 2>/dev/null || { cat "$data/ui.log" >&2; exit 1; }
  sleep 0.5
done
cat <<EOF

Athenz UI:  $ui_origin/   (log in as admin / $ADMIN_PASSWORD or $TRY_USER / $TRY_PASSWORD)
ZMS:        $zms   (the browser calls it directly to log in: trust $ca, or accept its certificate once at $zms/status)
Logs:       $data/tessera.log  $data/ui.log
Ctrl-C stops both.
EOF
wait "$ui_pid"
