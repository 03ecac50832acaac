#!/usr/bin/env bash
# /healthz under hostile connections (issue 17): runs bench_attack and writes
# its table, with machine, date and commit, into the generated section of
# docs/security.md (between <!-- attack:begin --> and <!-- attack:end -->).
# It reports; it fails only when probes failed.
# Usage: bench/attack.sh [BUILD_DIR=build-bench] [SECONDS=40]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build-bench}
seconds=${2:-40}
case $build in /*) ;; *) build=$root/$build ;; esac
[ -x "$build/bench_attack" ] || { echo "attack.sh: $build/bench_attack is missing (make bench builds it)" >&2; exit 2; }
doc=docs/security.md
work=$(mktemp -d /tmp/checkoutd-attack-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "== bench_attack ($seconds s per scenario)"
rc=0
"$build/bench_attack" --bin "$build/checkoutd" --seconds "$seconds" | tee "$work/table.md" || rc=$?
commit=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain --untracked-files=no -- . ':!docs/security.md' ':!docs/benchmarks.md')" ] || commit="$commit+changes"
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
  echo "Measured by \`make bench\` (bench/attack.sh) on $(date -u +%Y-%m-%d), commit $commit, $(nproc) cores ($model),"
  echo "Release build, default options, $seconds s per scenario, the client on the same 2 cores:"
  echo
  cat "$work/table.md"
} >"$work/section.md"
if grep -q '^<!-- attack:begin -->$' "$doc"; then
  awk -v sec="$work/section.md" '
    /^<!-- attack:begin -->$/ { print; while ((getline l < sec) > 0) print l; skip = 1; next }
    /^<!-- attack:end -->$/ { skip = 0 }
    !skip { print }' "$doc" >"$work/doc.md"
  cat "$work/doc.md" >"$doc"
fi
exit "$rc"
