# lib-crash.sh — what test-crash.sh and test-resume.sh share: a real
# certkeeper-ca on 127.0.0.1 (one issuing at once, one with manual
# approval for PENDING), one home and software token per case, certkeeper
# runs fed with secret words, and the convergence checks.
#   . lib-crash.sh CERTKEEPER CERTKEEPER-CA
set -u
CK=$1
CA=$2
MODULE=${KPR_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
for tool in pkcs11-tool python3 openssl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

T=$(mktemp -d /tmp/kpr-crash.XXXXXX)
SERVER_PIDS=
cleanup() {
    for pid in $SERVER_PIDS; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
umask 077
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

printf '1234\n' >"$T/pin"
printf '5678\n' >"$T/so-pin"
printf 'Crash-Test-Passphrase-7781!\n' >"$T/pass"
touch "$T/outbox"

# The fault points of this binary, "FLOW POINT" per line: a point added
# to the code is exercised without anyone editing the tests.
POINTS=$("$CK" --fault-points) || { echo "$CK has no --fault-points: not a -Dfault_injection build"; exit 1; }
points_of() { awk -v f="$1" '$1 == f { print $2 }' <<<"$POINTS"; }

# start_ca NAME [init options]: a CA in $T/NAME serving on 127.0.0.1; sets
# CA_DIR and PORT.  Every case enrolls from 127.0.0.1, far more often than
# the 20 /challenge calls one address gets by default.
start_ca() {
    local name=$1
    shift
    "$CA" init "$T/$name" --lifetime 1h "$@" >/dev/null || { echo "certkeeper-ca init failed"; exit 1; }
    "$CA" serve "$T/$name" --listen 127.0.0.1:0 --otp-outbox "$T/outbox" \
        --challenges-per-address 100000 >"$T/$name.log" 2>&1 &
    SERVER_PIDS="$SERVER_PIDS $!"
    for _ in $(seq 50); do grep -q listening "$T/$name.log" && break; sleep 0.1; done
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/$name.log" | head -n 1)
    [ -n "$PORT" ] || { echo "server did not start: $(cat "$T/$name.log")"; exit 1; }
    CA_DIR=$T/$name
}

# home CASE: a fresh home, software token and server user for one case.
home() {
    export HOME=$T/home-$1 XDG_STATE_HOME=$T/home-$1/state XDG_DATA_HOME=$T/home-$1/data \
        XDG_CONFIG_HOME=$T/home-$1/config
    unset SOFTHSM2_CONF
    mkdir -p "$HOME"
    # One server user per case: the server rate-limits secret words per user.
    USER_NAME=u-$1
    "$CA" user add "$CA_DIR" "$USER_NAME" --phone +15550100 >/dev/null
    "$CK" token init-software --pin-file "$T/pin" --so-pin-file "$T/so-pin" >/dev/null ||
        fail "init-software in $1"
}

# Prints the next secret word the server sends (waits up to 4 s), or
# nothing when certkeeper never asks for one.
feed_word() {
    local before=$1
    for _ in $(seq 40); do
        [ -e "$T/done" ] && return
        [ "$(wc -l <"$T/outbox")" -gt "$before" ] && { tail -n 1 "$T/outbox" | awk '{print $NF}'; return; }
        sleep 0.1
    done
}

# ck [ENV...] -- ARGS: runs certkeeper with a secret-word feeder on stdin.
ck() {
    local n rc
    n=$(wc -l <"$T/outbox")
    rm -f "$T/done"
    # The feeder stops as soon as certkeeper is done, asked or not.
    feed_word "$n" | { env "$@" 2>"$T/err"; rc=$?; touch "$T/done"; exit $rc; }
}

enroll() {
    ck "$@" "$CK" enroll alice --server "https://127.0.0.1:$PORT" --user "$USER_NAME" \
        --ca-file "$CA_DIR/ca.pem" --pin-file "$T/pin" --secret-file - >/dev/null
}

field() { "$CK" show alice --json | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

p11() {
    SOFTHSM2_CONF=$HOME/.config/softhsm2/softhsm2.conf pkcs11-tool --module "$MODULE" \
        --token-label certkeeper --login --pin 1234 "$@" 2>/dev/null
}

# Objects of the token with neither an ID nor a label: nobody can find
# or remove them (issue 13, item 9).
unnamed() {
    p11 -O | awk '
        /Object;/ { if (seen && !id && !label) n++; seen = 1; id = 0; label = 0; next }
        /^ *ID:/ { id = 1 }
        /^ *label: *[^ ]/ { label = 1 }
        END { if (seen && !id && !label) n++; print n + 0 }'
}

# The identity converged: ACTIVE, exactly one key pair and one identity
# certificate on the token, the same certificate as the record's.
converged() {
    local what=$1 listing state
    state=$(field "['state']" 2>/dev/null)
    [ "$state" = ACTIVE ] || { fail "$what: state is '$state', expected ACTIVE ($(cat "$T/err"))"; return; }
    listing=$(p11 -O)
    local priv pub certs
    priv=$(grep -c '^Private Key Object' <<<"$listing")
    pub=$(grep -c '^Public Key Object' <<<"$listing")
    certs=$(grep -A1 '^Certificate Object' <<<"$listing" | grep -c 'label: *alice')
    if [ "$priv" -eq 1 ] && [ "$pub" -eq 1 ] && [ "$certs" -eq 1 ]; then
        ok "$what: converged (1 private key, 1 public key, 1 certificate)"
    else
        fail "$what: expected 1/1/1 objects, found $priv private, $pub public, $certs certificates"
    fi
    local unnamed_left
    unnamed_left=$(unnamed)
    [ "$unnamed_left" -eq 0 ] || fail "$what: $unnamed_left objects with no id and no label on the token"
    "$CK" show alice --pem >"$T/cert.pem"
    openssl verify -CAfile "$CA_DIR/ca.pem" "$T/cert.pem" >/dev/null 2>&1 ||
        fail "$what: the recorded certificate does not verify"
    local on_token
    on_token=$(SOFTHSM2_CONF=$HOME/.config/softhsm2/softhsm2.conf pkcs11-tool --module "$MODULE" \
        --token-label certkeeper --read-object --type cert --label alice 2>/dev/null |
        openssl x509 -inform DER -noout -fingerprint -sha256 2>/dev/null)
    [ "$on_token" = "$(openssl x509 -in "$T/cert.pem" -noout -fingerprint -sha256)" ] ||
        fail "$what: the token's certificate is not the record's"
}

# The identity is gone without a trace: no record, no key objects.
removed() {
    local what=$1 listing keys certs
    listing=$(p11 -O)
    keys=$(grep -c 'Key Object' <<<"$listing")
    certs=$(grep -A1 '^Certificate Object' <<<"$listing" | grep -c 'label: *alice')
    [ "$keys" -eq 0 ] && [ "$certs" -eq 0 ] && ok "$what: removed, no key or certificate of alice left" ||
        fail "$what: $keys key objects and $certs certificates of alice left"
    "$CK" list | grep -q alice && fail "$what: alice is still listed"
}

killed() {
    local what=$1 rc=$2
    [ "$rc" -eq 137 ] || fail "$what: expected the fault point to kill certkeeper (137), got $rc: $(cat "$T/err")"
}

# The request id the manual-approval server logged last for USER_NAME.
request_id() {
    sed -n "s/.*request \([0-9][0-9]*\) from $USER_NAME waits for approval.*/\1/p" "$CA_DIR.log" | tail -n 1
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "$1"
}
