#!/usr/bin/env bash
# PgBouncer in front of this machine's PostgreSQL, as production may run it: Debian's
# package with its stock configuration (/etc/pgbouncer/pgbouncer.ini, included as it is),
# in transaction mode. Only what a private instance needs differs: the listen address and
# port, the upstream (a `*` entry, so every database the tests create resolves), the auth
# file, and its own pid, log and socket files under a temporary directory.
#
#   .ci/pgbouncer.sh start    starts it (installs Debian's pgbouncer first when root and missing)
#                             and prints the URL to reach PostgreSQL through it
#   .ci/pgbouncer.sh stop     stops it
#   .ci/pgbouncer.sh url      prints that URL
#
# Then, for the integration tests: TEST_DATABASE_URL=<that URL> with
# TEST_ADMIN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (creating and
# dropping the test databases goes straight to PostgreSQL).
#
# PGBOUNCER_PORT (6432), PGBOUNCER_DIR (/tmp/sweep-pgbouncer-$PGBOUNCER_PORT),
# UPSTREAM_HOST (127.0.0.1), UPSTREAM_PORT (5432).
set -euo pipefail

PORT="${PGBOUNCER_PORT:-6432}"
DIR="${PGBOUNCER_DIR:-/tmp/sweep-pgbouncer-$PORT}"
UPSTREAM_HOST="${UPSTREAM_HOST:-127.0.0.1}"
UPSTREAM_PORT="${UPSTREAM_PORT:-5432}"
STOCK_INI=/etc/pgbouncer/pgbouncer.ini
# md5 authentication (the stock auth_type) needs a password in the auth file; PostgreSQL
# behind it may trust the connection, PgBouncer still asks the client for this one.
USER_NAME=postgres
PASSWORD=sweep-local

url() { echo "postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/postgres"; }

# Runs as root in CI: PgBouncer refuses to run as root, so it runs as the postgres user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  if ! command -v pgbouncer >/dev/null; then
    if [ "$(id -u)" != 0 ]; then echo "pgbouncer is not installed: apt-get install pgbouncer" >&2; exit 1; fi
    echo "== installing pgbouncer" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
  fi
  stop quiet
  mkdir -p "$DIR"
  # The stock file is readable by the postgres user only; a copy keeps this instance's
  # own files apart from the package's.
  cp "$STOCK_INI" "$DIR/stock.ini"
  printf '"%s" "%s"\n' "$USER_NAME" "$PASSWORD" > "$DIR/userlist.txt"
  cat > "$DIR/pgbouncer.ini" <<EOF
%include $DIR/stock.ini

[databases]
* = host=$UPSTREAM_HOST port=$UPSTREAM_PORT

[pgbouncer]
pool_mode = transaction
listen_addr = 127.0.0.1
listen_port = $PORT
auth_file = $DIR/userlist.txt
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
unix_socket_dir = $DIR
EOF
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$DIR"; fi
  as_owner pgbouncer -d "$DIR/pgbouncer.ini"
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then url; return 0; fi
    sleep 0.1
  done
  echo "pgbouncer did not start; its log:" >&2
  cat "$DIR/pgbouncer.log" >&2 || true
  exit 1
}

stop() {
  if [ -f "$DIR/pgbouncer.pid" ]; then
    local pid
    pid="$(cat "$DIR/pgbouncer.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$DIR/pgbouncer.pid"
  elif [ "${1:-}" != quiet ]; then
    echo "pgbouncer is not running (no $DIR/pgbouncer.pid)" >&2
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 64 ;;
esac
