#!/usr/bin/python3
"""A scriptable HTTPS server on 127.0.0.1 for the EST client tests.

It answers each request from a file DIR/<last path segment>.resp:

    STATUS
    Header: value
    ...
    <blank line>
    body bytes (the rest of the file)

A header "X-No-Length: 1" sends the body without Content-Length and closes
the connection; "X-Sleep: SECONDS" waits that long before answering;
"X-Auth: basic" answers a request without an Authorization header with
401 and "WWW-Authenticate: Basic" first (what a server that wants HTTP
authentication does), and "X-Secret-Word: one-time" adds certkeeper-ca's
"Certkeeper-Secret-Word: one-time" to that 401.  Every request is logged to DIR/log, one line:

    METHOD PATH auth=yes|no cn=CLIENT_CN|- tls=VERSION unique=B64|- body=B64

so a test can check what reached the server (for instance that no
Authorization header was sent to an unverified server).  The chosen port is
printed on stdout as "PORT n".  Stops on SIGTERM or when stdin closes.
"""
import base64
import http.server
import os
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import est_tls_server  # noqa: E402


def main():
    args = est_tls_server.arguments()
    ctx = est_tls_server.context(args, args.client_ca)

    log_lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def record(self, body):
            cn = "-"
            peer = self.connection.getpeercert()
            if peer:
                for rdn in peer.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            cn = v
            unique = self.connection.get_channel_binding("tls-unique")
            line = "%s %s auth=%s cn=%s tls=%s unique=%s body=%s\n" % (
                self.command, self.path,
                "yes" if self.headers.get("Authorization") else "no",
                cn, self.connection.version(),
                base64.b64encode(unique).decode() if unique else "-",
                base64.b64encode(body).decode() if body else "-")
            with log_lock:
                with open(os.path.join(args.dir, "log"), "a") as f:
                    f.write(line)

        def answer(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            self.record(body)
            op = self.path.rstrip("/").rsplit("/", 1)[-1]
            path = os.path.join(args.dir, op + ".resp")
            if not os.path.exists(path):
                data = b"404\nContent-Type: text/plain\n\nno such operation\n"
            else:
                with open(path, "rb") as f:
                    data = f.read()
            head, _, payload = data.partition(b"\n\n")
            lines = head.decode().split("\n")
            pseudo = {}
            for h in lines[1:]:
                name, _, value = h.partition(":")
                pseudo[name.strip().lower()] = value.strip()
            if pseudo.get("x-auth") == "basic" and not self.headers.get("Authorization"):
                text = b"authentication required\n"
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="est"')
                if pseudo.get("x-secret-word"):
                    self.send_header("Certkeeper-Secret-Word", pseudo["x-secret-word"])
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
                return
            status = int(lines[0])
            no_length = False
            self.send_response(status)
            for h in lines[1:]:
                if not h:
                    continue
                name, _, value = h.partition(":")
                if name.lower() == "x-no-length":
                    no_length = True
                    continue
                if name.lower() == "x-sleep":
                    time.sleep(float(value))
                    continue
                if name.lower() in ("x-auth", "x-secret-word"):
                    continue
                self.send_header(name.strip(), value.strip())
            if no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                self.close_connection = True

        do_GET = answer
        do_POST = answer

    est_tls_server.serve(ctx, Handler)


if __name__ == "__main__":
    main()
