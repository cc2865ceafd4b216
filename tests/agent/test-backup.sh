#!/bin/sh
# test-backup.sh — the first seed's steps after enrollment: export a
# backup (checked with openssl pkcs12), lock the key (checked with p11tool),
# delete (checked with pkcs11-tool), import as non-exportable.
#
# Usage: test-backup.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 1h
start_server

enroll alice
expect_rc 0 "enroll alice"
ENROLL_USER=bob
enroll other
expect_rc 0 "enroll other (as bob)"
ALICE_KID=$(key_id_of alice)
OTHER_KID=$(key_id_of other)
MEDIA=$TMP/media
mkdir -p "$MEDIA"
STRONG=$(secret_file strong "Pass-Strong-Horse-93!")
WEAK=$(secret_file weak "password")

# p12_info FILE PASSFILE: openssl's description of the file's protection.
p12_info() {
    openssl pkcs12 -info -noout -in "$1" -passin "file:$2" 2>&1 \
        || openssl pkcs12 -legacy -info -noout -in "$1" -passin "file:$2" 2>&1
}

# --- 1. refusals before any backup -------------------------------------------
run export alice --to "$MEDIA/weak.p12" --passphrase-file "$WEAK" --pin-file "$PIN_FILE"
expect_rc 25 "export with the passphrase 'password' (KPR_ERROR_WEAK_SECRET)"
[ -e "$MEDIA/weak.p12" ] && fail "a weak-passphrase export left $MEDIA/weak.p12" \
    || ok "weak passphrase: no file written"
expect_stderr "too weak" "weak passphrase"
grep -qiE 'cracklib|no such file|error loading' "$ERR" \
    && fail "weak passphrase: a library's error reached the person: $(cat "$ERR")" \
    || ok "weak passphrase: no library file error on stderr"

# Without cracklib's dictionary (package cracklib-runtime absent, or the
# test build's KPR_FAULT_CRACKLIB_DICT): 12 characters at least, and the
# commonest passwords refused in any form.
if [ -n "${KPR_FAULT_CRACKLIB_DICT:-}" ] || [ ! -r /var/cache/cracklib/cracklib_dict.pwd ]; then
    echo "  (without the cracklib dictionary)"
    SHORT=$(secret_file short "Kx7#qv2Lm9")
    run export alice --to "$MEDIA/short.p12" --passphrase-file "$SHORT" --pin-file "$PIN_FILE"
    expect_rc 25 "no dictionary: a 10-character passphrase is refused"
    expect_stderr "12 characters" "no dictionary: the reason"
    COMMON=$(secret_file common "Drowssap-2024-Zq")
    run export alice --to "$MEDIA/common.p12" --passphrase-file "$COMMON" --pin-file "$PIN_FILE"
    expect_rc 25 "no dictionary: 'password' reversed inside a long passphrase is refused"
    [ -e "$MEDIA/short.p12" ] || [ -e "$MEDIA/common.p12" ] \
        && fail "no dictionary: a refused export left a file" \
        || ok "no dictionary: refused exports wrote nothing"
fi

: > "$TMP/a-file"
run export alice --to "$TMP/a-file/alice.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 4 "export under a path whose directory is a regular file (KPR_ERROR_IO)"
expect_stderr "a-file" "unwritable target: the message names the path"
show_json alice
check_json "$JSON" 'j["backup"]["when"] is None and j["backup_missing"] is True' \
    "unwritable target: the record still says no backup"

# Issue 13 item 1: export never overwrites, truncates or deletes what is at
# its target; it writes beside it and moves the verified file into place.
printf 'precious\n' > "$MEDIA/taken.p12"
run export alice --to "$MEDIA/taken.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 16 "export onto an existing file (KPR_ERROR_EXISTS)"
expect_stderr "--force" "existing file: the message says how to replace it"
[ "$(cat "$MEDIA/taken.p12")" = precious ] && ok "existing file: left as it was" \
    || fail "existing file: export changed it to $(wc -c < "$MEDIA/taken.p12") bytes"
