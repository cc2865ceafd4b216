# cli-lib.sh — the `protocols` suite's end-to-end tests of the certkeeper
# command (test-cli-scep.sh, test-cli-cmp.sh): tests/agent/lib.sh (a fresh
# person, the software token, checks) plus a second SoftHSM token "card"
# standing in for a hardware token, and the real peers (micromdm's
# scepserver, `openssl cmp` as a mock CA) as background processes that the
# EXIT trap stops.
#
# Source it with "$@" = PATH-TO-certkeeper PATH-TO-certkeeper-ca.
. "$(dirname "$0")/../agent/lib.sh"

CARD=card
PEER_PID=

# The software token, then "card" beside it in the same SoftHSM store: a
# token certkeeper did not make, which it treats as hardware (keys made
# there never leave it).
init_tokens() {
    init_token
    SOFTHSM2_CONF=$CONF softhsm2-util --init-token --free --label "$CARD" --pin "$PIN" \
        --so-pin "$SO_PIN" > /dev/null || { echo "FAIL: softhsm2-util --init-token card" >&2; exit 1; }
}

stop_peer() {
    if [ -n "$PEER_PID" ]; then
        kill -TERM "$PEER_PID" 2>/dev/null || true
        wait "$PEER_PID" 2>/dev/null || true
        BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $PEER_PID\$//; s/ $PEER_PID / /")
        PEER_PID=
    fi
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (or the peer dies).
wait_port() {
    for _ in $(seq 200); do
        python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
            "$1" 2>/dev/null && return 0
        kill -0 "$PEER_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# key_of NAME KEY: a key id from NAME's record (key-id, next-key-id).
record_value() {
    sed -n "s/^$2=//p" "$STATE/identities/$1.ini" 2>/dev/null
}
