#!/bin/sh
# test-cli-scep.sh — `certkeeper enroll --protocol scep` end to end against
# Debian's scepserver (micromdm, a CA of its own in a temp dir, a challenge
# password given through its environment): onto the software token and
# onto a second SoftHSM token standing in for hardware; `renew` replaces
# the key through a RenewalReq signed with the current pair (scepserver
# wants the challenge on renewals too: certkeeper asks for it again); a
# wrong challenge is refused with nothing installed; an EC key is refused
# before anything is sent.
#
# Usage: test-cli-scep.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/cli-lib.sh"

command -v scepserver > /dev/null 2>&1 || skip "scepserver is not installed (package scep)"
command -v softhsm2-util > /dev/null 2>&1 || skip "softhsm2-util is not installed (package softhsm2)"

init_tokens
CHALLENGE=$(openssl rand -hex 12)
CH_FILE=$(secret_file challenge "$CHALLENGE")
WRONG_FILE=$(secret_file wrong "not-$CHALLENGE")

DEPOT=$TMP/depot
scepserver ca -init -depot "$DEPOT" -keySize 2048 -organization "certkeeper test" -years 1 \
    > /dev/null 2>&1 || { echo "FAIL: scepserver ca -init" >&2; exit 1; }
SCEP_CA=$DEPOT/ca.pem
SCEP_FP=$(openssl x509 -in "$SCEP_CA" -noout -fingerprint -sha256 | sed 's/^.*=//')
# scepserver binds every interface (it has no address option); the port is
# random and the client speaks to it on 127.0.0.1 only.
for _ in 1 2 3 4 5; do
    PORT=$(free_port)
    SCEP_CHALLENGE_PASSWORD=$CHALLENGE scepserver -depot "$DEPOT" -port "$PORT" -allowrenew 0 \
        -debug > "$TMP/scepserver.log" 2>&1 &
    PEER_PID=$!
    BG_PIDS="$BG_PIDS $PEER_PID"
    wait_port "$PORT" && break
    stop_peer
done
[ -n "$PEER_PID" ] || { echo "FAIL: scepserver did not start: $(cat "$TMP/scepserver.log")" >&2; exit 1; }
URL=http://127.0.0.1:$PORT/scep

# scep_enroll NAME SECRET-FILE [ARGS...]
scep_enroll() {
    name=$1 file=$2; shift 2
    run enroll "$name" --protocol scep --server "$URL" --user "$name-user" --pin-file "$PIN_FILE" \
        --secret-file "$file" "$@"
}

# enrolled NAME TOKEN WHAT: ACTIVE over SCEP, RSA, the certificate chains to
# scepserver's CA (openssl verify) and carries the token's key.
enrolled() {
    show_json "$1"
    check_json "$JSON" "j['state'] == 'ACTIVE' and j['protocol'] == 'scep' and j['key_type'] == 'rsa-2048' and j['subject'] == 'CN=$1-user'" \
        "$3: $1 is ACTIVE over SCEP with an RSA 2048 key, CN=$1-user"
    run show "$1" --pem
    sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$OUT" | head -n "$(grep -n 'END CERTIFICATE' "$OUT" | head -n 1 | cut -d: -f1)" > "$TMP/$1.pem"
    openssl verify -CAfile "$SCEP_CA" "$TMP/$1.pem" > /dev/null 2>&1 \
        && ok "$3: openssl verifies $1's certificate against scepserver's CA" \
        || fail "$3: $1's certificate does not verify against scepserver's CA"
    [ "$(openssl x509 -in "$TMP/$1.pem" -noout -pubkey)" = "$(token_pubkey "$(key_id_of "$1")" "$2")" ] \
        && ok "$3: the certificate carries the key on token “$2”" \
        || fail "$3: the certificate does not carry $1's key on token “$2”"
}

# renewed NAME TOKEN WHAT: renew --force gives a new key and serial; the
# old key is gone from the token.
renewed() {
    old_kid=$(key_id_of "$1")
    old_serial=$(openssl x509 -in "$TMP/$1.pem" -noout -serial)
    run renew "$1" --force --pin-file "$PIN_FILE" --secret-file "$CH_FILE"
    expect_rc 0 "$3: renew $1 --force (RenewalReq)"
    grep -q "SCEP renewal refused without a challenge password; sent again with one" \
        "$STATE/identities/$1.log" \
        && ok "$3: scepserver wants the challenge on renewal too; certkeeper sent it on the second try" \
        || fail "$3: no renewal with the challenge in the log: $(cat "$STATE/identities/$1.log")"
    enrolled "$1" "$2" "$3 after renewal"
    [ "$(key_id_of "$1")" != "$old_kid" ] && ok "$3: renewal made a new key" \
        || fail "$3: renewal kept the key id $old_kid"
    [ "$(openssl x509 -in "$TMP/$1.pem" -noout -serial)" != "$old_serial" ] \
        && ok "$3: renewal brought a new certificate" || fail "$3: the serial did not change"
    [ -z "$(token_pubkey "$old_kid" "$2")" ] && ok "$3: the old key is gone from “$2”" \
        || fail "$3: the old key $old_kid is still on “$2”"
}

