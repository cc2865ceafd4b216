#!/bin/sh
# A database of the first schema (certkeeper-ca before issue 14) is migrated
# when it is opened: the columns and tables of schema 2 are added in one
# transaction, a lockout of schema 1 is lifted, the CRL numbering goes on,
# and the certificates issued before still work for mutual TLS.
. "$(dirname "$0")/lib.sh"

"$CA_BIN" init "$CA" >/dev/null
now=$(date +%s)
# alice's certificate, signed with the CA's key as schema 1 would hold it.
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$TMP/a.key" \
  -subj /CN=alice -out "$TMP/a.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$TMP/ext"
openssl x509 -req -in "$TMP/a.csr" -CA "$CA/ca.pem" -CAkey "$CA/ca.key" -set_serial 0x4A1B2C3D4E5F60718293A4B5C6D7E8F9 \
  -days 3 -extfile "$TMP/ext" -out "$TMP/a.pem" 2>/dev/null || fail "sign alice's certificate"
openssl x509 -in "$TMP/a.pem" -outform DER -out "$TMP/a.der"
der_hex=$(od -An -tx1 -v "$TMP/a.der" | tr -d ' \n')
fp=$(openssl x509 -in "$TMP/a.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
rm -f "$CA/ca.db" "$CA/ca.db-wal" "$CA/ca.db-shm"
sqlite3 "$CA/ca.db" <<SQL || fail "schema 1 database"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, phone TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);
CREATE TABLE words (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL CHECK (kind IN ('word', 'code')), salt BLOB NOT NULL, hash BLOB NOT NULL,
  created INTEGER NOT NULL, expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX words_user ON words(user_id, used, expires);
CREATE TABLE certs (serial TEXT NOT NULL UNIQUE, user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL, subject TEXT NOT NULL, not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,
  der BLOB NOT NULL, issued INTEGER NOT NULL, revoked INTEGER, reason INTEGER, pubkey TEXT);
CREATE INDEX certs_user ON certs(user_id, revoked);
CREATE INDEX certs_pubkey ON certs(pubkey);
CREATE TABLE pending (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL, pubkey TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,
  created INTEGER NOT NULL, approved INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT, peer TEXT);
INSERT INTO meta VALUES ('schema', '1'), ('crl_number', '5');
INSERT INTO users VALUES (1, 'alice', '+15550100', 0, 4, $((now + 900)), $now);
INSERT INTO users VALUES (2, 'bob', '+15550101', 0, 0, 0, $now);
INSERT INTO certs VALUES ('4A1B2C3D4E5F60718293A4B5C6D7E8F9', 1, 'simpleenroll', '/CN=alice',
  $((now - 60)), $((now + 3 * 86400)), X'$der_hex', $now, NULL, NULL, '$fp');
INSERT INTO certs VALUES ('5B00000000000000000000000000000A', 2, 'simpleenroll', '/CN=bob',
  $((now - 60)), $((now + 3 * 86400)), X'00', $((now - 100)), $((now - 50)), 4, NULL);
INSERT INTO pending VALUES (1, 2, 'simpleenroll', 'ab', X'00', X'00', $now, 1, 1);
SQL

"$CA_BIN" user list "$CA" >"$TMP/users" || fail "user list on a schema 1 database"
[ "$(sqlite3 "$CA/ca.db" "SELECT value FROM meta WHERE key = 'schema'")" = 2 ] || fail "not migrated"
grep -qx 'alice +15550100 active 4A1B2C3D4E5F60718293A4B5C6D7E8F9' "$TMP/users" \
  || fail "alice after the migration: $(cat "$TMP/users")"
[ "$(sqlite3 "$CA/ca.db" "SELECT mailed FROM pending WHERE id = 1")" = 1 ] || fail "old request would be mailed"
[ "$(sqlite3 "$CA/ca.db" "SELECT number FROM crl_state")" = 5 ] || fail "CRL number not carried over"
ok "schema 1 is migrated to 2 when opened: the lockout lifted, the CRL numbering kept"

start_server
xcurl -o "$TMP/crl.der" "$BASE/crl"
openssl crl -inform DER -in "$TMP/crl.der" -noout -text >"$TMP/crl.txt" || fail "CRL unreadable"
grep -q 'Serial Number: 5B00000000000000000000000000000A' "$TMP/crl.txt" || fail "old revocation not on the CRL"
[ "$(openssl crl -inform DER -in "$TMP/crl.der" -noout -crlnumber | sed 's/.*=//')" = 0x06 ] \
  || fail "CRL number: $(openssl crl -inform DER -in "$TMP/crl.der" -noout -crlnumber)"
new_csr r "/CN=alice" -newkey ec -pkeyopt ec_paramgen_curve:P-256
st=$(post_est simplereenroll "" r "$TMP/r.p7" --cert "$TMP/a.pem" --key "$TMP/a.key")
[ "$st" = 200 ] || fail "renewal with the certificate of schema 1: $st $(cat "$TMP/r.p7")"
ok "after the migration: CRL number 6 lists the old revocation; the old certificate renews"
stop_server
done_testing
