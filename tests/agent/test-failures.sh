#!/bin/sh
# test-failures.sh — the issue-4 flows off the happy path, each case with a
# fresh person (HOME):
#   1. enroll --server-keygen: the key is imported locked (sensitive, not
#      extractable, not made on the token); export is refused (11)
#   2. install FILE.cer after a manual approval, the certificate taken from
#      the server's database as if mailed, as PEM and as DER
#   3. a full disk under the state directory (a small tmpfs in a private
#      mount namespace; RLIMIT_FSIZE when mounting is not permitted): exit
#      4, the previous record intact, and a re-run converges
#   4. the token gone (its SoftHSM directory moved away): renew, export and
#      delete say so (6) and leave the record alone; back again, renew works
#   5. revoke with the token (CRL, objects gone, REVOKED, status) and
#      without it (a secret word instead)
#   6. a request never approved: enroll and every poll say pending (22),
#      the identity stays PENDING and the server keeps one request
#
# Usage: test-failures.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed (the server's database is read with it)"

STRONG=$(secret_file strong "Pass-Strong-Horse-93!")
MEDIA=$TMP/media
mkdir -p "$MEDIA"

# new_person TAG: a fresh HOME (and XDG dirs, software token) for one case.
new_person() {
    HOME=$TMP/home-$1
    XDG_DATA_HOME=$HOME/.local/share
    XDG_CONFIG_HOME=$HOME/.config
    XDG_STATE_HOME=$HOME/.local/state
    export HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_STATE_HOME
    mkdir -p "$HOME"
    CONF=$HOME/.config/softhsm2/softhsm2.conf
    STATE=$XDG_STATE_HOME/certkeeper
    TOKENDIR=$XDG_DATA_HOME/softhsm/tokens
    init_token
    echo "--- person $1 (HOME=$HOME)"
}

# token_away / token_back: the software token disappears (its directory is
# moved aside; SoftHSM then shows only an empty slot) and comes back.
token_away() {
    mv "$TOKENDIR" "$TOKENDIR.away"
    mkdir -m 700 "$TOKENDIR"
}
token_back() {
    rm -rf "$TOKENDIR"
    mv "$TOKENDIR.away" "$TOKENDIR"
}

# same_record NAME COPY WHAT: the record is byte for byte the saved copy.
same_record() {
    if cmp -s "$STATE/identities/$1.ini" "$2"; then
        ok "$3: the record of $1 is unchanged"
    else
        fail "$3: the record of $1 changed: $(diff "$2" "$STATE/identities/$1.ini" 2>&1 | head -10)"
    fi
}

# cert_matches_token NAME WHAT: show --pem's public key is the token's key.
cert_matches_token() {
    run show "$1" --pem
    cpub=$(openssl x509 -in "$OUT" -noout -pubkey 2>/dev/null || true)
    tpub=$(token_pubkey "$(key_id_of "$1")")
    if [ -n "$cpub" ] && [ "$cpub" = "$tpub" ]; then
        ok "$2: the certificate's public key is the token key's"
    else
        fail "$2: certificate public key and token key differ (cert: ${cpub:-none}; token: ${tpub:-none})"
    fi
}

# privkey_access LABEL: pkcs11-tool's "Access:" line of the private key
# labelled LABEL.
privkey_access() {
    token_objects | python3 -c '
import sys
label = sys.argv[1]; cur = None; lab = None
for line in sys.stdin:
    if not line.startswith(" ") and "Object;" in line:
        cur = line; lab = None
    elif cur and line.strip().startswith("label:"):
        lab = line.split(":", 1)[1].strip()
    elif cur and cur.startswith("Private Key") and lab == label and line.strip().startswith("Access:"):
        print(line.strip()); break' "$1"
}

# db SQL: a query on the running CA's database.
db() {
    sqlite3 -batch -noheader "$CA/ca.db" "$1"
}

# ===========================================================================
# Server A: automatic approval.
ca_init --lifetime 1h
for u in carol:+15550102 dave:+15550103 erin:+15550104; do
    "$CA_BIN" user add "$CA" "${u%%:*}" --phone "${u#*:}" > /dev/null
done
start_server

