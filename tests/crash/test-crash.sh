#!/usr/bin/env bash
# Crash safety (DESIGN §5): certkeeper is killed with SIGKILL at every
# fault point the binary has (`certkeeper --fault-points`, compiled only
# into -Dfault_injection=true builds: a new point is exercised here without
# anyone editing this file, and a point reached that the list lacks aborts);
# the next run must converge: one usable identity, no orphan token objects,
# a consistent record.  Real SoftHSM2 token, real certkeeper-ca on 127.0.0.1.
#   test-crash.sh CERTKEEPER CERTKEEPER-CA
. "$(dirname "$0")/lib-crash.sh"

start_ca ca
exercised=""
mark() { exercised="$exercised $1 "; }

# --- enroll ----------------------------------------------------------------
for point in $(points_of enroll); do
    home "enroll-${point/:/-}"
    enroll KPR_FAULT_AT="$point"
    killed "enroll killed at $point" $?
    words=$(wc -l <"$T/outbox")
    enroll
    rc=$?
    # Once the server has issued, finishing must not cost another secret
    # word: the repeated request gets the same certificate back.
    case $point in
        before:ISSUED | after:ISSUED | before:INSTALLED | after:INSTALLED | before:ACTIVE)
            [ "$(wc -l <"$T/outbox")" -eq "$words" ] ||
                fail "enroll re-run after $point asked for a new secret word"
            ;;
    esac
    # Killed after ACTIVE was written, the identity is complete: a re-run
    # says so (16) instead of enrolling twice.
    if [ "$point" = after:ACTIVE ]; then
        [ "$rc" -eq 16 ] || fail "enroll re-run after $point: expected 16, got $rc"
    else
        [ "$rc" -eq 0 ] || fail "enroll re-run after $point: exit $rc: $(cat "$T/err")"
    fi
    converged "enroll killed at $point"
    mark "$point"
done

# --- renew (ACTIVE is entered again by the swap) ------------------------------
home renew
enroll || fail "renew setup: enroll failed: $(cat "$T/err")"
for point in $(points_of renew) before:ACTIVE after:ACTIVE; do
    serial=$(field "['serial']")
    ck KPR_FAULT_AT="$point" "$CK" renew alice --force --pin-file "$T/pin" --secret-file - >/dev/null
    killed "renew killed at $point" $?
    words=$(wc -l <"$T/outbox")
    # The next run, as the agent would do it: finish or roll back.
    ck "$CK" renew alice --pin-file "$T/pin" --secret-file - >/dev/null ||
        fail "renew re-run after $point: $(cat "$T/err")"
    # Even when the server already superseded the certificate we present,
    # the renewal finishes over mutual TLS: no secret word.
    [ "$(wc -l <"$T/outbox")" -eq "$words" ] ||
        fail "renew re-run after $point asked for a secret word"
    converged "renew killed at $point"
    new=$(field "['serial']")
    case $point in
        before:next-key-id | after:next-key-id | after:next-keygen | before:NEXT_KEY_READY)
            # Nothing was sent: rolled back or finished, either is fine.
            ;;
        *) [ "$new" != "$serial" ] || fail "renew killed at $point: the renewal was lost (serial unchanged)" ;;
    esac
    mark "$point"
done

# --- a renewal abandoned, then rolled back --------------------------------------
for point in $(points_of rollback); do
    ck KPR_FAULT_AT=after:next-key-id "$CK" renew alice --force --pin-file "$T/pin" >/dev/null
    killed "renew killed at after:next-key-id (before $point)" $?
    # Not due: the next run rolls the abandoned renewal back.
    ck KPR_FAULT_AT="$point" "$CK" renew alice --pin-file "$T/pin" >/dev/null
    killed "roll-back killed at $point" $?
    ck "$CK" renew alice --pin-file "$T/pin" >/dev/null || fail "renew after $point: $(cat "$T/err")"
    converged "roll-back killed at $point"
    [ "$(field "['state']")" = ACTIVE ] && mark "$point"
done

# --- export and lock (a record change that is no state change) -------------------
for point in $(points_of export); do
    ck KPR_FAULT_AT="$point" "$CK" export alice --to "$T/exp-${point/:/-}.p12" \
        --passphrase-file "$T/pass" --pin-file "$T/pin" >/dev/null
    killed "export killed at $point" $?
    rm -f "$T/exp-${point/:/-}.p12"
    ck "$CK" export alice --to "$T/exp-${point/:/-}.p12" --passphrase-file "$T/pass" \
        --pin-file "$T/pin" >/dev/null || fail "export re-run after $point: $(cat "$T/err")"
    [ -s "$T/exp-${point/:/-}.p12" ] || fail "export re-run after $point wrote no backup"
    "$CK" show alice --json | grep -q "exp-${point/:/-}.p12" ||
        fail "export re-run after $point: the backup is not recorded"
    converged "export killed at $point"
    mark "$point"
done
"$CK" export alice --to "$T/alice.p12" --passphrase-file "$T/pass" --pin-file "$T/pin" >/dev/null ||
    fail "export for the import cases"
for point in $(points_of lock); do
    home "lock-${point/:/-}"
    enroll || fail "lock setup: $(cat "$T/err")"
    ck KPR_FAULT_AT="$point" "$CK" lock alice --yes --pin-file "$T/pin" >/dev/null
    killed "lock killed at $point" $?
    ck "$CK" lock alice --yes --pin-file "$T/pin" >/dev/null || fail "lock re-run after $point: $(cat "$T/err")"
    [ "$(field "['protection']")" != exportable ] || fail "lock re-run after $point: still exportable"
    converged "lock killed at $point"
    mark "$point"
