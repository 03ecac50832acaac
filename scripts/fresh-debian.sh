#!/usr/bin/env bash
# Tries README's two commands as a newcomer would, on a throwaway Debian 12:
# a debootstrap minbase chroot plus make and git, a clone of the repository,
# `make run` until /healthz answers 200 (then SIGTERM), then `make test`.
# A developer tool, not part of `make test`; see docs/fresh-debian.md.
#
# Usage: scripts/fresh-debian.sh [--dir DIR] [--keep] [--mirror URL] [SOURCE]
#   SOURCE   a repository path (its HEAD) or a branch/commit of the repository
#            this script is in; default: this repository's HEAD. Only committed
#            work is tested.
#   --dir    the chroot directory (must not exist or be empty); default a new
#            /var/tmp/checkoutd-fresh.XXXXXX
#   --keep   leave the chroot in place at the end
#   --mirror the Debian mirror; default the bookworm one of this machine's apt
#            sources
# Needs root. Exit 0 when both commands passed, 1 when one failed, 2 on usage.
set -euo pipefail

say() { printf 'fresh-debian: %s\n' "$*"; }
die() { printf 'fresh-debian: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '7,16s/^# \{0,1\}//p' "$0" >&2; exit 2; }

dir="" keep=0 mirror="" source=""
while [ $# -gt 0 ]; do
  case $1 in
  --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
  --dir=*) dir=${1#--dir=}; shift ;;
  --keep) keep=1; shift ;;
  --mirror) [ $# -ge 2 ] || usage; mirror=$2; shift 2 ;;
  --mirror=*) mirror=${1#--mirror=}; shift ;;
  -h|--help) usage ;;
  -*) echo "fresh-debian: unknown option $1" >&2; usage ;;
  *) [ -z "$source" ] || usage; source=$1; shift ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount)"

suite=bookworm
started=$(date +%s)
elapsed() { local s=$(($(date +%s) - started)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# --- what to test: a repository and one of its commits. Git is run with
# safe.directory=* on this side: as root (sudo) in a clone owned by the user,
# git would refuse the repository ("dubious ownership").
git() { command git -c safe.directory='*' "$@"; }
here=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
if [ -z "$source" ]; then
  repo=$here ref=HEAD
elif [ -d "$source" ]; then
  repo=$(git -C "$source" rev-parse --show-toplevel) || die "$source is not a git repository"
  ref=HEAD
else
  repo=$here ref=$source
fi
sha=$(git -C "$repo" rev-parse --verify -q "$ref^{commit}") || die "no commit $ref in $repo"
say "testing $repo at $(git -C "$repo" log -1 --format='%h %s' "$sha")"
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ] || [ "$ref" != HEAD ] ||
  say "note: $repo has uncommitted changes; they are not part of the test"

# --- the bookworm entries of this machine's apt sources: "URI SUITE" lines,
# from one-line .list files and deb822 .sources files ("Enabled: no" skipped).
apt_entries() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -E -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush() {
           if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no")
             { n = split(uris, u, " "); m = split(suites, s, " ");
               for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j] }
           types = uris = suites = enabled = ""; last = "" }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         /^[ \t]/ { if (last == "uris") uris = uris " " $0; else if (last == "suites") suites = suites " " $0; next }
         { key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val); last = key
           if (key == "types") types = val; else if (key == "uris") uris = val
           else if (key == "suites") suites = val; else if (key == "enabled") enabled = val }
         END { flush() }' "$f"
  done
}
entries=$(apt_entries | awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security"' |
          grep -E '^(https?|file)://' | awk '!seen[$0]++' || true)
if [ -z "$mirror" ]; then
  mirror=$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$entries")
  [ -n "$mirror" ] || die "no '$suite' entry in /etc/apt/sources.list or /etc/apt/sources.list.d/; give --mirror URL"
fi
say "mirror $mirror ($suite)"

