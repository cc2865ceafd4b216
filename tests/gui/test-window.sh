#!/bin/sh
# test-window.sh — certkeeper-gtk's main window against real identities.
#
# Prepares a person (tests/agent/lib.sh) with identities in every state the
# CLI and three certkeeper-ca servers can produce:
#   fresh    active, exportable (software token), no backup → "Backup missing"
#   locked   active, locked with "certkeeper lock" → Back up/Lock insensitive
#   strong   active, strong protection, made non-exportable at once
#   due      60 s certificate, past 2/3 of its lifetime → "Renewal due"
#   old      60 s certificate, past notAfter → "Expired"
#   waiting  a manual-approval server → "Pending"
#   broken   a stored FAILED state (written into the record, as the
#            lifecycle tests do: the agent has no way to fail it on demand)
# then runs the C driver twice under Xvfb: once before any identity exists
# (the empty state), once with all of them (rows, badges, subtitles,
# button sensitivity, the detail page and its history against
# `certkeeper show --json`, app.show over D-Bus as the tray calls it,
# Renew now on "locked" cancelled in the PIN dialog, and Renew now on
# "fresh" through the worker, the PIN dialog and the secret-word dialog).
# Afterwards `certkeeper show --json fresh` must have the serial the
# window showed after the renewal.
#
# Usage: test-window.sh certkeeper certkeeper-ca test-window
DRIVER=${3:?usage: $0 certkeeper certkeeper-ca test-window}
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
. "$(dirname "$0")/../agent/lib.sh"
. "$(dirname "$0")/lib-gui.sh"

init_token

# --- the empty state ---------------------------------------------------------
gui_run "$DRIVER" empty
[ "$GUI_RC" -eq 0 ] && ok "empty state" || fail "empty state: exit $GUI_RC"

# --- server 1: the default lifetime (two weeks) ---------------------------------
# One account per identity: certkeeper-ca keeps one certificate per
# account, and the client shows the others revoked (issue 13, item 3).
ca_init
"$CA_BIN" user add "$CA" carol --phone +15550102 > /dev/null
"$CA_BIN" user add "$CA" dave --phone +15550103 > /dev/null
start_server
BG_PIDS="$BG_PIDS $SERVER_PID"
ENROLL_USER=alice
enroll fresh
expect_rc 0 "enroll fresh"
ENROLL_USER=bob
enroll locked
expect_rc 0 "enroll locked"
run lock locked --yes --pin-file "$PIN_FILE"
expect_rc 0 "lock locked"
ENROLL_USER=carol
enroll strong --protection strong --no-backup
expect_rc 0 "enroll strong"
ENROLL_USER=dave
enroll broken --no-backup
expect_rc 0 "enroll broken"
# FAILED is a state the agent records, not one a server can be asked for.
sed -i 's/^state=.*/state=FAILED/' "$STATE/identities/broken.ini"
printf 'failed-reason=%s\n' "The server refused the renewal: account disabled" \
    >> "$STATE/identities/broken.ini"
show_json broken
check_json "$JSON" 'j["state"] == "FAILED"' "broken is stored as FAILED"

OUTBOX1=$OUTBOX

# --- server 2: manual approval ---------------------------------------------------
SERVER_PID=
CA=$TMP/ca-manual
OUTBOX=$TMP/outbox-manual
ca_init --approval manual
start_server
BG_PIDS="$BG_PIDS $SERVER_PID"
ENROLL_USER=alice
enroll waiting
expect_rc 22 "enroll waiting (pending)"

# --- server 3: 60 s certificates (notBefore backdated 60 s: due 14-20 s
# after issue, expired 60 s after issue) ----------------------------------------
SERVER_PID=
CA=$TMP/ca-short
OUTBOX=$TMP/outbox-short
ca_init --lifetime 60s
start_server
BG_PIDS="$BG_PIDS $SERVER_PID"
# KPR_GUI_QUICK=1 (by hand, while working on the window): no waiting,
# so no "old" and no "due".
SHORT_NAMES="old due"
if [ -n "${KPR_GUI_QUICK:-}" ]; then
    SHORT_NAMES=
