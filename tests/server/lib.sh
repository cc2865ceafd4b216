# lib.sh — shared by the certkeeper-ca integration tests: a CA in a temp
# dir, the server on a random loopback port, and curl/openssl as the
# independent client.  Source it with the certkeeper-ca path as $1.
set -eu

CA_BIN=${1:?usage: $0 PATH-TO-certkeeper-ca}
for tool in curl openssl sqlite3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "1..0 # SKIP $tool is not installed"
    exit 77
  fi
done

umask 077
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpr-server-test.XXXXXX")
CA="$TMP/ca"
OUTBOX="$TMP/outbox"
SERVER_PID=
TESTS_RUN=0

# Scripts add their own clean-up (more servers, a database) here.
EXTRA_CLEANUP=
cleanup () {
  if [ -n "$SERVER_PID" ]; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  for hook in $EXTRA_CLEANUP; do "$hook" || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

fail () {
  echo "not ok - $*"
  if [ -f "$TMP/server.err" ]; then sed 's/^/# server: /' "$TMP/server.err" | tail -20; fi
  exit 1
}

ok () {
  TESTS_RUN=$((TESTS_RUN + 1))
  echo "ok $TESTS_RUN - $*"
}

done_testing () {
  echo "1..$TESTS_RUN"
}

# start_server [OTP OPTIONS]: default --otp-outbox "$OUTBOX".
start_server () {
  if [ $# -eq 0 ]; then set -- --otp-outbox "$OUTBOX"; fi
  # Emptied here, not by the redirection below: that one happens in the
  # background child, and the loop could read the previous server's port.
  : >"$TMP/server.out"
  "$CA_BIN" serve "$CA" --listen 127.0.0.1:0 "$@" >"$TMP/server.out" 2>"$TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$TMP/server.out" 2>/dev/null; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server died at start"
    sleep 0.1
  done
  PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/server.out")
  [ -n "$PORT" ] || fail "no 'listening on' line"
  BASE="https://127.0.0.1:$PORT"
  EST="$BASE/.well-known/est"
}

# Stops the server with SIGTERM; it must exit 0 (and, under ASan, leak-free).
stop_server () {
  kill -TERM "$SERVER_PID"
  rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=
  [ "$rc" -eq 0 ] || fail "server exited $rc after SIGTERM"
}

# curl that trusts only our CA; extra arguments follow.
xcurl () {
  curl -sS --max-time 30 --cacert "$CA/ca.pem" "$@"
}

# Asks for a secret word and prints it, read from the outbox as the last
# field of the user's newest line.
word_for () {
  xcurl -o /dev/null -H 'Content-Type: application/json' \
    --data "{\"username\":\"$1\"}" "$EST/challenge"
  awk -v u="$1" '$2 == u { w = $NF } END { print w }' "$OUTBOX"
}

# Credentials go to curl through a 0600 netrc file, never argv.
netrc_for () { # USER SECRET FILE
  printf 'machine 127.0.0.1 login %s password %s\n' "$1" "$2" >"$3"
  chmod 600 "$3"
}

# new_csr NAME KEYALG-OPTS SUBJECT: writes NAME.key and NAME.b64 (base64 DER).
new_csr () {
  name=$1; subj=$2; shift 2
  openssl req -new -nodes "$@" -keyout "$TMP/$name.key" -subj "$subj" -outform DER \
    -out "$TMP/$name.der" 2>/dev/null
  base64 "$TMP/$name.der" >"$TMP/$name.b64"
}

# post OP NETRC CSRNAME OUT [curl args]: prints the HTTP status.
post_est () {
  op=$1; netrc=$2; csr=$3; out=$4; shift 4
  xcurl -o "$out" -w '%{http_code}' ${netrc:+--netrc-file "$netrc"} \
    -H 'Content-Type: application/pkcs10' --data-binary "@$TMP/$csr.b64" "$@" "$EST/$op"
}

# PKCS#7 base64 body → first certificate as PEM.
p7_to_pem () {
  base64 -d "$1" | openssl pkcs7 -inform DER -print_certs >"$2"
  grep -q 'BEGIN CERTIFICATE' "$2"
}

serial_of () {
  openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

pubkey_of_cert () { openssl x509 -in "$1" -noout -pubkey; }
pubkey_of_csr () { openssl req -inform DER -in "$TMP/$1.der" -noout -pubkey; }
