# gui-lib.sh — shared by the certkeeper-gtk benchmarks (gui-startup.sh,
# gui-stall.sh); sourced with "$@" = BUILD-DIR ...
#
# Builds on the integration tests' helpers rather than copying them:
# tests/agent/lib.sh makes a fresh person (HOME and XDG dirs in a temp
# dir, removed on exit), the SoftHSM2 software token and certkeeper-ca on
# a random 127.0.0.1 port; tests/gui/lib-gui.sh starts an Xvfb of our own
# (GDK_BACKEND=x11, GSK_RENDERER=cairo: Xvfb has no GL) and sets the GTK
# environment.  Their cleanup trap stops the server and Xvfb.
BUILD=${1:?usage: $0 BUILD-DIR (a meson build with the GUI and bench/ drivers)}
case "$BUILD" in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
for bin in gui/certkeeper-gtk bench/gui-floor bench/gui-startup bench/gui-stall; do
    [ -x "$BUILD/$bin" ] || { echo "$BUILD/$bin is missing: ninja -C $BUILD (with the GUI enabled)" >&2; exit 1; }
done
set -- "$BUILD/agent/cli/certkeeper" "$BUILD/server/certkeeper-ca"
. "$BENCH_ROOT/tests/agent/lib.sh"
GSETTINGS_SCHEMA_DIR=$BUILD/gui
. "$BENCH_ROOT/tests/gui/lib-gui.sh"

# prepare_identities N [CLI-OPTIONS...]: N identities id01..idNN, each
# enrolled with the CLI by its own server user (a user may ask for 10
# secret words an hour).  Starts the server.
prepare_identities() {
    bench_count=$1; shift
    init_token
    ca_init
    bench_i=1
    while [ "$bench_i" -le "$bench_count" ]; do
        bench_n=$(printf '%02d' "$bench_i")
        "$CA_BIN" user add "$CA" "user$bench_n" --phone "+1555020$bench_n" > /dev/null
        bench_i=$((bench_i + 1))
    done
    start_server
    bench_i=1
    while [ "$bench_i" -le "$bench_count" ]; do
        bench_n=$(printf '%02d' "$bench_i")
        ENROLL_USER=user$bench_n
        enroll "id$bench_n" "$@" > /dev/null
        [ "$RC" -eq 0 ] || { echo "enroll id$bench_n failed (exit $RC): $(cat "$ERR")" >&2; exit 1; }
        bench_i=$((bench_i + 1))
    done
    echo "prepared $bench_count identities ($("$CERTKEEPER" list 2>/dev/null | grep -c '^id[0-9]') listed by certkeeper list)"
}

# stamped PROGRAM ARGS...: runs PROGRAM on a fresh session bus (as
# certkeeper-gtk would find one) with KPR_BENCH_T0 = CLOCK_MONOTONIC in µs,
# taken by the process that then exec()s PROGRAM at once: the drivers
# measure from the exec to their first frame on the same clock.
stamped() {
    dbus-run-session -- python3 -c '
import os, sys, time
os.environ["KPR_BENCH_T0"] = str(time.monotonic_ns() // 1000)
os.execv(sys.argv[1], sys.argv[1:])' "$@"
}

machine_line() {
    echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
    echo "GTK $(pkg-config --modversion gtk4 2>/dev/null), libadwaita $(pkg-config --modversion libadwaita-1 2>/dev/null); GDK_BACKEND=$GDK_BACKEND GSK_RENDERER=$GSK_RENDERER on Xvfb $DISPLAY"
}
