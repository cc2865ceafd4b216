#!/usr/bin/env bash
# The certkeeper demo, end to end on this machine:
#   1. builds certkeeper and certkeeper-ca;
#   2. starts certkeeper-ca (a private CA) on 127.0.0.1 with one user;
#   3. creates the software token and enrolls a certificate into it: the key
#      is made on the token, the server "texts" a secret word (here: to an
#      outbox file), the certificate comes back and is installed;
#   4. shows it working: openssl s_server demands a client certificate from
#      the CA, and openssl s_client logs in with the key on the token.
# Installs its Debian packages first.  Works in a throwaway home directory
# under /tmp: your real keys are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
if [ ! -f build/meson-private/coredata.dat ]; then
  rm -rf build
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
certkeeper="$PWD/build/agent/cli/certkeeper"
ca="$PWD/build/server/certkeeper-ca"
module=/usr/lib/softhsm/libsofthsm2.so

demo=$(mktemp -d /tmp/certkeeper-demo.XXXXXX)
export HOME="$demo/home" XDG_CONFIG_HOME="$demo/home/.config" XDG_DATA_HOME="$demo/home/.local/share" \
       XDG_STATE_HOME="$demo/home/.local/state"
unset SOFTHSM2_CONF
mkdir -p "$HOME"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Secrets live in 0600 files or arrive on stdin: never on a command line.
umask 077
printf 'demo-pin-1234\n' >"$demo/pin"
printf 'demo-so-pin-5678\n' >"$demo/so-pin"

step "Start certkeeper-ca, a private CA, on 127.0.0.1 (user alice, phone +1 555 0100)"
"$ca" init "$demo/ca" --lifetime 14d
"$ca" user add "$demo/ca" alice --phone +15550100
: >"$demo/outbox"
"$ca" serve "$demo/ca" --listen 127.0.0.1:0 --otp-outbox "$demo/outbox" >"$demo/ca.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$demo/ca.log" && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$demo/ca.log" | head -n 1)
echo "certkeeper-ca listens on https://127.0.0.1:$port"

step "Create the software token (SoftHSM2)"
"$certkeeper" token init-software --pin-file "$demo/pin" --so-pin-file "$demo/so-pin"

step "certkeeper tokens"
"$certkeeper" tokens

step "Enroll: key made on the token, secret word by 'text message', certificate installed"
echo "(The server writes the secret word to $demo/outbox; a person would read it on the phone.)"
{
  for _ in $(seq 100); do [ -s "$demo/outbox" ] && break; sleep 0.1; done
  tail -n 1 "$demo/outbox" | awk '{print $NF}'
} | "$certkeeper" enroll alice --server "https://127.0.0.1:$port" --user alice \
      --ca-file "$demo/ca/ca.pem" --pin-file "$demo/pin" --secret-file -

step "certkeeper list / show"
"$certkeeper" list
"$certkeeper" show alice

step "It works: mutual TLS with the key on the token (openssl s_server demands a client certificate)"
"$certkeeper" show alice --pem >"$demo/alice.pem"
key_uri=$("$certkeeper" show alice --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_uri"])')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$demo/web.key" \
  -out "$demo/web.pem" -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
printf 'openssl_conf = oc\n[oc]\nengines = es\n[es]\npkcs11 = pk\n[pk]\nengine_id = pkcs11\nMODULE_PATH = %s\n' \
  "$module" >"$demo/engine.cnf"
web_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$web_port" -Verify 1 -CAfile "$demo/ca/ca.pem" \
  -cert "$demo/web.pem" -key "$demo/web.key" -www >"$demo/web.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q ACCEPT "$demo/web.log" && break; sleep 0.1; done
printf 'GET / HTTP/1.0\r\n\r\n' | SOFTHSM2_CONF="$HOME/.config/softhsm2/softhsm2.conf" \
  OPENSSL_CONF="$demo/engine.cnf" openssl s_client -connect "127.0.0.1:$web_port" \
  -CAfile "$demo/web.pem" -engine pkcs11 -keyform engine \
  -key "$key_uri?pin-source=file:$demo/pin" -cert "$demo/alice.pem" -ign_eof 2>/dev/null |
  grep -E '^(Verify return code|Client certificate|subject=)|Cipher is' | head -5
if grep -q 'depth=0 CN = alice' "$demo/web.log"; then
  echo "The server verified the client certificate CN=alice, signed on the token."
else
  echo "Mutual TLS did not work: see $demo/web.log" >&2
  exit 1
fi

step "Next steps a person would take"
echo "  certkeeper export alice --to /media/usb/alice.p12   # verified backup while exportable"
echo "  certkeeper lock alice                               # then the key never leaves the token"
echo "Done. Everything lives in $demo (delete it when you like)."
