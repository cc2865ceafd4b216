# lib-bench.sh — what the bench scripts share: a private work directory and
# a certkeeper-ca on 127.0.0.1, both gone when the script ends.
#   . "$(dirname "$0")/lib-bench.sh" NAME     sets W (work dir), umask 077
#   bench_serve COMMAND…                      runs a `certkeeper-ca serve … --listen
#                                             127.0.0.1:0` command line in the
#                                             background; sets SERVER_PID and PORT
# dash passes no arguments to a sourced file: $1 is then the script's own
# first argument (often a build directory, maybe absolute), so only its
# last component names the directory.
W=$(mktemp -d "${TMPDIR:-/tmp}/kpr-bench-$(basename "$1").XXXXXX")
SERVER_PID=
bench_cleanup() {
    [ -n "$SERVER_PID" ] && { kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
    rm -rf "$W"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
umask 077
unset SOFTHSM2_CONF

bench_serve() {
    "$@" > "$W/server.out" 2> "$W/server.err" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        grep -q '^listening on ' "$W/server.out" 2>/dev/null && break
        sleep 0.1
    done
    PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$W/server.out")
    [ -n "$PORT" ] || { echo "certkeeper-ca did not start: $(cat "$W/server.err")" >&2; exit 1; }
}
