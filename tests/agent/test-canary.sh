#!/bin/sh
# test-canary.sh — secrets stay secret (DESIGN §7): with canary values for
# the PIN, the backup passphrase and the secret words, run token init,
# enroll, export and import, and look for the canaries in the state dir
# (records, logs, trust), the config dir, everything certkeeper printed, and
# /proc/PID/cmdline + /proc/PID/environ of a certkeeper waiting at a prompt.
#
# Usage: test-canary.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
PIN=Pin-Canary-4417
. "$(dirname "$0")/lib.sh"
PASSPHRASE='Pass-Canary-Horse-93!'

init_token
ca_init --lifetime 1h
start_server

# --- enroll, sampled while it waits for the secret word ---------------------------
run_word --sample enroll alice --server "$SERVER" --user alice --ca-file "$CA_PEM" \
    --pin-file "$PIN_FILE" --secret-file -
expect_rc 0 "enroll alice (PIN from file, secret word from stdin)"
if [ -s "$TMP/sample.cmdline" ] && [ -s "$TMP/sample.environ" ]; then
    ok "sampled /proc/PID/cmdline and environ of certkeeper waiting for the secret word"
    grep -qa 'XDG_STATE_HOME=' "$TMP/sample.environ" && grep -qa 'enroll' "$TMP/sample.cmdline" \
        || fail "the sample is not certkeeper's argv/environment: $(tr '\0' ' ' < "$TMP/sample.cmdline")"
    mv "$TMP/sample.cmdline" "$TMP/enroll.cmdline"
    mv "$TMP/sample.environ" "$TMP/enroll.environ"
    SAMPLES="$TMP/enroll.cmdline $TMP/enroll.environ"
else
    # Not readable (e.g. PR_SET_DUMPABLE 0 as non-root): nothing leaks there.
    echo "note: /proc/PID/environ of certkeeper is not readable here; nothing to check"
    SAMPLES=
fi

# --- export and import, the passphrase from a file and from stdin ------------------
PASS_FILE=$(secret_file passphrase "$PASSPHRASE")
run export alice --to "$TMP/alice.p12" --passphrase-file "$PASS_FILE" --pin-file "$PIN_FILE"
expect_rc 0 "export alice with the canary passphrase"

# import with the passphrase typed on stdin (a FIFO held open), sampled
# while certkeeper waits for it.
N=$((N + 1)); OUT=$TMP/out.$N; ERR=$TMP/err.$N; RC=0
mkfifo "$TMP/pass.fifo"
"$CERTKEEPER" import "$TMP/alice.p12" restored --passphrase-file - --pin-file "$PIN_FILE" \
    < "$TMP/pass.fifo" > "$OUT" 2> "$ERR" &
pid=$!
BG_PIDS="$BG_PIDS $pid"
exec 7> "$TMP/pass.fifo"
sleep 1
cat "/proc/$pid/cmdline" > "$TMP/import.cmdline" 2>/dev/null || true
cat "/proc/$pid/environ" > "$TMP/import.environ" 2>/dev/null || true
[ -s "$TMP/import.cmdline" ] && SAMPLES="$SAMPLES $TMP/import.cmdline $TMP/import.environ"
(printf '%s\n' "$PASSPHRASE" >&7) 2>/dev/null || true
exec 7>&-
wait "$pid" || RC=$?
BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $pid\$//; s/ $pid / /")
echo "  \$ certkeeper import alice.p12 restored --passphrase-file - (passphrase on stdin) -> exit $RC"
expect_rc 0 "import with the passphrase on stdin"

# A wrong-PIN attempt and a renewal also go through the PIN paths.
run renew alice --force --pin-file "$PIN_FILE"
expect_rc 0 "renew --force"
run list
run status --json
run show alice

# --- look for the canaries ---------------------------------------------------------
WORDS=$(awk '{ print $NF }' "$OUTBOX")
[ -n "$WORDS" ] && ok "secret words sent: $(echo "$WORDS" | wc -l)" || fail "no secret word in the outbox"

check_absent() { # VALUE WHAT
    value=$1; what=$2
    hits=$(grep -rlF -- "$value" "$XDG_STATE_HOME" "$XDG_CONFIG_HOME" 2>/dev/null || true)
    [ -z "$hits" ] && ok "$what: not under \$XDG_STATE_HOME or \$XDG_CONFIG_HOME" \
        || fail "$what appears in: $hits"
    hits=$(grep -lF -- "$value" "$TMP"/out.* "$TMP"/err.* 2>/dev/null || true)
    [ -z "$hits" ] && ok "$what: not in anything certkeeper printed" \
        || fail "$what appears in certkeeper's output: $hits"
    if [ -n "$SAMPLES" ]; then
        hits=$(grep -laF -- "$value" $SAMPLES 2>/dev/null || true)
        [ -z "$hits" ] && ok "$what: not in the argv/environment of a waiting certkeeper" \
            || fail "$what appears in a certkeeper process's argv/environment: $hits"
    fi
}
check_absent "$PIN" "the PIN"
check_absent "$SO_PIN" "the SO PIN"
check_absent "$PASSPHRASE" "the passphrase"
for w in $WORDS; do
    check_absent "$w" "the secret word $w"
done
# The state dir holds what it should (so the search above searched something).
[ -f "$STATE/identities/alice.ini" ] && [ -f "$STATE/identities/alice.log" ] \
    && ok "the state dir holds alice's record and log" \
    || fail "expected alice.ini and alice.log under $STATE/identities"

stop_server
finish
