#!/bin/sh
# No copy of a client's credentials stays in certkeeper-ca's memory after
# the request (issue 13, item 15: "the same for the server's copy").  The
# server erases its own decoded copy; libevent keeps the Authorization
# header and the buffers it was read into in its heap and frees them
# without erasing, so certkeeper-ca gives libevent an erasing free.  After
# an enrollment, scan-memory.py reads the server's writable memory through
# /proc/PID/mem (as root, as in CI: the server is not dumpable) and looks
# for the base64 user:word that travelled in the header.  Deterministic
# under ASan, whose quarantine keeps freed blocks as they were.
. "$(dirname "$0")/lib.sh"
SCAN="$(dirname "$0")/scan-memory.py"

command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP reading a non-dumpable process's memory needs root"; exit 77; }

"$CA_BIN" init "$CA" >/dev/null
"$CA_BIN" user add "$CA" erin --phone +15550100 >/dev/null
start_server
code=$("$CA_BIN" code "$CA" erin)
needle=$(printf 'erin:%s' "$code" | base64 -w0)
python3 "$SCAN" "$SERVER_PID" "$needle" && fail "the credentials are in the server's memory before any request"
netrc_for erin "$code" "$TMP/erin.netrc"
new_csr e1 "/CN=erin" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simpleenroll "$TMP/erin.netrc" e1 "$TMP/e1.p7")
[ "$st" = 200 ] || fail "enrollment with the code: $st"
ok "erin enrolled with an enrollment code (Basic)"
# The request is answered; give the event loop a moment to free it.
sleep 1
rc=0
python3 "$SCAN" "$SERVER_PID" "$needle" || rc=$?
[ "$rc" = 1 ] || fail "after the request the server's memory holds the base64 credentials (scan: $rc)"
ok "no copy of the Authorization header's credentials is left in the server's memory"
stop_server
done_testing
