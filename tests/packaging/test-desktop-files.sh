#!/bin/sh
# test-desktop-files.sh — the launcher, the agent's autostart entry and the
# AppStream metainfo as built pass desktop-file-validate and appstreamcli
# validate (offline).  Exit 77 when a validator is missing (Debian packages
# desktop-file-utils, appstream).
#
# Usage: test-desktop-files.sh BUILD-GUI-DIR AUTOSTART-DESKTOP-FILE
set -u
GUI=${1:?usage: $0 BUILD-GUI-DIR AUTOSTART-FILE}
AUTOSTART=${2:?usage: $0 BUILD-GUI-DIR AUTOSTART-FILE}
for tool in desktop-file-validate appstreamcli; do
    command -v "$tool" > /dev/null 2>&1 \
        || { echo "SKIP: $tool is missing (packages desktop-file-utils, appstream)"; exit 77; }
done
failures=0
for f in "$GUI"/*.desktop "$AUTOSTART"; do
    if out=$(desktop-file-validate "$f" 2>&1) && ! echo "$out" | grep -q 'error:'; then
        echo "ok: desktop-file-validate $(basename "$f")${out:+ ($out)}"
    else
        echo "FAIL: desktop-file-validate $f: $out" >&2; failures=$((failures + 1))
    fi
done
for f in "$GUI"/*.metainfo.xml; do
    if out=$(appstreamcli validate --no-net --explain "$f" 2>&1); then
        echo "ok: appstreamcli validate $(basename "$f")"
    else
        echo "FAIL: appstreamcli validate $f: $out" >&2; failures=$((failures + 1))
    fi
done
[ "$failures" -eq 0 ]
