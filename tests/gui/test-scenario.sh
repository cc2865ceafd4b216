#!/bin/sh
# test-scenario.sh — one full first day through certkeeper-gtk only:
# add an identity (the assistant), back it up and lock it (the backup
# dialog), renew it (the main window's win.renew), against certkeeper-ca
# on loopback and the SoftHSM2 software token.  Afterwards independent
# readers check the outcome: certkeeper show --json (ACTIVE, a new serial,
# no longer exportable, the backup recorded), p11tool (the key is
# sensitive and not extractable), openssl pkcs12 (the backup opens with
# the passphrase, given through a file).
#
# Usage: test-scenario.sh certkeeper certkeeper-ca test-scenario
DRIVER=${3:?usage: $0 certkeeper certkeeper-ca test-scenario}
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
. "$(dirname "$0")/../agent/lib.sh"
. "$(dirname "$0")/lib-gui.sh"

init_token
ca_init --lifetime 1h
start_server

MEDIA=$TMP/media
mkdir -p "$MEDIA"
BACKUP=$MEDIA/gui-alice.p12
PASS=$(secret_file passphrase "Pass-Strong-Horse-93!")
RESULT=$TMP/serial-before

gui_run "$DRIVER" "$SERVER" "$OUTBOX" "$PIN_FILE" "$PASS" "$BACKUP" "$RESULT"
[ "$GUI_RC" -eq 0 ] && ok "test-scenario drove the whole day" || fail "test-scenario: exit $GUI_RC"

show_json gui-alice
expect_rc 0 "certkeeper show gui-alice --json"
check_json "$JSON" 'j["state"] == "ACTIVE" and j["subject"] == "CN=alice"' "gui-alice: ACTIVE as CN=alice"
if [ -s "$RESULT" ]; then
    check_json "$JSON" "j['serial'].lower() != '$(cat "$RESULT")'.lower()" \
        "gui-alice: a new serial after the renewal (was $(cat "$RESULT"))"
else
    fail "the driver did not record the serial before the renewal"
fi
check_json "$JSON" 'j["exportable"] is False' "gui-alice: no longer exportable (locked, then renewed)"
# The backup was recorded (the audit log keeps it); the renewal's new key
# is in no backup, so the record no longer offers that file as one (issue
# 13, item 5).
grep -qF "backed up to $BACKUP" "$STATE/identities/gui-alice.log" \
    && ok "gui-alice: the verified backup was recorded" \
    || fail "gui-alice: no 'backed up to $BACKUP' in the audit log"
check_json "$JSON" "j['backup']['where'] is None and j['key_origin'] == 'here'" \
    "gui-alice: after the renewal no backup is claimed for the new key"

KID=$(key_id_of gui-alice)
flags=$(privkey_flags "$KID" | grep -i 'Flags:')
[ -n "$flags" ] && echo "$flags" | grep -q 'CKA_SENSITIVE' && ! echo "$flags" | grep -q 'CKA_EXTRACTABLE' \
    && ok "p11tool: the renewed key is sensitive and not extractable" \
    || fail "p11tool: the renewed key's flags are '$flags' (expected CKA_SENSITIVE, no CKA_EXTRACTABLE)"
n=$(count_objects "Private Key" gui-alice)
[ "$n" = 1 ] && ok "pkcs11-tool: exactly one private key labelled gui-alice (the old one is gone)" \
    || fail "pkcs11-tool: expected one private key labelled gui-alice, found $n"
run show gui-alice --pem
cp "$OUT" "$TMP/alice.pem"
[ "$(openssl x509 -in "$TMP/alice.pem" -noout -pubkey 2>/dev/null)" = "$(token_pubkey "$KID")" ] \
    && ok "the renewed certificate carries the token's new key" \
    || fail "the renewed certificate's key differs from the token's"

mode=$(stat -c %a "$BACKUP" 2>/dev/null || echo none)
[ "$mode" = 600 ] && ok "the backup file is mode 0600" || fail "the backup file is mode $mode, expected 600"
if openssl pkcs12 -info -noout -in "$BACKUP" -passin "file:$PASS" > "$TMP/p12.info" 2>&1; then
    ok "openssl pkcs12 opens the backup with the passphrase typed in the dialog"
else
    fail "openssl pkcs12 cannot open the backup: $(cat "$TMP/p12.info")"
fi
openssl pkcs12 -in "$BACKUP" -passin "file:$PASS" -nokeys -clcerts 2>/dev/null \
    | openssl x509 -noout -subject -nameopt RFC2253 > "$TMP/p12.subject" 2>/dev/null
grep -q 'CN=alice' "$TMP/p12.subject" && ok "the backup holds alice's certificate" \
    || fail "the backup's certificate is not alice's: $(cat "$TMP/p12.subject")"

if grep -rqF -- "Pass-Strong-Horse-93!" "$STATE" 2>/dev/null || grep -rqF -- "$PIN" "$STATE" 2>/dev/null; then
    fail "a secret is under the state dir"
else
    ok "neither the PIN nor the passphrase is under the state dir"
fi
finish