# --- 1. --server-keygen ------------------------------------------------------
new_person skg
ENROLL_USER=alice
enroll skg --server-keygen
expect_rc 0 "enroll skg --server-keygen"
SKG_KID=$(key_id_of skg)
flags=$(privkey_flags "$SKG_KID")
if echo "$flags" | grep -q 'CKA_SENSITIVE' && ! echo "$flags" | grep -q 'CKA_EXTRACTABLE'; then
    ok "server-keygen: p11tool shows the key CKA_SENSITIVE and not CKA_EXTRACTABLE"
else
    fail "server-keygen: expected CKA_SENSITIVE without CKA_EXTRACTABLE; p11tool: $(echo "$flags" | grep -i flags)"
fi
access=$(privkey_access skg)
case "$access" in
    *sensitive*local*|*local*sensitive*|"") fail "server-keygen: pkcs11-tool Access line: '${access:-no private key labelled skg}' (expected sensitive, not local)" ;;
    *sensitive*) ok "server-keygen: pkcs11-tool: '$access' (sensitive, not made on the token)" ;;
    *) fail "server-keygen: pkcs11-tool Access line without 'sensitive': '$access'" ;;
esac
n=$(count_objects "Private Key" skg)
[ "$n" = 1 ] && ok "server-keygen: one private key labelled skg" \
    || fail "server-keygen: expected one private key labelled skg, found $n"
show_json skg
check_json "$JSON" 'j["state"] == "ACTIVE" and j["exportable"] is False and j["protection"] != "exportable" and j["backup_missing"] is False and j["imported"] is False' \
    "server-keygen: show --json: ACTIVE, not exportable, no backup missing, not restored from a backup"
cert_matches_token skg "server-keygen"
# Issue 13 item 5: where the key was made, said truly.
check_json "$JSON" 'j["key_origin"] == "server"' "server-keygen: show --json: key_origin server"
run show skg
expect_stdout "generated by the server" "server-keygen: show says the server generated the key"
run export skg --to "$MEDIA/skg.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 11 "server-keygen: export refused (KPR_ERROR_NOT_EXPORTABLE)"
[ ! -e "$MEDIA/skg.p12" ] && ok "server-keygen: no backup file was written" \
    || fail "server-keygen: a refused export left $MEDIA/skg.p12"

# --- 3. a full disk under the state directory --------------------------------
new_person full
ENROLL_USER=bob
enroll full
expect_rc 0 "enroll full"
cp "$STATE/identities/full.ini" "$TMP/full.ini.before"
RES=$TMP/full-results
mkdir -p "$RES"
# The inner script runs in a private mount namespace: the state directory
# becomes a 64 KiB tmpfs holding a copy of the state, filled up to ENOSPC.
# Results go to $RES (outside the tmpfs, which vanishes with the namespace).
cat > "$TMP/full.sh" <<'EOF'
set -u
r() { # TAG ARGS...
    tag=$1; shift
    rc=0
    "$CERTKEEPER" "$@" < /dev/null > "$RES/$tag.out" 2> "$RES/$tag.err" || rc=$?
    echo "$rc" > "$RES/$tag.rc"
}
cp -a "$STATE" "$TMP/full-state.copy" || exit 90
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$STATE" || exit 91
cp -a "$TMP/full-state.copy/." "$STATE/" || exit 92
fill() {
    dd if=/dev/zero of="$STATE/filler" bs=1k 2>/dev/null
    dd if=/dev/zero of="$STATE/filler2" bs=16 2>/dev/null
}
unfill() { rm -f "$STATE/filler" "$STATE/filler2"; }
fill
df -k "$STATE" | tail -n 1 > "$RES/df"
r export export full --to "$MEDIA/full.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
cp "$STATE/identities/full.ini" "$RES/after-export.ini"
r show1 show full --json
unfill
r export2 export full --to "$MEDIA/full2.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
r show2b show full --json
cp "$STATE/identities/full.ini" "$RES/before-lock.ini"
fill
r lock lock full --yes --pin-file "$PIN_FILE"
cp "$STATE/identities/full.ini" "$RES/after-lock.ini"
ls -A "$STATE/identities" > "$RES/ls"
r show2 show full --json
unfill
r lock2 lock full --yes --pin-file "$PIN_FILE"
r show3 show full --json
exit 0
EOF
how=
if [ "${KPR_TEST_DISK_FULL:-}" = rlimit ]; then
    echo "  (KPR_TEST_DISK_FULL=rlimit: using RLIMIT_FSIZE)"
