#!/bin/sh
# test-cli-cmp.sh — `certkeeper enroll --protocol cmp` end to end against
# OpenSSL's CMP mock server (`openssl cmp -port 0`, a real peer nobody here
# wrote): IR protected with a one-time reference + secret onto the software
# token and onto a second SoftHSM token standing in for hardware; `renew`
# replaces the key through a KUR signed with the current pair; `revoke`
# sends an RR signed with the key, and, with the key gone, one protected
# with a new reference + secret.  Revocation is learnt from the CRL
# distribution point the certificate names (openssl ca's CRL over http),
# and a CRL signed by another key is not believed.
#
# The mock hands out one fixed certificate (-rsp_cert), whatever key it is
# asked to certify.  certkeeper makes its key only when it enrolls, so each
# enrollment (and renewal) runs twice: first against a mock whose
# certificate is for another key — certkeeper must refuse it in certConf
# and install nothing (the "certificate for another key" case) — then,
# with the certificate issued here for the key now waiting on the token,
# the same command finishes it.  For a KUR the mock also wants the renewed
# certificate to carry the current one's serial (it compares the oldCertID);
# a real CA issues a new serial, and nothing in certkeeper depends on it.
#
# Usage: test-cli-cmp.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/cli-lib.sh"

command -v softhsm2-util > /dev/null 2>&1 || skip "softhsm2-util is not installed (package softhsm2)"

init_tokens
REF=4711
SECRET=$(openssl rand -hex 16)
SECRET_FILE=$(secret_file cmp-secret "$SECRET")
WRONG_FILE=$(secret_file cmp-wrong "not-$SECRET")

# The CA, and a certificate for some other key (the mock's first answer).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/ca.key" \
    -out "$TMP/ca.pem" -days 30 -subj "/CN=certkeeper CMP test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/other.key" 2>/dev/null
openssl pkey -in "$TMP/other.key" -pubout -out "$TMP/other.pub" 2>/dev/null
# The mock's own certificate for signing its answers (an RA under the CA).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/ra.key" 2>/dev/null
openssl pkey -in "$TMP/ra.key" -pubout -out "$TMP/ra.pub" 2>/dev/null

# issue PUBKEY-PEM CN OUT [SERIAL]: a certificate from the test CA.  The
# extensions come from a file, not /dev/stdin: a minimal root (a container,
# fresh-debian) may have no /dev/stdin.
cat > "$TMP/leaf.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
EXT
issue() {
    openssl x509 -new -subj "/CN=$2" -force_pubkey "$1" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
        -set_serial "${4:-0x$(openssl rand -hex 8)}" -days 20 \
        -extfile "${LEAF_EXT:-$TMP/leaf.ext}" -out "$3" 2>"$TMP/issue.err" ||
        { echo "FAIL: openssl x509 -new (CN=$2): $(cat "$TMP/issue.err")" >&2; exit 1; }
}

issue "$TMP/ra.pub" "CMP Test RA" "$TMP/ra.pem"

# start_mock ARGS...: the mock on $MOCK_PORT.  One port for the whole test:
# an identity records its server, and the second round of each step must
# reach the restarted mock there.  The mock binds every interface (OpenSSL
# 3.0 has no address option) and lives only for this test; certkeeper
# speaks to it on 127.0.0.1.  -verbosity 7 logs each message it receives.
MOCK_PORT=$(free_port)
URL=http://127.0.0.1:$MOCK_PORT/pkix/
start_mock() {
    : > "$TMP/mock.log"
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        openssl cmp -port "$MOCK_PORT" -verbosity 7 "$@" > "$TMP/mock.log" 2>&1 &
        PEER_PID=$!
        BG_PIDS="$BG_PIDS $PEER_PID"
        wait_port "$MOCK_PORT" && return 0
        stop_peer # the port is not free again yet
        sleep 0.5
    done
    echo "FAIL: openssl cmp did not start: $(cat "$TMP/mock.log")" >&2
    exit 1
}

# MAC-protected both ways with the reference + secret (IR, RR without key).
mac_mock() {
    stop_peer
    start_mock -srv_ref "$REF" -srv_secret "file:$SECRET_FILE" -rsp_cert "$1" \
        -rsp_extracerts "$TMP/ca.pem"
}

# Signature-protected both ways (KUR, RR with the key): the mock signs with
# its RA certificate and checks our requests against the CA.
sig_mock() {
    stop_peer
    start_mock -srv_cert "$TMP/ra.pem" -srv_key "$TMP/ra.key" -srv_trusted "$TMP/ca.pem" \
        -rsp_cert "$1" -rsp_extracerts "$TMP/ca.pem"
}

