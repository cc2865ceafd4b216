#!/bin/sh
# test-cli-agent.sh — the certkeeper command and a running certkeeper-agent
# (desktop mode) on a private session bus (dbus-run-session):
#   * no session bus at all: status says "not running", no error, and
#     status --json has "agent": {"running": false}; with a bus but no
#     agent, a busy store fails at once (BUSY, exit 18);
#   * an agent runs: status reports it and its next check (text and JSON);
#     while it renews (the server's port is a black hole that holds the
#     connection for a few seconds) the agent holds the store's lock, and
#     'certkeeper list' waits for it and succeeds instead of failing;
#     on a terminal (script(1)) it says "certkeeper-agent is renewing;
#     waiting…";
#   * the agent without a PIN file: after Renew → Error.NeedsSecret the
#     identity waits for the person: status exits 26 and says what is
#     needed, status --json has agent.waiting/needs "pin".
#
# Usage: test-cli-agent.sh certkeeper certkeeper-ca certkeeper-agent
AGENT=${3:?usage: $0 certkeeper certkeeper-ca certkeeper-agent}
case "$AGENT" in /*) ;; *) AGENT=$(pwd)/$AGENT ;; esac
for tool in dbus-run-session dbus-send flock script; do
    command -v "$tool" >/dev/null 2>&1 \
        || { echo "SKIP: $tool is not installed (packages dbus, util-linux, bsdutils)" >&2; exit 77; }
done
# Everything below runs on a private session bus.
if [ -z "${KPR_TEST_IN_BUS:-}" ]; then
    KPR_TEST_IN_BUS=1 exec dbus-run-session -- "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

# run_nobus ARGS...: certkeeper as in a session without a bus (ssh, cron).
run_nobus() {
    N=$((N + 1)); OUT=$TMP/out.$N; ERR=$TMP/err.$N; RC=0
    mkdir -p "$TMP/norun"; chmod 700 "$TMP/norun"
    env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$TMP/norun" \
        "$CERTKEEPER" "$@" < /dev/null > "$OUT" 2> "$ERR" || RC=$?
    echo "  \$ certkeeper $* (no session bus) -> exit $RC"
}

agent_on_bus() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.certkeeper.Agent1 2>/dev/null | grep -q true
}

AGENT_PID=
start_agent() { # LOG
    "$AGENT" 2> "$1" &
    AGENT_PID=$!
    BG_PIDS="$BG_PIDS $AGENT_PID"
    for _ in $(seq 150); do
        agent_on_bus && grep -q 'nothing scheduled\|next wake-up in [1-9]' "$1" && return 0
        sleep 0.2
    done
    echo "FAIL: the agent did not start: $(cat "$1")" >&2
    exit 1
}

stop_agent() { # WHAT
    kill -TERM "$AGENT_PID"
    rc=0; wait "$AGENT_PID" || rc=$?
    [ "$rc" -eq 0 ] && ok "$1: the agent ends with exit 0 after SIGTERM" || fail "$1: agent exit $rc"
    BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $AGENT_PID\$//; s/ $AGENT_PID / /")
}

renew_async() { # OUTFILE
    dbus-send --session --print-reply --reply-timeout=60000 --dest=org.certkeeper.Agent1 \
        /org/certkeeper/Agent1 org.certkeeper.Agent1.Renew string:desk > "$1" 2>&1 &
    RENEW_PID=$!
    BG_PIDS="$BG_PIDS $RENEW_PID"
}

# black_hole SECONDS: the server's port accepts and holds every connection
# for SECONDS, then closes them (a server that does not answer).
black_hole() {
    python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
end = time.time() + float(sys.argv[2]); held = []
print("ready", flush=True)
while time.time() < end:
    s.settimeout(max(end - time.time(), 0.01))
    try: held.append(s.accept()[0])
    except OSError: pass
for c in held: c.close()
s.close()' "$PORT" "$1" > "$TMP/hole.out" 2>&1 &
    HOLE_PID=$!
    BG_PIDS="$BG_PIDS $HOLE_PID"
    for _ in $(seq 50); do grep -q ready "$TMP/hole.out" && break; sleep 0.1; done
}

init_token
ca_init
start_server
enroll desk --no-backup
expect_rc 0 "enroll desk"
stop_server

# --- no session bus, no agent --------------------------------------------------
run_nobus status
expect_rc 0 "status without a session bus"
expect_stdout "certkeeper-agent: not running" "status without a session bus"
[ -s "$ERR" ] && fail "status without a session bus wrote to stderr: $(cat "$ERR")"
run_nobus status --json
check_json "$OUT" 'j[0]["name"] == "desk" and j[0]["agent"] == {"running": False}' \
    "status --json without a session bus: agent.running is false"
run list --json
check_json "$OUT" '"agent" not in j[0]' "list --json has no agent key (status only)"

flock "$STATE/.lock" sleep 5 &
LOCK_PID=$!
BG_PIDS="$BG_PIDS $LOCK_PID"
sleep 0.5
t0=$(date +%s)
run list
t1=$(date +%s)
expect_rc 18 "list while another certkeeper holds the lock and no agent runs"
[ $((t1 - t0)) -le 2 ] && ok "without an agent a busy store fails at once" \
    || fail "list took $((t1 - t0)) s with no agent to wait for"
wait "$LOCK_PID" || true

# --- an agent that renews unattended -------------------------------------------
mkdir -p "$XDG_CONFIG_HOME/certkeeper"
printf '[agent]\npin-file=%s\n' "$PIN_FILE" > "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"
LOG=$TMP/agent.log
start_agent "$LOG"
run status
expect_rc 0 "status with an agent and an active identity"
expect_stdout "certkeeper-agent: running, next check" "status with an agent"
run status --json
now=$(date +%s)
check_json "$OUT" "j[0]['agent']['running'] and j[0]['agent']['next_check'] > $now and not j[0]['agent']['waiting'] and j[0]['agent']['needs'] is None" \
    "status --json: agent running, next_check in the future, not waiting"

black_hole 6
renew_async "$TMP/renew1.out"
for _ in $(seq 50); do grep -q 'desk: renewal (now)' "$LOG" && break; sleep 0.1; done
sleep 0.5
if flock -n "$STATE/.lock" true; then
    fail "the agent does not hold the lock during its renewal (the test cannot check waiting)"
else
    ok "the agent holds the store's lock while it renews"
fi
t0=$(date +%s)
run list
t1=$(date +%s)
expect_rc 0 "list while certkeeper-agent renews: waits, then works"
expect_stdout "desk" "list after waiting"
[ $((t1 - t0)) -ge 2 ] && ok "list waited $((t1 - t0)) s for the agent's renewal" \
    || fail "list did not wait (it took $((t1 - t0)) s)"
grep -q 'waiting' "$ERR" && fail "'waiting…' was printed although stderr is not a terminal"
wait "$RENEW_PID" || true
wait "$HOLE_PID" || true
grep -q 'desk: renewal failed' "$LOG" && ok "the agent's renewal failed on the black hole, as planned" \
    || fail "the agent log has no failed renewal: $(tail -5 "$LOG")"

# On a terminal the wait is explained.
black_hole 4
renew_async "$TMP/renew2.out"
for _ in $(seq 50); do [ "$(grep -c 'desk: renewal (now)' "$LOG")" -ge 2 ] && break; sleep 0.1; done
sleep 0.5
script -qec "'$CERTKEEPER' list" /dev/null < /dev/null > "$TMP/tty.out" 2>&1 || true
grep -q 'certkeeper-agent is renewing; waiting' "$TMP/tty.out" \
    && ok "on a terminal: 'certkeeper-agent is renewing; waiting…'" \
    || fail "no waiting message on a terminal: $(cat "$TMP/tty.out")"
grep -q 'desk' "$TMP/tty.out" && ok "on a terminal the list follows the wait" \
    || fail "no list after the wait on a terminal: $(cat "$TMP/tty.out")"
wait "$RENEW_PID" || true
wait "$HOLE_PID" || true
stop_agent "with a PIN file"

# --- an agent that needs the person ----------------------------------------------
rm -f "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"
LOG=$TMP/agent2.log
start_agent "$LOG"
renew_async "$TMP/renew3.out"
wait "$RENEW_PID" || true
grep -q 'Error.NeedsSecret' "$TMP/renew3.out" && ok "Renew without the PIN: NeedsSecret" \
    || fail "Renew without the PIN: $(cat "$TMP/renew3.out")"
run status
expect_rc 26 "status while the agent waits for the PIN"
expect_stdout "desk waits for you: renewing it needs the token's PIN" "status names what is needed"
expect_stdout "certkeeper-agent: running" "status while the agent waits"
run status --json
check_json "$OUT" "j[0]['agent']['running'] and j[0]['agent']['waiting'] and j[0]['agent']['needs'] == 'pin' and 'PIN' in j[0]['agent']['message']" \
    "status --json: agent.waiting, needs pin, with the message"
stop_agent "without a PIN file"
grep -qF -- "$PIN" "$TMP/agent.log" "$TMP/agent2.log" "$TMP"/out.* "$TMP"/err.* && fail "the PIN is in a log or an output"
finish