elif command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
    frc=0
    CERTKEEPER=$CERTKEEPER RES=$RES STATE=$STATE TMP=$TMP MEDIA=$MEDIA STRONG=$STRONG PIN_FILE=$PIN_FILE \
        unshare -m --propagation private sh "$TMP/full.sh" || frc=$?
    if [ "$frc" -eq 0 ]; then
        how=tmpfs
    else
        echo "  (mounting a tmpfs in a private mount namespace failed: step $frc; using RLIMIT_FSIZE)"
    fi
else
    echo "  (unshare -m is not permitted here; using RLIMIT_FSIZE)"
fi
if [ -z "$how" ]; then
    # Next best real fault: RLIMIT_FSIZE just below the size of the locked
    # record (2 bytes shorter: "standard" for "exportable"), so writing it
    # fails with EFBIG (SIGXFSZ ignored, as the shell passes that on).  It
    # limits SoftHSM's own files too: the token's object files must stay
    # below it (a lower limit truncates the key object and SoftHSM loses
    # the key, which is not what this case is about: then it skips).
    how=rlimit
    command -v prlimit >/dev/null 2>&1 || skip "neither a tmpfs mount nor prlimit is available for the disk-full case"
    rm -rf "$RES"; mkdir -p "$RES"
    lim() { # TAG ARGS...
        tag=$1; shift
        rc=0
        (trap '' XFSZ; exec prlimit --fsize="$limit" "$CERTKEEPER" "$@") < /dev/null > "$RES/$tag.out" 2> "$RES/$tag.err" || rc=$?
        echo "$rc" > "$RES/$tag.rc"
    }
    cp "$STATE/identities/full.ini" "$RES/before-lock.ini"
    limit=$(($(wc -c < "$STATE/identities/full.ini") - 3))
    echo "df: RLIMIT_FSIZE $limit bytes" > "$RES/df"
    lim lock lock full --yes --pin-file "$PIN_FILE"
    [ "$(count_objects "Private Key" full)" = 1 ] \
        || skip "disk-full fallback: RLIMIT_FSIZE $limit also cut SoftHSM's key object file and the token lost the key; this case needs a tmpfs (mounting failed here)"
    cp "$STATE/identities/full.ini" "$RES/after-lock.ini"
    ls -A "$STATE/identities" > "$RES/ls"
    "$CERTKEEPER" show full --json < /dev/null > "$RES/show2.out" 2>/dev/null || true
    rc=0
    "$CERTKEEPER" lock full --yes --pin-file "$PIN_FILE" < /dev/null > "$RES/lock2.out" 2> "$RES/lock2.err" || rc=$?
    echo "$rc" > "$RES/lock2.rc"
    "$CERTKEEPER" show full --json < /dev/null > "$RES/show3.out" 2>/dev/null || true
fi
echo "  disk-full fault used: $how $(cat "$RES/df" 2>/dev/null)"
# res_rc TAG CODE WHAT
res_rc() {
    got=$(cat "$RES/$1.rc" 2>/dev/null || echo none)
    [ "$got" = "$2" ] && ok "$3: exit $2" \
        || fail "$3: expected exit $2, got $got; stderr: $(cat "$RES/$1.err" 2>/dev/null)"
}
if [ "$how" = tmpfs ]; then
    res_rc export 4 "disk full: export (records the backup) fails with KPR_ERROR_IO"
    if grep -qi 'full\|space' "$RES/export.err" && grep -qi 'intact\|nothing was lost' "$RES/export.err"; then
        ok "disk full: export's message says the disk is full and the record is intact"
    else
        fail "disk full: export's message is unclear: $(cat "$RES/export.err")"
    fi
    cmp -s "$RES/after-export.ini" "$TMP/full.ini.before" && ok "disk full: the record is unchanged after the failed export" \
        || fail "disk full: the record changed after the failed export: $(diff "$TMP/full.ini.before" "$RES/after-export.ini" | head)"
    check_json "$RES/show1.out" 'j["state"] == "ACTIVE" and j["backup"]["when"] is None' \
        "disk full: after the failed export, show --json parses: ACTIVE, no backup recorded"
