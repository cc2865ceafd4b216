#!/bin/sh
# test-enroll.sh — "certkeeper enroll" against a real certkeeper-ca on
# loopback, as a person sees it: the identity is active, its certificate
# carries the token's key and chains to the CA, and the token key does
# mutual TLS (openssl s_server/s_client with the pkcs11 engine as the
# independent checker).  Then trust (fingerprint, none) and bad input
# (wrong / replayed secret word, server down, wrong PIN, existing name).
#
# Usage: test-enroll.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 1h
start_server

# --- 1. enroll with --ca-file ---------------------------------------------
echo "--- enroll alice"
enroll alice
expect_rc 0 "enroll alice"
[ "$ASKED" = 1 ] && ok "a secret word was sent to alice's phone" \
    || fail "expected the server to send a secret word (outbox: $(cat "$OUTBOX"))"
FIRST_WORD=$WORD

run list --json
expect_rc 0 "list --json"
check_json "$OUT" '[i["name"] for i in j] == ["alice"]' "list --json shows exactly alice"
check_json "$OUT" 'j[0]["state"] == "ACTIVE" and j[0]["status"] == "active"' "list --json: alice is ACTIVE/active"
show_json alice
expect_rc 0 "show alice --json"
check_json "$JSON" 'j["state"] == "ACTIVE"' "show --json: state ACTIVE"
check_json "$JSON" 'j["exportable"] is True' "show --json: exportable (software token, exporting mode)"
check_json "$JSON" 'j["backup_missing"] is True' "show --json: backup_missing"
check_json "$JSON" 'j["subject"] == "CN=alice" and j["username"] == "alice"' "show --json: subject CN=alice"
check_json "$JSON" 'j["token"].startswith("pkcs11:") and "token=certkeeper" in j["token"]' "show --json: on the certkeeper token"
ALICE_SERIAL=$(json "$JSON" 'j["serial"]')

run show alice --pem
expect_rc 0 "show alice --pem"
cp "$OUT" "$TMP/alice.pem"
if openssl verify -CAfile "$CA_PEM" "$TMP/alice.pem" > /dev/null 2>&1; then
    ok "openssl verify -CAfile ca/ca.pem accepts alice's certificate"
else
    fail "openssl verify rejects alice's certificate: $(openssl verify -CAfile "$CA_PEM" "$TMP/alice.pem" 2>&1)"
fi
pem_serial=$(openssl x509 -in "$TMP/alice.pem" -noout -serial | sed 's/^serial=//')
[ "$pem_serial" = "$ALICE_SERIAL" ] && ok "show --pem and show --json agree on the serial" \
    || fail "show --pem serial $pem_serial differs from show --json serial $ALICE_SERIAL"

KID=$(key_id_of alice)
cert_pub=$(openssl x509 -in "$TMP/alice.pem" -noout -pubkey)
tok_pub=$(token_pubkey "$KID")
if [ -n "$tok_pub" ] && [ "$cert_pub" = "$tok_pub" ]; then
    ok "the certificate's public key is the token's key (p11tool --export-pubkey, id $KID)"
else
    fail "certificate public key and the token's public key (id $KID) differ: cert $cert_pub token $tok_pub"
fi
n=$(count_objects "Private Key" alice)
[ "$n" = 1 ] && ok "pkcs11-tool: exactly one private key labelled alice" \
    || fail "pkcs11-tool: expected one private key labelled alice, found $n: $(token_objects)"
n=$(count_objects "Certificate" alice)
[ "$n" = 1 ] && ok "pkcs11-tool: alice's certificate is on the token" \
    || fail "pkcs11-tool: expected one certificate labelled alice, found $n"

mtls_check "$TMP/alice.pem" "$KID" "alice"

# --- 2. an existing name ----------------------------------------------------
echo "--- enroll alice again"
enroll alice
expect_rc 16 "enroll an existing name (KPR_ERROR_EXISTS)"
expect_stderr "renew" "enroll an existing name"
[ "$ASKED" = 0 ] && ok "existing name: no secret word was requested" \
    || fail "existing name: a secret word was requested although nothing can come of it"

