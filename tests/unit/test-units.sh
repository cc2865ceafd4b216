#!/bin/sh
# test-units.sh — the systemd units (packaging/systemd) pass
# "systemd-analyze verify": the kiosk system service and the desktop user
# service, with ExecStart pointing at the agent just built.  Exit 77 when
# systemd-analyze is missing (Debian package: systemd).
#
# Usage: test-units.sh UNITS-SOURCE-DIR PATH-TO-certkeeper-agent
set -eu
UNITS=${1:?usage: $0 UNITS-DIR certkeeper-agent}
AGENT=${2:?usage: $0 UNITS-DIR certkeeper-agent}
command -v systemd-analyze > /dev/null 2>&1 \
    || { echo "SKIP: systemd-analyze is missing (install the systemd package)"; exit 77; }
case "$AGENT" in /*) ;; *) AGENT=$(pwd)/$AGENT ;; esac
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpr-units.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/system" "$TMP/user"
bindir=$(dirname "$AGENT")
sed "s|@bindir@|$bindir|g" "$UNITS/certkeeper-agent.service.in" > "$TMP/system/certkeeper-agent.service"
sed "s|@bindir@|$bindir|g" "$UNITS/user/certkeeper-agent.service.in" > "$TMP/user/certkeeper-agent.service"
failures=0
for mode in system user; do
    flag=; [ "$mode" = user ] && flag=--user
    # A user manager needs a runtime dir; a test has none of its own.
    mkdir -p "$TMP/run"; chmod 700 "$TMP/run"
    # verify also loads the units these depend on; its exit status and
    # any line naming our unit count.
    if XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$TMP/run} systemd-analyze $flag verify "$TMP/$mode/certkeeper-agent.service" > "$TMP/$mode.log" 2>&1 \
        && ! grep -q 'certkeeper-agent.service' "$TMP/$mode.log"; then
        echo "ok: systemd-analyze $flag verify: the $mode unit is clean"
    else
        echo "FAIL: systemd-analyze $flag verify on the $mode unit:" >&2
        cat "$TMP/$mode.log" >&2
        failures=$((failures + 1))
    fi
done
[ "$failures" -eq 0 ]
