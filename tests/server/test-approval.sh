#!/bin/sh
# Manual approval: 202 + Retry-After and a pending request until
# 'certkeeper-ca approve DIR ID'; then the same client re-POST gets 200.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" --approval manual --lifetime 90s >/dev/null
"$CA_BIN" user add "$CA" erin --phone +15550177 >/dev/null
start_server

netrc_for erin "$(word_for erin)" "$TMP/erin.netrc"
new_csr e1 "/CN=erin" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/erin.netrc" e1 "$TMP/x" -D "$TMP/h1")
[ "$st" = 202 ] || fail "first POST: $st"
grep -qi '^Retry-After: [0-9]' "$TMP/h1" || fail "no Retry-After"
id=$(sed -n 's/^Request \([0-9]*\) waits.*/\1/p' "$TMP/x")
[ -n "$id" ] || fail "no request id in: $(cat "$TMP/x")"
ok "manual mode: 202 + Retry-After with request $id"

st=$(post_est simpleenroll "$TMP/erin.netrc" e1 "$TMP/x")
[ "$st" = 202 ] || fail "re-POST before approval: $st"
new_csr e2 "/CN=erin" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/erin.netrc" e2 "$TMP/x")
[ "$st" = 401 ] || fail "the consumed word opened a request for another key: $st"
ok "still 202 before approval; the word opens nothing else"

rc=0; "$CA_BIN" approve "$CA" 999 2>/dev/null || rc=$?
[ "$rc" = 17 ] || fail "approve of an unknown id: $rc"
"$CA_BIN" approve "$CA" "$id" >/dev/null || fail "approve"
st=$(post_est simpleenroll "$TMP/erin.netrc" e1 "$TMP/e1.p7")
[ "$st" = 200 ] || fail "re-POST after approval: $st $(cat "$TMP/e1.p7")"
p7_to_pem "$TMP/e1.p7" "$TMP/e1.pem"
[ "$(pubkey_of_cert "$TMP/e1.pem")" = "$(pubkey_of_csr e1)" ] || fail "key"
start=$(date -d "$(openssl x509 -in "$TMP/e1.pem" -noout -startdate | cut -d= -f2)" +%s)
end=$(date -d "$(openssl x509 -in "$TMP/e1.pem" -noout -enddate | cut -d= -f2)" +%s)
[ $((end - start)) -le 160 ] || fail "lifetime 90s not applied: $((end - start))"
ok "after approve the same request gets 200 with the 90 s lifetime"

st=$(post_est simpleenroll "$TMP/erin.netrc" e1 "$TMP/x")
[ "$st" = 200 ] || fail "fetched twice: $st"
p7_to_pem "$TMP/x" "$TMP/x.pem"
[ "$(serial_of "$TMP/x.pem")" = "$(serial_of "$TMP/e1.pem")" ] || fail "fetched twice: a new certificate"
ok "an approved request fetched again gets the same certificate, nothing new"

# serverkeygen waits the same way (keyed by the CSR's public key).
netrc_for erin "$(word_for erin)" "$TMP/erin2.netrc"
new_csr e3 "/CN=erin" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est serverkeygen "$TMP/erin2.netrc" e3 "$TMP/x")
[ "$st" = 202 ] || fail "serverkeygen first POST: $st"
id=$(sed -n 's/^Request \([0-9]*\) waits.*/\1/p' "$TMP/x")
"$CA_BIN" approve "$CA" "$id" >/dev/null || fail "approve serverkeygen"
st=$(post_est serverkeygen "$TMP/erin2.netrc" e3 "$TMP/skg" -D "$TMP/skg.h")
[ "$st" = 200 ] && grep -qi '^Content-Type: multipart/mixed' "$TMP/skg.h" || fail "serverkeygen after approval: $st"
grep -q "application/pkcs8" "$TMP/skg" || fail "no key part"
ok "serverkeygen in manual mode: 202, approve, then the key and certificate"

stop_server
done_testing
