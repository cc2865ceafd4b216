#!/bin/sh
# test-busy.sh — one certkeeper at a time per state dir: while one waits
# for a secret word (holding the lock), another says BUSY (exit 18) and
# why; and a damaged identity record is reported by name with what to do,
# without hiding the other identities.
#
# Usage: test-busy.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 1h
start_server

enroll alice
expect_rc 0 "enroll alice"

# --- 1. the state lock ----------------------------------------------------------------
mkfifo "$TMP/word.fifo"
before=$(outbox_lines)
"$CERTKEEPER" enroll waiting --server "$SERVER" --user bob --ca-file "$CA_PEM" \
    --pin-file "$PIN_FILE" --secret-file - < "$TMP/word.fifo" > "$TMP/waiting.out" 2> "$TMP/waiting.err" &
wpid=$!
BG_PIDS="$BG_PIDS $wpid"
exec 7> "$TMP/word.fifo"
for _ in $(seq 300); do
    [ "$(outbox_lines)" -gt "$before" ] && break
    kill -0 "$wpid" 2>/dev/null || break
    sleep 0.1
done
if [ "$(outbox_lines)" -gt "$before" ] && kill -0 "$wpid" 2>/dev/null; then
    ok "a certkeeper waits for bob's secret word (holding the state lock)"
else
    fail "the waiting certkeeper did not get to the secret word: $(cat "$TMP/waiting.err")"
fi
run list
expect_rc 18 "list while another certkeeper works (KPR_ERROR_BUSY)"
expect_stderr "another certkeeper" "busy: the message says another certkeeper is at work"
lines=$(wc -l < "$ERR")
[ "$lines" -le 3 ] && ok "busy: a short message ($lines lines)" \
    || fail "busy: expected a short message, got $lines lines: $(cat "$ERR")"
[ -s "$OUT" ] && fail "busy: list printed something on stdout: $(cat "$OUT")"
run show alice --json
expect_rc 18 "show while another certkeeper works (KPR_ERROR_BUSY)"
run enroll third --server "$SERVER" --user bob --ca-file "$CA_PEM" --pin-file "$PIN_FILE"
expect_rc 18 "enroll while another certkeeper works (KPR_ERROR_BUSY)"

(last_word >&7) 2>/dev/null || true
exec 7>&-
wrc=0
wait "$wpid" || wrc=$?
BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $wpid\$//; s/ $wpid / /")
[ "$wrc" = 0 ] && ok "the waiting enrollment finished once it got its word" \
    || fail "the waiting enrollment ended with exit $wrc: $(cat "$TMP/waiting.err")"
run list --json
expect_rc 0 "list once the lock is free"
check_json "$OUT" 'sorted(i["name"] for i in j) == ["alice", "waiting"]' "list shows alice and waiting"

# A certkeeper that dies holding the lock does not leave it held.
mkfifo "$TMP/word2.fifo"
before=$(outbox_lines)
"$CERTKEEPER" enroll killed --server "$SERVER" --user bob --ca-file "$CA_PEM" \
    --pin-file "$PIN_FILE" --secret-file - < "$TMP/word2.fifo" > /dev/null 2>&1 &
kpid=$!
BG_PIDS="$BG_PIDS $kpid"
exec 7> "$TMP/word2.fifo"
for _ in $(seq 300); do
    [ "$(outbox_lines)" -gt "$before" ] && break
    kill -0 "$kpid" 2>/dev/null || break
    sleep 0.1
done
kill -KILL "$kpid" 2>/dev/null || true
wait "$kpid" 2>/dev/null || true
exec 7>&-
BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $kpid\$//; s/ $kpid / /")
run list
expect_rc 0 "list after the lock holder was killed (the lock went with it)"

# --- 2. a damaged record ------------------------------------------------------------
printf '\001\002 this is not a key file [[[\n\377\376garbage\n' > "$STATE/identities/x.ini"
run show x
expect_rc 3 "show of a damaged record (KPR_ERROR_BAD_INPUT)"
SHOW_ERR=$ERR
expect_stderr '“x”' "damaged record: the message names the identity"
expect_stderr "damaged" "damaged record: the message says it is damaged"
if grep -qiE "delete|import|restore|remove" "$ERR"; then
    ok "damaged record: the message says what to do"
else
    fail "damaged record: the message does not say what to do: $(cat "$ERR")"
fi
run status
expect_rc 26 "status with a damaged record (KPR_ERROR_ATTENTION)"
grep -q '^alice ' "$OUT" && grep -q '^waiting ' "$OUT" \
    && ok "status still lists the other identities" \
    || fail "status does not list alice and waiting: $(cat "$OUT")"
expect_stderr '“x”' "status names the damaged record"
run status --json
expect_rc 26 "status --json with a damaged record"
check_json "$OUT" '{"alice", "waiting"} <= set(i["name"] for i in j) and "x" not in [i["name"] for i in j]' "status --json lists the intact identities"
run list
expect_rc 0 "list with a damaged record still works"

# The fix the message suggests must work.
if grep -qF "delete x --yes" "$SHOW_ERR"; then
    run delete x --yes --pin-file "$PIN_FILE"
    expect_rc 0 "delete x --yes, as the damaged-record message suggests"
    [ -e "$STATE/identities/x.ini" ] && fail "delete x --yes left the damaged record in place" \
        || ok "the damaged record is gone from identities/"
fi

stop_server
finish