# --- 3. trust by fingerprint ------------------------------------------------
echo "--- trust"
ENROLL_USER=bob
before=$(outbox_lines)
run_word enroll bad-fp --server "$SERVER" --user bob --pin-file "$PIN_FILE" --secret-file - \
    --trust-fingerprint "$(echo "$CA_FP" | tr '0-9A-F' '1-9A-F0')"
expect_rc 23 "wrong --trust-fingerprint (KPR_ERROR_UNTRUSTED)"
expect_stderr "fingerprint" "wrong --trust-fingerprint"
[ "$ASKED" = 0 ] && [ "$(outbox_lines)" = "$before" ] \
    && ok "wrong fingerprint: no secret word was requested (outbox unchanged)" \
    || fail "wrong fingerprint: a secret word was requested from an untrusted server"
run show bad-fp --json
expect_rc 17 "wrong fingerprint leaves no identity (show → KPR_ERROR_NOT_FOUND)"

before=$(outbox_lines)
N=$((N + 1)); OUT=$TMP/out.$N; ERR=$TMP/err.$N; RC=0
"$CERTKEEPER" enroll no-trust --server "$SERVER" --user bob --pin-file "$PIN_FILE" \
    < /dev/null > "$OUT" 2> "$ERR" || RC=$?
echo "  \$ certkeeper enroll no-trust (no --ca-file/--trust-fingerprint, stdin /dev/null) -> exit $RC"
expect_rc 23 "no trust option and no terminal (KPR_ERROR_UNTRUSTED)"
expect_stderr "--trust-fingerprint" "no trust option: the hint names --trust-fingerprint"
[ "$(outbox_lines)" = "$before" ] && ok "no trust option: no secret word was requested" \
    || fail "no trust option: a secret word was requested"

run_word enroll fp --server "$SERVER" --user bob --pin-file "$PIN_FILE" --secret-file - \
    --trust-fingerprint "$CA_FP"
expect_rc 0 "enroll with the right --trust-fingerprint (colon form)"
show_json fp
check_json "$JSON" 'j["state"] == "ACTIVE" and j["subject"] == "CN=bob"' "fingerprint enrollment: ACTIVE as CN=bob"
if cmp -s "$STATE/trust/fp.pem" "$CA_PEM" \
    || [ "$(openssl x509 -in "$STATE/trust/fp.pem" -noout -fingerprint -sha256)" = "$(openssl x509 -in "$CA_PEM" -noout -fingerprint -sha256)" ]; then
    ok "the confirmed CA is stored as the identity's trust anchor"
else
    fail "trust/fp.pem is not the CA that was confirmed: $(cat "$STATE/trust/fp.pem" 2>&1 | head -3)"
fi

# --- 4. wrong secret word, then a fresh one -----------------------------------
echo "--- wrong secret word"
run_word --word WRONGWORD1 enroll retry --server "$SERVER" --user bob --ca-file "$CA_PEM" \
    --pin-file "$PIN_FILE" --secret-file -
expect_rc 19 "wrong secret word (KPR_ERROR_AUTH)"
# A refused word spent nothing: the enrollment is rolled back (issue 13,
# item 8): no record, no key; a fresh word starts again from scratch.
expect_stderr "Nothing was changed" "wrong word"
run show retry --json
expect_rc 17 "wrong word: no record is left"
n=$(count_objects "Private Key" retry)
[ "$n" = 0 ] && ok "wrong word: no key is left on the token" \
    || fail "wrong word: expected no private key labelled retry, found $n"
run_word enroll retry --server "$SERVER" --user bob --ca-file "$CA_PEM" \
    --pin-file "$PIN_FILE" --secret-file -
expect_rc 0 "re-run with a fresh secret word finishes the enrollment"
show_json retry
check_json "$JSON" 'j["state"] == "ACTIVE"' "re-run: ACTIVE"
RETRY_KID=$(key_id_of retry)
run show retry --pem
if [ "$(openssl x509 -in "$OUT" -noout -pubkey 2>/dev/null)" = "$(token_pubkey "$RETRY_KID")" ]; then
    ok "re-run: the certificate carries the token key"
else
    fail "re-run: the certificate does not carry the token key $RETRY_KID"
