#!/bin/sh
# test-headless.sh — certkeeper-agent --headless end to end, the kiosk
# story: certkeeper-ca issues certificates that live a minute; the agent gets
# a config file, an enrollment code (certkeeper-ca code) and a PIN file,
# and nobody types anything.  Checked from outside:
#   * it enrolls (certkeeper status --json: active) without texting a
#     secret word (the outbox stays empty: the code is the password);
#   * it renews at least twice unattended within 90 s (serials change);
#   * the hook ran for each new certificate, without a shell, with the
#     details in its environment and no secret there;
#   * every previous serial is on the CA's CRL (curl + openssl crl);
#   * its log lines carry journald priority prefixes (<6> …);
#   * SIGTERM ends it with exit 0;
#   * SIGKILL in the middle of a renewal (KPR_FAULT_AT, fault-injection
#     builds) and a restart converge: active again, one key on the token.
#
# Usage: test-headless.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca [PATH-TO-certkeeper-agent]
# (default: $KPR_BUILD_DIR/agent/resident/certkeeper-agent, as meson test sets it)
. "$(dirname "$0")/lib.sh"

# The agent: the third argument, else the one in the meson build dir.
AGENT=${3:-${KPR_BUILD_DIR:+$KPR_BUILD_DIR/agent/resident/certkeeper-agent}}
[ -n "$AGENT" ] || { echo "FAIL: usage: $0 certkeeper certkeeper-ca certkeeper-agent" >&2; exit 1; }
AGENT=$(agent_exe "$AGENT")

init_token
# certkeeper-ca backdates notBefore by 60 s (clock skew): a 60 s lifetime
# is 120 s of validity, renewed at 2/3 minus jitter = 14-20 s after issue.
ca_init --lifetime 60s
start_server

kiosk_code

HOOK_LOG=$TMP/hook.log
cat > "$TMP/hook.sh" <<EOF
#!/bin/sh
# Appends one line per certificate; flags a secret in its environment.
leak=no
env | grep -qF -- "$CODE" && leak=code
env | grep -qF -- "$PIN" && leak=pin
echo "\$CERTKEEPER_EVENT \$CERTKEEPER_IDENTITY \$CERTKEEPER_SERIAL \$1 leak=\$leak \$(openssl x509 -in "\$CERTKEEPER_CERT_PEM_FILE" -noout -serial | sed 's/^serial=//')" >> "$HOOK_LOG"
EOF
chmod 700 "$TMP/hook.sh"

CONFIG=$TMP/agent.conf
kiosk_config "$CONFIG" "hook=$TMP/hook.sh \"one arg;with \$(no) shell\""

AGENT_PID=
start_agent() { # LOG [ENV=VALUE]
    log=$1; shift
    env "$@" "$AGENT" --headless --config "$CONFIG" < /dev/null > "$TMP/agent.out" 2>> "$log" &
    AGENT_PID=$!
    BG_PIDS="$BG_PIDS $AGENT_PID"
}

# serial_now: the current serial (empty while the agent holds the lock).
serial_now() {
    "$CERTKEEPER" show kiosk --json < /dev/null 2>/dev/null \
        | python3 -c 'import json, sys; j = json.load(sys.stdin); print(j.get("serial", "") if j.get("state") == "ACTIVE" else "")' 2>/dev/null || true
}

# --- 1. enroll and renew twice ---------------------------------------------------
LOG=$TMP/agent.log
start_agent "$LOG"
start=$(date +%s)
SERIALS=
last=
while [ $(( $(date +%s) - start )) -lt 100 ]; do
    s=$(serial_now)
    if [ -n "$s" ] && [ "$s" != "$last" ]; then
        SERIALS="$SERIALS $s"
        last=$s
        echo "  serial $s after $(( $(date +%s) - start )) s"
    fi
    [ "$(echo $SERIALS | wc -w)" -ge 3 ] && break
    kill -0 "$AGENT_PID" 2>/dev/null || break
    sleep 1
done
n=$(echo $SERIALS | wc -w)
[ "$n" -ge 1 ] && ok "the agent enrolled kiosk (serial $(echo $SERIALS | cut -d' ' -f1))" \
    || fail "the agent did not enroll within 100 s; log: $(tail -20 "$LOG")"
[ "$n" -ge 3 ] && ok "the agent renewed at least twice unattended in $(( $(date +%s) - start )) s" \
    || fail "expected 3 serials (enroll + 2 renewals), saw $n:$SERIALS; log: $(tail -20 "$LOG")"

run status --json
check_json "$OUT" 'any(i["name"] == "kiosk" and i["status"] == "active" for i in j)' \
    "status --json between deadlines: kiosk is active (the agent does not hold the lock)"
[ "$(outbox_lines)" -eq 0 ] && ok "no secret word was texted: the enrollment code was the password" \
    || fail "the agent requested a secret word: $(cat "$OUTBOX")"

