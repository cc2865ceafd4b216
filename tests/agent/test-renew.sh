#!/bin/sh
# test-renew.sh — "certkeeper renew" and "status" as a person sees them:
# not due → nothing happens; --force → a new key and serial, the old
# certificate on the CA's CRL (curl + openssl crl), the old key gone from
# the token (pkcs11-tool); and with a 90 s lifetime, status says renewal is
# due (exit 26) once 2/3 of the lifetime passed and a plain renew renews.
#
# Usage: test-renew.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 1h
start_server

enroll alice
expect_rc 0 "enroll alice"
show_json alice
OLD_SERIAL=$(json "$JSON" 'j["serial"]')
OLD_KID=$(key_id_of alice)

# --- 1. not due ---------------------------------------------------------------
run renew alice --pin-file "$PIN_FILE"
expect_rc 0 "renew when not due"
expect_stdout "not due" "renew when not due"
show_json alice
check_json "$JSON" "j['serial'] == '$OLD_SERIAL'" "not due: the certificate is unchanged"
[ "$(key_id_of alice)" = "$OLD_KID" ] && ok "not due: the key is unchanged" \
    || fail "not due: the key id changed"

# --- 2. --force -----------------------------------------------------------------
run renew alice --force --pin-file "$PIN_FILE"
expect_rc 0 "renew --force"
show_json alice
NEW_SERIAL=$(json "$JSON" 'j["serial"]')
NEW_KID=$(key_id_of alice)
check_json "$JSON" 'j["state"] == "ACTIVE" and j["status"] == "active"' "renew --force: ACTIVE"
[ -n "$NEW_SERIAL" ] && [ "$NEW_SERIAL" != "$OLD_SERIAL" ] \
    && ok "renew --force: new serial $NEW_SERIAL (was $OLD_SERIAL)" \
    || fail "renew --force: expected a new serial, got '$NEW_SERIAL' (was $OLD_SERIAL)"
[ -n "$NEW_KID" ] && [ "$NEW_KID" != "$OLD_KID" ] && ok "renew --force: a new key id" \
    || fail "renew --force: expected a new key id, got '$NEW_KID' (was $OLD_KID)"

if crl_text > "$TMP/crl.txt" 2> "$TMP/crl.err"; then
    if grep -qi "Serial Number: *$OLD_SERIAL\$" "$TMP/crl.txt"; then
        ok "the old serial $OLD_SERIAL is on the CA's CRL"
    else
        fail "the old serial $OLD_SERIAL is not on the CRL: $(grep -i 'serial' "$TMP/crl.txt")"
    fi
    if grep -qi "Serial Number: *$NEW_SERIAL\$" "$TMP/crl.txt"; then
        fail "the new serial $NEW_SERIAL is on the CRL"
    fi
else
    fail "cannot fetch/decode $SERVER/crl: $(cat "$TMP/crl.err")"
fi

n=$(count_objects "Private Key" alice)
[ "$n" = 1 ] && ok "pkcs11-tool: exactly one private key labelled alice after renewal" \
    || fail "pkcs11-tool: expected one private key labelled alice after renewal, found $n: $(token_objects)"
n=$(count_objects "Certificate" alice)
[ "$n" = 1 ] && ok "pkcs11-tool: exactly one certificate labelled alice after renewal" \
    || fail "pkcs11-tool: expected one certificate labelled alice after renewal, found $n"
if token_objects | grep -qi "ID: *$OLD_KID\$"; then
    fail "objects with the old key id $OLD_KID are still on the token"
else
    ok "no object with the old key id is left on the token"
fi
run show alice --pem
cp "$OUT" "$TMP/alice2.pem"
openssl verify -CAfile "$CA_PEM" "$TMP/alice2.pem" > /dev/null 2>&1 \
    && ok "the renewed certificate verifies against ca/ca.pem" \
    || fail "the renewed certificate does not verify: $(openssl verify -CAfile "$CA_PEM" "$TMP/alice2.pem" 2>&1)"
[ "$(openssl x509 -in "$TMP/alice2.pem" -noout -pubkey)" = "$(token_pubkey "$NEW_KID")" ] \
    && ok "the renewed certificate carries the new token key" \
    || fail "the renewed certificate does not carry the token key $NEW_KID"
[ "$(openssl x509 -in "$TMP/alice2.pem" -noout -subject -nameopt RFC2253)" = "subject=CN=alice" ] \
    && ok "the renewed certificate has the same subject" \
    || fail "the renewed certificate's subject changed: $(openssl x509 -in "$TMP/alice2.pem" -noout -subject)"
run status
expect_rc 0 "status after renewal"
mtls_check "$TMP/alice2.pem" "$NEW_KID" "renewed alice"

# --- 3. due at 2/3 of a 90 s lifetime -------------------------------------------
echo "--- 90 s lifetime"
stop_server
CA=$TMP/ca90
ca_init --lifetime 90s
start_server
ENROLL_USER=bob
enroll short
expect_rc 0 "enroll short (90 s lifetime)"
show_json short
SHORT_SERIAL=$(json "$JSON" 'j["serial"]')
renew_at=$(json "$JSON" 'j["renew_at"]')
not_after=$(date -d "$(json "$JSON" 'j["not_after"]')" +%s)
now=$(date +%s)
if [ -n "$renew_at" ] && [ "$renew_at" -gt "$now" ] && [ "$renew_at" -lt "$not_after" ]; then
    ok "renew_at is in the future and before the end ($((renew_at - now)) s from now)"
