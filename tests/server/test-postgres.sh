#!/bin/sh
# Several front ends on one PostgreSQL database (issue 14, item 6), with a
# real throwaway cluster (lib-pg.sh): init creates the schema and refuses a
# database that holds a CA; two `serve` processes with copies of the CA
# directory take 60 concurrent enrollments split between them with 0
# failures and 0 duplicate serials; a secret word is single-use across
# front ends; two renewals of one user on both front ends leave one valid
# certificate; one front end publishes the CRL (an advisory lock) and both
# serve it; when it stops, the other takes over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-pg.sh"

B_PID=
stop_b () { [ -z "$B_PID" ] || { kill -KILL "$B_PID" 2>/dev/null; wait "$B_PID" 2>/dev/null; }; }
EXTRA_CLEANUP="stop_b $EXTRA_CLEANUP"

pg_start
"$CA_BIN" init "$CA" --db "$PG_URI" >/dev/null || fail "init --db"
[ ! -e "$CA/ca.db" ] || fail "init --db made an SQLite file too"
grep -q "^db=postgresql:///certkeeper" "$CA/ca.conf" || fail "ca.conf has no db="
[ "$(pg_sql "SELECT value FROM meta WHERE key = 'schema'")" = 2 ] || fail "schema version"
rc=0; "$CA_BIN" init "$TMP/other" --db "$PG_URI" 2>"$TMP/err" || rc=$?
[ "$rc" = 16 ] && grep -q 'already holds a CA' "$TMP/err" || fail "second CA on the database: rc=$rc"
[ ! -e "$TMP/other/ca.key" ] || fail "the refused init left a key behind"
rc=0; "$CA_BIN" init "$TMP/pw" --db "postgresql://ca:secret@localhost/x" 2>"$TMP/err" || rc=$?
[ "$rc" = 5 ] && grep -q 'pgpass' "$TMP/err" || fail "a password in the URI: rc=$rc $(cat "$TMP/err")"
ok "init --db creates the schema in PostgreSQL; a second CA and a URI with a password are refused"

# The second front end: a copy of the directory (same keys, same database).
cp -a "$CA" "$TMP/ca-b"
seq 60 | xargs -P 4 -I{} sh -c '"$0" user add "$1" u{} --phone +15550100 >/dev/null &&
  printf "u{} %s\n" "$("$0" code "$2" u{})"' "$CA_BIN" "$CA" "$TMP/ca-b" >"$TMP/codes" \
  || fail "users and codes"
[ "$(grep -c '^u[0-9]* ....-....-....-....$' "$TMP/codes")" = 60 ] || fail "60 codes"
"$CA_BIN" user add "$CA" walt --phone +15550101 >/dev/null
"$CA_BIN" user add "$CA" rita --phone +15550102 >/dev/null

start_server
PORT_A=$PORT
"$CA_BIN" serve "$TMP/ca-b" --listen 127.0.0.1:0 --otp-outbox "$OUTBOX" >"$TMP/b.out" 2>"$TMP/b.err" &
B_PID=$!
for _ in $(seq 100); do grep -q '^listening on ' "$TMP/b.out" 2>/dev/null && break; sleep 0.1; done
PORT_B=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/b.out")
[ -n "$PORT_B" ] || fail "front end B did not start: $(cat "$TMP/b.err")"
EST_A="https://127.0.0.1:$PORT_A/.well-known/est"
EST_B="https://127.0.0.1:$PORT_B/.well-known/est"

# Only the clients: a bare 'wait' would wait for the servers too.
CLIENTS=
wait_clients () { for p in $CLIENTS; do wait "$p" || true; done; CLIENTS=; }
# enroll_bg NETRC CSRNAME EST: simpleenroll in the background, status in CSRNAME.st.
enroll_bg () {
  xcurl -o "$TMP/$2.p7" -w '%{http_code}' --netrc-file "$1" -H 'Content-Type: application/pkcs10' \
    --data-binary "@$TMP/$2.b64" "$3/simpleenroll" >"$TMP/$2.st" &
  CLIENTS="$CLIENTS $!"
}

# 60 concurrent enrollments, odd users on A, even on B.
i=0
cut -d' ' -f1 "$TMP/codes" | xargs -P 4 -I{} openssl req -new -nodes -newkey ec \
  -pkeyopt ec_paramgen_curve:P-256 -keyout "$TMP/{}.key" -subj "/CN={}" -outform DER \
  -out "$TMP/{}.der" 2>/dev/null
while read -r u code; do
  i=$((i + 1))
  netrc_for "$u" "$code" "$TMP/$u.netrc"
  base64 "$TMP/$u.der" >"$TMP/$u.b64"
  if [ $((i % 2)) = 1 ]; then enroll_bg "$TMP/$u.netrc" "$u" "$EST_A"; else enroll_bg "$TMP/$u.netrc" "$u" "$EST_B"; fi
done <"$TMP/codes"
wait_clients
failures=0
while read -r u code; do
  if [ "$(cat "$TMP/$u.st")" = 200 ] && p7_to_pem "$TMP/$u.p7" "$TMP/$u.pem"; then
    serial_of "$TMP/$u.pem"
  else
    failures=$((failures + 1))
    echo "# $u: $(cat "$TMP/$u.st") $(head -c 200 "$TMP/$u.p7")" >&2
  fi
