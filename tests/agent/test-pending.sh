#!/bin/sh
# test-pending.sh — a server in manual-approval mode: enroll leaves the
# identity PENDING (exit 22); polling with "renew" before approval says
# pending again; after "certkeeper-ca approve" the poll finishes it.  And
# "certkeeper install NAME FILE.cer": a certificate for another key or from
# another CA is refused with the state unchanged; the certificate the
# server issued for the waiting key (fetched here with curl, as if mailed)
# finishes the identity.
#
# Usage: test-pending.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 1h --approval manual
start_server

# request_id USER: the newest request id the server logged for USER.
request_id() {
    sed -n "s/.*request \([0-9][0-9]*\) from $1 waits for approval.*/\1/p" "$TMP/server.err" | tail -n 1
}

# --- 1. enroll → PENDING ----------------------------------------------------------
enroll alice
expect_rc 22 "enroll against a manual-approval server (KPR_ERROR_PENDING)"
expect_stderr "certkeeper renew alice" "pending: the message says how to poll"
expect_stderr "install" "pending: the message mentions installing a mailed certificate"
show_json alice
check_json "$JSON" 'j["state"] == "PENDING" and j["status"] == "pending"' "show --json: PENDING / pending"
# Issue 13 item 4: a pending identity needs the agent or the person.
run status
expect_rc 26 "status with a PENDING identity (KPR_ERROR_ATTENTION)"
ALICE_ID=$(request_id alice)
[ -n "$ALICE_ID" ] && ok "the server logged request $ALICE_ID for alice" \
    || fail "no pending request for alice in the server log: $(cat "$TMP/server.err")"
ALICE_KID=$(key_id_of alice)

# --- 2. install refusals -----------------------------------------------------------
run install alice "$CA_PEM" --pin-file "$PIN_FILE"
case "$RC" in
    14|23) ok "install of the CA's own certificate refused (exit $RC)" ;;
    *) fail "install of the CA's own certificate: expected exit 14 or 23, got $RC: $(cat "$ERR")" ;;
esac
# Said from the file's side: no server was involved in an install.
[ "$RC" != 14 ] || expect_stderr "is a certificate for another key, not the one “alice” is waiting for" \
    "install refusal: the message names the mismatch, not a server"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/other.key" \
    -out "$TMP/other.pem" -days 1 -subj /CN=alice 2>/dev/null
run install alice "$TMP/other.pem" --pin-file "$PIN_FILE"
case "$RC" in
    14|23) ok "install of a CN=alice certificate for another key from another CA refused (exit $RC)" ;;
    *) fail "install of a foreign certificate: expected exit 14 or 23, got $RC: $(cat "$ERR")" ;;
esac
show_json alice
check_json "$JSON" 'j["state"] == "PENDING" and j.get("serial") is None' "refused installs: alice is still PENDING without a certificate"
m=$(count_objects "Certificate" alice)
[ "$m" = 0 ] && ok "refused installs: no certificate labelled alice on the token" \
    || fail "refused installs: $m certificate(s) labelled alice on the token"

# --- 3. poll before approval ----------------------------------------------------------
run renew alice --pin-file "$PIN_FILE"
expect_rc 22 "renew (poll) before approval: still pending (KPR_ERROR_PENDING)"
show_json alice
check_json "$JSON" 'j["state"] == "PENDING"' "poll before approval: alice stays PENDING"

# --- 4. approve, poll -------------------------------------------------------------------
if "$CA_BIN" approve "$CA" "$ALICE_ID" > /dev/null 2>&1; then
    ok "certkeeper-ca approve $ALICE_ID"
else
    fail "certkeeper-ca approve $ALICE_ID failed"
fi
run renew alice --pin-file "$PIN_FILE"
expect_rc 0 "renew (poll) after approval"
show_json alice
check_json "$JSON" 'j["state"] == "ACTIVE"' "after approval and a poll: alice is ACTIVE"
if [ "$(json "$JSON" 'j["state"]')" != ACTIVE ]; then
    # A person without a script would type a fresh secret word at the
    # prompt: that must finish it too.
    run_word renew alice --pin-file "$PIN_FILE" --secret-file -
    expect_rc 0 "renew (poll) after approval with a fresh secret word"
    show_json alice
    check_json "$JSON" 'j["state"] == "ACTIVE"' "after approval, poll with a fresh word: alice is ACTIVE"
fi

# --- 5. the mailed certificate: install ------------------------------------------------
echo "--- install a mailed certificate"
ENROLL_USER=bob
enroll mailed
expect_rc 22 "enroll mailed (bob): pending"
BOB_WORD=$WORD
MAILED_ID=$(request_id bob)
"$CA_BIN" approve "$CA" "$MAILED_ID" > /dev/null 2>&1 || fail "approve $MAILED_ID failed"
# What the server would mail: the certificate for the recorded request,
# fetched with the word that opened it (as certkeeper-ca allows a re-POST).
sed -n 's/^pending-csr=//p' "$STATE/identities/mailed.ini" | base64 -d > "$TMP/mailed.csr.der" 2>/dev/null || true
base64 "$TMP/mailed.csr.der" > "$TMP/mailed.csr.b64"
printf 'machine 127.0.0.1 login bob password %s\n' "$BOB_WORD" > "$TMP/bob.netrc"
chmod 600 "$TMP/bob.netrc"
st=$(curl -sS --max-time 30 --cacert "$CA_PEM" --netrc-file "$TMP/bob.netrc" -o "$TMP/mailed.p7" \
    -w '%{http_code}' -H 'Content-Type: application/pkcs10' --data-binary "@$TMP/mailed.csr.b64" \
    "$SERVER/.well-known/est/simpleenroll" || echo 000)
if [ "$st" = 200 ] && base64 -d "$TMP/mailed.p7" | openssl pkcs7 -inform DER -print_certs > "$TMP/mailed.cer" 2>/dev/null \
    && grep -q 'BEGIN CERTIFICATE' "$TMP/mailed.cer"; then
    ok "curl fetched the approved certificate for mailed's waiting key"
    openssl x509 -in "$TMP/mailed.cer" -outform DER -out "$TMP/mailed.der"
    run install mailed "$TMP/mailed.der" --pin-file "$PIN_FILE"
    expect_rc 0 "install mailed FILE.cer (DER, as mailed)"
    show_json mailed
    check_json "$JSON" 'j["state"] == "ACTIVE" and j["subject"] == "CN=bob"' "install: mailed is ACTIVE as CN=bob"
    MAILED_KID=$(key_id_of mailed)
    [ "$(openssl x509 -in "$TMP/mailed.cer" -noout -pubkey)" = "$(token_pubkey "$MAILED_KID")" ] \
        && ok "install: the certificate sits with the waiting token key" \
        || fail "install: the certificate does not carry the token key $MAILED_KID"
    n=$(count_objects "Certificate" mailed)
    [ "$n" = 1 ] && ok "install: the certificate is on the token" \
        || fail "install: expected one certificate labelled mailed on the token, found $n"
    run install mailed "$TMP/mailed.der" --pin-file "$PIN_FILE"
    [ "$RC" -ne 0 ] && ok "install on an ACTIVE identity is refused (exit $RC)" \
        || fail "install on an ACTIVE identity succeeded"
else
    fail "could not fetch the approved certificate with curl (HTTP $st): $(cat "$TMP/mailed.p7" 2>/dev/null)"
fi

stop_server
finish
