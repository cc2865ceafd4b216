#!/bin/sh
# test-stores.sh — the browsers' NSS databases as certkeeper finds and
# changes them, checked with modutil and certutil (no browser runs here):
#   * a damaged pkcs11.txt (a last entry without its closing blank line,
#     which NSS silently drops when it rewrites the file; binary garbage):
#     register says which file and what to do (exit 3), status reports it,
#     the file is left byte for byte, and the other stores are set up;
#   * --browser firefox leaves Chromium alone;
#   * unregister removes only certkeeper's modules: one an administrator
#     registered stays; a library someone else registered is not added twice;
#   * snap and flatpak browsers are reported as unable to load the module
#     and never touched;
#   * Chromium's ~/.pki/nssdb, when it exists, is the one used;
#   * "certkeeper import" of a backup makes the restored identity usable
#     (certutil sees its certificate: public-key object, serial, issuer);
#   * status --json keeps its documented shape.
#
# Usage: test-stores.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib-browser.sh"

init_token
ca_init --lifetime 1h
start_server

# Two Firefox profiles; "broken" has a pkcs11.txt NSS would damage further.
FF=$HOME/.mozilla/firefox
mkdir -p "$FF/a1.good" "$FF/b2.broken"
cat > "$FF/profiles.ini" << EOF
[Profile0]
Name=good
IsRelative=1
Path=a1.good
Default=1

[Profile1]
Name=broken
IsRelative=1
Path=b2.broken
EOF
TRUST_MODULE=$(find /usr/lib -name p11-kit-trust.so | head -n 1)
[ -n "$TRUST_MODULE" ] || skip "p11-kit-trust.so is missing (install p11-kit-modules)"
certutil -N -d "sql:$FF/b2.broken" --empty-password < /dev/null
# An administrator's module whose entry lost its closing blank line.
printf 'library=%s\nname=Admin trust\n' "$TRUST_MODULE" >> "$FF/b2.broken/pkcs11.txt"
cp "$FF/b2.broken/pkcs11.txt" "$TMP/broken.before"
mkdir -p "$HOME/snap/firefox/common"

enroll alice --no-backup
expect_rc 0 "enroll alice (a damaged profile does not fail the enrollment)"
expect_stdout "Not usable in Firefox (broken)" "enroll says which profile it could not set up"
cmp -s "$FF/b2.broken/pkcs11.txt" "$TMP/broken.before" \
    && ok "the damaged pkcs11.txt is byte for byte as it was after enroll" \
    || fail "enroll changed the damaged pkcs11.txt: $(diff "$TMP/broken.before" "$FF/b2.broken/pkcs11.txt")"

run browser register
expect_rc 3 "browser register with a damaged profile"
expect_stderr "b2.broken/pkcs11.txt" "register names the damaged file"
expect_stderr "cut short" "register says what is wrong with it"
expect_stdout "move pkcs11.txt away and restart the browser" "register says what to do"
cmp -s "$FF/b2.broken/pkcs11.txt" "$TMP/broken.before" \
    && ok "the damaged pkcs11.txt is byte for byte as it was after register" \
    || fail "register changed the damaged pkcs11.txt"
modutil -dbdir "sql:$FF/a1.good" -list < /dev/null 2>&1 | grep -q "certkeeper (softhsm2)" \
    && ok "modutil: the good profile is set up all the same" \
    || fail "modutil: the good profile has no certkeeper module"

printf '\001\002garbage\377\n\n' >> "$FF/b2.broken/pkcs11.txt"
cp "$FF/b2.broken/pkcs11.txt" "$TMP/broken.before"
run browser register --browser firefox
expect_rc 3 "browser register with binary garbage in pkcs11.txt"
expect_stderr "binary data" "register says the file holds binary data"
cmp -s "$FF/b2.broken/pkcs11.txt" "$TMP/broken.before" \
    && ok "pkcs11.txt with garbage is left byte for byte" || fail "register changed pkcs11.txt with garbage"

status_json
expect_rc 0 "status with a damaged profile (a report, not a failure)"
check_json "$JSON" "$(store 'Firefox (broken)' "s['damaged'] and 'binary data' in s['damaged'] and $(use alice "not u['usable'] and u['problem'] == s['damaged']")")" \
    "status: the damaged profile is reported with its reason"
check_json "$JSON" "$(store 'Firefox (good)' "s['default'] and $(use alice "u['usable']")")" \
    "status: alice usable in the good (default) profile"
check_json "$JSON" "$(store 'Firefox (snap)' "s['sandboxed'] and 'sandbox' in s['damaged'] and not s['exists']")" \
    "status: the snap Firefox is reported as unable to load the module"
[ ! -e "$HOME/snap/firefox/common/.mozilla" ] && ok "nothing was written into the snap's directory" \
    || fail "certkeeper wrote into ~/snap/firefox"
