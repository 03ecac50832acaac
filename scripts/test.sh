#!/usr/bin/env bash
# Builds and runs every test twice: a Release build in build/, then a Debug
# build with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/.
# Most API suites run on SQLite and again on PostgreSQL (scripts/pg.sh).
# Between the two, the layer check (scripts/layercheck.sh, scripts/sqlcheck.sh)
# counts as one test.
# Both runs always happen; the exit status is non-zero if either failed. The
# last line is "N passed, N failed" summed over both runs (a build that fails
# counts as one failure). Called by `make test`; works on a fresh clone.
# BUILD and ASAN_BUILD (as in the Makefile) choose other build directories.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build} asan_build=${ASAN_BUILD:-build-asan}
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 status=0

# A throwaway PostgreSQL server on 127.0.0.1 for the suites that run on both
# backends; stopped on every exit path.
CKT_PG_URL=$(scripts/pg.sh start)
export CKT_PG_URL
trap 'scripts/pg.sh stop' EXIT

# run_suite NAME BUILD_DIR CMAKE_ARGS...: configure, build, ctest; adds to the totals.
run_suite() {
  local name=$1 dir=$2
  shift 2
  echo "== $name: configure and build in $dir"
  local blog
  blog=$(mktemp)
  if ! { cmake -S . -B "$dir" "$@" && cmake --build "$dir" -j "$jobs"; } >"$blog" 2>&1; then
    tail -n 60 "$blog"
    rm -f "$blog"
    echo "== $name: build FAILED"
    failed=$((failed + 1)) status=1
    return
  fi
  rm -f "$blog"
  echo "== $name: ctest"
  local log="$dir/ctest-output.log" rc=0
  (cd "$dir" && ctest --output-on-failure -j2) 2>&1 | tee "$log" || rc=$?
  # "95% tests passed, 1 tests failed out of 20"
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [ -n "$line" ]; then
    local f t
    f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + t - f)) failed=$((failed + f))
    [ "$f" -eq 0 ] || status=1
  elif [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
  fi
  [ "$rc" -eq 0 ] || status=1
}

# -DCK_TESTS=ON: `make run` configures the same build directory without tests,
# and CMake would keep that choice in its cache.
run_suite release "$build" -DCMAKE_BUILD_TYPE=Release -DCK_TESTS=ON

# The layer check over the release build's objects (ARCHITECTURE.md): it
# prints the module graph and fails on an upward reference or a cycle; and
# no SQL outside src/store. One test.
echo "== layer check"
if scripts/layercheck.sh "$build" && scripts/sqlcheck.sh; then
  passed=$((passed + 1))
else
  echo "== layer check FAILED"
  failed=$((failed + 1)) status=1
fi

ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite asan+ubsan "$asan_build" -DCMAKE_BUILD_TYPE=Debug -DCK_SANITIZE=ON -DCK_TESTS=ON

echo "$passed passed, $failed failed"
exit "$status"
