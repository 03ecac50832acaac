#!/usr/bin/env bash
# Installs the Debian packages checkoutd needs to build, run and test.
# Idempotent and quiet when everything is present. Usage: install-deps.sh [run|test|fuzz]
set -euo pipefail
mode=${1:-test}

# run (`make run`): what builds checkoutd and checkoutctl, and what they need
# at run time. ca-certificates: libcurl's CA bundle for https gateways and
# webhooks (not pulled in without recommends). curl: make run prints curl
# commands to try. liblua5.4-dev: the Lua 5.4 that runs flows' lua steps.
# libjs-chart.js: Chart.js, which the build embeds in the admin dashboard.
pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev
      libsqlite3-dev libcurl4-openssl-dev libssl-dev libpq-dev liblua5.4-dev ca-certificates curl
      libjs-chart.js)
# test (`make test`): also what the tests and scripts/test.sh use.
#   libcmocka-dev  the test framework (tests/CMakeLists.txt)
#   postgresql     initdb and pg_ctl for scripts/pg.sh
#   util-linux     runuser, with which pg.sh runs the server as postgres when root
#   sqlite3        the CLI that test_ctl and test_events shell out to
#   strace         make bench counts the daemon's fsyncs per placement with strace -c
#   curl           test_ctl runs the curl commands seed-demo prints
#   prometheus     promtool (/usr/bin/promtool), to check /metrics
#   systemd        systemd-analyze, to verify packaging/checkoutd.service
#   nodejs npm     npm ci installs tests/jsforce (jsforce, and the Node 22 it runs on); only when no npm is on PATH (NodeSource's nodejs bundles npm and conflicts with Debian's)
#   chromium       the browser tests/dashboard drives headless with playwright-core (which downloads no browser of its own)
#   openssl        the CLI with which test_tls makes its certificate
# The sanitizers' runtimes (libasan, libubsan) come with build-essential's gcc.
# fuzz (`make fuzz`): also clang and its libFuzzer runtime (libclang-rt-14-dev).
if [ "$mode" = test ] || [ "$mode" = fuzz ]; then
  pkgs+=(libcmocka-dev postgresql util-linux sqlite3 strace prometheus systemd chromium openssl)
  command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
  [ "$mode" = fuzz ] && pkgs+=(clang libclang-rt-14-dev)
elif [ "$mode" != run ]; then
  echo "usage: $0 [run|test|fuzz]" >&2
  exit 2
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
