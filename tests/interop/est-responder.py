#!/usr/bin/python3
"""A small EST responder on 127.0.0.1 for the interop suite.

It stands in for the EST servers organisations run, for behaviour that no
server packaged in Debian produces (Debian has no EST server besides
certkeeper-ca, whose behaviour is ours): HTTP Digest authentication, CSR
attributes that are enforced ("400 CSR Attributes missing"), a required
tls-unique binding ("401 Proof of Possession Mismatch", RFC 7030 §3.5), and
HTTP authentication demanded on top of the client certificate on
simplereenroll.  It really issues certificates (python3-cryptography) from
the CA it is given, and checks what a real server checks.

Command line (that of tests/protocol/est-hostile-server.py, so the same
fixture starts it): --dir DIR --cert --key [--client-ca] [--tls].  DIR holds
ca.pem and ca.key (the issuing CA) and config.json, read at every request:

    {"auth": "none"|"basic"|"digest", "digest_algorithm": "MD5"|"SHA-256",
     "user": "alice", "password": "...",
     "reenroll_auth": true,           # simplereenroll wants cert AND auth
     "csrattrs": "BASE64 DER" | null, # what /csrattrs answers (204 if null)
     "enforce": {"curve": "secp384r1", "hash": "sha384",
                 "extensions": ["2.5.29.15"]} | null,
     "binding": true,                 # challengePassword == tls-unique
     "reenroll_refuse": true,         # simplereenroll: 403, the certificate refused
     "pending_once": true,            # the first authenticated simpleenroll: 202
     "lifetime": 3600}                # seconds the certificates it issues are valid

Every request is logged to DIR/log: "METHOD OP auth=SCHEME|- cn=CN|- tls=V
status=CODE reason", SCHEME being that of the Authorization header received
(whether or not it was right).  The port is printed as "PORT n".  Stops on SIGTERM or
when stdin closes.
"""
import base64
import datetime
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AttributeOID

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol"))
import est_tls_server  # noqa: E402

REALM = "est-responder"


def digest_hash(algorithm, text):
    h = hashlib.sha256 if algorithm.upper() == "SHA-256" else hashlib.md5
    return h(text.encode()).hexdigest()


def parse_auth_params(value):
    """key=value pairs of a Digest Authorization header."""
    out = {}
    rest = value
    while rest:
        rest = rest.lstrip(" ,")
        if not rest:
            break
        key, _, rest = rest.partition("=")
        if rest.startswith('"'):
            end = rest.index('"', 1)
            out[key.strip().lower()] = rest[1:end]
            rest = rest[end + 1:]
        else:
            val, _, rest = rest.partition(",")
            out[key.strip().lower()] = val.strip()
    return out


