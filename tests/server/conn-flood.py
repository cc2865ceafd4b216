#!/usr/bin/env python3
"""conn-flood.py HOST PORT COUNT CA.pem SECONDS — holds COUNT idle TCP
connections to certkeeper-ca and runs one slow-loris client (TLS, then an
HTTP request sent one byte every 2 s), for SECONDS.  Prints one line per
event for the test to read:
  opened N           connections established (some may wait in the backlog)
  loris-connected    the slow client's TLS handshake is done
  loris-closed T     the server closed it T seconds after its first byte
  idle-closed N T    N idle connections were closed by the server within T s
Never sends anything on the idle connections.
"""
import select
import socket
import ssl
import sys
import threading
import time

host, port, count, cafile, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4], float(sys.argv[5])
start = time.monotonic()


def loris():
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        raw = socket.create_connection((host, port), timeout=seconds)
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
    except (OSError, ssl.SSLError) as e:
        print("loris-no-connection %s" % e, flush=True)
        return
    tls.settimeout(None)
    t0 = time.monotonic()
    print("loris-connected", flush=True)
    try:
        tls.sendall(b"POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: localhost\r\n")
        while time.monotonic() - t0 < seconds:
            r, _, _ = select.select([tls], [], [], 2)
            if r and tls.recv(1024) == b"":
                break
            tls.sendall(b"X")
    except (OSError, ssl.SSLError):
        pass
    print("loris-closed %.1f" % (time.monotonic() - t0), flush=True)


thread = threading.Thread(target=loris)
thread.start()

socks = []
for _ in range(count):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        socks.append(s)
    except OSError:
        break
print("opened %d" % len(socks), flush=True)

closed = set()
while time.monotonic() - start < seconds and len(closed) < len(socks):
    live = [s for s in socks if s not in closed]
    r, _, _ = select.select(live, [], [], 0.5)
    for s in r:
        try:
            if s.recv(1) == b"":
                closed.add(s)
        except OSError:
            closed.add(s)
print("idle-closed %d %.1f" % (len(closed), time.monotonic() - start), flush=True)
thread.join()
for s in socks:
    s.close()
