#!/bin/sh
# test-agent-link.sh — certkeeper-gtk and a running certkeeper-agent.
#
# One identity, "due", with a 60 s certificate (due 14-20 s after issue).
# No PIN file in certkeeper.conf: the agent cannot renew it on its own.
# The C driver starts the real certkeeper-agent (desktop mode) on its
# private session bus, opens the window, and checks that the row says
# what the agent waits for ("Needs your PIN", from Waiting()); after
# SIGTERM to the agent the row is back to "Renewal due".
#
# Usage: test-agent-link.sh certkeeper certkeeper-ca test-agent-link
DRIVER=${3:?usage: $0 certkeeper certkeeper-ca test-agent-link}
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
AGENT=${KPR_BUILD_DIR:?}/agent/resident/certkeeper-agent
. "$(dirname "$0")/../agent/lib.sh"
. "$(dirname "$0")/lib-gui.sh"

init_token
ca_init --lifetime 60s
start_server
enroll due --no-backup
expect_rc 0 "enroll due"
DUE_AT=$(date +%s)
while [ $(($(date +%s) - DUE_AT)) -lt 21 ]; do sleep 1; done
show_json due
check_json "$JSON" 'j["status"] == "renewal due"' "due is due"

gui_run "$DRIVER" "$AGENT" "$TMP/agent.log"
[ "$GUI_RC" -eq 0 ] && ok "the window shows what the agent waits for" \
    || fail "test-agent-link: exit $GUI_RC; agent log: $(tail -5 "$TMP/agent.log")"
grep -qF -- "$PIN" "$TMP/agent.log" && fail "the PIN is in the agent log"
finish