# --- host tools: debootstrap to make the chroot, curl to probe /healthz from outside
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} on this machine (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- the chroot directory, and the clean-up that runs on every exit path
if [ -z "$dir" ]; then
  dir=$(mktemp -d /var/tmp/checkoutd-fresh.XXXXXX)
else
  [ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || die "$dir exists and is not empty"
  mkdir -p "$dir"
fi
root=$(realpath "$dir")
[ "$root" != / ] || die "refusing / as the chroot"
chmod 755 "$root" # mktemp makes it 0700; as /, that locks out _apt and postgres
logs=$root/var/log/fresh-debian
bg_pid="" # the step running in the background, if any (see step)

# Processes whose root directory is the chroot: all started by this script.
chroot_pids() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [ "$r" = "$root" ] || [ "${r#"$root"/}" != "$r" ] && echo "${p#/proc/}"
  done
  return 0
}

# Mount points at or under the chroot, deepest first.
chroot_mounts() {
  local m
  while read -r _ _ _ _ m _; do
    m=$(printf '%b' "$m") # mountinfo escapes spaces as \040
    [ "$m" = "$root" ] || [ "${m#"$root"/}" != "$m" ] && echo "$m"
  done </proc/self/mountinfo | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-
}

# SIGTERM to every process in the chroot, SIGKILL to what is left after 10 s.
stop_chroot_procs() {
  local pids
  pids=$(chroot_pids)
  [ -n "$pids" ] || return 0
  say "stopping what is still running in the chroot: pids" $pids
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 20); do [ -z "$(chroot_pids)" ] && return 0; sleep 0.5; done
  pids=$(chroot_pids)
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  sleep 0.5
}

