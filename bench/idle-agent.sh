#!/bin/sh
# idle-agent.sh — what the resident certkeeper-agent (desktop mode, tray
# live) costs while it has nothing to do: RSS and wake-ups (context
# switches from /proc) with 10 identities over DURATION seconds.  Target
# (bench/README.md, "Idle cost"): under 8 MiB and no wake-ups between deadlines.
#
#   bench/idle-agent.sh BUILD-DIR [DURATION]
#
# BUILD-DIR: a meson build with agent/cli/certkeeper, agent/resident/certkeeper-agent
# and server/certkeeper-ca (a release build for the RSS figure).
# DURATION: seconds between the two samples (default 600; also $DURATION).
# IDENTITIES (default 10), SETTLE (seconds after the tray registered,
# default 15).  Prints the samples and the per-thread deltas; keeps
# nothing (tests/agent/lib.sh's temp dir and server go on exit).
BUILD=${1:?usage: $0 BUILD-DIR [DURATION]}
DURATION=${2:-${DURATION:-600}}
IDENTITIES=${IDENTITIES:-10}
SETTLE=${SETTLE:-15}
case "$BUILD" in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
for bin in agent/cli/certkeeper agent/resident/certkeeper-agent server/certkeeper-ca; do
    [ -x "$BUILD/$bin" ] || { echo "$BUILD/$bin is missing: ninja -C $BUILD" >&2; exit 1; }
done
command -v dbus-daemon >/dev/null 2>&1 || { echo "dbus-daemon is missing (package dbus)" >&2; exit 1; }
AGENT_BIN=$BUILD/agent/resident/certkeeper-agent
set -- "$BUILD/agent/cli/certkeeper" "$BUILD/server/certkeeper-ca"
. "$BENCH_ROOT/tests/agent/lib.sh"

# --- 10 identities, certificates for a year ----------------------------------
init_token
ca_init --lifetime 365d
idle_i=1
while [ "$idle_i" -le "$IDENTITIES" ]; do
    # One server user per identity: a user may ask for 10 secret words an hour.
    "$CA_BIN" user add "$CA" "user$idle_i" --phone "+155502$(printf '%02d' "$idle_i")" > /dev/null
    idle_i=$((idle_i + 1))
done
start_server
idle_i=1
while [ "$idle_i" -le "$IDENTITIES" ]; do
    ENROLL_USER=user$idle_i
    enroll "id$idle_i" --no-backup > /dev/null
    [ "$RC" -eq 0 ] || { echo "enroll id$idle_i failed (exit $RC): $(cat "$ERR")" >&2; exit 1; }
    idle_i=$((idle_i + 1))
done
echo "enrolled $("$CERTKEEPER" list < /dev/null 2>/dev/null | grep -c '^id[0-9]') identities (365 d)"
# Unattended renewal as a person who chose it would set it up.
mkdir -p "$XDG_CONFIG_HOME/certkeeper"
printf '[agent]\npin-file=%s\n' "$PIN_FILE" > "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"

# --- a private session bus with a tray watcher ------------------------------
# What dbus-run-session does, kept in this shell so the samples can be
# taken from here.
dbus-daemon --session --fork --print-address=1 --print-pid=1 > "$TMP/bus" 2> "$TMP/bus.err"
DBUS_SESSION_BUS_ADDRESS=$(sed -n 1p "$TMP/bus")
BUS_PID=$(sed -n 2p "$TMP/bus")
export DBUS_SESSION_BUS_ADDRESS
BG_PIDS="$BUS_PID"
cc -O2 "$BENCH_ROOT/bench/sni-watcher.c" -o "$TMP/sni-watcher" $(pkg-config --cflags --libs gio-2.0)
"$TMP/sni-watcher" > "$TMP/watcher.out" 2>&1 &
BG_PIDS="$BG_PIDS $!"
for _ in $(seq 50); do grep -q '^watching' "$TMP/watcher.out" && break; sleep 0.1; done