ln -s "$MEDIA/taken.p12" "$MEDIA/link.p12"
run export alice --to "$MEDIA/link.p12" --force --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 16 "export --force onto a symbolic link (KPR_ERROR_EXISTS)"
[ -L "$MEDIA/link.p12" ] && [ "$(cat "$MEDIA/taken.p12")" = precious ] \
    && ok "symbolic link: the link and its target are untouched" || fail "symbolic link: changed"
mkdir "$MEDIA/dir.p12"
run export alice --to "$MEDIA/dir.p12" --force --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 16 "export --force onto a directory (KPR_ERROR_EXISTS)"
expect_stderr "directory" "directory: the message says what is there"
mkfifo "$MEDIA/fifo.p12"
N=$((N + 1)); OUT=$TMP/out.$N; ERR=$TMP/err.$N; RC=0
timeout 60 "$CERTKEEPER" export alice --to "$MEDIA/fifo.p12" --force --passphrase-file "$STRONG" \
    --pin-file "$PIN_FILE" < /dev/null > "$OUT" 2> "$ERR" || RC=$?
expect_rc 16 "export --force onto a FIFO (KPR_ERROR_EXISTS, not a hang)"
[ -p "$MEDIA/fifo.p12" ] && ok "FIFO: still there" || fail "FIFO: gone"
if [ "$(id -u)" = 0 ]; then
    # As root the old export deleted a device node given as --to.
    mknod "$MEDIA/null.p12" c 1 3
    run export alice --to "$MEDIA/null.p12" --force --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
    expect_rc 16 "export --force onto a device node (KPR_ERROR_EXISTS)"
    [ -c "$MEDIA/null.p12" ] && ok "device node: still there" || fail "device node: removed"
fi
# Killed after the new backup is written and before it is in place: the
# previous file is whole (a build with -Dfault_injection=true only).
if [ "${KPR_FAULT_INJECTION:-0}" = 1 ]; then
    N=$((N + 1)); OUT=$TMP/out.$N; ERR=$TMP/err.$N; RC=0
    KPR_FAULT_AT=after:backup-written "$CERTKEEPER" export alice --to "$MEDIA/taken.p12" --force \
        --passphrase-file "$STRONG" --pin-file "$PIN_FILE" < /dev/null > "$OUT" 2> "$ERR" || RC=$?
    expect_rc 137 "export --force killed after writing (fault point after:backup-written)"
    [ "$(cat "$MEDIA/taken.p12")" = precious ] && ok "killed export: the previous file is whole" \
        || fail "killed export: the previous file is now $(wc -c < "$MEDIA/taken.p12") bytes"
else
    echo "  (no fault injection in this build: the killed-export checks are not run)"
fi
show_json alice
check_json "$JSON" 'j["backup"]["when"] is None' "refused and killed exports: no backup recorded"
run export alice --to "$MEDIA/taken.p12" --force --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "export --force onto a regular file"
openssl pkcs12 -in "$MEDIA/taken.p12" -passin "file:$STRONG" -nokeys -clcerts 2>/dev/null \
    | openssl x509 -noout >/dev/null 2>&1 && ok "--force: the file is now the backup" \
    || fail "--force: the file is not a backup openssl can read"

# --- 2. a good backup, modern and legacy --------------------------------------
run export alice --to "$MEDIA/alice-legacy.p12" --passphrase-file "$STRONG" --legacy --pin-file "$PIN_FILE"
expect_rc 0 "export --legacy"
info=$(p12_info "$MEDIA/alice-legacy.p12" "$STRONG")
echo "$info" | grep -qi '3DES\|TripleDES' && ok "legacy backup: 3DES" \
    || fail "legacy backup: expected 3DES, openssl says: $info"
echo "$info" | grep -qi 'MAC: sha1' && ok "legacy backup: MAC sha1" \
    || fail "legacy backup: expected 'MAC: sha1', openssl says: $info"

