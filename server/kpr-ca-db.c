/* kpr-ca-db.c — the database interface of server/ (kpr-ca-db.h): opening a
 * back end, the statement cache, nested transactions.  The SQL itself runs
 * in the drivers, kpr-ca-db-sqlite.c and kpr-ca-db-pg.c.
 */
#include "config.h"

#include "kpr-ca-db-private.h"

#include <string.h>

void
kpr_ca_db_set_error (GError **error, int code, const char *what, const char *detail)
{
  g_set_error (error, KPR_ERROR, code, "Database error while %s: %s", what ? what : "working",
               detail ? detail : "unknown");
}

gboolean
kpr_ca_db_is_postgresql (const char *location)
{
  return location
         && (g_str_has_prefix (location, "postgresql://") || g_str_has_prefix (location, "postgres://"));
}

static void
stmt_free (gpointer data)
{
  KprCaDbStmt *st = data;

  st->db->driver->finalize (st);
}

KprCaDb *
kpr_ca_db_open (const char *location, gboolean create, GError **error)
{
  g_autoptr (KprCaDb) db = NULL;

  if (kpr_ca_db_is_postgresql (location))
    db = kpr_ca_db_pg_open (location, error);
  else
    db = kpr_ca_db_sqlite_open (location, create, error);
  if (!db)
    return NULL;
  db->cache = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, stmt_free);
  if (!kpr_ca_schema_setup (db, error))
    return NULL;
  return g_steal_pointer (&db);
}

void
kpr_ca_db_close (KprCaDb *db)
{
  if (!db)
    return;
  if (db->depth > 0)
    {
      db->depth = 1;
      kpr_ca_db_rollback (db);
    }
  /* Statements before the connection they belong to. */
  g_clear_pointer (&db->cache, g_hash_table_unref);
  db->driver->close (db);
}

KprCaDbKind
kpr_ca_db_kind (KprCaDb *db)
{
  return db->driver->kind;
}

gboolean
kpr_ca_db_exec (KprCaDb *db, const char *sql, GError **error)
{
  return db->driver->exec (db, sql, error);
}

/* ---- transactions ------------------------------------------------------ */

gboolean
kpr_ca_db_in_transaction (KprCaDb *db)
{
  return db->depth > 0;
}

gboolean
kpr_ca_db_errors_abort (KprCaDb *db)
{
  return db->driver->errors_abort;
}

gboolean
kpr_ca_db_begin (KprCaDb *db, GError **error)
{
  g_autofree char *sql = NULL;

  if (db->depth == 0)
    {
      if (!db->driver->exec (db, db->driver->begin_sql, error))
        return FALSE;
    }
  else
    {
      sql = g_strdup_printf ("SAVEPOINT kpr%d", db->depth);
      if (!db->driver->exec (db, sql, error))
        return FALSE;
    }
  db->depth++;
  return TRUE;
}

gboolean
kpr_ca_db_commit (KprCaDb *db, GError **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (db->depth > 0, FALSE);
  if (db->depth == 1)
    {
      if (!db->driver->exec (db, "COMMIT", error))
        {
          kpr_ca_db_rollback (db);
          return FALSE;
        }
      db->depth = 0;
      return TRUE;
    }
  sql = g_strdup_printf ("RELEASE SAVEPOINT kpr%d", db->depth - 1);
  if (!db->driver->exec (db, sql, error))
    {
      kpr_ca_db_rollback (db);
      return FALSE;
    }
  db->depth--;
  return TRUE;
}

void
kpr_ca_db_rollback (KprCaDb *db)
{
  g_autofree char *sql = NULL;

  if (db->depth == 0)
    return;
  if (db->depth == 1)
    /* Harmless when the back end already rolled back on its own. */
    (void) db->driver->exec (db, "ROLLBACK", NULL);
  else
    {
      sql = g_strdup_printf ("ROLLBACK TO SAVEPOINT kpr%d; RELEASE SAVEPOINT kpr%d",
                             db->depth - 1, db->depth - 1);
      (void) db->driver->exec (db, sql, NULL);
    }
  db->depth--;
}

/* ---- statements ---------------------------------------------------------- */

KprCaDbStmt *
kpr_ca_db_prepare (KprCaDb *db, const char *sql, GError **error)
{
  KprCaDbStmt *st = g_hash_table_lookup (db->cache, sql);

  if (st && !st->in_use)
    {
      st->in_use = TRUE;
      return st;
    }
  st = db->driver->prepare (db, sql, error);
  if (!st)
    return NULL;
  st->db = db;
  st->in_use = TRUE;
  /* A statement already handed out (a nested use of the same SQL) gets a
   * private copy, freed on release. */
  if (!g_hash_table_contains (db->cache, sql))
    {
      st->cached = TRUE;
      g_hash_table_insert (db->cache, (gpointer) g_intern_string (sql), st);
    }
  return st;
}

void
kpr_ca_db_bind_int64 (KprCaDbStmt *st, int index, gint64 value)
{
  st->db->driver->bind_int64 (st, index, value);
}

void
kpr_ca_db_bind_text (KprCaDbStmt *st, int index, const char *value)
{
  st->db->driver->bind_text (st, index, value);
}

void
kpr_ca_db_bind_blob (KprCaDbStmt *st, int index, const void *data, gsize len)
{
  st->db->driver->bind_blob (st, index, data, len);
}

KprCaDbStep
kpr_ca_db_step (KprCaDbStmt *st, const char *what, GError **error)
{
  g_autoptr (GError) local = NULL;
  KprCaDbStep rc = st->db->driver->step (st, &local);

  if (rc == KPR_CA_DB_FAILED)
    {
      g_prefix_error (&local, "Database error while %s: ", what ? what : "working");
      g_propagate_error (error, g_steal_pointer (&local));
    }
  return rc;
}

gboolean
kpr_ca_db_run (KprCaDbStmt *st, const char *what, GError **error)
{
  KprCaDbStep rc;

  while ((rc = kpr_ca_db_step (st, what, error)) == KPR_CA_DB_ROW)
    ;
  return rc == KPR_CA_DB_DONE;
}

gint64
kpr_ca_db_changes (KprCaDbStmt *st)
{
  return st->db->driver->changes (st);
}

gboolean
kpr_ca_db_column_null (KprCaDbStmt *st, int column)
{
  return st->db->driver->column_null (st, column);
}

gint64
kpr_ca_db_column_int64 (KprCaDbStmt *st, int column)
{
  return st->db->driver->column_int64 (st, column);
}

const char *
kpr_ca_db_column_text (KprCaDbStmt *st, int column)
{
  return st->db->driver->column_text (st, column);
}

const guint8 *
kpr_ca_db_column_blob (KprCaDbStmt *st, int column, gsize *ret_len)
{
  return st->db->driver->column_blob (st, column, ret_len);
}

void
kpr_ca_db_stmt_release (KprCaDbStmt *st)
{
  if (!st)
    return;
  st->db->driver->reset (st);
  st->in_use = FALSE;
  if (!st->cached)
    st->db->driver->finalize (st);
}

/* ---- locks ---------------------------------------------------------------- */

gboolean
kpr_ca_db_try_publisher_lock (KprCaDb *db, GError **error)
{
  return db->driver->try_publisher_lock (db, error);
}

gboolean
kpr_ca_db_lock_schema (KprCaDb *db, GError **error)
{
  return db->driver->lock_schema (db, error);
}
