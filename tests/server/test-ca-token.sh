#!/bin/sh
# certkeeper-ca with its CA key on a PKCS#11 token (SoftHSM2 in a temp
# dir): init --ca-token, serve with --pin-file, enrollment and a CRL
# signed on the token, checked by openssl and pkcs11-tool; wrong PIN and
# missing token give their documented exit codes.
. "$(dirname "$0")/lib.sh"

for tool in softhsm2-util pkcs11-tool; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "1..0 # SKIP $tool is not installed (softhsm2, opensc)"
    exit 77
  fi
done
MODULE=${KPR_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
if [ ! -f "$MODULE" ]; then
  echo "1..0 # SKIP the SoftHSM2 module $MODULE is missing"
  exit 77
fi

# A SoftHSM2 store of our own; the token is found through p11-kit's
# registration of SoftHSM, or --ca-module when it is not registered.
mkdir -p "$TMP/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$TMP" >"$TMP/softhsm2.conf"
SOFTHSM2_CONF=$TMP/softhsm2.conf
export SOFTHSM2_CONF
softhsm2-util --init-token --free --label ca --pin 1234 --so-pin 5678 >/dev/null \
  || fail "softhsm2-util --init-token"
printf '1234\n' >"$TMP/pin"
printf '9999\n' >"$TMP/bad-pin"
chmod 600 "$TMP/pin" "$TMP/bad-pin"
p11 () { pkcs11-tool --module "$MODULE" --token-label ca "$@"; }

rc=0
"$CA_BIN" init "$TMP/none" --ca-token 'pkcs11:token=no-such-token' --pin-file "$TMP/pin" \
  2>"$TMP/err" || rc=$?
[ "$rc" -eq 6 ] || fail "init on a missing token: rc=$rc $(cat "$TMP/err")"
grep -q 'no-such-token' "$TMP/err" || fail "missing-token message does not name it: $(cat "$TMP/err")"
[ ! -e "$TMP/none/ca.pem" ] || fail "init on a missing token left a CA behind"
ok "init --ca-token naming no token: exit 6 (KPR_ERROR_NO_TOKEN), nothing created"

rc=0
"$CA_BIN" init "$TMP/wrong" --ca-token 'pkcs11:token=ca' --pin-file "$TMP/bad-pin" \
  2>"$TMP/err" || rc=$?
[ "$rc" -eq 9 ] && grep -q CKR_PIN_INCORRECT "$TMP/err" || fail "init with a wrong PIN: rc=$rc"
if p11 -O --login --pin 1234 2>/dev/null | grep -q 'Private Key Object'; then
  fail "a failed init left a key on the token"
fi
ok "init with a wrong PIN: exit 9, no key left on the token"

rc=0
"$CA_BIN" init "$TMP/x" --pin-file "$TMP/pin" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 2 ] || fail "--pin-file without --ca-token: rc=$rc"
ok "--pin-file without --ca-token is a usage error (2)"

"$CA_BIN" init "$CA" --ca-token 'pkcs11:token=ca' --pin-file "$TMP/pin" >/dev/null 2>"$TMP/err" \
  || fail "init --ca-token: $(cat "$TMP/err")"
[ ! -e "$CA/ca.key" ] || fail "ca.key exists although the key is on the token"
grep -qx 'token=pkcs11:token=ca' "$CA/ca.conf" || fail "ca.conf lacks the token URI"
keyid=$(sed -n 's/^key-id=//p' "$CA/ca.conf")
[ -n "$keyid" ] || fail "ca.conf lacks key-id"
if grep -rq 'PRIVATE KEY' "$CA"/ca.*; then fail "a CA private key in a file"; fi
ok "init --ca-token: no CA key file; ca.conf records the token URI and key id"

p11 -O --login --pin 1234 >"$TMP/objects" 2>&1 || fail "pkcs11-tool -O: $(cat "$TMP/objects")"
awk '/^Private Key Object/ { p = 1 } /^Public Key Object/ { p = 0 } p' "$TMP/objects" >"$TMP/priv"
grep -q 'Private Key Object; EC' "$TMP/priv" || fail "no private EC key on the token: $(cat "$TMP/objects")"
grep -q "ID: *$keyid" "$TMP/priv" || fail "the key's ID is not ca.conf's key-id"
grep -q 'Access:.*sensitive' "$TMP/priv" && grep -q 'never extractable' "$TMP/priv" \
  && grep -q 'local' "$TMP/priv" || fail "key not sensitive/never extractable: $(cat "$TMP/priv")"
