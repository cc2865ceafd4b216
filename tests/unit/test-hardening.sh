#!/bin/sh
# test-hardening.sh — the certkeeper binary carries the hardening that the
# root meson.build asks for: full RELRO (GNU_RELRO + BIND_NOW), a
# non-executable stack, and position independence (ELF type DYN).
#
# Usage: test-hardening.sh PATH-TO-certkeeper   (meson passes certkeeper_exe)
# Exit 0 = all present, 1 = something missing, 77 = skipped (no readelf).
set -eu

binary=${1:?usage: test-hardening.sh PATH-TO-BINARY}
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

if ! command -v readelf >/dev/null 2>&1; then
    echo "SKIP: readelf (binutils) is not installed" >&2
    exit 77
fi
if [ ! -f "$binary" ]; then
    echo "FAIL: $binary does not exist (build it first)" >&2
    exit 1
fi

header=$(LC_ALL=C readelf -h -W "$binary")
dynamic=$(LC_ALL=C readelf -d -W "$binary")
segments=$(LC_ALL=C readelf -l -W "$binary")

# PIE: a position-independent executable has ELF type DYN (and, unlike a
# shared library, an interpreter and the PIE flag in FLAGS_1).
if echo "$header" | grep -Eq '^[[:space:]]*Type:[[:space:]]+DYN'; then
    echo "ok: PIE (ELF type DYN)"
else
    fail "expected ELF type DYN (PIE, -fPIE -pie / b_pie=true); readelf -h says: $(echo "$header" | grep 'Type:')"
fi

# BIND_NOW: -Wl,-z,now gives FLAGS BIND_NOW and/or FLAGS_1 NOW.
if echo "$dynamic" | grep -Eq '\(FLAGS\)[[:space:]].*BIND_NOW|\(FLAGS_1\)[[:space:]].*[[:space:]]NOW([[:space:]]|$)|\(BIND_NOW\)'; then
    echo "ok: BIND_NOW"
else
    fail "expected BIND_NOW in FLAGS or NOW in FLAGS_1 (-Wl,-z,now); dynamic flags are: $(echo "$dynamic" | grep -E 'FLAGS' || echo none)"
fi

# RELRO: a GNU_RELRO segment (-Wl,-z,relro).
if echo "$segments" | grep -Eq '^[[:space:]]*GNU_RELRO[[:space:]]'; then
    echo "ok: GNU_RELRO"
else
    fail "expected a GNU_RELRO program header (-Wl,-z,relro)"
fi

# Non-executable stack: GNU_STACK present with flags RW, not RWE.
stack=$(echo "$segments" | grep -E '^[[:space:]]*GNU_STACK[[:space:]]' || true)
if [ -z "$stack" ]; then
    fail "expected a GNU_STACK program header (without it the stack may be executable)"
else
    # The flags are the field before the alignment (last field).
    flags=$(echo "$stack" | awk '{ f = ""; for (i = 7; i < NF; i++) f = f $i; print f }')
    case "$flags" in
        *E*) fail "expected a non-executable stack; GNU_STACK flags are '$flags' (-Wl,-z,noexecstack)" ;;
        *) echo "ok: GNU_STACK not executable (flags '$flags')" ;;
    esac
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures hardening check(s) failed for $binary" >&2
    exit 1
fi
echo "all hardening checks passed for $binary"
