#!/bin/bash
# test-agent-responder.sh — the certkeeper command against an EST server that
# is not certkeeper-ca: no secret words (an ordinary password), CSR
# attributes asking for a P-384 key and the tls-unique binding, HTTP
# authentication wanted on top of the certificate to renew, a refused
# certificate, and a pending request whose poll wants the password again.
#
# No EST server packaged in Debian does these, so est-responder.py stands in
# (it issues real certificates and checks the Basic password, the CSR's key
# and the binding).  Real SoftHSM2 token, real certkeeper.
#   test-agent-responder.sh CERTKEEPER CERTKEEPER-CA
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../agent/lib.sh
. "$HERE/../agent/lib.sh"

# The system interpreter (tests/protocol/meson.build): python3-cryptography.
PY=${KPR_PYTHON3:-python3}
"$PY" -c 'import cryptography' 2>/dev/null || skip "python3-cryptography is not installed"

# --- the responder: a CA, a server certificate, a config -------------------
RDIR=$TMP/responder
mkdir -p "$RDIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$RDIR/ca.key" \
    -out "$RDIR/ca.pem" -days 2 -subj "/CN=Responder CA" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$RDIR/srv.key" \
    -subj /CN=127.0.0.1 -out "$RDIR/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$RDIR/ext"
openssl x509 -req -in "$RDIR/srv.csr" -CA "$RDIR/ca.pem" -CAkey "$RDIR/ca.key" -CAcreateserial \
    -days 2 -extfile "$RDIR/ext" -out "$RDIR/srv.pem" 2>/dev/null
CA_PEM=$RDIR/ca.pem
# id-ecPublicKey { secp384r1 }, challengePassword (the binding)
ATTRS=$(printf '\x30\x1f\x30\x12\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x31\x07\x06\x05\x2b\x81\x04\x00\x22\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x07' | base64 -w0)
config() { # extra JSON members
    printf '{"auth": "basic", "user": "alice", "password": "S3rver-Passw0rd", "csrattrs": "%s",
             "binding": true, "enforce": {"curve": "secp384r1"}%s}\n' "$ATTRS" "${1:-}" \
        > "$RDIR/config.json"
}
config
# It stops when its stdin closes: this shell holds the FIFO open (fd 8).
mkfifo "$RDIR/stdin"
"$PY" "$HERE/est-responder.py" --dir "$RDIR" --cert "$RDIR/srv.pem" --key "$RDIR/srv.key" \
    < "$RDIR/stdin" > "$RDIR/port" 2> "$RDIR/err" &