if p11 -O 2>/dev/null | grep -q 'Private Key Object'; then
  fail "the CA key is visible without login (not CKA_PRIVATE)"
fi
openssl x509 -in "$CA/ca.pem" -noout -pubkey >"$TMP/ca.pub"
p11 --read-object --type pubkey --id "$keyid" -o "$TMP/tok.pub.der" >/dev/null 2>&1 \
  || fail "cannot read the public key from the token"
[ "$(openssl pkey -pubin -inform DER -in "$TMP/tok.pub.der")" = "$(cat "$TMP/ca.pub")" ] \
  || fail "ca.pem does not carry the token's key"
openssl verify -CAfile "$CA/ca.pem" "$CA/ca.pem" >/dev/null || fail "ca.pem self-signature"
ok "pkcs11-tool: private EC key on token 'ca', sensitive, never extractable, PIN-protected; ca.pem holds its public key"

# serve with a wrong PIN, without a PIN, and against a store lacking the token.
rc=0
"$CA_BIN" serve "$CA" --listen 127.0.0.1:0 --pin-file "$TMP/bad-pin" </dev/null \
  >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 9 ] || fail "serve with a wrong PIN: rc=$rc $(cat "$TMP/err")"
grep -q 'CKR_PIN_INCORRECT' "$TMP/err" && grep -q 'PIN' "$TMP/err" || fail "wrong-PIN message: $(cat "$TMP/err")"
! grep -q '^listening' "$TMP/out" || fail "served with a wrong PIN"
rc=0
"$CA_BIN" serve "$CA" --listen 127.0.0.1:0 </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--pin-file' "$TMP/err" || fail "serve without a PIN: rc=$rc $(cat "$TMP/err")"
mkdir -p "$TMP/empty-tokens"
printf 'directories.tokendir = %s/empty-tokens\n' "$TMP" >"$TMP/empty.conf"
rc=0
SOFTHSM2_CONF=$TMP/empty.conf "$CA_BIN" serve "$CA" --listen 127.0.0.1:0 --pin-file "$TMP/pin" \
  </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 6 ] && grep -q 'pkcs11:token=ca' "$TMP/err" || fail "serve without the token: rc=$rc $(cat "$TMP/err")"
ok "serve: wrong PIN exit 9 (CKR_PIN_INCORRECT), no PIN and no tty exit 2, token missing exit 6"

"$CA_BIN" user add "$CA" alice --phone +15550100 >/dev/null || fail "user add (needs no PIN)"
start_server --otp-outbox "$OUTBOX" --pin-file "$TMP/pin"
grep -q 'CA key on token pkcs11:token=ca' "$TMP/server.err" || fail "no token line in the log"

netrc_for alice "$(word_for alice)" "$TMP/alice.netrc"
new_csr a1 "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/alice.netrc" a1 "$TMP/a1.p7")
[ "$st" = 200 ] || fail "simpleenroll: $st $(cat "$TMP/a1.p7")"
p7_to_pem "$TMP/a1.p7" "$TMP/a1.pem" || fail "enroll answer not PKCS#7"
[ "$(pubkey_of_cert "$TMP/a1.pem")" = "$(pubkey_of_csr a1)" ] || fail "cert has another key"
openssl verify -CAfile "$CA/ca.pem" "$TMP/a1.pem" >/dev/null || fail "issued cert does not verify"
ok "enrollment: the certificate is signed on the token and verifies against ca.pem"

# A second enrollment revokes the first (CRL signed on the token by the
# server's publisher).  An admin revoke needs no PIN while a server runs: the
# server publishes the CRL; with no server the command signs it itself,
# logged in with the PIN.
netrc_for alice "$(word_for alice)" "$TMP/alice2.netrc"
new_csr a2 "/CN=alice" -newkey rsa:2048
st=$(post_est simpleenroll "$TMP/alice2.netrc" a2 "$TMP/a2.p7")
[ "$st" = 200 ] || fail "second simpleenroll: $st"
p7_to_pem "$TMP/a2.p7" "$TMP/a2.pem"
xcurl -o "$TMP/crl.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl.der" -CAfile "$CA/ca.pem" -noout 2>&1 | grep -q 'verify OK' \
  || fail "CRL signature does not verify"
