#!/bin/sh
# test-add.sh — certkeeper-gtk's "Add an identity" assistant end to end:
# a fresh person (tests/agent/lib.sh) with the software token, certkeeper-ca
# on loopback with an outbox for secret words; test-add (C, under Xvfb)
# walks the assistant three times (gui-alice: the whole walk; gui-bob: a
# wrong secret word, then a new one; gui-cancel: Cancel while working).
# Then the certkeeper command and pkcs11-tool, as independent readers,
# check what the assistant left: two active identities whose keys are on
# the token (gui-bob's, made without a backup, not exportable), and
# nothing at all of the cancelled one.  Last, against a
# second CA in manual-approval mode, "test-add pending" reaches the
# pending page, is refused a wrong certificate file and installs the one
# the server issued (approved and fetched here with curl meanwhile).
#
# Usage: test-add.sh certkeeper certkeeper-ca test-add
DRIVER=${3:?usage: $0 certkeeper certkeeper-ca test-add}
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
. "$(dirname "$0")/../agent/lib.sh"
. "$(dirname "$0")/lib-gui.sh"

init_token
ca_init --lifetime 1h
# carol for the cases that stop early: an account nobody here uses yet
# (a second identity of alice or bob would be asked about first).
"$CA_BIN" user add "$CA" carol --phone +15550102 > /dev/null
start_server

gui_run "$DRIVER" "$SERVER" "$OUTBOX" "$PIN_FILE" "$CA_FP"
[ "$GUI_RC" -eq 0 ] && ok "test-add drove the assistant" || fail "test-add: exit $GUI_RC"

for who in alice bob; do
    name=gui-$who
    show_json "$name"
    expect_rc 0 "certkeeper show $name --json"
    check_json "$JSON" 'j["state"] == "ACTIVE"' "$name: state ACTIVE"
    check_json "$JSON" "j['subject'] == 'CN=$who' and j['username'] == '$who'" "$name: subject CN=$who"
    check_json "$JSON" 'j["token"].startswith("pkcs11:") and "token=certkeeper" in j["token"]' \
        "$name: on the software token"
    if [ "$who" = alice ]; then
        check_json "$JSON" 'j["exportable"] is True' "$name: exportable until backed up and locked"
    else
        check_json "$JSON" 'j["exportable"] is False and j["protection"] == "standard"' \
            "$name: “Allow one backup” off: never exportable, standard protection"
    fi
    n=$(count_objects "Private Key" "$name")
    [ "$n" = 1 ] && ok "pkcs11-tool: one private key labelled $name" \
        || fail "pkcs11-tool: expected one private key labelled $name, found $n: $(token_objects)"
    n=$(count_objects "Certificate" "$name")
    [ "$n" = 1 ] && ok "pkcs11-tool: $name's certificate is on the token" \
        || fail "pkcs11-tool: expected one certificate labelled $name, found $n"
    run show "$name" --pem
    cp "$OUT" "$TMP/$name.pem"
    cert_pub=$(openssl x509 -in "$TMP/$name.pem" -noout -pubkey 2>/dev/null)
    tok_pub=$(token_pubkey "$(key_id_of "$name")")
    [ -n "$tok_pub" ] && [ "$cert_pub" = "$tok_pub" ] \
        && ok "$name: the certificate carries the token's public key" \
        || fail "$name: the certificate's key differs from the token's"
done

# The cancelled enrollment left nothing: no record, no key.
run list --json
expect_rc 0 "certkeeper list --json"
check_json "$OUT" 'sorted(i["name"] for i in j) == ["gui-alice", "gui-bob"]' \
    "list shows exactly gui-alice and gui-bob (nothing of gui-cancel, gui-closed)"
check_json "$OUT" 'all(i["state"] == "ACTIVE" for i in j)' "nothing listed is failed or half-done"
for name in gui-cancel gui-closed; do
    n=$(count_objects "Private Key" $name)
    [ "$n" = 0 ] && ok "pkcs11-tool: no key of the cancelled enrollment $name is left" \
        || fail "pkcs11-tool: $n private key(s) labelled $name are left"
done

# No secret in what the assistant or the agent wrote.
if grep -rqF -- "$PIN" "$STATE" 2>/dev/null; then
    fail "the PIN is under the state dir"
else
    ok "the PIN is nowhere under the state dir"
fi
# --- pending, then the mailed certificate --------------------------------------
echo "--- pending"
stop_server
CA=$TMP/ca-manual
ca_init --lifetime 1h --approval manual
start_server
WORD_FILE=$TMP/pending.word
CERT_FILE=$TMP/pending.der
dbus-run-session -- "$DRIVER" pending "$SERVER" "$OUTBOX" "$PIN_FILE" "$CA_FP" "$WORD_FILE" \
    "$CERT_FILE" "$CA_PEM" &
pid=$!
BG_PIDS="$BG_PIDS $pid"
i=0
while [ "$i" -lt 1200 ] && [ ! -s "$WORD_FILE" ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
if [ -s "$WORD_FILE" ]; then
    req=$(sed -n 's/.*request \([0-9][0-9]*\) from alice waits for approval.*/\1/p' "$TMP/server.err" | tail -n 1)
    "$CA_BIN" approve "$CA" "$req" > /dev/null 2>&1 && ok "certkeeper-ca approve $req" \
        || fail "certkeeper-ca approve '$req' failed: $(tail -5 "$TMP/server.err")"
    # What the server would mail: the certificate for the recorded request,
    # fetched with the word that opened it (certkeeper-ca allows a re-POST).
    sed -n 's/^pending-csr=//p' "$STATE/identities/gui-wait.ini" | base64 -d > "$TMP/wait.csr.der" 2>/dev/null || true
    base64 "$TMP/wait.csr.der" > "$TMP/wait.csr.b64"
    printf 'machine 127.0.0.1 login alice password %s\n' "$(cat "$WORD_FILE")" > "$TMP/alice.netrc"
    st=$(curl -sS --max-time 30 --cacert "$CA_PEM" --netrc-file "$TMP/alice.netrc" -o "$TMP/wait.p7" \
        -w '%{http_code}' -H 'Content-Type: application/pkcs10' --data-binary "@$TMP/wait.csr.b64" \
        "$SERVER/.well-known/est/simpleenroll" || echo 000)
    if [ "$st" = 200 ] && base64 -d "$TMP/wait.p7" | openssl pkcs7 -inform DER -print_certs > "$TMP/wait.cer" 2>/dev/null \
        && openssl x509 -in "$TMP/wait.cer" -outform DER -out "$CERT_FILE.tmp" 2>/dev/null; then
        mv "$CERT_FILE.tmp" "$CERT_FILE"
        ok "curl fetched the approved certificate for gui-wait's waiting key"
    else
        fail "could not fetch the approved certificate (HTTP $st)"
    fi
else
    fail "the driver never reached the pending page (no word file)"
fi
rc=0
wait "$pid" || rc=$?
BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $pid\$//; s/ $pid / /")
[ "$rc" -eq 0 ] && ok "test-add pending" || fail "test-add pending: exit $rc"
show_json gui-wait
check_json "$JSON" 'j["state"] == "ACTIVE" and j["subject"] == "CN=alice"' \
    "gui-wait: ACTIVE as CN=alice after installing the mailed certificate"
n=$(count_objects "Certificate" gui-wait)
[ "$n" = 1 ] && ok "pkcs11-tool: gui-wait's certificate is on the token" \
    || fail "pkcs11-tool: expected one certificate labelled gui-wait, found $n"
finish