done <"$TMP/codes" >"$TMP/serials"
[ "$failures" = 0 ] || fail "$failures of 60 enrollments failed"
[ "$(sort -u "$TMP/serials" | wc -l)" = 60 ] || fail "duplicate serials among the 60"
[ "$(pg_sql "SELECT COUNT(DISTINCT serial) FROM certs")" = 60 ] || fail "not 60 certificates recorded"
grep -q 'issued to' "$TMP/server.err" && grep -q 'issued to' "$TMP/b.err" \
  || fail "one front end issued nothing"
ok "60 concurrent enrollments on two front ends: 0 failures, 60 distinct serials"

# A word is single-use across front ends: the same word on A and B at once.
for round in 1 2 3; do
  W=$(xcurl -o /dev/null -d '{"username":"walt"}' "$EST_A/challenge";
      awk '$2 == "walt" { w = $NF } END { print w }' "$OUTBOX")
  netrc_for walt "$W" "$TMP/walt.netrc"
  new_csr wa "/CN=walt" -newkey ec -pkeyopt ec_paramgen_curve:P-256
  new_csr wb "/CN=walt" -newkey ec -pkeyopt ec_paramgen_curve:P-256
  enroll_bg "$TMP/walt.netrc" wa "$EST_A"
  enroll_bg "$TMP/walt.netrc" wb "$EST_B"
  wait_clients
  [ "$(printf '%s\n%s\n' "$(cat "$TMP/wa.st")" "$(cat "$TMP/wb.st")" | sort | tr '\n' ' ')" = "200 401 " ] \
    || fail "round $round: one word on two front ends gave $(cat "$TMP/wa.st") and $(cat "$TMP/wb.st")"
done
ok "a secret word used on both front ends at once works once (200 + 401, three rounds)"

# Two renewals of one user at once, one per front end: one valid certificate.
C1=$("$CA_BIN" code "$CA" rita); C2=$("$CA_BIN" code "$CA" rita)
netrc_for rita "$C1" "$TMP/r1.netrc"; netrc_for rita "$C2" "$TMP/r2.netrc"
new_csr r1 "/CN=rita" -newkey ec -pkeyopt ec_paramgen_curve:P-256
new_csr r2 "/CN=rita" -newkey ec -pkeyopt ec_paramgen_curve:P-256
enroll_bg "$TMP/r1.netrc" r1 "$EST_A"
enroll_bg "$TMP/r2.netrc" r2 "$EST_B"
wait_clients
[ "$(cat "$TMP/r1.st")" = 200 ] && [ "$(cat "$TMP/r2.st")" = 200 ] || fail "rita's enrollments"
[ "$(pg_sql "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.user_id
             WHERE u.name = 'rita' AND c.revoked IS NULL")" = 1 ] \
  || fail "two valid certificates for rita after concurrent enrollments on two front ends"
ok "concurrent enrollments of one user on both front ends leave one valid certificate"

# One publisher (a session advisory lock); both serve its CRL.  rita's
# second certificate superseded her first: a CRL fetch waits for it.
xcurl -o /dev/null "https://127.0.0.1:$PORT_B/crl" || fail "GET /crl on B: $(tail -5 "$TMP/b.err")"
[ "$(pg_sql "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] \
  || fail "not exactly one advisory lock: $(pg_sql "SELECT * FROM pg_locks WHERE locktype = 'advisory'")"
S1=$(serial_of "$TMP/u1.pem")
"$CA_BIN" revoke "$CA" "$S1" | grep -q 'CRL updated' || fail "revoke with two front ends running"
for est in "$EST_A" "$EST_B"; do
  xcurl -o "$TMP/crl.der" "${est%/.well-known/est}/crl" || fail "GET /crl from $est"
  openssl crl -inform DER -in "$TMP/crl.der" -CAfile "$CA/ca.pem" -noout 2>&1 | grep -q 'verify OK' \
    || fail "CRL from $est does not verify"
  openssl crl -inform DER -in "$TMP/crl.der" -noout -text | grep -q "Serial Number: $S1" \
    || fail "the revoked serial is not on the CRL of $est"
  openssl crl -inform DER -in "$TMP/crl.der" -noout -crlnumber >>"$TMP/numbers"
done
[ "$(sort -u "$TMP/numbers" | wc -l)" = 1 ] || fail "the front ends serve different CRLs: $(cat "$TMP/numbers")"
ok "one front end publishes the CRL under an advisory lock; both serve the same one"

# The publisher goes away: the other takes over (a revocation over the
# network, so no command-line process publishes it instead).
stop_server
S2=$(serial_of "$TMP/u2.pem")
st=$(xcurl -o "$TMP/rv.json" -w '%{http_code}' -X POST --cert "$TMP/u2.pem" --key "$TMP/u2.key" \
       "$EST_B/revoke")
[ "$st" = 200 ] || fail "revoke on B over mutual TLS: $st $(cat "$TMP/rv.json")"
xcurl -o "$TMP/crl.der" "https://127.0.0.1:$PORT_B/crl" || fail "GET /crl on B alone: $(tail -5 "$TMP/b.err")"
openssl crl -inform DER -in "$TMP/crl.der" -noout -text | grep -q "Serial Number: $S2" \
  || fail "B did not publish after A stopped: $(grep -i crl "$TMP/b.err" | tail -3)"
ok "with the publisher stopped, the other front end publishes"

kill -TERM "$B_PID"; rc=0; wait "$B_PID" || rc=$?; B_PID=
[ "$rc" = 0 ] || fail "front end B exited $rc after SIGTERM"
done_testing