done

# --- import ------------------------------------------------------------------
# The import's own point, and the states an import passes through.
for point in $(points_of import) before:NEW after:NEW before:ISSUED after:ISSUED before:INSTALLED \
    after:INSTALLED before:ACTIVE; do
    home "import-${point/:/-}"
    ck KPR_FAULT_AT="$point" "$CK" import "$T/alice.p12" alice --passphrase-file "$T/pass" \
        --pin-file "$T/pin" >/dev/null
    killed "import killed at $point" $?
    ck "$CK" import "$T/alice.p12" alice --passphrase-file "$T/pass" --pin-file "$T/pin" >/dev/null ||
        fail "import re-run after $point: $(cat "$T/err")"
    converged "import killed at $point"
    mark "$point"
done

# --- delete ------------------------------------------------------------------
for point in $(points_of delete); do
    home "delete-${point/:/-}"
    enroll || fail "delete setup: enroll failed"
    ck KPR_FAULT_AT="$point" "$CK" delete alice --yes --pin-file "$T/pin" >/dev/null
    killed "delete killed at $point" $?
    "$CK" delete alice --yes --pin-file "$T/pin" >/dev/null 2>"$T/err" || fail "delete re-run: $(cat "$T/err")"
    removed "delete killed at $point"
    mark "$point"
done

# --- revoke: the re-run finishes the wipe ------------------------------------------
for point in $(points_of revoke); do
    home "revoke-${point/:/-}"
    enroll || fail "revoke setup: enroll failed"
    ck KPR_FAULT_AT="$point" "$CK" revoke alice --pin-file "$T/pin" --secret-file - >/dev/null
    killed "revoke killed at $point" $?
    # Re-run: revokes (with a secret word when the server already revoked
    # the certificate it presents) or, when REVOKED was written, finishes
    # the wipe and says it is revoked already (2).
    ck "$CK" revoke alice --pin-file "$T/pin" --secret-file - >/dev/null
    rc=$?
    case $point in
        before:*) [ "$rc" -eq 0 ] || fail "revoke re-run after $point: exit $rc: $(cat "$T/err")" ;;
        *) [ "$rc" -eq 2 ] || fail "revoke re-run after $point: expected 2, got $rc: $(cat "$T/err")" ;;
    esac
    [ "$(field "['state']")" = REVOKED ] || fail "revoke re-run after $point: not REVOKED"
    left=$(p11 -O | grep -c 'Key Object')
    [ "$left" -eq 0 ] && ok "revoke killed at $point: REVOKED, key wiped" ||
        fail "revoke killed at $point: $left key objects left"
    mark "$point"
done

# --- pending (manual approval) -------------------------------------------------------
start_ca manual --approval manual
for point in $(points_of pending); do
    home "pending-${point/:/-}"
    enroll KPR_FAULT_AT="$point"
    killed "enroll (pending) killed at $point" $?
    enroll
    rc=$?
    [ "$rc" -eq 22 ] || fail "enroll (pending) re-run after $point: expected 22, got $rc: $(cat "$T/err")"
    [ "$(field "['state']")" = PENDING ] || fail "enroll (pending) re-run after $point: not PENDING"
    id=$(request_id)
    "$CA" approve "$CA_DIR" "$id" >/dev/null || fail "approve request '$id'"
    ck "$CK" renew alice --pin-file "$T/pin" --secret-file - >/dev/null ||
        fail "poll after approval ($point): $(cat "$T/err")"
    converged "enroll (pending) killed at $point"
    mark "$point"
done
start_ca ca2

# --- failed: the token lost the key of an unfinished enrollment ------------------------
for point in $(points_of failed); do
    home "failed-${point/:/-}"
    enroll KPR_FAULT_AT=after:KEY_READY
    killed "enroll killed at after:KEY_READY (before $point)" $?
    # The token is reset under the record: its key is gone.
    p11 --delete-object --type privkey --label alice >/dev/null
    p11 --delete-object --type pubkey --label alice >/dev/null
    enroll KPR_FAULT_AT="$point"
    killed "enroll killed at $point" $?
    enroll
    rc=$?
    # Entering FAILED says why (17); once FAILED, enroll says to delete (16).
    case $point in
        before:*) [ "$rc" -eq 17 ] || fail "enroll re-run after $point: expected 17 (NOT_FOUND), got $rc: $(cat "$T/err")" ;;
        *) { [ "$rc" -eq 16 ] && grep -q "certkeeper delete alice" "$T/err"; } ||
            fail "enroll re-run after $point: expected 16 and 'certkeeper delete', got $rc: $(cat "$T/err")" ;;
    esac
    [ "$(field "['state']")" = FAILED ] || fail "after $point: state $(field "['state']"), expected FAILED"
    "$CK" delete alice --yes --pin-file "$T/pin" >/dev/null 2>"$T/err" || fail "delete FAILED: $(cat "$T/err")"
    removed "failed enrollment killed at $point, then deleted"
    mark "$point"
done

# Every point of the binary was exercised above.
while read -r flow point; do
    case $exercised in
        *" $point "*) ;;
        *) fail "fault point $point ($flow) was not exercised" ;;
    esac
done <<<"$POINTS"

finish "all $(wc -l <<<"$POINTS") fault points converged"
