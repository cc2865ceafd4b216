#!/bin/sh
# ca-scale.sh — certkeeper-ca at 50 000 certificates (issue 14, item 5).
#
#   bench/ca-scale.sh BUILD-DIR EST-LOAD-BINARY [REQUESTS]
#
# The database is filled with USERS (25 000) users, each with a current
# certificate and a superseded one (50 000 certificates, 25 000 on the
# CRL); credentials are enrollment codes made with `certkeeper-ca code`.
# Then, REPEAT times, each of these runs (REQUESTS requests each):
#   first1 / first8     first enrollments (users without a certificate),
#                       1 / 8 clients, a fresh TLS handshake per request;
#   renew1 / renew8     superseding enrollments (the user's current
#                       certificate is revoked, the CRL has to follow);
#   first8ka / renew8ka the same at 8 clients over keep-alive connections
#                       (the server's own latency, not the load
#                       generator's handshakes);
# each right after its floor: `openssl s_server` with the CA's own TLS
# key (EC P-256) against `openssl s_time -new` for FLOOR_SECONDS, i.e.
# server CPU per bare TLS 1.3 handshake measured seconds before.  The
# servers run on CPU 0, the clients on CPU 1.  Server CPU per request
# from /proc/PID/task/*/stat: event loop, database writer, CRL publisher.
#
# Environment: USERS (25000), REPEAT (2), RUNS (all six), FLOOR_SECONDS (5).
# Everything it starts is stopped; temp dirs are removed.
set -eu
BUILD=${1:?usage: $0 BUILD-DIR EST-LOAD-BINARY [REQUESTS]}
LOAD=${2:?usage: $0 BUILD-DIR EST-LOAD-BINARY [REQUESTS]}
N=${3:-500}
USERS=${USERS:-25000}
REPEAT=${REPEAT:-2}
RUNS=${RUNS:-first1 renew1 first8 renew8 first8ka renew8ka}
FLOOR_SECONDS=${FLOOR_SECONDS:-5}
CA_BIN=$BUILD/server/certkeeper-ca
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kpr-scale.XXXXXX")  # runs: on disk
PREP=$(mktemp -d /dev/shm/kpr-scale-prep.XXXXXX)      # making codes
SERVER_PID=
cleanup () {
  [ -z "$SERVER_PID" ] || { kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  rm -rf "$WORK" "$PREP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
umask 077
TICK=$(getconf CLK_TCK)
NRUNS=$(echo $RUNS | wc -w)
[ $((N * NRUNS * REPEAT)) -le "$USERS" ] || { echo "REQUESTS × runs × REPEAT must be at most USERS" >&2; exit 2; }

# --- the database: 25 000 users × (current + superseded) -------------------
"$CA_BIN" init "$PREP/ca" >/dev/null
now=$(date +%s)
sqlite3 "$PREP/ca/ca.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
INSERT INTO users(name, phone, created) SELECT 'u' || i, '+15550100', $now FROM n;
INSERT INTO certs(serial, user_id, kind, subject, not_before, not_after, der, issued, revoked,
                  reason, pubkey)
  SELECT upper(hex(randomblob(16))), id, 'simpleenroll', '/CN=' || name, $now - 86400,
         $now + 13 * 86400, randomblob(470), $now - 86400, $now - 3600, 4, lower(hex(randomblob(32)))
  FROM users;
INSERT INTO certs(serial, user_id, kind, subject, not_before, not_after, der, issued, pubkey)
  SELECT upper(hex(randomblob(16))), id, 'simpleenroll', '/CN=' || name, $now - 3600,
         $now + 14 * 86400, randomblob(470), $now - 3600, lower(hex(randomblob(32)))
  FROM users;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N * $NRUNS * $REPEAT)
INSERT INTO users(name, phone, created) SELECT 'n' || i, '+15550100', $now FROM n;
UPDATE crl_state SET generation = generation + 1;
COMMIT;
SQL
# Codes: one set per run; first* for users without a certificate (n…),
# renew* for users with one (u…), each user used once.
codes () { # NAME PREFIX FIRST
  seq "$3" $(($3 + N - 1)) | xargs -P 2 -I{} sh -c 'printf "%s{}:%s\n" "$2" "$("$0" code "$1" "$2{}")"' \
    "$CA_BIN" "$PREP/ca" "$2" >"$PREP/$1.creds"
  [ "$(grep -c ':....-....-....-....$' "$PREP/$1.creds")" -eq "$N" ]
}
next_n=1; next_u=1
for r in $(seq "$REPEAT"); do
  for run in $RUNS; do
    case $run in
      first*) codes "$run-$r" n "$next_n"; next_n=$((next_n + N)) ;;
      *) codes "$run-$r" u "$next_u"; next_u=$((next_u + N)) ;;
    esac
  done
