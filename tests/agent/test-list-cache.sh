#!/bin/sh
# test-list-cache.sh — `list` and `status` read what they show from
# STATE/list-cache while the records are unchanged (issue 11, item 6: a
# listing must not cost a record parse per identity), and the records stay
# the truth: a record replaced by certkeeper, edited in place (even with
# its size and mtime put back), damaged or removed is never shown from
# the cache; a damaged or foreign cache is ignored and written again; the
# output is the same with and without the cache.
#
# Usage: test-list-cache.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib.sh"
command -v strace > /dev/null 2>&1 || skip "strace is not installed (tools/deps.sh installs it)"

init_token
ca_init --lifetime 1h
start_server
STRONG=$(secret_file strong "Pass-Strong-Horse-93!")
CACHE=$STATE/list-cache
IDS=$STATE/identities

enroll alice
expect_rc 0 "enroll alice"
# Records made by hand from alice's (a listing of many identities).
i=1
while [ "$i" -le 40 ]; do
    sed "s/^name=alice\$/name=copy$i/" "$IDS/alice.ini" > "$IDS/copy$i.ini"
    i=$((i + 1))
done

# list_both WHAT: `list --json` without the cache (removed first) and then
# from the cache it wrote; both must agree.
list_both() {
    rm -f "$CACHE"
    run list --json
    cp "$OUT" "$TMP/nocache.json"
    run list --json
    cp "$OUT" "$TMP/cached.json"
    if cmp -s "$TMP/nocache.json" "$TMP/cached.json"; then
        ok "$1: the same listing with and without the cache"
    else
        fail "$1: the cached listing differs"
        diff "$TMP/nocache.json" "$TMP/cached.json" | head -20 >&2
    fi
}

# Records changed less than a second ago are not cached (their times
# could stay the same through another change): wait until they settled.
sleep 1.2
list_both "41 identities"
check_json "$TMP/cached.json" 'len(j) == 41 and j[0]["name"] == "alice"' "list --json: 41 identities"
[ -f "$CACHE" ] && ok "list wrote $CACHE" || fail "no $CACHE after a listing"
mode=$(stat -c %a "$CACHE" 2>/dev/null)
[ "$mode" = 600 ] && ok "the cache is 0600" || fail "the cache has mode $mode"
grep -q copy40 "$CACHE" && ok "the cache holds the identities" || fail "copy40 is not in the cache"
# From now on each listing must use it: no record is opened.
# (LeakSanitizer cannot run under ptrace: leaks are not checked in this run.)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    strace -f -e trace=openat,open -o "$TMP/strace" "$CERTKEEPER" list --json < /dev/null > /dev/null 2>&1
opened=$(grep -c '\.ini"' "$TMP/strace" || true)
if [ "$opened" -eq 0 ] && grep -q 'list-cache' "$TMP/strace"; then
    ok "a listing with a valid cache reads the cache and opens no record"
else
    fail "a listing with a valid cache opened $opened records"
fi

# 1. certkeeper replaces a record (rename): shown at once.
run export alice --to "$TMP/alice.p12" --passphrase-file "$STRONG" --pin-file "$PIN_FILE"
expect_rc 0 "export alice (its record changes)"
run list --json
check_json "$OUT" 'j[0]["backup_missing"] is False and j[0]["backup"]["when"]' \
    "list right after export: alice's backup, not the cached 'missing'"

# 2. An edit in place with size and mtime put back: only the ctime tells.
sleep 1.2
run list --json
python3 - "$IDS/copy7.ini" <<'PY'
import os, sys
p = sys.argv[1]
st = os.stat(p)
data = open(p, 'rb').read()
new = data.replace(b'\nkey-type=ec-p256', b'\nkey-type=ec-p384', 1)
assert new != data and len(new) == len(data)
with open(p, 'r+b') as f:
    f.write(new)
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
st2 = os.stat(p)
assert (st2.st_ino, st2.st_size, st2.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
PY
run list --json
check_json "$OUT" '[x["key_type"] for x in j if x["name"] == "copy7"] == ["ec-p384"]' \
    "an edit in place (same inode, size and mtime) is shown"

# 3. A record damaged in place is reported, not listed from the cache.
sleep 1.2
run list --json
python3 - "$IDS/copy8.ini" <<'PY'
import os, sys
p = sys.argv[1]
size = os.path.getsize(p)
with open(p, 'r+b') as f:
    f.write(b'\x00garbage' * (size // 8))
PY
run status --json
expect_rc 26 "status --json with a record damaged in place"
expect_stderr "copy8" "the damaged record is named"
check_json "$OUT" '"copy8" not in [x["name"] for x in j] and len(j) == 40' \
    "the damaged record is not listed from the cache"
rm -f "$IDS/copy8.ini"

# 4. A removed record is not listed, cached or not.
rm -f "$IDS/copy9.ini"
run list --json
check_json "$OUT" '"copy9" not in [x["name"] for x in j] and len(j) == 39' \
    "a removed record is not listed"

# 5. A damaged cache, or one of another format: ignored, written again.
sleep 1.2
list_both "after the changes"
for bad in garbage truncated empty; do
    case $bad in
        garbage) head -c 4096 /dev/urandom > "$CACHE" ;;
        truncated) run list --json; head -c 3000 "$CACHE" > "$TMP/t" && cat "$TMP/t" > "$CACHE" ;;
        empty) : > "$CACHE" ;;
    esac
    run list --json
    expect_rc 0 "list with a $bad cache"
    if cmp -s "$OUT" "$TMP/nocache.json"; then
        ok "list with a $bad cache: the right listing"
    else
        fail "list with a $bad cache: the listing differs"
    fi
    grep -q copy40 "$CACHE" && ok "the $bad cache was written again" \
        || fail "the $bad cache was not replaced"
done

finish
