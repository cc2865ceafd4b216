#!/bin/sh
# test-dumpable.sh — certkeeper-gtk holds PINs and passphrases: like the
# other programs it must not be dumpable (no core file, no ptrace or
# /proc/PID/mem by the user's other processes).  The kernel shows it: the
# /proc/PID files of a non-dumpable process belong to root, whoever runs
# it.  So the window runs as a user that is not root (as "nobody" when the
# test runs as root, as in CI) and /proc/PID/environ must belong to root.
# It failed before certkeeper-gtk's main() called PR_SET_DUMPABLE (issue
# 13, item 15: a 275 MB core on SIGABRT).
#
# Usage: test-dumpable.sh certkeeper certkeeper-ca
GTK=${KPR_BUILD_DIR:?}/gui/certkeeper-gtk
. "$(dirname "$0")/../agent/lib.sh"
. "$(dirname "$0")/lib-gui.sh"

as_user=
if [ "$(id -u)" -eq 0 ]; then
    command -v setpriv >/dev/null 2>&1 || skip "setpriv is not installed (package util-linux)"
    as_user="setpriv --reuid=65534 --regid=65534 --clear-groups --"
    chmod 755 "$TMP"
    # The build tree may sit where "nobody" cannot reach it (/root, a
    # private CI directory): the program and its schema go to $TMP.
    cp "$GTK" "$TMP/certkeeper-gtk"
    GTK=$TMP/certkeeper-gtk
    if [ -n "${GSETTINGS_SCHEMA_DIR:-}" ]; then
        cp -r "$GSETTINGS_SCHEMA_DIR" "$TMP/schemas"
        GSETTINGS_SCHEMA_DIR=$TMP/schemas
        export GSETTINGS_SCHEMA_DIR
    fi
    chmod -R a+rX "$TMP/certkeeper-gtk" "$TMP/schemas" 2>/dev/null || true
fi
HOME_DIR=$TMP/gtk-home
mkdir -p "$HOME_DIR"
chmod 777 "$HOME_DIR"
env HOME="$HOME_DIR" XDG_CONFIG_HOME="$HOME_DIR/config" XDG_STATE_HOME="$HOME_DIR/state" \
    XDG_DATA_HOME="$HOME_DIR/data" XDG_CACHE_HOME="$HOME_DIR/cache" XDG_RUNTIME_DIR="$HOME_DIR" \
    $as_user dbus-run-session -- "$GTK" > "$TMP/gtk.out" 2>&1 &
SESSION=$!
BG_PIDS="$BG_PIDS $SESSION"
pid=
for _ in $(seq 100); do
    pid=$(pgrep -f -n "^$GTK" || true)
    [ -n "$pid" ] && [ -r "/proc/$pid/status" ] && break
    sleep 0.1
done
[ -n "$pid" ] || fail "certkeeper-gtk did not start: $(cat "$TMP/gtk.out")"
# The session's bus too: cleanup's SIGKILL of dbus-run-session would
# leave it running as nobody.
BG_PIDS="$BG_PIDS $pid $(pgrep -P "$SESSION" -x dbus-daemon || true)"
sleep 2
kill -0 "$pid" 2>/dev/null || fail "certkeeper-gtk exited at once: $(cat "$TMP/gtk.out")"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
owner=$(stat -c %u "/proc/$pid/environ")
[ "$uid" != 0 ] || fail "certkeeper-gtk runs as root: the check needs another user"
[ "$owner" = 0 ] && ok "certkeeper-gtk (uid $uid) is not dumpable: its /proc files belong to root" \
    || fail "certkeeper-gtk (uid $uid) is dumpable: /proc/$pid/environ belongs to uid $owner"
kill "$pid" 2>/dev/null
# dbus-run-session stops its bus when the window has gone.
wait "$SESSION" 2>/dev/null || true
finish
