# lib-pg.sh — a throwaway PostgreSQL cluster for the certkeeper-ca tests,
# sourced after lib.sh.  Never a mock: Debian's postgresql binaries, initdb
# in a temp dir, listening only on a Unix socket there (no TCP port to
# collide with anyone), trust authentication for one role, stopped and
# removed on exit.  PostgreSQL refuses to run as root, so as root (CI) the
# cluster runs as the 'postgres' user (or 'nobody'); as anyone else, as
# that user.  Skips (77) without the binaries.
#   pg_start            sets PG_URI (postgresql:///certkeeper?host=…&user=ca)
#   pg_sql SQL          runs SQL with psql, prints unaligned rows

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ] || ! command -v psql >/dev/null 2>&1; then
  echo "1..0 # SKIP PostgreSQL is not installed (apt-get install postgresql)"
  exit 77
fi

PG_DIR=
PG_AS=
pg_cleanup () {
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    $PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
}
EXTRA_CLEANUP="$EXTRA_CLEANUP pg_cleanup"

pg_start () {
  # Outside $TMP (0700, the test user's): the cluster's user must reach it.
  PG_DIR=$(mktemp -d /tmp/kpr-pg.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then
    pg_user=postgres
    id "$pg_user" >/dev/null 2>&1 || pg_user=nobody
    chown "$pg_user:" "$PG_DIR"
    PG_AS="setpriv --reuid=$(id -u "$pg_user") --regid=$(id -g "$pg_user") --clear-groups --"
  fi
  chmod 0711 "$PG_DIR"
  (cd / && $PG_AS "$PG_BIN/initdb" -D "$PG_DIR/data" -U ca --auth=trust -E UTF8 --no-locale \
     --no-sync >"$PG_DIR/initdb.log" 2>&1) || fail "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
  (cd / && $PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
     -o "-k $PG_DIR -c listen_addresses='' -c max_connections=40" start >/dev/null 2>&1) \
    || fail "PostgreSQL did not start: $(tail -5 "$PG_DIR/log" 2>/dev/null)"
  "$PG_BIN/createdb" -h "$PG_DIR" -U ca certkeeper || fail "createdb"
  PG_URI="postgresql:///certkeeper?host=$PG_DIR&user=ca"
}

pg_sql () {
  psql -X -q -A -t -h "$PG_DIR" -U ca -d certkeeper -v ON_ERROR_STOP=1 -c "$1"
}
