#!/usr/bin/env bash
# The certkeeper demo: builds, creates a software token in a throwaway home
# directory, lists the tokens, generates a key on it, and lets an
# independent tool (GnuTLS p11tool) confirm what certkeeper did.
# Installs its Debian packages first.  Never touches your real keys.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
if [ ! -f build/meson-private/coredata.dat ]; then
  rm -rf build
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
certkeeper="$PWD/build/agent/certkeeper"

demo=$(mktemp -d /tmp/certkeeper-demo.XXXXXX)
export HOME="$demo" XDG_CONFIG_HOME="$demo/.config" XDG_DATA_HOME="$demo/.local/share" \
       XDG_STATE_HOME="$demo/.local/state"
unset SOFTHSM2_CONF

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The demo's PIN lives in a 0600 file: secrets never go on a command line.
umask 077
printf 'demo-pin-1234\n' >"$demo/pin"
printf 'demo-so-pin-5678\n' >"$demo/so-pin"

step "Create the software token (SoftHSM2) in $demo"
"$certkeeper" token init-software --pin-file "$demo/pin" --so-pin-file "$demo/so-pin"

step "certkeeper tokens"
"$certkeeper" tokens

step "Generate an EC P-256 key on the software token (it never leaves the token)"
"$certkeeper" token keygen --key ec-p256 --label demo --pin-file "$demo/pin"

step "Independent check: GnuTLS p11tool lists the key on the token"
SOFTHSM2_CONF="$demo/.config/softhsm2/softhsm2.conf" \
  p11tool --provider /usr/lib/softhsm/libsofthsm2.so \
  --list-all "pkcs11:token=certkeeper" </dev/null 2>/dev/null | sed -n '1,12p'

step "Done. The demo's token lives in $demo (delete it when you like)."
