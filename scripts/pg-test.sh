#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store tests.
#   pg-test.sh start DIR   initdb into a new temporary directory, start the
#                          server on a Unix socket there (no TCP port, so runs
#                          never collide), trust auth, fsync off; writes the
#                          URL to DIR/url and prints it
#   pg-test.sh stop DIR    stops that server and removes its directory
# As root, the server runs as the `postgres` user (PostgreSQL refuses root).
# PG_BIN overrides where initdb/pg_ctl live.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
state=$2

find_bin() {
  local dir
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then echo "$PG_BIN"; return; fi
  if [ -n "${PG_BIN:-}" ]; then echo "pg-test: no initdb in PG_BIN=$PG_BIN" >&2; exit 1; fi
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  echo "pg-test: PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql-15" \
    "(scripts/setup.sh does) or set PG_BIN" >&2
  exit 1
}

# Runs a command as the server's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  [ -f "$state/tmpdir" ] || return 0
  local tmp
  tmp=$(cat "$state/tmpdir")
  case $tmp in
    /tmp/rmm-pg.*) ;;
    *) echo "pg-test: $state/tmpdir names $tmp, not a directory this script made" >&2; exit 1 ;;
  esac
  if [ -f "$tmp/data/postmaster.pid" ]; then
    bin=${bin:-$(find_bin || true)}
    as_owner "$bin/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  rm -f "$state/tmpdir" "$state/url"
}

bin=""
case $action in
  start)
    bin=$(find_bin)
    mkdir -p "$state"
    stop  # a server left over from an interrupted run
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      echo "pg-test: running as root but there is no postgres user to run the server as" >&2
      exit 1
    fi
    # Under /tmp: short enough for a socket path, and reachable by the postgres user.
    tmp=$(mktemp -d /tmp/rmm-pg.XXXXXX)
    echo "$tmp" >"$state/tmpdir"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$tmp"
    chmod 755 "$tmp"
    if ! as_owner "$bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C -N >"$tmp/initdb.log" 2>&1; then
      cat "$tmp/initdb.log" >&2
      echo "pg-test: initdb failed" >&2
      exit 1
    fi
    opts="-c listen_addresses='' -c unix_socket_directories='$tmp' -c fsync=off -c synchronous_commit=off"
    opts+=" -c full_page_writes=off -c max_connections=60"
    if ! as_owner "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -o "$opts" -w -t 30 start >/dev/null; then
      cat "$tmp/server.log" >&2 || true
      echo "pg-test: the server did not start" >&2
      exit 1
    fi
    url="postgresql://postgres@/postgres?host=$tmp"
    echo "$url" >"$state/url"
    echo "$url"
    ;;
  stop) stop ;;
  *) usage ;;
esac
