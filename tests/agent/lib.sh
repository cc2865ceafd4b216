# lib.sh — shared by the certkeeper CLI integration tests (tests/agent/):
# a fresh person (HOME and XDG dirs in a temp dir), the software token,
# certkeeper-ca on a random loopback port with an outbox for secret words,
# and independent checkers (openssl, pkcs11-tool, p11tool, curl).
#
# Source it with "$@" = PATH-TO-certkeeper PATH-TO-certkeeper-ca.
# Checks are counted with ok()/fail(); finish() exits 1 when one failed.
# A missing tool exits 77 (skip) with the reason.
set -eu

CERTKEEPER=${1:?usage: $0 PATH-TO-certkeeper PATH-TO-certkeeper-ca}
CA_BIN=${2:?usage: $0 PATH-TO-certkeeper PATH-TO-certkeeper-ca}
MODULE=${KPR_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

failures=0
TMP=
SERVER_PID=
BG_PIDS=

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

# The test stops everything it started: its server(s), any certkeeper
# left waiting on a FIFO, s_server.
cleanup() {
    for pid in $SERVER_PID $BG_PIDS; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        rm -rf "$TMP"
    fi
}

for tool in python3 openssl curl pkcs11-tool p11tool timeout mkfifo; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (python3, openssl, curl, opensc, gnutls-bin, coreutils are needed)"
done
[ -f "$MODULE" ] || skip "the SoftHSM2 module $MODULE is missing (install softhsm2)"
for bin in "$CERTKEEPER" "$CA_BIN"; do
    [ -x "$bin" ] || { echo "FAIL: $bin is not an executable (build it first)" >&2; exit 1; }
done
case "$CERTKEEPER" in /*) ;; *) CERTKEEPER=$(pwd)/$CERTKEEPER ;; esac
case "$CA_BIN" in /*) ;; *) CA_BIN=$(pwd)/$CA_BIN ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpr-agent-test.XXXXXX")
trap cleanup EXIT
trap 'exit 130' INT TERM
unset SOFTHSM2_CONF
umask 077
cd "$TMP"

# Secrets live outside HOME, so that "no secret under the state dir"
# checks do not find the secret files themselves.
SECRETS=$TMP/secrets
mkdir -p "$SECRETS"
CA=$TMP/ca
OUTBOX=$TMP/outbox

HOME=$TMP/home
XDG_DATA_HOME=$HOME/.local/share
XDG_CONFIG_HOME=$HOME/.config
XDG_STATE_HOME=$HOME/.local/state
export HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_STATE_HOME
mkdir -p "$HOME"
CONF=$HOME/.config/softhsm2/softhsm2.conf
STATE=$XDG_STATE_HOME/certkeeper

# secret_file NAME VALUE: a one-line 0600 secret file; prints its path.
secret_file() {
    printf '%s\n' "$2" > "$SECRETS/$1"
    chmod 600 "$SECRETS/$1"
    echo "$SECRETS/$1"
}

# run ARGS...: runs certkeeper with stdin from /dev/null (never a
# terminal); sets RC, OUT, ERR (files).
N=0
run() {
    N=$((N + 1))
    OUT=$TMP/out.$N
    ERR=$TMP/err.$N
    RC=0
    "$CERTKEEPER" "$@" < /dev/null > "$OUT" 2> "$ERR" || RC=$?
    echo "  \$ certkeeper $* -> exit $RC"
}

expect_rc() { # CODE WHAT
    if [ "$RC" -eq "$1" ]; then
        ok "$2: exit $1"
    else
        fail "$2: expected exit $1, got $RC; stdout: $(cat "$OUT"); stderr: $(cat "$ERR")"
    fi
}

expect_stderr() { # PATTERN WHAT (fixed string, case-insensitive)
    if grep -qiF -- "$1" "$ERR"; then
        ok "$2: stderr mentions '$1'"
    else
        fail "$2: expected stderr to mention '$1'; stderr was: $(cat "$ERR")"
    fi
}

expect_stdout() { # PATTERN WHAT
    if grep -qiF -- "$1" "$OUT"; then
        ok "$2: stdout mentions '$1'"
    else
        fail "$2: expected stdout to mention '$1'; stdout was: $(cat "$OUT")"
    fi
}

# --- the headless agent (kiosks) ---------------------------------------------
# agent_exe PATH: certkeeper-agent, made absolute (the test runs in $TMP);
# fails the test when it is not an executable.
agent_exe() {
    case "$1" in /*) a=$1 ;; *) a=$OLDPWD/$1 ;; esac
    [ -x "$a" ] || { echo "FAIL: $a is not an executable" >&2; exit 1; }
    echo "$a"
}

# kiosk_code: a one-time enrollment code for alice from the CA; sets CODE
# and CODE_FILE (a 0600 file holding it).
kiosk_code() {
    CODE=$("$CA_BIN" code "$CA" alice)
    [ -n "$CODE" ] || { echo "FAIL: certkeeper-ca code printed nothing" >&2; exit 1; }
    CODE_FILE=$(secret_file code "$CODE")
}

# kiosk_config FILE [LINE]: certkeeper-agent's config with [identity kiosk]
# for alice on the software token (PIN_FILE, CODE_FILE, CA_PEM), and LINE.
kiosk_config() {
    cat > "$1" <<EOF
[identity kiosk]
server=$SERVER
username=alice
token=software
pin-file=$PIN_FILE
enrollment-code-file=$CODE_FILE
ca-file=$CA_PEM
${2:-}
EOF
}

# --- the token -------------------------------------------------------------
PIN=${PIN:-Pin-Test-2468}
SO_PIN=So-Pin-Test-1357

init_token() {
    PIN_FILE=$(secret_file pin "$PIN")
    SO_PIN_FILE=$(secret_file so-pin "$SO_PIN")
    run token init-software --pin-file "$PIN_FILE" --so-pin-file "$SO_PIN_FILE"
    [ "$RC" -eq 0 ] || { echo "FAIL: token init-software: exit $RC: $(cat "$ERR")" >&2; exit 1; }
}

pkcs11_tool() {
    SOFTHSM2_CONF=$CONF pkcs11-tool --module "$MODULE" --token-label certkeeper "$@"
}

# token_objects: every object on the token (logged in), as pkcs11-tool -O.
token_objects() {
    pkcs11_tool --login --pin "$PIN" -O 2>/dev/null
}

# count_objects TYPE LABEL: objects of TYPE ("Private Key", "Certificate",
# "Public Key") whose label is LABEL.
count_objects() {
    token_objects | python3 -c '
import sys
kind, label = sys.argv[1], sys.argv[2]
n = 0; cur = None
for line in sys.stdin:
    if not line.startswith(" ") and "Object;" in line:
        cur = line
    elif cur and line.strip().startswith("label:"):
        if cur.startswith(kind) and line.split(":", 1)[1].strip() == label:
            n += 1
        cur = None
print(n)' "$1" "$2"
}

# key_id_of NAME: the identity's CKA_ID (hex) from its record.
key_id_of() {
    sed -n 's/^key-id=//p' "$STATE/identities/$1.ini" 2>/dev/null
}

# token_pubkey ID-HEX [TOKEN-LABEL]: the token's public key with that
# CKA_ID, as PEM (the software token unless a label is given).
token_pubkey() {
    SOFTHSM2_CONF=$CONF GNUTLS_PIN=$PIN p11tool --provider "$MODULE" --export-pubkey \
        "pkcs11:token=${2:-certkeeper};id=$(echo "$1" | sed 's/../%&/g');type=public" 2>/dev/null \
        | openssl pkey -pubin -pubout 2>/dev/null
}

# privkey_flags ID-HEX: p11tool's description of the private key.
privkey_flags() {
    SOFTHSM2_CONF=$CONF GNUTLS_PIN=$PIN p11tool --provider "$MODULE" --login --list-all-privkeys \
        "pkcs11:token=certkeeper;id=$(echo "$1" | sed 's/../%&/g')" 2>/dev/null
}

# --- JSON ------------------------------------------------------------------
# json FILE EXPR: evaluates the Python EXPR with j = the parsed FILE; prints
# the result (exit 1 on a parse error).
json() {
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# check_json FILE EXPR WHAT
check_json() {
    if python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null; then
        ok "$3"
    else
        fail "$3: expected ($2) to hold for: $(cat "$1")"
    fi
}

# show_json NAME: runs show NAME --json; JSON=the output file.
show_json() {
    run show "$1" --json
    JSON=$OUT
}

# --- the server --------------------------------------------------------------
# ca_init [OPTIONS]: a CA with user alice (and bob).
ca_init() {
    "$CA_BIN" init "$CA" "$@" > /dev/null
    "$CA_BIN" user add "$CA" alice --phone +15550100 > /dev/null
    "$CA_BIN" user add "$CA" bob --phone +15550101 > /dev/null
    CA_PEM=$CA/ca.pem
    CA_FP=$(openssl x509 -in "$CA_PEM" -noout -fingerprint -sha256 | sed 's/^.*=//')
}

start_server() {
    : > "$OUTBOX"
    chmod 600 "$OUTBOX"
    # Emptied here, not by the redirection below: that happens in the child,
    # maybe after the loop has read the previous server's port.
    : > "$TMP/server.out"
    "$CA_BIN" serve "$CA" --listen 127.0.0.1:0 --otp-outbox "$OUTBOX" \
        > "$TMP/server.out" 2> "$TMP/server.err" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        grep -q '^listening on ' "$TMP/server.out" 2>/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "FAIL: certkeeper-ca died: $(cat "$TMP/server.err")" >&2; exit 1; }
        sleep 0.1
    done
    PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/server.out")
    [ -n "$PORT" ] || { echo "FAIL: no 'listening on' line from certkeeper-ca" >&2; exit 1; }
    SERVER=https://127.0.0.1:$PORT
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}

outbox_lines() {
    wc -l < "$OUTBOX" 2>/dev/null || echo 0
}

# The last field of the outbox's last line.
last_word() {
    tail -n 1 "$OUTBOX" | awk '{ print $NF }'
}

# A free loopback port (for s_server and "server down").
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_word [--word W | --sample] ARGS...: runs certkeeper with stdin from a
# FIFO this shell holds open.  When the outbox gets a new line (the server
# sent a secret word after certkeeper asked for it), its last field (or W)
# is written to the FIFO.  If certkeeper ends before that, nothing is
# written.  Sets RC, OUT, ERR, WORD (the word sent, or empty), ASKED (1 when
# a word was requested).  With --sample, /proc/PID/cmdline and environ are
# copied to $TMP/sample.cmdline / sample.environ while certkeeper waits.
run_word() {
    override=; sample=
    while :; do
        case "$1" in
            --word) override=$2; shift 2 ;;
            --sample) sample=1; shift ;;
            *) break ;;
        esac
    done
    N=$((N + 1))
    OUT=$TMP/out.$N
    ERR=$TMP/err.$N
    fifo=$TMP/fifo.$N
    RC=0; WORD=; ASKED=0
    before=$(outbox_lines)
    mkfifo "$fifo"
    "$CERTKEEPER" "$@" < "$fifo" > "$OUT" 2> "$ERR" &
    pid=$!
    BG_PIDS="$BG_PIDS $pid"
    exec 7> "$fifo"
    i=0
    while [ "$i" -lt 600 ]; do
        if [ "$(outbox_lines)" -gt "$before" ]; then
            ASKED=1
            WORD=${override:-$(last_word)}
            if [ -n "$sample" ]; then
                sleep 0.3 # let it reach the prompt's read()
                cat "/proc/$pid/cmdline" > "$TMP/sample.cmdline" 2>/dev/null || true
                cat "/proc/$pid/environ" > "$TMP/sample.environ" 2>/dev/null || true
            fi
            # In a subshell: if certkeeper already ended, SIGPIPE ends the
            # subshell, not the test (whose EXIT trap stops the server).
            (printf '%s\n' "$WORD" >&7) 2>/dev/null || true
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    exec 7>&-
    wait "$pid" || RC=$?
    BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $pid\$//; s/ $pid / /")
    rm -f "$fifo"
    echo "  \$ certkeeper $* (secret word ${ASKED:+requested=$ASKED}) -> exit $RC"
}

# enroll NAME [ARGS...]: enroll NAME as $ENROLL_USER (alice) with --ca-file
# and the PIN file; the secret word from the outbox on stdin.
ENROLL_USER=alice
enroll() {
    name=$1; shift
    run_word enroll "$name" --server "$SERVER" --user "$ENROLL_USER" --ca-file "$CA_PEM" \
        --pin-file "$PIN_FILE" --secret-file - "$@"
}

# mtls_check CERT-PEM KEY-ID-HEX WHAT: a TLS server that requires a client
# certificate from our CA (openssl s_server) accepts openssl s_client
# using CERT and the token's private key through the pkcs11 engine.
# Skipped (with a message, not a failure) when the engine is missing.
mtls_check() {
    engine=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
    if [ ! -f "$engine/pkcs11.so" ]; then
        echo "SKIP (part): $3: the openssl pkcs11 engine is missing (install libengine-pkcs11-openssl)"
        return 0
    fi
    if [ ! -f "$TMP/srv.pem" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$TMP/srv.key" -out "$TMP/srv.pem" -days 1 -subj /CN=127.0.0.1 \
            -addext subjectAltName=IP:127.0.0.1 2>/dev/null
        # The engine reads its module from a config, not from argv.
        printf 'openssl_conf = oc\n[oc]\nengines = es\n[es]\npkcs11 = pk\n[pk]\nengine_id = pkcs11\nMODULE_PATH = %s\n' \
            "$MODULE" > "$TMP/engine.cnf"
    fi
    p2=$(free_port)
    openssl s_server -accept "127.0.0.1:$p2" -Verify 1 -CAfile "$CA_PEM" \
        -cert "$TMP/srv.pem" -key "$TMP/srv.key" -www > "$TMP/s_server.out" 2>&1 &
    spid=$!
    BG_PIDS="$BG_PIDS $spid"
    for _ in $(seq 50); do
        grep -q ACCEPT "$TMP/s_server.out" 2>/dev/null && break
        sleep 0.1
    done
    uri="pkcs11:token=certkeeper;id=$(echo "$2" | sed 's/../%&/g');type=private?pin-source=file:$PIN_FILE"
    src=0
    printf 'GET / HTTP/1.0\r\n\r\n' | SOFTHSM2_CONF=$CONF OPENSSL_CONF=$TMP/engine.cnf \
        timeout 30 openssl s_client -connect "127.0.0.1:$p2" -CAfile "$TMP/srv.pem" \
        -engine pkcs11 -keyform engine -key "$uri" -cert "$1" -ign_eof \
        > "$TMP/s_client.out" 2>&1 || src=$?
    kill -KILL "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $spid\$//; s/ $spid / /")
    cn=$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
    if [ "$src" -eq 0 ] && grep -q 'Verify return code: 0 (ok)' "$TMP/s_client.out" \
        && grep -q '^Client certificate' "$TMP/s_client.out" \
        && grep -q "depth=0 $(echo "$cn" | sed 's/=/ = /')\$" "$TMP/s_server.out"; then
        ok "$3: mutual TLS with the token key: s_server got the client certificate $cn"
    else
        fail "$3: mutual TLS with the token key failed (s_client exit $src); s_client: $(grep -i 'error\|verify\|certificate' "$TMP/s_client.out" | head -8); s_server: $(head -12 "$TMP/s_server.out")"
    fi
}

# crl_text: the server's current CRL, decoded.
crl_text() {
    curl -sS --max-time 20 --cacert "$CA_PEM" "$SERVER/crl" -o "$TMP/crl.der" \
        && openssl crl -inform DER -in "$TMP/crl.der" -noout -text
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed" >&2
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
