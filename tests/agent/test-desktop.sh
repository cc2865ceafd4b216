#!/bin/sh
# test-desktop.sh — certkeeper-agent's desktop mode end to end on a
# private session bus.  Prepares a person (tests/agent/lib.sh): the
# software token, certkeeper-ca issuing 60 s certificates, the identity
# "desk" enrolled with the CLI, the PIN file named in certkeeper.conf so
# the agent may renew unattended; then stops the server (the renewal will
# fail and the agent must remind) and runs test-desktop (C, GDBus) under
# dbus-run-session: it plays the notification server and checks List,
# Renew("nosuch"), the reminder with its actions, ActionInvoked("renew")
# → Renewed, the bubbles after renewals nobody watched (with and without
# a running Chromium that needs a restart), SIGTERM, and (the PIN file gone) Renew → Error.NeedsSecret.  Afterwards 'certkeeper show --json' must agree
# with the serial of the Renewed signal.
#
# Usage: test-desktop.sh certkeeper certkeeper-ca certkeeper-agent test-desktop
AGENT=${3:?usage: $0 certkeeper certkeeper-ca certkeeper-agent test-desktop}
DRIVER=${4:?usage: $0 certkeeper certkeeper-ca certkeeper-agent test-desktop}
case "$AGENT" in /*) ;; *) AGENT=$(pwd)/$AGENT ;; esac
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
command -v dbus-run-session >/dev/null 2>&1 \
    || { echo "SKIP: dbus-run-session is not installed (package dbus)" >&2; exit 77; }
. "$(dirname "$0")/lib.sh"

init_token
# certkeeper-ca backdates notBefore by 60 s: 120 s of validity, renewal
# due 14-20 s after issue, expiry 60 s after issue.
ca_init --lifetime 60s
start_server
# Not set up in the browsers yet: the first renewal registers desk's
# module while the (fake) Chromium runs, which then needs a restart.
enroll desk --no-backup --no-browser
expect_rc 0 "enroll desk"
# A person who uses Chromium (its config dir), and a stand-in for its
# running browser process: a program named "chromium" that sleeps.
mkdir -p "$XDG_CONFIG_HOME/chromium" "$TMP/bin"
cp "$(command -v sleep)" "$TMP/bin/chromium"
show_json desk
OLD_SERIAL=$(json "$JSON" 'j["serial"]')
[ -n "$OLD_SERIAL" ] || { echo "FAIL: no serial for desk: $(cat "$JSON")" >&2; exit 1; }
mkdir -p "$XDG_CONFIG_HOME/certkeeper"
AGENT_CONF=$XDG_CONFIG_HOME/certkeeper/certkeeper.conf
printf '[agent]\npin-file=%s\n' "$PIN_FILE" > "$AGENT_CONF"
stop_server

LOG=$TMP/agent.log
RESULT=$TMP/renewed-serial
rc=0
dbus-run-session -- "$DRIVER" "$AGENT" "$LOG" "$CA_BIN" "$CA" "$PORT" "$OUTBOX" \
    "$OLD_SERIAL" "$RESULT" "$AGENT_CONF" "$TMP/bin/chromium" || rc=$?
# The stand-in Chromium, should the driver have ended without stopping it.
for exe in /proc/[0-9]*/exe; do
    [ "$(readlink "$exe" 2> /dev/null)" = "$TMP/bin/chromium" ] || continue
    pid=${exe#/proc/}
    kill -KILL "${pid%/exe}" 2> /dev/null || true
done
[ "$rc" -eq 0 ] && ok "test-desktop on a private bus" \
    || fail "test-desktop: exit $rc; agent log: $(tail -25 "$LOG")"

if [ -s "$RESULT" ]; then
    show_json desk
    check_json "$JSON" "j['state'] == 'ACTIVE' and j['serial'].lower() == '$(cat "$RESULT")'.lower()" \
        "certkeeper show --json agrees with the Renewed serial"
fi
grep -q 'Renew now.*chosen in the notification' "$LOG" \
    && ok "the agent renewed because the notification's action said so" \
    || fail "no 'chosen in the notification' line in the agent log: $(tail -10 "$LOG")"
grep -qF -- "$PIN" "$LOG" && fail "the PIN is in the agent log"
finish
