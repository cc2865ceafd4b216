#!/bin/sh
# test-policy.sh — kiosks: certkeeper-agent --headless with browser-url=
# writes the browser policies (issue 12, item 5) into the policy directory,
# here a test directory (CERTKEEPER_BROWSER_POLICY_ROOT; the real one is
# /etc and needs root):
#   * chromium/policies/managed/certkeeper.json: AutoSelectCertificateForUrls
#     for the site's origin, filtered on the issuer's CN;
#   * firefox/policies/policies.json: SecurityDevices adds the SoftHSM
#     module, the certificate is chosen automatically; the administrator's
#     own policies in that file stay;
#   * as root, real Chromium with certkeeper's policy file installed (a
#     file of its own in /etc/chromium/policies/managed, removed at the end)
#     logs in with no dialog and no setting of the test's own, and again
#     after a renewal, with the policy unchanged;
#   * the identity's browser-url= removed from the config: certkeeper's
#     policy files and entries go, the administrator's policies stay;
#   * a browser-url= that is not https:// is a config error.
#
# Usage: test-policy.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca PATH-TO-certkeeper-agent
. "$(dirname "$0")/lib-browser.sh"

AGENT=$(agent_exe "${3:-${KPR_BUILD_DIR:+$KPR_BUILD_DIR/agent/resident/certkeeper-agent}}")

