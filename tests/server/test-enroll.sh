#!/bin/sh
# certkeeper-ca against independent clients (curl, openssl): enrollment,
# subject policy, "a new certificate expires the previous one", CRL,
# re-enrollment over mutual TLS, single-use words, key policy,
# serverkeygen, revocation, CLI errors, clean SIGTERM.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" >/dev/null || fail "init"
[ "$(stat -c %a "$CA/ca.key")" = 600 ] || fail "ca.key is not 0600"
if "$CA_BIN" init "$CA" 2>"$TMP/err"; then fail "init overwrote a CA"; fi
grep -q 'already holds a CA' "$TMP/err" || fail "init refusal unclear"
ok "init creates a CA (key 0600) and refuses to overwrite it"

"$CA_BIN" user add "$CA" alice --phone +15550100 >/dev/null || fail "user add"
rc=0; "$CA_BIN" user add "$CA" alice --phone +15550100 2>"$TMP/err" || rc=$?
[ "$rc" -eq 16 ] && grep -q "already exists" "$TMP/err" || fail "second user add: rc=$rc"
rc=0; "$CA_BIN" user add "$CA" bob --bogus 2>"$TMP/err" || rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "bad option: rc=$rc"
"$CA_BIN" user add "$CA" carol --phone +15550199 >/dev/null
ok "user add twice fails clearly; a bad option prints one line"

start_server

xcurl -o "$TMP/cacerts.b64" "$EST/cacerts"
p7_to_pem "$TMP/cacerts.b64" "$TMP/cacerts.pem" || fail "cacerts not PKCS#7"
[ "$(openssl x509 -in "$CA/ca.pem" -noout -fingerprint -sha256)" = \
  "$(openssl x509 -in "$TMP/cacerts.pem" -noout -fingerprint -sha256)" ] || fail "cacerts is not ca.pem"
ok "GET cacerts returns the CA in PKCS#7"

# Challenge: a known and an unknown user get the same shape.
xcurl -o "$TMP/ch1" -w '%{http_code}' -d '{"username":"alice"}' "$EST/challenge" >"$TMP/code1"
xcurl -o "$TMP/ch2" -w '%{http_code}' -d '{"username":"nobody"}' "$EST/challenge" >"$TMP/code2"
[ "$(cat "$TMP/code1")" = 202 ] && [ "$(cat "$TMP/code2")" = 202 ] || fail "challenge status"
grep -q '"destination":"+1•••••0100"' "$TMP/ch1" || fail "masked destination: $(cat "$TMP/ch1")"
sed 's/"destination":"[^"]*"//' "$TMP/ch1" >"$TMP/s1"; sed 's/"destination":"[^"]*"//' "$TMP/ch2" >"$TMP/s2"
cmp -s "$TMP/s1" "$TMP/s2" || fail "unknown user answer differs"
[ "$(grep -c nobody "$OUTBOX" || true)" = 0 ] || fail "message sent for unknown user"
[ "$(stat -c %a "$OUTBOX")" = 600 ] || fail "outbox not 0600"
if grep -q "$(awk '{print $NF}' "$OUTBOX" | tail -1)" "$TMP/server.err"; then fail "word in log"; fi
ok "challenge: same answer shape for unknown users, word only in the 0600 outbox"

# Enrollment with a CSR that asks for another name.
W=$(awk '$2 == "alice" { w = $NF } END { print w }' "$OUTBOX")
netrc_for alice "$W" "$TMP/alice.netrc"
new_csr a1 "/CN=mallory/O=evil" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/alice.netrc" a1 "$TMP/a1.p7")
[ "$st" = 200 ] || fail "simpleenroll: $st $(cat "$TMP/a1.p7")"
p7_to_pem "$TMP/a1.p7" "$TMP/a1.pem" || fail "enroll answer not PKCS#7"
[ "$(pubkey_of_cert "$TMP/a1.pem")" = "$(pubkey_of_csr a1)" ] || fail "cert has another key"
openssl x509 -in "$TMP/a1.pem" -noout -subject | grep -qx 'subject=CN = alice' || fail "subject not CN=alice"
openssl verify -CAfile "$CA/ca.pem" "$TMP/a1.pem" >/dev/null || fail "does not verify"
ok "simpleenroll: the CSR's key, CN=username whatever the CSR asked, chains to ca.pem"

# The same request again (its answer lost): the same certificate, nothing
# new issued; the spent word opens nothing else.
st=$(post_est simpleenroll "$TMP/alice.netrc" a1 "$TMP/replay.p7")
[ "$st" = 200 ] || fail "repeated request: $st"
p7_to_pem "$TMP/replay.p7" "$TMP/replay.pem"
[ "$(serial_of "$TMP/replay.pem")" = "$(serial_of "$TMP/a1.pem")" ] ||
  fail "a repeated request issued a second certificate"
