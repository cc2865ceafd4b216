/* kpr-store.c — the CA's SQLite database: schema, transactions, audit.
 *
 * WAL mode lets the administrative commands read while `serve` writes;
 * busy_timeout makes a second writer wait instead of failing; every
 * change that must be all-or-nothing runs inside BEGIN IMMEDIATE.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <sys/stat.h>

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS meta ("
  "  key TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS users ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  phone TEXT NOT NULL,"
  "  disabled INTEGER NOT NULL DEFAULT 0,"
  "  failed INTEGER NOT NULL DEFAULT 0,"
  "  locked_until INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL);"
  /* Secret words and enrollment codes, only as salted hashes. */
  "CREATE TABLE IF NOT EXISTS words ("
  "  id INTEGER PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users(id),"
  "  kind TEXT NOT NULL CHECK (kind IN ('word', 'code')),"
  "  salt BLOB NOT NULL,"
  "  hash BLOB NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  expires INTEGER NOT NULL,"
  "  used INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX IF NOT EXISTS words_user ON words(user_id, used, expires);"
  /* The UNIQUE serial is the last guard against a duplicate. */
  "CREATE TABLE IF NOT EXISTS certs ("
  "  serial TEXT NOT NULL UNIQUE,"
  "  user_id INTEGER NOT NULL REFERENCES users(id),"
  "  kind TEXT NOT NULL,"
  "  subject TEXT NOT NULL,"
  "  not_before INTEGER NOT NULL,"
  "  not_after INTEGER NOT NULL,"
  "  der BLOB NOT NULL,"
  "  issued INTEGER NOT NULL,"
  "  revoked INTEGER,"
  "  reason INTEGER,"
  "  pubkey TEXT);"
  "CREATE INDEX IF NOT EXISTS certs_user ON certs(user_id, revoked);"
  "CREATE TABLE IF NOT EXISTS pending ("
  "  id INTEGER PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users(id),"
  "  kind TEXT NOT NULL,"
  "  pubkey TEXT NOT NULL,"
  "  salt BLOB NOT NULL,"
  "  hash BLOB NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  approved INTEGER NOT NULL DEFAULT 0,"
  "  done INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE IF NOT EXISTS audit ("
  "  id INTEGER PRIMARY KEY,"
  "  at INTEGER NOT NULL,"
  "  actor TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  detail TEXT,"
  "  peer TEXT);"
  "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '1');"
  "INSERT OR IGNORE INTO meta(key, value) VALUES ('crl_number', '0');";

gboolean
kpr_store_fail (sqlite3 *db, const char *what, GError **error)
{
  int code = db ? sqlite3_extended_errcode (db) : SQLITE_ERROR;
  int kpr = KPR_ERROR_IO;

  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    kpr = KPR_ERROR_BUSY;
  else if (code == SQLITE_CONSTRAINT_UNIQUE)
    kpr = KPR_ERROR_EXISTS;
  g_set_error (error, KPR_ERROR, kpr, "Database error while %s: %s", what,
               db ? sqlite3_errmsg (db) : "cannot open");
  return FALSE;
}

sqlite3 *
kpr_store_open (const char *path, gboolean create, GError **error)
{
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;

  if (!create && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "No CA database at %s; run 'certkeeper-ca init DIR' first", path);
      return NULL;
    }
  if (create)
    flags |= SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2 (path, &db, flags, NULL) != SQLITE_OK)
    {
      kpr_store_fail (db, "opening the database", error);
      sqlite3_close (db);
      return NULL;
    }
  if (create)
    chmod (path, 0600);
  sqlite3_busy_timeout (db, 10000);
  if (!kpr_store_exec (db, "PRAGMA journal_mode=WAL;"
                           "PRAGMA foreign_keys=ON;"
                           "PRAGMA synchronous=FULL;", error)
      || !kpr_store_exec (db, schema, error))
    {
      sqlite3_close (db);
      return NULL;
    }
  /* Databases from before certs.pubkey: add the column (an error only
   * means it is already there); its index needs it first. */
  sqlite3_exec (db, "ALTER TABLE certs ADD COLUMN pubkey TEXT", NULL, NULL, NULL);
  if (!kpr_store_exec (db, "CREATE INDEX IF NOT EXISTS certs_pubkey ON certs(pubkey);", error))
    {
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

gboolean
kpr_store_exec (sqlite3 *db, const char *sql, GError **error)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return kpr_store_fail (db, "updating the database", error);
  return TRUE;
}

sqlite3_stmt *
kpr_store_prepare (sqlite3 *db, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      kpr_store_fail (db, "preparing a query", error);
      return NULL;
    }
  return stmt;
}

gboolean
kpr_store_begin (sqlite3 *db, GError **error)
{
  return kpr_store_exec (db, "BEGIN IMMEDIATE", error);
}

gboolean
kpr_store_commit (sqlite3 *db, GError **error)
{
  if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      kpr_store_fail (db, "committing", error);
      kpr_store_rollback (db);
      return FALSE;
    }
  return TRUE;
}

void
kpr_store_rollback (sqlite3 *db)
{
  /* Harmless when SQLite already rolled back on its own. */
  if (!sqlite3_get_autocommit (db))
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
kpr_store_audit (sqlite3 *db, const char *actor, const char *action,
                 const char *detail, const char *peer, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (
    db, "INSERT INTO audit(at, actor, action, detail, peer) VALUES (?, ?, ?, ?, ?)", error);

  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, g_get_real_time () / G_USEC_PER_SEC);
  sqlite3_bind_text (stmt, 2, actor ? actor : "-", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, action, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, detail, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, peer, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return kpr_store_fail (db, "writing the audit log", error);
  return TRUE;
}

gint64
kpr_store_next_crl_number (sqlite3 *db, GError **error)
{
  g_autoptr (sqlite3_stmt) up = kpr_store_prepare (
    db, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'crl_number'", error);
  g_autoptr (sqlite3_stmt) get = NULL;

  if (!up)
    return -1;
  if (sqlite3_step (up) != SQLITE_DONE)
    {
      kpr_store_fail (db, "numbering the CRL", error);
      return -1;
    }
  get = kpr_store_prepare (db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'crl_number'",
                           error);
  if (!get)
    return -1;
  if (sqlite3_step (get) != SQLITE_ROW)
    {
      kpr_store_fail (db, "numbering the CRL", error);
      return -1;
    }
  return sqlite3_column_int64 (get, 0);
}
