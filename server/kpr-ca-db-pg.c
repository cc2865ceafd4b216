/* kpr-ca-db-pg.c — the PostgreSQL back end of kpr-ca-db.h, through libpq.
 *
 * Several `certkeeper-ca serve` front ends share one database.  What keeps
 * them consistent is the database, never memory: single-use words and
 * "a new certificate supersedes the old" are transactions with row locks
 * (kpr-issue.c locks the user's row first), serials are unique by index,
 * and one front end at a time publishes the CRL under a session advisory
 * lock (kpr_ca_db_try_publisher_lock).
 *
 * Statements are prepared once per connection (PQprepare) with `?`
 * rewritten to `$N`; parameters go as text (integers, strings) or binary
 * (blobs), results come back binary and are decoded by column type.  A
 * connection that breaks is reset once and its statements prepared again.
 */
#include "config.h"

#include "kpr-ca-db-private.h"

#ifdef HAVE_LIBPQ

#include <string.h>

#include <libpq-fe.h>

/* Type OIDs of the columns we read (pg_type.h is a server header). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23

/* Advisory lock keys: "kprcrl" and "kprsch" as numbers. */
#define PUBLISHER_LOCK G_GINT64_CONSTANT (0x6b707263726c)
#define SCHEMA_LOCK G_GINT64_CONSTANT (0x6b7072736368)

typedef struct {
  KprCaDb base;
  PGconn *conn;
  guint next_name;
  guint epoch; /* incremented when the connection was reset */
  gboolean publisher;
} PgDb;

typedef struct {
  KprCaDbStmt base;
  char name[24];
  char *sql; /* with $N placeholders */
  int nparams;
  guint epoch;
  char *values[KPR_CA_DB_MAX_PARAMS];
  int lengths[KPR_CA_DB_MAX_PARAMS];
  int formats[KPR_CA_DB_MAX_PARAMS];
  PGresult *res;
  int row;     /* next row to return */
  gint64 changes;
} PgStmt;

#define PDB(db) ((PgDb *) (db))
#define PST(st) ((PgStmt *) (st))

static void
ignore_notice (void *arg, const char *message)
{
  /* Library code never prints ("relation already exists, skipping"). */
}

static int
sqlstate_code (const PGresult *res)
{
  const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;

  if (!state)
    return KPR_ERROR_IO;
  if (g_str_equal (state, "23505"))
    return KPR_ERROR_EXISTS;
  /* serialization_failure, deadlock_detected, lock_not_available,
   * query_canceled (lock_timeout): try again. */
  if (g_str_equal (state, "40001") || g_str_equal (state, "40P01")
      || g_str_equal (state, "55P03") || g_str_equal (state, "57014"))
    return KPR_ERROR_BUSY;
  return KPR_ERROR_IO;
}

static void
fail (PgDb *db, const PGresult *res, GError **error)
{
  g_autofree char *msg = g_strdup (res ? PQresultErrorMessage (res) : PQerrorMessage (db->conn));

  g_strstrip (msg);
  g_set_error (error, KPR_ERROR, sqlstate_code (res), "%s", msg[0] ? msg : "connection lost");
}

/* After a failure outside a transaction: a broken connection is reset once
 * (a restarted server, a dropped TCP connection). */
static void
recover (PgDb *db)
{
  if (PQstatus (db->conn) != CONNECTION_BAD || db->base.depth > 0)
    return;
  PQreset (db->conn);
  db->epoch++;
}

static gboolean
pg_exec (KprCaDb *base, const char *sql, GError **error)
{
  PgDb *db = PDB (base);
  PGresult *res = PQexec (db->conn, sql);
  ExecStatusType status = PQresultStatus (res);

  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    {
      g_autoptr (GError) local = NULL;
      fail (db, res, &local);
      PQclear (res);
      recover (db);
      kpr_ca_db_set_error (error, local->code, "updating the database", local->message);
      return FALSE;
    }
  PQclear (res);
  return TRUE;
}

