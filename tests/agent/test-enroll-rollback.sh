#!/bin/sh
# test-enroll-rollback.sh — an enrollment interrupted before its secret
# word is spent leaves nothing behind (issue 13, item 8): a wrong word,
# and Ctrl-C at the no-echo secret-word prompt on a real pseudo-terminal.
# Each time: no record (list, the state dir), no key on the token
# (pkcs11-tool), one line saying nothing was changed; after Ctrl-C the
# terminal echoes again.  Then the same enrollment succeeds.
#
# Usage: test-enroll-rollback.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 1h
start_server

nothing_left() { # WHAT
    run list
    if grep -q alice "$OUT"; then fail "$1: alice is still listed: $(cat "$OUT")"; else ok "$1: alice is not listed"; fi
    [ ! -e "$STATE/identities/alice.ini" ] && ok "$1: no record" || fail "$1: $STATE/identities/alice.ini is left"
    keys=$(token_objects | grep -c 'Key Object' || true)
    [ "$keys" -eq 0 ] && ok "$1: no key on the token" || fail "$1: $keys key objects left on the token"
}

# --- 1. a wrong secret word ----------------------------------------------------
run_word --word not-the-word enroll alice --server "$SERVER" --user alice --ca-file "$CA_PEM" \
    --pin-file "$PIN_FILE" --secret-file -
[ "$RC" -ne 0 ] && ok "wrong word: enroll fails (exit $RC)" || fail "wrong word: enroll succeeded"
expect_stderr "Nothing was changed" "wrong word"
nothing_left "wrong word"

# --- 2. Ctrl-C at the secret-word prompt ----------------------------------------
PTY=$(python3 - "$CERTKEEPER" "$SERVER" "$CA_PEM" "$PIN_FILE" "$OUTBOX" "$TMP/pty.out" <<'PY'
import os, pty, sys, termios, time
ck, server, ca, pin, outbox, log = sys.argv[1:]
before = sum(1 for _ in open(outbox))
pid, fd = pty.fork()
if pid == 0:
    os.execv(ck, [ck, "enroll", "alice", "--server", server, "--user", "alice",
                  "--ca-file", ca, "--pin-file", pin])
out = b""
status = 0
deadline = time.time() + 60
asked = False
while time.time() < deadline:
    if not asked and sum(1 for _ in open(outbox)) > before:
        time.sleep(1.0)  # let it reach the no-echo read
        echo_at_prompt = termios.tcgetattr(fd)[3] & termios.ECHO
        os.write(fd, b"\x03")
        asked = True
    try:
        import select
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            data = os.read(fd, 4096)
            if not data:
                break
            out += data
    except OSError:
        break
    reaped, st = os.waitpid(pid, os.WNOHANG)
    if reaped:
        status = st
        break
else:
    os.kill(pid, 9)
echo_after = termios.tcgetattr(fd)[3] & termios.ECHO
try:
    while True:
        data = os.read(fd, 4096)
        if not data:
            break
        out += data
except OSError:
    pass
try:
    _, status = os.waitpid(pid, 0)
except ChildProcessError:
    pass
done = True
open(log, "wb").write(out)
print("asked=%d echo_at_prompt=%d echo_after=%d exit=%d" % (
    asked, bool(echo_at_prompt) if asked else -1, bool(echo_after), os.waitstatus_to_exitcode(status) if done else -1))
PY
)
echo "  pty: $PTY"
case $PTY in *asked=1*) ok "Ctrl-C: certkeeper asked for the secret word on the terminal" ;;
    *) fail "Ctrl-C: certkeeper never asked for the word: $(cat "$TMP/pty.out")" ;; esac
case $PTY in *echo_at_prompt=0*) ok "Ctrl-C: the prompt did not echo" ;;
    *) fail "Ctrl-C: the prompt echoed ($PTY)" ;; esac
case $PTY in *echo_after=1*) ok "Ctrl-C: the terminal echoes again" ;;
    *) fail "Ctrl-C: the terminal's echo stayed off ($PTY)" ;; esac
case $PTY in *exit=0*|*exit=-1*) fail "Ctrl-C: expected a failing exit ($PTY)" ;;
    *) ok "Ctrl-C: enroll ended with a failure code ($PTY)" ;; esac
grep -q "Nothing was changed" "$TMP/pty.out" && ok "Ctrl-C: says nothing was changed" ||
    fail "Ctrl-C: no 'Nothing was changed' line: $(cat "$TMP/pty.out")"
nothing_left "Ctrl-C"

# --- 3. the same enrollment, not interrupted ------------------------------------
enroll alice
expect_rc 0 "enroll after the interrupted ones"
[ "$(count_objects 'Private Key' alice)" -eq 1 ] && ok "enroll after: one key" ||
    fail "enroll after: $(count_objects 'Private Key' alice) keys"
finish
