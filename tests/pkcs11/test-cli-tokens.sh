#!/bin/sh
# test-cli-tokens.sh — "certkeeper tokens" and "certkeeper token init-software"
# as a person sees them, cross-checked with independent PKCS#11 tools.
#
# Usage: test-cli-tokens.sh PATH-TO-certkeeper
# Environment: KPR_SOFTHSM_MODULE (set by tests/meson.build's test_env).
# Needs: SoftHSM2, python3, pkcs11-tool (opensc), p11tool (gnutls-bin);
# exits 77 (skip) with the reason when one is missing.
#
# Every case runs in its own fresh HOME (and XDG dirs) under one temp dir,
# with SOFTHSM2_CONF unset, as for a person who never used SoftHSM before.
set -eu

CERTKEEPER=${1:?usage: test-cli-tokens.sh PATH-TO-certkeeper}
MODULE=${KPR_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
CANARY_PIN=Pin-Canary-7731
CANARY_SO_PIN=So-Canary-4409

failures=0
TMP=

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

ok() {
    echo "ok: $*"
}

skip() {
    echo "SKIP: $*" >&2
    exit 77
}

cleanup() {
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        rm -rf "$TMP"
    fi
}

for tool in python3 pkcs11-tool p11tool; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (python3, opensc, gnutls-bin are needed)"
done
[ -f "$MODULE" ] || skip "the SoftHSM2 module $MODULE is missing (install softhsm2)"
[ -x "$CERTKEEPER" ] || { echo "FAIL: $CERTKEEPER is not an executable (build it first)" >&2; exit 1; }
case "$CERTKEEPER" in
    /*) ;;
    *) CERTKEEPER=$(pwd)/$CERTKEEPER ;;
esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpr-cli-tokens.XXXXXX")
trap cleanup EXIT
trap 'exit 130' INT TERM
unset SOFTHSM2_CONF
umask 077

# Secrets live outside every HOME, so the "PIN nowhere under HOME" check
# does not find the PIN files themselves.
SECRETS=$TMP/secrets
mkdir -p "$SECRETS"

# fresh_home NAME: a new person's home; sets HOME and the XDG dirs.
fresh_home() {
    HOME=$TMP/$1
    XDG_DATA_HOME=$HOME/.local/share
    XDG_CONFIG_HOME=$HOME/.config
    XDG_STATE_HOME=$HOME/.local/state
    export HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_STATE_HOME
    mkdir -p "$HOME"
    CONF=$HOME/.config/softhsm2/softhsm2.conf
    TOKENDIR=$XDG_DATA_HOME/softhsm/tokens
    echo "--- case $1 (HOME=$HOME)"
}

# secret_file NAME VALUE MODE: a one-line secret file.
secret_file() {
    printf '%s\n' "$2" > "$SECRETS/$1"
    chmod "$3" "$SECRETS/$1"
    echo "$SECRETS/$1"
}

# run ARGS...: runs certkeeper; sets RC, OUT, ERR (files).  Stdin is
# whatever the caller redirects (never a terminal in a test run).
N=0
run() {
    N=$((N + 1))
    OUT=$TMP/out.$N
    ERR=$TMP/err.$N
    RC=0
    "$CERTKEEPER" "$@" > "$OUT" 2> "$ERR" || RC=$?
    echo "  \$ certkeeper $* -> exit $RC"
}

expect_rc() {
    # expect_rc CODE WHAT
    if [ "$RC" -eq "$1" ]; then
        ok "$2: exit $1"
    else
        fail "$2: expected exit $1, got $RC; stderr: $(cat "$ERR")"
    fi
}

expect_stderr() {
    # expect_stderr PATTERN WHAT  (fixed string, case-insensitive)
    if grep -qiF -- "$1" "$ERR"; then
        ok "$2: stderr mentions '$1'"
    else
        fail "$2: expected stderr to mention '$1'; stderr was: $(cat "$ERR")"
    fi
}

# software_token FIELD: prints FIELD of the software token from
# "certkeeper tokens --json" (empty when there is none).  Exits on
# unparseable output.
tokens_json() {
    run tokens --json
    if [ "$RC" -ne 0 ]; then
        fail "tokens --json: expected exit 0, got $RC; stderr: $(cat "$ERR")"
        echo "[]" > "$OUT"
    fi
    if ! python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$OUT" 2>/dev/null; then
        fail "tokens --json: expected JSON on stdout, got: $(cat "$OUT")"
        echo "[]" > "$OUT"
    fi
    JSON=$OUT
}

# check_json PYTHON-EXPR WHAT: evaluates EXPR with "tokens" (the parsed
# list) and "sw" (the tokens labelled certkeeper and marked software).
check_json() {
    if python3 - "$JSON" "$1" <<'PY'
import json, sys
tokens = json.load(open(sys.argv[1]))
sw = [t for t in tokens if t.get("label") == "certkeeper" and t.get("software") is True]
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
    then
        ok "$2"
    else
        fail "$2: expected ($1) to hold for tokens --json: $(cat "$JSON")"
    fi
}

no_software_token() {
    # no_software_token WHAT
    tokens_json
    check_json 'not sw and not any(t.get("label") == "certkeeper" for t in tokens)' \
        "$1: tokens --json lists no certkeeper token"
    if [ -d "$TOKENDIR" ] && [ -n "$(ls -A "$TOKENDIR")" ]; then
        fail "$1: expected no token in $TOKENDIR, found: $(ls -A "$TOKENDIR")"
    fi
}

p11tool_sees_token() {
    if SOFTHSM2_CONF=$CONF p11tool --list-tokens 2>/dev/null | grep -Eq '^[[:space:]]*Label:[[:space:]]*certkeeper[[:space:]]*$'; then
        ok "p11tool --list-tokens shows the token labelled certkeeper"
    else
        fail "expected p11tool --list-tokens to show 'Label: certkeeper'; it shows: $(SOFTHSM2_CONF=$CONF p11tool --list-tokens 2>&1 | grep -i label)"
    fi
}

pkcs11_tool() {
    SOFTHSM2_CONF=$CONF pkcs11-tool --module "$MODULE" "$@"
}

pkcs11_tool_sees_token() {
    if pkcs11_tool -L 2>/dev/null | grep -Eq 'token label[[:space:]]*:[[:space:]]*certkeeper[[:space:]]*$'; then
        ok "pkcs11-tool -L shows the token labelled certkeeper"
    else
        fail "expected pkcs11-tool -L to show 'token label : certkeeper'; it shows: $(pkcs11_tool -L 2>&1)"
    fi
}

# login_works PIN: the token accepts PIN as the user PIN.
login_works() {
    pkcs11_tool --token-label certkeeper --login --pin "$1" -O >/dev/null 2>&1
}

# so_login_works SO-PIN USER-PIN: the token accepts SO-PIN as the SO PIN.
# An SO login needs a read-write session, which pkcs11-tool only opens for
# a write operation: re-set the user PIN to the value it already has.
so_login_works() {
    pkcs11_tool --token-label certkeeper --login --login-type so --so-pin "$1" \
        --init-pin --new-pin "$2" >/dev/null 2>&1
}

# --- 1. init-software with PIN files --------------------------------------
fresh_home files
PIN_FILE=$(secret_file pin "$CANARY_PIN" 600)
SO_PIN_FILE=$(secret_file so-pin "$CANARY_SO_PIN" 600)
run token init-software --pin-file "$PIN_FILE" --so-pin-file "$SO_PIN_FILE"
expect_rc 0 "init-software with 0600 PIN files"

if [ -f "$CONF" ]; then
    ok "SoftHSM config written at $CONF"
    tokendir=$(sed -n 's/^[[:space:]]*directories\.tokendir[[:space:]]*=[[:space:]]*//p' "$CONF" | tail -n 1)
    case "$tokendir" in
        "$XDG_DATA_HOME"/*) ok "directories.tokendir '$tokendir' is absolute and under \$XDG_DATA_HOME" ;;
        *) fail "expected directories.tokendir to be an absolute path under $XDG_DATA_HOME, got '$tokendir'" ;;
    esac
    if [ -d "$tokendir" ]; then
        mode=$(stat -c %a "$tokendir")
        if [ "$mode" = 700 ]; then
            ok "token directory is private (0700)"
        else
            fail "expected the token directory $tokendir to be mode 700, it is $mode"
        fi
    else
        fail "expected the token directory $tokendir to exist"
    fi
    mode=$(stat -c %a "$CONF")
    case "$mode" in
        ?00) ok "SoftHSM config is not readable by others (mode $mode)" ;;
        *) fail "expected $CONF to be private to its owner (0600), it is $mode" ;;
    esac
else
    fail "expected init-software to write $CONF"
    tokendir=$TOKENDIR
fi

tokens_json
check_json 'len(sw) == 1' "tokens --json lists exactly one software token labelled certkeeper"
check_json 'sw and sw[0]["initialized"] is True' "software token is initialized"
check_json 'sw and sw[0]["user_pin_initialized"] is True' "software token has its user PIN set"
check_json 'sw and "ec-p256" in sw[0]["key_types"] and "rsa-2048" in sw[0]["key_types"]' \
    "software token key_types contain ec-p256 and rsa-2048"
check_json 'sw and sw[0]["uri"].startswith("pkcs11:") and "token=certkeeper" in sw[0]["uri"].split(";")' \
    "software token uri is a pkcs11: URI with token=certkeeper"
SERIAL=$(python3 -c 'import json,sys; print([t["serial"] for t in json.load(open(sys.argv[1])) if t.get("software")][0])' "$JSON" 2>/dev/null || echo "")

run tokens
expect_rc 0 "tokens (text)"
if grep -q 'certkeeper' "$OUT"; then
    ok "tokens (text) shows the certkeeper token"
else
    fail "expected 'certkeeper tokens' to show the certkeeper token; it printed: $(cat "$OUT")"
fi

p11tool_sees_token
pkcs11_tool_sees_token
if login_works "$CANARY_PIN"; then
    ok "pkcs11-tool logs in with the PIN from --pin-file"
else
    fail "expected pkcs11-tool --login with the PIN from the PIN file to succeed"
fi
if login_works "Wrong-PIN-0000"; then
    fail "expected pkcs11-tool --login with a wrong PIN to fail, it succeeded"
else
    ok "pkcs11-tool refuses a wrong PIN"
fi
if so_login_works "$CANARY_SO_PIN" "$CANARY_PIN"; then
    ok "pkcs11-tool logs in as SO with the SO PIN from --so-pin-file"
else
    fail "expected pkcs11-tool SO login with the SO PIN from the SO PIN file to succeed"
fi

# --- 2. a second init-software: refused, token unchanged -------------------
OTHER_PIN=$(secret_file other-pin "Other-PIN-2468" 600)
run token init-software --pin-file "$OTHER_PIN" --so-pin-file "$OTHER_PIN"
expect_rc 16 "second init-software (KPR_ERROR_EXISTS)"
expect_stderr "already exists" "second init-software"
tokens_json
check_json 'len(sw) == 1' "still exactly one software token after the second init-software"
check_json "sw and sw[0]['serial'] == '$SERIAL'" "software token serial unchanged ($SERIAL)"
if login_works "$CANARY_PIN"; then
    ok "the original PIN still works after the refused second init-software"
else
    fail "expected the original PIN to still work after the refused second init-software"
fi
if login_works "Other-PIN-2468"; then
    fail "the second init-software's PIN works: the token was changed"
fi

# --- 3. the PIN never lands in a file under HOME (except the token store)
if grep -qF -- "$CANARY_PIN" "$CONF" 2>/dev/null; then
    fail "the PIN appears in the SoftHSM config $CONF"
else
    ok "the PIN is not in the SoftHSM config"
fi
leaks=$(grep -rlF -- "$CANARY_PIN" "$HOME" 2>/dev/null | grep -vF "$tokendir/" || true)
if [ -n "$leaks" ]; then
    fail "the PIN appears in files under HOME outside the token store: $leaks"
else
    ok "the PIN appears in no file under HOME outside the token store"
fi
leaks=$(grep -rlF -e "$CANARY_PIN" -e "$CANARY_SO_PIN" "$TMP"/out.* "$TMP"/err.* 2>/dev/null || true)
if [ -n "$leaks" ]; then
    fail "a PIN appears in certkeeper's output (stdout/stderr captured in): $leaks"
else
    ok "no PIN in anything certkeeper printed"
fi
# SoftHSM keeps only a key wrapped with the PIN; a plain PIN there would
# be a SoftHSM (or certkeeper) bug worth knowing about.
if grep -rqF -- "$CANARY_PIN" "$tokendir" 2>/dev/null; then
    fail "the PIN is stored in clear in the token store $tokendir"
fi

# --- 4. PINs from stdin when stdin is not a terminal ----------------------
fresh_home stdin
N=$((N + 1))
OUT=$TMP/out.$N
ERR=$TMP/err.$N
RC=0
printf '1234\n5678\n' | "$CERTKEEPER" token init-software > "$OUT" 2> "$ERR" || RC=$?
printf '  $ %s | certkeeper token init-software -> exit %s\n' "printf '1234\\n5678\\n'" "$RC"
expect_rc 0 "init-software reading PIN and SO PIN from stdin"
tokens_json
check_json 'len(sw) == 1 and sw[0]["user_pin_initialized"] is True' \
    "stdin: the software token exists with its user PIN set"
if login_works 1234; then
    ok "stdin: the first line (1234) is the user PIN"
else
    fail "stdin: expected the first stdin line 1234 to be the user PIN"
fi
if so_login_works 5678 1234; then
    ok "stdin: the second line (5678) is the SO PIN"
else
    fail "stdin: expected the second stdin line 5678 to be the SO PIN"
fi

# --- 5. a PIN file others can read --------------------------------------
fresh_home insecure
LOOSE=$(secret_file loose-pin "$CANARY_PIN" 644)
run token init-software --pin-file "$LOOSE" --so-pin-file "$SO_PIN_FILE"
expect_rc 5 "PIN file with mode 0644 (KPR_ERROR_INSECURE_FILE)"
expect_stderr "chmod 600" "PIN file with mode 0644"
no_software_token "PIN file with mode 0644"

# --- 6. a PIN too short for the token ---------------------------------------
fresh_home weak
WEAK=$(secret_file weak-pin "ab" 600)
run token init-software --pin-file "$WEAK" --so-pin-file "$SO_PIN_FILE"
expect_rc 25 "2-character PIN (KPR_ERROR_WEAK_SECRET)"
no_software_token "2-character PIN"

# --- 7. a PIN file that does not exist --------------------------------------
fresh_home missing
run token init-software --pin-file "$SECRETS/no-such-file" --so-pin-file "$SO_PIN_FILE"
expect_rc 4 "missing PIN file (KPR_ERROR_IO)"
expect_stderr "$SECRETS/no-such-file" "missing PIN file"
no_software_token "missing PIN file"

# --- 8. command-line mistakes -----------------------------------------------
run tokens --bogus
expect_rc 2 "tokens --bogus (KPR_ERROR_USAGE)"
expect_stderr "--bogus" "tokens --bogus"
lines=$(wc -l < "$ERR")
if [ "$lines" -le 2 ] && ! grep -qF -- "--json" "$ERR"; then
    ok "tokens --bogus prints a short specific message, not the help ($lines lines)"
else
    fail "tokens --bogus: expected one specific line (plus a 'Try --help' line), got $lines lines: $(cat "$ERR")"
fi
[ -s "$OUT" ] && fail "tokens --bogus: expected nothing on stdout, got: $(cat "$OUT")"

run nosuchcommand
expect_rc 2 "unknown command (KPR_ERROR_USAGE)"
expect_stderr "nosuchcommand" "unknown command"

run
expect_rc 2 "no command at all (KPR_ERROR_USAGE)"

run token init-software extra-argument
expect_rc 2 "token init-software with an extra argument"

run tokens --help
expect_rc 0 "tokens --help"
if grep -qF -- "--json" "$OUT"; then
    ok "tokens --help mentions --json"
else
    fail "expected 'certkeeper tokens --help' to mention --json on stdout; it printed: $(cat "$OUT")"
fi

run token init-software --help
expect_rc 0 "token init-software --help"
if grep -qF -- "--pin-file" "$OUT"; then
    ok "token init-software --help mentions --pin-file"
else
    fail "expected 'certkeeper token init-software --help' to mention --pin-file; it printed: $(cat "$OUT")"
fi

# --- 9. "tokens" in a home that never had a software token -----------------
# SoftHSM would fall back to the system config (unreadable for people, the
# system's store for root): certkeeper writes the person's own config.
fresh_home first-run
run tokens
expect_rc 0 "tokens in a fresh home"
if grep -qF "init-software" "$OUT"; then
    ok "tokens in a fresh home points at init-software"
else
    fail "tokens in a fresh home: expected a hint to run init-software, got: $(cat "$OUT")"
fi
[ -f "$CONF" ] && ok "tokens wrote the person's SoftHSM config" \
    || fail "tokens in a fresh home: expected $CONF to be written"
# SoftHSM's empty spare slot is not a token anyone has.
tokens_json
check_json "len(tokens) == 0 or all(t['initialized'] for t in tokens if t['module'] == 'softhsm2')" \
    "the spare SoftHSM slot is not listed"

# --- 10. a token left without a user PIN is finished, not a dead end --------
fresh_home half-made
run tokens   # writes the config
SOFTHSM2_CONF=$CONF pkcs11-tool --module "$MODULE" --init-token --label certkeeper \
    --so-pin "$CANARY_SO_PIN" >/dev/null 2>&1 || fail "pkcs11-tool --init-token failed"
WRONG_SO=$(secret_file wrong-so "0000" 600)
run token init-software --pin-file "$PIN_FILE" --so-pin-file "$WRONG_SO"
expect_rc 9 "finishing a half-made token with the wrong SO PIN (KPR_ERROR_PIN_INCORRECT)"
run token init-software --pin-file "$PIN_FILE" --so-pin-file "$SO_PIN_FILE"
expect_rc 0 "finishing a half-made token with its SO PIN"
if login_works "$CANARY_PIN"; then
    ok "the finished token accepts the new PIN"
else
    fail "half-made token: expected the PIN to work after init-software finished it"
fi

# --- 11. a token this user cannot open is not replaced (issue 13, item 13) --
# SoftHSM skips a token directory it cannot read, so "tokens" used to say
# "create the software token" and init-software made a second "certkeeper"
# token beside the person's keys.  Permissions bind only a user who is not
# root: as root (CI) the case runs as "nobody", with a copy of the program
# in a directory that user can reach.
fresh_home unreadable
as_user=
prog=$CERTKEEPER
if [ "$(id -u)" -eq 0 ]; then
    command -v setpriv >/dev/null 2>&1 || skip "setpriv is not installed (package util-linux)"
    as_user="setpriv --reuid=65534 --regid=65534 --clear-groups --"
    chmod 755 "$TMP"
    cp "$CERTKEEPER" "$TMP/certkeeper-copy"
    chmod 755 "$TMP/certkeeper-copy"
    prog=$TMP/certkeeper-copy
    mkdir -p "$TMP/nobody-secrets"
    printf '%s\n' "$CANARY_PIN" > "$TMP/nobody-secrets/pin"
    printf '%s\n' "$CANARY_SO_PIN" > "$TMP/nobody-secrets/so-pin"
    chmod 700 "$TMP/nobody-secrets"; chmod 600 "$TMP/nobody-secrets"/*
    chown -R 65534 "$HOME" "$TMP/nobody-secrets"
    U_PIN=$TMP/nobody-secrets/pin U_SO=$TMP/nobody-secrets/so-pin
else
    U_PIN=$PIN_FILE U_SO=$SO_PIN_FILE
fi
run_user() {
    N=$((N + 1)); OUT=$TMP/out.$N; ERR=$TMP/err.$N; RC=0
    $as_user "$prog" "$@" > "$OUT" 2> "$ERR" || RC=$?
    echo "  \$ certkeeper $* -> exit $RC"
}
run_user token init-software --pin-file "$U_PIN" --so-pin-file "$U_SO"
expect_rc 0 "init-software (the first token)"
first=$(ls "$TOKENDIR")
chmod 000 "$TOKENDIR/$first"
run_user tokens
expect_rc 0 "tokens with an unreadable token directory"
expect_stderr "cannot be opened" "tokens says the token cannot be opened"
expect_stderr "chmod -R u+rwX" "tokens says how to fix it"
grep -q "init-software" "$OUT" && fail "tokens still tells to create a token: $(cat "$OUT")" \
    || ok "tokens does not tell to create another token"
run_user token init-software --pin-file "$U_PIN" --so-pin-file "$U_SO"
expect_rc 4 "init-software beside an unreadable token (KPR_ERROR_IO)"
expect_stderr "will not create another token" "init-software says why it refuses"
[ "$(ls "$TOKENDIR" | wc -l)" = 1 ] && ok "still one token directory" \
    || fail "a second token was created: $(ls "$TOKENDIR")"
chmod 700 "$TOKENDIR/$first"
run_user tokens
grep -q "certkeeper" "$OUT" && ok "with its permissions fixed, the first token is back" \
    || fail "tokens after chmod: $(cat "$OUT") $(cat "$ERR")"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all checks passed"
