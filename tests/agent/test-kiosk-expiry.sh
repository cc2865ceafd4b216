#!/bin/sh
# test-kiosk-expiry.sh — a kiosk whose certificate expires while its server
# is down (issue 13, item 14).  certkeeper-ca issues certificates that
# expire a minute after issue; certkeeper-agent --headless enrolls with an
# enrollment code, then the server stops.  Checked from the agent's log
# (the logged next-attempt times, never the wall clock, so that it holds
# under ASan on a loaded machine) and from outside:
#   * once expired, every wake-up is an attempt (no reminder every 10 s),
#     each failure is logged once with its next attempt, and the waits grow
#     (the backoff restarts at expiry and doubles: 6, 12, 24 s for these
#     short certificates; 30 s doubling to 15 min for real ones);
#   * the server comes back: the expired certificate is refused and the
#     enrollment code file still holds the code that was spent on the first
#     enrollment — it is not sent again; the log says what the
#     administrator must provide (the file, a new code from 'certkeeper-ca
#     code DIR alice'), the agent keeps running, status exits 26;
#   * a new code written to the file: the agent notices, enrolls again
#     with it (no secret word texted), and the new certificate is on the
#     token (pkcs11-tool reads it: the new serial, one certificate);
#   * neither code is in the log; SIGTERM → exit 0.
#
# Usage: test-kiosk-expiry.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca PATH-TO-certkeeper-agent
. "$(dirname "$0")/lib.sh"

AGENT=$(agent_exe "${3:?usage: $0 certkeeper certkeeper-ca certkeeper-agent}")

init_token
# notBefore is backdated 60 s: a 60 s lifetime expires 60 s after issue
# (120 s of validity: backoff floor 120/20 = 6 s).
ca_init --lifetime 60s
start_server
kiosk_code
kiosk_config "$TMP/agent.conf"
LOG=$TMP/agent.log
"$AGENT" --headless --config "$TMP/agent.conf" < /dev/null > /dev/null 2> "$LOG" &
AGENT_PID=$!
BG_PIDS="$BG_PIDS $AGENT_PID"

# wait_log PATTERN SECONDS: until the log has a line matching PATTERN
# (grep -E) or the agent died; 1 when it did not come.
wait_log() {
    i=0
    while [ "$i" -lt $(($2 * 5)) ]; do
        grep -qE -- "$1" "$LOG" && return 0
        kill -0 "$AGENT_PID" 2>/dev/null || return 1
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

wait_log 'kiosk: enrolled, serial' 120 \
    || { fail "the agent did not enroll: $(tail -5 "$LOG")"; finish; }
SERIAL1=$(sed -n 's/.*kiosk: enrolled, serial \([0-9A-F]*\),.*/\1/p' "$LOG" | head -1)
stop_server
ok "enrolled (serial $SERIAL1), then the server stopped"

# --- 1. expiry during the outage: growing waits, one line per attempt ----------
wait_log 'the certificate expired at' 150 \
    || { fail "no line saying the certificate expired: $(tail -5 "$LOG")"; finish; }
# after_expiry: the log from the expiry line on.
after_expiry() { sed -n '/the certificate expired at/,$p' "$LOG"; }
i=0
while [ "$(after_expiry | grep -c 'next attempt at')" -lt 3 ] && [ "$i" -lt 600 ]; do
    kill -0 "$AGENT_PID" 2>/dev/null || break
    sleep 0.2
    i=$((i + 1))
done
WAITS=$(after_expiry | sed -n 's/.*renewal failed (attempt [0-9]*, the certificate has expired): .*; next attempt at [0-9TZ:.+-]* (in \([0-9]*\) s)$/\1/p' | head -3 | tr '\n' ' ')
echo "  waits after expiry: $WAITS"
set -- $WAITS
if [ $# -eq 3 ] && [ "$1" -ge 1 ] && [ "$1" -lt "$2" ] && [ "$2" -lt "$3" ]; then
    ok "after expiry each failure names its next attempt, and the waits grow ($WAITS s)"
else
    fail "expected three growing waits after expiry, got '$WAITS': $(after_expiry | head -12)"
fi
[ "$1" = 6 ] && [ "$2" = 12 ] && [ "$3" = 24 ] \
    && ok "the backoff restarted at expiry from its floor and doubles (6, 12, 24 s)" \
    || fail "expected waits 6 12 24 after expiry, got $WAITS"
attempts=$(after_expiry | grep -c 'renewal failed (attempt' || true)
wakes=$(after_expiry | grep -c 'next wake-up in' || true)
reminders=$(after_expiry | grep -c 'is not renewed yet' || true)
[ "$wakes" -le $((attempts + 1)) ] && [ "$reminders" -le 1 ] \
    && ok "no reminders between attempts ($attempts attempts, $wakes wake-ups, $reminders expiry line)" \
    || fail "$wakes wake-ups and $reminders reminders for $attempts attempts: $(after_expiry | head -20)"

# --- 2. the server is back; the code file holds the spent code ---------------------
"$CA_BIN" serve "$CA" --listen "127.0.0.1:$PORT" --otp-outbox "$OUTBOX" \
    > "$TMP/server.out" 2> "$TMP/server.err" &
SERVER_PID=$!
wait_log 'must get a new one-time enrollment code' 120 \
    && ok "the server answered and refused the expired certificate; the spent code was not sent" \
    || fail "no message for the administrator: $(tail -8 "$LOG")"
line=$(grep 'must get a new one-time enrollment code' "$LOG" | tail -1)
case "$line" in
    *"$CODE_FILE"*"certkeeper-ca code DIR alice"*|*"certkeeper-ca code DIR alice"*"$CODE_FILE"*)
        ok "it names the file and how to get a code: ${line#*: }" ;;
    *) fail "the administrator's message lacks the file or the command: $line" ;;
