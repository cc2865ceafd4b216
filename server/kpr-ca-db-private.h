/* kpr-ca-db-private.h — what kpr-ca-db.c shares with its two drivers
 * (kpr-ca-db-sqlite.c, kpr-ca-db-pg.c). */
#pragma once

#include "kpr-ca-db.h"

G_BEGIN_DECLS

/* Parameters of one statement; ours use far fewer. */
#define KPR_CA_DB_MAX_PARAMS 16

typedef struct {
  KprCaDbKind kind;
  /* Outermost transaction; nested levels are SAVEPOINTs in both. */
  const char *begin_sql;
  /* A failed statement aborts the whole transaction (PostgreSQL), so a
   * statement expected to fail needs a savepoint of its own. */
  gboolean errors_abort;
  gboolean (*exec) (KprCaDb *db, const char *sql, GError **error);
  KprCaDbStmt *(*prepare) (KprCaDb *db, const char *sql, GError **error);
  void (*bind_int64) (KprCaDbStmt *st, int index, gint64 value);
  void (*bind_text) (KprCaDbStmt *st, int index, const char *value);
  void (*bind_blob) (KprCaDbStmt *st, int index, const void *data, gsize len);
  KprCaDbStep (*step) (KprCaDbStmt *st, GError **error);
  gint64 (*changes) (KprCaDbStmt *st);
  gboolean (*column_null) (KprCaDbStmt *st, int column);
  gint64 (*column_int64) (KprCaDbStmt *st, int column);
  const char *(*column_text) (KprCaDbStmt *st, int column);
  const guint8 *(*column_blob) (KprCaDbStmt *st, int column, gsize *ret_len);
  void (*reset) (KprCaDbStmt *st);
  void (*finalize) (KprCaDbStmt *st);
  gboolean (*try_publisher_lock) (KprCaDb *db, GError **error);
  gboolean (*lock_schema) (KprCaDb *db, GError **error);
  void (*close) (KprCaDb *db);
} KprCaDbDriver;

/* The first member of each driver's connection and statement. */
struct _KprCaDb {
  const KprCaDbDriver *driver;
  GHashTable *cache; /* SQL text → KprCaDbStmt (owned) */
  int depth;         /* open transaction levels */
};

struct _KprCaDbStmt {
  KprCaDb *db;
  gboolean in_use; /* handed out and not yet released */
  gboolean cached; /* owned by db->cache; else freed on release */
};

/* Drivers: open one connection (the schema is not touched yet). */
KprCaDb *kpr_ca_db_sqlite_open (const char *path, gboolean create, GError **error);
KprCaDb *kpr_ca_db_pg_open (const char *uri, GError **error);

/* Sets @error: "Database error while WHAT: DETAIL" with @code. */
void kpr_ca_db_set_error (GError **error, int code, const char *what, const char *detail);

G_END_DECLS