/* "… = ? AND … = ?2" → "… = $1 AND … = $2"; counts the parameters.  No
 * statement of ours has a '?' inside a string literal. */
static char *
translate (const char *sql, int *ret_nparams)
{
  GString *out = g_string_sized_new (strlen (sql) + 16);
  int next = 0;
  int max = 0;

  for (const char *p = sql; *p; p++)
    {
      if (*p != '?')
        {
          g_string_append_c (out, *p);
          continue;
        }
      if (g_ascii_isdigit (p[1]))
        {
          char *end = NULL;
          int n = (int) g_ascii_strtoll (p + 1, &end, 10);
          g_string_append_printf (out, "$%d", n);
          max = MAX (max, n);
          next = MAX (next, n);
          p = end - 1;
        }
      else
        {
          g_string_append_printf (out, "$%d", ++next);
          max = MAX (max, next);
        }
    }
  *ret_nparams = max;
  return g_string_free (out, FALSE);
}

static gboolean
pg_make (PgDb *db, PgStmt *st, GError **error)
{
  PGresult *res;

  g_snprintf (st->name, sizeof st->name, "kpr%u", db->next_name++);
  res = PQprepare (db->conn, st->name, st->sql, 0, NULL);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      g_autoptr (GError) local = NULL;
      fail (db, res, &local);
      PQclear (res);
      recover (db);
      kpr_ca_db_set_error (error, local->code, "preparing a query", local->message);
      return FALSE;
    }
  PQclear (res);
  st->epoch = db->epoch;
  return TRUE;
}

static KprCaDbStmt *
pg_prepare (KprCaDb *base, const char *sql, GError **error)
{
  PgStmt *st = g_new0 (PgStmt, 1);

  st->sql = translate (sql, &st->nparams);
  if (st->nparams > KPR_CA_DB_MAX_PARAMS || !pg_make (PDB (base), st, error))
    {
      if (st->nparams > KPR_CA_DB_MAX_PARAMS)
        g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Too many query parameters");
      g_free (st->sql);
      g_free (st);
      return NULL;
    }
  return &st->base;
}

static void
set_param (KprCaDbStmt *base, int index, char *value, int len, int format)
{
  PgStmt *st = PST (base);

  g_return_if_fail (index >= 1 && index <= st->nparams);
  g_free (st->values[index - 1]);
  st->values[index - 1] = value;
  st->lengths[index - 1] = len;
  st->formats[index - 1] = format;
}

static void
pg_bind_int64 (KprCaDbStmt *st, int index, gint64 value)
{
  set_param (st, index, g_strdup_printf ("%" G_GINT64_FORMAT, value), 0, 0);
}

static void
pg_bind_text (KprCaDbStmt *st, int index, const char *value)
{
  set_param (st, index, g_strdup (value), 0, 0);
}

static void
pg_bind_blob (KprCaDbStmt *st, int index, const void *data, gsize len)
{
  /* g_memdup2 of 0 bytes is NULL, which would mean SQL NULL. */
  set_param (st, index, len ? g_memdup2 (data, len) : g_strdup (""), (int) len, 1);
}

static KprCaDbStep
pg_step (KprCaDbStmt *base, GError **error)
{
  PgStmt *st = PST (base);
  PgDb *db = PDB (base->db);

  if (!st->res)
    {
      ExecStatusType status;

      if (st->epoch != db->epoch && !pg_make (db, st, error))
        return KPR_CA_DB_FAILED;
      st->res = PQexecPrepared (db->conn, st->name, st->nparams,
                                (const char *const *) st->values, st->lengths, st->formats, 1);
      status = PQresultStatus (st->res);
      if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        {
          fail (db, st->res, error);
          g_clear_pointer (&st->res, PQclear);
          recover (db);
          return KPR_CA_DB_FAILED;
        }
      st->row = -1;
      st->changes = g_ascii_strtoll (PQcmdTuples (st->res), NULL, 10);
    }
  if (st->row + 1 < PQntuples (st->res))
    {
      st->row++;
      return KPR_CA_DB_ROW;
    }
  return KPR_CA_DB_DONE;
}