# cmp_enroll NAME SECRET-FILE [ARGS...]: the CA from a file, or with
# TRUST_OPT=trust-fingerprint TRUST_VAL=SHA256 by its fingerprint.
TRUST_OPT=ca-file
TRUST_VAL=$TMP/ca.pem
cmp_enroll() {
    name=$1 file=$2; shift 2
    run enroll "$name" --protocol cmp --server "$URL" --user "$name-user" --reference "$REF" \
        "--$TRUST_OPT" "$TRUST_VAL" --pin-file "$PIN_FILE" --secret-file "$file" "$@"
}

# active NAME TOKEN WANT-PEM WHAT
active() {
    show_json "$1"
    serial=$(openssl x509 -in "$3" -noout -serial | sed 's/^serial=//')
    check_json "$JSON" "j['state'] == 'ACTIVE' and j['protocol'] == 'cmp' and j['serial'].upper().lstrip('0') == '$serial'.upper().lstrip('0')" \
        "$4: $1 is ACTIVE over CMP with serial $serial"
    [ "$(openssl x509 -in "$3" -noout -pubkey)" = "$(token_pubkey "$(key_id_of "$1")" "$2")" ] \
        && ok "$4: the certificate carries $1's key on “$2”" \
        || fail "$4: the certificate does not carry $1's key on “$2”"
}

# enroll_on NAME TOKEN-LABEL [ARGS...]: the two rounds described above.
enroll_on() {
    name=$1 label=$2; shift 2
    issue "$TMP/other.pub" "$name-user" "$TMP/other-$name.pem"
    mac_mock "$TMP/other-$name.pem"
    cmp_enroll "$name" "$SECRET_FILE" "$@"
    expect_rc 14 "IR $name on “$label”, the mock answering for another key (KPR_ERROR_KEY_MISMATCH)"
    show_json "$name"
    check_json "$JSON" "j['state'] == 'SUBMITTED' and j.get('serial') is None" \
        "another key's certificate: $name has no certificate, its request stands"
    [ "$(count_objects Certificate "$name")" = 0 ] || [ "$label" != certkeeper ] \
        && ok "another key's certificate: nothing installed" \
        || fail "another key's certificate: a certificate labelled $name is on the token"
    grep -q "received CERTCONF" "$TMP/mock.log" && ok "the mock got our certConf (the refusal)" \
        || fail "no certConf in the mock's log"
    token_pubkey "$(key_id_of "$name")" "$label" > "$TMP/$name.pub"
    issue "$TMP/$name.pub" "$name-user" "$TMP/$name.pem"
    mac_mock "$TMP/$name.pem"
    cmp_enroll "$name" "$SECRET_FILE" "$@"
    expect_rc 0 "IR $name on “$label” with the reference + secret"
    active "$name" "$label" "$TMP/$name.pem" "IR on “$label”"
}

# renew_on NAME TOKEN-LABEL: KUR, twice as above.
renew_on() {
    name=$1 label=$2
    old_kid=$(key_id_of "$name")
    sig_mock "$TMP/$name.pem" # answers with the current certificate: our old key
    run renew "$name" --force --pin-file "$PIN_FILE"
    expect_rc 14 "KUR $name, the mock answering for the old key (KPR_ERROR_KEY_MISMATCH)"
    show_json "$name"
    check_json "$JSON" "j['state'] == 'NEXT_SUBMITTED'" "refused renewal: $name waits with its new key"
    next_kid=$(record_value "$name" next-key-id)
    token_pubkey "$next_kid" "$label" > "$TMP/$name-next.pub"
    issue "$TMP/$name-next.pub" "$name-user" "$TMP/$name-next.pem" \
        "0x$(openssl x509 -in "$TMP/$name.pem" -noout -serial | sed 's/^serial=//')"
    sig_mock "$TMP/$name-next.pem"
    run renew "$name" --pin-file "$PIN_FILE"
    expect_rc 0 "KUR $name on “$label”, signed with the current key"
    grep -q "received KUR" "$TMP/mock.log" && ok "the mock got a KUR" \
        || fail "no KUR in the mock's log: $(tail -n 5 "$TMP/mock.log")"
    active "$name" "$label" "$TMP/$name-next.pem" "KUR on “$label”"
    [ "$(key_id_of "$name")" = "$next_kid" ] && ok "KUR: $name uses its new key" \
        || fail "KUR: $name does not use the key $next_kid"
    [ -z "$(token_pubkey "$old_kid" "$label")" ] && ok "KUR: the old key is gone from “$label”" \
        || fail "KUR: the old key $old_kid is still on “$label”"
    cp "$TMP/$name-next.pem" "$TMP/$name.pem"
}

# --- usage ----------------------------------------------------------------------
run enroll x --protocol cmp --server "$URL" --user x --ca-file "$TMP/ca.pem" --pin-file "$PIN_FILE" \
    --secret-file "$SECRET_FILE"
