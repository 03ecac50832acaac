#!/usr/bin/env bash
# The long crash soak (issue 17, `make soak`): tests/api/test_soak.c with
# many journeys and crashes, on SQLite and then on PostgreSQL (a throwaway
# server of its own from scripts/pg.sh, in its own directory, stopped on
# exit; never the test server). Builds only the soak in BUILD_DIR (Release).
# Usage: scripts/soak.sh [BUILD_DIR]
# Environment: CKT_SOAK_JOURNEYS (default 300), CKT_SOAK_KILLS (default 20),
# CKT_SOAK_SEED (default: from the clock; printed, and the same seed is used
# for both backends). Exit status non-zero if either run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export CKT_SOAK_JOURNEYS=${CKT_SOAK_JOURNEYS:-300}
export CKT_SOAK_KILLS=${CKT_SOAK_KILLS:-20}
export CKT_SOAK_SEED=${CKT_SOAK_SEED:-$(($(date +%s) % 1000000007))}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCK_TESTS=ON >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target test_soak >/dev/null

status=0
echo "== soak on SQLite: $CKT_SOAK_JOURNEYS journeys, $CKT_SOAK_KILLS crashes, seed $CKT_SOAK_SEED"
"$build/tests/test_soak" || status=1

export CK_PG_DIR=${CK_PG_DIR:-/tmp/checkoutd-pg-soak}
CKT_PG_URL=$(scripts/pg.sh start)
export CKT_PG_URL
trap 'scripts/pg.sh stop' EXIT
echo "== soak on PostgreSQL ($CKT_PG_URL): $CKT_SOAK_JOURNEYS journeys, $CKT_SOAK_KILLS crashes, seed $CKT_SOAK_SEED"
CKT_BACKEND=postgres "$build/tests/test_soak" || status=1

[ "$status" -eq 0 ] && echo "== soak passed" || echo "== soak FAILED (seed $CKT_SOAK_SEED)"
exit "$status"