# The documented shape (docs/browsers.md): every key, with its type.
check_json "$JSON" "all(set(s) == {'browser','title','profile','default','path','exists','sandboxed','damaged','error','running','restart_needed','modules','identities'} and all(set(m) == {'name','library','ours'} for m in s['modules']) and all(set(u) == {'name','serial','module','registered','visible','usable','problem'} for u in s['identities']) for s in j['stores'])" \
    "status --json has the documented keys"

# --- --browser, foreign modules, unregister -----------------------------------------------
rm -f "$FF/b2.broken/pkcs11.txt"
run browser unregister --browser chromium
expect_rc 0 "browser unregister --browser chromium"
modutil -dbdir "sql:$FF/a1.good" -list < /dev/null 2>&1 | grep -q "certkeeper (softhsm2)" \
    && ok "--browser chromium left Firefox's registration" || fail "--browser chromium touched Firefox"
modutil -dbdir "sql:$CHROMIUM_DB" -add "Admin trust" -libfile "$TRUST_MODULE" -force < /dev/null > /dev/null 2>&1
run browser register --browser chromium
expect_rc 0 "browser register --browser chromium next to an administrator's module"
run browser unregister
expect_rc 0 "browser unregister"
modutil -dbdir "sql:$CHROMIUM_DB" -list < /dev/null > "$TMP/modutil.txt" 2>&1 || true
grep -q "Admin trust" "$TMP/modutil.txt" && ! grep -q "certkeeper" "$TMP/modutil.txt" \
    && ok "unregister removed certkeeper's module and kept the administrator's" \
    || fail "unregister: expected only 'Admin trust' to remain: $(grep -E '^ *[0-9]+\.' "$TMP/modutil.txt")"

# Someone registered SoftHSM themselves: certkeeper does not load it twice.
modutil -dbdir "sql:$CHROMIUM_DB" -add "My SoftHSM" -libfile "$MODULE" -mechanisms FRIENDLY -force < /dev/null > /dev/null 2>&1
run browser register --browser chromium
expect_rc 0 "browser register when SoftHSM is registered under another name"
modutil -dbdir "sql:$CHROMIUM_DB" -list < /dev/null > "$TMP/modutil.txt" 2>&1 || true
! grep -q "certkeeper (softhsm2)" "$TMP/modutil.txt" && grep -q "My SoftHSM" "$TMP/modutil.txt" \
    && ok "the library someone else registered is used, not added twice" \
    || fail "expected only 'My SoftHSM': $(grep -E '^ *[0-9]+\.' "$TMP/modutil.txt")"
status_json
check_json "$JSON" "$(store Chromium "$(use alice "u['usable'] and u['registered']")")" \
    "status: alice usable in Chromium through the other registration"

# --- ~/.pki/nssdb wins when it exists -----------------------------------------------------
mkdir -p "$HOME/.pki/nssdb"
run browser register --browser chromium
expect_rc 0 "browser register with ~/.pki/nssdb present"
[ -f "$HOME/.pki/nssdb/cert9.db" ] && modutil -dbdir "sql:$HOME/.pki/nssdb" -list < /dev/null 2>&1 | grep -q "certkeeper (softhsm2)" \
    && ok "Chromium's ~/.pki/nssdb is used when it exists" || fail "~/.pki/nssdb was not set up"

# --- import: the restored identity is usable ----------------------------------------------
ENROLL_USER=bob enroll bob --no-browser
expect_rc 0 "enroll bob (exportable, not set up in the browsers)"
PASS_FILE=$(secret_file pass "Tr0ub4dor&3-Browser-Suite")
run export bob --to "$TMP/bob.p12" --passphrase-file "$PASS_FILE" --pin-file "$PIN_FILE"
expect_rc 0 "export bob"
BOB_SERIAL=$(serial_of bob)
run delete bob --yes --pin-file "$PIN_FILE"
expect_rc 0 "delete bob"
run import "$TMP/bob.p12" --passphrase-file "$PASS_FILE" --pin-file "$PIN_FILE"
expect_rc 0 "import bob.p12"
expect_stdout "Ready in Chromium" "import sets the browsers up"
got=$(certutil -L -d "sql:$HOME/.pki/nssdb" -n "certkeeper:bob" -a < /dev/null 2> /dev/null | openssl x509 -noout -serial 2> /dev/null | sed 's/^serial=//')
[ -n "$BOB_SERIAL" ] && [ "$got" = "$BOB_SERIAL" ] \
    && ok "certutil: Chromium's store sees the imported certificate ($BOB_SERIAL)" \
    || fail "certutil: expected certkeeper:bob with serial $BOB_SERIAL, got '$got'"
pkcs11_tool --login --pin "$PIN" -O --type pubkey 2> /dev/null | grep -q "label: *bob" \
    && ok "pkcs11-tool: the import left a public-key object beside bob's private key (Firefox needs it)" \
    || fail "pkcs11-tool: no public-key object labelled bob after import: $(token_objects)"

finish
