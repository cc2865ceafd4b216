#!/usr/bin/env python3
"""marionette.py — drives a running headless Firefox ESR over Marionette
(its own remote protocol; no geckodriver) for the browser suite:

  marionette.py PROFILE-DIR URL PIN-FILE OUT-FILE [--keep]

Waits for PROFILE-DIR/MarionetteActivePort (Firefox started with
--marionette and the pref marionette.port = 0 writes it), opens a session
that accepts the test site's self-signed certificate, logs in to the
token "certkeeper" the way a person's PIN prompt would (in the chrome
context, PK11_CheckUserPassword on the token's slot through the NSS that
Firefox itself runs; the PIN is read from PIN-FILE and travels over the
loopback socket, never on a command line), navigates to URL and writes the
page's source to OUT-FILE.  Then asks Firefox to quit, unless --keep
(the next run then finds the same Firefox, still logged in).

Firefox does not sign with a token key before the token is logged in, even
for a key that needs no PIN (CKA_PRIVATE=FALSE): without this step a
headless Firefox waits for a PIN dialog nobody can answer.

Exit status: 0 when the page was loaded, 1 otherwise (the reason on stderr).
"""
import json
import os
import socket
import sys
import time

TIMEOUT = 60

LOGIN = """
const [pin] = arguments;
const { ctypes } = ChromeUtils.importESModule("resource://gre/modules/ctypes.sys.mjs");
const file = Services.dirsvc.get("GreD", Ci.nsIFile);
file.append(ctypes.libraryName("nss3"));
const nss = ctypes.open(file.path);
try {
  const find = nss.declare("PK11_FindSlotByName", ctypes.default_abi, ctypes.voidptr_t, ctypes.char.ptr);
  const check = nss.declare("PK11_CheckUserPassword", ctypes.default_abi, ctypes.int,
                            ctypes.voidptr_t, ctypes.char.ptr);
  const logged = nss.declare("PK11_IsLoggedIn", ctypes.default_abi, ctypes.int,
                             ctypes.voidptr_t, ctypes.voidptr_t);
  const free = nss.declare("PK11_FreeSlot", ctypes.default_abi, ctypes.void_t, ctypes.voidptr_t);
  const slot = find("certkeeper");
  if (slot.isNull())
    return "no token named certkeeper in this profile";
  const rv = check(slot, pin);
  const ok = logged(slot, null);
  free(slot);
  return rv === 0 && ok ? "ok" : "PK11_CheckUserPassword failed (" + rv + ")";
} finally {
  nss.close();
}
"""


class Marionette:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = b""
        self.msg_id = 0
        self._read()  # the greeting

    def _read(self):
        while b":" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("Firefox closed the Marionette connection")
            self.buf += chunk
        size, rest = self.buf.split(b":", 1)
        size = int(size)
        while len(rest) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("Firefox closed the Marionette connection")
            rest += chunk
        self.buf = rest[size:]
        return json.loads(rest[:size])

    def call(self, name, params):
        self.msg_id += 1
        data = json.dumps([0, self.msg_id, name, params]).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            reply = self._read()
            if reply[0] == 1 and reply[1] == self.msg_id:
                if reply[2]:
                    raise RuntimeError(f"{name}: {reply[2].get('error')}: {reply[2].get('message')}")
                return reply[3]


def main():
    profile, url, pin_file, out_file = sys.argv[1:5]
    keep = sys.argv[5:] == ["--keep"]
    with open(pin_file) as f:
        pin = f.readline().rstrip("\n")
    port_file = os.path.join(profile, "MarionetteActivePort")
    deadline = time.time() + TIMEOUT
    port = None
    while time.time() < deadline:
        try:
            with open(port_file) as f:
                port = int(f.read().strip())
            break
        except (OSError, ValueError):
            time.sleep(0.1)
    if port is None:
        print("Firefox did not open its Marionette port within 60 s", file=sys.stderr)
        return 1
    m = Marionette(port)
    m.call("WebDriver:NewSession", {"acceptInsecureCerts": True,
                                    "timeouts": {"pageLoad": 30000, "script": 30000}})
    m.call("Marionette:SetContext", {"value": "chrome"})
    login = m.call("WebDriver:ExecuteScript", {"script": LOGIN, "args": [pin]})["value"]
    if login != "ok":
        print(f"token login: {login}", file=sys.stderr)
        return 1
    m.call("Marionette:SetContext", {"value": "content"})
    try:
        m.call("WebDriver:Navigate", {"url": url})
    except RuntimeError as e:
        # A refused login is an error page, or a timeout: the page source
        # (below) says which; the test decides.
        print(f"navigate: {e}", file=sys.stderr)
    source = m.call("WebDriver:GetPageSource", {})["value"]
    with open(out_file, "w") as f:
        f.write(source)
    if keep:
        m.call("WebDriver:DeleteSession", {})
        return 0
    try:
        m.call("Marionette:Quit", {"flags": ["eForceQuit"]})
    except (RuntimeError, OSError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
