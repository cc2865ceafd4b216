#!/bin/sh
# Same-key re-enrollment renews, and the lost-answer recovery belongs to its
# user (issue 14, item 4):
#   * simplereenroll with a CSR for the current key issues a new
#     certificate (new serial, new expiry) and supersedes the old one;
#   * repeating it (the answer was lost) returns that new certificate;
#   * bob, with his own word, sending a CSR for alice's key is refused (403)
#     and his word is not spent;
#   * a repeated simpleenroll of the same user and key gets the same
#     certificate only within the recovery window (10 minutes); after it,
#     it needs a new word and gets a new certificate.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" --lifetime 1h >/dev/null
"$CA_BIN" user add "$CA" alice --phone +15550100 >/dev/null
"$CA_BIN" user add "$CA" bob --phone +15550101 >/dev/null
start_server

netrc_for alice "$(word_for alice)" "$TMP/alice.netrc"
new_csr k1 "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/alice.netrc" k1 "$TMP/c1.p7")
[ "$st" = 200 ] || fail "first enrollment: $st"
p7_to_pem "$TMP/c1.p7" "$TMP/c1.pem"
sleep 1.1 # a later notAfter (seconds) for the renewal

# Renewal with the same key: a new certificate.
st=$(post_est simplereenroll "" k1 "$TMP/c2.p7" --cert "$TMP/c1.pem" --key "$TMP/k1.key")
[ "$st" = 200 ] || fail "same-key simplereenroll: $st $(cat "$TMP/c2.p7")"
p7_to_pem "$TMP/c2.p7" "$TMP/c2.pem"
[ "$(serial_of "$TMP/c2.pem")" != "$(serial_of "$TMP/c1.pem")" ] || fail "same serial after renewal"
[ "$(pubkey_of_cert "$TMP/c2.pem")" = "$(pubkey_of_cert "$TMP/c1.pem")" ] || fail "the key changed"
end1=$(date -d "$(openssl x509 -in "$TMP/c1.pem" -noout -enddate | cut -d= -f2)" +%s)
end2=$(date -d "$(openssl x509 -in "$TMP/c2.pem" -noout -enddate | cut -d= -f2)" +%s)
[ "$end2" -gt "$end1" ] || fail "the renewal did not extend the validity ($end1 → $end2)"
xcurl -o "$TMP/crl.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl.der" -noout -text | grep -q "Serial Number: $(serial_of "$TMP/c1.pem")" \
  || fail "the renewed certificate is not on the CRL"
ok "simplereenroll with the same key issues a new certificate (new serial, later expiry) and supersedes the old"

# The answer of that renewal lost: the client repeats it with what it has.
st=$(post_est simplereenroll "" k1 "$TMP/c2b.p7" --cert "$TMP/c1.pem" --key "$TMP/k1.key")
[ "$st" = 200 ] || fail "repeated renewal: $st $(cat "$TMP/c2b.p7")"
p7_to_pem "$TMP/c2b.p7" "$TMP/c2b.pem"
[ "$(serial_of "$TMP/c2b.pem")" = "$(serial_of "$TMP/c2.pem")" ] || fail "a repeated renewal issued again"
ok "a repeated renewal (lost answer) returns the certificate already issued"

# bob, with his own word, asks for alice's key.
netrc_for bob "$(word_for bob)" "$TMP/bob.netrc"
st=$(post_est simpleenroll "$TMP/bob.netrc" k1 "$TMP/x")
[ "$st" = 403 ] && grep -q 'another user' "$TMP/x" || fail "bob with alice's key: $st $(cat "$TMP/x")"
grep -q "CN *= *alice" "$TMP/x" && fail "alice's certificate went to bob"
new_csr kb "/CN=bob" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/bob.netrc" kb "$TMP/b.p7")
[ "$st" = 200 ] || fail "bob's word after the refusal: $st $(cat "$TMP/b.p7")"
p7_to_pem "$TMP/b.p7" "$TMP/b.pem"
openssl x509 -in "$TMP/b.pem" -noout -subject | grep -qx 'subject=CN = bob' || fail "bob's subject"
# Without credentials, a CSR for alice's key that names bob gets nothing.
new_csr k1bob "/CN=bob" -key "$TMP/k1.key"
st=$(post_est simpleenroll "" k1bob "$TMP/x")
[ "$st" = 401 ] || fail "anonymous CSR for alice's key naming bob: $st"
ok "a key certified for another user is refused (403) without spending the word"

# A repeated simpleenroll of the same user and key: the same certificate
# within the window, a new enrollment after it.
netrc_for alice "$(word_for alice)" "$TMP/alice2.netrc"
new_csr k3 "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/alice2.netrc" k3 "$TMP/c3.p7")
[ "$st" = 200 ] || fail "enrollment of k3: $st"
p7_to_pem "$TMP/c3.p7" "$TMP/c3.pem"
st=$(post_est simpleenroll "$TMP/alice2.netrc" k3 "$TMP/c3b.p7")
[ "$st" = 200 ] || fail "repeat within the window: $st"
p7_to_pem "$TMP/c3b.p7" "$TMP/c3b.pem"
[ "$(serial_of "$TMP/c3b.pem")" = "$(serial_of "$TMP/c3.pem")" ] || fail "repeat issued again"
# Eleven minutes later (the issuance time moved back in the database).
sqlite3 "$CA/ca.db" "UPDATE certs SET issued = issued - 660 WHERE serial = '$(serial_of "$TMP/c3.pem")'"
st=$(post_est simpleenroll "$TMP/alice2.netrc" k3 "$TMP/x")
[ "$st" = 401 ] || fail "repeat after the window with the spent word: $st"
netrc_for alice "$(word_for alice)" "$TMP/alice3.netrc"
st=$(post_est simpleenroll "$TMP/alice3.netrc" k3 "$TMP/c4.p7")
[ "$st" = 200 ] || fail "same key, new word, after the window: $st"
p7_to_pem "$TMP/c4.p7" "$TMP/c4.pem"
[ "$(serial_of "$TMP/c4.pem")" != "$(serial_of "$TMP/c3.pem")" ] || fail "no new certificate after the window"
ok "the same certificate within the 10-minute window; after it a new word makes a new one"

# A CRL asked for after a superseding issuance lists it, also when the
# interval would publish it only an hour later (the agent fetches one
# after every issuance to learn what the server revoked): the waiting
# request makes the publisher build it now.
stop_server
start_server --otp-outbox "$OUTBOX" --crl-interval 3600
netrc_for bob "$(word_for bob)" "$TMP/bob2.netrc"
new_csr kb2 "/CN=bob" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/bob2.netrc" kb2 "$TMP/b2.p7")
[ "$st" = 200 ] || fail "bob's second enrollment: $st"
xcurl -o "$TMP/crl2.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl2.der" -noout -text | grep -q "Serial Number: $(serial_of "$TMP/b.pem")" \
  || fail "the superseded certificate is not on a CRL fetched after the issuance (--crl-interval 3600)"
ok "a CRL fetched after a superseding issuance lists it without waiting for --crl-interval"

stop_server
done_testing
