#!/bin/sh
# test-mailed.sh — seed 0's mailed .cer, the whole path with the real
# certkeeper-ca in manual-approval mode: enroll → pending with the request
# ID shown (and kept: show, show --json) → `certkeeper-ca requests` lists
# it → approve → `certkeeper-ca cert ID --to x.cer` → `certkeeper install
# NAME x.cer` → ACTIVE; once per format a person may be handed (DER, PEM,
# PKCS#7 .p7b in PEM and .p7c in DER, the CA first).  Bad input (garbage,
# an empty file, a certificate for another key) gives its documented exit
# code, and the record and the token are left as they were.
#
# Usage: test-mailed.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 1h --approval manual
start_server

record_sum() {
    sha256sum "$STATE/identities/$1.ini" | cut -d' ' -f1
}

# pending NAME: enroll NAME, expect PENDING with the request ID shown;
# sets REQ.
pending() {
    enroll "$1"
    expect_rc 22 "enroll $1 against a manual-approval server (KPR_ERROR_PENDING)"
    REQ=$(sed -n 's/.*It is request \([0-9A-Za-z._-]*\) at the server.*/\1/p' "$ERR" | head -n 1)
    [ -n "$REQ" ] && ok "enroll $1: the request ID ($REQ) is printed" \
        || fail "enroll $1: no request ID in: $(cat "$ERR")"
    show_json "$1"
    check_json "$JSON" "j['state'] == 'PENDING' and j['request_id'] == '$REQ'" \
        "show $1 --json: PENDING with request_id $REQ"
    run show "$1"
    expect_stdout "request:    $REQ at the server" "show $1: the request ID"
    "$CA_BIN" requests "$CA" --pending --json > "$TMP/requests.json"
    check_json "$TMP/requests.json" \
        "any(str(r['id']) == '$REQ' and r['user'] == 'alice' and r['state'] == 'pending' for r in j)" \
        "certkeeper-ca requests --pending lists request $REQ for alice"
}

# approve_to REQ FILE [--pem]: approve, then write the certificate.
approve_to() {
    req=$1 file=$2; shift 2
    "$CA_BIN" approve "$CA" "$req" > /dev/null 2>&1 && ok "certkeeper-ca approve $req" \
        || fail "certkeeper-ca approve $req failed"
    "$CA_BIN" cert "$CA" "$req" --to "$file" "$@" > /dev/null 2>&1 \
        && ok "certkeeper-ca cert $req --to $(basename "$file") $*" \
        || fail "certkeeper-ca cert $req --to $file failed"
}

# installed NAME FILE CERT-PEM WHAT: install succeeds, NAME is ACTIVE with
# CERT-PEM's serial and the waiting key, the request ID gone.
installed() {
    kid=$(key_id_of "$1")
    run install "$1" "$2" --pin-file "$PIN_FILE"
    expect_rc 0 "install $1 $4"
    serial=$(openssl x509 -in "$3" -noout -serial | sed 's/^serial=//')
    show_json "$1"
    check_json "$JSON" "j['state'] == 'ACTIVE' and j['serial'].upper().lstrip('0') == '$serial'.upper().lstrip('0') and j['request_id'] is None" \
        "install $4: $1 is ACTIVE with serial $serial, no request waiting"
    [ "$(openssl x509 -in "$3" -noout -pubkey)" = "$(token_pubkey "$kid")" ] \
        && ok "install $4: the certificate carries the token key of $1" \
        || fail "install $4: the certificate is not for the token key $kid"
    n=$(count_objects "Certificate" "$1")
    [ "$n" = 1 ] && ok "install $4: one certificate labelled $1 on the token" \
        || fail "install $4: $n certificates labelled $1 on the token"
}

# --- DER (what `cert --to` writes by default) --------------------------------
pending m-der
DER_REQ=$REQ
pending m-pem
PEM_REQ=$REQ

