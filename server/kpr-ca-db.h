/* kpr-ca-db.h — the CA's database behind one interface (private to server/).
 *
 * Two back ends speak the same SQL: SQLite in DIR/ca.db (one machine, the
 * default) and PostgreSQL through libpq (several front ends on one
 * database).  The SQL the rest of server/ writes is the subset both
 * understand: `?` placeholders (`?N` to repeat one), BIGINT-sized integers,
 * blobs, `ON CONFLICT DO NOTHING`, `RETURNING`.  The schema and its
 * migrations live in kpr-ca-schema.c, one text per dialect.
 *
 * A KprCaDb is one connection, used by one thread at a time.  Statements
 * are prepared once per connection and cached (kpr_ca_db_prepare returns
 * the cached one, reset; the autoptr cleanup resets it again).  Transactions
 * nest: kpr_ca_db_begin inside an open transaction makes a SAVEPOINT, so a
 * function that opens its own transaction also runs as one step of the
 * writer's group commit (kpr-writer.c).
 */
#pragma once

#include <glib.h>

#include "kpr-common.h"
#include "kpr-server.h" /* kpr_ca_db_is_postgresql */

G_BEGIN_DECLS

typedef struct _KprCaDb KprCaDb;
typedef struct _KprCaDbStmt KprCaDbStmt;

typedef enum {
  KPR_CA_DB_SQLITE,
  KPR_CA_DB_POSTGRESQL,
} KprCaDbKind;

typedef enum {
  KPR_CA_DB_FAILED = -1,
  KPR_CA_DB_DONE = 0,
  KPR_CA_DB_ROW = 1,
} KprCaDbStep;

/* The schema version this build writes (kpr-ca-schema.c). */
#define KPR_CA_DB_SCHEMA 2

/* Opens (and, with @create, creates) the database and brings its schema to
 * KPR_CA_DB_SCHEMA.  KPR_ERROR_NOT_FOUND when an SQLite file is missing and
 * !@create; KPR_ERROR_UNSUPPORTED for PostgreSQL in a build without libpq,
 * or a schema newer than this build; KPR_ERROR_INSECURE_FILE for a URI that
 * carries a password (use a pgpass file: secrets never go in argv or
 * config files). */
KprCaDb *kpr_ca_db_open (const char *location, gboolean create, GError **error);
void kpr_ca_db_close (KprCaDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprCaDb, kpr_ca_db_close)
KprCaDbKind kpr_ca_db_kind (KprCaDb *db);

/* Nestable transactions.  The outermost begin takes the write lock at once
 * (SQLite BEGIN IMMEDIATE) so two writers never deadlock half-way. */
gboolean kpr_ca_db_begin (KprCaDb *db, GError **error);
gboolean kpr_ca_db_commit (KprCaDb *db, GError **error);
void kpr_ca_db_rollback (KprCaDb *db);
gboolean kpr_ca_db_in_transaction (KprCaDb *db);
/* Whether a failing statement aborts the transaction (PostgreSQL): a
 * statement that may fail on purpose (a serial collision) then runs in a
 * savepoint of its own. */
gboolean kpr_ca_db_errors_abort (KprCaDb *db);
/* Statements without parameters or rows (DDL, several separated by ';'). */
gboolean kpr_ca_db_exec (KprCaDb *db, const char *sql, GError **error);

/* The cached statement for @sql (compared by content), reset and unbound. */
KprCaDbStmt *kpr_ca_db_prepare (KprCaDb *db, const char *sql, GError **error);
/* Parameters count from 1, columns from 0 (as in SQLite). */
void kpr_ca_db_bind_int64 (KprCaDbStmt *st, int index, gint64 value);
/* NULL binds SQL NULL. */
void kpr_ca_db_bind_text (KprCaDbStmt *st, int index, const char *value);
void kpr_ca_db_bind_blob (KprCaDbStmt *st, int index, const void *data, gsize len);
/* Runs the statement (first call) and moves to the next row.  Errors:
 * KPR_ERROR_EXISTS for a unique constraint, KPR_ERROR_BUSY for lock
 * timeouts, deadlocks and serialization failures (retry the transaction),
 * KPR_ERROR_IO otherwise; @what says what was being done. */
KprCaDbStep kpr_ca_db_step (KprCaDbStmt *st, const char *what, GError **error);
/* Steps a statement that returns no rows; FALSE with @error on failure. */
gboolean kpr_ca_db_run (KprCaDbStmt *st, const char *what, GError **error);
/* Rows inserted, updated or deleted by the statement's last run. */
gint64 kpr_ca_db_changes (KprCaDbStmt *st);
gboolean kpr_ca_db_column_null (KprCaDbStmt *st, int column);
/* Integers and booleans; 0 for NULL. */
gint64 kpr_ca_db_column_int64 (KprCaDbStmt *st, int column);
/* Valid until the next step or reset; NULL for SQL NULL. */
const char *kpr_ca_db_column_text (KprCaDbStmt *st, int column);
const guint8 *kpr_ca_db_column_blob (KprCaDbStmt *st, int column, gsize *ret_len);
/* Resets the statement for its next use (the autoptr cleanup). */
void kpr_ca_db_stmt_release (KprCaDbStmt *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprCaDbStmt, kpr_ca_db_stmt_release)

/* The CRL publisher's lock: TRUE when this connection holds it (kept until
 * the connection closes).  PostgreSQL: a session advisory lock, so one
 * front end publishes and another takes over when it goes away; SQLite: an
 * flock on DB-FILE.publisher. */
gboolean kpr_ca_db_try_publisher_lock (KprCaDb *db, GError **error);

/* ---- used by kpr-ca-schema.c ------------------------------------------- */
/* Inside a transaction: makes concurrent schema set-ups wait for each
 * other (a PostgreSQL transaction advisory lock; SQLite's write lock
 * already does). */
gboolean kpr_ca_db_lock_schema (KprCaDb *db, GError **error);
/* Creates or migrates the schema (kpr-ca-schema.c). */
gboolean kpr_ca_schema_setup (KprCaDb *db, GError **error);

G_END_DECLS
