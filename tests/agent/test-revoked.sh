#!/bin/sh
# test-revoked.sh — certkeeper-ca revokes an account's other certificates
# when it issues a new one; the client learns it from the CA's CRL (issue
# 13, item 3): the superseded identity shows "revoked — replaced by a newer
# certificate" with the date in show, list and status (exit 26), is never
# renewed again (so two identities of one account cannot renew each other
# away in turn), and a backup of a superseded certificate imports as
# revoked.
#
# Usage: test-revoked.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

init_token
ca_init --lifetime 1h
start_server
STRONG=$(secret_file strong "Pass-Strong-Horse-93!")

enroll first
expect_rc 0 "enroll first (alice)"
run export first --to "$TMP/first.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "back up first"
show_json first
FIRST_SERIAL=$(json "$JSON" 'j["serial"]')

# A second identity of the same account: the server revokes the first.
enroll second
expect_rc 0 "enroll second (alice again)"
expect_stderr "the server revokes the certificate of “first”" \
    "enroll second: a warning line says first will be revoked"
show_json second
SECOND_SERIAL=$(json "$JSON" 'j["serial"]')
crl_text > "$TMP/crl.txt" 2>/dev/null
grep -qi "Serial Number: *$FIRST_SERIAL\$" "$TMP/crl.txt" && ok "the server put first's serial on its CRL" \
    || fail "first's serial $FIRST_SERIAL is not on the CRL"

show_json first
check_json "$JSON" 'j["state"] == "REVOKED" and j["status"] == "revoked" and j["revoked"]["reason"] == "superseded" and j["revoked"]["when"]' \
    "show --json first: REVOKED, superseded, with the date"
run show first
expect_stdout "replaced by a newer certificate" "show first: says it was replaced"
run status
expect_rc 26 "status with a superseded identity (KPR_ERROR_ATTENTION)"
expect_stdout "replaced by a newer certificate" "status: says first was replaced"
show_json second
check_json "$JSON" 'j["state"] == "ACTIVE" and j["status"] == "active"' "second is active"

# No ping-pong: renewing the superseded identity is refused and the
# account's current certificate stays valid.
run renew first --force --pin-file "$PIN_FILE"
[ "$RC" -ne 0 ] && ok "renew of the superseded first refused (exit $RC)" \
    || fail "renew of the superseded first succeeded (it would revoke second)"
expect_stderr "revoked" "renew refusal: the message says first is revoked"
show_json second
check_json "$JSON" "j['state'] == 'ACTIVE' and j['serial'] == '$SECOND_SERIAL'" "second keeps its certificate"
crl_text > "$TMP/crl2.txt" 2>/dev/null
grep -qi "Serial Number: *$SECOND_SERIAL\$" "$TMP/crl2.txt" && fail "second's serial was revoked" \
    || ok "second's serial is not on the CRL"

# A backup of the superseded certificate imports, and shows as revoked.
run import "$TMP/first.p12" back --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "import the backup of first as back"
show_json back
check_json "$JSON" 'j["state"] == "REVOKED" and j["revoked"]["reason"] == "superseded"' \
    "the imported backup of a superseded certificate is REVOKED"

# A renewal supersedes the other identity too; status after a server
# restart still knows (the record keeps it).
run delete first --pin-file "$PIN_FILE"
expect_rc 0 "delete the revoked first (no backup question)"
run renew second --force --pin-file "$PIN_FILE"
expect_rc 0 "renew second"
stop_server
run status
expect_rc 26 "status with the server away: back is still revoked"

finish
