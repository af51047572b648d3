#!/usr/bin/env bash
# A throwaway PostgreSQL server for the SQL differential tests.
#
#     source .ci/postgres.sh start   # installs (Debian) if needed, starts, exports QUALIFY_PG
#     .ci/postgres.sh stop
#
# The cluster lives in target/pg (port 54329, socket in target/pg/run), is
# owned by the `postgres` user when run as root (the server refuses root),
# and uses the C.UTF-8 locale so LOWER() folds non-ASCII letters.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGDIR=$ROOT/target/pg
PORT=${QUALIFY_PG_PORT:-54329}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  echo "$found"
}

case "${1:-}" in
  start)
    if [ -z "$(bin)" ]; then
      echo "== installing postgresql"
      SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
      $SUDO apt-get update -qq
      $SUDO apt-get install -y -qq --no-install-recommends postgresql postgresql-client
    fi
    BIN=$(bin)
    mkdir -p "$PGDIR"
    [ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR"
    if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
      as_owner "$BIN/initdb -D '$PGDIR/data' -U postgres --locale=C.UTF-8 --encoding=UTF8 -A trust" >/dev/null
    fi
    mkdir -p "$PGDIR/run"
    [ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR/run"
    if ! as_owner "$BIN/pg_ctl -D '$PGDIR/data' status" >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl -D '$PGDIR/data' -l '$PGDIR/log' -w -o \"-p $PORT -k '$PGDIR/run' -c listen_addresses=''\" start" >/dev/null
    fi
    export QUALIFY_PG="host=$PGDIR/run port=$PORT user=postgres dbname=postgres"
    psql "$QUALIFY_PG" -qAtc 'select 1' >/dev/null
    echo "== PostgreSQL $(psql "$QUALIFY_PG" -qAtc 'show server_version') on $PGDIR/run:$PORT"
    ;;
  stop)
    BIN=$(bin)
    if [ -n "$BIN" ] && [ -f "$PGDIR/data/PG_VERSION" ]; then
      as_owner "$BIN/pg_ctl -D '$PGDIR/data' -m fast stop" >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: source .ci/postgres.sh start | .ci/postgres.sh stop" >&2
    exit 2
    ;;
esac