# --- the software token, CA confirmed by its fingerprint -----------------------
scep_enroll soft "$CH_FILE" --trust-fingerprint "$SCEP_FP"
expect_rc 0 "enroll soft --protocol scep onto the software token"
grep -q "SCEP request sent by POST with AES-128-CBC, SHA-256\$" "$STATE/identities/soft.log" \
    && ok "enroll: AES, SHA-256 and POST, as scepserver's GetCACaps offers (the log says so)" \
    || fail "enroll: not AES/SHA-256/POST: $(cat "$STATE/identities/soft.log")"
enrolled soft certkeeper "software token"
# certkeeper-ca's CRL check (kpr-revocation.c) is EST's: not tried on a SCEP CA
if grep -q "revocations not checked" "$STATE/identities/soft.log"; then
    fail "enroll: a CRL was fetched from the SCEP server: $(cat "$STATE/identities/soft.log")"
else ok "enroll: no EST CRL fetch from the SCEP server after the issue"; fi
grep -q 'PKCSReq' "$TMP/scepserver.log" && ok "scepserver logged a PKCSReq" \
    || fail "no PKCSReq in scepserver's log"
renewed soft certkeeper "software token"
grep -q 'RenewalReq' "$TMP/scepserver.log" && ok "scepserver logged a RenewalReq" \
    || fail "no RenewalReq in scepserver's log: $(tail -n 5 "$TMP/scepserver.log")"

# --- the second token ("hardware"), CA from a file --------------------------------
scep_enroll hw "$CH_FILE" --ca-file "$SCEP_CA" --token "pkcs11:token=$CARD"
expect_rc 0 "enroll hw --protocol scep onto the token “$CARD”"
enrolled hw "$CARD" "token $CARD"
show_json hw
check_json "$JSON" "j['exportable'] is False" "token $CARD: the key is not exportable"
renewed hw "$CARD" "token $CARD"

# --- refusals -----------------------------------------------------------------
scep_enroll wrong "$WRONG_FILE" --ca-file "$SCEP_CA"
expect_rc 21 "a wrong challenge password (KPR_ERROR_REJECTED)"
# refused before anything was issued: rolled back like an EST refusal
# (agent/kpr-enroll.c, roll_back_unspent)
expect_stderr "Nothing was changed" "wrong challenge: the message says nothing was changed"
[ ! -e "$STATE/identities/wrong.ini" ] && ok "wrong challenge: no record" \
    || fail "wrong challenge: $STATE/identities/wrong.ini is left"
[ "$(count_objects Certificate wrong)" = 0 ] && [ "$(count_objects 'Private Key' wrong)" = 0 ] \
    && ok "wrong challenge: no key and no certificate labelled wrong on the token" \
    || fail "wrong challenge: objects labelled wrong are on the token"

scep_enroll ec "$CH_FILE" --ca-file "$SCEP_CA" --key ec-p256
expect_rc 2 "SCEP with an EC key (usage)"
expect_stderr "SCEP needs an RSA key" "EC key: the message says why"
[ ! -e "$STATE/identities/ec.ini" ] && ok "EC key: no identity recorded" \
    || fail "EC key: an identity was recorded"

scep_enroll untrusted "$CH_FILE" --trust-fingerprint "00:11:22"
expect_rc 23 "SCEP with a fingerprint the CA does not have (KPR_ERROR_UNTRUSTED)"

run revoke soft --pin-file "$PIN_FILE"
expect_rc 12 "revoke over SCEP (KPR_ERROR_UNSUPPORTED: SCEP has no revocation)"
show_json soft
check_json "$JSON" "j['state'] == 'ACTIVE'" "revoke over SCEP: soft is still ACTIVE"

# --- the headless agent (kiosk): protocol=scep, the challenge in its code file --------
AGENT=${KPR_BUILD_DIR:+$KPR_BUILD_DIR/agent/resident/certkeeper-agent}
[ -x "$AGENT" ] || AGENT=$(dirname "$CERTKEEPER")/../resident/certkeeper-agent
cat > "$TMP/agent.conf" <<EOF
[identity kiosk]
protocol=scep
server=$URL
username=kiosk-user
token=pkcs11:token=$CARD
pin-file=$PIN_FILE
enrollment-code-file=$CH_FILE
ca-file=$SCEP_CA
EOF
"$AGENT" --headless --config "$TMP/agent.conf" < /dev/null > "$TMP/agent.out" 2> "$TMP/agent.log" &
AGENT_PID=$!
BG_PIDS="$BG_PIDS $AGENT_PID"
state=
for _ in $(seq 600); do
    state=$("$CERTKEEPER" show kiosk --json < /dev/null 2>/dev/null \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])' 2>/dev/null || true)
    [ "$state" = ACTIVE ] && break
    kill -0 "$AGENT_PID" 2>/dev/null || break
    sleep 0.1
done
kill -TERM "$AGENT_PID" 2>/dev/null || true
wait "$AGENT_PID" 2>/dev/null || true
BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $AGENT_PID\$//; s/ $AGENT_PID / /")
if [ "$state" = ACTIVE ]; then
    ok "certkeeper-agent --headless enrolled kiosk over SCEP with the challenge from its code file"
    enrolled kiosk "$CARD" "headless"
else
    fail "certkeeper-agent --headless did not enroll kiosk (state ${state:-none}): $(cat "$TMP/agent.log")"
fi

stop_peer
finish
