#!/usr/bin/env bash
# A throwaway PostgreSQL primary with a synchronous streaming standby, on
# 127.0.0.1 only, for the failover test (tests/api/test_pg_failover.c) and
# for trying docs/postgres-ha.md by hand. Test data only.
#
# Usage: pg-pair.sh start         prints the multi-host admin URL
#        pg-pair.sh kill-primary  SIGKILL the primary's postmaster and backends (a crash)
#        pg-pair.sh promote       promote the standby; waits until it takes writes
#        pg-pair.sh status        "primary up|down (port P1), standby primary|standby|down (port P2)"
#        pg-pair.sh url           the multi-host admin URL again
#        pg-pair.sh stop          stop both servers and remove the data
# Environment:
#   CK_PAIR_DIR    where the two data directories live (default /tmp/checkoutd-pg-pair);
#                  start removes whatever was there; stop removes it
#   CK_PAIR_PORT1, CK_PAIR_PORT2
#                  the primary's and the standby's ports (default 25441 and 25442, below
#                  the ephemeral port range; when not given and one is taken, the next
#                  free one is used). Never 25432: that is scripts/pg.sh's shared server.
#
# The primary runs with synchronous_standby_names=standby1 and
# synchronous_commit=on, so a COMMIT returns only once the standby has
# flushed its WAL: every commit a client saw is on the standby when the
# primary dies. Those two settings are given on the primary's command line,
# not in its postgresql.conf, so the standby's copy (pg_basebackup) does not
# inherit them: once promoted, it runs alone (asynchronous) instead of
# waiting forever for a standby of its own.
#
# Every server this script starts is stopped on every exit path of `start`
# (a failed start stops what it started), and by `stop`.
set -euo pipefail
cmd=${1:-start}
dir=${CK_PAIR_DIR:-/tmp/checkoutd-pg-pair}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "pg-pair.sh: PostgreSQL is not installed (scripts/install-deps.sh test)" >&2; exit 1; }
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
pdir=$dir/primary sdir=$dir/standby