init_token
ca_init --lifetime 1h
start_server
start_site
CA_CN=$(openssl x509 -in "$CA_PEM" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p')
ORIGIN=$(echo "$SITE_URL" | sed 's|/$||')
kiosk_code

POLICIES=$TMP/etc
CHROMIUM_POLICY=$POLICIES/chromium/policies/managed/certkeeper.json
FIREFOX_POLICY=$POLICIES/firefox/policies/policies.json
mkdir -p "$(dirname "$FIREFOX_POLICY")"
printf '{ "policies": { "DisableTelemetry": true } }\n' > "$FIREFOX_POLICY"

CONFIG=$TMP/agent.conf
write_config() { # [browser-url line]
    kiosk_config "$CONFIG" "$1"
}

AGENT_PID=
start_agent() {
    CERTKEEPER_BROWSER_POLICY_ROOT=$POLICIES "$AGENT" --headless --config "$CONFIG" \
        < /dev/null > /dev/null 2>> "$TMP/agent.log" &
    AGENT_PID=$!
    BG_PIDS="$BG_PIDS $AGENT_PID"
}

stop_agent() {
    kill -TERM "$AGENT_PID" 2> /dev/null || true
    wait "$AGENT_PID" 2> /dev/null || true
    BG_PIDS=$(echo " $BG_PIDS " | sed "s/ $AGENT_PID / /")
}

# wait_for CONDITION WHAT: up to 60 s.
wait_for() {
    for _ in $(seq 120); do
        eval "$1" && return 0
        kill -0 "$AGENT_PID" 2> /dev/null || break
        sleep 0.5
    done
    fail "$2 (agent log: $(tail -n 8 "$TMP/agent.log"))"
    return 1
}

# --- 1. a bad browser-url= ------------------------------------------------------------------
write_config "browser-url=http://127.0.0.1/"
rc=0
CERTKEEPER_BROWSER_POLICY_ROOT=$POLICIES timeout 30 "$AGENT" --headless --config "$CONFIG" \
    < /dev/null > /dev/null 2> "$TMP/bad.log" || rc=$?
[ "$rc" -eq 3 ] && grep -q "browser-url= is the https:// address" "$TMP/bad.log" \
    && ok "browser-url=http://… is a config error (exit 3) that names the key" \
    || fail "browser-url=http://…: exit $rc: $(cat "$TMP/bad.log")"

# --- 2. enrolled: the policy files -------------------------------------------------------------
write_config "browser-url=${SITE_URL}login?from=kiosk"
start_agent
wait_for '[ -f "$CHROMIUM_POLICY" ]' "the agent wrote no Chromium policy" || { stop_agent; finish; }
SERIAL=$(serial_of kiosk)
python3 - "$CHROMIUM_POLICY" "$ORIGIN" "$CA_CN" << 'EOF' && ok "Chromium policy: AutoSelectCertificateForUrls for $ORIGIN, issuer CN $CA_CN" || fail "Chromium policy is not as expected: $(cat "$CHROMIUM_POLICY")"
import json, sys
j = json.load(open(sys.argv[1]))
rules = [json.loads(r) for r in j["AutoSelectCertificateForUrls"]]
assert list(j) == ["AutoSelectCertificateForUrls"]
assert rules == [{"pattern": sys.argv[2], "filter": {"ISSUER": {"CN": sys.argv[3]}}}], rules
EOF
python3 - "$FIREFOX_POLICY" << 'EOF' && ok "Firefox policies.json: SecurityDevices adds the SoftHSM module, certificates chosen automatically, the administrator's DisableTelemetry kept" || fail "Firefox policies.json is not as expected: $(cat "$FIREFOX_POLICY")"
import json, sys
p = json.load(open(sys.argv[1]))["policies"]
assert p["DisableTelemetry"] is True
add = p["SecurityDevices"]["Add"]
assert list(add) == ["certkeeper (softhsm2)"] and add["certkeeper (softhsm2)"].endswith("libsofthsm2.so"), add
assert p["Preferences"]["security.default_personal_cert"] == {"Value": "Select Automatically", "Status": "default"}
EOF
[ "$(stat -c %a "$CHROMIUM_POLICY")" = 644 ] && [ "$(stat -c %a "$FIREFOX_POLICY")" = 644 ] \
    && ok "the policy files are 0644 (browsers of every user read them)" \
    || fail "policy file modes: $(stat -c '%a %n' "$CHROMIUM_POLICY" "$FIREFOX_POLICY")"
grep -q '^<6>browser policies now cover 1 identity' "$TMP/agent.log" \
    && ok "the agent logged the policy change" || fail "no policy line in the log: $(cat "$TMP/agent.log")"

# --- 3. real Chromium with certkeeper's policy (root only: /etc) -----------------------------------
if [ "$(id -u)" -eq 0 ]; then
    MANAGED=/etc/chromium/policies/managed
    [ -d "$MANAGED" ] || { mkdir -p "$MANAGED"; CLEANUP_DIRS=1; }
    INSTALLED=$MANAGED/certkeeper-test-$$.json
    CLEANUP_FILES="$CLEANUP_FILES $INSTALLED"
    cp "$CHROMIUM_POLICY" "$INSTALLED"
    chromium_visit "$SITE_URL" "$TMP/page1.html" --policy
    expect_login "$TMP/page1.html" "$SERIAL" "Chromium with certkeeper's policy file, no dialog"
else
    echo "SKIP (part): Chromium reads policies only from /etc: run as root to check it logs in with certkeeper's"
fi

# --- 4. a renewal: the policy stays, Chromium gets the new certificate ---------------------------
cp "$CHROMIUM_POLICY" "$TMP/chromium.before"
cp "$FIREFOX_POLICY" "$TMP/firefox.before"
for _ in $(seq 20); do
    run renew kiosk --force --pin-file "$PIN_FILE"
    [ "$RC" -ne 18 ] && break # the agent holds the lock for a moment
    sleep 0.5
done
expect_rc 0 "renew kiosk --force between the agent's rounds"
NEW_SERIAL=$(serial_of kiosk)
kill -HUP "$AGENT_PID"
wait_for 'grep -q "SIGHUP" "$TMP/agent.log" && [ "$(grep -c "next wake-up" "$TMP/agent.log")" -ge 2 ]' \
    "the agent did not run a round after SIGHUP"
cmp -s "$CHROMIUM_POLICY" "$TMP/chromium.before" && cmp -s "$FIREFOX_POLICY" "$TMP/firefox.before" \
    && ok "after the renewal the policy files are unchanged" || fail "the renewal changed the policy files"
if [ "$(id -u)" -eq 0 ]; then
    cp "$CHROMIUM_POLICY" "$INSTALLED"
    chromium_visit "$SITE_URL" "$TMP/page2.html" --policy
    expect_login "$TMP/page2.html" "$NEW_SERIAL" "Chromium with the same policy after the renewal"
fi

# --- 5. browser-url= removed: certkeeper's policies go ----------------------------------------------
stop_agent
write_config ""
start_agent
wait_for '[ ! -f "$CHROMIUM_POLICY" ]' "the Chromium policy is still there without browser-url="
stop_agent
python3 - "$FIREFOX_POLICY" << 'EOF' && ok "Firefox policies.json holds only the administrator's policy again" || fail "Firefox policies.json still holds certkeeper's entries: $(cat "$FIREFOX_POLICY")"
import json, sys
assert json.load(open(sys.argv[1])) == {"policies": {"DisableTelemetry": True}}
EOF
stop_site

finish