cleanup() {
  local rc=$? m left
  trap - EXIT INT TERM
  set +e
  if [ -n "$bg_pid" ] && kill -0 "$bg_pid" 2>/dev/null; then
    kill -TERM "$bg_pid"
    wait "$bg_pid"
  fi
  stop_chroot_procs
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" || say "could not unmount $m"
  done <<<"$(chroot_mounts)"
  left=$(chroot_mounts)
  if [ -n "$left" ]; then
    say "still mounted, so $root is left in place:" $left
    rc=1
  elif [ "$keep" -eq 1 ]; then
    say "kept the chroot: $root (logs in $logs)"
  else
    say "removing $root"
    rm -rf --one-file-system "$root"
  fi
  say "finished in $(elapsed), exit $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- a minbase Debian 12, plus make and git
say "debootstrap --variant=minbase --include=make,git $suite into $root ($(elapsed))"
# step CMD...: runs CMD in the background and waits for it, so that a signal
# to this script is handled at once (a foreground child would delay the trap).
step() {
  "$@" &
  bg_pid=$!
  local rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=""
  return "$rc"
}
dlog=$(mktemp /var/tmp/fresh-debian-debootstrap.XXXXXX.log)
if ! step debootstrap --variant=minbase --include=make,git "$suite" "$root" "$mirror" >"$dlog" 2>&1; then
  tail -n 30 "$dlog"
  rm -f "$dlog"
  die "debootstrap failed"
fi
rm -f "$dlog"
mkdir -p "$logs"

# The same Debian entries as this machine (bookworm, -updates, -security).
{
  echo "# from the apt sources of the machine that ran scripts/fresh-debian.sh"
  awk '{ print "deb", $1, $2, "main" }' <<<"$entries"
  grep -q " $suite\$" <<<"$entries" || echo "deb $mirror $suite main"
} >"$root/etc/apt/sources.list"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# This machine's own CA certificates (/usr/local/share/ca-certificates: a
# way out that re-signs TLS, as the sandbox's egress does) are part of its
# network, like resolv.conf: every machine here has them. ca-certificates,
# which make run installs, adds them to the system bundle; npm (the jsforce
# test) trusts that bundle.
if [ -d /usr/local/share/ca-certificates ]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -L /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
fi
[ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# Packages' services (postgresql's own cluster, prometheus) must not start in
# the chroot: they would listen on this machine's network, which the chroot
# shares, and outlive the run. The tests start their own server (pg.sh).
printf '#!/bin/sh\n# fresh-debian.sh: no service starts in this chroot\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# --- what a real machine has mounted. The chroot is first made a private
# mount of its own, so nothing mounted below it propagates to this machine.
say "mounting /proc /sys /dev /dev/pts /dev/shm in the chroot"
mount --bind "$root" "$root"
mount --make-private "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --make-private "$root/dev"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"

# in_chroot CMD...: runs CMD in the chroot as root, with a clean environment.
in_chroot() {
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# --- the clone: committed work only
say "cloning into /root/checkoutd ($(elapsed))"
git clone -q --no-local --no-checkout --upload-pack="git -c safe.directory='*' upload-pack" \
  "$repo" "$root/root/checkoutd"
git -C "$root/root/checkoutd" cat-file -e "$sha^{commit}" 2>/dev/null ||
  git -C "$repo" push -q "$root/root/checkoutd" "$sha:refs/heads/fresh-debian"
git -C "$root/root/checkoutd" checkout -q --detach "$sha"
in_chroot git -C /root/checkoutd log -1 --format='fresh-debian: chroot has %h %s'

# free_port FROM TO: a TCP port in [FROM, TO] that nothing on this machine uses.
free_port() {
  local used p h
  used=$(for h in $(awk 'NR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
           echo $((16#$h)); done | sort -un)
  for p in $(seq "$1" "$2"); do
    grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
  done
  return 1
}
# Descendants of a process, one pid a line.
descendants() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$c"
    descendants "$c"
  done
}

# in_chroot_logged NAME CMD: runs the shell command CMD in the clone, its
# output to $logs/NAME.log and to stdout prefixed "NAME| ". Returns CMD's status
# once the log is complete.
in_chroot_logged() {
  local name=$1
  shift
  in_chroot sh -c "cd /root/checkoutd && $*" 2>&1 |
    tee "$logs/$name.log" | sed -u "s/^/  $name| /" || return "${PIPESTATUS[0]}"
}

# --- make run: serves /healthz; then SIGTERM to checkoutd
run_ok=0 test_ok=0 rc=0
port=$(free_port $((20000 + RANDOM % 10000)) 32000) || die "no free port"
say "make run LISTEN=127.0.0.1:$port in the background (log: $logs/run.log) ($(elapsed))"
in_chroot_logged run "exec make run LISTEN=127.0.0.1:$port" &
run_pid=$! bg_pid=$!
code="" deadline=$(($(date +%s) + 1800))
while [ "$(date +%s)" -lt "$deadline" ]; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/healthz" || true)
  [ "$code" = 200 ] && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 2
done
daemon=""
for p in $(descendants "$run_pid"); do
  [ "$(ps -o comm= -p "$p" 2>/dev/null)" = checkoutd ] && daemon=$p
done
if [ "$code" = 200 ] && [ -n "$daemon" ]; then
  say "GET http://127.0.0.1:$port/healthz: 200 ($(elapsed)); SIGTERM to checkoutd (pid $daemon)"
  kill -TERM "$daemon"
  for _ in $(seq 1 60); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$run_pid" 2>/dev/null; then
    say "make run: still running 30 s after SIGTERM"
  elif wait "$run_pid"; then
    run_ok=1
    say "make run: passed (served /healthz, exit 0 after SIGTERM)"
  else
    rc=$?
    say "make run: exit $rc after SIGTERM"
  fi
elif kill -0 "$run_pid" 2>/dev/null; then
  say "make run: no 200 from /healthz in 30 minutes (last answer '${code:-none}')"
else
  wait "$run_pid" || rc=$?
  say "make run: ended with exit $rc before /healthz answered"
fi
if [ "$run_ok" -ne 1 ]; then
  say "make run: FAILED"
  stop_chroot_procs # what make run left, before the tests
  wait "$run_pid" 2>/dev/null || true
fi
bg_pid=""

# --- make test, with its PostgreSQL server on another port and directory than
# this machine's (scripts/pg.sh defaults to 25432 and /tmp/checkoutd-pg).
pg_port=$(free_port 25333 25431) || die "no free port for PostgreSQL"
say "make test with CK_PG_PORT=$pg_port (log: $logs/test.log) ($(elapsed))"
rc=0
step in_chroot_logged test "CK_PG_PORT=$pg_port CK_PG_DIR=/tmp/checkoutd-pg-fresh make test" || rc=$?
# test.sh's summary; make may print its own error line after it.
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logs/test.log" | tail -n 1 || true)
if [ "$rc" -eq 0 ] && [[ $last =~ \ 0\ failed$ ]]; then
  test_ok=1
  say "make test: passed ($last)"
else
  say "make test: FAILED (exit $rc; ${last:-no summary line})"
fi

if [ "$run_ok" -eq 1 ] && [ "$test_ok" -eq 1 ]; then
  say "PASSED: make run and make test on a fresh Debian 12 ($(elapsed))"
  exit 0
fi
say "FAILED: make run $([ "$run_ok" -eq 1 ] && echo passed || echo failed)," \
  "make test $([ "$test_ok" -eq 1 ] && echo passed || echo failed)"
exit 1
