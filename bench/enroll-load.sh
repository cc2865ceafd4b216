#!/bin/sh
# enroll-load.sh — certkeeper-ca simpleenroll throughput (bench/README.md).
#
#   bench/enroll-load.sh BUILD-DIR EST-LOAD-BINARY [REQUESTS]
#
# Credential modes (USERS_MODES): uniq = one user per request (no
# revocation); same = every request by one user "alice" (each issuance
# revokes the previous certificate and rewrites the CRL; all REQUESTS codes
# of alice are live at the start, so each check of a code hashes against
# up to REQUESTS stored codes); repeat = REQUESTS/10 users with 10 codes
# each, used round-robin (90 % of issuances revoke and rewrite the CRL, but
# at most 10 live codes per user).
#
# For each credential mode (uniq: one user per request; same: every request
# by the same user, so each one revokes the previous certificate and
# rewrites the CRL), each TLS mode (fresh handshake / keep-alive) and 1, 8,
# 64 concurrent clients: a fresh copy of a prepared CA directory on the
# normal disk, certkeeper-ca serve pinned to CPU 0, est-load pinned to
# CPU 1, REQUESTS enrollments (default 1000).  Prints one line per run with
# the server's CPU time from /proc/PID/stat.  Environment: USERS_MODES
# (default "uniq same"), TLS_MODES ("fresh keepalive"), CLIENTS ("1 8 64"),
# SERVER_PRELOAD (an LD_PRELOAD for the server, e.g. nodelay-shim.so).  Everything it starts is
# stopped; every client run is capped at 120 s.
set -eu
BUILD=${1:?usage: $0 BUILD-DIR EST-LOAD-BINARY [REQUESTS]}
LOAD=${2:?usage: $0 BUILD-DIR EST-LOAD-BINARY [REQUESTS]}
N=${3:-1000}
CA_BIN=$BUILD/server/certkeeper-ca
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kpr-bench.XXXXXX")   # runs: on disk
PREP=$(mktemp -d /dev/shm/kpr-bench-prep.XXXXXX)      # preparation only
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && { kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
    rm -rf "$WORK" "$PREP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
umask 077
TICK=$(getconf CLK_TCK)

# --- templates (on tmpfs so that 2N fsyncing CLI calls take seconds) ------
USERS_MODES=${USERS_MODES:-uniq same}
for users in $USERS_MODES; do
    "$CA_BIN" init "$PREP/$users" > /dev/null
    if [ "$users" = uniq ]; then
        seq "$N" | xargs -P 2 -I{} "$CA_BIN" user add "$PREP/uniq" u{} --phone +15550100 > /dev/null
        seq "$N" | xargs -P 2 -I{} sh -c 'printf "u{}:%s\n" "$("$0" code "$1" u{})"' "$CA_BIN" "$PREP/uniq" > "$PREP/uniq.creds"
    elif [ "$users" = same ]; then
        "$CA_BIN" user add "$PREP/same" alice --phone +15550100 > /dev/null
        seq "$N" | xargs -P 2 -I{} sh -c 'printf "alice:%s\n" "$("$0" code "$1" alice)"' "$CA_BIN" "$PREP/same" > "$PREP/same.creds"
    else # repeat: N/10 users with 10 codes each, used round-robin
        U=$((N / 10))
        seq "$U" | xargs -P 2 -I{} "$CA_BIN" user add "$PREP/repeat" r{} --phone +15550100 > /dev/null
        for round in $(seq 10); do seq "$U"; done | xargs -P 2 -I{} sh -c 'printf "r{}:%s\n" "$("$0" code "$1" r{})"' "$CA_BIN" "$PREP/repeat" > "$PREP/repeat.tmp"
        # round-robin: request i is by user r(i mod U), so each user comes back every U requests
        python3 -c '
import sys, collections
q = collections.defaultdict(list)
for l in open(sys.argv[1]): q[l.split(":")[0]].append(l)
users = sorted(q, key=lambda u: int(u[1:]))
for r in range(10):
    for u in users: sys.stdout.write(q[u][r])' "$PREP/repeat.tmp" > "$PREP/repeat.creds"
    fi
    [ "$(grep -c ':....-....-....-....$' "$PREP/$users.creds")" -eq "$N" ]
done

cpu_ticks() { # PID: utime + stime in clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

run_one() { # CREDS-MODE TLS-MODE CLIENTS
    dir=$WORK/$1-$2-$3
    cp -a "$PREP/$1" "$dir"
    LD_PRELOAD=${SERVER_PRELOAD:-} taskset -c 0 "$CA_BIN" serve "$dir" --listen 127.0.0.1:0 --otp-outbox "$WORK/outbox" \
        > "$WORK/server.out" 2> "$WORK/server.err" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        grep -q '^listening on ' "$WORK/server.out" 2>/dev/null && break
        sleep 0.1
    done
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/server.out")
    c0=$(cpu_ticks "$SERVER_PID")
    rc=0
    out=$(taskset -c 1 "$LOAD" --url "https://127.0.0.1:$port/.well-known/est/simpleenroll" \
        --cacert "$dir/ca.pem" --creds "$PREP/$1.creds" --requests "$N" --clients "$3" \
        --mode "$2" --max-seconds 120) || rc=$?
    c1=$(cpu_ticks "$SERVER_PID")
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
    wall=$(echo "$out" | sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p')
    sent=$(echo "$out" | sed -n 's/.* sent=\([0-9]*\).*/\1/p')
    echo "users=$1 $out server_cpu_s=$(awk "BEGIN{printf \"%.2f\", ($c1-$c0)/$TICK}")" \
        "server_cpu_pct=$(awk "BEGIN{printf \"%.0f\", 100*($c1-$c0)/$TICK/$wall}")" \
        "server_cpu_ms_per_req=$(awk "BEGIN{printf \"%.2f\", 1000*($c1-$c0)/$TICK/$sent}")" \
        "crl_bytes=$(stat -c %s "$dir/crl.der") exit=$rc"
    rm -rf "$dir"
}

for users in $USERS_MODES; do
    for tls in ${TLS_MODES:-fresh keepalive}; do
        for c in ${CLIENTS:-1 8 64}; do
            run_one "$users" "$tls" "$c"
        done
    done
done