# A permissive umask must not make the backup readable by others.
N=$((N + 1)); OUT=$TMP/out.$N; ERR=$TMP/err.$N; RC=0
(umask 022; "$CERTKEEPER" export alice --to "$MEDIA/alice.p12" --passphrase-file "$STRONG" \
    --pin-file "$PIN_FILE" < /dev/null > "$OUT" 2> "$ERR") || RC=$?
echo "  \$ (umask 022) certkeeper export alice --to $MEDIA/alice.p12 ... -> exit $RC"
expect_rc 0 "export with a strong passphrase (umask 022)"
mode=$(stat -c %a "$MEDIA/alice.p12" 2>/dev/null || echo none)
[ "$mode" = 600 ] && ok "the backup file is mode 0600" || fail "the backup file is mode $mode, expected 600"
info=$(p12_info "$MEDIA/alice.p12" "$STRONG")
for want in AES-256-CBC PBKDF2 "MAC: sha256"; do
    echo "$info" | grep -qF "$want" && ok "modern backup: openssl pkcs12 -info shows $want" \
        || fail "modern backup: expected '$want' in: $info"
done
openssl pkcs12 -in "$MEDIA/alice.p12" -passin "file:$STRONG" -nokeys -clcerts 2>/dev/null \
    | openssl x509 -noout -pubkey > "$TMP/p12.pub" 2>/dev/null
[ "$(cat "$TMP/p12.pub")" = "$(token_pubkey "$ALICE_KID")" ] \
    && ok "the backup's certificate carries alice's token key" \
    || fail "the backup's certificate does not carry the token key"
show_json alice
check_json "$JSON" "j['backup']['when'] is not None and j['backup']['where'] == '$MEDIA/alice.p12'" \
    "show --json: backup.when set and backup.where is the file"
check_json "$JSON" "j['backup']['sha256'] == '$(sha256sum "$MEDIA/alice.p12" | cut -d' ' -f1)'" \
    "show --json: backup.sha256 is the file's SHA-256"
check_json "$JSON" 'j["backup_missing"] is False' "show --json: backup no longer missing"

# Issue 13 item 2: lock and delete re-check the backup they rely on: still
# there, unchanged since export, holding this identity's certificate.
run export other --to "$MEDIA/shared.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "export other to shared.p12"
run export alice --to "$MEDIA/shared.p12" --force --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "export alice over shared.p12 (--force)"
run lock other --pin-file "$PIN_FILE"
expect_rc 15 "lock other whose backup was replaced (KPR_ERROR_CANCELLED)"
expect_stderr "shared.p12" "replaced backup: the message names the file"
expect_stderr "changed" "replaced backup: the message says it changed"
show_json other
check_json "$JSON" 'j["exportable"] is True' "replaced backup: other is still exportable"
run export other --to "$MEDIA/other.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "export other to other.p12"
mv "$MEDIA/other.p12" "$MEDIA/other-moved.p12"
run lock other --pin-file "$PIN_FILE"
expect_rc 15 "lock other whose backup is gone (KPR_ERROR_CANCELLED)"
expect_stderr "no longer" "missing backup: the message says it is gone"
run delete other --pin-file "$PIN_FILE"
expect_rc 15 "delete other whose backup is gone (KPR_ERROR_CANCELLED)"
rm -f "$MEDIA/other-moved.p12"

# --- 3. lock ----------------------------------------------------------------
run lock alice --pin-file "$PIN_FILE"
expect_rc 0 "lock alice"
show_json alice
check_json "$JSON" 'j["exportable"] is False' "after lock: exportable false"
run export alice --to "$MEDIA/again.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 11 "export after lock (KPR_ERROR_NOT_EXPORTABLE)"
[ -e "$MEDIA/again.p12" ] && fail "export after lock wrote a file"
flags=$(privkey_flags "$ALICE_KID" | grep -i 'Flags:')
echo "$flags" | grep -q 'CKA_SENSITIVE' && ok "p11tool: alice's key is CKA_SENSITIVE" \
    || fail "p11tool: expected CKA_SENSITIVE on the locked key, flags: '$flags'"
