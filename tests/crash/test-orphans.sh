#!/usr/bin/env bash
# Objects that name nobody (issue 13, item 9).  certkeeper gives every
# object the identity's CKA_ID and CKA_LABEL in the very call that makes it
# (C_GenerateKeyPair, C_CreateObject), but SoftHSM writes an object's class
# before the caller's template: killed inside that call, a process leaves a
# key or certificate with no CKA_ID and no CKA_LABEL (4 of 90 random
# kill -9 runs did).  The kill cannot be aimed inside SoftHSM, so
# pkcs11-tool (a real, independent writer) leaves the same objects: a key
# pair and a certificate with neither attribute.  The re-run of the
# interrupted command must remove them, and must leave alone an object
# that someone named (a label or an id).
#   test-orphans.sh CERTKEEPER CERTKEEPER-CA
. "$(dirname "$0")/lib-crash.sh"

start_ca ca

# What a crash inside the module leaves: a private key, a public key and a
# certificate with no CKA_ID and no CKA_LABEL.
leave_orphans() {
    p11 --keypairgen --key-type EC:prime256v1 >/dev/null || fail "pkcs11-tool keypairgen"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=orphan \
        -keyout "$T/orphan.key" -outform DER -out "$T/orphan.der" 2>/dev/null
    p11 --write-object "$T/orphan.der" --type cert >/dev/null || fail "pkcs11-tool write cert"
    [ "$(unnamed)" -eq 3 ] || fail "setup: expected 3 unnamed objects, found $(unnamed)"
}

no_orphans() {
    local left
    left=$(unnamed)
    [ "$left" -eq 0 ] && ok "$1: no object without id and label left" ||
        fail "$1: $left objects with no id and no label left on the token"
}

# --- enroll killed while making its key --------------------------------------
home enroll
enroll KPR_FAULT_AT=after:NEW
killed "enroll killed after NEW" $?
leave_orphans
# Someone else's key: a label, no id.  It is not ours to remove.
p11 --keypairgen --key-type EC:prime256v1 --label mine >/dev/null || fail "pkcs11-tool keypairgen mine"
enroll || fail "enroll re-run: $(cat "$T/err")"
no_orphans "enroll re-run"
p11 -O | grep -q 'label: *mine' || fail "enroll re-run removed a key labelled by someone else"
p11 --delete-object --type privkey --label mine >/dev/null
p11 --delete-object --type pubkey --label mine >/dev/null
converged "enroll re-run after orphans"

# --- renew killed while making the new key -------------------------------------
ck KPR_FAULT_AT=after:next-key-id "$CK" renew alice --force --pin-file "$T/pin" >/dev/null
killed "renew killed after next-key-id" $?
leave_orphans
ck "$CK" renew alice --force --pin-file "$T/pin" --secret-file - >/dev/null ||
    fail "renew re-run: $(cat "$T/err")"
no_orphans "renew re-run"
converged "renew re-run after orphans"

# --- import killed while writing its objects -----------------------------------
"$CK" export alice --to "$T/alice.p12" --passphrase-file "$T/pass" --pin-file "$T/pin" >/dev/null 2>"$T/err" ||
    fail "export: $(cat "$T/err")"
home import
ck KPR_FAULT_AT=after:NEW "$CK" import "$T/alice.p12" alice --passphrase-file "$T/pass" \
    --pin-file "$T/pin" >/dev/null
killed "import killed after NEW" $?
leave_orphans
ck "$CK" import "$T/alice.p12" alice --passphrase-file "$T/pass" --pin-file "$T/pin" >/dev/null ||
    fail "import re-run: $(cat "$T/err")"
no_orphans "import re-run"
converged "import re-run after orphans"

finish "every object a crash left unnamed was removed by the re-run"
