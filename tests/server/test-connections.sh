#!/bin/sh
# Connections cannot starve the server (issue 14, item 2).  certkeeper-ca
# runs with 256 file descriptors (prlimit), as in the issue's measurement;
# conn-flood.py holds 400 idle connections and one slow-loris client (TLS,
# then one byte every 2 s).  A real client must enroll within 5 s, the
# slow client must be closed, idle connections too, and when accept()
# runs out of descriptors (--max-connections above the limit) the server
# must not spin.  The 5 s bound is functional (the issue's failure was a
# timeout), not a benchmark.
. "$(dirname "$0")/lib.sh"

for tool in python3 prlimit; do
  command -v "$tool" >/dev/null 2>&1 || { echo "1..0 # SKIP $tool is not installed"; exit 77; }
done
FLOOD="$(dirname "$0")/conn-flood.py"
FLOOD_PID=
stop_flood () { [ -z "$FLOOD_PID" ] || { kill "$FLOOD_PID" 2>/dev/null; wait "$FLOOD_PID" 2>/dev/null; }; }
EXTRA_CLEANUP="stop_flood $EXTRA_CLEANUP"

"$CA_BIN" init "$CA" >/dev/null
for i in 1 2 3; do "$CA_BIN" user add "$CA" "k$i" --phone +15550100 >/dev/null; done

# Serves under a descriptor limit; extra options follow.
serve_limited () {
  limit=$1; shift
  : >"$TMP/server.out"   # not left to the background child (lib.sh)
  prlimit --nofile="$limit" -- "$CA_BIN" serve "$CA" --listen 127.0.0.1:0 --otp-outbox "$OUTBOX" "$@" \
    >"$TMP/server.out" 2>"$TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q '^listening on ' "$TMP/server.out" 2>/dev/null && break; sleep 0.1; done
  PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/server.out")
  [ -n "$PORT" ] || fail "server did not start: $(cat "$TMP/server.err")"
  EST="https://127.0.0.1:$PORT/.well-known/est"
}

cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

# enroll_timed USER: enrolls with a fresh code; prints "STATUS MILLISECONDS".
enroll_timed () {
  netrc_for "$1" "$("$CA_BIN" code "$CA" "$1")" "$TMP/$1.netrc"
  new_csr "$1" "/CN=$1" -newkey ec -pkeyopt ec_paramgen_curve:P-256
  curl -sS --max-time 5 --cacert "$CA/ca.pem" -o "$TMP/$1.p7" -w '%{http_code} %{time_total}' \
    --netrc-file "$TMP/$1.netrc" -H 'Content-Type: application/pkcs10' \
    --data-binary "@$TMP/$1.b64" "$EST/simpleenroll" 2>/dev/null | awk '{ printf "%s %d", $1, $2 * 1000 }'
}

# --- RLIMIT_NOFILE raised to the hard limit -------------------------------
serve_limited 128:4096
soft=$(awk '/Max open files/ { print $4 }' "/proc/$SERVER_PID/limits")
[ "$soft" = 4096 ] || fail "soft descriptor limit after start: $soft"
stop_server
ok "serve raises its descriptor limit to the hard limit (128 → 4096)"

# --- a slow loris alone: request_timeout, however slowly it trickles --------
serve_limited 256:256
python3 "$FLOOD" 127.0.0.1 "$PORT" 0 "$CA/ca.pem" 25 >"$TMP/flood.out" 2>&1 &
FLOOD_PID=$!
wait "$FLOOD_PID"; FLOOD_PID=
loris=$(sed -n 's/^loris-closed \([0-9.]*\)$/\1/p' "$TMP/flood.out")
grep -q '^loris-connected' "$TMP/flood.out" && [ -n "$loris" ] && [ "${loris%.*}" -lt 20 ] \
  || fail "slow loris not served and closed in time: $(cat "$TMP/flood.out")"
ok "a slow loris (one byte every 2 s) is closed after $loris s"
stop_server

