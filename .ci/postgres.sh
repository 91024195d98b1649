#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and exports its URL.
#
# Source it from bash (`. .ci/postgres.sh`): it runs initdb in a temporary folder (as the
# `postgres` user when running as root: PostgreSQL refuses to run as root), starts the
# server with `pg_ctl` on a free loopback port (TCP only, no Unix socket, default fsync
# settings), creates the database `switchboard_test`, and exports
#
#   SWITCHBOARD_TEST_POSTGRES=postgres://USER@127.0.0.1:PORT/switchboard_test?sslmode=disable
#   SWITCHBOARD_REQUIRE_POSTGRES=1   (tests that need PostgreSQL fail instead of skipping)
#
# An EXIT trap stops the server and removes the folder. When the PostgreSQL 15 server is
# missing it is installed with apt (Debian: postgresql-15). Sourcing it twice reuses the
# running cluster. Run directly (`.ci/postgres.sh -- CMD ARGS…`) it runs CMD with the
# variables set and cleans up afterwards.

sb_pg_bin() {
  local d
  for d in "${PG_BIN:-}" /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && dirname "$(command -v initdb)" && return 0
  return 1
}

sb_pg_free_port() {
  # Ask the kernel for a free port on loopback (python3 is not guaranteed: use bash's /dev/tcp
  # to probe from a random start instead).
  # Below Linux's ephemeral range (32768-60999 by default): the tests' own outgoing
  # connections take ports there, and a port a client holds can make the bind fail.
  local p tries=0
  while [ $tries -lt 200 ]; do
    p=$(( 20000 + (RANDOM % 12000) ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
    tries=$((tries + 1))
  done
  return 1
}

sb_pg_stop() {
  if [ -n "${SB_PG_DIR:-}" ] && [ -d "$SB_PG_DIR" ]; then
    ${SB_PG_AS:-} "$SB_PG_BIN/pg_ctl" -D "$SB_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$SB_PG_DIR"
  fi
  unset SB_PG_DIR SWITCHBOARD_TEST_POSTGRES
}

sb_pg_start() {
  if [ -n "${SB_PG_DIR:-}" ] && [ -n "${SWITCHBOARD_TEST_POSTGRES:-}" ]; then
    return 0 # already running (sourced twice)
  fi
  SB_PG_BIN=$(sb_pg_bin) || {
    echo "ci: installing postgresql-15"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
    SB_PG_BIN=$(sb_pg_bin) || { echo "ci: no PostgreSQL server binaries after installing" >&2; return 1; }
  }
  local user
  user=$(id -un)
  SB_PG_AS=""
  SB_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres: "$SB_PG_DIR"
    chmod 700 "$SB_PG_DIR"
    SB_PG_AS="runuser -u postgres --"
    user=postgres
  fi
  local port attempt
  $SB_PG_AS "$SB_PG_BIN/initdb" -D "$SB_PG_DIR/data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$SB_PG_DIR/initdb.log" 2>&1 \
    || $SB_PG_AS "$SB_PG_BIN/initdb" -D "$SB_PG_DIR/data" -U "$user" --auth=trust -E UTF8 --locale=C >"$SB_PG_DIR/initdb.log" 2>&1 \
    || { cat "$SB_PG_DIR/initdb.log" >&2; return 1; }
  # Loopback TCP only; no Unix socket (its default folder may not exist or be writable).
  # A port free when probed can be taken before the server binds it (another cluster
  # starting at the same time): try up to 5 ports.
  for attempt in 1 2 3 4 5; do
    port=$(sb_pg_free_port) || { echo "ci: no free port for PostgreSQL" >&2; return 1; }
    if $SB_PG_AS "$SB_PG_BIN/pg_ctl" -D "$SB_PG_DIR/data" -l "$SB_PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c max_connections=200" start >/dev/null; then
      break
    fi
    if [ $attempt = 5 ]; then
      cat "$SB_PG_DIR/server.log" >&2
      return 1
    fi
    echo "ci: PostgreSQL did not start on port $port (taken?); trying another" >&2
    sleep 1
  done
  trap sb_pg_stop EXIT
  if command -v psql >/dev/null 2>&1 || [ -x "$SB_PG_BIN/psql" ]; then
    local psql
    psql=$(command -v psql || echo "$SB_PG_BIN/psql")
    "$psql" -q -h 127.0.0.1 -p "$port" -U "$user" -d postgres -c 'CREATE DATABASE switchboard_test' >/dev/null
  else
    $SB_PG_AS "$SB_PG_BIN/../bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" switchboard_test
  fi
  export SB_PG_DIR SB_PG_BIN SB_PG_AS
  export SWITCHBOARD_TEST_POSTGRES="postgres://$user@127.0.0.1:$port/switchboard_test?sslmode=disable"
  export SWITCHBOARD_REQUIRE_POSTGRES=1
  echo "ci: PostgreSQL $("$SB_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $SB_PG_DIR)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Run directly: start, run the command after --, stop.
  set -euo pipefail
  [ "${1:-}" = "--" ] && shift
  sb_pg_start
  if [ $# -gt 0 ]; then
    "$@"
  else
    echo "SWITCHBOARD_TEST_POSTGRES=$SWITCHBOARD_TEST_POSTGRES"
    echo "(nothing to run: give a command after --; stopping)"
  fi
else
  sb_pg_start
fi