new_csr a1b "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/alice.netrc" a1b "$TMP/replay.txt")
[ "$st" = 401 ] || fail "replay with a new key: $st"
ok "a repeated request gets the same certificate; a used word is refused for a new key (401)"

# Second enrollment with an enrollment code revokes the first certificate.
"$CA_BIN" code "$CA" alice --ttl 1h >"$TMP/code.txt"
netrc_for alice "$(cat "$TMP/code.txt")" "$TMP/code.netrc"
new_csr a2 "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-384
st=$(post_est simpleenroll "$TMP/code.netrc" a2 "$TMP/a2.p7")
[ "$st" = 200 ] || fail "enroll with code: $st"
p7_to_pem "$TMP/a2.p7" "$TMP/a2.pem"
xcurl -o "$TMP/crl.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl.der" -noout -text >"$TMP/crl.txt" || fail "CRL unreadable"
grep -q "Serial Number: $(serial_of "$TMP/a1.pem")" "$TMP/crl.txt" || fail "first serial not on CRL"
grep -q "Superseded" "$TMP/crl.txt" || fail "no superseded reason"
openssl crl -inform DER -in "$TMP/crl.der" -noout -CAfile "$CA/ca.pem" 2>&1 | grep -q 'verify OK' || fail "CRL signature"
new_csr a2b "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/code.netrc" a2b "$TMP/x")
[ "$st" = 401 ] || fail "code reused: $st"
ok "enrollment code works once; the new certificate revokes the previous one (GET /crl)"

# Re-enrollment over mutual TLS.
new_csr a3 "/CN=alice" -newkey rsa:2048
st=$(post_est simplereenroll "" a3 "$TMP/a3.p7" --cert "$TMP/a2.pem" --key "$TMP/a2.key")
[ "$st" = 200 ] || fail "reenroll: $st $(cat "$TMP/a3.p7")"
p7_to_pem "$TMP/a3.p7" "$TMP/a3.pem"
[ "$(pubkey_of_cert "$TMP/a3.pem")" = "$(pubkey_of_csr a3)" ] || fail "reenroll key"
openssl x509 -in "$TMP/a3.pem" -noout -subject | grep -qx 'subject=CN = alice' || fail "reenroll subject"
new_csr a4 "/CN=bob" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simplereenroll "" a4 "$TMP/x" --cert "$TMP/a3.pem" --key "$TMP/a3.key")
[ "$st" = 400 ] || fail "reenroll with another subject: $st"
st=$(post_est simplereenroll "" a4 "$TMP/x" --cert "$TMP/a1.pem" --key "$TMP/a1.key")
[ "$st" = 403 ] || fail "reenroll with a revoked cert: $st"
st=$(post_est simplereenroll "" a4 "$TMP/x")
[ "$st" = 403 ] || fail "reenroll without a cert: $st"
ok "simplereenroll over mutual TLS; other subject 400, revoked cert 403, no cert 403"

# Key policy.
netrc_for carol "$(word_for carol)" "$TMP/carol.netrc"
new_csr weak "/CN=carol" -newkey rsa:1024
st=$(post_est simpleenroll "$TMP/carol.netrc" weak "$TMP/weak.txt")
[ "$st" = 400 ] && grep -q 'RSA keys of 1024 bits' "$TMP/weak.txt" || fail "RSA-1024: $st"
ok "RSA-1024 refused with 400 and a clear text"

# serverkeygen (the word was not used by the refused request).
st=$(post_est serverkeygen "$TMP/carol.netrc" weak "$TMP/skg.body" -D "$TMP/skg.head")
[ "$st" = 200 ] || fail "serverkeygen: $st $(cat "$TMP/skg.body")"
boundary=$(sed -n 's/^Content-Type: multipart\/mixed; *boundary=\([^;[:space:]]*\).*/\1/ip' "$TMP/skg.head" | tr -d '\r"')
[ -n "$boundary" ] || fail "no multipart boundary"
tr -d '\r' <"$TMP/skg.body" | awk -v b="--$boundary" -v dir="$TMP" '
  $0 == b || $0 == b "--" { part++; body = 0; next }
  body == 0 && $0 == "" { body = 1; next }
  body == 0 && tolower($0) ~ /^content-type: application\/pkcs8/ { kind[part] = "key" }
  body == 0 && tolower($0) ~ /^content-type: application\/pkcs7-mime/ { kind[part] = "p7" }
  body == 1 { print > (dir "/part" part) }
  END { for (p in kind) print p, kind[p] > (dir "/parts") }'
