#!/usr/bin/env bash
# test-install.sh — the packages of tools/package.sh, installed with apt,
# work for a plain user on a machine without cracklib's dictionary:
#   * apt-get install ./build-deb/*.deb (as root), then cracklib-runtime
#     purged (only recommended);
#   * the man pages, completion, launcher, icons, metainfo, units and
#     system users are there, and the launcher, metainfo and units valid;
#   * as an ordinary user, with the installed programs only (PATH=/usr/bin:
#     /bin, nothing from the build tree): certkeeper-ca on 127.0.0.1, the
#     software token, an enrollment, a backup (checked with openssl), a
#     weak passphrase refused without any library error.
# It changes the system (packages, a user "ckuser"): .ci/run runs it on a
# fresh Debian 12 root (../shared/tools/fresh-debian) after tools/package.sh.
#   tests/packaging/test-install.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

[ "$(id -u)" -eq 0 ] || { echo "test-install: run as root (it installs packages), on a throwaway root" >&2; exit 2; }
debs=(build-deb/*.deb)
[ -e "${debs[0]}" ] || { echo "test-install: no build-deb/*.deb: run tools/package.sh first" >&2; exit 2; }

failures=0 checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "not ok $checks - $*"; }
check() { # WHAT COMMAND...
  local what=$1; shift
  if "$@" >/tmp/test-install.out 2>&1; then ok "$what"; else fail "$what: $(cat /tmp/test-install.out)"; fi
}

echo "# apt-get install ${debs[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./build-deb/"*.deb >/tmp/test-install.apt 2>&1 \
  || { cat /tmp/test-install.apt; echo "test-install: apt-get install failed" >&2; exit 1; }
ok "apt-get install ./build-deb/*.deb"
for p in certkeeper certkeeper-gtk certkeeper-ca certkeeper-kiosk; do
  check "package $p is installed" sh -c "dpkg-query -W -f='\${Status}' $p | grep -q 'install ok installed'"
done
check "cracklib-runtime came as a recommendation" dpkg-query -W cracklib-runtime
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq cracklib-runtime >/dev/null 2>&1 || true
if [ -e /var/cache/cracklib/cracklib_dict.pwd ]; then
  fail "cracklib's dictionary could not be removed"
else
  ok "cracklib's dictionary is gone (cracklib-runtime purged)"
fi

# --- what the packages install -------------------------------------------
for f in /usr/bin/certkeeper /usr/bin/certkeeper-agent /usr/bin/certkeeper-gtk /usr/bin/certkeeper-ca \
    /usr/share/man/man1/certkeeper.1.gz /usr/share/man/man8/certkeeper-agent.8.gz \
    /usr/share/man/man1/certkeeper-gtk.1.gz /usr/share/man/man8/certkeeper-ca.8.gz \
    /usr/share/bash-completion/completions/certkeeper \
    /usr/share/applications/org.certkeeper.Certkeeper.desktop \
    /usr/share/metainfo/org.certkeeper.Certkeeper.metainfo.xml \
    /usr/share/icons/hicolor/scalable/apps/org.certkeeper.Certkeeper.svg \
    /usr/share/icons/hicolor/symbolic/apps/org.certkeeper.Certkeeper-symbolic.svg \
    /usr/share/glib-2.0/schemas/org.certkeeper.Certkeeper.gschema.xml \
    /usr/share/dbus-1/services/org.certkeeper.Agent1.service \
    /usr/share/dbus-1/services/org.certkeeper.Certkeeper.service \
    /etc/xdg/autostart/certkeeper-agent.desktop \
    /lib/systemd/system/certkeeper-agent.service /lib/systemd/system/certkeeper-ca.service \
    /usr/lib/systemd/user/certkeeper-agent.service /etc/certkeeper-ca/certkeeper-ca.conf \
    /usr/share/doc/certkeeper/copyright; do
  [ -e "$f" ] && ok "installed: $f" || fail "missing: $f"
done
check "the GSettings schema is compiled" grep -q org.certkeeper.Certkeeper /usr/share/glib-2.0/schemas/gschemas.compiled
check "the man page of certkeeper-ca names --proxy-protocol" sh -c 'zcat /usr/share/man/man8/certkeeper-ca.8.gz | grep -q -- "proxy-protocol"'
check "desktop-file-validate: the launcher" desktop-file-validate /usr/share/applications/org.certkeeper.Certkeeper.desktop
check "desktop-file-validate: the autostart entry" desktop-file-validate /etc/xdg/autostart/certkeeper-agent.desktop
check "appstreamcli validate: the metainfo" appstreamcli validate --no-net /usr/share/metainfo/org.certkeeper.Certkeeper.metainfo.xml
check "systemd-analyze verify: certkeeper-ca.service" systemd-analyze verify --man=no /lib/systemd/system/certkeeper-ca.service
check "systemd-analyze verify: the kiosk unit" systemd-analyze verify --man=no /lib/systemd/system/certkeeper-agent.service
check "system user certkeeper-ca (sysusers)" getent passwd certkeeper-ca
check "system user certkeeper (sysusers)" getent passwd certkeeper
check "bash completion loads" bash -c '. /usr/share/bash-completion/completions/certkeeper && complete -p certkeeper'
check "certkeeper-agent --version" /usr/bin/certkeeper-agent --version
check "certkeeper-gtk --help (no display needed)" /usr/bin/certkeeper-gtk --help

# --- a plain user, the installed programs ---------------------------------
id ckuser >/dev/null 2>&1 || useradd -m -s /bin/bash ckuser
script=$(mktemp /tmp/test-install-user.XXXXXX)
cat >"$script" <<'USER'
set -euo pipefail
cd "$HOME"
umask 077
command -v certkeeper certkeeper-ca
printf 'user-pin-1234\n' >pin
printf 'so-pin-5678\n' >sopin
printf 'Pass-Strong-Horse-93!\n' >strong
printf 'password\n' >weak
certkeeper-ca init "$HOME/ca" --lifetime 1d
certkeeper-ca user add "$HOME/ca" alice --phone +15550100
: >outbox
certkeeper-ca serve "$HOME/ca" --listen 127.0.0.1:0 --otp-outbox "$HOME/outbox" >ca.log 2>&1 &
ca_pid=$!
trap 'kill $ca_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening ca.log && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' ca.log | head -n 1)
[ -n "$port" ] || { cat ca.log; exit 1; }
echo "STEP certkeeper-ca listens on 127.0.0.1:$port"
certkeeper token init-software --pin-file pin --so-pin-file sopin
echo "STEP software token"
{
  for _ in $(seq 100); do [ -s outbox ] && break; sleep 0.1; done
  tail -n 1 outbox | awk '{print $NF}'
} | certkeeper enroll work --server "https://127.0.0.1:$port" --user alice \
      --ca-file "$HOME/ca/ca.pem" --pin-file pin --secret-file - --no-browser
echo "STEP enrolled"
certkeeper list | grep -q '^work ' && echo "STEP listed"
rc=0
certkeeper export work --to "$HOME/weak.p12" --passphrase-file weak --pin-file pin 2>weak.err || rc=$?
cat weak.err
[ "$rc" -eq 25 ] && [ ! -e "$HOME/weak.p12" ] && echo "STEP weak passphrase refused (exit 25)"
grep -qiE 'cracklib|no such file|error loading' weak.err || echo "STEP no library error"
certkeeper export work --to "$HOME/work.p12" --passphrase-file strong --pin-file pin
openssl pkcs12 -in "$HOME/work.p12" -passin file:strong -nokeys 2>/dev/null | grep -q 'BEGIN CERTIFICATE' \
  && echo "STEP backup exported and readable by openssl"
USER
chmod 644 "$script"
out=$(runuser -u ckuser -- env -i HOME=/home/ckuser USER=ckuser PATH=/usr/bin:/bin LANG=C.UTF-8 \
  bash "$script" 2>&1) || true
echo "$out" | sed 's/^/# /'
for step in "certkeeper-ca listens" "software token" "enrolled" "listed" \
    "weak passphrase refused (exit 25)" "no library error" "backup exported and readable by openssl"; do
  if echo "$out" | grep -q "^STEP $step"; then ok "as ckuser: $step"; else fail "as ckuser: $step"; fi
done
echo "$out" | grep -q '^/usr/bin/certkeeper$' && ok "as ckuser: the installed certkeeper ran" \
  || fail "as ckuser: /usr/bin/certkeeper was not the one run"
rm -f "$script"

echo "1..$checks"
echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
