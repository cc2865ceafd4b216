#!/bin/sh
# enroll-cli.sh — whole-process `certkeeper enroll` (EC P-256, software token,
# local certkeeper-ca) next to the same crypto done by the openssl CLI, with
# hyperfine (bench/README.md).
#
#   bench/enroll-cli.sh BUILD-DIR [RUNS]
#
# hyperfine's --prepare gives every certkeeper run a fresh HOME with a fresh
# software token (token init-software) and a new server user with a fresh
# one-time enrollment code; only the enroll command is timed.  The
# preparation itself is timed in a separate hyperfine entry so that it can
# be compared.  The server runs pinned to CPU 0 for the whole script and is
# stopped at the end.  BEFORE=OTHER/certkeeper adds that certkeeper's enroll
# to the same run (a before/after in one sitting).  SERVER_PRELOAD: an LD_PRELOAD for the server
# (nodelay-shim.so, to see what Nagle costs).
set -eu
BUILD=${1:?usage: $0 BUILD-DIR [RUNS]}
RUNS=${2:-15}
CK=$BUILD/agent/cli/certkeeper
CA_BIN=$BUILD/server/certkeeper-ca
. "$(dirname "$0")/lib-bench.sh" cli

"$CA_BIN" init "$W/ca" > /dev/null
bench_serve env LD_PRELOAD="${SERVER_PRELOAD:-}" taskset -c 0 "$CA_BIN" serve "$W/ca" --listen 127.0.0.1:0 \
    --otp-outbox "$W/outbox"
printf 'Pin-Bench-2468\n' > "$W/pin"; printf 'So-Pin-Bench-1357\n' > "$W/so-pin"
chmod 600 "$W/pin" "$W/so-pin"

# prepare.sh: a fresh person at $W/cur (HOME, software token), a new user
# on the server and its enrollment code in $W/cur/secret.
cat > "$W/prepare.sh" <<PREP
#!/bin/sh
set -eu
n=\$(( \$(cat "$W/count" 2>/dev/null || echo 0) + 1 )); echo \$n > "$W/count"
rm -rf "$W/cur"; mkdir -p "$W/cur/home"
export HOME=$W/cur/home XDG_DATA_HOME=$W/cur/home/.local/share XDG_CONFIG_HOME=$W/cur/home/.config XDG_STATE_HOME=$W/cur/home/.local/state
"$CK" token init-software --pin-file "$W/pin" --so-pin-file "$W/so-pin" < /dev/null > /dev/null
"$CA_BIN" user add "$W/ca" e\$n --phone +15550100 > /dev/null
"$CA_BIN" code "$W/ca" e\$n > "$W/cur/secret"; chmod 600 "$W/cur/secret"
echo e\$n > "$W/cur/user"
PREP
# enroll.sh: the timed command (exec, so the shell costs one fork+exec).
cat > "$W/enroll.sh" <<ENR
#!/bin/sh
export HOME=$W/cur/home XDG_DATA_HOME=$W/cur/home/.local/share XDG_CONFIG_HOME=$W/cur/home/.config XDG_STATE_HOME=$W/cur/home/.local/state
exec "$CK" enroll work --server https://127.0.0.1:$PORT --user "\$(cat $W/cur/user)" --software \
    --key ec-p256 --ca-file "$W/ca/ca.pem" --pin-file "$W/pin" --secret-file "$W/cur/secret" < /dev/null > /dev/null
ENR
# BEFORE=OTHER/certkeeper: the same enroll with another certkeeper (e.g.
# main's release build), timed in the same hyperfine run on the same
# server (its fresh HOME and token are made by this build's `token
# init-software`, the format both share).
if [ -n "${BEFORE:-}" ]; then
    sed "s|exec \"$CK\"|exec \"$BEFORE\"|" "$W/enroll.sh" > "$W/enroll-before.sh"
fi
# The same crypto with the openssl CLI: P-256 key, CSR, certificate signed
# by the same CA key (P-256 too? see ca.pem), 14 days.
cp "$W/ca/ca.key" "$W/ca-copy.key"
cat > "$W/openssl.sh" <<OSSL
#!/bin/sh
set -e
cd "$W"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out o.key
openssl req -new -key o.key -subj /CN=bench -out o.csr
openssl x509 -req -in o.csr -CA ca/ca.pem -CAkey ca-copy.key -CAcreateserial -days 14 -out o.pem 2>/dev/null
OSSL
chmod 700 "$W/prepare.sh" "$W/enroll.sh" "$W/openssl.sh"
[ -z "${BEFORE:-}" ] || chmod 700 "$W/enroll-before.sh"
echo "CA key: $(openssl pkey -in "$W/ca/ca.key" -noout -text 2>/dev/null | head -1)"
# An empty command for the shell-wrapper baseline.
printf '#!/bin/sh\nexec true\n' > "$W/noop.sh"; chmod 700 "$W/noop.sh"

set --
[ -z "${BEFORE:-}" ] || set -- --prepare "$W/prepare.sh" -n "before: certkeeper enroll ($BEFORE)" "$W/enroll-before.sh"
taskset -c 1 hyperfine -N --warmup 2 --runs "$RUNS" --export-markdown "$W/result.md" --export-json "$W/result.json" \
    --prepare true --prepare true --prepare true --prepare "$W/prepare.sh" \
    -n 'preparation alone (token init-software + user add + code)' "$W/prepare.sh" \
    -n 'sh wrapper baseline (exec true)' "$W/noop.sh" \
    -n 'openssl genpkey + req + x509 -req (3 processes)' "$W/openssl.sh" \
    -n 'certkeeper enroll (timed alone; fresh HOME+token+user prepared untimed)' "$W/enroll.sh" "$@"
cat "$W/result.md"
python3 - "$W/result.json" <<'PY'
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    t = sorted(r["times"])
    print("median %7.1f ms  p95 %7.1f ms  user+sys %6.1f ms  n=%d  %s" % (
        1000 * statistics.median(t), 1000 * t[min(len(t) - 1, int(0.95 * len(t)))],
        1000 * (r["user"] + r["system"]), len(t), r["command"]))
PY
# Every enroll must have produced an identity: check the last one.
HOME=$W/cur/home XDG_DATA_HOME=$W/cur/home/.local/share XDG_CONFIG_HOME=$W/cur/home/.config \
    XDG_STATE_HOME=$W/cur/home/.local/state "$CK" list < /dev/null