openssl crl -inform DER -in "$TMP/crl.der" -noout -text | grep -q "Serial Number: $(serial_of "$TMP/a1.pem")" \
  || fail "superseded serial not on the CRL"
rc=0; "$CA_BIN" revoke "$CA" "$(serial_of "$TMP/a2.pem")" </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 0 ] && grep -q 'CRL updated' "$TMP/out" \
  || fail "revoke while the server runs (no PIN needed): rc=$rc $(cat "$TMP/out" "$TMP/err")"
xcurl -o "$TMP/crl2.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl2.der" -CAfile "$CA/ca.pem" -noout 2>&1 | grep -q 'verify OK' \
  || fail "CRL after admin revoke does not verify"
openssl crl -inform DER -in "$TMP/crl2.der" -noout -text | grep -q "Serial Number: $(serial_of "$TMP/a2.pem")" \
  || fail "admin-revoked serial not on the CRL"
openssl verify -crl_check -CRLfile "$TMP/crl2.der" -CAfile "$CA/ca.pem" "$TMP/a2.pem" >/dev/null 2>&1 \
  && fail "a revoked certificate still verifies with the CRL"
netrc_for alice "$(word_for alice)" "$TMP/alice3.netrc"
new_csr a3 "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/alice3.netrc" a3 "$TMP/a3.p7")
[ "$st" = 200 ] || fail "third simpleenroll: $st"
p7_to_pem "$TMP/a3.p7" "$TMP/a3.pem"
ok "revocations produce CRLs signed on the token that 'openssl crl -CAfile ca.pem' accepts"

if grep -q 1234 "$TMP/server.err" "$CA/ca.conf"; then fail "the PIN shows in the log or ca.conf"; fi
stop_server
ok "SIGTERM stops the server with status 0; the PIN appears nowhere"

rc=0; "$CA_BIN" revoke "$CA" "$(serial_of "$TMP/a3.pem")" </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'needs its PIN' "$TMP/err" || fail "revoke without a server and a PIN: rc=$rc"
"$CA_BIN" revoke "$CA" "$(serial_of "$TMP/a3.pem")" --pin-file "$TMP/pin" >"$TMP/out" \
  || fail "admin revoke with --pin-file"
grep -q 'already' "$TMP/out" || fail "the first try did not record the revocation: $(cat "$TMP/out")"
openssl crl -inform DER -in "$CA/crl.der" -CAfile "$CA/ca.pem" -noout 2>&1 | grep -q 'verify OK' \
  || fail "crl.der after an offline revoke does not verify"
openssl crl -inform DER -in "$CA/crl.der" -noout -text | grep -q "Serial Number: $(serial_of "$TMP/a3.pem")" \
  || fail "offline-revoked serial not in crl.der"
ok "no server: revoke needs the PIN (exit 2 without) and writes crl.der signed on the token"

# A module named with --ca-module (for HSMs not registered with p11-kit).
softhsm2-util --init-token --free --label ca2 --pin 4321 --so-pin 5678 >/dev/null \
  || fail "softhsm2-util --init-token ca2"
printf '4321\n' | "$CA_BIN" init "$TMP/ca2" --ca-token 'pkcs11:token=ca2' --ca-module "$MODULE" \
  --pin-file - >/dev/null 2>"$TMP/err" || fail "init --ca-module --pin-file -: $(cat "$TMP/err")"
grep -qx "token-module=$MODULE" "$TMP/ca2/ca.conf" || fail "ca.conf lacks token-module="
openssl crl -inform DER -in "$TMP/ca2/crl.der" -CAfile "$TMP/ca2/ca.pem" -noout 2>&1 \
  | grep -q 'verify OK' || fail "ca2's first CRL does not verify"
[ ! -e "$TMP/ca2/ca.key" ] || fail "ca2 has a key file"
ok "init --ca-module with the PIN on standard input (--pin-file -)"

# Plain init (no --ca-token) still writes ca.key.
"$CA_BIN" init "$TMP/plain" >/dev/null || fail "plain init"
[ "$(stat -c %a "$TMP/plain/ca.key")" = 600 ] || fail "plain init: ca.key not 0600"
! grep -q '^token=' "$TMP/plain/ca.conf" || fail "plain init wrote token="
ok "init without --ca-token keeps the CA key in ca.key (0600)"
done_testing
