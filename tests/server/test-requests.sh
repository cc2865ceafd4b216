#!/bin/sh
# Requests and the mailed .cer (issue 14, item 3, the server's side): with
# manual approval a request answers 202 naming its ID (Certkeeper-Request-Id
# and the text); `requests` lists it (table and --json); `approve` issues
# the certificate, `cert ID|SERIAL --to FILE [--pem]` writes it, `serve
# --mail-command` mails it to the user's --mail address (the command gets
# the message on stdin, no shell); the client's next poll gets the same
# certificate; `reject --reason` closes a request and the client is told.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" --approval manual >/dev/null
rc=0; "$CA_BIN" user add "$CA" erin --phone +15550177 --mail 'erin@example.org
Bcc: x@evil' 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] || fail "a mail address with a line break: rc=$rc"
"$CA_BIN" user add "$CA" erin --phone +15550177 --mail erin@example.org >/dev/null || fail "user add --mail"
"$CA_BIN" user add "$CA" gus --phone +15550178 >/dev/null
cat >"$TMP/mail.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$TMP/mail.args"
cat >"$TMP/mail.msg"
EOF
chmod +x "$TMP/mail.sh"
start_server --otp-outbox "$OUTBOX" --mail-command "$TMP/mail.sh --from ca@example.org"

netrc_for erin "$(word_for erin)" "$TMP/erin.netrc"
new_csr e1 "/CN=erin" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/erin.netrc" e1 "$TMP/x" -D "$TMP/h")
[ "$st" = 202 ] || fail "first POST: $st"
id=$(sed -n 's/^Certkeeper-Request-Id: *\([0-9]*\).*/\1/ip' "$TMP/h" | tr -d '\r')
[ -n "$id" ] && grep -q "^Request $id waits" "$TMP/x" || fail "no request ID: $(cat "$TMP/h" "$TMP/x")"
ok "202 names the request: Certkeeper-Request-Id: $id and in the text"

"$CA_BIN" requests "$CA" --pending >"$TMP/list" || fail "requests --pending"
grep -Eq "^$id +erin +CN=erin +EC P-256 +20[0-9-]+T[0-9:]+Z +pending$" "$TMP/list" \
  || fail "requests --pending: $(cat "$TMP/list")"
"$CA_BIN" requests "$CA" --json >"$TMP/list.json" || fail "requests --json"
python3 - "$TMP/list.json" "$id" <<'PY' || fail "requests --json: $(cat "$TMP/list.json")"
import json, sys
r = [x for x in json.load(open(sys.argv[1])) if x["id"] == int(sys.argv[2])][0]
assert r["user"] == "erin" and r["subject"] == "CN=erin" and r["key_type"] == "EC P-256", r
assert r["state"] == "pending" and r["operation"] == "simpleenroll" and r["serial"] is None, r
PY
rc=0; "$CA_BIN" cert "$CA" "$id" --to "$TMP/early.cer" 2>"$TMP/err" || rc=$?
[ "$rc" = 17 ] && grep -q 'approve it first' "$TMP/err" || fail "cert before approval: rc=$rc"
ok "requests lists it (table, --json): ID, user, subject, key type, submitted, state"

"$CA_BIN" approve "$CA" "$id" >"$TMP/out" || fail "approve"
serial=$(sed -n 's/.*certificate \([0-9A-F]*\) issued.*/\1/p' "$TMP/out")
[ -n "$serial" ] || fail "approve printed no serial: $(cat "$TMP/out")"
"$CA_BIN" requests "$CA" | grep -Eq "^$id +erin .* issued$" || fail "state after approve"
"$CA_BIN" requests "$CA" --pending | grep -q "^$id " && fail "still listed as pending"
"$CA_BIN" cert "$CA" "$id" --to "$TMP/erin.cer" >/dev/null || fail "cert ID --to"
openssl x509 -inform DER -in "$TMP/erin.cer" -out "$TMP/erin.pem" || fail "the .cer is not DER"
openssl verify -CAfile "$CA/ca.pem" "$TMP/erin.pem" >/dev/null || fail "the .cer does not verify"
[ "$(pubkey_of_cert "$TMP/erin.pem")" = "$(pubkey_of_csr e1)" ] || fail "the .cer has another key"
[ "$(serial_of "$TMP/erin.pem")" = "$serial" ] || fail "serial of the .cer"
"$CA_BIN" cert "$CA" "$(echo "$serial" | tr 'A-F' 'a-f')" --to "$TMP/erin2.pem" --pem >/dev/null \
  || fail "cert SERIAL --pem"