fi
if [ "$how" = tmpfs ]; then
    res_rc export2 0 "disk full, space freed: export runs again"
    check_json "$RES/show2b.out" 'j["backup"]["when"] is not None and j["exportable"] is True' \
        "disk full, space freed: the backup is recorded"
fi
res_rc lock 4 "disk full ($how): lock fails with KPR_ERROR_IO"
grep -qi 'intact\|nothing was lost' "$RES/lock.err" && ok "disk full ($how): lock's message says the previous record is intact" \
    || fail "disk full ($how): lock's message: $(cat "$RES/lock.err")"
cmp -s "$RES/after-lock.ini" "$RES/before-lock.ini" && ok "disk full ($how): the record is unchanged after the failed lock" \
    || fail "disk full ($how): the record changed after the failed lock: $(diff "$RES/before-lock.ini" "$RES/after-lock.ini" | head)"
left=$(grep -v '^full\.ini$\|^full\.log$\|^full\.events$' "$RES/ls" | tr '\n' ' ')
[ -z "$left" ] && ok "disk full ($how): no temporary files left in identities/" \
    || fail "disk full ($how): files left in identities/: $left"
check_json "$RES/show2.out" 'j["state"] == "ACTIVE"' \
    "disk full ($how): show --json still parses: ACTIVE, as before the failure"
# What the failed lock left on the token (informative: the record says
# exportable; the token may already have locked the key).
echo "  after the failed lock the token key's flags: $(privkey_flags "$(key_id_of full)" | grep -i flags | sed 's/^ *//')"
res_rc lock2 0 "disk full ($how), space freed: lock runs again and converges with the token"
check_json "$RES/show3.out" 'j["state"] == "ACTIVE" and j["exportable"] is False' \
    "disk full ($how), space freed: the key is recorded as locked"

# --- 4. the token gone --------------------------------------------------------
new_person gone
ENROLL_USER=carol
enroll gone
expect_rc 0 "enroll gone"
show_json gone
GONE_SERIAL=$(json "$JSON" 'j["serial"]')
cp "$STATE/identities/gone.ini" "$TMP/gone.ini.before"
token_away
run_word renew gone --force --pin-file "$PIN_FILE" --secret-file -
expect_rc 6 "token gone: renew --force (KPR_ERROR_NO_TOKEN)"
expect_stderr "gone" "token gone: renew names the identity"
[ "$ASKED" = 0 ] && ok "token gone: renew did not spend a secret word" \
    || fail "token gone: renew requested a secret word before finding the token missing"
same_record gone "$TMP/gone.ini.before" "token gone: renew"
run export gone --to "$MEDIA/gone.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 6 "token gone: export (KPR_ERROR_NO_TOKEN)"
expect_stderr "gone" "token gone: export names the identity"
[ ! -e "$MEDIA/gone.p12" ] && ok "token gone: export wrote no file" || fail "token gone: export left $MEDIA/gone.p12"
same_record gone "$TMP/gone.ini.before" "token gone: export"
run delete gone --yes --pin-file "$PIN_FILE"
expect_rc 6 "token gone: delete --yes (KPR_ERROR_NO_TOKEN)"
expect_stderr "gone" "token gone: delete names the identity"
same_record gone "$TMP/gone.ini.before" "token gone: delete"
[ -z "$(ls "$STATE/archive" 2>/dev/null)" ] && ok "token gone: nothing was archived" \
    || fail "token gone: delete archived $(ls "$STATE/archive")"
token_back
run_word renew gone --force --pin-file "$PIN_FILE" --secret-file -
expect_rc 0 "token back: renew --force"
show_json gone
check_json "$JSON" "j['state'] == 'ACTIVE' and j['serial'] != '$GONE_SERIAL'" "token back: a new certificate"
cert_matches_token gone "token back, renewed"

