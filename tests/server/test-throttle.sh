#!/bin/sh
# Guessing without harming the owner (issue 14, item 1; server/README.md
# "Threat model").  Every "attacker" connects from its own loopback
# address (curl --interface 127.0.0.N), so the per-address and the per-user
# back-offs can be told apart:
#   * with no word outstanding, wrong words are refused and not counted;
#   * with a word outstanding, wrong words from several addresses put the
#     user in a back-off (429 + Retry-After), yet the owner, who asked for
#     the word from their own address, enrolls at once;
#   * wrong guesses never burn an enrollment code;
#   * an address that keeps guessing waits, and longer if it keeps knocking;
#   * spamming /challenge retires no word and is limited per address.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" >/dev/null
for u in dave:+15550142 erin:+15550143 fred:+15550144; do
  "$CA_BIN" user add "$CA" "${u%%:*}" --phone "${u#*:}" >/dev/null
done
start_server
netrc_for dave WRONGWRD "$TMP/dave-wrong.netrc"
new_csr d1 "/CN=dave" -newkey ec -pkeyopt ec_paramgen_curve:P-256

# from ADDRESS: post_est through a given source address.
from () { addr=$1; shift; post_est "$@" --interface "$addr"; }

for i in 1 2 3 4; do
  st=$(from 127.0.0.2 simpleenroll "$TMP/dave-wrong.netrc" d1 "$TMP/x")
  [ "$st" = 401 ] || fail "guess $i with no word outstanding: $st"
done
[ "$(sqlite3 "$CA/ca.db" "SELECT failed FROM users WHERE name = 'dave'")" = 0 ] \
  || fail "guesses counted against dave with no word outstanding"
"$CA_BIN" user list "$CA" | grep -q '^dave .* active ' || fail "dave not active"
ok "no word outstanding: wrong words are refused (401) and not counted against the user"

W=$(word_for dave)
[ -n "$W" ] || fail "no word for dave"
# Three wrong words cost nothing; after that each must wait 2^(n-3) s
# since the last (tries inside the wait are not checked): build up to a
# 4 s wait, then try from a fresh address.
for addr in 127.0.0.3 127.0.0.4 127.0.0.5; do
  st=$(from "$addr" simpleenroll "$TMP/dave-wrong.netrc" d1 "$TMP/x")
  [ "$st" = 401 ] || fail "wrong word from $addr: $st"
done
sleep 1.2
st=$(from 127.0.0.3 simpleenroll "$TMP/dave-wrong.netrc" d1 "$TMP/x")
[ "$st" = 401 ] || fail "fourth wrong word after the 1 s wait: $st $(cat "$TMP/x")"
sleep 2.2
st=$(from 127.0.0.4 simpleenroll "$TMP/dave-wrong.netrc" d1 "$TMP/x")
[ "$st" = 401 ] || fail "fifth wrong word after the 2 s wait: $st $(cat "$TMP/x")"
st=$(from 127.0.0.6 simpleenroll "$TMP/dave-wrong.netrc" d1 "$TMP/x" -D "$TMP/h")
[ "$st" = 429 ] || fail "a wrong word from a fresh address inside the 4 s wait: $st $(cat "$TMP/x")"
retry=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/ip' "$TMP/h" | tr -d '\r')
[ -n "$retry" ] && [ "$retry" -ge 1 ] && [ "$retry" -le 4 ] || fail "per-user Retry-After: '$retry'"
grep -q 'Too many wrong secret words for dave' "$TMP/x" || fail "429 text: $(cat "$TMP/x")"
"$CA_BIN" user list "$CA" | grep -q '^dave .* throttled ' || fail "user list does not say throttled"
ok "wrong words from several addresses: the user is backed off (429, Retry-After $retry s)"

netrc_for dave "$W" "$TMP/dave.netrc"
st=$(post_est simpleenroll "$TMP/dave.netrc" d1 "$TMP/d1.p7")
[ "$st" = 200 ] || fail "the owner with the right word during the back-off: $st $(cat "$TMP/d1.p7")"
ok "the owner, who asked for the word from their address, enrolls at once (200)"

# Enrollment codes: long, never burned by guesses (code-shaped or not).
# The guessing address waits, and knocking during the wait counts too:
# ten tries give it 2^5 s.
CODE=$("$CA_BIN" code "$CA" erin)
netrc_for erin "WRNG-WRNG-WRNG-WRNG" "$TMP/erin-wrong.netrc"
new_csr e0 "/CN=erin" -newkey ec -pkeyopt ec_paramgen_curve:P-256
new_csr e1 "/CN=erin" -newkey ec -pkeyopt ec_paramgen_curve:P-256
for i in 1 2 3 4 5; do
  st=$(from 127.0.0.7 simpleenroll "$TMP/erin-wrong.netrc" e0 "$TMP/x")
  [ "$st" = 401 ] || fail "wrong code $i: $st"
