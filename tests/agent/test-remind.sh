#!/bin/sh
# test-remind.sh — the desktop agent's reminders on a private session bus
# (dbus-run-session): the identity "desk" with a 60 s certificate, the
# PIN file in certkeeper.conf, the server stopped so renewals fail and
# the agent reminds.  test-remind (C, GDBus) checks, in two runs:
#   quiet  no notification server: logged, ExpiringSoon still emitted,
#          the agent runs on;
#   later  ActionInvoked(id, "later"): logged, no renewal attempt of its
#          own, the next reminder one reminder interval after "Later".
#
# Usage: test-remind.sh certkeeper certkeeper-ca certkeeper-agent test-remind
AGENT=${3:?usage: $0 certkeeper certkeeper-ca certkeeper-agent test-remind}
DRIVER=${4:?usage: $0 certkeeper certkeeper-ca certkeeper-agent test-remind}
case "$AGENT" in /*) ;; *) AGENT=$(pwd)/$AGENT ;; esac
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
command -v dbus-run-session >/dev/null 2>&1 \
    || { echo "SKIP: dbus-run-session is not installed (package dbus)" >&2; exit 77; }
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 60s
mkdir -p "$XDG_CONFIG_HOME/certkeeper"
printf '[agent]\npin-file=%s\n' "$PIN_FILE" > "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"

# fresh_identity: (re-)enrolls desk, so its renewal falls due during the run.
fresh_identity() {
    start_server
    [ -f "$STATE/identities/desk.ini" ] && run delete desk --yes --pin-file "$PIN_FILE"
    enroll desk --no-backup
    expect_rc 0 "enroll desk"
    stop_server
}

fresh_identity
rc=0
dbus-run-session -- "$DRIVER" quiet "$AGENT" "$TMP/quiet.log" || rc=$?
[ "$rc" -eq 0 ] && ok "test-remind quiet (no notification server)" \
    || fail "test-remind quiet: exit $rc; agent log: $(tail -25 "$TMP/quiet.log")"

fresh_identity
show_json desk
# The scheduler's reminder interval: lifetime/50, 10 s … 1 day
# (kpr_sched_reminder_interval).
INTERVAL=$(json "$JSON" 'max(10, min(86400, int(__import__("datetime").datetime.strptime(j["not_after"], "%Y-%m-%dT%H:%M:%SZ").timestamp() - __import__("datetime").datetime.strptime(j["not_before"], "%Y-%m-%dT%H:%M:%SZ").timestamp()) // 50))')
[ -n "$INTERVAL" ] || { echo "FAIL: no reminder interval from $(cat "$JSON")" >&2; exit 1; }
rc=0
dbus-run-session -- "$DRIVER" later "$AGENT" "$TMP/later.log" "$INTERVAL" || rc=$?
[ "$rc" -eq 0 ] && ok "test-remind later" \
    || fail "test-remind later: exit $rc; agent log: $(tail -25 "$TMP/later.log")"
grep -qF -- "$PIN" "$TMP/quiet.log" "$TMP/later.log" && fail "the PIN is in an agent log"
finish
