# lib-browser.sh — the browser suite's helpers, on top of tests/agent/lib.sh
# (a fresh person in a temp HOME, the software token, certkeeper-ca on a
# loopback port):
#   * a site: openssl s_server on 127.0.0.1 that demands a client
#     certificate from the test CA (-Verify 1 -verify_return_error -www)
#     and shows the one it got on its page;
#   * real headless Chromium (Debian's chromium) and Firefox ESR (driven
#     over Marionette by marionette.py, no geckodriver);
#   * every browser runs in a process group of its own under a time limit
#     and is killed with its children at the end, also when a check fails.
#
# Source it with "$@" = PATH-TO-certkeeper PATH-TO-certkeeper-ca.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../agent/lib.sh"

for tool in chromium firefox-esr certutil modutil setsid; do
    command -v "$tool" > /dev/null 2>&1 \
        || skip "$tool is not installed (chromium, firefox-esr, libnss3-tools, util-linux are needed)"
done

BROWSER_PGIDS=
browser_cleanup() {
    for g in $BROWSER_PGIDS; do
        kill -KILL "-$g" 2> /dev/null || true
    done
    for f in $CLEANUP_FILES; do
        rm -f "$f"
    done
    [ -z "$CLEANUP_DIRS" ] || rmdir /etc/chromium/policies/managed /etc/chromium/policies 2> /dev/null || true
    cleanup
}
CLEANUP_FILES=
CLEANUP_DIRS=
trap browser_cleanup EXIT

CHROMIUM_DB=$XDG_DATA_HOME/pki/nssdb

# forget_pgid PGID: the group ended; no longer ours to kill.
forget_pgid() {
    kill -KILL "-$1" 2> /dev/null || true
    BROWSER_PGIDS=$(echo " $BROWSER_PGIDS " | sed "s/ $1 / /; s/^ *//; s/ *\$//")
}

# --- the site ----------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TMP/site.key" -out "$TMP/site.pem" -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2> /dev/null
SITE_PEM=$TMP/site.pem

# start_site [CLIENT-CA-FILE]: s_server asking for a client certificate
# from CLIENT-CA-FILE (default: the test CA); sets SITE_URL, SITE_LOG,
# SITE_PID.
start_site() {
    client_ca=${1:-$CA_PEM}
    port=$(free_port)
    SITE_LOG=$TMP/site.$port.log
    openssl s_server -accept "127.0.0.1:$port" -Verify 1 -verify_return_error \
        -CAfile "$client_ca" -cert "$TMP/site.pem" -key "$TMP/site.key" -www \
        > "$SITE_LOG" 2>&1 < /dev/null &
    SITE_PID=$!
    BG_PIDS="$BG_PIDS $SITE_PID"
    for _ in $(seq 100); do
        grep -q ACCEPT "$SITE_LOG" 2> /dev/null && break
        sleep 0.1
    done
    grep -q ACCEPT "$SITE_LOG" || { echo "FAIL: s_server did not start: $(cat "$SITE_LOG")" >&2; exit 1; }
    SITE_URL=https://127.0.0.1:$port/
}

stop_site() {
    kill -KILL "$SITE_PID" 2> /dev/null || true
    wait "$SITE_PID" 2> /dev/null || true
    BG_PIDS=$(echo " $BG_PIDS " | sed "s/ $SITE_PID / /")
}

# page_serial FILE: the serial (upper-case hex) of the client certificate
# the s_server page shows, or nothing.
page_serial() {
    python3 - "$1" << 'EOF'
import re, sys
text = open(sys.argv[1], errors="replace").read()
at = text.find("Client certificate")
m = at >= 0 and re.search(r"Serial Number:\s*(?:([0-9]+) \(0x[0-9a-f]+\)|\n\s*([0-9a-f:]+))", text[at:])
if m:
    print(("%X" % int(m.group(1))) if m.group(1) else m.group(2).replace(":", "").upper().lstrip("0") or "0")
EOF
}

# expect_login FILE SERIAL WHAT: the site saw the certificate SERIAL.
expect_login() {
    got=$(page_serial "$1")
    if [ -n "$2" ] && [ "$got" = "$2" ]; then
        ok "$3: the site got the client certificate with serial $2"
    else
        fail "$3: expected the site to see serial $2, it saw '${got:-no certificate}'; page: $(head -c 600 "$1" | tr '\n' ' ')"
    fi
}

# expect_no_login FILE WHAT
expect_no_login() {
    got=$(page_serial "$1")
    if [ -z "$got" ]; then
        ok "$2: the site got no client certificate (login refused)"
    else
        fail "$2: the site still got a client certificate (serial $got)"
    fi
}

# serial_of NAME: the identity's current serial, from show --json.
serial_of() {
    "$CERTKEEPER" show "$1" --json < /dev/null 2> /dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin).get("serial") or "")'
}

# --- Chromium ------------------------------------------------------------------------
CHROMIUM_FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
 --disable-background-networking --disable-component-update --disable-sync
 --ignore-certificate-errors"

