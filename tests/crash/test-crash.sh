#!/usr/bin/env bash
# Crash safety (DESIGN §5): certkeeper is killed with SIGKILL at every
# lifecycle fault point of enroll, renew, import and delete (KPR_FAULT_AT,
# compiled only into -Dfault_injection=true builds); the next run must
# converge: one usable identity, no orphan token objects, a consistent
# record.  Real SoftHSM2 token, real certkeeper-ca on 127.0.0.1.
#   test-crash.sh CERTKEEPER CERTKEEPER-CA
set -u
CK=$1
CA=$2
MODULE=${KPR_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
for tool in pkcs11-tool python3 openssl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

T=$(mktemp -d /tmp/kpr-crash.XXXXXX)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
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

"$CA" init "$T/ca" --lifetime 1h >/dev/null || { echo "certkeeper-ca init failed"; exit 1; }
"$CA" serve "$T/ca" --listen 127.0.0.1:0 --otp-outbox "$T/outbox" >"$T/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q listening "$T/serve.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/serve.log" | head -n 1)
[ -n "$PORT" ] || { echo "server did not start: $(cat "$T/serve.log")"; exit 1; }
touch "$T/outbox"

home() {
    export HOME=$T/home-$1 XDG_STATE_HOME=$T/home-$1/state XDG_DATA_HOME=$T/home-$1/data \
        XDG_CONFIG_HOME=$T/home-$1/config
    unset SOFTHSM2_CONF
    mkdir -p "$HOME"
    # One server user per case: the server rate-limits secret words per user.
    USER_NAME=u-$1
    "$CA" user add "$T/ca" "$USER_NAME" --phone +15550100 >/dev/null
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
        --ca-file "$T/ca/ca.pem" --pin-file "$T/pin" --secret-file - >/dev/null
}

field() { "$CK" show alice --json | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# The identity converged: ACTIVE, exactly one key pair and one identity
# certificate on the token, the same certificate as the record's.
converged() {
    local what=$1 listing state
    state=$(field "['state']" 2>/dev/null)
    [ "$state" = ACTIVE ] || { fail "$what: state is '$state', expected ACTIVE ($(cat "$T/err"))"; return; }
    listing=$(SOFTHSM2_CONF=$HOME/.config/softhsm2/softhsm2.conf pkcs11-tool --module "$MODULE" \
        --token-label certkeeper --login --pin 1234 -O 2>/dev/null)
    local priv pub certs
    priv=$(grep -c '^Private Key Object' <<<"$listing")
    pub=$(grep -c '^Public Key Object' <<<"$listing")
    certs=$(grep -A1 '^Certificate Object' <<<"$listing" | grep -c 'label: *alice')
    if [ "$priv" -eq 1 ] && [ "$pub" -eq 1 ] && [ "$certs" -eq 1 ]; then
        ok "$what: converged (1 private key, 1 public key, 1 certificate)"
    else
        fail "$what: expected 1/1/1 objects, found $priv private, $pub public, $certs certificates"
    fi
    "$CK" show alice --pem >"$T/cert.pem"
    openssl verify -CAfile "$T/ca/ca.pem" "$T/cert.pem" >/dev/null 2>&1 ||
        fail "$what: the recorded certificate does not verify"
    local on_token
    on_token=$(SOFTHSM2_CONF=$HOME/.config/softhsm2/softhsm2.conf pkcs11-tool --module "$MODULE" \
        --token-label certkeeper --read-object --type cert --label alice 2>/dev/null |
        openssl x509 -inform DER -noout -fingerprint -sha256 2>/dev/null)
    [ "$on_token" = "$(openssl x509 -in "$T/cert.pem" -noout -fingerprint -sha256)" ] ||
        fail "$what: the token's certificate is not the record's"
}

killed() {
    local what=$1 rc=$2
    [ "$rc" -eq 137 ] || fail "$what: expected the fault point to kill certkeeper (137), got $rc: $(cat "$T/err")"
}

# --- enroll ----------------------------------------------------------------
for point in before:NEW after:NEW after:keygen before:KEY_READY after:KEY_READY \
    before:SUBMITTED after:SUBMITTED before:ISSUED after:ISSUED before:INSTALLED \
    after:INSTALLED before:ACTIVE after:ACTIVE; do
    home "enroll-${point/:/-}"
    enroll KPR_FAULT_AT="$point"
    killed "enroll killed at $point" $?
    words=$(wc -l <"$T/outbox")
    enroll
    rc=$?
    # Once the server has issued, finishing must not cost another secret
    # word: the repeated request gets the same certificate back.
    case $point in
        before:ISSUED | after:ISSUED | before:INSTALLED | after:INSTALLED | before:ACTIVE)
            [ "$(wc -l <"$T/outbox")" -eq "$words" ] ||
                fail "enroll re-run after $point asked for a new secret word"
            ;;
    esac
    # Killed after ACTIVE was written, the identity is complete: a re-run
    # says so (16) instead of enrolling twice.
    if [ "$point" = after:ACTIVE ]; then
        [ "$rc" -eq 16 ] || fail "enroll re-run after $point: expected 16, got $rc"
    else
        [ "$rc" -eq 0 ] || fail "enroll re-run after $point: exit $rc: $(cat "$T/err")"
    fi
    converged "enroll killed at $point"
done

# --- renew -------------------------------------------------------------------
home renew
enroll || fail "renew setup: enroll failed: $(cat "$T/err")"
for point in before:next-key-id after:next-key-id after:next-keygen before:NEXT_KEY_READY \
    after:NEXT_KEY_READY before:NEXT_SUBMITTED after:NEXT_SUBMITTED before:NEXT_INSTALLED \
    after:NEXT_INSTALLED before:ACTIVE after:ACTIVE before:stale-removed; do
    serial=$(field "['serial']")
    ck KPR_FAULT_AT="$point" "$CK" renew alice --force --pin-file "$T/pin" --secret-file - >/dev/null
    killed "renew killed at $point" $?
    words=$(wc -l <"$T/outbox")
    # The next run, as the agent would do it: finish or roll back.
    ck "$CK" renew alice --pin-file "$T/pin" --secret-file - >/dev/null ||
        fail "renew re-run after $point: $(cat "$T/err")"
    # Even when the server already superseded the certificate we present,
    # the renewal finishes over mutual TLS: no secret word.
    [ "$(wc -l <"$T/outbox")" -eq "$words" ] ||
        fail "renew re-run after $point asked for a secret word"
    converged "renew killed at $point"
    new=$(field "['serial']")
    case $point in
        before:next-key-id | after:next-key-id | after:next-keygen | before:NEXT_KEY_READY)
            # Nothing was sent: rolled back or finished, either is fine.
            ;;
        *) [ "$new" != "$serial" ] || fail "renew killed at $point: the renewal was lost (serial unchanged)" ;;
    esac