done
cp -a "$PREP/ca" "$WORK/ca"
certs=$(sqlite3 "$WORK/ca/ca.db" 'SELECT COUNT(*) FROM certs')
revoked=$(sqlite3 "$WORK/ca/ca.db" 'SELECT COUNT(*) FROM certs WHERE revoked IS NOT NULL')
echo "database: $certs certificates, $revoked revoked; $N requests per run"

thread_ticks () { # PID NAME: utime+stime of the threads called NAME (all if empty)
  for t in /proc/"$1"/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    if [ -z "$2" ] || [ "$comm" = "$2" ]; then awk '{ print $14 + $15 }' "$t/stat"; fi
  done | awk '{ s += $1 } END { print s + 0 }'
}
ms () { awk "BEGIN { printf \"%.3f\", 1000 * ($1) / $TICK / $2 }"; }

# --- floor: a bare TLS handshake, same key ------------------------------------
floor () {
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  taskset -c 0 openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$WORK/ca/tls.pem" \
    -key "$WORK/ca/tls.key" </dev/null >/dev/null 2>&1 &
  SERVER_PID=$!
  sleep 0.5
  c0=$(thread_ticks "$SERVER_PID" "")
  out=$(taskset -c 1 openssl s_time -connect "127.0.0.1:$port" -new -time "$FLOOR_SECONDS" 2>&1)
  c1=$(thread_ticks "$SERVER_PID" "")
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  conns=$(echo "$out" | sed -n 's/^\([0-9]*\) connections in [0-9.]*s.*/\1/p' | head -n 1)
  FLOOR=$(ms "$c1 - $c0" "$conns")
  FLOOR_CONNS=$conns
}

# --- certkeeper-ca runs ----------------------------------------------------------
run () { # NAME REPEAT: one measured run, right after its floor
  case $1 in *1) clients=1 ;; *) clients=8 ;; esac
  case $1 in *ka) mode=keepalive ;; *) mode=fresh ;; esac
  floor
  taskset -c 0 "$CA_BIN" serve "$WORK/ca" --listen 127.0.0.1:0 --otp-outbox "$WORK/outbox" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q '^listening on ' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
  p=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/server.out")
  # The first CRL is published at start; not measured.
  curl -s --cacert "$WORK/ca/ca.pem" -o /dev/null "https://127.0.0.1:$p/crl"
  sleep 2
  a0=$(thread_ticks "$SERVER_PID" ""); l0=$(thread_ticks "$SERVER_PID" certkeeper-ca)
  w0=$(thread_ticks "$SERVER_PID" kpr-writer); r0=$(thread_ticks "$SERVER_PID" kpr-crl)
  res=$(taskset -c 1 "$LOAD" --url "https://127.0.0.1:$p/.well-known/est/simpleenroll" \
    --cacert "$WORK/ca/ca.pem" --creds "$PREP/$1-$2.creds" --requests "$N" --clients "$clients" \
    --mode "$mode" --max-seconds 300) || echo "est-load: some requests failed" >&2
  a1=$(thread_ticks "$SERVER_PID" ""); l1=$(thread_ticks "$SERVER_PID" certkeeper-ca)
  w1=$(thread_ticks "$SERVER_PID" kpr-writer); r1=$(thread_ticks "$SERVER_PID" kpr-crl)
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  builds=$(sed -n 's/.*CRL [0-9]* published in \([0-9]*\) ms.*/\1/p' "$WORK/server.err" | tr '\n' ',')
  sent=$(echo "$res" | sed -n 's/.* sent=\([0-9]*\).*/\1/p')
  total=$(ms "$a1 - $a0" "$sent")
  echo "$1 #$2 $(echo "$res" | sed 's/^mode=[a-z]* clients=[0-9]* //; s/client_cpu_s=[0-9.]* //; s/max_ms=[0-9.]* //')" \
    "server_ms_per_req=$total loop=$(ms "$l1 - $l0" "$sent") writer=$(ms "$w1 - $w0" "$sent")" \
    "crl=$(ms "$r1 - $r0" "$sent") floor_ms=$FLOOR ($FLOOR_CONNS)" \
    "ratio=$(awk "BEGIN { printf \"%.2f\", $total / $FLOOR }") crl_builds_ms=${builds:-none}"
}
for r in $(seq "$REPEAT"); do
  for run in $RUNS; do
    run "$run" "$r"
  done
done
echo "CRL at the end: $(stat -c %s "$WORK/ca/crl.der") bytes"
