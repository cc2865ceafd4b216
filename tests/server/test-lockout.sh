#!/bin/sh
# Five wrong secret words lock the user out: even the right word is then
# refused with a clear 4xx, and no word is sent while locked.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" >/dev/null
"$CA_BIN" user add "$CA" dave --phone +15550142 >/dev/null
start_server

W=$(word_for dave)
[ -n "$W" ] || fail "no word in the outbox"
new_csr d1 "/CN=dave" -newkey ec -pkeyopt ec_paramgen_curve:P-256
netrc_for dave WRONGWRD "$TMP/wrong.netrc"
for i in 1 2 3 4; do
  st=$(post_est simpleenroll "$TMP/wrong.netrc" d1 "$TMP/x")
  [ "$st" = 401 ] || fail "wrong word $i: $st"
done
ok "four wrong words: 401 each"

st=$(post_est simpleenroll "$TMP/wrong.netrc" d1 "$TMP/x")
[ "$st" = 429 ] || fail "fifth wrong word: $st"
grep -q 'Too many wrong secret words' "$TMP/x" || fail "lockout text: $(cat "$TMP/x")"
ok "the fifth wrong word locks the user (429 with a clear text)"

netrc_for dave "$W" "$TMP/right.netrc"
st=$(post_est simpleenroll "$TMP/right.netrc" d1 "$TMP/x")
[ "$st" = 429 ] || fail "right word after lockout: $st"
grep -q 'locked' "$TMP/x" || fail "lockout text"
ok "after the lockout even the right word is refused"

lines=$(grep -c ' dave ' "$OUTBOX")
xcurl -o "$TMP/ch" -w '%{http_code}' -d '{"username":"dave"}' "$EST/challenge" >"$TMP/st"
[ "$(cat "$TMP/st")" = 202 ] || fail "challenge while locked: $(cat "$TMP/st")"
[ "$(grep -c ' dave ' "$OUTBOX")" = "$lines" ] || fail "word sent while locked"
"$CA_BIN" user list "$CA" | grep -q '^dave .* locked ' || fail "user list does not show the lock"
ok "no new word while locked; same 202 answer; 'user list' shows it"

stop_server
done_testing