done
for i in 6 7 8 9 10; do
  from 127.0.0.7 simpleenroll "$TMP/erin-wrong.netrc" e0 "$TMP/x" >/dev/null
done
netrc_for erin "$CODE" "$TMP/erin.netrc"
st=$(from 127.0.0.7 simpleenroll "$TMP/erin.netrc" e1 "$TMP/x" -D "$TMP/h1")
r1=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/ip' "$TMP/h1" | tr -d '\r')
[ "$st" = 429 ] && [ -n "$r1" ] && [ "$r1" -ge 16 ] \
  || fail "the right code from the guessing address: $st, Retry-After '$r1'"
grep -q 'from your address' "$TMP/x" || fail "per-address 429 text: $(cat "$TMP/x")"
ok "the guessing address is backed off and not even checked (429, Retry-After $r1 s)"

st=$(from 127.0.0.8 simpleenroll "$TMP/erin.netrc" e1 "$TMP/e1.p7")
[ "$st" = 200 ] || fail "the code after ten wrong guesses: $st $(cat "$TMP/e1.p7")"
ok "ten wrong guesses leave the enrollment code usable (200 from another address)"

# /challenge: a flood neither retires the word nor sends more than a few.
W1=$(word_for fred)
lines_before=$(grep -c ' fred ' "$OUTBOX")
# 20 calls are free; then the address waits 1 s, 2 s, 4 s... counted in
# whole seconds, so the 21st call may just miss a 1 s wait that the 22nd,
# made within 2 s, cannot.
first429=
for i in $(seq 24); do
  st=$(xcurl -o "$TMP/ch" -w '%{http_code}' --interface 127.0.0.9 -d '{"username":"fred"}' "$EST/challenge")
  [ "$st" = 429 ] && { first429=$i; break; }
done
[ -n "$first429" ] && [ "$first429" -gt 20 ] && [ "$first429" -le 22 ] \
  || fail "first 429 from one address at call ${first429:-none} (expected the 21st or 22nd)"
sent=$(( $(grep -c ' fred ' "$OUTBOX") - lines_before ))
[ "$sent" -le 2 ] || fail "$sent more words sent to fred during the flood"
netrc_for fred "$W1" "$TMP/fred.netrc"
new_csr f1 "/CN=fred" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/fred.netrc" f1 "$TMP/f1.p7")
[ "$st" = 200 ] || fail "fred's first word after the flood: $st $(cat "$TMP/f1.p7")"
ok "a /challenge flood sent $sent more word(s), was stopped (429 at call $first429) and retired no word"

stop_server

# serve --challenges-per-address N moves the per-address allowance (the
# crash tests, which make hundreds of enrollments from 127.0.0.1, and many
# people behind one NAT address): 3 calls pass, the 4th waits.
start_server --otp-outbox "$OUTBOX" --challenges-per-address 3
for i in 1 2 3; do
  st=$(xcurl -o /dev/null -w '%{http_code}' --interface 127.0.0.10 -d '{"username":"erin"}' "$EST/challenge")
  [ "$st" = 202 ] || fail "challenge $i of 3 allowed: $st"
done
st=$(xcurl -o /dev/null -w '%{http_code}' --interface 127.0.0.10 -d '{"username":"erin"}' "$EST/challenge")
[ "$st" = 429 ] || fail "4th challenge with --challenges-per-address 3: $st"
ok "--challenges-per-address 3: three /challenge calls pass, the 4th is backed off (429)"
stop_server
start_server --otp-outbox "$OUTBOX" --challenges-per-address 40
for i in $(seq 30); do
  st=$(xcurl -o /dev/null -w '%{http_code}' --interface 127.0.0.11 -d '{"username":"erin"}' "$EST/challenge")
  [ "$st" = 202 ] || fail "challenge $i of 40 allowed: $st"
done
ok "--challenges-per-address 40: thirty /challenge calls from one address all pass"
stop_server
"$CA_BIN" serve "$CA" --listen 127.0.0.1:0 --challenges-per-address -1 >/dev/null 2>"$TMP/bad.err" \
  && fail "a negative --challenges-per-address was accepted"
grep -q 'challenges-per-address' "$TMP/bad.err" || fail "bad --challenges-per-address: $(cat "$TMP/bad.err")"
ok "a negative --challenges-per-address is refused with a usage error"
done_testing
