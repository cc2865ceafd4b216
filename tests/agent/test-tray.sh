#!/bin/sh
# test-tray.sh — certkeeper-agent's tray icon (StatusNotifierItem +
# com.canonical.dbusmenu) end to end on a private session bus.  Prepares a
# person (tests/agent/lib.sh): the software token, certkeeper-ca issuing
# 60 s certificates, the identity "tray" enrolled with the CLI, the PIN
# file in certkeeper.conf so the agent may renew unattended; then stops the
# server (the renewal will fail: attention) and runs test-tray (C, GDBus)
# under dbus-run-session.  test-tray plays the panel (a watcher that comes
# after the agent) and the GUI (then a certkeeper-gtk stand-in on PATH),
# and checks the icon's states, its tooltip,
# the menu, Renew now → Renewed, a panel restart and Quit → exit 0.
#
# Usage: test-tray.sh certkeeper certkeeper-ca certkeeper-agent test-tray
AGENT=${3:?usage: $0 certkeeper certkeeper-ca certkeeper-agent test-tray}
DRIVER=${4:?usage: $0 certkeeper certkeeper-ca certkeeper-agent test-tray}
case "$AGENT" in /*) ;; *) AGENT=$(pwd)/$AGENT ;; esac
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
command -v dbus-run-session >/dev/null 2>&1 \
    || { echo "SKIP: dbus-run-session is not installed (package dbus)" >&2; exit 77; }
. "$(dirname "$0")/lib.sh"

init_token
# 120 s of validity (notBefore backdated 60 s): renewal due ~20 s after
# issue, expiry 60 s after issue.
ca_init --lifetime 60s
start_server
enroll tray --no-backup
expect_rc 0 "enroll tray"
mkdir -p "$XDG_CONFIG_HOME/certkeeper"
printf '[agent]\npin-file=%s\n' "$PIN_FILE" > "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"
stop_server

# A stand-in for certkeeper-gtk (the real one needs a display): records
# how many arguments the agent gave it.
mkdir -p "$TMP/bin"
GUI_MARK=$TMP/gui-started
printf '#!/bin/sh\necho "args=$#" > "%s"\n' "$GUI_MARK" > "$TMP/bin/certkeeper-gtk"
chmod +x "$TMP/bin/certkeeper-gtk"

LOG=$TMP/agent.log
rc=0
PATH=$TMP/bin:$PATH dbus-run-session -- "$DRIVER" "$AGENT" "$LOG" "$CA_BIN" "$CA" "$PORT" \
    "$OUTBOX" "$GUI_MARK" || rc=$?
[ "$rc" -eq 0 ] && ok "test-tray on a private bus" \
    || fail "test-tray: exit $rc; agent log: $(tail -25 "$LOG")"

grep -q 'tray.*Renew now.*chosen in the tray' "$LOG" \
    && ok "the agent renewed because the tray's menu said so" \
    || fail "no 'chosen in the tray' line in the agent log: $(tail -10 "$LOG")"
grep -q 'Quit.*chosen' "$LOG" \
    && ok "the agent logged why it stopped" \
    || fail "no Quit line in the agent log: $(tail -5 "$LOG")"
grep -qF -- "$PIN" "$LOG" && fail "the PIN is in the agent log"
finish