done

# --- import ------------------------------------------------------------------
"$CK" export alice --to "$T/alice.p12" --passphrase-file "$T/pass" --pin-file "$T/pin" >/dev/null ||
    fail "export for the import cases"
for point in before:NEW after:NEW after:import-objects before:ISSUED after:ISSUED \
    before:INSTALLED after:INSTALLED before:ACTIVE; do
    home "import-${point/:/-}"
    ck KPR_FAULT_AT="$point" "$CK" import "$T/alice.p12" alice --passphrase-file "$T/pass" \
        --pin-file "$T/pin" >/dev/null
    killed "import killed at $point" $?
    ck "$CK" import "$T/alice.p12" alice --passphrase-file "$T/pass" --pin-file "$T/pin" >/dev/null ||
        fail "import re-run after $point: $(cat "$T/err")"
    converged "import killed at $point"
done

# --- delete ------------------------------------------------------------------
home delete
enroll || fail "delete setup: enroll failed"
ck KPR_FAULT_AT=after:objects-removed "$CK" delete alice --yes --pin-file "$T/pin" >/dev/null
killed "delete killed after removing the objects" $?
"$CK" delete alice --yes --pin-file "$T/pin" >/dev/null 2>"$T/err" || fail "delete re-run: $(cat "$T/err")"
left=$(SOFTHSM2_CONF=$HOME/.config/softhsm2/softhsm2.conf pkcs11-tool --module "$MODULE" \
    --token-label certkeeper --login --pin 1234 -O 2>/dev/null | grep -c 'Key Object')
[ "$left" -eq 0 ] && ok "delete converged: no key objects left" || fail "delete: $left key objects left"
"$CK" list | grep -q alice && fail "delete: alice is still listed"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all crash points converged"