esac
case "$line" in *"already used"*) ok "it says why: the code was already used" ;;
    *) fail "the message does not say the code was used: $line" ;; esac
grep -q '^<3>.*must get a new one-time enrollment code' "$LOG" \
    && ok "logged as an error (<3>)" || fail "the administrator's message is not an error line"
# The spent code never reached the server a second time: no simpleenroll
# with credentials since the restart.
grep 'simpleenroll' "$TMP/server.err" | grep -v -- '-> 401' | grep -q . \
    && fail "the agent sent an enrollment after the restart: $(grep simpleenroll "$TMP/server.err")" \
    || ok "no enrollment request with the spent code"
sleep 2
kill -0 "$AGENT_PID" 2>/dev/null && ok "the agent keeps running while it waits for a code" \
    || fail "the agent exited: $(tail -3 "$LOG")"
run status --json
expect_rc 26 "status of the expired kiosk"
check_json "$OUT" 'any(i["name"] == "kiosk" and i["status"] == "expired" for i in j)' \
    "status --json: kiosk is expired"

# --- 3. a new code in the file: enrolled again -------------------------------------
CODE2=$("$CA_BIN" code "$CA" alice)
[ -n "$CODE2" ] || { echo "FAIL: certkeeper-ca code printed nothing" >&2; exit 1; }
printf '%s\n' "$CODE2" > "$CODE_FILE"
wait_log 'was not renewed but enrolled again' 120 \
    && ok "the agent saw the new code and enrolled again with it" \
    || fail "no new enrollment after the new code: $(tail -8 "$LOG")"
grep -q 'changed: trying the code' "$LOG" && ok "it noticed the file change by itself" \
    || fail "no line about the changed code file"
SERIAL2=$(sed -n 's/.*kiosk: renewed, serial \([0-9A-F]*\),.*/\1/p' "$LOG" | tail -1)
[ -n "$SERIAL2" ] && [ "$SERIAL2" != "$SERIAL1" ] && ok "a new serial $SERIAL2" \
    || fail "no new serial in the log (was $SERIAL1): $(tail -5 "$LOG")"
[ "$(outbox_lines)" -eq 0 ] && ok "no secret word was texted" \
    || fail "a secret word was requested: $(cat "$OUTBOX")"
# Between deadlines the lock is free: read the token from outside.
for _ in $(seq 50); do
    run show kiosk --json
    [ "$RC" -eq 0 ] && break
    sleep 0.2
done
n=$(count_objects Certificate kiosk)
[ "$n" = 1 ] && ok "one certificate labelled kiosk on the token" \
    || fail "expected one certificate labelled kiosk on the token, found $n"
onToken=$(pkcs11_tool --read-object --type cert --label kiosk 2>/dev/null \
    | openssl x509 -inform DER -noout -serial 2>/dev/null | sed 's/^serial=//')
[ -n "$onToken" ] && [ "$onToken" = "$SERIAL2" ] \
    && ok "pkcs11-tool reads the new certificate from the token (serial $onToken)" \
    || fail "the token's certificate has serial '${onToken:-none}', expected $SERIAL2"
run status --json
check_json "$OUT" 'any(i["name"] == "kiosk" and i["status"] == "active" for i in j)' \
    "status --json: kiosk is active again"

grep -qF -- "$CODE" "$LOG" && fail "the first code is in the log"
grep -qF -- "$CODE2" "$LOG" && fail "the second code is in the log"
grep -rqF -- "$CODE2" "$STATE" && fail "the second code is in the state dir"
kill -TERM "$AGENT_PID"
rc=0; wait "$AGENT_PID" || rc=$?
BG_PIDS=
[ "$rc" -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
stop_server
finish