echo "$flags" | grep -q 'CKA_EXTRACTABLE' && fail "p11tool: the locked key is still CKA_EXTRACTABLE: '$flags'" \
    || ok "p11tool: alice's key is not CKA_EXTRACTABLE"
[ -n "$flags" ] || fail "p11tool shows no private key with id $ALICE_KID"

run lock other --pin-file "$PIN_FILE"
expect_rc 15 "lock without a backup and no terminal (KPR_ERROR_CANCELLED)"
show_json other
check_json "$JSON" 'j["exportable"] is True' "refused lock: other is still exportable"

# --- 4. delete ------------------------------------------------------------------
run delete other --pin-file "$PIN_FILE"
expect_rc 15 "delete without a backup and no terminal (KPR_ERROR_CANCELLED)"
expect_stderr "--yes" "delete without backup: the message says how to confirm"
n=$(count_objects "Private Key" other)
[ "$n" = 1 ] && ok "refused delete: the key is still on the token" \
    || fail "refused delete: expected one private key labelled other, found $n"
run delete other --yes --pin-file "$PIN_FILE"
expect_rc 0 "delete --yes"
if token_objects | grep -qi "ID: *$OTHER_KID\$"; then
    fail "delete --yes left objects with id $OTHER_KID on the token"
else
    ok "pkcs11-tool: no object with other's key id is left"
fi
run list --json
check_json "$OUT" 'all(i["name"] != "other" for i in j)' "list no longer shows other"
archived=$(find "$STATE/archive" -maxdepth 1 -name 'other-*.ini' 2>/dev/null)
if [ -n "$archived" ]; then
    ok "the record of other is in the archive"
else
    fail "no archived record of other in $STATE/archive: $(ls -la "$STATE/archive" 2>&1)"
fi

# --- 5. import ------------------------------------------------------------------
run import "$MEDIA/alice.p12" restored --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "import the backup as 'restored'"
show_json restored
check_json "$JSON" 'j["imported"] is True and j["exportable"] is False and j["state"] == "ACTIVE"' \
    "show --json: restored is imported, non-exportable, ACTIVE"
# Issue 13 item 5: a restored identity says where it came from.
check_json "$JSON" "j['key_origin'] == 'imported' and j['restored']['from'] == '$MEDIA/alice.p12' and j['restored']['when'] is not None" \
    "show --json: key_origin imported, restored.from is the backup"
run show restored
expect_stdout "restored from $MEDIA/alice.p12 on" "show: backup line says restored from the file"
run show alice
expect_stdout "generated here" "show: an enrolled key was generated here"
REST_KID=$(key_id_of restored)
flags=$(privkey_flags "$REST_KID" | grep -i 'Flags:')
echo "$flags" | grep -q 'CKA_SENSITIVE' && ! echo "$flags" | grep -q 'CKA_EXTRACTABLE' \
    && ok "p11tool: the imported key is sensitive and not extractable" \
    || fail "p11tool: the imported key's flags are '$flags' (expected CKA_SENSITIVE, no CKA_EXTRACTABLE)"
run show restored --pem
cp "$OUT" "$TMP/restored.pem"
[ "$(openssl x509 -in "$TMP/restored.pem" -noout -pubkey)" = "$(token_pubkey "$REST_KID")" ] \
    && ok "the imported certificate sits with its key" \
    || fail "the imported certificate and the imported key differ"
mtls_check "$TMP/restored.pem" "$REST_KID" "imported identity"
run export restored --to "$MEDIA/restored.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 11 "export of the imported identity (KPR_ERROR_NOT_EXPORTABLE)"

run import "$MEDIA/alice.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 16 "import without a NAME while alice exists (KPR_ERROR_EXISTS)"