"$AGENT_BIN" < /dev/null 2> "$TMP/agent.log" &
AGENT=$!
BG_PIDS="$BG_PIDS $AGENT"
for _ in $(seq 300); do grep -q '^registered' "$TMP/watcher.out" && break; sleep 0.1; done
grep -q '^registered' "$TMP/watcher.out" \
    || { echo "the tray never registered: $(tail -5 "$TMP/agent.log")" >&2; exit 1; }
sleep "$SETTLE"
[ -n "${KEEP_SMAPS:-}" ] && cp "/proc/$AGENT/smaps" "$KEEP_SMAPS"
kill -0 "$AGENT" 2>/dev/null || { echo "the agent died: $(tail -5 "$TMP/agent.log")" >&2; exit 1; }

# --- samples ---------------------------------------------------------------
# field FILE NAME: a number from a /proc status file.
field() {
    sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "$1"
}

# threads OUT: "TID COMM VOLUNTARY NONVOLUNTARY" per thread.  The
# process's own status counts only its main thread.
threads() {
    for t in /proc/"$AGENT"/task/*; do
        echo "${t##*/} $(tr ' ' '_' < "$t/comm") $(field "$t/status" voluntary_ctxt_switches)" \
             "$(field "$t/status" nonvoluntary_ctxt_switches)"
    done > "$1"
}

sample() { # TAG
    cp "/proc/$AGENT/status" "$TMP/status.$1"
    cp "/proc/$AGENT/smaps_rollup" "$TMP/rollup.$1"
    threads "$TMP/threads.$1"
    echo "[$1] $(date -u +%H:%M:%S) VmRSS $(field "$TMP/status.$1" VmRSS) kB" \
         "(RssAnon $(field "$TMP/status.$1" RssAnon), RssFile $(field "$TMP/status.$1" RssFile))," \
         "Pss $(field "$TMP/rollup.$1" Pss) kB (Pss_Anon $(field "$TMP/rollup.$1" Pss_Anon))," \
         "VmHWM $(field "$TMP/status.$1" VmHWM) kB, main thread" \
         "$(field "$TMP/status.$1" voluntary_ctxt_switches) voluntary /" \
         "$(field "$TMP/status.$1" nonvoluntary_ctxt_switches) nonvoluntary"
}

echo "agent pid $AGENT, $(ls /proc/$AGENT/task | wc -l) threads; sampling over $DURATION s"
sample start
switches0=$(awk '{ s += $3 + $4 } END { print s }' "$TMP/threads.start")
elapsed=0
while [ "$elapsed" -lt "$DURATION" ]; do
    step=$((DURATION - elapsed))
    [ "$step" -gt 60 ] && step=60
    sleep "$step"
    elapsed=$((elapsed + step))
    kill -0 "$AGENT" 2>/dev/null || { echo "the agent died: $(tail -5 "$TMP/agent.log")" >&2; exit 1; }
    # A running total, to see when any wake-up happened.
    threads "$TMP/threads.now"
    echo "  +${elapsed}s switches since start: $(awk -v s0="$switches0" '{ s += $3 + $4 } END { print s - s0 }' "$TMP/threads.now")"
done
sample end

echo "per thread (switches during the $DURATION s: voluntary nonvoluntary):"
join "$TMP/threads.start" "$TMP/threads.end" 2>/dev/null \
    | awk '{ printf "  %-8s %-16s %6d %6d\n", $1, $2, $6 - $3, $7 - $4 }'
total=$(join "$TMP/threads.start" "$TMP/threads.end" 2>/dev/null \
    | awk '{ s += $6 - $3 + $7 - $4 } END { print s + 0 }')
echo "wake-ups (all threads) in $DURATION s: $total"
echo "VmRSS $(field "$TMP/status.end" VmRSS) kB (target < 8192 kB); VmHWM $(field "$TMP/status.end" VmHWM) kB"
echo "agent log lines after settling:"
tail -n 3 "$TMP/agent.log" | sed 's/^/  /'
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"

kill -TERM "$AGENT" 2>/dev/null || true
wait "$AGENT" 2>/dev/null || true
finish