SERVER_PID=$!
exec 8> "$RDIR/stdin"
for _ in $(seq 100); do grep -q '^PORT ' "$RDIR/port" 2>/dev/null && break; sleep 0.1; done
SERVER=https://127.0.0.1:$(sed -n 's/^PORT //p' "$RDIR/port")
[ "$SERVER" != https://127.0.0.1: ] || { echo "FAIL: the responder did not start: $(cat "$RDIR/err")" >&2; exit 1; }
PASSWORD_FILE=$(secret_file password S3rver-Passw0rd)
log_has() { grep -q -- "$1" "$RDIR/log"; }

init_token

# --- enroll: the server's key type and binding, its ordinary password -----------
run enroll corp --server "$SERVER" --user alice --ca-file "$CA_PEM" --pin-file "$PIN_FILE" \
    --secret-file "$PASSWORD_FILE" --key ec-p256 --no-backup
expect_rc 0 "enroll against a server asking for P-384 and the binding"
show_json corp
check_json "$JSON" "j['key_type'] == 'ec-p384'" "the key is the P-384 the server asked for, not --key ec-p256"
log_has "POST simpleenroll auth=basic cn=- tls=TLSv1.2 status=200" \
    && ok "the request went bound, over TLS 1.2, with Basic after the server asked" \
    || fail "no bound, authenticated simpleenroll in the responder's log: $(cat "$RDIR/log")"
SERIAL1=$(json "$JSON" "j['serial']")

# --- renew: the server wants its password besides the certificate ----------------
config ', "reenroll_auth": true'
: > "$RDIR/log"
run renew corp --force --pin-file "$PIN_FILE" --secret-file "$PASSWORD_FILE"
expect_rc 0 "renew against a server that wants the password with the certificate"
log_has "POST simplereenroll auth=- cn=alice .*status=401" \
    && log_has "POST simplereenroll auth=basic cn=alice .*status=200" \
    && ok "the same simplereenroll again, with the certificate and the password" \
    || fail "not a simplereenroll with certificate and password: $(cat "$RDIR/log")"
log_has "POST simpleenroll" && fail "the renewal became a new enrollment: $(cat "$RDIR/log")"
grep -q "enrolled again" "$OUT" && fail "a plain renewal said it enrolled again: $(cat "$OUT")"
show_json corp
[ "$(json "$JSON" "j['serial']")" != "$SERIAL1" ] && ok "renewed: a new serial" \
    || fail "no new certificate after the renewal"

# --- renew: the certificate itself refused → a new enrollment, said so ---------------
config ', "reenroll_refuse": true'
: > "$RDIR/log"
run renew corp --force --pin-file "$PIN_FILE" --secret-file "$PASSWORD_FILE"
expect_rc 0 "renew with a refused certificate (enrolled again)"
expect_stdout "was not renewed but enrolled again" "the person is told the renewal became an enrollment"
grep -q "enrolling again (simpleenroll) instead" "$STATE/identities/corp.log" \
    && ok "the identity's history says so" || fail "no history line: $(tail -5 "$STATE/identities/corp.log")"

# --- pending: the poll wants the password again ------------------------------------
config ', "pending_once": true'
: > "$RDIR/log"
run enroll later --server "$SERVER" --user alice --ca-file "$CA_PEM" --pin-file "$PIN_FILE" \
    --secret-file "$PASSWORD_FILE" --no-backup
expect_rc 22 "enroll answered 202 (pending)"
show_json later
check_json "$JSON" "j['state'] == 'PENDING'" "the identity waits"
grep -q '^submitted-auth=password$' "$STATE/identities/later.ini" \
    && ok "the record says the request authenticated with a password" \
    || fail "no submitted-auth=password in the record"
sleep 1
run renew later --pin-file "$PIN_FILE"
expect_rc 19 "a poll without a way to give the password"
expect_stderr "wants credentials again" "the refusal says the server wants the password again"
run renew later --pin-file "$PIN_FILE" --secret-file "$PASSWORD_FILE"
expect_rc 0 "the poll with the password (asked again, as the request authenticated)"
show_json later
check_json "$JSON" "j['state'] == 'ACTIVE'" "the pending identity is now active"

# --- headless: password-file= with the certificate, every renewal ------------------
AGENT=${KPR_BUILD_DIR:+$KPR_BUILD_DIR/agent/resident/certkeeper-agent}
if [ -x "$AGENT" ]; then
    config ', "reenroll_auth": true, "lifetime": 24'
    : > "$RDIR/log"
    printf '[agent]\nrenew-at=0.5\n[identity kiosk]\nserver=%s\nusername=alice\ntoken=software\npin-file=%s\npassword-file=%s\nca-file=%s\n' \
        "$SERVER" "$PIN_FILE" "$PASSWORD_FILE" "$CA_PEM" > "$TMP/agent.conf"
    "$AGENT" --headless --config "$TMP/agent.conf" < /dev/null > /dev/null 2> "$TMP/agent.log" &
    BG_PIDS="$BG_PIDS $!"
    renewed='POST simplereenroll auth=basic cn=alice .*status=200'
    for _ in $(seq 90); do
        grep -q "$renewed" "$RDIR/log" && break
        sleep 1
    done
    grep -q "$renewed" "$RDIR/log" \
        && ok "headless: renewed with the certificate and password-file=" \
        || fail "headless: no renewal with certificate and password: $(tail -5 "$RDIR/log"); agent: $(tail -5 "$TMP/agent.log")"
    [ "$(grep -c 'POST simpleenroll auth=basic .*status=200' "$RDIR/log")" -eq 1 ] \
        && ok "headless: one enrollment, then renewals" \
        || fail "headless: not exactly one enrollment: $(cat "$RDIR/log")"
    grep -qF -- "S3rver-Passw0rd" "$TMP/agent.log" && fail "the password is in the agent's log"
fi

stop_server
finish
