#!/bin/sh
# test-retry-after.sh — a server's Retry-After reaches the resident
# agent's scheduler.  certkeeper-ca backs off this address (wrong
# passwords: every request answers 429 with Retry-After up to 900 until the
# back-off ends), then certkeeper-agent --headless tries to enroll alice with
# the right enrollment code.  The attempt fails (not a final failure: the
# code is right), and the agent must sleep for the server's 900 s rather
# than for its own first backoff (a minute or so), and must not knock
# again meanwhile (the server sees one request from it).
#
# Usage: test-retry-after.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca PATH-TO-certkeeper-agent
. "$(dirname "$0")/lib.sh"

AGENT=$(agent_exe "${3:?usage: $0 certkeeper certkeeper-ca certkeeper-agent}")

init_token
ca_init
start_server
kiosk_code

# Wrong passwords from this address until the server's back-off for it
# reaches its 900 s cap (5 free, then each try during the wait doubles it;
# curl reads them from a netrc file, not argv).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/x.key" \
    -subj /CN=alice -outform DER 2>/dev/null | base64 > "$TMP/x.b64"
printf 'machine 127.0.0.1 login alice password WRONGWRONG\n' > "$TMP/wrong.netrc"
chmod 600 "$TMP/wrong.netrc"
for i in $(seq 16); do
    st=$(curl -s --cacert "$CA_PEM" --netrc-file "$TMP/wrong.netrc" -o "$TMP/x.out" \
        -w '%{http_code}' -H 'Content-Type: application/pkcs10' --data-binary "@$TMP/x.b64" \
        "$SERVER/.well-known/est/simpleenroll")
done
[ "$st" = 429 ] && grep -qi 'retry-after\|locked\|too many' "$TMP/x.out" \
    && ok "the server backs off this address (429)" \
    || { fail "no back-off after sixteen wrong passwords: HTTP $st $(cat "$TMP/x.out")"; finish; }
# Attempts, not HTTP requests: the client sends each request without
# credentials first and answers the server's 401 (RFC 7030 §3.2.3), so the
# unauthenticated half of an attempt is not counted.
attempts() { grep 'simpleenroll' "$TMP/server.err" | grep -vc -- '-> 401' || true; }
REQUESTS_BEFORE=$(attempts)

kiosk_config "$TMP/agent.conf"
LOG=$TMP/agent.log
"$AGENT" --headless --config "$TMP/agent.conf" 2> "$LOG" &
AGENT_PID=$!
BG_PIDS="$BG_PIDS $AGENT_PID"
for _ in $(seq 150); do
    grep -q 'next wake-up in .*kiosk' "$LOG" && grep -q 'failed (attempt 1)' "$LOG" && break
    sleep 0.1
done
grep 'failed (attempt 1)' "$LOG" | grep -q '429\|try again in' \
    && ok "the agent's attempt failed with the server's lockout" \
    || fail "no failed attempt with the lockout in the log: $(tail -5 "$LOG")"
WAIT=$(grep 'next wake-up in' "$LOG" | tail -1 | sed 's/.*next wake-up in \([0-9]*\) s.*/\1/')
[ -n "$WAIT" ] && [ "$WAIT" -ge 800 ] \
    && ok "the agent sleeps the server's Retry-After ($WAIT s), not its own backoff" \
    || fail "the agent sleeps ${WAIT:-?} s after a 429 with Retry-After: 900: $(tail -3 "$LOG")"
sleep 3
REQUESTS_AFTER=$(attempts)
[ "$((REQUESTS_AFTER - REQUESTS_BEFORE))" -le 1 ] \
    && ok "it did not knock again meanwhile" \
    || fail "$((REQUESTS_AFTER - REQUESTS_BEFORE)) requests from the agent during the lockout"
kill -TERM "$AGENT_PID"
rc=0; wait "$AGENT_PID" || rc=$?
[ "$rc" -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
grep -qF -- "$CODE" "$LOG" && fail "the enrollment code is in the agent log"
finish
