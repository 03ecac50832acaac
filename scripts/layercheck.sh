#!/usr/bin/env bash
# The layer check of ARCHITECTURE.md, run over the built objects' symbols
# (nm), not over #includes: every global symbol an object uses is traced to
# the module that defines it, and the module graph must point only down.
#
#   scripts/layercheck.sh BUILD_DIR
#
# Prints the module graph (edges with reference counts), then every upward
# reference and every module cycle; exits 1 if there is either. The layers
# and the order of the domain modules live in the table below, which
# docs/internals/architecture.md explains.
set -euo pipefail
build=${1:?usage: layercheck.sh BUILD_DIR}

# module rank: a module may use modules of a lower or equal rank... only its
# own module at equal rank. Layer 0 core, 1 store, 2 domain (a DAG, listed
# bottom-up), 3 http, 4 api, 5 app.
ranks='
core     0
store    10
carts    20
orders   21
payments 22
events   23
fulfillment 24
steps    25
flows    26
checkout 27
jobs     28
http     30
api      40
app      50
daemon   51
ctl      51
'

root=$(cd "$(dirname "$0")/.." && pwd)
# Objects of sources that still exist (a moved file leaves its old object behind).
objs=$(find "$build/CMakeFiles/checkout.dir" "$build/CMakeFiles/checkoutd.dir" \
             "$build/CMakeFiles/checkoutctl.dir" -name '*.o' 2>/dev/null | sort |
       while read -r o; do
         rel=${o#*.dir/}
         case $rel in src/*) [ -f "$root/${rel%.o}" ] || continue ;; esac
         echo "$o"
       done)
[ -n "$objs" ] || { echo "layercheck: no objects under $build" >&2; exit 2; }

# One line per symbol use or definition: "D module symbol" or "U module symbol".
syms=$(for o in $objs; do
  rel=${o#*.dir/}
  case $rel in
    generated/*) mod=store ;;
    src/*) mod=${rel#src/}; mod=${mod%%/*} ;;
    *) mod=unknown ;;
  esac
  nm -P "$o" | awk -v m="$mod" -v f="${rel%.o}" '
    $2 ~ /^[TDBRCVWGSI]$/ { print "D", m, $1, f }
    $2 == "U" || $2 == "w" { print "U", m, $1, f }'
done)

awk -v ranks="$ranks" '
BEGIN {
  n = split(ranks, r, "\n")
  for (i = 1; i <= n; i++) if (split(r[i], kv, " ") == 2) rank[kv[1]] = kv[2] + 0
}
$1 == "D" { def[$3] = $2; next }
$1 == "U" { use[++nu] = $2 " " $3 " " $4 }
END {
  bad = 0
  for (i = 1; i <= nu; i++) {
    split(use[i], u, " ")
    from = u[1]; s = u[2]; file = u[3]
    if (!(s in def)) continue            # a library outside ours
    to = def[s]
    if (to == from) continue
    edges[from " -> " to]++
    if (!(from in rank) || !(to in rank)) {
      printf "layercheck: module without a rank: %s or %s\n", from, to; bad = 1; continue
    }
    if (rank[to] > rank[from]) {
      up[from " -> " to] = up[from " -> " to] "\n    " file " uses " s
      nup++
    }
  }
  print "module graph (references between modules):"
  for (e in edges) lines[++ne] = e
  # sort for a stable print
  for (i = 1; i <= ne; i++) for (j = i + 1; j <= ne; j++) if (lines[j] < lines[i]) { t = lines[i]; lines[i] = lines[j]; lines[j] = t }
  for (i = 1; i <= ne; i++) printf "  %-24s %d\n", lines[i], edges[lines[i]]
  for (i = 1; i <= ne; i++) { split(lines[i], p, " -> "); print p[1], p[2] > "/dev/stderr" }
  if (nup) {
    printf "upward references: %d\n", nup
    for (e in up) printf "  %s%s\n", e, up[e]
    bad = 1
  } else print "upward references: 0"
  exit bad
}' <<<"$syms" 2> >(cat > "$build/layercheck.edges") && status=0 || status=$?
wait

# Cycles: tsort reports any loop among the edges.
if tsort "$build/layercheck.edges" >/dev/null 2>"$build/layercheck.cycles"; then
  echo "module cycles: 0"
else
  echo "module cycles found:"; sed 's/^/  /' "$build/layercheck.cycles"
  status=1
fi
exit "$status"
