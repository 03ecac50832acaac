#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets of fuzz/ with clang (ASan+UBSan,
# libcheckout instrumented with -fsanitize=fuzzer-no-link) in BUILD_DIR and
# runs each for FUZZ_SECONDS (default 60) from its corpus, new inputs going
# to a temporary directory (merge the useful ones by hand: fuzz/README.md).
# Prints "<target> <runs>" per target and the total; exits 1 when a target
# crashed, leaked or timed out (its reproducer is left in the current
# directory as crash-*/leak-*/timeout-*). FUZZ_TARGETS="http body" runs only
# those; fuzz/T.flags holds a target's own libFuzzer flags (one line);
# FUZZ_KEEP=1 keeps each target's new inputs (their directory is printed).
#   scripts/fuzz.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-fuzz}
secs=${FUZZ_SECONDS:-60}
CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCK_SANITIZE=ON -DCK_TESTS=ON \
  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
targets=${FUZZ_TARGETS:-$(sed -n 's/^set(CK_FUZZ_TARGETS \(.*\))$/\1/p' fuzz/CMakeLists.txt)}
for t in $targets; do cmake --build "$dir" -j "$(nproc)" --target "fuzz_$t" >/dev/null; done
total=0 status=0
for t in $targets; do
  out=$(mktemp -d) log=$(mktemp)
  extra=()
  [ -f "fuzz/$t.dict" ] && extra+=("-dict=fuzz/$t.dict")
  if [ -f "fuzz/$t.flags" ]; then read -r -a flags <"fuzz/$t.flags"; extra+=("${flags[@]}"); fi
  if ! "$dir/fuzz/fuzz_$t" "$out" "fuzz/corpus/$t" "${extra[@]}" -max_total_time="$secs" -rss_limit_mb=2048 \
      -timeout=5 -max_len=8192 >"$log" 2>&1; then
    echo "fuzz_$t: FAILED (log: $log)"
    tail -n 30 "$log"
    status=1
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  echo "fuzz_$t ${runs:-0} runs in ${secs} s"
  total=$((total + ${runs:-0}))
  if [ -n "${FUZZ_KEEP:-}" ]; then echo "fuzz_$t new inputs: $out"; else rm -rf "$out"; fi
done
echo "total $total runs"
exit "$status"
