#!/usr/bin/env bash
# "SQL only in store repositories" (ARCHITECTURE.md), checked on the source:
# outside src/store no string literal holds a SQL statement and nothing calls
# the driver's statement or transaction functions (ck_db_query/exec/one/
# changed/exists/next, ck_col_*, ck_db_begin/commit/rollback). Transactions
# are ck_db_tx, called by the operation that owns them. Prints each offending line; exits 1 if any.
#   scripts/sqlcheck.sh [FILE...]   (default: every .c and .h under src/)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find src -name '*.[ch]' ! -path 'src/store/*' | sort); fi
# BEGIN counts unless it is a PEM boundary ("-----BEGIN CERTIFICATE-----").
sql='"[^"]*\b(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|COMMIT|ROLLBACK|CREATE TABLE|ALTER TABLE)\b|"([^"]*[^"-])?\bBEGIN\b'
calls='\bck_(db_(v?query|exec|one|changed|exists|next|done|begin|commit|rollback)|col_(int|text|text_or_null|null|copy))\('
hits=$(grep -nE "$sql|$calls" "${files[@]}" /dev/null || true)
if [ -n "$hits" ]; then
  echo "$hits"
  echo "sqlcheck: $(wc -l <<<"$hits") lines in $(cut -d: -f1 <<<"$hits" | sort -u | wc -l) files outside src/store"
  exit 1
fi
echo "sqlcheck: no SQL outside src/store"