expect_rc 2 "CMP without --reference (usage)"
run enroll x --protocol cmp --server "$URL" --user x --reference "$REF" --pin-file "$PIN_FILE" \
    --secret-file "$SECRET_FILE"
expect_rc 2 "CMP without --ca-file (usage)"
run enroll x --protocol smtp --server "$URL" --user x
expect_rc 2 "an unknown --protocol (usage)"
run enroll x --server "$URL" --user x --reference "$REF"
expect_rc 2 "--reference without --protocol cmp (usage)"
[ ! -e "$STATE/identities/x.ini" ] && ok "usage errors: no identity recorded" \
    || fail "usage errors: an identity was recorded"

# --- the software token and the second token --------------------------------------
enroll_on soft certkeeper
renew_on soft certkeeper
enroll_on hw "$CARD" --token "pkcs11:token=$CARD"
renew_on hw "$CARD"

# --- the CA confirmed by its fingerprint: taken from the first answer ---------------
CA_FP=$(openssl x509 -in "$TMP/ca.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')
TRUST_OPT=trust-fingerprint
TRUST_VAL=$(echo "$CA_FP" | tr '0-9A-F' 'A-F0-9')
mac_mock "$TMP/other-soft.pem"
cmp_enroll badfp "$SECRET_FILE"
expect_rc 23 "IR with a fingerprint the CA does not have (KPR_ERROR_UNTRUSTED)"
show_json badfp
check_json "$JSON" "j.get('serial') is None" "wrong fingerprint: no certificate"
TRUST_VAL=$CA_FP
enroll_on fp certkeeper
[ "$(openssl x509 -in "$STATE/trust/fp.pem" -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//')" = "$CA_FP" ] \
    && ok "fingerprint: the CA from the answer is stored as fp's trust anchor" \
    || fail "fingerprint: fp's trust anchor is not the CA"
TRUST_OPT=ca-file
TRUST_VAL=$TMP/ca.pem

# --- a wrong secret -----------------------------------------------------------------
issue "$TMP/other.pub" wrong-user "$TMP/other-wrong.pem"
mac_mock "$TMP/other-wrong.pem"
cmp_enroll wrong "$WRONG_FILE"
expect_rc 19 "IR with a wrong secret (KPR_ERROR_AUTH)"
# refused before anything was issued: rolled back like an EST refusal
# (agent/kpr-enroll.c, roll_back_unspent)
expect_stderr "Nothing was changed" "wrong secret: the message says nothing was changed"
[ ! -e "$STATE/identities/wrong.ini" ] && ok "wrong secret: no record" \
    || fail "wrong secret: $STATE/identities/wrong.ini is left"
[ "$(count_objects 'Private Key' wrong)" = 0 ] && ok "wrong secret: no key labelled wrong on the token" \
    || fail "wrong secret: a key labelled wrong is on the token"

# --- revocation ---------------------------------------------------------------------
sig_mock "$TMP/soft.pem"
run revoke soft --pin-file "$PIN_FILE"
expect_rc 0 "revoke soft: RR signed with the key"
show_json soft
check_json "$JSON" "j['state'] == 'REVOKED'" "revoke: soft is REVOKED"
grep -q "received RR" "$TMP/mock.log" && ok "the mock got an RR" || fail "no RR in the mock's log"

# "I lost my token": the key of hw is gone; the operator gives a new
# reference + secret.
SOFTHSM2_CONF=$CONF pkcs11-tool --module "$MODULE" --token-label "$CARD" --login --pin "$PIN" \
    --delete-object --type privkey --id "$(key_id_of hw)" > /dev/null 2>&1 \
    && ok "the key of hw removed from “$CARD” (the token is lost)" || fail "could not remove hw's key"
mac_mock "$TMP/hw.pem"
run revoke hw --pin-file "$PIN_FILE" --reference "$REF" --secret-file "$SECRET_FILE"
expect_rc 0 "revoke hw without its key: RR protected with --reference + secret"
show_json hw
check_json "$JSON" "j['state'] == 'REVOKED'" "revoke without the key: hw is REVOKED"

# --- a CRL distribution point (issue 13, item 3: CAs other than certkeeper-ca) -------
# A CMP CA publishes its CRL where its certificates say; certkeeper fetches
# it there (plain http, as CAs publish them: the CRL is signed), checks
# the signature against the identity's anchor, and caches it no longer
# than its nextUpdate.  The CA's CRLs come from `openssl ca`, served by
# python3's http.server on 127.0.0.1.
mkdir -p "$TMP/ca-db" "$TMP/www"
: > "$TMP/ca-db/index.txt"
echo 01 > "$TMP/ca-db/crlnumber"
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ncertificate = %s\nprivate_key = %s\ndefault_md = sha256\ncrlnumber = %s\n' \
    "$TMP/ca-db/index.txt" "$TMP/ca.pem" "$TMP/ca.key" "$TMP/ca-db/crlnumber" > "$TMP/ca.cnf"
# publish_crl SECONDS: a CRL valid that long, as DER where the certificates point.
publish_crl() {
    openssl ca -config "$TMP/ca.cnf" -gencrl -crlsec "$1" -out "$TMP/crl.pem" 2>"$TMP/ca.err" &&
        openssl crl -in "$TMP/crl.pem" -outform DER -out "$TMP/www/ca.crl.new" 2>>"$TMP/ca.err" &&
        mv "$TMP/www/ca.crl.new" "$TMP/www/ca.crl" ||
        { echo "FAIL: openssl ca -gencrl: $(cat "$TMP/ca.err")" >&2; exit 1; }
}
publish_crl 2
CRL_PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$CRL_PORT" > "$TMP/http.log" 2>&1 &
CRL_PID=$!
BG_PIDS="$BG_PIDS $CRL_PID"
for _ in $(seq 100); do
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
        "$CRL_PORT" 2>/dev/null && break
    sleep 0.05
done
{ cat "$TMP/leaf.ext"; echo "crlDistributionPoints=URI:http://127.0.0.1:$CRL_PORT/ca.crl"; } > "$TMP/dp.ext"
LEAF_EXT=$TMP/dp.ext
enroll_on dp certkeeper
LEAF_EXT=
sleep 2 # a CRL fetched by now is past its nextUpdate
publish_crl 2
# (soft and hw are revoked above, so status exits non-zero whatever dp is:
# dp's own state is what tells.  The enrollment itself fetches no CRL for
# dp: after an issue only the account's other identities are judged.)
run status
expect_stdout "dp " "status lists dp"
grep -q 'GET /ca.crl' "$TMP/http.log" && ok "distribution point: certkeeper fetched the CRL the certificate names" \
    || fail "distribution point: no GET /ca.crl in the server's log: $(tail -n 3 "$TMP/http.log")"
show_json dp
check_json "$JSON" "j['state'] == 'ACTIVE'" "status with a CRL that does not list dp: dp stays ACTIVE"
openssl ca -config "$TMP/ca.cnf" -revoke "$TMP/dp.pem" -crl_reason superseded > /dev/null 2>&1 \
    && ok "the CA revoked dp's certificate" || fail "openssl ca -revoke dp"
sleep 2
publish_crl 600
run status
expect_rc 26 "status once the CA's CRL lists dp (KPR_ERROR_REVOKED)"
show_json dp
check_json "$JSON" "j['state'] == 'REVOKED' and j['revoked']['reason'] == 'superseded' and j['revoked']['when']" \
    "distribution point: dp is REVOKED, superseded, with the date"

# A CRL that lists dp2 but is signed by another key with the CA's name is
# not believed.
LEAF_EXT=$TMP/dp.ext
enroll_on dp2 certkeeper
LEAF_EXT=
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/evil.key" \
    -out "$TMP/evil.pem" -days 1 -subj "/CN=certkeeper CMP test CA" 2>/dev/null
mkdir -p "$TMP/evil-db"
: > "$TMP/evil-db/index.txt"
echo 01 > "$TMP/evil-db/crlnumber"
sed "s|$TMP/ca.pem|$TMP/evil.pem|; s|$TMP/ca.key|$TMP/evil.key|; s|$TMP/ca-db|$TMP/evil-db|g" \
    "$TMP/ca.cnf" > "$TMP/evil.cnf"
openssl ca -config "$TMP/evil.cnf" -revoke "$TMP/dp2.pem" -crl_reason superseded > /dev/null 2>&1 &&
    openssl ca -config "$TMP/evil.cnf" -gencrl -crlsec 600 -out "$TMP/evil-crl.pem" 2>/dev/null &&
    openssl crl -in "$TMP/evil-crl.pem" -outform DER -out "$TMP/www/ca.crl" ||
    fail "could not make the forged CRL"
rm -rf "$STATE/crl" # the cache holds the CA's CRL for 10 minutes
run status
expect_stdout "not signed by the CA" "forged CRL: status says the CRL is not the CA's"
show_json dp2
check_json "$JSON" "j['state'] == 'ACTIVE'" "forged CRL: dp2 stays ACTIVE"
kill "$CRL_PID" 2>/dev/null || true

# --- a record naming a protocol this certkeeper does not know ------------------------
sed 's/^protocol=cmp$/protocol=gopher/' "$STATE/identities/soft.ini" > "$STATE/identities/odd.ini"
chmod 600 "$STATE/identities/odd.ini"
run show odd
expect_rc 3 "show of a record with an unknown protocol (KPR_ERROR_BAD_INPUT)"
expect_stderr "its protocol is unknown" "unknown protocol: the message says what is damaged"

stop_peer
finish
