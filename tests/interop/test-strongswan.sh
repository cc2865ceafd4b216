#!/bin/bash
# test-strongswan.sh — certkeeper-ca against EST clients nobody here wrote:
# strongSwan's `pki --est` enrolls (HTTP Basic + the secret word), re-enrolls
# over mutual TLS, and `pki --estca` fetches the CA certificates; curl posts
# a serverkeygen request and Python's `email` package (an RFC 2046 parser)
# reads the multipart answer.  Each answer is checked with openssl.
#
# Usage: test-strongswan.sh PATH-TO-certkeeper-ca
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../server/lib.sh
. "$HERE/../server/lib.sh"

for tool in pki python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "1..0 # SKIP $tool is not installed (Debian: strongswan-pki, python3)"
    exit 77
  fi
done

# pki reads the password from an options file (0600), never from argv.
pki_quiet () { # pki prints its plugin loading to stderr
  pki "$@" 2>"$TMP/pki.err"
}

"$CA_BIN" init "$CA" >/dev/null 2>&1 || fail "init"
"$CA_BIN" user add "$CA" alice --phone +15550100 >/dev/null || fail "user add"
start_server

# --- enroll: pki --est with username and secret word --------------------------
pki --gen --type ecdsa --size 256 --outform pem >"$TMP/key1.pem" 2>/dev/null || fail "pki --gen"
pki --req --in "$TMP/key1.pem" --type ecdsa --dn "CN=alice" --outform pem >"$TMP/req1.pem" \
  2>/dev/null || fail "pki --req"
WORD=$(word_for alice)
[ -n "$WORD" ] || fail "no secret word in the outbox"
printf -- '--userpass alice:%s\n' "$WORD" >"$TMP/pki.opts"
chmod 600 "$TMP/pki.opts"
pki_quiet --est --url "$BASE" --cacert "$CA/ca.pem" --in "$TMP/req1.pem" --options "$TMP/pki.opts" \
  --outform pem >"$TMP/cert1.pem" \
  || fail "pki --est enroll failed: $(grep -v 'failed to load\|TPM\|tpm' "$TMP/pki.err" | tail -5)"
openssl verify -CAfile "$CA/ca.pem" "$TMP/cert1.pem" >/dev/null \
  || fail "the certificate pki received does not verify"
[ "$(openssl x509 -in "$TMP/cert1.pem" -noout -pubkey)" = \
  "$(openssl pkey -in "$TMP/key1.pem" -pubout)" ] || fail "issued for another key"
openssl x509 -in "$TMP/cert1.pem" -noout -subject | grep -q 'CN *= *alice' \
  || fail "wrong subject"
ok "strongSwan pki --est enrolls (Basic + secret word) and verifies the answer"
rm -f "$TMP/pki.opts"

# --- re-enroll: pki --est --cert/--key (mutual TLS, no password) ---------------
pki --gen --type ecdsa --size 256 --outform pem >"$TMP/key2.pem" 2>/dev/null || fail "pki --gen"
pki --req --in "$TMP/key2.pem" --type ecdsa --dn "CN=alice" --outform pem >"$TMP/req2.pem" \
  2>/dev/null || fail "pki --req"
pki_quiet --est --url "$BASE" --cacert "$CA/ca.pem" --in "$TMP/req2.pem" \
  --cert "$TMP/cert1.pem" --key "$TMP/key1.pem" --outform pem >"$TMP/cert2.pem" \
  || fail "pki --est re-enroll failed: $(grep -v 'failed to load\|TPM\|tpm' "$TMP/pki.err" | tail -5)"
grep -q 'sending TLS client certificate' "$TMP/pki.err" || fail "pki did not use mutual TLS"
openssl verify -CAfile "$CA/ca.pem" "$TMP/cert2.pem" >/dev/null || fail "renewed cert"
[ "$(openssl x509 -in "$TMP/cert2.pem" -noout -pubkey)" = \
  "$(openssl pkey -in "$TMP/key2.pem" -pubout)" ] || fail "renewed for another key"
S1=$(serial_of "$TMP/cert1.pem")
S2=$(serial_of "$TMP/cert2.pem")
[ "$S1" != "$S2" ] || fail "same serial after re-enrollment"
grep -q "simplereenroll.*-> 200" "$TMP/server.err" || fail "no simplereenroll in the server log"
xcurl -o "$TMP/crl.der" "$BASE/crl" || fail "GET /crl"
openssl crl -inform DER -in "$TMP/crl.der" -noout -text | grep -q "$S1" \
  || fail "the superseded certificate $S1 is not on the CRL"
ok "strongSwan pki --est re-enrolls over mutual TLS; the old certificate is revoked"

# --- cacerts: pki --estca ---------------------------------------------------
pki_quiet --estca --url "$BASE" --cacert "$CA/ca.pem" --caout "$TMP/got-ca.pem" --outform pem \
  --force || fail "pki --estca failed: $(tail -3 "$TMP/pki.err")"
[ "$(openssl x509 -in "$TMP/got-ca.pem" -outform DER | sha256sum)" = \
  "$(openssl x509 -in "$CA/ca.pem" -outform DER | sha256sum)" ] \
  || fail "pki --estca got another CA certificate"