def main():
    args = est_tls_server.arguments()

    with open(os.path.join(args.dir, "ca.pem"), "rb") as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(args.dir, "ca.key"), "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)

    # Client certificates are optional: they authorize simplereenroll.
    ctx = est_tls_server.context(args, os.path.join(args.dir, "ca.pem"), required=False)

    nonces = set()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def config(self):
            with open(os.path.join(args.dir, "config.json")) as f:
                return json.load(f)

        def peer_cn(self):
            peer = self.connection.getpeercert()
            for rdn in (peer or {}).get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        return v
            return None

        def reply(self, status, reason, ctype="text/plain", body=None, extra=()):
            data = body if body is not None else (reason + "\n").encode()
            self.send_response(status)
            for name, value in extra:
                self.send_header(name, value)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            with lock:
                with open(os.path.join(args.dir, "log"), "a") as f:
                    f.write("%s %s auth=%s cn=%s tls=%s status=%d %s\n" % (
                        self.command, self.op, self.scheme or "-", self.peer_cn() or "-",
                        self.connection.version(), status, reason))

        def challenge(self, cfg):
            if cfg.get("auth") == "digest":
                nonce = secrets.token_hex(16)
                with lock:
                    nonces.add(nonce)
                return 'Digest realm="%s", qop="auth", nonce="%s", algorithm=%s' % (
                    REALM, nonce, cfg.get("digest_algorithm", "MD5"))
            return 'Basic realm="%s"' % REALM

        def authenticated(self, cfg):
            """The scheme the request authenticated with, or None."""
            header = self.headers.get("Authorization") or ""
            scheme, _, value = header.partition(" ")
            want = cfg.get("auth", "basic")
            if scheme.lower() == "basic" and want == "basic":
                user, _, password = base64.b64decode(value).decode().partition(":")
                if user == cfg["user"] and password == cfg["password"]:
                    return "basic"
            if scheme.lower() == "digest" and want == "digest":
                p = parse_auth_params(value)
                alg = cfg.get("digest_algorithm", "MD5")
                with lock:
                    fresh = p.get("nonce") in nonces
                ha1 = digest_hash(alg, "%s:%s:%s" % (cfg["user"], REALM, cfg["password"]))
                ha2 = digest_hash(alg, "%s:%s" % (self.command, p.get("uri", "")))
                expect = digest_hash(alg, ":".join(
                    [ha1, p.get("nonce", ""), p.get("nc", ""), p.get("cnonce", ""),
                     p.get("qop", ""), ha2]))
                if fresh and p.get("username") == cfg["user"] and p.get("response") == expect \
                        and p.get("uri") == self.path:
                    return "digest"
            return None

        def check_csr(self, cfg, csr):
            """None when the CSR satisfies the server, else (status, reason)."""
            if not csr.is_signature_valid:
                return 400, "Bad CSR signature"
            rules = cfg.get("enforce")
            if rules:
                key = csr.public_key()
                if rules.get("curve") and not (isinstance(key, ec.EllipticCurvePublicKey)
                                               and key.curve.name == rules["curve"]):
                    return 400, "CSR Attributes missing: key must be EC " + rules["curve"]
                if rules.get("hash") and csr.signature_hash_algorithm.name != rules["hash"]:
                    return 400, "CSR Attributes missing: signature hash must be " + rules["hash"]
                have = {e.oid.dotted_string for e in csr.extensions}
                for oid in rules.get("extensions", []):
                    if oid not in have:
                        return 400, "CSR Attributes missing: extension " + oid
            if cfg.get("binding"):
                try:
                    # cryptography ≥ 36 (Debian 12 has 38); older ones had
                    # it on the request itself.
                    cp = csr.attributes.get_attribute_for_oid(
                        AttributeOID.CHALLENGE_PASSWORD).value
                except AttributeError:
                    cp = csr.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD)
                except x509.AttributeNotFound:
                    cp = None
                unique = self.connection.get_channel_binding("tls-unique")
                if isinstance(cp, bytes):
                    cp = cp.decode()
                if not unique or cp != base64.b64encode(unique).decode():
                    return 401, "Proof of Possession Mismatch"
            return None

        def issue(self, csr, lifetime):
            now = datetime.datetime.utcnow()
            cert = (x509.CertificateBuilder()
                    .subject_name(csr.subject)
                    .issuer_name(ca_cert.subject)
                    .public_key(csr.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(seconds=60))
                    .not_valid_after(now + datetime.timedelta(seconds=lifetime))
                    .sign(ca_key, hashes.SHA256()))
            der = pkcs7.serialize_certificates([cert], serialization.Encoding.DER)
            return base64.b64encode(der) + b"\n"

        def do_GET(self):
            self.op = self.path.rstrip("/").rsplit("/", 1)[-1]
            self.scheme = None
            cfg = self.config()
            if self.op == "csrattrs":
                if cfg.get("csrattrs"):
                    self.reply(200, "csrattrs", "application/csrattrs",
                               cfg["csrattrs"].encode() + b"\n")
                else:
                    self.reply(204, "no attributes", body=b"")
            elif self.op == "cacerts":
                der = pkcs7.serialize_certificates([ca_cert], serialization.Encoding.DER)
                self.reply(200, "cacerts", "application/pkcs7-mime", base64.b64encode(der))
            else:
                self.reply(404, "no such operation")

        def do_POST(self):
            try:
                self.post()
            except Exception:
                # A bug of the stand-in, not a behaviour: into the log.
                import traceback
                with lock:
                    with open(os.path.join(args.dir, "log"), "a") as f:
                        f.write("RESPONDER ERROR " + traceback.format_exc().replace("\n", " | ")
                                + "\n")
                raise

        def post(self):
            self.op = self.path.rstrip("/").rsplit("/", 1)[-1]
            self.scheme = (self.headers.get("Authorization") or "").partition(" ")[0].lower() \
                or None
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            cfg = self.config()
            if self.op not in ("simpleenroll", "simplereenroll"):
                self.reply(404, "no such operation")
                return
            reenroll = self.op == "simplereenroll"
            if reenroll and (not self.peer_cn() or cfg.get("reenroll_refuse")):
                self.reply(403, "simplereenroll refused: the certificate is revoked")
                return
            need_auth = cfg.get("reenroll_auth") if reenroll else cfg.get("auth") != "none"
            if need_auth:
                if not self.authenticated(cfg):
                    self.reply(401, "Unauthorized" if self.headers.get("Authorization")
                               else "Authentication required",
                               extra=[("WWW-Authenticate", self.challenge(cfg))])
                    return
            try:
                csr = x509.load_der_x509_csr(base64.b64decode(body))
            except ValueError:
                self.reply(400, "Not a PKCS#10 request")
                return
            refusal = self.check_csr(cfg, csr)
            if refusal:
                self.reply(refusal[0], refusal[1])
                return
            marker = os.path.join(args.dir, "pending-seen")
            if cfg.get("pending_once") and not reenroll and not os.path.exists(marker):
                open(marker, "w").close()
                self.reply(202, "pending", extra=[("Retry-After", "1")])
                return
            self.reply(200, "issued", "application/pkcs7-mime; smime-type=certs-only",
                       self.issue(csr, cfg.get("lifetime", 3600)))

    est_tls_server.serve(ctx, Handler)


if __name__ == "__main__":
    main()
