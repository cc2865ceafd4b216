#!/usr/bin/env bash
# Builds certkeeper and runs the whole test suite (meson test, every suite).
#   tools/test.sh              build in build/, run everything
#   tools/test.sh --sanitize   the same in build-asan/ under ASan + UBSan
# Installs its Debian packages first (tools/deps.sh).  With CI=true warnings
# are errors and a skipped test fails the run (CI installs every tool, so a
# skip there means a missing install step).
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=build
# Test builds carry the crash fault points (KPR_FAULT_AT); releases do not.
setup_args=(-Dfault_injection=true)
if [ "${1:-}" = "--sanitize" ]; then
  builddir=build-asan
  setup_args+=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug)
fi
if [ "${CI:-}" = "true" ]; then
  setup_args+=(--werror)
fi

tools/deps.sh

# A directory left by a failed setup is not a build tree: start it again.
if [ -f "$builddir/meson-private/coredata.dat" ]; then
  meson setup --reconfigure "$builddir" "${setup_args[@]}"
else
  rm -rf "$builddir"
  meson setup "$builddir" "${setup_args[@]}"
fi
ninja -C "$builddir"

status=0
meson test -C "$builddir" --print-errorlogs --num-processes "$(nproc)" || status=$?

# One plain summary line that any reader of the log understands.
python3 - "$builddir/meson-logs/testlog.json" <<'PY' || status=1
import json, os, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif r == "SKIP":
        skipped += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
if os.environ.get("CI") == "true" and skipped:
    print("CI: a test was skipped: some tool it needs is not installed", file=sys.stderr)
    sys.exit(1)
if passed == 0:
    print("no test ran", file=sys.stderr)
    sys.exit(1)
PY
exit "$status"
