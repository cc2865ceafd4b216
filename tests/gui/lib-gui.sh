# lib-gui.sh — shared by the certkeeper-gtk tests (tests/gui/); source it
# after tests/agent/lib.sh.  Starts an Xvfb of its own on a free display
# (stopped by lib.sh's cleanup trap through BG_PIDS) and sets up the
# environment the GTK tests expect: X11 with the cairo renderer (no GL in
# Xvfb), no accessibility bus but GTK's in-process test backend (GTK_A11Y=test:
# the drivers read accessible names with gtk_test_accessible_*), the build's compiled settings schema in
# memory, screenshots under $KPR_SCREENSHOT_DIR.
#
# gui_run DRIVER ARGS...: runs a C driver on a private session bus (so
# that certkeeper-gtk's GApplication never meets one on the real bus);
# sets GUI_RC.

command -v Xvfb >/dev/null 2>&1 || skip "Xvfb is not installed (package xvfb)"
command -v dbus-run-session >/dev/null 2>&1 || skip "dbus-run-session is not installed (package dbus)"

# Xvfb picks a free display itself and writes its number to -displayfd
# once it accepts connections: no race between tests looking for one.
XVFB_OUT=$TMP/xvfb.display
: > "$XVFB_OUT"
Xvfb -displayfd 9 -nolisten tcp -screen 0 1280x1024x24 9> "$XVFB_OUT" 2> "$TMP/xvfb.err" &
XVFB_PID=$!
BG_PIDS="$BG_PIDS $XVFB_PID"
for _ in $(seq 100); do
    [ -s "$XVFB_OUT" ] && break
    kill -0 "$XVFB_PID" 2>/dev/null || { echo "FAIL: Xvfb died: $(cat "$TMP/xvfb.err")" >&2; exit 1; }
    sleep 0.1
done
DISPLAY_NUM=$(head -n 1 "$XVFB_OUT" | tr -dc 0-9)
[ -n "$DISPLAY_NUM" ] || { echo "FAIL: Xvfb did not say which display it took: $(cat "$TMP/xvfb.err")" >&2; exit 1; }
DISPLAY=:$DISPLAY_NUM
export DISPLAY
unset WAYLAND_DISPLAY
GDK_BACKEND=x11
GSK_RENDERER=cairo
# No GL at all, not even the probe at display open: Mesa's software EGL
# driver, when installed, leaks 128 bytes there (LSan, gtk_init →
# gdk_display_prepare_gl → libEGL_mesa), and the tests draw with cairo.
GDK_DEBUG=${GDK_DEBUG:+$GDK_DEBUG,}gl-disable
export GDK_DEBUG
NO_AT_BRIDGE=1
GTK_A11Y=test
export GDK_BACKEND GSK_RENDERER NO_AT_BRIDGE GTK_A11Y
# meson's environment sets these; a by-hand run gets the same defaults.
GSETTINGS_BACKEND=${GSETTINGS_BACKEND:-memory}
KPR_SCREENSHOT_DIR=${KPR_SCREENSHOT_DIR:-$TMP/screenshots}
export GSETTINGS_BACKEND KPR_SCREENSHOT_DIR
if [ -n "${GSETTINGS_SCHEMA_DIR:-}" ]; then
    export GSETTINGS_SCHEMA_DIR
fi
mkdir -p "$KPR_SCREENSHOT_DIR"

gui_run() {
    GUI_RC=0
    dbus-run-session -- "$@" || GUI_RC=$?
    echo "  \$ $(basename "$1") -> exit $GUI_RC"
}
