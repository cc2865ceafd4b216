#!/bin/sh
# --otp-command: the word reaches the command on stdin (never argv), the
# command runs without a shell; 'user disable' stops a user for good.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" >/dev/null
"$CA_BIN" user add "$CA" frank --phone +15550123 >/dev/null
cat >"$TMP/sink.sh" <<'SINK'
#!/bin/sh
# Records its arguments and what it reads, as an SMS gateway would.
echo "args: $*" >>"$1.args"
cat >>"$1"
SINK
chmod 700 "$TMP/sink.sh"
start_server --otp-command "$TMP/sink.sh $TMP/sms"

xcurl -o /dev/null -d '{"username":"frank"}' "$EST/challenge"
for _ in $(seq 50); do [ -s "$TMP/sms" ] && break; sleep 0.1; done
read -r phone word <"$TMP/sms" || fail "nothing on the command's stdin"
[ "$phone" = "+15550123" ] && [ -n "$word" ] || fail "stdin was: $(cat "$TMP/sms")"
grep -q "$word" "$TMP/sms.args" && fail "the word was in argv"
grep -q "$word" "$TMP/server.err" && fail "the word was logged"
ok "--otp-command gets 'PHONE WORD' on stdin, not in argv or the log"

netrc_for frank "$word" "$TMP/frank.netrc"
new_csr f1 "/CN=frank" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/frank.netrc" f1 "$TMP/f1.p7")
[ "$st" = 200 ] || fail "enroll with the delivered word: $st"
p7_to_pem "$TMP/f1.p7" "$TMP/f1.pem"
ok "the delivered word enrolls"

"$CA_BIN" user disable "$CA" frank | grep -q '1 certificate(s) revoked' || fail "disable"
"$CA_BIN" user list "$CA" | grep -q '^frank .* disabled ' || fail "list after disable"
xcurl -o "$TMP/crl.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl.der" -noout -text | grep -q "Serial Number: $(serial_of "$TMP/f1.pem")" \
  || fail "disabled user's certificate not on the CRL"
new_csr f2 "/CN=frank" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simplereenroll "" f2 "$TMP/x" --cert "$TMP/f1.pem" --key "$TMP/f1.key")
[ "$st" = 403 ] || fail "reenroll of a disabled user: $st"
ok "user disable revokes the certificate and blocks re-enrollment"

stop_server
done_testing
