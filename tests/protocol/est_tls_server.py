"""What the scripted EST servers of the tests share (est-hostile-server.py
here, tests/interop/est-responder.py): the command line, the TLS context,
and a threaded HTTPS server on 127.0.0.1 with a port of the kernel's
choosing, printed as "PORT n", that stops on SIGTERM or when stdin closes
(the test holds our stdin; if it dies, we go too)."""
import argparse
import http.server
import signal
import socketserver
import ssl
import sys
import threading


def arguments():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", help="require a client certificate from this CA")
    ap.add_argument("--tls", default="any", choices=["any", "1.2", "1.3"])
    return ap.parse_args()


def context(args, client_ca=None, required=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if args.tls == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif args.tls == "1.3":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL
        ctx.load_verify_locations(client_ca)
    return ctx


def serve(ctx, handler):
    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        def get_request(self):
            sock, addr = self.socket.accept()
            return ctx.wrap_socket(sock, server_side=True), addr

        def handle_error(self, request, client_address):
            pass  # handshake refusals are the point of several tests

    srv = Server(("127.0.0.1", 0), handler)
    print("PORT %d" % srv.server_address[1], flush=True)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)

    def watch_stdin():
        sys.stdin.read()
        stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    srv.serve_forever()