keypart=$(awk '$2 == "key" { print $1 }' "$TMP/parts"); p7part=$(awk '$2 == "p7" { print $1 }' "$TMP/parts")
base64 -d "$TMP/part$keypart" | openssl pkey -inform DER -pubout >"$TMP/skg.pub" || fail "pkcs8 part"
p7_to_pem "$TMP/part$p7part" "$TMP/skg.pem" || fail "pkcs7 part"
[ "$(pubkey_of_cert "$TMP/skg.pem")" = "$(cat "$TMP/skg.pub")" ] || fail "serverkeygen key/cert mismatch"
ok "serverkeygen: multipart with a PKCS#8 key matching the PKCS#7 certificate"

# Revocation: Basic + word with a serial; mutual TLS for the presented cert.
netrc_for carol "$(word_for carol)" "$TMP/carol2.netrc"
serial=$(serial_of "$TMP/skg.pem")
st=$(xcurl -o "$TMP/rv.json" -w '%{http_code}' --netrc-file "$TMP/carol2.netrc" \
       -H 'Content-Type: application/json' -d "{\"serial\":\"$serial\"}" "$EST/revoke")
[ "$st" = 200 ] && grep -q "\"revoked\":\"$serial\"" "$TMP/rv.json" || fail "revoke by word: $st"
st=$(xcurl -o "$TMP/rv2.json" -w '%{http_code}' -X POST --cert "$TMP/a3.pem" --key "$TMP/a3.key" "$EST/revoke")
[ "$st" = 200 ] || fail "revoke by mTLS: $st $(cat "$TMP/rv2.json")"
xcurl -o "$TMP/crl2.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl2.der" -noout -text >"$TMP/crl2.txt"
grep -q "Serial Number: $serial" "$TMP/crl2.txt" && grep -q "Serial Number: $(serial_of "$TMP/a3.pem")" "$TMP/crl2.txt" \
  || fail "revoked serials missing from CRL"
ok "revoke by secret word and by mutual TLS; both on the CRL"

new_csr lbl "/CN=x" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(xcurl -o /dev/null -w '%{http_code}' "$EST/some-label/cacerts")
[ "$st" = 200 ] || fail "labelled cacerts: $st"
st=$(xcurl -o /dev/null -w '%{http_code}' "$EST/nothing")
[ "$st" = 404 ] || fail "unknown op: $st"
st=$(xcurl -o /dev/null -w '%{http_code}' -X POST "$EST/simpleenroll" --data-binary @"$TMP/lbl.b64")
[ "$st" = 401 ] || fail "enroll without auth: $st"
ok "labels accepted, unknown operation 404, no credentials 401"

# Admin revoke from the command line while the server runs.
"$CA_BIN" revoke "$CA" "$(serial_of "$TMP/a2.pem")" >/dev/null || fail "admin revoke"
xcurl -o "$TMP/crl3.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl3.der" -noout -text | grep -q "Serial Number: $(serial_of "$TMP/a2.pem")" \
  || fail "admin revoke not on CRL"
ok "certkeeper-ca revoke while serving updates the CRL"

stop_server
[ "$(sqlite3 "$CA/ca.db" 'SELECT COUNT(*) FROM audit')" -gt 5 ] || fail "audit table empty"
ok "SIGTERM stops the server with status 0; audit recorded"

# ca.conf [est]: a CSR attribute that is no OID, a binding flag that is no
# boolean: serve refuses to start (KPR_ERROR_BAD_INPUT) and says where.
cp "$CA/ca.conf" "$TMP/ca.conf.good"
printf '\n[est]\ncsrattrs=extendedKeyUsage;no such thing\n' >>"$CA/ca.conf"
rc=0
"$CA_BIN" serve "$CA" --listen 127.0.0.1:0 --otp-outbox "$OUTBOX" >/dev/null 2>"$TMP/conf.err" || rc=$?
[ "$rc" = 3 ] && grep -q "ca.conf: csrattrs: 'no such thing'" "$TMP/conf.err" \
  || fail "a bad csrattrs= gave exit $rc: $(cat "$TMP/conf.err")"
cp "$TMP/ca.conf.good" "$CA/ca.conf"
printf '\n[est]\nrequire-binding=maybe\n' >>"$CA/ca.conf"
rc=0
"$CA_BIN" serve "$CA" --listen 127.0.0.1:0 --otp-outbox "$OUTBOX" >/dev/null 2>"$TMP/conf.err" || rc=$?
[ "$rc" = 3 ] && grep -q "require-binding must be true or false" "$TMP/conf.err" \
  || fail "a bad require-binding= gave exit $rc: $(cat "$TMP/conf.err")"
cp "$TMP/ca.conf.good" "$CA/ca.conf"
ok "serve refuses a ca.conf [est] it cannot read, naming the setting"
done_testing