ok "strongSwan pki --estca fetches the CA certificate"

# --- bodies: base64 without line breaks ----------------------------------------
xcurl -o "$TMP/cacerts.b64" "$EST/cacerts" || fail "GET cacerts"
[ "$(wc -l <"$TMP/cacerts.b64")" -eq 0 ] || fail "cacerts body has line breaks"
base64 -d "$TMP/cacerts.b64" | openssl pkcs7 -inform DER -print_certs -noout >/dev/null \
  || fail "cacerts body is not base64 PKCS#7"
ok "answers are base64 without line breaks (RFC 8951 §3)"

# --- serverkeygen: multipart read by Python's email package -----------------------
new_csr skg "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-256
netrc_for alice "$(word_for alice)" "$TMP/netrc"
code=$(xcurl --anyauth -D "$TMP/skg.head" -o "$TMP/skg.body" -w '%{http_code}' \
  --netrc-file "$TMP/netrc" -H 'Content-Type: application/pkcs10' \
  --data-binary "@$TMP/skg.b64" "$EST/serverkeygen")
[ "$code" = 200 ] || fail "serverkeygen answered $code: $(cat "$TMP/skg.body")"
python3 - "$TMP/skg.head" "$TMP/skg.body" "$TMP" <<'PY' || fail "the multipart answer does not parse"
import email, email.policy, sys, subprocess, base64
head, body, tmp = sys.argv[1:4]
ctype = [l.split(":", 1)[1].strip() for l in open(head, encoding="latin-1").read().splitlines()
         if l.lower().startswith("content-type:")][-1]
raw = open(body, "rb").read()
msg = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw,
                               policy=email.policy.HTTP)
assert msg.is_multipart(), "not multipart"
# RFC 2046 §5.1.1: the CRLF before a delimiter belongs to it (a bare LF
# there is what made independent parsers find no parts).
delim = b"--" + msg.get_boundary().encode()
at = raw.find(delim, 1)
while at >= 0:
    assert raw[at - 2:at] == b"\r\n", "no CRLF before the delimiter at byte %d" % at
    at = raw.find(delim, at + 1)
assert raw.count(b"\n") == raw.count(b"\r\n"), "bare LF in the body"
assert not msg.defects, "defects: %r" % msg.defects
parts = list(msg.iter_parts())
assert [p.get_content_type() for p in parts] == ["application/pkcs8", "application/pkcs7-mime"], \
    [p.get_content_type() for p in parts]
for p in parts:
    assert not p.defects, "part defects: %r" % p.defects
open(tmp + "/skg-key.der", "wb").write(parts[0].get_payload(decode=True))
open(tmp + "/skg-cert.p7", "wb").write(parts[1].get_payload(decode=True))
PY
openssl pkey -inform DER -in "$TMP/skg-key.der" -pubout >"$TMP/skg-key.pub" \
  || fail "the key part is not PKCS#8"
openssl pkcs7 -inform DER -in "$TMP/skg-cert.p7" -print_certs >"$TMP/skg-cert.pem" \
  || fail "the certificate part is not PKCS#7"
[ "$(openssl x509 -in "$TMP/skg-cert.pem" -noout -pubkey)" = "$(cat "$TMP/skg-key.pub")" ] \
  || fail "the certificate is not for the generated key"
ok "the serverkeygen answer parses in Python's email package: key and certificate match"
rm -f "$TMP/skg-key.der"

# --- serverkeygen that cannot be answered: nothing spent --------------------------
cat >"$TMP/enc.cnf" <<'CNF'
oid_section = oids
[ oids ]
decryptKeyID = 1.2.840.113549.1.9.16.2.37
[ req ]
distinguished_name = dn
attributes = attrs
prompt = no
[ dn ]
CN = alice
[ attrs ]
decryptKeyID = key-1
CNF
openssl req -new -nodes -config "$TMP/enc.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout "$TMP/enc.key" -outform DER -out "$TMP/enc.der" 2>/dev/null || fail "openssl req"
base64 "$TMP/enc.der" >"$TMP/enc.b64"
netrc_for alice "$(word_for alice)" "$TMP/netrc"
SERIALS_BEFORE=$(sqlite3 "$CA/ca.db" 'SELECT count(*) FROM certs')
code=$(post_est serverkeygen "$TMP/netrc" enc "$TMP/enc.out" --anyauth)
[ "$code" = 400 ] || fail "a request for an encrypted key answered $code"
grep -qi 'encrypt' "$TMP/enc.out" || fail "no reason given: $(cat "$TMP/enc.out")"
[ "$(sqlite3 "$CA/ca.db" 'SELECT count(*) FROM certs')" = "$SERIALS_BEFORE" ] \
  || fail "a certificate was issued for the refused request"
code=$(post_est serverkeygen "$TMP/netrc" skg "$TMP/skg2.body" --anyauth)
[ "$code" = 200 ] || fail "the word was spent by the refused request ($code)"
ok "a serverkeygen request for an encrypted key is refused and spends nothing"

stop_server
done_testing
