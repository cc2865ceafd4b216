#!/bin/sh
# test-backup.sh — certkeeper-gtk's backup, lock, import and delete
# dialogs against a real token and certkeeper-ca.  Prepares (with
# tests/agent/lib.sh) "keep" (exportable, no backup), "sealed" (made
# non-exportable at enrollment) and "spare" (exportable, no backup); the C
# driver test-backup then backs up and locks "keep", imports the backup
# as "restored" (after a wrong passphrase) and deletes "spare" through the
# dialogs' widgets under Xvfb.  Afterwards openssl, p11tool, pkcs11-tool
# and 'certkeeper show/list --json' check what the dialogs did.
#
# Usage: test-backup.sh certkeeper certkeeper-ca test-backup
DRIVER=${3:?usage: $0 certkeeper certkeeper-ca test-backup}
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
. "$(dirname "$0")/../agent/lib.sh"
. "$(dirname "$0")/lib-gui.sh"

init_token
ca_init --lifetime 1h
"$CA_BIN" user add "$CA" carol --phone +15550102 > /dev/null
start_server

enroll keep
expect_rc 0 "enroll keep (exportable)"
ENROLL_USER=bob
enroll sealed --no-backup
expect_rc 0 "enroll sealed (non-exportable)"
ENROLL_USER=carol
enroll spare
expect_rc 0 "enroll spare (exportable)"
KEEP_KID=$(key_id_of keep)
SPARE_KID=$(key_id_of spare)
[ -n "$KEEP_KID" ] && [ -n "$SPARE_KID" ] || { echo "FAIL: no key ids for keep/spare" >&2; exit 1; }

MEDIA=$TMP/media
mkdir -p "$MEDIA"
BACKUP=$MEDIA/keep.p12
PASS=$(secret_file passphrase "Pass-Strong-Horse-93!")

gui_run "$DRIVER" "$PIN_FILE" "$PASS" "$BACKUP"
[ "$GUI_RC" -eq 0 ] && ok "test-backup (the dialogs)" || fail "test-backup: exit $GUI_RC"

# --- the backup written through the dialog -------------------------------------
mode=$(stat -c %a "$BACKUP" 2>/dev/null || echo none)
[ "$mode" = 600 ] && ok "the backup file is mode 0600" || fail "the backup file is mode $mode, expected 600"
if openssl pkcs12 -info -noout -in "$BACKUP" -passin "file:$PASS" > "$TMP/p12.info" 2>&1; then
    ok "openssl pkcs12 opens the backup with the passphrase typed in the dialog"
else
    fail "openssl pkcs12 cannot open the backup: $(cat "$TMP/p12.info")"
fi
openssl pkcs12 -in "$BACKUP" -passin "file:$PASS" -nokeys -clcerts 2>/dev/null \
    | openssl x509 -noout -pubkey > "$TMP/p12.pub" 2>/dev/null
[ -s "$TMP/p12.pub" ] && [ "$(cat "$TMP/p12.pub")" = "$(token_pubkey "$KEEP_KID")" ] \
    && ok "the backup's certificate carries keep's token key" \
    || fail "the backup's certificate does not carry keep's token key"
show_json keep
check_json "$JSON" "j['backup']['where'] == '$BACKUP' and j['backup']['sha256'] == '$(sha256sum "$BACKUP" 2>/dev/null | cut -d' ' -f1)'" \
    "show --json: keep's backup is the file the dialog wrote"

# --- lock ----------------------------------------------------------------------
check_json "$JSON" 'j["exportable"] is False' "show --json: keep is no longer exportable"
flags=$(privkey_flags "$KEEP_KID" | grep -i 'Flags:')
[ -n "$flags" ] && echo "$flags" | grep -q 'CKA_SENSITIVE' && ! echo "$flags" | grep -q 'CKA_EXTRACTABLE' \
    && ok "p11tool: keep's key is sensitive and not extractable" \
    || fail "p11tool: keep's key flags are '$flags' (expected CKA_SENSITIVE, no CKA_EXTRACTABLE)"

# --- import ----------------------------------------------------------------------
show_json restored
check_json "$JSON" 'j["imported"] is True and j["exportable"] is False and j["state"] == "ACTIVE"' \
    "show --json: restored is imported, non-exportable, ACTIVE"
REST_KID=$(key_id_of restored)
flags=$(privkey_flags "$REST_KID" | grep -i 'Flags:')
[ -n "$REST_KID" ] && [ -n "$flags" ] && ! echo "$flags" | grep -q 'CKA_EXTRACTABLE' \
    && ok "p11tool: restored's key is not extractable" \
    || fail "p11tool: restored's key flags are '$flags'"

# --- delete ----------------------------------------------------------------------
run list --json
check_json "$OUT" 'all(i["name"] != "spare" for i in j) and any(i["name"] == "keep" for i in j)' \
    "list: spare is gone, keep (cancelled delete) stays"
if token_objects | grep -qi "ID: *$SPARE_KID\$"; then
    fail "pkcs11-tool: objects with spare's key id $SPARE_KID are still on the token"
else
    ok "pkcs11-tool: no object with spare's key id is left"
fi
n=$(count_objects "Private Key" keep)
[ "$n" = 1 ] && ok "pkcs11-tool: keep's key is still there" || fail "expected keep's key on the token, found $n"

# --- secrets and screenshots --------------------------------------------------------
grep -rqF -- "Pass-Strong-Horse-93!" "$STATE" 2>/dev/null \
    && fail "the passphrase is in the state dir" || ok "the passphrase is nowhere in the state dir"
for shot in backup-0-locked backup-1-passphrase backup-2-done backup-3-locked \
    import-wrong-passphrase import delete-no-backup; do
    [ -s "$KPR_SCREENSHOT_DIR/$shot.png" ] && ok "screenshot $shot.png" \
        || fail "no screenshot $shot.png in $KPR_SCREENSHOT_DIR"
done
finish