# Bad input first, while both wait: nothing may change.
before=$(record_sum m-pem)
printf 'this is not a certificate\n' > "$TMP/garbage.cer"
run install m-pem "$TMP/garbage.cer" --pin-file "$PIN_FILE"
expect_rc 3 "install of a garbage file (KPR_ERROR_BAD_INPUT)"
expect_stderr "holds no certificate" "garbage: the message says what the file lacks"
: > "$TMP/empty.cer"
run install m-pem "$TMP/empty.cer" --pin-file "$PIN_FILE"
expect_rc 3 "install of an empty file (KPR_ERROR_BAD_INPUT)"
run install m-pem "$TMP/nosuch.cer" --pin-file "$PIN_FILE"
expect_rc 4 "install of a missing file (KPR_ERROR_IO)"
head -c 200 "$CA_PEM" > "$TMP/cut.pem"
run install m-pem "$TMP/cut.pem" --pin-file "$PIN_FILE"
expect_rc 3 "install of a cut-off PEM file (KPR_ERROR_BAD_INPUT)"

approve_to "$DER_REQ" "$TMP/m-der.cer"
openssl x509 -inform DER -in "$TMP/m-der.cer" -out "$TMP/m-der.pem" 2>/dev/null \
    && ok "the written .cer is DER" || fail "the written .cer is not DER"
# m-der's certificate is for another key than m-pem's.
run install m-pem "$TMP/m-der.cer" --pin-file "$PIN_FILE"
expect_rc 14 "install of a certificate for another key (KPR_ERROR_KEY_MISMATCH)"
expect_stderr "is a certificate for another key" "another key: the message says so"
[ "$(record_sum m-pem)" = "$before" ] && ok "refused installs: the record of m-pem is unchanged" \
    || fail "refused installs changed the record of m-pem"
[ "$(count_objects "Certificate" m-pem)" = 0 ] && ok "refused installs: no certificate on the token" \
    || fail "refused installs left a certificate labelled m-pem on the token"

installed m-der "$TMP/m-der.cer" "$TMP/m-der.pem" "(DER)"

# --- PEM ----------------------------------------------------------------------
approve_to "$PEM_REQ" "$TMP/m-pem.cer" --pem
grep -q 'BEGIN CERTIFICATE' "$TMP/m-pem.cer" && ok "cert --pem writes PEM" || fail "cert --pem wrote no PEM"
installed m-pem "$TMP/m-pem.cer" "$TMP/m-pem.cer" "(PEM)"

# --- PKCS#7: PEM .p7b and DER .p7c, the CA certificate first -----------------
pending m-p7b
approve_to "$REQ" "$TMP/m-p7b.pem" --pem
openssl crl2pkcs7 -nocrl -certfile "$CA_PEM" -certfile "$TMP/m-p7b.pem" -out "$TMP/m-p7b.p7b"
installed m-p7b "$TMP/m-p7b.p7b" "$TMP/m-p7b.pem" "(PKCS#7 .p7b, PEM)"

pending m-p7c
approve_to "$REQ" "$TMP/m-p7c.pem" --pem
openssl crl2pkcs7 -nocrl -certfile "$CA_PEM" -certfile "$TMP/m-p7c.pem" -outform DER \
    -out "$TMP/m-p7c.p7c"
# A PKCS#7 holding only somebody else's certificate is refused like one.
openssl crl2pkcs7 -nocrl -certfile "$TMP/m-der.pem" -outform DER -out "$TMP/other.p7c"
before=$(record_sum m-p7c)
run install m-p7c "$TMP/other.p7c" --pin-file "$PIN_FILE"
expect_rc 14 "install of a .p7c for another key (KPR_ERROR_KEY_MISMATCH)"
[ "$(record_sum m-p7c)" = "$before" ] && ok "refused .p7c: the record is unchanged" \
    || fail "refused .p7c changed the record"
installed m-p7c "$TMP/m-p7c.p7c" "$TMP/m-p7c.pem" "(PKCS#7 .p7c, DER)"

"$CA_BIN" requests "$CA" --json > "$TMP/requests.json"
check_json "$TMP/requests.json" "all(r['state'] == 'issued' for r in j) and len(j) == 4" \
    "certkeeper-ca requests: all four requests issued"

stop_server
finish
