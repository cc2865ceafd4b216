#!/bin/sh
# test-units.sh — the systemd units (packaging/systemd) pass
# "systemd-analyze verify": the kiosk system service, the desktop user
# service and certkeeper-ca's system service, with ExecStart pointing at
# the programs just built; the D-Bus
# activation file (packaging/dbus) hands over to the user unit.  Exit 77 when
# systemd-analyze is missing (Debian package: systemd).
#
# Usage: test-units.sh UNITS-SOURCE-DIR PATH-TO-certkeeper-agent [PATH-TO-certkeeper-ca]
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
subst() { sed -e "s|@bindir@|$bindir|g" -e "s|@policy_root@|/etc|g" "$1"; }
subst "$UNITS/certkeeper-agent.service.in" > "$TMP/system/certkeeper-agent.service"
subst "$UNITS/user/certkeeper-agent.service.in" > "$TMP/user/certkeeper-agent.service"
# certkeeper-ca's unit, when the server is built.
CA=${3:-}
modes="system user"
if [ -n "$CA" ]; then
    case "$CA" in /*) ;; *) CA=$(pwd)/$CA ;; esac
    mkdir -p "$TMP/ca"
    sed -e "s|@bindir@|$(dirname "$CA")|g" "$UNITS/certkeeper-ca.service.in" > "$TMP/ca/certkeeper-ca.service"
    modes="$modes ca"
fi
failures=0
for mode in $modes; do
    flag=; [ "$mode" = user ] && flag=--user
    unit=certkeeper-agent.service; [ "$mode" = ca ] && unit=certkeeper-ca.service
    # A user manager needs a runtime dir; a test has none of its own.
    mkdir -p "$TMP/run"; chmod 700 "$TMP/run"
    # verify also loads the units these depend on; its exit status and
    # any line naming our unit count.
    if XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$TMP/run} systemd-analyze $flag verify --man=no "$TMP/$mode/$unit" > "$TMP/$mode.log" 2>&1 \
        && ! grep -q "$unit" "$TMP/$mode.log"; then
        echo "ok: systemd-analyze $flag verify: the $mode unit is clean"
    else
        echo "FAIL: systemd-analyze $flag verify on the $mode unit:" >&2
        cat "$TMP/$mode.log" >&2
        failures=$((failures + 1))
    fi
done
# D-Bus activation and the user unit are one instance: the activation
# file names the unit, which waits for the same bus name (Type=dbus).
DBUS_FILE=$UNITS/../dbus/org.certkeeper.Agent1.service.in
name=$(sed -n 's/^Name=//p' "$DBUS_FILE")
service=$(sed -n 's/^SystemdService=//p' "$DBUS_FILE")
busname=$(sed -n 's/^BusName=//p' "$UNITS/user/certkeeper-agent.service.in")
type=$(sed -n 's/^Type=//p' "$UNITS/user/certkeeper-agent.service.in")
if [ "$service" = certkeeper-agent.service ] && [ "$busname" = "$name" ] && [ "$type" = dbus ] \
    && ! grep -q -- '--headless' "$UNITS/user/certkeeper-agent.service.in" \
    && grep -q -- '--headless' "$UNITS/certkeeper-agent.service.in"; then
    echo "ok: activation ($name) starts the user unit, which runs the desktop mode (Type=dbus)"
else
    echo "FAIL: activation file and user unit disagree: Name=$name SystemdService=$service BusName=$busname Type=$type" >&2
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ]
