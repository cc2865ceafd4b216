#!/bin/sh
# test-cli-basics.sh — what a person expects of any command: `certkeeper
# help [COMMAND]`, each command's --help naming itself ("certkeeper export
# [OPTION…] NAME", not "export [OPTION?]"), --version, and one date format:
# the locale's in human output, ISO 8601 (UTC) in --json.
#
# Usage: test-cli-basics.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"

export LC_ALL=C.UTF-8 TZ=Europe/Berlin

run help
expect_rc 0 "certkeeper help"
for c in tokens token enroll list show status renew install export lock import delete revoke browser help; do
    grep -q "^  $c " "$OUT" || fail "certkeeper help: '$c' is not listed"
done
ok "certkeeper help lists every command"

run export --help
cp "$OUT" "$TMP/export-help"
expect_stdout "certkeeper export [OPTION…] NAME" "export --help: its own usage line, with …"
run help export
expect_rc 0 "certkeeper help export"
cmp -s "$OUT" "$TMP/export-help" && ok "help export prints what export --help prints" \
    || fail "help export differs from export --help: $(diff "$TMP/export-help" "$OUT")"
run help browser check
expect_stdout "certkeeper browser check [OPTION…] NAME" "help browser check"
run help nosuch
expect_rc 2 "help for an unknown command (KPR_ERROR_USAGE)"
expect_stderr "nosuch" "help nosuch names it"
for c in tokens list show status renew install export lock import delete revoke; do
    "$CERTKEEPER" "$c" --help > "$TMP/h" 2>&1
    grep -q "^  certkeeper $c \[OPTION…\]" "$TMP/h" || fail "$c --help: usage line is: $(sed -n 2p "$TMP/h")"
done
ok "every command's --help names 'certkeeper COMMAND [OPTION…]'"
run --version
expect_rc 0 "--version"
grep -qE '^certkeeper [0-9]+\.[0-9]+\.[0-9]+$' "$OUT" && ok "--version prints 'certkeeper X.Y.Z'" \
    || fail "--version printed: $(cat "$OUT")"

init_token
ca_init --lifetime 1h
start_server
enroll alice
expect_rc 0 "enroll alice"
show_json alice
iso=$(json "$JSON" 'j["not_after"]')
echo "$iso" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
    && ok "show --json: not_after in ISO 8601 UTC ($iso)" || fail "show --json: not_after is '$iso'"
people=$(date -d "$iso" +%c)
run list
expect_stdout "$people" "list: the expiry in the locale's format, local time"
run show alice
expect_stdout "valid until $people" "show: the expiry in the locale's format, local time"
if grep -qE '[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$OUT"; then
    fail "show: an ISO date in human output: $(cat "$OUT")"
else
    ok "show: no ISO date in human output"
fi

finish
