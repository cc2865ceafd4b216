#!/usr/bin/env python3
"""scan-memory.py PID NEEDLE — exits 0 when NEEDLE (ASCII) is found in the
writable anonymous memory or heap of process PID, 1 when it is not, 77
when that memory cannot be read (a non-dumpable process of a user who is
not root).  Reads /proc/PID/mem, as a debugger would."""
import sys

pid, needle = sys.argv[1], sys.argv[2].encode()
CHUNK = 1 << 20
try:
    mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
    maps = open(f"/proc/{pid}/maps").read().splitlines()
except PermissionError:
    sys.exit(77)
for line in maps:
    fields = line.split()
    start, end = (int(x, 16) for x in fields[0].split("-"))
    path = fields[5] if len(fields) > 5 else ""
    # Writable data only; sanitizer shadow and reserved ranges are huge.
    if not fields[1].startswith("rw") or (path and path != "[heap]") or end - start > 1 << 30:
        continue
    at = start
    while at < end:
        try:
            mem.seek(at)
            data = mem.read(min(CHUNK + len(needle), end - at))
        except OSError:
            break
        if needle in data:
            sys.exit(0)
        at += CHUNK
sys.exit(1)
