#!/usr/bin/env bash
# Installs the Debian packages checkoutd needs to build, run and test.
# Idempotent and quiet when everything is present. Usage: install-deps.sh [run|test]
set -euo pipefail
mode=${1:-test}

pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev
      libsqlite3-dev libcurl4-openssl-dev libssl-dev libpq-dev curl)
if [ "$mode" = test ]; then
  pkgs+=(libcmocka-dev postgresql)
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
