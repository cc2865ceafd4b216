#!/usr/bin/env bash
# Installs the Debian 12 packages certkeeper needs to build, run its demo and
# run its tests.  Uses sudo when not root.  Safe to run again.
#   tools/deps.sh              the packages below
#   tools/deps.sh PACKAGE...   those instead (tools/package.sh's)
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libjson-glib-dev libssl-dev libp11-dev libp11-kit-dev
  libcurl4-openssl-dev libsqlite3-dev libevent-dev libpwquality-dev
  # the man pages (docs/man, scdoc) and the checks of the desktop files
  scdoc desktop-file-utils appstream
  # run: PKCS#11 modules and the software token
  p11-kit p11-kit-modules softhsm2 opensc
  # tests: independent checkers and test servers
  openssl curl gnutls-bin libnss3-tools sqlite3 python3 binutils libengine-pkcs11-openssl
  systemd util-linux dbus libglib2.0-dev-bin
  # which files a command opens (test-list-cache: no record read from cache)
  strace
  # the protocols suite's SCEP peer (micromdm's scepserver); its CMP peer
  # is `openssl cmp`, already above
  scep
  # the interop suite: strongSwan's EST client (`pki --est`, its TLS and
  # ECDSA through the openssl plugin), and python3-cryptography for the
  # stand-in EST responder that issues real certificates
  strongswan-pki libstrongswan-standard-plugins python3-cryptography
  # certkeeper-ca on PostgreSQL (libpq) and its tests (a throwaway cluster)
  libpq-dev postgresql
  # certkeeper-gtk and its tests (an X server of their own, Xvfb)
  libgtk-4-dev libadwaita-1-dev xvfb
  # browsers: certkeeper-nss links NSS; the browser suite drives real ones
  libnss3-dev chromium firefox-esr
  # libpwquality's dictionary (only recommended): the tests run with it
  # and, in test builds, without it too (KPR_FAULT_CRACKLIB_DICT)
  cracklib-runtime
)
if [ $# -gt 0 ]; then
  packages=("$@")
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "deps: not root and no sudo: install these packages by hand: ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
