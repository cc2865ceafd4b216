#!/bin/sh
# test-row-text.sh — the identity list's rows draw their title and
# subtitle with KprRowText exactly as AdwActionRow's labels would (the C
# driver compares sizes and pixels at 720 and 360 px, light and dark).
#
# Usage: test-row-text.sh certkeeper certkeeper-ca test-row-text
DRIVER=${3:?usage: $0 certkeeper certkeeper-ca test-row-text}
case "$DRIVER" in /*) ;; *) DRIVER=$(pwd)/$DRIVER ;; esac
. "$(dirname "$0")/../agent/lib.sh"
. "$(dirname "$0")/lib-gui.sh"

gui_run "$DRIVER"
[ "$GUI_RC" -eq 0 ] && ok "rows with KprRowText look as AdwActionRow's" || fail "test-row-text: exit $GUI_RC"
finish
