#!/bin/sh
# test-completion.sh — the bash completion of certkeeper
# (packaging/completion/certkeeper) completes commands, subcommands,
# options (from each command's --help) and the names of enrolled
# identities, as bash would for a person pressing TAB.
#
# Usage: test-completion.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

command -v bash > /dev/null 2>&1 || { echo "SKIP: bash is missing"; exit 77; }
COMPLETION=${KPR_SOURCE_DIR:?}/packaging/completion/certkeeper

init_token
ca_init --lifetime 1h
start_server
enroll alice
expect_rc 0 "enroll alice"
ENROLL_USER=bob
enroll bob-laptop
expect_rc 0 "enroll bob-laptop (as bob)"

# complete WORDS...: what TAB offers after WORDS (the last one is being typed).
complete_words() {
    bash -c '
        . "$1"; shift
        PATH=$(dirname "$1"):$PATH
        COMP_WORDS=(certkeeper "${@:2}")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        _certkeeper
        printf "%s\n" "${COMPREPLY[@]}"
    ' complete "$COMPLETION" "$CERTKEEPER" "$@" | sort | tr '\n' ' '
}

expect_offers() { # WHAT EXPECTED-SUBSTRING WORDS...
    what=$1 want=$2; shift 2
    got=$(complete_words "$@")
    case " $got" in
        *" $want "*) ok "$what: offers '$want'" ;;
        *) fail "$what: expected '$want' among: $got" ;;
    esac
}

expect_offers "first word 'en'" enroll en
expect_offers "first word 'ex'" export ex
expect_offers "token's subcommands" init-software token ""
expect_offers "browser's subcommands" unregister browser un
expect_offers "export's options" --passphrase-file export --pa
expect_offers "enroll's options" --trust-fingerprint enroll --tr
expect_offers "browser check's options" --url browser check --u
expect_offers "export NAME" alice export ""
expect_offers "renew NAME" bob-laptop renew b
expect_offers "--key TYPE" ec-p384 enroll x --key ec
expect_offers "browser check NAME" alice browser check a
got=$(complete_words export alice "")
case "$got" in *alice*) fail "after export NAME: no second name expected, got: $got" ;;
    *) ok "export NAME: one name only" ;; esac
got=$(complete_words enroll ""); got=$(echo $got)
[ -z "$got" ] && ok "enroll takes a new name: no existing one offered" \
    || fail "enroll NAME: expected nothing, got: $got"
mkdir -p "$TMP/media" && : > "$TMP/media/alice.p12"
expect_offers "export --to FILE" "$TMP/media/alice.p12" export alice --to "$TMP/media/al"

finish