# --- 5. revoke ---------------------------------------------------------------
new_person rev
ENROLL_USER=dave
enroll rev
expect_rc 0 "enroll rev"
ENROLL_USER=erin
enroll lost
expect_rc 0 "enroll lost"
show_json rev
REV_SERIAL=$(json "$JSON" 'j["serial"]')
REV_KID=$(key_id_of rev)
run revoke rev --pin-file "$PIN_FILE"
expect_rc 0 "revoke rev (mutual TLS with the token key)"
if crl_text > "$TMP/crl-rev.txt" 2>/dev/null && grep -qi "Serial Number: *$REV_SERIAL\$" "$TMP/crl-rev.txt"; then
    ok "revoke: serial $REV_SERIAL is on the CRL"
else
    fail "revoke: serial $REV_SERIAL is not on the CRL: $(grep -i serial "$TMP/crl-rev.txt" 2>&1)"
fi
if token_objects | grep -qi "ID: *$REV_KID\$"; then
    fail "revoke: objects with rev's key id are still on the token"
else
    ok "revoke: rev's key and certificate are gone from the token"
fi
show_json rev
check_json "$JSON" 'j["state"] == "REVOKED" and j["status"] == "revoked"' "revoke: show --json REVOKED / revoked"
# docs/errors.md: status exits 26 for every identity that is not simply
# active; a revoked one waits for the person (issue 13, items 3 and 4).
run status
expect_rc 26 "status with a revoked and an active identity (KPR_ERROR_ATTENTION)"
expect_stdout "revoked" "status lists rev as revoked"
run revoke rev --pin-file "$PIN_FILE"
[ "$RC" -ne 0 ] && [ "$RC" -ne 1 ] && ok "revoke of a revoked identity refused (exit $RC)" \
    || fail "revoke of a revoked identity: exit $RC: $(cat "$ERR")"

show_json lost
LOST_SERIAL=$(json "$JSON" 'j["serial"]')
LOST_KID=$(key_id_of lost)
token_away
run_word revoke lost --pin-file "$PIN_FILE" --secret-file -
expect_rc 0 "revoke lost with the token gone (secret word instead)"
# Issue 13 item 5: the key could not be removed; the message says so.
grep -qi "key was removed" "$OUT" && fail "revoke without the token claims the key was removed: $(cat "$OUT")" \
    || ok "revoke without the token: no claim that the key was removed"
expect_stdout "delete lost" "revoke without the token: says how to remove the key later"
[ "$ASKED" = 1 ] && ok "revoke without the token: a secret word was requested and given" \
    || fail "revoke without the token: no secret word was requested"
if crl_text > "$TMP/crl-lost.txt" 2>/dev/null && grep -qi "Serial Number: *$LOST_SERIAL\$" "$TMP/crl-lost.txt"; then
    ok "revoke without the token: serial $LOST_SERIAL is on the CRL"
else
    fail "revoke without the token: serial $LOST_SERIAL is not on the CRL: $(grep -i serial "$TMP/crl-lost.txt" 2>&1)"
fi
show_json lost
check_json "$JSON" 'j["state"] == "REVOKED"' "revoke without the token: lost is REVOKED"
token_back
# The token turns up again: its leftovers go with delete (no confirmation
# needed for a revoked identity).
run delete lost --pin-file "$PIN_FILE"
expect_rc 0 "delete the revoked lost after the token is back"
if token_objects | grep -qi "ID: *$LOST_KID\$"; then
    fail "delete lost: objects with lost's key id are still on the token"
else
    ok "delete lost: its key and certificate are gone from the token"
fi

stop_server

# ===========================================================================
# Server B: manual approval.
CA=$TMP/ca-manual
ca_init --lifetime 1h --approval manual
"$CA_BIN" user add "$CA" carol --phone +15550103 > /dev/null
start_server

request_id() { # USER: the newest request id the server logged for USER
    sed -n "s/.*request \([0-9][0-9]*\) from $1 waits for approval.*/\1/p" "$TMP/server.err" | tail -n 1
}
pending_of() { # USER: the server's pending requests of USER
    db "SELECT count(*) FROM pending p JOIN users u ON u.id = p.user_id WHERE u.name = '$1'"
}

