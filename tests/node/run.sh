#!/usr/bin/env bash
# Runs one Node interop script of tests/node against hush-cli; fails (never skips) when node or the
# pinned libsignal package is missing, saying how to install them.
# usage: bash tests/node/run.sh SCRIPT path/to/hush-cli
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script=${1:?usage: run.sh SCRIPT path/to/hush-cli}
cli=${2:?usage: run.sh SCRIPT path/to/hush-cli}
command -v node >/dev/null || { echo "FAIL: no node; run tools/install-deps.sh --test" >&2; exit 1; }
pkg=$here/node_modules/@signalapp/libsignal-client/package.json
if [[ ! -f $pkg ]] || ! grep -q '"version": "0.103.0"' "$pkg"; then
  echo "FAIL: @signalapp/libsignal-client 0.103.0 is not installed in tests/node;" \
    "run tools/install-deps.sh --test (or npm ci in tests/node)" >&2
  exit 1
fi
exec node "$here/$script" "$cli"