else
    ENROLL_USER=alice
    enroll old --no-backup
    expect_rc 0 "enroll old"
    OLD_AT=$(date +%s)
    # "due" is enrolled late enough to be due, not expired, while the
    # driver runs.
    sleep 40
    ENROLL_USER=bob
    enroll due --no-backup
    expect_rc 0 "enroll due"
    DUE_AT=$(date +%s)
    while [ $(($(date +%s) - OLD_AT)) -lt 63 ] || [ $(($(date +%s) - DUE_AT)) -lt 21 ]; do
        sleep 1
    done
fi

# --- what the window must show --------------------------------------------------
# name|badge|subtitle parts (comma separated)|backup offered|lock offered|serial|
#   facts (username;server;key type;valid until)|header action is Back Up|key on this computer
EXPECT=$TMP/expect
: > "$EXPECT"
for name in fresh locked strong broken waiting $SHORT_NAMES; do
    show_json "$name"
    serial=$(json "$JSON" 'j.get("serial") or ""')
    exportable=$(json "$JSON" '1 if j["exportable"] else 0')
    case $name in
        fresh) badge="Backup missing"; parts="This computer,exportable,generated here,expires in" ;;
        locked) badge="Active"; parts="This computer,standard,expires in" ;;
        strong) badge="Active"; parts="This computer,strong,expires in" ;;
        broken) badge="Failed"; parts="This computer" ;;
        waiting) badge="Pending"; parts="This computer,waiting for the server" ;;
        old) badge="Expired"; parts="This computer,expired" ;;
        due) badge="Renewal due"; parts="This computer,expires" ;;
    esac
    # The facts group, from the same JSON: username, server, key type,
    # valid until as the locale writes a day.
    user=$(json "$JSON" 'j["username"]')
    server=$(json "$JSON" 'j["server"]')
    ktype=$(json "$JSON" '{"ec-p256": "P-256", "ec-p384": "P-384", "rsa-2048": "2048", "rsa-3072": "3072"}[j["key_type"]]')
    na=$(json "$JSON" 'j.get("not_after") or ""')
    until=
    [ -n "$na" ] && until=$(date -d "$na" +%x)
    missing=$(json "$JSON" '1 if j["backup_missing"] and j["exportable"] else 0')
    software=$(json "$JSON" '1 if "token=certkeeper" in (j["token"] or "") else 0')
    echo "$name|$badge|$parts|$exportable|$exportable|$serial|$user;$server;$ktype;$until|$missing|$software" >> "$EXPECT"
done
[ -n "$SHORT_NAMES" ] && check_json "$JSON" 'j["status"] == "renewal due"' "the CLI agrees that due is due"

# The window's Browsers row starts from nothing registered (enroll did it).
run browser unregister
expect_rc 0 "certkeeper browser unregister"

RESULT=$TMP/renewed-serial
gui_run "$DRIVER" full "$EXPECT" "$PIN_FILE" "$OUTBOX1" "$RESULT"
[ "$GUI_RC" -eq 0 ] && ok "the window with every state" || fail "the window: exit $GUI_RC"

if [ -s "$RESULT" ]; then
    show_json fresh
    check_json "$JSON" "j['serial'].lower() == '$(cat "$RESULT")'.lower()" \
        "certkeeper show --json fresh has the serial the window showed after Renew now"
else
    fail "the driver wrote no serial after the renewal"
fi
# The window's "Set up" registered fresh's module where Chromium reads it.
run browser status --json
expect_rc 0 "certkeeper browser status --json"
check_json "$OUT" 'any(s["browser"] == "chromium" and any(i["name"] == "fresh" and i["registered"] for i in s["identities"]) for s in j["stores"])' \
    "browser status: fresh is registered in Chromium's store after the window's “Set up”"
grep -rqF -- "$PIN" "$STATE" 2>/dev/null && fail "the PIN is in the state directory"
finish
