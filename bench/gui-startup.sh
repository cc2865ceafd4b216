#!/bin/sh
# gui-startup.sh — certkeeper-gtk's cold start to its first frame showing
# the identities, next to a minimal GTK4 + libadwaita window measured in
# the same run (issue 6: target <= 1.2x that floor; issue 16: <= 1.3x).
#
# Prepares IDENTITIES (20) identities in a temp HOME (software token,
# certkeeper-ca on 127.0.0.1), starts an Xvfb, then RUNS (10) times, in
# turn: bench/gui-floor (an AdwApplicationWindow with a label, to its
# first frame) and bench/gui-startup (certkeeper-gtk's KprApplication, to
# the first frame with the IDENTITIES rows on screen).  Each run is a
# fresh process on a fresh session bus; one untimed run of each before
# the timed ones, so the page cache is warm for all of them (a "cold"
# start here is a new process, not an empty cache).  Times are from the
# exec() to the end of the frame (GdkFrameClock "after-paint"),
# CLOCK_MONOTONIC.
#
# Usage: bench/gui-startup.sh BUILD-DIR [RUNS [IDENTITIES]]
set -eu
RUNS=${2:-10}
IDENTITIES=${3:-20}
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 100 ] || { echo "RUNS: 1-100" >&2; exit 1; }
. "$(dirname "$0")/gui-lib.sh"

prepare_identities "$IDENTITIES"
# The server is not needed to show the list: stopped, so that it takes
# no CPU while the windows start.
stop_server
machine_line

: > "$TMP/floor.txt"
: > "$TMP/app.txt"
# one_run FILE PROGRAM ARGS...: one timed start; its line goes to FILE.
# (dbus-daemon's complaints about its fd limit go to run.err with the
# driver's own messages, shown when the driver fails.)
one_run() {
    out=$1; shift
    stamped "$@" > "$TMP/run.out" 2> "$TMP/run.err" \
        || { echo "$(basename "$1") failed: $(grep -v dbus-daemon "$TMP/run.err")" >&2; exit 1; }
    cat "$TMP/run.out" >> "$out"
    cat "$TMP/run.out"
}
# Untimed: the page cache holds every library and file from here on.
one_run /dev/null "$BUILD/bench/gui-floor" > /dev/null
one_run /dev/null "$BUILD/bench/gui-startup" "$IDENTITIES" > /dev/null
bench_i=1
while [ "$bench_i" -le "$RUNS" ]; do
    one_run "$TMP/floor.txt" "$BUILD/bench/gui-floor"
    one_run "$TMP/app.txt" "$BUILD/bench/gui-startup" "$IDENTITIES"
    bench_i=$((bench_i + 1))
done

python3 - "$TMP/floor.txt" "$TMP/app.txt" "$IDENTITIES" <<'PY'
import statistics, sys

def load(path):
    rows = []
    for line in open(path):
        f = line.split()
        rows.append({f[i]: float(f[i + 1]) for i in range(1, len(f) - 1, 2)})
    return rows

floor, app, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
if len(app) != len(floor) or any(r["items"] < n for r in app):
    sys.exit("a run did not finish or did not list every identity")
def stats(rows, key):
    v = [r[key] for r in rows]
    return statistics.median(v), max(v), min(v)
print(f"{len(floor)} runs each; ms from exec() to the end of the frame (median / max / min):")
for name, rows in (("minimal AdwApplicationWindow (floor)", floor),
                   (f"certkeeper-gtk, {n} identities shown", app)):
    t, e, m = stats(rows, "total"), stats(rows, "exec-to-main"), stats(rows, "main-to-frame")
    print(f"  {name}: total {t[0]:.1f} / {t[1]:.1f} / {t[2]:.1f}; exec to main() {e[0]:.1f}; main() to frame {m[0]:.1f} / {m[1]:.1f}")
for name, rows in (("floor", floor), ("certkeeper-gtk", app)):
    c = stats(rows, "cpu")
    print(f"  CPU time to that frame (user+sys, all threads), {name}: {c[0]:.1f} / {c[1]:.1f} / {c[2]:.1f}")
ff = stats(app, "first-frame")
print(f"  certkeeper-gtk's first frame of any content, from main(): {ff[0]:.1f} / {ff[1]:.1f} / {ff[2]:.1f}")
ratio = stats(app, "total")[0] / stats(floor, "total")[0]
pairs = [a["total"] / f["total"] for a, f in zip(app, floor)]
rows = stats(app, "rows")
print(f"  rows mapped (on screen) in that frame: {rows[0]:.0f} / {rows[1]:.0f} / {rows[2]:.0f}")
if all("built" in r for r in app):
    built = stats(app, "built")
    print(f"  row widgets built by then (GTK 4.8's list view: every item up to 200): {built[0]:.0f} / {built[1]:.0f} / {built[2]:.0f}")
print(f"ratio of the medians: {ratio:.2f} (target <= 1.30); per run pair: median {statistics.median(pairs):.2f}, max {max(pairs):.2f}")
cpu_ratio = stats(app, "cpu")[0] / stats(floor, "cpu")[0]
print(f"ratio of the median CPU times: {cpu_ratio:.2f}")
PY
finish