else
    fail "renew_at '$renew_at' is not between now ($now) and notAfter ($not_after)"
    renew_at=$((now + 70))
fi
run status
expect_rc 0 "status right after enrollment"
# Wait until renewal is due (at most 100 s).
while [ "$(date +%s)" -le "$renew_at" ] && [ "$(date +%s)" -lt $((now + 100)) ]; do
    sleep 2
done
sleep 1
run status
expect_rc 26 "status once 2/3 of the lifetime passed (KPR_ERROR_ATTENTION)"
run status --json
check_json "$OUT" 'any(i["name"] == "short" and i["status"] == "renew-due" or i["name"] == "short" and "due" in i["status"] for i in j)' \
    "status --json: short is due for renewal"
check_json "$OUT" 'any(i["name"] == "alice" and i["status"] == "active" for i in j)' \
    "status --json: alice (1 h) is still active"
run renew short --pin-file "$PIN_FILE"
expect_rc 0 "renew (no --force) when due"
if grep -qi "not due" "$OUT"; then
    fail "renew when due said 'not due': $(cat "$OUT")"
fi
show_json short
check_json "$JSON" "j['state'] == 'ACTIVE' and j['serial'] != '$SHORT_SERIAL'" "renew when due: a new certificate"
run status
expect_rc 0 "status after the due renewal"
n=$(count_objects "Private Key" short)
[ "$n" = 1 ] && ok "short: exactly one private key after the due renewal" \
    || fail "short: expected one private key after renewal, found $n"

# --- 4. revoke ---------------------------------------------------------------------
echo "--- revoke"
show_json short
SHORT_SERIAL=$(json "$JSON" 'j["serial"]')
SHORT_KID=$(key_id_of short)
run revoke short --pin-file "$PIN_FILE"
expect_rc 0 "revoke short"
show_json short
check_json "$JSON" 'j["state"] == "REVOKED"' "revoke: short is REVOKED"
if crl_text > "$TMP/crl2.txt" 2>/dev/null && grep -qi "Serial Number: *$SHORT_SERIAL\$" "$TMP/crl2.txt"; then
    ok "revoke: serial $SHORT_SERIAL is on the CA's CRL"
else
    fail "revoke: serial $SHORT_SERIAL is not on the CRL: $(grep -i serial "$TMP/crl2.txt" 2>&1)"
fi
if token_objects | grep -qi "ID: *$SHORT_KID\$"; then
    fail "revoke: objects with short's key id are still on the token"
else
    ok "revoke: short's key and certificate are gone from the token"
fi
# A revoked identity waits for the person (delete it, or enroll again).
run status
expect_rc 26 "status with a revoked identity and an active one (KPR_ERROR_ATTENTION)"

# --- 5. a renewal interrupted after its request was recorded -------------------------
# Issue 13 item 4: status says it needs attention; item 7: the current
# pair stays exportable and lockable meanwhile, and the lock holds for the
# renewal's key too.
echo "--- interrupted renewal"
# (A build with -Dfault_injection=true only: the renewal is killed at a point.)
if [ "${KPR_FAULT_INJECTION:-0}" = 1 ]; then
    run delete short --yes --pin-file "$PIN_FILE"
    expect_rc 0 "delete the revoked short"
    run status
    expect_rc 0 "status with alice active only"
    ENROLL_USER=alice
    enroll mid
    expect_rc 0 "enroll mid (90 s lifetime, renewal due in 60 s)"
    STRONG=$(secret_file strong "Pass-Strong-Horse-93!")
    N=$((N + 1)); OUT=$TMP/out.$N; ERR=$TMP/err.$N; RC=0
    KPR_FAULT_AT=after:NEXT_SUBMITTED "$CERTKEEPER" renew mid --force --pin-file "$PIN_FILE" \
        < /dev/null > "$OUT" 2> "$ERR" || RC=$?
    expect_rc 137 "renew killed after NEXT_SUBMITTED"
    show_json mid
    check_json "$JSON" 'j["state"] == "NEXT_SUBMITTED"' "mid is NEXT_SUBMITTED"
    CUR_SERIAL=$(json "$JSON" 'j["serial"]')
    run status
    expect_rc 26 "status with an interrupted renewal (KPR_ERROR_ATTENTION)"
    run export mid --to "$TMP/during.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
    expect_rc 0 "export during the renewal (the current pair)"
    serial=$(openssl pkcs12 -in "$TMP/during.p12" -passin "file:$STRONG" -nokeys -clcerts 2>/dev/null \
        | openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//')
    [ "$serial" = "$CUR_SERIAL" ] && ok "the backup holds the current certificate" \
        || fail "the backup holds serial '$serial', expected $CUR_SERIAL"
    run lock mid --pin-file "$PIN_FILE"
    expect_rc 0 "lock during the renewal"
    run renew mid --pin-file "$PIN_FILE"
    expect_rc 0 "the interrupted renewal finishes"
    show_json mid
    check_json "$JSON" "j['state'] == 'ACTIVE' and j['serial'] != '$CUR_SERIAL' and j['exportable'] is False" \
        "after the renewal: a new certificate, still locked"
    flags=$(privkey_flags "$(key_id_of mid)" | grep -i 'Flags:')
    echo "$flags" | grep -q 'CKA_EXTRACTABLE' && fail "the renewal's key is extractable after lock: '$flags'" \
        || ok "the renewal's key is not extractable"
    [ -n "$flags" ] || fail "p11tool shows no private key for mid"
else
    echo "  (no fault injection in this build: the interrupted-renewal checks are not run)"
fi

stop_server
finish
