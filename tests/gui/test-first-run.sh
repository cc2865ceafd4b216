#!/bin/sh
# test-first-run.sh — the window's first run on an account with no key
# store (issue 10, item 5): no "certkeeper token init-software" before
# the assistant.  test-first-run (C, under Xvfb) picks "This computer",
# chooses the PIN on the assistant's own page and enrolls; then the
# certkeeper command and pkcs11-tool, as independent readers, check that
# the software token exists, opens with exactly that PIN, and holds the
# identity's key.
#
# Usage: test-first-run.sh certkeeper certkeeper-ca test-first-run
DRIVER=${3:?usage: $0 certkeeper certkeeper-ca test-first-run}
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
. "$(dirname "$0")/../agent/lib.sh"
. "$(dirname "$0")/lib-gui.sh"

ca_init --lifetime 1h
start_server
PIN_FILE=$(secret_file pin "$PIN")

run tokens --json
check_json "$OUT" 'not any(t.get("software") for t in j)' "before: no software token"

gui_run "$DRIVER" "$SERVER" "$OUTBOX" "$PIN_FILE" "$TMP"
[ "$GUI_RC" -eq 0 ] && ok "test-first-run drove the assistant" || fail "test-first-run: exit $GUI_RC"

run tokens --json
expect_rc 0 "certkeeper tokens --json"
check_json "$OUT" 'any(t.get("software") and t["label"] == "certkeeper" for t in j)' \
    "after: the software token “certkeeper” exists"
show_json gui-first
check_json "$JSON" 'j["state"] == "ACTIVE" and "token=certkeeper" in j["token"]' \
    "gui-first: ACTIVE, its key on the software token"
n=$(count_objects "Private Key" gui-first)
[ "$n" = 1 ] && ok "pkcs11-tool logs in with the PIN typed in the window and finds gui-first's key" \
    || fail "pkcs11-tool: expected one private key labelled gui-first with the chosen PIN, found $n"
if SOFTHSM2_CONF=$CONF pkcs11-tool --module "$MODULE" --token-label certkeeper --login \
    --pin Not-The-Pin-0 -O > /dev/null 2>&1; then
    fail "pkcs11-tool logged in with another PIN"
else
    ok "another PIN is refused"
fi
[ ! -e "$TMP/wrong-pin.p12" ] && ok "no backup file was written with the wrong PIN" \
    || fail "a backup file was written with the wrong PIN"
if grep -rqF -- "$PIN" "$STATE" "$XDG_CONFIG_HOME" 2>/dev/null; then
    fail "the PIN is written somewhere under the state or config dir"
else
    ok "the PIN is written nowhere under the state and config dirs"
fi
finish
