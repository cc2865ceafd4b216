#!/bin/sh
# test-broken-modules.sh — registered PKCS#11 modules that crash or hang
# must not stop certkeeper (issue 13, item 11).  Two modules built by the
# tests (tests/pkcs11/broken-module.c: C_Initialize calls abort(), or
# sleeps forever) are registered with p11-kit next to SoftHSM — in the
# person's ~/.config/pkcs11/modules, or, as root (p11-kit ignores per-user
# modules for root), in a private mount namespace whose
# /usr/share/p11-kit/modules is a copy of the system's plus the two (or,
# where no namespace can be made, the test runs as nobody).
#   * enroll, status, renew, export of a software-token identity work (only
#     the identity's module is loaded), also for a record written before
#     token-module= existed; enroll --token URI (every module, each tried in
#     a child first) works too;
#   * `certkeeper tokens` lists the software token, names both broken
#     modules ("crashed (Aborted)", "did not answer in 5 s") and exits 7
#     (KPR_ERROR_MODULE), in bounded time (timeout 60 never fires);
#   * while it probes, status works: the state lock is not held.
#
# Usage: test-broken-modules.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca ABORT-MODULE HANG-MODULE
REGISTRY=/usr/share/p11-kit/modules
# As root: a private mount namespace where it can be made (not in a chroot,
# whose / is no mount point), else the test runs as nobody (the build tree
# must be readable by all, as meson's is).  KPR_MODULES_AS=user picks the
# second by hand.
if [ "$(id -u)" = 0 ] && [ -z "${KPR_MODULES_NS:-}" ]; then
    if [ "${KPR_MODULES_AS:-ns}" = ns ] && unshare -m true 2>/dev/null; then
        KPR_MODULES_NS=1 exec unshare -m sh "$0" "$@"
    fi
    if command -v setpriv > /dev/null \
        && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$1" 2>/dev/null; then
        KPR_MODULES_NS= exec setpriv --reuid=65534 --regid=65534 --clear-groups sh "$0" "$@"
    fi
    echo "SKIP: as root, p11-kit ignores per-user modules, and neither a mount namespace (unshare -m) nor running as nobody (setpriv; $1 readable by all) is possible here" >&2
    exit 77
fi
. "$(dirname "$0")/lib.sh"

ABORT_MODULE=${3:?usage: $0 certkeeper certkeeper-ca abort-module hang-module}
HANG_MODULE=${4:?usage: $0 certkeeper certkeeper-ca abort-module hang-module}
for m in ABORT_MODULE HANG_MODULE; do
    eval "p=\$$m"
    case "$p" in /*) ;; *) p=$OLDPWD/$p ;; esac
    [ -f "$p" ] || { echo "FAIL: no test module at $p" >&2; exit 1; }
    eval "$m=\$p"
done

if [ -n "${KPR_MODULES_NS:-}" ]; then
    mkdir -p "$TMP/registry"
    cp "$REGISTRY"/*.module "$TMP/registry/" 2>/dev/null || true
    MODDIR=$TMP/registry
else
    MODDIR=$XDG_CONFIG_HOME/pkcs11/modules
    mkdir -p "$MODDIR"
fi
echo "  test modules registered in $MODDIR$([ -n "${KPR_MODULES_NS:-}" ] && echo ", bind-mounted on $REGISTRY in a private mount namespace"), uid $(id -u)"
echo "module: $ABORT_MODULE" > "$MODDIR/kpr-broken-abort.module"
echo "module: $HANG_MODULE" > "$MODDIR/kpr-broken-hang.module"
if [ -n "${KPR_MODULES_NS:-}" ]; then
    mount --bind "$MODDIR" "$REGISTRY" \
        || { echo "SKIP: cannot bind-mount over $REGISTRY in the namespace" >&2; exit 77; }
fi
# (Not checked with 'p11-kit list-modules': it would start them too.  The
# tokens checks below fail when p11-kit does not see them.)

# bounded RC-OK WHAT ARGS...: certkeeper ARGS under a 60 s watchdog (a
# hang is exit 124, a crash 134/139).
bounded() {
    want=$1; what=$2; shift 2
    N=$((N + 1))
    OUT=$TMP/out.$N
    ERR=$TMP/err.$N
    RC=0
    timeout 60 "$CERTKEEPER" "$@" < /dev/null > "$OUT" 2> "$ERR" || RC=$?
    echo "  \$ certkeeper $* -> exit $RC"
    [ "$RC" -ne 124 ] || { fail "$what: hung (killed after 60 s)"; return; }
    expect_rc "$want" "$what"
}

init_token
ca_init
start_server
enroll alice
expect_rc 0 "enroll alice on the software token with broken modules registered"
grep -q "^token-module=.*softhsm" "$STATE/identities/alice.ini" \
    && ok "the record names the token's module" \
    || fail "no token-module= in the record: $(cat "$STATE/identities/alice.ini")"

bounded 0 "status" status
bounded 0 "renew --force" renew alice --force --pin-file "$PIN_FILE"
PASS_FILE=$(secret_file pass "Kiosk-Backup-Passphrase-7319-orange")
bounded 0 "export" export alice --to "$TMP/alice.p12" --passphrase-file "$PASS_FILE" \
    --pin-file "$PIN_FILE"
[ -s "$TMP/alice.p12" ] && ok "the backup was written" || fail "no backup file"

# A record from before token-module=: found by the software token's label.
sed -i '/^token-module=/d' "$STATE/identities/alice.ini"
bounded 0 "renew --force of a record without token-module=" renew alice --force \
    --pin-file "$PIN_FILE"
bounded 0 "status of that record" status

# --- certkeeper tokens: each module probed in a child ---------------------------
N=$((N + 1))
TOUT=$TMP/out.$N; TERR=$TMP/err.$N
RC=0
timeout 60 "$CERTKEEPER" tokens < /dev/null > "$TOUT" 2> "$TERR" &
TPID=$!
BG_PIDS="$BG_PIDS $TPID"
sleep 1
# While it waits for the hanging module, the state is free.
run status
expect_rc 0 "status while 'tokens' probes the modules (no lock held)"
wait "$TPID" || RC=$?
BG_PIDS=
OUT=$TOUT; ERR=$TERR
[ "$RC" -ne 124 ] || fail "tokens hung (killed after 60 s)"
expect_rc 7 "tokens with a broken module (KPR_ERROR_MODULE)"
expect_stdout "certkeeper" "tokens still lists the software token"
expect_stderr "kpr-broken-abort ($ABORT_MODULE) crashed (Aborted)" "the crashing module"
expect_stderr "kpr-broken-hang ($HANG_MODULE) did not answer in 5 s" "the hanging module"

bounded 7 "tokens --json with a broken module" tokens --json
check_json "$OUT" 'any(t["label"] == "certkeeper" for t in j)' \
    "tokens --json: valid JSON with the software token"
expect_stderr "crashed" "tokens --json names the crash on stderr"

# A token named by URI is looked for in every module: each tried in a
# child first, the broken ones left out.
ENROLL_USER=bob
enroll other --token "pkcs11:token=certkeeper"
expect_rc 0 "enroll --token URI with broken modules registered"

stop_server
finish