# --- 6. 202 forever ------------------------------------------------------------
new_person wait
ENROLL_USER=carol
enroll wait
expect_rc 22 "never approved: enroll (KPR_ERROR_PENDING)"
show_json wait
check_json "$JSON" 'j["state"] == "PENDING"' "never approved: PENDING after enroll"
[ "$(pending_of carol)" = 1 ] && ok "never approved: the server holds one request for carol" \
    || fail "never approved: the server holds $(pending_of carol) requests for carol"
words=$(outbox_lines)
total=$(db 'SELECT count(*) FROM pending')
for i in 1 2 3; do
    run renew wait --pin-file "$PIN_FILE"
    expect_rc 22 "never approved: poll $i (KPR_ERROR_PENDING)"
    show_json wait
    check_json "$JSON" 'j["state"] == "PENDING" and j["status"] == "pending"' "never approved: PENDING (not SUBMITTED) after poll $i"
done
[ "$(pending_of carol)" = 1 ] && [ "$(db 'SELECT count(*) FROM pending')" = "$total" ] \
    && ok "never approved: still one request for carol, no new one after the polls" \
    || fail "never approved: carol has $(pending_of carol) requests, $(db 'SELECT count(*) FROM pending') in all (was $total)"
[ "$(outbox_lines)" = "$words" ] && ok "never approved: the polls spent no secret word" \
    || fail "never approved: the polls requested $(( $(outbox_lines) - words )) secret word(s)"

# --- 2. install a mailed certificate (PEM and DER) ---------------------------
new_person inst
# mail_cert NAME USER OUT-DER: approve NAME's request, let the server issue
# the certificate (the recorded CSR re-posted, as a poll does), and take it
# from the server's database, as the administrator would mail it.
mail_cert() {
    rid=$(request_id "$2")
    "$CA_BIN" approve "$CA" "$rid" > /dev/null 2>&1 && ok "certkeeper-ca approve $rid ($2)" \
        || fail "certkeeper-ca approve $rid ($2) failed"
    sed -n 's/^pending-csr=//p' "$STATE/identities/$1.ini" | base64 -d > "$TMP/$1.csr.der" 2>/dev/null || true
    base64 "$TMP/$1.csr.der" > "$TMP/$1.csr.b64"
    st=$(curl -sS --max-time 30 --cacert "$CA_PEM" -o "$TMP/$1.p7" -w '%{http_code}' \
        -H 'Content-Type: application/pkcs10' --data-binary "@$TMP/$1.csr.b64" \
        "$SERVER/.well-known/est/simpleenroll" || echo 000)
    [ "$st" = 200 ] || fail "$1: the server did not issue the approved request (HTTP $st)"
    db "SELECT hex(c.der) FROM certs c JOIN users u ON u.id = c.user_id WHERE u.name = '$2' ORDER BY c.issued DESC, c.rowid DESC LIMIT 1" \
        | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' > "$3"
    if openssl x509 -inform DER -in "$3" -noout 2>/dev/null; then
        ok "$1: the issued certificate taken from the server's database ($(openssl x509 -inform DER -in "$3" -noout -subject))"
    else
        fail "$1: no certificate for $2 in the server's database"
    fi
}
ENROLL_USER=alice
enroll viapem
expect_rc 22 "enroll viapem (alice): pending"
ENROLL_USER=bob
enroll viader
expect_rc 22 "enroll viader (bob): pending"
mail_cert viapem alice "$TMP/viapem.der"
openssl x509 -inform DER -in "$TMP/viapem.der" -out "$TMP/viapem.cer" 2>/dev/null
mail_cert viader bob "$TMP/viader.cer"
for pair in viapem:PEM:CN=alice viader:DER:CN=bob; do
    name=${pair%%:*}; rest=${pair#*:}; form=${rest%%:*}; subj=${rest#*:}
    run install "$name" "$TMP/$name.cer" --pin-file "$PIN_FILE"
    expect_rc 0 "install $name FILE.cer ($form)"
    show_json "$name"
    check_json "$JSON" "j['state'] == 'ACTIVE' and j['subject'] == '$subj'" "install ($form): $name is ACTIVE as $subj"
    cert_matches_token "$name" "install ($form)"
    n=$(count_objects "Certificate" "$name")
    [ "$n" = 1 ] && ok "install ($form): one certificate labelled $name on the token" \
        || fail "install ($form): expected one certificate labelled $name on the token, found $n"
done

stop_server
finish