# --- 400 idle connections and a slow loris, 256 descriptors ----------------
# With 256 descriptors the server holds at most 192 connections (64 kept in
# reserve) and closes the oldest idle one, the loris included, to take a new
# one; the rest wait in the listen backlog or, beyond it, in the kernel's SYN
# retries (1, 3, 7, 15 s...), and a connection whose final ACK the full
# backlog dropped looks open to the client while the server never saw it.
# So how many of the 400 close within the flood depends on timing (all of
# them on a quiet machine, 267 under ASan on a busy one); what does not is
# this: closing more than the 192 it can hold at once means that the server
# timed idle connections out AND accepted the waiting ones in their place.
# A server without idle timeouts closes none.
serve_limited 256:256
python3 "$FLOOD" 127.0.0.1 "$PORT" 400 "$CA/ca.pem" 30 >"$TMP/flood.out" 2>&1 &
FLOOD_PID=$!
for _ in $(seq 100); do grep -q '^opened' "$TMP/flood.out" && break; sleep 0.1; done
sleep 1
set -- $(enroll_timed k1)
[ "$1" = 200 ] || fail "enrollment during the flood: ${1:-none} (${2:-?} ms) $(tail -3 "$TMP/server.err")"
ok "a real client enrolls in $2 ms while 400 idle connections and a slow loris are open"
wait "$FLOOD_PID"; FLOOD_PID=
# The loris may be closed during its handshake (evicted as the oldest idle
# connection): what must not happen is that it holds its place to the end.
loris=$(sed -n 's/^loris-closed \([0-9.]*\)$/\1/p' "$TMP/flood.out")
{ [ -n "$loris" ] && [ "${loris%.*}" -lt 20 ]; } || grep -q '^loris-no-connection' "$TMP/flood.out" \
  || fail "the slow loris held its connection: $(cat "$TMP/flood.out")"
idle=$(sed -n 's/^idle-closed \([0-9]*\) .*/\1/p' "$TMP/flood.out")
took=$(sed -n 's/^idle-closed [0-9]* \([0-9.]*\)$/\1/p' "$TMP/flood.out")
[ "${idle:-0}" -gt 192 ] || fail "idle connections closed by the server: ${idle:-0} of 400 in ${took:-?} s (it holds 192)"
ok "$idle idle connections were closed within $took s; the slow loris did not hold its place"
stop_server

# --- accept() out of descriptors: no spinning -------------------------------
serve_limited 256:256 --max-connections 1000
c0=$(cpu_ticks)
python3 "$FLOOD" 127.0.0.1 "$PORT" 400 "$CA/ca.pem" 12 >"$TMP/flood.out" 2>&1 &
FLOOD_PID=$!
sleep 4
c1=$(cpu_ticks)
set -- $(enroll_timed k2)
[ "$1" = 200 ] || fail "enrollment with accept() out of descriptors: ${1:-none} (${2:-?} ms)"
grep -q 'accept failed' "$TMP/server.err" || fail "the server never ran out of descriptors"
# A spinning loop burns a whole core; 4 s of waiting must cost well under 2 s.
used=$(( (c1 - c0) * 100 / $(getconf CLK_TCK) ))
[ "$used" -lt 200 ] || fail "the server used $used/100 s of CPU in 4 s out of descriptors (spinning)"
wait "$FLOOD_PID"; FLOOD_PID=
ok "out of descriptors the server pauses accepting ($used/100 s CPU in 4 s) and still serves ($2 ms)"
stop_server

# --- behind haproxy: the PROXY header names the client ---------------------
serve_limited 1024:1024 --proxy-protocol
python3 - "$PORT" "$CA/ca.pem" >"$TMP/proxy.out" 2>&1 <<'PY'
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
def get(header):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(header)
    try:
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(b"GET /crl HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        return t.recv(64).split(b"\r\n")[0].decode()
    except (OSError, ssl.SSLError) as e:
        return "refused"
print("v1", get(b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 8443\r\n"))
print("v2", get(b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xcb\x00\x71\x05\x7f\x00\x00\x01\x9c\x41\x20\xfb"))
print("none", get(b""))
PY
grep -qx 'v1 HTTP/1.1 200 OK' "$TMP/proxy.out" && grep -qx 'v2 HTTP/1.1 200 OK' "$TMP/proxy.out" \
  && grep -qx 'none refused' "$TMP/proxy.out" || fail "PROXY headers: $(cat "$TMP/proxy.out")"
grep -q '198.51.100.7:40000 GET /crl -> 200' "$TMP/server.err" \
  && grep -q '203.0.113.5:40001 GET /crl -> 200' "$TMP/server.err" \
  || fail "the log does not name the client: $(grep crl "$TMP/server.err")"
ok "--proxy-protocol: v1 and v2 headers name the client (log, throttles); no header, no service"
stop_server
done_testing