# A restored identity stays renewable, and its new key is non-exportable.
REST_SERIAL=$(json "$JSON" 'j["serial"]')
run renew restored --force --pin-file "$PIN_FILE"
expect_rc 0 "renew --force of the imported identity"
show_json restored
check_json "$JSON" "j['state'] == 'ACTIVE' and j['serial'] != '$REST_SERIAL' and j['exportable'] is False" \
    "renewed import: a new certificate, still non-exportable"
check_json "$JSON" 'j["key_origin"] == "here" and j["imported"] is False and j["restored"]["from"] is None' \
    "renewed import: the new key was generated here, not imported"
run show restored
expect_stdout "generated here" "renewed import: show says generated here"
REST_KID2=$(key_id_of restored)
flags=$(privkey_flags "$REST_KID2" | grep -i 'Flags:')
echo "$flags" | grep -q 'CKA_SENSITIVE' && ! echo "$flags" | grep -q 'CKA_EXTRACTABLE' \
    && ok "p11tool: the renewed key is sensitive and not extractable" \
    || fail "p11tool: the renewed key's flags are '$flags'"
n=$(count_objects "Private Key" restored)
[ "$n" = 1 ] && ok "renewed import: exactly one private key labelled restored" \
    || fail "renewed import: expected one private key labelled restored, found $n"

WRONG=$(secret_file wrong-pass "Not-The-Passphrase-71!")
run import "$MEDIA/alice.p12" wrongpass --passphrase-file "$WRONG" --pin-file "$PIN_FILE"
expect_rc 13 "import with a wrong passphrase (KPR_ERROR_PASSPHRASE)"
n=$(token_objects | grep -c 'label: *wrongpass$' || true)
[ "$n" = 0 ] && ok "wrong passphrase: nothing on the token" \
    || fail "wrong passphrase: $n object(s) labelled wrongpass on the token"
run show wrongpass
expect_rc 17 "wrong passphrase: no identity recorded"

head -c 300 "$MEDIA/alice.p12" > "$MEDIA/corrupt.p12"
head -c 500 /dev/urandom >> "$MEDIA/corrupt.p12"
run import "$MEDIA/corrupt.p12" corrupt --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
case "$RC" in
    3|13) ok "import of a corrupt file: exit $RC (bad input / passphrase)" ;;
    *) fail "import of a corrupt file: expected exit 3 or 13, got $RC: $(cat "$ERR")" ;;
esac
n=$(token_objects | grep -c 'label: *corrupt$' || true)
[ "$n" = 0 ] && ok "corrupt file: nothing on the token" || fail "corrupt file: $n object(s) on the token"

# Issue 13 item 12: what browsers and Windows export (RC2-40 certificates,
# 3DES key) imports; a valid file with 100 MB after it does not.
openssl pkcs12 -in "$MEDIA/alice.p12" -passin "file:$STRONG" -nodes -out "$TMP/alice-plain.pem" 2>/dev/null
openssl pkcs12 -export -legacy -in "$TMP/alice-plain.pem" -passout "file:$STRONG" \
    -out "$MEDIA/legacy.pfx" 2>/dev/null
rm -f "$TMP/alice-plain.pem"
openssl pkcs12 -legacy -in "$MEDIA/legacy.pfx" -passin "file:$STRONG" -info -noout 2>&1 \
    | grep -q 'pbeWithSHA1And40BitRC2-CBC' || fail "openssl did not write an RC2-40 file"
run import "$MEDIA/legacy.pfx" fromwindows --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "import of an RC2-40/3DES .pfx (OpenSSL's legacy provider, for reading only)"
show_json fromwindows
check_json "$JSON" 'j["imported"] is True and j["state"] == "ACTIVE"' "the legacy .pfx is an ACTIVE identity"
{ cat "$MEDIA/alice.p12"; head -c 100000000 /dev/zero; } > "$MEDIA/padded.p12"
run import "$MEDIA/padded.p12" padded --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 3 "import of a backup followed by 100 MB (KPR_ERROR_BAD_INPUT)"
expect_stderr "more than its PKCS#12 backup" "the refusal says the file holds more than a backup"
rm -f "$MEDIA/padded.p12"

stop_server
finish