# The servers refuse to run as root: run them as postgres then, from /.
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
# busy PORT: something already accepts on 127.0.0.1:PORT.
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
psql_at() { # psql_at PORT SQL: one value, or nothing when the server does not answer
  as_pg "$bin/psql" -X -At -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2" 2>/dev/null || true
}
ports() { read -r p1 p2 <"$dir/ports"; }
# alive PID: the process runs (a zombie, killed but not yet reaped, does not).
alive() {
  case $(ps -o stat= -p "$1" 2>/dev/null || true) in '' | Z*) return 1 ;; *) return 0 ;; esac
}
# running DATADIR: its postmaster is alive.
running() {
  [ -f "$1/postmaster.pid" ] || return 1
  local pid
  pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null || true)
  [ -n "$pid" ] && alive "$pid"
}
# crash DATADIR: SIGKILL its postmaster and every child of it (the backends,
# walsender, checkpointer...), as a machine that loses power would; waits
# (10 s at most) until they are gone. Only the processes of this data
# directory's postmaster are signalled.
crash() {
  [ -f "$1/postmaster.pid" ] || return 0
  local pid kids i
  pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null || true)
  [ -n "$pid" ] && alive "$pid" || return 0
  kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
  kill -9 "$pid" $kids 2>/dev/null || true
  for i in $(seq 1 100); do
    local left=0 k
    for k in $pid $kids; do alive "$k" && left=1; done
    [ "$left" -eq 0 ] && return 0
    sleep 0.1
  done
  echo "pg-pair.sh: the processes of $1 did not exit after SIGKILL" >&2
  return 1
}
# halt DATADIR: stop the server if it runs (fast, then immediate, then SIGKILL).
halt() {
  running "$1" || return 0
  as_pg "$bin/pg_ctl" -D "$1" -m fast -t 10 -w stop >/dev/null 2>&1 ||
    as_pg "$bin/pg_ctl" -D "$1" -m immediate -t 10 -w stop >/dev/null 2>&1 || crash "$1" || true
}
stop_all() {
  halt "$sdir"
  halt "$pdir"
  rm -rf "$dir"
}
# wait_for SECONDS SQL WANT PORT: polls until SQL on PORT answers WANT.
wait_for() {
  local tries=$(($1 * 10)) i
  for i in $(seq 1 "$tries"); do
    [ "$(psql_at "$4" "$2")" = "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
url() { ports; echo "postgresql://postgres@127.0.0.1:$p1,127.0.0.1:$p2/postgres?target_session_attrs=read-write"; }

case $cmd in
start)
  if running "$pdir" || running "$sdir"; then
    echo "pg-pair.sh: a pair already runs in $dir (pg-pair.sh stop first)" >&2
    exit 1
  fi
  p1=${CK_PAIR_PORT1:-25441} p2=${CK_PAIR_PORT2:-25442}
  # Ports we may move: not given. The defaults lie below Linux's ephemeral
  # range (32768-60999): a port inside it (55441, say) can be the local end
  # of someone's outgoing connection, or of one of its TIME-WAIT remnants,
  # which the server may not bind (a test machine running many suites holds
  # tens of thousands of those). A port that is taken all the same, by a
  # listener or so, moves up by 2 (20 times at most).
  movable=1
  [ -z "${CK_PAIR_PORT1:-}${CK_PAIR_PORT2:-}" ] || movable=0
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  trap 'rc=$?; if [ $rc -ne 0 ]; then echo "pg-pair.sh: start failed; logs:" >&2;
        tail -n 20 "$pdir.log" "$sdir.log" >&2 2>/dev/null || true; stop_all; fi' EXIT
  # serve DATADIR VAR OPTIONS: starts the server on the port in $VAR,
  # moving it up by 2 while the port cannot be bound (when movable).
  serve() {
    local d=$1 var=$2 opts=$3 tries=0 port
    while :; do
      port=${!var}
      while [ "$movable" -eq 1 ] && busy "$port" && [ "$tries" -lt 20 ]; do
        port=$((port + 2)) tries=$((tries + 1))
      done
      if [ "$port" = 25432 ]; then
        echo "pg-pair.sh: 25432 is the shared test server's port" >&2
        return 2
      fi
      printf -v "$var" '%s' "$port"
      : >"$d.log"
      [ "$(id -u)" -ne 0 ] || chown postgres: "$d.log"
      if as_pg "$bin/pg_ctl" -D "$d" -l "$d.log" -w -t 30 -o "$opts -p $port -k $dir" start >/dev/null 2>&1; then
        return 0
      fi
      if [ "$movable" -eq 1 ] && [ "$tries" -lt 20 ] && grep -q "could not create any TCP/IP sockets" "$d.log"; then
        printf -v "$var" '%s' $((port + 2))
        tries=$((tries + 1))
        continue
      fi
      return 1
    done
  }
  as_pg "$bin/initdb" -D "$pdir" -U postgres --auth=trust --locale=C -E UTF8 >/dev/null
  # initdb's pg_hba.conf trusts replication connections from 127.0.0.1.
  common="-c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c wal_level=replica"
  common="$common -c max_wal_senders=4 -c hot_standby=on -c wal_keep_size=256MB"
  serve "$pdir" p1 "$common -c synchronous_standby_names=standby1 -c synchronous_commit=on"
  as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$sdir" -R -X stream -c fast >/dev/null
  # The name the primary's synchronous_standby_names waits for.
  echo "primary_conninfo = 'host=127.0.0.1 port=$p1 user=postgres application_name=standby1'" \
    >>"$sdir/postgresql.auto.conf"
  [ "$p2" != "$p1" ] || p2=$((p1 + 1))
  serve "$sdir" p2 "$common"
  echo "$p1 $p2" >"$dir/ports"
  if ! wait_for 30 "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'" sync "$p1"; then
    echo "pg-pair.sh: the standby did not become a synchronous standby in 30 s" >&2
    exit 1
  fi
  trap - EXIT
  url
  ;;
kill-primary)
  crash "$pdir"
  ;;
promote)
  ports
  as_pg "$bin/pg_ctl" -D "$sdir" -w -t 30 promote >/dev/null
  if ! wait_for 30 "SELECT pg_is_in_recovery()" f "$p2"; then
    echo "pg-pair.sh: the standby did not leave recovery in 30 s" >&2
    exit 1
  fi
  ;;
status)
  ports
  if running "$pdir"; then p=up; else p=down; fi
  case $(psql_at "$p2" "SELECT pg_is_in_recovery()") in
    t) s=standby ;; f) s=primary ;; *) s=down ;;
  esac
  echo "primary $p (port $p1), standby $s (port $p2)"
  ;;
url)
  url
  ;;
stop)
  [ -d "$dir" ] || exit 0
  stop_all
  ;;
*) echo "usage: pg-pair.sh start|kill-primary|promote|status|url|stop" >&2; exit 2 ;;
esac
