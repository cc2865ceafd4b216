#!/bin/sh
# p11-renew-calls.sh — which PKCS#11 calls one `certkeeper renew NAME --force`
# makes, through OpenSC's pkcs11-spy (bench/README.md).
#
#   bench/p11-renew-calls.sh SPY-BUILD-DIR CA-BUILD-DIR
#
# SPY-BUILD-DIR: certkeeper built with
#   -Dsofthsm_module=/usr/lib/x86_64-linux-gnu/pkcs11-spy.so
# so that its software token is SoftHSM seen through the spy
# (PKCS11SPY=the real SoftHSM module).  Setup (token, enroll) is logged to
# setup.log; the renewal alone to renew.log; both are kept in OUT (default
# ./p11-spy-out) with a count of every C_ function in the renewal.
set -eu
# The registered SoftHSM module (/usr/share/p11-kit/modules/softhsm2.module)
# would show the same token a second time, beside the spy, and certkeeper
# would refuse the ambiguous URI.  So the script re-runs itself in a private
# mount namespace (root; nothing changes for other processes) where that
# directory holds every registered module except softhsm2.
if [ -z "${KPR_SPY_NS:-}" ]; then
    mods=$(mktemp -d "${TMPDIR:-/tmp}/kpr-bench-p11mods.XXXXXX")
    for m in /usr/share/p11-kit/modules/*.module; do
        [ "$(basename "$m")" = softhsm2.module ] || cp "$m" "$mods/"
    done
    rc=0
    KPR_SPY_NS=1 unshare -m sh -c 'mount --bind "$0" /usr/share/p11-kit/modules && shift && exec "$@"' \
        "$mods" x "$0" "$@" || rc=$?
    rm -rf "$mods"
    exit $rc
fi
SPY_BUILD=${1:?usage: $0 SPY-BUILD-DIR CA-BUILD-DIR}
CA_BUILD=${2:?usage: $0 SPY-BUILD-DIR CA-BUILD-DIR}
OUT=${OUT:-$(pwd)/p11-spy-out}
CK=$SPY_BUILD/agent/cli/certkeeper
CA_BIN=$CA_BUILD/server/certkeeper-ca
export PKCS11SPY=${PKCS11SPY:-/usr/lib/softhsm/libsofthsm2.so}
. "$(dirname "$0")/lib-bench.sh" spy
mkdir -p "$OUT"

"$CA_BIN" init "$W/ca" > /dev/null
"$CA_BIN" user add "$W/ca" alice --phone +15550100 > /dev/null
"$CA_BIN" code "$W/ca" alice > "$W/secret"
bench_serve "$CA_BIN" serve "$W/ca" --listen 127.0.0.1:0 --otp-outbox "$W/outbox"
printf 'Pin-Bench-2468\n' > "$W/pin"; printf 'So-Pin-Bench-1357\n' > "$W/so-pin"
chmod 600 "$W/pin" "$W/so-pin" "$W/secret"
export HOME=$W/home XDG_DATA_HOME=$W/home/.local/share XDG_CONFIG_HOME=$W/home/.config XDG_STATE_HOME=$W/home/.local/state
mkdir -p "$HOME"

export PKCS11SPY_OUTPUT=$OUT/setup.log
: > "$PKCS11SPY_OUTPUT"
"$CK" token init-software --pin-file "$W/pin" --so-pin-file "$W/so-pin" < /dev/null
"$CK" enroll work --server "https://127.0.0.1:$PORT" --user alice --software --key ec-p256 \
    --ca-file "$W/ca/ca.pem" --pin-file "$W/pin" --secret-file "$W/secret" < /dev/null
"$CK" tokens < /dev/null > "$OUT/tokens.txt" 2>&1 || true

export PKCS11SPY_OUTPUT=$OUT/renew.log
: > "$PKCS11SPY_OUTPUT"
"$CK" renew work --force --pin-file "$W/pin" < /dev/null
unset PKCS11SPY_OUTPUT
"$CK" show work < /dev/null > "$OUT/show.txt" 2>&1 || true

# "N: C_Name" lines are the calls.
grep -oE '^[0-9]+: C_[A-Za-z]+' "$OUT/renew.log" | sed 's/^[0-9]*: //' | sort | uniq -c | sort -rn > "$OUT/renew-counts.txt"
echo "--- calls of the renewal ($OUT/renew.log):"
cat "$OUT/renew-counts.txt"
echo "--- C_Login: $(grep -cE '^[0-9]+: C_Login$' "$OUT/renew.log")" \
     " C_SignInit: $(grep -cE '^[0-9]+: C_SignInit$' "$OUT/renew.log")" \
     " C_Sign: $(grep -cE '^[0-9]+: C_Sign$' "$OUT/renew.log")" \
     " C_Decrypt: $(grep -cE '^[0-9]+: C_Decrypt$' "$OUT/renew.log")"
