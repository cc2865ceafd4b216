#!/bin/sh
# No issued certificate is lost on a crash (kill -9).  serve answers from
# its writer thread's group commit: a certificate is sent only once its
# record is durable.  Rounds of concurrent enrollments are cut short by
# SIGKILL at different moments; every certificate a client received must
# be in the database, byte for byte, and current; the database must be
# intact; and after a restart every client that got no answer gets its
# certificate by repeating its request (no second certificate per user).
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" >/dev/null
seq 40 | xargs -P 4 -I{} sh -c '"$0" user add "$1" u{} --phone +15550100 >/dev/null &&
  printf "u{} %s\n" "$("$0" code "$1" u{})"' "$CA_BIN" "$CA" >"$TMP/codes" || fail "users"
cut -d' ' -f1 "$TMP/codes" | xargs -P 4 -I{} openssl req -new -nodes -newkey ec \
  -pkeyopt ec_paramgen_curve:P-256 -keyout "$TMP/{}.key" -subj "/CN={}" -outform DER \
  -out "$TMP/{}.der" 2>/dev/null
while read -r u code; do
  netrc_for "$u" "$code" "$TMP/$u.netrc"
  base64 "$TMP/$u.der" >"$TMP/$u.b64"
done <"$TMP/codes"

enroll_bg () { # USER: POST in the background, status in USER.st
  xcurl -o "$TMP/$1.p7" -w '%{http_code}' --netrc-file "$TMP/$1.netrc" \
    -H 'Content-Type: application/pkcs10' --data-binary "@$TMP/$1.b64" "$EST/simpleenroll" \
    >"$TMP/$1.st" 2>/dev/null &
  CLIENTS="$CLIENTS $!"
}

# Each round is killed once it has answered AFTER enrollments (2, 4, 6, 8
# of its 10), whatever the machine's speed: mid-flight, some answered.
got=0; lost=0; round=0
for after in 2 4 6 8; do
  round=$((round + 1))
  start_server
  CLIENTS=
  for u in $(sed -n "$(( (round - 1) * 10 + 1 )),$(( round * 10 ))p" "$TMP/codes" | cut -d' ' -f1); do
    enroll_bg "$u"
  done
  for _ in $(seq 3000); do
    [ "$(grep -c 'simpleenroll -> 200' "$TMP/server.err" || true)" -ge "$after" ] && break
    sleep 0.01
  done
  kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  for p in $CLIENTS; do wait "$p" || true; done
  for u in $(sed -n "$(( (round - 1) * 10 + 1 )),$(( round * 10 ))p" "$TMP/codes" | cut -d' ' -f1); do
    if [ "$(cat "$TMP/$u.st")" = 200 ] && p7_to_pem "$TMP/$u.p7" "$TMP/$u.pem"; then
      got=$((got + 1))
      s=$(serial_of "$TMP/$u.pem")
      openssl x509 -in "$TMP/$u.pem" -outform DER -out "$TMP/$u.cer"
      [ "$(sqlite3 "$CA/ca.db" "SELECT hex(der) FROM certs WHERE serial = '$s' AND revoked IS NULL")" = \
        "$(od -An -tx1 -v "$TMP/$u.cer" | tr -d ' \n' | tr 'a-f' 'A-F')" ] \
        || fail "round $round: $u received $s, which is not in the database"
    else
      lost=$((lost + 1))
      echo "$u" >>"$TMP/unanswered"
    fi
  done
  [ "$(sqlite3 "$CA/ca.db" 'PRAGMA integrity_check')" = ok ] || fail "round $round: database damaged"
done
[ "$got" -gt 0 ] || fail "no enrollment finished before the kills"
ok "killed 4 times mid-load: all $got certificates received are in the database; $lost got no answer"

# After a restart the unanswered clients repeat their requests.
start_server
if [ -s "$TMP/unanswered" ]; then
  CLIENTS=
  for u in $(cat "$TMP/unanswered"); do enroll_bg "$u"; done
  for p in $CLIENTS; do wait "$p" || true; done
  for u in $(cat "$TMP/unanswered"); do
    [ "$(cat "$TMP/$u.st")" = 200 ] || fail "$u repeating after the restart: $(cat "$TMP/$u.st") $(cat "$TMP/$u.p7")"
  done
fi
[ "$(sqlite3 "$CA/ca.db" "SELECT COUNT(*) FROM certs WHERE revoked IS NULL")" = 40 ] \
  || fail "not one valid certificate per user: $(sqlite3 "$CA/ca.db" "SELECT user_id, COUNT(*) FROM certs WHERE revoked IS NULL GROUP BY user_id HAVING COUNT(*) > 1")"
ok "after a restart the $lost unanswered clients got their certificates; one valid certificate per user"
stop_server
done_testing