static gint64
pg_changes (KprCaDbStmt *st)
{
  return PST (st)->changes;
}

static gboolean
pg_column_null (KprCaDbStmt *st, int column)
{
  return PQgetisnull (PST (st)->res, PST (st)->row, column);
}

static gint64
pg_column_int64 (KprCaDbStmt *base, int column)
{
  PgStmt *st = PST (base);
  const guint8 *v;
  int len;
  guint64 n = 0;

  if (PQgetisnull (st->res, st->row, column))
    return 0;
  v = (const guint8 *) PQgetvalue (st->res, st->row, column);
  len = PQgetlength (st->res, st->row, column);
  switch (PQftype (st->res, column))
    {
    case OID_BOOL:
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
      /* Big-endian two's complement of 1, 2, 4 or 8 bytes. */
      for (int i = 0; i < len && i < 8; i++)
        n = (n << 8) | v[i];
      if (len < 8 && len > 0 && (v[0] & 0x80))
        n |= G_MAXUINT64 << (8 * len);
      return (gint64) n;
    default:
      g_warn_if_reached ();
      return 0;
    }
}

static const char *
pg_column_text (KprCaDbStmt *st, int column)
{
  if (PQgetisnull (PST (st)->res, PST (st)->row, column))
    return NULL;
  /* Binary text is the bytes themselves; libpq adds a NUL. */
  return PQgetvalue (PST (st)->res, PST (st)->row, column);
}

static const guint8 *
pg_column_blob (KprCaDbStmt *st, int column, gsize *ret_len)
{
  *ret_len = (gsize) PQgetlength (PST (st)->res, PST (st)->row, column);
  if (PQgetisnull (PST (st)->res, PST (st)->row, column))
    return NULL;
  return (const guint8 *) PQgetvalue (PST (st)->res, PST (st)->row, column);
}

static void
pg_reset (KprCaDbStmt *base)
{
  PgStmt *st = PST (base);

  g_clear_pointer (&st->res, PQclear);
  for (int i = 0; i < KPR_CA_DB_MAX_PARAMS; i++)
    {
      g_clear_pointer (&st->values[i], g_free);
      st->lengths[i] = 0;
      st->formats[i] = 0;
    }
  st->changes = 0;
}

static void
pg_finalize (KprCaDbStmt *base)
{
  PgStmt *st = PST (base);
  PgDb *db = PDB (base->db);

  pg_reset (base);
  /* A cached statement lives as long as its session; a private copy
   * (kpr_ca_db_prepare) is dropped at once. */
  if (!base->cached && st->epoch == db->epoch && PQstatus (db->conn) == CONNECTION_OK)
    {
      g_autofree char *sql = g_strdup_printf ("DEALLOCATE %s", st->name);
      PQclear (PQexec (db->conn, sql));
    }
  g_free (st->sql);
  g_free (st);
}

/* SELECT FUNC(KEY): a boolean back, or nothing (void) for waiting locks. */
static gboolean
lock_query (PgDb *db, const char *func, gint64 key, gboolean *ret_got, GError **error)
{
  g_autofree char *text = g_strdup_printf ("SELECT %s(%" G_GINT64_FORMAT ")",
                                           func, key);
  PGresult *res = PQexec (db->conn, text);

  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      g_autoptr (GError) local = NULL;
      fail (db, res, &local);
      PQclear (res);
      kpr_ca_db_set_error (error, local->code, "taking a lock", local->message);
      return FALSE;
    }
  if (ret_got)
    *ret_got = PQntuples (res) == 1 && g_str_equal (PQgetvalue (res, 0, 0), "t");
  PQclear (res);
  return TRUE;
}

