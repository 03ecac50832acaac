#!/usr/bin/env bash
# Seeds a demo store on an empty database, then runs checkoutd in the foreground.
# Usage: run.sh BUILD_DIR HOST:PORT DB_URL   (called by `make run`)
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 BUILD_DIR HOST:PORT DB_URL" >&2; exit 2; }
build=$1 listen=$2 db=$3
"$build/checkoutctl" seed-demo --db "$db" --base-url "http://$listen"
exec "$build/checkoutd" --listen "$listen" --db "$db"
