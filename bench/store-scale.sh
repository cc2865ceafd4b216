#!/bin/sh
# store-scale.sh — does the core's cost grow with what is stored?  For a
# software token and state directory holding 1, 100 and 1 000 identities:
# `certkeeper renew alice --force` (a whole renewal against a local
# certkeeper-ca) and `certkeeper list --json`, timed with hyperfine next to
# the floor `certkeeper --version` (process start, measured in the same
# run) (bench/README.md, issue 11 item 6).
#
#   bench/store-scale.sh BUILD-DIR [RUNS]      (a release build: -Dbuildtype=release)
#   BEFORE=OTHER/certkeeper bench/store-scale.sh BUILD-DIR   (another certkeeper,
#       e.g. main's release build, timed on the same identities in the same
#       hyperfine run: a before/after in one sitting)
#   NS="1 1000" …                                   (the sizes, default 1 100 1000)
#   WHAT=list …                                     (time only the listings)
#
# The identities besides alice are imports of alice's backup under other
# names (each with its own key objects on the token), which is what the
# lookups and the listing walk through.  Results in OUT (default
# ./store-scale-out): one hyperfine markdown table per N.
set -eu
BUILD=${1:?usage: $0 BUILD-DIR [RUNS]}
RUNS=${2:-10}
CK=$BUILD/agent/cli/certkeeper
BEFORE=${BEFORE:-}
NS=${NS:-1 100 1000}
WHAT=${WHAT:-all}
CA_BIN=$BUILD/server/certkeeper-ca
OUT=${OUT:-$(pwd)/store-scale-out}
. "$(dirname "$0")/lib-bench.sh" scale
mkdir -p "$OUT"

"$CA_BIN" init "$W/ca" --lifetime 14d > /dev/null
bench_serve "$CA_BIN" serve "$W/ca" --listen 127.0.0.1:0 --otp-outbox "$W/outbox" \
    --challenges-per-address 100000
printf 'Pin-Bench-2468\n' > "$W/pin"; printf 'So-Pin-Bench-1357\n' > "$W/so-pin"
printf 'Bench-Passphrase-Scale-9182!\n' > "$W/pass"

for n in $NS; do
    H=$W/h$n
    mkdir -p "$H"
    env="HOME=$H XDG_DATA_HOME=$H/data XDG_CONFIG_HOME=$H/config XDG_STATE_HOME=$H/state"
    export HOME=$H XDG_DATA_HOME=$H/data XDG_CONFIG_HOME=$H/config XDG_STATE_HOME=$H/state
    "$CK" token init-software --pin-file "$W/pin" --so-pin-file "$W/so-pin" < /dev/null > /dev/null
    "$CA_BIN" user add "$W/ca" "u$n" --phone +15550100 > /dev/null
    "$CA_BIN" code "$W/ca" "u$n" > "$W/code$n"
    "$CK" enroll alice --server "https://127.0.0.1:$PORT" --user "u$n" --ca-file "$W/ca/ca.pem" \
        --pin-file "$W/pin" --secret-file "$W/code$n" --no-browser < /dev/null > /dev/null
    if [ "$n" -gt 1 ]; then
        "$CK" export alice --to "$W/alice$n.p12" --passphrase-file "$W/pass" --pin-file "$W/pin" > /dev/null
        i=1
        while [ "$i" -lt "$n" ]; do
            "$CK" import "$W/alice$n.p12" "id$i" --passphrase-file "$W/pass" --pin-file "$W/pin" \
                --no-browser < /dev/null > /dev/null
            i=$((i + 1))
        done
    fi
    echo "N=$n: $("$CK" list | tail -n +2 | wc -l) identities"
    # A record changed in the last second is not kept in the list cache
    # (kpr-store-cache.c): let the last imports settle.
    sleep 2
    set -- -n "floor: certkeeper --version (N=$n)" "env $env $CK --version" \
        -n "certkeeper list --json (N=$n)" "env $env $CK list --json"
    [ -n "$BEFORE" ] && set -- "$@" -n "before: certkeeper list --json (N=$n)" "env $env $BEFORE list --json"
    if [ "$WHAT" != list ]; then
        set -- "$@" -n "certkeeper renew alice --force (N=$n)" \
            "env $env $CK renew alice --force --pin-file $W/pin --no-browser"
        [ -n "$BEFORE" ] && set -- "$@" -n "before: certkeeper renew alice --force (N=$n)" \
            "env $env $BEFORE renew alice --force --pin-file $W/pin --no-browser"
    fi
    hyperfine -N --warmup 2 --runs "$RUNS" --export-markdown "$OUT/n$n.md" "$@"
done
for n in $NS; do cat "$OUT/n$n.md"; done