# The hook runs asynchronously: give the last one a moment.
for _ in $(seq 20); do
    [ "$(wc -l < "$HOOK_LOG" 2>/dev/null || echo 0)" -ge "$n" ] && break
    sleep 0.25
done
for s in $SERIALS; do
    if grep -q " kiosk $s one arg;with \$(no) shell leak=no $s\$" "$HOOK_LOG" 2>/dev/null; then
        ok "the hook ran for serial $s (argv without a shell, PEM file matches, no secret)"
    else
        fail "no clean hook line for serial $s: $(cat "$HOOK_LOG" 2>&1)"
    fi
done
grep -q '^enrolled kiosk' "$HOOK_LOG" && grep -q '^renewed kiosk' "$HOOK_LOG" \
    && ok "the hook saw CERTKEEPER_EVENT enrolled and renewed" \
    || fail "CERTKEEPER_EVENT missing in the hook log: $(cat "$HOOK_LOG")"

if crl_text > "$TMP/crl.txt" 2> "$TMP/crl.err"; then
    # All but the newest seen (the agent may renew again meanwhile; a
    # serial read now could be empty while it holds the lock).
    for s in $SERIALS; do
        [ "$s" = "$last" ] && continue
        grep -qi "Serial Number: *$s\$" "$TMP/crl.txt" && ok "previous serial $s is on the CRL" \
            || fail "previous serial $s is not on the CRL: $(grep -i serial "$TMP/crl.txt")"
    done
else
    fail "cannot fetch/decode $SERVER/crl: $(cat "$TMP/crl.err")"
fi

grep -q '^<6>' "$LOG" && ok "the log carries <6> (info) prefixes" \
    || fail "no <6> line in the log: $(head -5 "$LOG")"
bad=$(grep -vc '^<[0-7]>' "$LOG" || true)
[ "$bad" -eq 0 ] && ok "every log line has a priority prefix" \
    || fail "$bad log line(s) without a priority prefix: $(grep -v '^<[0-7]>' "$LOG" | head -3)"
# It sleeps until deadlines instead of polling: one wake-up per new
# certificate or so, not one a second.
wakes=$(grep -c 'next wake-up' "$LOG" || true)
[ "$wakes" -le 8 ] && ok "$wakes wake-ups for $n certificates (no polling)" \
    || fail "$wakes wake-ups for $n certificates: $(grep 'next wake-up' "$LOG" | head -10)"
grep -qF -- "$CODE" "$LOG" && fail "the enrollment code is in the log"
grep -qF -- "$PIN" "$LOG" && fail "the PIN is in the log"

kill -TERM "$AGENT_PID"
rc=0
wait "$AGENT_PID" || rc=$?
BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $AGENT_PID\$//; s/ $AGENT_PID / /")
[ "$rc" -eq 0 ] && ok "SIGTERM: the agent exited 0" || fail "SIGTERM: exit $rc; log: $(tail -5 "$LOG")"

# --- 2. SIGKILL in the middle of a renewal, then a restart -----------------------
before=$(serial_now)
LOG2=$TMP/agent2.log
start_agent "$LOG2" KPR_FAULT_AT=after:NEXT_SUBMITTED
rc=0
i=0
while kill -0 "$AGENT_PID" 2>/dev/null && [ "$i" -lt 60 ]; do
    sleep 1
    i=$((i + 1))
done
if kill -0 "$AGENT_PID" 2>/dev/null; then
    kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
    echo "SKIP (part): no fault injection in this build (meson -Dfault_injection=true)"
else
    wait "$AGENT_PID" || rc=$?
    [ "$rc" -eq 137 ] && ok "KPR_FAULT_AT=after:NEXT_SUBMITTED killed the agent mid-renewal" \
        || fail "the agent ended with $rc instead of being killed; log: $(tail -5 "$LOG2")"
    run show kiosk --json
    check_json "$OUT" 'j["state"] == "NEXT_SUBMITTED"' "the record stopped at NEXT_SUBMITTED"
    start_agent "$LOG2"
    conv=
    for _ in $(seq 40); do
        s=$(serial_now)
        if [ -n "$s" ] && [ "$s" != "$before" ]; then conv=$s; break; fi
        sleep 1
    done
    [ -n "$conv" ] && ok "after a restart the renewal converged (serial $conv)" \
        || fail "no new certificate after the restart; log: $(tail -10 "$LOG2")"
    kill -TERM "$AGENT_PID"
    rc=0
    wait "$AGENT_PID" || rc=$?
    [ "$rc" -eq 0 ] && ok "SIGTERM after the restart: exit 0" || fail "SIGTERM: exit $rc"
    n=$(count_objects "Private Key" kiosk)
    [ "$n" = 1 ] && ok "exactly one private key labelled kiosk on the token" \
        || fail "expected one private key labelled kiosk, found $n: $(token_objects)"
    n=$(count_objects "Certificate" kiosk)
    [ "$n" = 1 ] && ok "exactly one certificate labelled kiosk on the token" \
        || fail "expected one certificate labelled kiosk, found $n"
fi
BG_PIDS=

stop_server
finish
