#!/bin/sh
# test-firefox.sh — certkeeper and a real headless Firefox ESR (issue 12):
#   * two profiles, one in each place Firefox keeps them: "work" made by
#     Firefox itself (-CreateProfile: $XDG_CONFIG_HOME/mozilla/firefox on a
#     new account) and "home" under ~/.mozilla/firefox; status --json lists
#     both before anything is registered;
#   * "certkeeper enroll" and no other step registers the SoftHSM module in
#     both (modutil), the certificate is seen there (certutil);
#   * Firefox over Marionette: the token is logged in with its PIN (the
#     way a person answers Firefox's PIN prompt once per session), then the
#     site that demands a client certificate sees the identity's serial: a
#     "standard" key in "work", after "certkeeper renew" the new serial, and
#     a "strong" key (PIN needed for every use) in "home";
#   * a running Firefox is reported for its profile only.
#
# Usage: test-firefox.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib-browser.sh"

init_token
ca_init --lifetime 1h
start_server

# --- the profiles ------------------------------------------------------------------------
timeout 60 firefox-esr --headless -CreateProfile work > "$TMP/create.log" 2>&1 < /dev/null || true
WORK=$(find "$XDG_CONFIG_HOME/mozilla/firefox" -maxdepth 1 -type d -name '*.work' 2> /dev/null | head -n 1)
[ -n "$WORK" ] || { echo "FAIL: firefox-esr -CreateProfile made no profile: $(cat "$TMP/create.log")" >&2; exit 1; }
HOME_PROFILE=$HOME/.mozilla/firefox/k1ok3r.home
mkdir -p "$HOME_PROFILE"
cat > "$HOME/.mozilla/firefox/profiles.ini" << EOF
[Profile0]
Name=home
IsRelative=1
Path=k1ok3r.home

[General]
StartWithLastProfile=1
Version=2
EOF
firefox_prefs "$WORK"
firefox_prefs "$HOME_PROFILE"

status_json
expect_rc 0 "browser status with two Firefox profiles"
check_json "$JSON" "$(store 'Firefox (work)' "s['browser'] == 'firefox' and s['path'] == '$WORK' and s['profile'] == 'work' and not s['running']")" \
    "status: the profile Firefox made ($WORK)"
check_json "$JSON" "$(store 'Firefox (home)' "s['path'] == '$HOME_PROFILE' and s['profile'] == 'home'")" \
    "status: the profile under ~/.mozilla/firefox"

# --- enroll: both profiles ---------------------------------------------------------------------
enroll alice --no-backup
expect_rc 0 "enroll alice (standard key)"
expect_stdout "Firefox (work)" "enroll alice names the profiles it set up"
expect_stdout "Firefox (home)" "enroll alice names the profiles it set up"
SERIAL=$(serial_of alice)
for dir in "$WORK" "$HOME_PROFILE"; do
    modutil -dbdir "sql:$dir" -list "certkeeper (softhsm2)" < /dev/null > "$TMP/modutil.txt" 2>&1 || true
    grep -q "Slot Mechanism Flags: FRIENDLY" "$TMP/modutil.txt" && grep -q "Token Name: certkeeper" "$TMP/modutil.txt" \
        && ok "modutil: the module is registered with FRIENDLY in $(basename "$dir")" \
        || fail "modutil: no FRIENDLY certkeeper module in $dir: $(cat "$TMP/modutil.txt")"
    got=$(certutil -L -d "sql:$dir" -n "certkeeper:alice" -a < /dev/null 2> /dev/null | openssl x509 -noout -serial 2> /dev/null | sed 's/^serial=//')
    [ "$got" = "$SERIAL" ] && ok "certutil: $(basename "$dir") sees alice's certificate ($SERIAL)" \
        || fail "certutil: $(basename "$dir") shows '$got', expected $SERIAL"
done
status_json
check_json "$JSON" "$(store 'Firefox (work)' "$(use alice "u['usable']")") and $(store 'Firefox (home)' "$(use alice "u['usable']")")" \
    "status --json: alice usable in both profiles"

# --- a standard key: log in, renew, log in again ---------------------------------------------------
start_site
firefox_start "$WORK"
status_json
check_json "$JSON" "$(store 'Firefox (work)' "s['running'] and not s['restart_needed']") and $(store 'Firefox (home)' "not s['running']")" \
    "status: the running Firefox is reported for its profile (work), not for the other"
firefox_visit "$WORK" "$SITE_URL" "$TMP/page1.html" --keep
expect_login "$TMP/page1.html" "$SERIAL" "Firefox (work), standard key"
grep -q "depth=0 CN = alice" "$SITE_LOG" && ok "s_server verified alice's certificate" \
    || fail "s_server did not log alice's certificate: $(tail -n 5 "$SITE_LOG")"

run renew alice --force --pin-file "$PIN_FILE"
expect_rc 0 "renew alice --force"
NEW_SERIAL=$(serial_of alice)
[ -n "$NEW_SERIAL" ] && [ "$NEW_SERIAL" != "$SERIAL" ] && ok "renewed: serial $NEW_SERIAL" \
    || fail "renew did not change the serial"
# The same Firefox, still running: it finds the new certificate on the
# token by itself (a new site, so no TLS session is resumed).
stop_site
start_site
firefox_visit "$WORK" "$SITE_URL" "$TMP/page2.html"
expect_login "$TMP/page2.html" "$NEW_SERIAL" "Firefox (work) after renew, without a restart"

# --- a strong key in the other profile ------------------------------------------------------------
run delete alice --yes --pin-file "$PIN_FILE"
expect_rc 0 "delete alice (bob's is then the only certificate the site can get)"
ENROLL_USER=bob enroll bob --protection strong --no-backup
expect_rc 0 "enroll bob (strong key)"
run show bob --json
check_json "$OUT" "j['protection'] == 'strong'" "bob's key is strong"
firefox_start "$HOME_PROFILE"
firefox_visit "$HOME_PROFILE" "$SITE_URL" "$TMP/page3.html"
expect_login "$TMP/page3.html" "$(serial_of bob)" "Firefox (home), strong key"
stop_site

finish