cmp -s "$TMP/erin.pem" "$TMP/erin2.pem" || fail "cert by serial --pem differs"
ok "approve issues $serial; cert ID --to writes the DER .cer, cert SERIAL --pem the same in PEM"

for _ in $(seq 50); do [ -s "$TMP/mail.msg" ] && break; sleep 0.1; done
[ -s "$TMP/mail.msg" ] || fail "nothing mailed: $(grep -i mail "$TMP/server.err")"
grep -qx -- '--from' "$TMP/mail.args" || fail "the command's own arguments: $(cat "$TMP/mail.args")"
tr -d '\r' <"$TMP/mail.msg" >"$TMP/mail.txt"
grep -qx 'To: erin@example.org' "$TMP/mail.txt" || fail "To: $(head -3 "$TMP/mail.txt")"
grep -q "Subject: Your certificate (request $id)" "$TMP/mail.txt" || fail "Subject"
awk '/^Content-Transfer-Encoding: base64/ { b = 1; next } b && /^--/ { b = 0 } b && NF' \
  "$TMP/mail.txt" | base64 -d >"$TMP/mailed.cer" || fail "attachment not base64"
cmp -s "$TMP/mailed.cer" "$TMP/erin.cer" || fail "the mailed .cer is not the certificate"
ok "serve --mail-command mailed the .cer to erin@example.org (message on stdin, no shell)"

st=$(post_est simpleenroll "" e1 "$TMP/e1.p7")
[ "$st" = 200 ] || fail "poll after approval: $st"
p7_to_pem "$TMP/e1.p7" "$TMP/e1.pem"
[ "$(serial_of "$TMP/e1.pem")" = "$serial" ] || fail "the poll got another certificate"
ok "the client's next poll gets the same certificate"

netrc_for gus "$(word_for gus)" "$TMP/gus.netrc"
new_csr g1 "/CN=gus" -newkey rsa:2048
st=$(post_est simpleenroll "$TMP/gus.netrc" g1 "$TMP/x" -D "$TMP/h")
gid=$(sed -n 's/^Certkeeper-Request-Id: *\([0-9]*\).*/\1/ip' "$TMP/h" | tr -d '\r')
[ "$st" = 202 ] && [ -n "$gid" ] || fail "gus's request: $st"
"$CA_BIN" requests "$CA" --pending | grep -Eq "^$gid +gus +CN=gus +RSA 2048 " || fail "gus pending"
"$CA_BIN" reject "$CA" "$gid" --reason "not on the list" >/dev/null || fail "reject"
st=$(post_est simpleenroll "$TMP/gus.netrc" g1 "$TMP/x")
[ "$st" = 403 ] && grep -q "rejected: not on the list" "$TMP/x" || fail "poll after reject: $st $(cat "$TMP/x")"
"$CA_BIN" requests "$CA" | grep -Eq "^$gid +gus .* rejected$" || fail "state after reject"
rc=0; "$CA_BIN" approve "$CA" "$gid" 2>/dev/null || rc=$?
[ "$rc" = 21 ] || fail "approve a rejected request: rc=$rc"
rc=0; "$CA_BIN" approve "$CA" 999 2>"$TMP/err" || rc=$?
[ "$rc" = 17 ] && grep -q 'requests DIR --pending' "$TMP/err" || fail "approve 999: rc=$rc"
rc=0; "$CA_BIN" approve "$CA" seven 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] && [ "$(wc -l <"$TMP/err")" = 1 ] || fail "approve seven: rc=$rc"
rc=0; "$CA_BIN" cert "$CA" "$id" 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] || fail "cert without --to: rc=$rc"
ok "reject --reason: the client is told (403); bad IDs and options fail clearly (17, 21, 2)"

stop_server
done_testing
