#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from Debian's packages, on
# 127.0.0.1 only. Usage: pg.sh start  (prints the admin URL) | pg.sh stop
# Environment: CK_PG_DIR, CK_PG_PORT, CK_PG_FSYNC=on, CK_PG_STATEMENTS=1.
set -euo pipefail
cmd=${1:-start}
dir=${CK_PG_DIR:-/tmp/checkoutd-pg}
# 25432: below Linux's ephemeral range (32768-60999), where a loopback
# client's port (some of the ~30,000 sockets a test run leaves in TIME-WAIT)
# can keep the server from binding its own.
port=${CK_PG_PORT:-25432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "pg.sh: PostgreSQL is not installed (scripts/install-deps.sh test)" >&2; exit 1; }

case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
# The server refuses to run as root: run it as the postgres user then, from /
# (postgres may not enter the caller's directory, /root/... on a fresh machine).
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
url="postgresql://postgres@127.0.0.1:$port/postgres"

# busy PORT: something (not necessarily ours) already accepts on 127.0.0.1:PORT.
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case $cmd in
start)
  if [ -f "$dir/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    port=$(cat "$dir/ck_port" 2>/dev/null || echo "$port")
    echo "postgresql://postgres@127.0.0.1:$port/postgres"; exit 0
  fi
  # Another server (a stray one from an earlier run, or anything else) on the
  # default port: take the next free one rather than fail. A port the caller
  # chose with CK_PG_PORT is used as given.
  if [ -z "${CK_PG_PORT:-}" ]; then
    tries=0
    while busy "$port" && [ "$tries" -lt 50 ]; do port=$((port + 1)) tries=$((tries + 1)); done
  fi
  url="postgresql://postgres@127.0.0.1:$port/postgres"
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust --locale=C -E UTF8 >/dev/null
  echo "$port" >"$dir/ck_port"
  # Test data only: no fsync. Enough connections for parallel test daemons.
  # CK_PG_FSYNC=on: durable commits (fsync and synchronous_commit on), for
  # benchmarks. CK_PG_STATEMENTS=1: pg_stat_statements loaded, counting
  # nested and utility statements too (BEGIN, COMMIT).
  opts="-c listen_addresses=127.0.0.1 -k $dir -c max_connections=400"
  if [ "${CK_PG_FSYNC:-off}" = on ]; then
    opts="$opts -c fsync=on -c synchronous_commit=on"
  else
    opts="$opts -c fsync=off"
  fi
  if [ "${CK_PG_STATEMENTS:-0}" = 1 ]; then
    opts="$opts -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
  fi
  # A port that cannot be bound though nothing listens on it (a client's
  # ephemeral port): the next one, unless the caller chose it.
  tries=0
  until as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -o "$opts -p $port" start >/dev/null 2>&1; do
    if [ -z "${CK_PG_PORT:-}" ] && [ "$tries" -lt 20 ] && grep -q "could not bind" "$dir/server.log" 2>/dev/null; then
      port=$((port + 1)) tries=$((tries + 1))
      echo "$port" >"$dir/ck_port"
      continue
    fi
    # Say why: the server's own log is the only place that does.
    echo "pg.sh: PostgreSQL did not start on 127.0.0.1:$port; its log ($dir/server.log):" >&2
    tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
    exit 1
  done
  url="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "$url"
  ;;
stop)
  [ -d "$dir" ] || exit 0
  as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: pg.sh start|stop" >&2; exit 2 ;;
esac
