#!/bin/sh
# test-wake.sh — certkeeper-agent re-checks after a resume from suspend, in
# the desktop and in the kiosk mode.  A second private bus plays the system
# bus (DBUS_SYSTEM_BUS_ADDRESS), on which test-wake (C, GDBus) owns
# org.freedesktop.login1 and emits PrepareForSleep like logind; the session
# bus comes from dbus-run-session.  See test-wake.c for what is checked and
# for what is not (the network side).
#
# Usage: test-wake.sh certkeeper certkeeper-ca certkeeper-agent test-wake
AGENT=${3:?usage: $0 certkeeper certkeeper-ca certkeeper-agent test-wake}
DRIVER=${4:?usage: $0 certkeeper certkeeper-ca certkeeper-agent test-wake}
case "$AGENT" in /*) ;; *) AGENT=$(pwd)/$AGENT ;; esac
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
for tool in dbus-run-session dbus-daemon; do
    command -v "$tool" >/dev/null 2>&1 \
        || { echo "SKIP: $tool is not installed (package dbus)" >&2; exit 77; }
done
. "$(dirname "$0")/lib.sh"

# The "system" bus: a private dbus-daemon (session policy, so the driver
# may own logind's name); stopped by lib.sh's cleanup.
dbus-daemon --session --fork --nopidfile --print-address=3 --print-pid=4 \
    3> "$TMP/system-bus.address" 4> "$TMP/system-bus.pid" 2>/dev/null
BG_PIDS="$BG_PIDS $(cat "$TMP/system-bus.pid")"
DBUS_SYSTEM_BUS_ADDRESS=$(head -n 1 "$TMP/system-bus.address")
[ -n "$DBUS_SYSTEM_BUS_ADDRESS" ] || { echo "FAIL: the private system bus did not start" >&2; exit 1; }
export DBUS_SYSTEM_BUS_ADDRESS

init_token
# certkeeper-ca backdates notBefore by 60 s: renewal due ~20 s after issue.
ca_init --lifetime 60s
start_server
enroll desk --no-backup
expect_rc 0 "enroll desk"
show_json desk
OLD_SERIAL=$(json "$JSON" 'j["serial"]')
RENEW_AT=$(json "$JSON" 'j["renew_at"]')
[ -n "$OLD_SERIAL" ] && [ -n "$RENEW_AT" ] || { echo "FAIL: no serial/renew_at: $(cat "$JSON")" >&2; exit 1; }
mkdir -p "$XDG_CONFIG_HOME/certkeeper"
printf '[agent]\npin-file=%s\n' "$PIN_FILE" > "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"

# The agent starts with an empty store (see test-wake.c).
IDS=$STATE/identities
mv "$IDS" "$TMP/identities.away"

LOG=$TMP/agent.log
RESULT=$TMP/renewed-serial
rc=0
dbus-run-session -- "$DRIVER" desktop "$AGENT" "$LOG" "$IDS" "$TMP/identities.away" \
    "$RENEW_AT" "$OLD_SERIAL" "$RESULT" || rc=$?
[ "$rc" -eq 0 ] && ok "test-wake desktop" \
    || fail "test-wake desktop: exit $rc; agent log: $(tail -25 "$LOG")"
if [ -s "$RESULT" ]; then
    show_json desk
    check_json "$JSON" "j['state'] == 'ACTIVE' and j['serial'].lower() == '$(cat "$RESULT")'.lower()" \
        "certkeeper show --json agrees with the serial renewed after the resume"
fi

# The kiosk mode: the same identity, declared in a config.
cat > "$TMP/agent.conf" <<CONF
[identity desk]
server=$SERVER
username=alice
pin-file=$PIN_FILE
ca-file=$CA_PEM
CONF
LOG=$TMP/headless.log
rc=0
dbus-run-session -- "$DRIVER" headless "$AGENT" "$LOG" "$TMP/agent.conf" || rc=$?
[ "$rc" -eq 0 ] && ok "test-wake headless" \
    || fail "test-wake headless: exit $rc; agent log: $(tail -25 "$LOG")"

# The network coming back (see test-wake.c): a CA of 10 min certificates,
# renewal at 0.1 of the lifetime (due at once), the server down.
run delete desk --yes --pin-file "$PIN_FILE"
expect_rc 0 "delete desk (the 60 s identity)"
stop_server # the 60 s CA's: start_server below takes SERVER_PID over
CA=$TMP/ca-net
ca_init --lifetime 600s
start_server
enroll net --no-backup
expect_rc 0 "enroll net"
stop_server
printf '[agent]\npin-file=%s\nrenew-at=0.1\n' "$PIN_FILE" > "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"
NETLOG=$TMP/network.log
rc=0
dbus-run-session -- "$DRIVER" network "$AGENT" "$NETLOG" "$CA_BIN" "$CA" "$PORT" "$OUTBOX" || rc=$?
[ "$rc" -eq 0 ] && ok "test-wake network" \
    || fail "test-wake network: exit $rc; agent log: $(tail -25 "$NETLOG")"
grep -qF -- "$PIN" "$TMP/agent.log" "$LOG" "$NETLOG" && fail "the PIN is in an agent log"
finish
