#!/bin/sh
# enroll-syncs.sh — how many times one `certkeeper enroll` (EC P-256,
# software token, local certkeeper-ca) forces the disk: fsync, fdatasync,
# sync_file_range and sync counted with strace over the whole process
# tree (certkeeper, SoftHSM inside it, certkeeper-nss children), and which
# files they were for (bench/README.md, issue 11 item 6).
#
#   bench/enroll-syncs.sh BUILD-DIR
set -eu
BUILD=${1:?usage: $0 BUILD-DIR}
CK=${CK:-$BUILD/agent/cli/certkeeper}
CA_BIN=$BUILD/server/certkeeper-ca
command -v strace > /dev/null || { echo "strace is needed (apt-get install strace)"; exit 1; }
. "$(dirname "$0")/lib-bench.sh" syncs

"$CA_BIN" init "$W/ca" > /dev/null
bench_serve "$CA_BIN" serve "$W/ca" --listen 127.0.0.1:0 --otp-outbox "$W/outbox"
printf 'Pin-Bench-2468\n' > "$W/pin"; printf 'So-Pin-Bench-1357\n' > "$W/so-pin"
export HOME=$W/home XDG_DATA_HOME=$W/home/data XDG_CONFIG_HOME=$W/home/config XDG_STATE_HOME=$W/home/state
mkdir -p "$HOME"
"$CK" token init-software --pin-file "$W/pin" --so-pin-file "$W/so-pin" < /dev/null > /dev/null
"$CA_BIN" user add "$W/ca" bench --phone +15550100 > /dev/null
"$CA_BIN" code "$W/ca" bench > "$W/code"
strace -f -y -e trace=fsync,fdatasync,sync_file_range,sync,syncfs -o "$W/trace" \
    "$CK" enroll work --server "https://127.0.0.1:$PORT" --user bench --software --key ec-p256 \
    --ca-file "$W/ca/ca.pem" --pin-file "$W/pin" --secret-file "$W/code" --no-browser \
    < /dev/null > /dev/null
echo "disk syncs in one enroll: $(grep -c -E '(fsync|fdatasync|sync_file_range|sync|syncfs)\(' "$W/trace")"
# Per file (strace -y names the descriptor's path).
sed -n 's/.*sync[a-z_]*(\([0-9]*<[^>]*>\).*/\1/p' "$W/trace" | sed "s|$W|W|; s/^[0-9]*//" | sort | uniq -c | sort -rn
