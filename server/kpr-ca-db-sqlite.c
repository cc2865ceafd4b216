/* kpr-ca-db-sqlite.c — the SQLite back end of kpr-ca-db.h: DIR/ca.db.
 *
 * WAL mode lets the administrative commands read while `serve` writes;
 * busy_timeout makes a second writer wait instead of failing; the
 * outermost transaction is BEGIN IMMEDIATE.  synchronous=FULL: a commit
 * is on disk before anyone is told about it (the writer thread of
 * kpr-writer.c commits, never the event loop).
 */
#include "config.h"

#include "kpr-ca-db-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  KprCaDb base;
  sqlite3 *db;
  char *path;
  int publisher_fd; /* flock held on PATH.publisher, or -1 */
} SqliteDb;

typedef struct {
  KprCaDbStmt base;
  sqlite3_stmt *stmt;
  gint64 changes;
} SqliteStmt;

#define SDB(db) ((SqliteDb *) (db))
#define SST(st) ((SqliteStmt *) (st))

static void
fail (sqlite3 *db, GError **error)
{
  int code = db ? sqlite3_extended_errcode (db) : SQLITE_ERROR;
  int kpr = KPR_ERROR_IO;

  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    kpr = KPR_ERROR_BUSY;
  else if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
    kpr = KPR_ERROR_EXISTS;
  g_set_error (error, KPR_ERROR, kpr, "%s", db ? sqlite3_errmsg (db) : "cannot open");
}

static KprCaDbStmt *sq_prepare (KprCaDb *base, const char *sql, GError **error);