# chromium_visit URL OUT [ISSUER-CN | --policy]: a fresh Chromium profile
# loads URL (headless, --dump-dom) and writes the page to OUT.  Chromium
# picks a client certificate without a dialog only for the origins that
# the AutoSelectCertificateForUrls setting names: the root-owned policy
# file sets it (test-policy.sh installs certkeeper's own: --policy), and
# otherwise the profile's preferences carry the same setting, so that the
# test needs no root and touches nothing outside its temp dir.
chromium_visit() {
    dir=$(mktemp -d "$TMP/chromium.XXXXXX")
    origin=$(echo "$1" | sed 's|^\(https://[^/]*\).*|\1|')
    filter='{}'
    [ -z "${3:-}" ] || filter="{\"ISSUER\":{\"CN\":\"$3\"}}"
    mkdir -p "$dir/Default"
    [ "${3:-}" = --policy ] || printf '{"profile":{"content_settings":{"exceptions":{"auto_select_certificate":{"%s,*":{"setting":{"filters":[%s]}}}}}}}\n' \
        "$origin" "$filter" > "$dir/Default/Preferences"
    # shellcheck disable=SC2086 # the flags are words
    setsid timeout -k 5 60 chromium $CHROMIUM_FLAGS --user-data-dir="$dir" --dump-dom "$1" \
        > "$2" 2> "$dir.log" < /dev/null &
    pid=$!
    BROWSER_PGIDS="$BROWSER_PGIDS $pid"
    crc=0
    wait "$pid" || crc=$?
    forget_pgid "$pid"
    [ "$crc" -ne 124 ] || echo "  (chromium did not finish within 60 s: killed)"
    echo "  chromium $1 -> exit $crc"
}

# chromium_start: a headless Chromium that keeps running (for "running"
# checks); CHROMIUM_PGID.  chromium_stop ends it.
chromium_start() {
    dir=$(mktemp -d "$TMP/chromium.XXXXXX")
    # shellcheck disable=SC2086
    setsid timeout -k 5 120 chromium $CHROMIUM_FLAGS --user-data-dir="$dir" \
        --remote-debugging-port=0 about:blank > "$dir.log" 2>&1 < /dev/null &
    CHROMIUM_PGID=$!
    BROWSER_PGIDS="$BROWSER_PGIDS $CHROMIUM_PGID"
    for _ in $(seq 100); do
        grep -q "DevTools listening" "$dir.log" 2> /dev/null && break
        sleep 0.1
    done
}

chromium_stop() {
    forget_pgid "$CHROMIUM_PGID"
    wait "$CHROMIUM_PGID" 2> /dev/null || true
}

# --- Firefox ---------------------------------------------------------------------------
# firefox_prefs DIR: the profile's test preferences: Marionette on a free
# port (written to MarionetteActivePort), the certificate chosen
# automatically (what a person sets under "Certificates"), and nothing
# that phones home on a machine without network.
firefox_prefs() {
    cat > "$1/user.js" << 'EOF'
user_pref("marionette.port", 0);
user_pref("security.default_personal_cert", "Select Automatically");
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.disabledForTesting", true);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
EOF
}

# firefox_start PROFILE-DIR: headless Firefox ESR with Marionette;
# FIREFOX_PGID.  Waits until it opened its Marionette port.
firefox_start() {
    rm -f "$1/MarionetteActivePort"
    setsid timeout -k 5 90 firefox-esr --headless --marionette -remote-allow-system-access \
        --no-remote --profile "$1" about:blank > "$TMP/firefox.$$.log" 2>&1 < /dev/null &
    FIREFOX_PGID=$!
    BROWSER_PGIDS="$BROWSER_PGIDS $FIREFOX_PGID"
    for _ in $(seq 600); do
        [ -s "$1/MarionetteActivePort" ] && break
        kill -0 "$FIREFOX_PGID" 2> /dev/null || break
        sleep 0.1
    done
}

# firefox_visit PROFILE-DIR URL OUT [--keep]: in the running Firefox, log in
# to the token with the PIN (from its file) and load URL; the page goes to
# OUT; Firefox quits unless --keep.
firefox_visit() {
    frc=0
    timeout 75 python3 "$HERE/marionette.py" "$1" "$2" "$PIN_FILE" "$3" ${4:-} 2> "$3.err" || frc=$?
    [ -f "$3" ] || : > "$3"
    if [ "${4:-}" = --keep ]; then
        echo "  firefox $2 -> marionette exit $frc $(cat "$3.err")"
        return 0
    fi
    for _ in $(seq 30); do
        kill -0 "$FIREFOX_PGID" 2> /dev/null || break
        sleep 0.1
    done
    forget_pgid "$FIREFOX_PGID"
    wait "$FIREFOX_PGID" 2> /dev/null || true
    echo "  firefox $2 -> marionette exit $frc $(cat "$3.err")"
}

# status_json: browser status --json into $JSON.
status_json() {
    run browser status --json
    JSON=$OUT
}

# store_json FILE TITLE EXPR: EXPR on the store titled TITLE (s), e.g.
#   check_json "$JSON" "$(store 'Chromium' 's["running"]')" WHAT
store() {
    echo "[s for s in j['stores'] if s['title'] == '$1'] and all(($2) for s in j['stores'] if s['title'] == '$1')"
}

# use NAME: the identity's entry within a store expression (u).
use() {
    echo "[u for u in s['identities'] if u['name'] == '$1'] and all(($2) for u in s['identities'] if u['name'] == '$1')"
}
