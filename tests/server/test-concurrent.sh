#!/bin/sh
# Eight parallel enrollments of distinct users: all succeed, distinct
# serials, every certificate recorded.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" >/dev/null
for i in 1 2 3 4 5 6 7 8; do
  "$CA_BIN" user add "$CA" "user$i" --phone "+1555010$i" >/dev/null
done
start_server

for i in 1 2 3 4 5 6 7 8; do
  netrc_for "user$i" "$(word_for "user$i")" "$TMP/u$i.netrc"
  new_csr "u$i" "/CN=user$i" -newkey ec -pkeyopt ec_paramgen_curve:P-256
done
pids=
for i in 1 2 3 4 5 6 7 8; do
  post_est simpleenroll "$TMP/u$i.netrc" "u$i" "$TMP/u$i.p7" >"$TMP/u$i.status" &
  pids="$pids $!"
done
# Only the clients: a bare 'wait' would wait for the server too.
for p in $pids; do wait "$p" || true; done
for i in 1 2 3 4 5 6 7 8; do
  [ "$(cat "$TMP/u$i.status")" = 200 ] || fail "user$i: $(cat "$TMP/u$i.status")"
  p7_to_pem "$TMP/u$i.p7" "$TMP/u$i.pem"
  serial_of "$TMP/u$i.pem"
done >"$TMP/serials"
[ "$(sort -u "$TMP/serials" | wc -l)" = 8 ] || fail "serials not distinct"
ok "8 parallel enrollments, 8 distinct serials"

stop_server
for s in $(cat "$TMP/serials"); do
  [ "$(sqlite3 "$CA/ca.db" "SELECT COUNT(*) FROM certs WHERE serial = '$s' AND revoked IS NULL")" = 1 ] \
    || fail "serial $s not in the database"
done
ok "every certificate is in the database"
done_testing
