#!/usr/bin/env bash
# Resume from every stored state (certmonger's tests/021-resume is the
# model; STYLE.md "Tests").  For each state of the lifecycle table — taken
# from the binary (`certkeeper --fault-points` names every state a step
# enters), so a new state without a case here fails — a record and token
# objects are left exactly as a crash leaves them (certkeeper killed right
# after the state was written), the stored state is checked, and then one
# run of `certkeeper renew` (or `delete` for the end states) must converge:
# ACTIVE with exactly one key pair and certificate, or a clean removal,
# never an orphan object.
#   test-resume.sh CERTKEEPER CERTKEEPER-CA
. "$(dirname "$0")/lib-crash.sh"

start_ca manual --approval manual
MANUAL_DIR=$CA_DIR MANUAL_PORT=$PORT
start_ca ca
AUTO_DIR=$CA_DIR AUTO_PORT=$PORT

STATES=$(sed -n 's/^[a-z]* after:\([A-Z_]*\)$/\1/p' <<<"$POINTS" | sort -u)
[ "$(wc -l <<<"$STATES")" -ge 12 ] || fail "only $(wc -l <<<"$STATES") states in --fault-points: $STATES"

# leave STATE: the identity alice stored in STATE, as a crash leaves it.
leave() {
    case $1 in
        NEW | KEY_READY | SUBMITTED | ISSUED | INSTALLED)
            enroll KPR_FAULT_AT="after:$1"
            killed "enroll killed after $1" $?
            ;;
        ACTIVE)
            enroll KPR_FAULT_AT=after:ACTIVE
            killed "enroll killed after ACTIVE" $?
            ;;
        PENDING)
            enroll KPR_FAULT_AT=after:PENDING
            killed "enroll killed after PENDING" $?
            ;;
        NEXT_KEY_READY | NEXT_SUBMITTED | NEXT_INSTALLED)
            enroll || fail "$1: enroll: $(cat "$T/err")"
            ck KPR_FAULT_AT="after:$1" "$CK" renew alice --force --pin-file "$T/pin" --secret-file - >/dev/null
            killed "renew killed after $1" $?
            ;;
        REVOKED)
            enroll || fail "$1: enroll: $(cat "$T/err")"
            ck KPR_FAULT_AT=after:REVOKED "$CK" revoke alice --pin-file "$T/pin" --secret-file - >/dev/null
            killed "revoke killed after REVOKED" $?
            ;;
        FAILED)
            enroll KPR_FAULT_AT=after:KEY_READY
            killed "enroll killed after KEY_READY" $?
            p11 --delete-object --type privkey --label alice >/dev/null
            p11 --delete-object --type pubkey --label alice >/dev/null
            enroll KPR_FAULT_AT=after:FAILED
            killed "enroll killed after FAILED" $?
            ;;
        *)
            fail "no case for the stored state $1: add one to test-resume.sh"
            return 1
            ;;
    esac
}

for state in $STATES; do
    if [ "$state" = PENDING ]; then CA_DIR=$MANUAL_DIR PORT=$MANUAL_PORT; else CA_DIR=$AUTO_DIR PORT=$AUTO_PORT; fi
    home "resume-$state"
    leave "$state" || continue
    stored=$(field "['state']" 2>/dev/null)
    [ "$stored" = "$state" ] || { fail "$state: the record says '$stored'"; continue; }
    case $state in
        REVOKED | FAILED)
            # An end: the way out is a clean removal.
            "$CK" delete alice --yes --pin-file "$T/pin" >/dev/null 2>"$T/err" ||
                fail "$state: delete: $(cat "$T/err")"
            removed "resumed from $state"
            ;;
        PENDING)
            "$CA" approve "$CA_DIR" "$(request_id)" >/dev/null || fail "$state: approve"
            ck "$CK" renew alice --pin-file "$T/pin" --secret-file - >/dev/null ||
                fail "$state: renew: $(cat "$T/err")"
            converged "resumed from $state"
            ;;
        *)
            ck "$CK" renew alice --pin-file "$T/pin" --secret-file - >/dev/null ||
                fail "$state: renew: $(cat "$T/err")"
            converged "resumed from $state"
            ;;
    esac
done

finish "resumed from all $(wc -w <<<"$STATES") stored states"