static gboolean
sq_exec (KprCaDb *base, const char *sql, GError **error)
{
  /* Transaction control runs for every job: prepared once, like the rest
   * (kpr_ca_db_prepare caches it); scripts (with ';') are parsed each time. */
  if (!strchr (sql, ';') && base->cache)
    {
      g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (base, sql, error);
      return st && kpr_ca_db_run (st, "updating the database", error);
    }
  if (sqlite3_exec (SDB (base)->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    {
      g_autoptr (GError) local = NULL;
      fail (SDB (base)->db, &local);
      kpr_ca_db_set_error (error, local->code, "updating the database", local->message);
      return FALSE;
    }
  return TRUE;
}

static KprCaDbStmt *
sq_prepare (KprCaDb *base, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  SqliteStmt *st;

  if (sqlite3_prepare_v3 (SDB (base)->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL)
      != SQLITE_OK)
    {
      g_autoptr (GError) local = NULL;
      fail (SDB (base)->db, &local);
      kpr_ca_db_set_error (error, local->code, "preparing a query", local->message);
      return NULL;
    }
  st = g_new0 (SqliteStmt, 1);
  st->stmt = stmt;
  return &st->base;
}

static void
sq_bind_int64 (KprCaDbStmt *st, int index, gint64 value)
{
  sqlite3_bind_int64 (SST (st)->stmt, index, value);
}

static void
sq_bind_text (KprCaDbStmt *st, int index, const char *value)
{
  if (value)
    sqlite3_bind_text (SST (st)->stmt, index, value, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (SST (st)->stmt, index);
}

static void
sq_bind_blob (KprCaDbStmt *st, int index, const void *data, gsize len)
{
  sqlite3_bind_blob64 (SST (st)->stmt, index, data, len, SQLITE_TRANSIENT);
}

static KprCaDbStep
sq_step (KprCaDbStmt *st, GError **error)
{
  sqlite3 *db = sqlite3_db_handle (SST (st)->stmt);
  int rc = sqlite3_step (SST (st)->stmt);

  if (rc == SQLITE_ROW)
    return KPR_CA_DB_ROW;
  if (rc == SQLITE_DONE)
    {
      SST (st)->changes = sqlite3_changes64 (db);
      return KPR_CA_DB_DONE;
    }
  fail (db, error);
  return KPR_CA_DB_FAILED;
}

static gint64
sq_changes (KprCaDbStmt *st)
{
  return SST (st)->changes;
}

static gboolean
sq_column_null (KprCaDbStmt *st, int column)
{
  return sqlite3_column_type (SST (st)->stmt, column) == SQLITE_NULL;
}

static gint64
sq_column_int64 (KprCaDbStmt *st, int column)
{
  return sqlite3_column_int64 (SST (st)->stmt, column);
}

static const char *
sq_column_text (KprCaDbStmt *st, int column)
{
  return (const char *) sqlite3_column_text (SST (st)->stmt, column);
}

static const guint8 *
sq_column_blob (KprCaDbStmt *st, int column, gsize *ret_len)
{
  const guint8 *data = sqlite3_column_blob (SST (st)->stmt, column);

  *ret_len = (gsize) sqlite3_column_bytes (SST (st)->stmt, column);
  return data;
}

static void
sq_reset (KprCaDbStmt *st)
{
  sqlite3_reset (SST (st)->stmt);
  sqlite3_clear_bindings (SST (st)->stmt);
  SST (st)->changes = 0;
}

static void
sq_finalize (KprCaDbStmt *st)
{
  sqlite3_finalize (SST (st)->stmt);
  g_free (st);
}

static gboolean
sq_try_publisher_lock (KprCaDb *base, GError **error)
{
  SqliteDb *db = SDB (base);
  g_autofree char *path = NULL;
  int fd;

  if (db->publisher_fd >= 0)
    return TRUE;
  path = g_strconcat (db->path, ".publisher", NULL);
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot open %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      close (fd);
      return FALSE;
    }
  db->publisher_fd = fd;
  return TRUE;
}

static gboolean
sq_lock_schema (KprCaDb *base, GError **error)
{
  /* BEGIN IMMEDIATE already holds the database's write lock. */
  return TRUE;
}

static void
sq_close (KprCaDb *base)
{
  SqliteDb *db = SDB (base);

  sqlite3_close (db->db);
  if (db->publisher_fd >= 0)
    close (db->publisher_fd);
  g_free (db->path);
  g_free (db);
}

static const KprCaDbDriver sqlite_driver = {
  .kind = KPR_CA_DB_SQLITE,
  .begin_sql = "BEGIN IMMEDIATE",
  .exec = sq_exec,
  .prepare = sq_prepare,
  .bind_int64 = sq_bind_int64,
  .bind_text = sq_bind_text,
  .bind_blob = sq_bind_blob,
  .step = sq_step,
  .changes = sq_changes,
  .column_null = sq_column_null,
  .column_int64 = sq_column_int64,
  .column_text = sq_column_text,
  .column_blob = sq_column_blob,
  .reset = sq_reset,
  .finalize = sq_finalize,
  .try_publisher_lock = sq_try_publisher_lock,
  .lock_schema = sq_lock_schema,
  .close = sq_close,
};

KprCaDb *
kpr_ca_db_sqlite_open (const char *path, gboolean create, GError **error)
{
  SqliteDb *db;
  sqlite3 *handle = NULL;
  /* One connection per thread (kpr-ca-db.h): no mutex of SQLite's own. */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

  if (!create && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "No CA database at %s; run 'certkeeper-ca init DIR' first", path);
      return NULL;
    }
  if (create)
    flags |= SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2 (path, &handle, flags, NULL) != SQLITE_OK)
    {
      g_autoptr (GError) local = NULL;
      fail (handle, &local);
      kpr_ca_db_set_error (error, local->code, "opening the database", local->message);
      sqlite3_close (handle);
      return NULL;
    }
  if (create)
    chmod (path, 0600);
  sqlite3_busy_timeout (handle, 10000);
  db = g_new0 (SqliteDb, 1);
  db->base.driver = &sqlite_driver;
  db->db = handle;
  db->path = g_strdup (path);
  db->publisher_fd = -1;
  if (!sq_exec (&db->base, "PRAGMA journal_mode=WAL;"
                           "PRAGMA foreign_keys=ON;"
                           "PRAGMA synchronous=FULL;", error))
    {
      sq_close (&db->base);
      return NULL;
    }
  return &db->base;
}
