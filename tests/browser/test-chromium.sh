#!/bin/sh
# test-chromium.sh — certkeeper and a real headless Chromium, as a new user
# meets them (issue 12):
#   * --no-browser and [browsers] automatic=false leave the browsers alone
#     (no NSS database appears);
#   * "certkeeper enroll" and no other step: Chromium's database is created
#     where Chromium would ($XDG_DATA_HOME/pki/nssdb), the SoftHSM module is
#     registered with FRIENDLY (modutil), the certificate is seen through it
#     (certutil), and Chromium logs in to a site that demands a client
#     certificate: the site saw the identity's serial;
#   * browser check: accepted, the CA asked for; a site asking for another
#     CA (exit 21, says why a browser would not offer it); a closed port
#     (exit 20);
#   * a running Chromium is reported, and a change made while it runs says
#     that a restart is needed;
#   * after "browser unregister" the login fails; "register" brings it back;
#   * after "certkeeper renew" Chromium presents the new serial.
#
# Usage: test-chromium.sh PATH-TO-certkeeper PATH-TO-certkeeper-ca
. "$(dirname "$0")/lib-browser.sh"

init_token
ca_init --lifetime 1h
start_server
CA_CN=$(openssl x509 -in "$CA_PEM" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p')

# --- 1. opting out -------------------------------------------------------------------
ENROLL_USER=bob enroll bob --no-browser
expect_rc 0 "enroll bob --no-browser"
[ ! -e "$CHROMIUM_DB" ] && ok "--no-browser: no NSS database was created" \
    || fail "--no-browser: $CHROMIUM_DB appeared"
mkdir -p "$XDG_CONFIG_HOME/certkeeper"
printf '[browsers]\nautomatic=false\n' > "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"
run renew bob --force --pin-file "$PIN_FILE"
expect_rc 0 "renew bob with [browsers] automatic=false"
[ ! -e "$CHROMIUM_DB" ] && ok "automatic=false: no NSS database was created" \
    || fail "automatic=false: $CHROMIUM_DB appeared"
rm "$XDG_CONFIG_HOME/certkeeper/certkeeper.conf"
status_json
expect_rc 0 "browser status before anything was registered"
check_json "$JSON" "$(store Chromium "not s['exists'] and s['path'] == '$CHROMIUM_DB' and $(use bob "not u['usable'] and 'register' in u['problem']")")" \
    "status: Chromium's database does not exist yet; bob is not usable and the problem says what to run"
run delete bob --yes --pin-file "$PIN_FILE"
expect_rc 0 "delete bob (one identity from here on: the site's choice is unambiguous)"

# --- 2. enroll, and nothing else ------------------------------------------------------------
enroll alice
expect_rc 0 "enroll alice"
expect_stdout "Ready in Chromium" "enroll alice"
SERIAL=$(serial_of alice)
[ -f "$CHROMIUM_DB/cert9.db" ] && ok "enroll created Chromium's NSS database in \$XDG_DATA_HOME/pki/nssdb" \
    || fail "no NSS database at $CHROMIUM_DB after enroll"
modutil -dbdir "sql:$CHROMIUM_DB" -list "certkeeper (softhsm2)" > "$TMP/modutil.txt" 2>&1 </dev/null || true
grep -q "Library file: .*libsofthsm2.so" "$TMP/modutil.txt" && grep -q "Slot Mechanism Flags: FRIENDLY" "$TMP/modutil.txt" \
    && grep -q "Token Name: certkeeper" "$TMP/modutil.txt" \
    && ok "modutil: the SoftHSM module is registered with FRIENDLY and shows the token" \
    || fail "modutil does not show the module as expected: $(cat "$TMP/modutil.txt")"
certutil -L -h all -d "sql:$CHROMIUM_DB" > "$TMP/certutil.txt" 2>&1 </dev/null || true
nss_serial=$(certutil -L -d "sql:$CHROMIUM_DB" -n "certkeeper:alice" -a 2>/dev/null </dev/null | openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//')
[ -n "$SERIAL" ] && [ "$nss_serial" = "$SERIAL" ] \
    && ok "certutil: NSS sees certkeeper:alice with serial $SERIAL before any login" \
    || fail "certutil: expected certkeeper:alice with serial $SERIAL, got '$nss_serial': $(cat "$TMP/certutil.txt")"
status_json
check_json "$JSON" "$(store Chromium "s['exists'] and not s['running'] and any(m['ours'] and m['library'].endswith('libsofthsm2.so') for m in s['modules']) and $(use alice "u['usable'] and u['registered'] and u['visible'] and u['serial'] == '$SERIAL' and u['problem'] is None")")" \
    "status --json: alice usable in Chromium, module ours"

start_site
chromium_visit "$SITE_URL" "$TMP/page1.html" "$CA_CN"
expect_login "$TMP/page1.html" "$SERIAL" "Chromium after enroll"

# --- 3. browser check ------------------------------------------------------------------------
run browser check alice --url "$SITE_URL" --ca-file "$SITE_PEM" --pin-file "$PIN_FILE" --json
expect_rc 0 "browser check alice"
check_json "$OUT" "j['asked'] and j['accepted'] and j['issuer_asked'] and j['asked_cas'] == ['CN=$CA_CN'] and j['why_not'] is None and j['http_status'] == 200" \
    "browser check: asked for the test CA, accepted, nothing in a browser's way"
MAIN_SITE=$SITE_URL
start_site "$SITE_PEM"
run browser check alice --url "$SITE_URL" --ca-file "$SITE_PEM" --pin-file "$PIN_FILE"
expect_rc 21 "browser check against a site that asks for another CA"
expect_stdout "asks for a client certificate issued by CN=127.0.0.1" "browser check, other CA"
expect_stdout "no browser offers it there" "browser check, other CA"
stop_site
run browser check alice --url "https://127.0.0.1:$(free_port)/" --pin-file "$PIN_FILE"
expect_rc 20 "browser check against a closed port"
run browser check alice --url "http://127.0.0.1/" --pin-file "$PIN_FILE"
expect_rc 2 "browser check with an http:// address"

# --- 4. a running Chromium ---------------------------------------------------------------------
chromium_start
status_json
check_json "$JSON" "$(store Chromium "s['running'] and not s['restart_needed']")" \
    "status: a running Chromium is reported; it started after the registration, no restart needed"
sleep 1
run browser unregister
expect_rc 0 "browser unregister while Chromium runs"
status_json
check_json "$JSON" "$(store Chromium "s['running'] and s['restart_needed'] and not any(m['ours'] for m in s['modules']) and $(use alice "not u['registered'] and not u['usable']")")" \
    "status: after a change the running Chromium needs a restart; alice is no longer registered"
chromium_stop
modutil -dbdir "sql:$CHROMIUM_DB" -list < /dev/null 2>&1 | grep -q "certkeeper" \
    && fail "modutil still lists a certkeeper module after unregister" \
    || ok "modutil: no certkeeper module after unregister"

# --- 5. unregistered: no login ---------------------------------------------------------------------
SITE_URL=$MAIN_SITE
chromium_visit "$SITE_URL" "$TMP/page2.html" "$CA_CN"
expect_no_login "$TMP/page2.html" "Chromium after browser unregister"
run browser check alice --url "$SITE_URL" --ca-file "$SITE_PEM" --pin-file "$PIN_FILE"
expect_rc 0 "browser check after unregister (the site still accepts the key itself)"
expect_stdout "not registered in Chromium" "browser check names why a browser would not offer it"

run browser register --browser chromium
expect_rc 0 "browser register --browser chromium"
cp "$CHROMIUM_DB/pkcs11.txt" "$TMP/pkcs11.before"
run browser register
expect_rc 0 "browser register again"
cmp -s "$CHROMIUM_DB/pkcs11.txt" "$TMP/pkcs11.before" && ok "register is idempotent: pkcs11.txt unchanged" \
    || fail "a second register changed pkcs11.txt"

# --- 6. renew: the new certificate, no browser step needed ---------------------------------------------
run renew alice --force --pin-file "$PIN_FILE"
expect_rc 0 "renew alice --force"
NEW_SERIAL=$(serial_of alice)
[ -n "$NEW_SERIAL" ] && [ "$NEW_SERIAL" != "$SERIAL" ] && ok "renewed: serial $NEW_SERIAL" \
    || fail "renew did not change the serial ($SERIAL -> $NEW_SERIAL)"
cmp -s "$CHROMIUM_DB/pkcs11.txt" "$TMP/pkcs11.before" && ok "renew left Chromium's module list as it was" \
    || fail "renew changed pkcs11.txt"
chromium_visit "$SITE_URL" "$TMP/page3.html" "$CA_CN"
expect_login "$TMP/page3.html" "$NEW_SERIAL" "Chromium after renew"
stop_site

finish