static gboolean
pg_try_publisher_lock (KprCaDb *base, GError **error)
{
  PgDb *db = PDB (base);
  gboolean got = FALSE;

  /* A reset connection lost its session lock with its session. */
  if (db->publisher && PQstatus (db->conn) == CONNECTION_OK)
    return TRUE;
  db->publisher = FALSE;
  if (!lock_query (db, "pg_try_advisory_lock", PUBLISHER_LOCK, &got, error))
    {
      recover (db);
      return FALSE;
    }
  db->publisher = got;
  return got;
}

static gboolean
pg_lock_schema (KprCaDb *base, GError **error)
{
  return lock_query (PDB (base), "pg_advisory_xact_lock", SCHEMA_LOCK, NULL, error);
}

static void
pg_close (KprCaDb *base)
{
  PQfinish (PDB (base)->conn);
  g_free (base);
}

static const KprCaDbDriver pg_driver = {
  .kind = KPR_CA_DB_POSTGRESQL,
  .begin_sql = "BEGIN",
  .errors_abort = TRUE,
  .exec = pg_exec,
  .prepare = pg_prepare,
  .bind_int64 = pg_bind_int64,
  .bind_text = pg_bind_text,
  .bind_blob = pg_bind_blob,
  .step = pg_step,
  .changes = pg_changes,
  .column_null = pg_column_null,
  .column_int64 = pg_column_int64,
  .column_text = pg_column_text,
  .column_blob = pg_column_blob,
  .reset = pg_reset,
  .finalize = pg_finalize,
  .try_publisher_lock = pg_try_publisher_lock,
  .lock_schema = pg_lock_schema,
  .close = pg_close,
};

/* A password in the URI would sit in ca.conf, argv and `ps`. */
static gboolean
check_no_password (const char *uri, GError **error)
{
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse (uri, &err);
  gboolean has_password = FALSE;

  if (!opts)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "'%s' is not a PostgreSQL URI: %s", uri,
                   err ? g_strstrip (err) : "cannot parse it");
      PQfreemem (err);
      return FALSE;
    }
  for (PQconninfoOption *o = opts; o->keyword; o++)
    if (g_str_equal (o->keyword, "password") && o->val && o->val[0])
      has_password = TRUE;
  PQconninfoFree (opts);
  if (has_password)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INSECURE_FILE,
                   "The database URI carries a password; remove it and give the password in a "
                   "pgpass file (~/.pgpass, or passfile= in the URI, mode 0600) or use peer or "
                   "certificate authentication");
      return FALSE;
    }
  return TRUE;
}

KprCaDb *
kpr_ca_db_pg_open (const char *uri, GError **error)
{
  const char *keys[] = { "dbname", "fallback_application_name", NULL };
  const char *values[] = { uri, "certkeeper-ca", NULL };
  PgDb *db;
  PGconn *conn;

  if (!check_no_password (uri, error))
    return NULL;
  conn = PQconnectdbParams (keys, values, 1);
  if (!conn || PQstatus (conn) != CONNECTION_OK)
    {
      g_autofree char *msg = g_strdup (conn ? PQerrorMessage (conn) : "out of memory");
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNREACHABLE,
                   "Cannot connect to the CA database: %s; check the URI and that PostgreSQL "
                   "runs", g_strstrip (msg));
      PQfinish (conn);
      return NULL;
    }
  PQsetNoticeProcessor (conn, ignore_notice, NULL);
  db = g_new0 (PgDb, 1);
  db->base.driver = &pg_driver;
  db->conn = conn;
  /* Like SQLite's busy_timeout: wait for a lock, but not for ever. */
  if (!pg_exec (&db->base, "SET lock_timeout = '10s'; SET client_min_messages = warning", error))
    {
      pg_close (&db->base);
      return NULL;
    }
  return &db->base;
}

#else /* !HAVE_LIBPQ */

KprCaDb *
kpr_ca_db_pg_open (const char *uri, GError **error)
{
  g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
               "This certkeeper-ca was built without PostgreSQL support (libpq); use the "
               "default SQLite database or a build with libpq-dev installed");
  return NULL;
}

#endif