fi
n=$(count_objects "Private Key" retry)
[ "$n" = 1 ] && ok "re-run: still exactly one private key labelled retry" \
    || fail "re-run: expected one private key labelled retry, found $n"

# --- 5. a used word replayed ----------------------------------------------------
echo "--- replayed secret word"
run_word --word "$FIRST_WORD" enroll replay --server "$SERVER" --user alice --ca-file "$CA_PEM" \
    --pin-file "$PIN_FILE" --secret-file -
expect_rc 19 "a used secret word replayed (KPR_ERROR_AUTH)"
run show replay --json
expect_rc 17 "replayed word: no certificate, no record left (rolled back)"

# --- 6. server down ---------------------------------------------------------------
echo "--- server down"
DOWN=https://127.0.0.1:$(free_port)
run enroll down --server "$DOWN" --user alice --ca-file "$CA_PEM" --pin-file "$PIN_FILE"
expect_rc 20 "server not listening (KPR_ERROR_UNREACHABLE)"
expect_stderr "127.0.0.1" "server down: the message names the server"

# --- 7. wrong PIN -----------------------------------------------------------------
echo "--- wrong PIN"
WRONG_PIN=$(secret_file wrong-pin "Wrong-Pin-0000")
before=$(outbox_lines)
run_word enroll badpin --server "$SERVER" --user alice --ca-file "$CA_PEM" \
    --pin-file "$WRONG_PIN" --secret-file -
expect_rc 9 "wrong PIN (KPR_ERROR_PIN_INCORRECT)"
expect_stderr "PIN" "wrong PIN"
[ "$ASKED" = 0 ] && ok "wrong PIN: no secret word was requested" \
    || fail "wrong PIN: a secret word was sent although the token refused the PIN"
n=$(token_objects | grep -c 'label: *badpin$' || true)
[ "$n" = 0 ] && ok "wrong PIN: nothing labelled badpin on the token" \
    || fail "wrong PIN: $n object(s) labelled badpin were created on the token"

# The wrong PIN is not retried; the same command with the right PIN
# finishes the enrollment (no orphan objects).
run_word enroll badpin --server "$SERVER" --user alice --ca-file "$CA_PEM" \
    --pin-file "$PIN_FILE" --secret-file -
expect_rc 0 "the same enrollment with the right PIN"
n=$(count_objects "Private Key" badpin)
[ "$n" = 1 ] && ok "right PIN: exactly one private key labelled badpin" \
    || fail "right PIN: expected one private key labelled badpin, found $n"

# --- 7b. a secret word already at hand (issue 13 item 10) --------------------------
# The word was requested before (here with curl): enroll --secret-file F
# sends it and requests no other (no text message for nothing).
echo "--- --secret-file with a word at hand"
"$CA_BIN" user add "$CA" carol --phone +15550102 > /dev/null
before=$(outbox_lines)
code=$(curl -sS --max-time 20 --cacert "$CA_PEM" -H 'Content-Type: application/json' \
    -d '{"username": "carol"}' -o /dev/null -w '%{http_code}' "$SERVER/.well-known/est/challenge")
[ "$code" = 202 ] && [ "$(outbox_lines)" -gt "$before" ] \
    || fail "curl could not request a secret word for carol (HTTP $code)"
before=$(outbox_lines)
CAROL_WORD=$(secret_file carol-word "$(last_word)")
run enroll given --server "$SERVER" --user carol --ca-file "$CA_PEM" --pin-file "$PIN_FILE" \
    --secret-file "$CAROL_WORD"
expect_rc 0 "enroll --secret-file with the word requested before"
[ "$(outbox_lines)" = "$before" ] && ok "--secret-file: no second secret word was requested" \
    || fail "--secret-file: the server texted another word: $(tail -n 1 "$OUTBOX")"

# --- 8. everything still as it was ------------------------------------------------
n=$(count_objects "Private Key" alice)
[ "$n" = 1 ] && ok "alice still has exactly one private key" \
    || fail "alice: expected one private key, found $n"
run status
case "$RC" in
    0|26) ok "status runs (exit $RC)" ;;
    *) fail "status: exit $RC: $(cat "$ERR")" ;;
esac

stop_server
finish
