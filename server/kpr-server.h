/* kpr-server.h — the face of server/: certkeeper-ca, the reference EST CA.
 *
 * A KprCa is one CA directory (key, certificates, SQLite store, config);
 * the administrative operations of the command line work on it directly,
 * and a KprServer serves it over HTTPS.  Nothing here prints: errors are
 * GErrors in the KPR_ERROR domain and the request log goes through a
 * callback the program supplies.
 */
#pragma once

#include <glib.h>

#include "kpr-common.h"
#include "kpr-token.h"

G_BEGIN_DECLS

typedef enum {
  KPR_APPROVAL_AUTO = 0,   /* a valid request is issued at once */
  KPR_APPROVAL_MANUAL = 1, /* 202 + Retry-After until `approve` */
} KprApproval;

/* Default certificate lifetime: two weeks, as the trust portal does. */
#define KPR_CA_DEFAULT_LIFETIME (14 * 24 * 3600)

typedef struct _KprCa KprCa;

/* "postgresql://…" or "postgres://…" (libpq URIs) name a PostgreSQL
 * database; anything else is the path of an SQLite file. */
gboolean kpr_ca_db_is_postgresql (const char *location);

typedef struct {
  gint64 lifetime;          /* seconds; 0 = KPR_CA_DEFAULT_LIFETIME */
  KprApproval approval;
  const char *db;           /* postgresql://… shared by several front ends;
                             * NULL = DIR/ca.db (SQLite) */
  const char *token_uri;    /* CA key on this PKCS#11 token (RFC 7512) */
  const char *token_module; /* its module, when not registered with p11-kit */
  KprPinFunc pin_func;      /* the token's PIN */
  gpointer pin_data;
} KprCaInitOptions;

/* Creates DIR (0700) with ca.key (or the key on @options->token_uri: EC
 * P-256, non-exportable, PIN needed to use it; nothing is left on the token
 * when init fails), ca.pem, tls.key, tls.pem, ca.conf and crl.der, and the
 * database (DIR/ca.db, or the schema in @options->db).  KPR_ERROR_EXISTS
 * when DIR or the database already holds a CA. */
gboolean kpr_ca_init (const char *dir, const KprCaInitOptions *options, GError **error);
/* Opens DIR, with its database (ca.conf's db=, else DIR/ca.db) or @db.
 * A key file is loaded at once; a key on a token only by kpr_ca_unlock(),
 * so commands that never sign need no PIN. */
KprCa *kpr_ca_open (const char *dir, const char *db, GError **error);
/* The URI of the token that holds the CA key, or NULL for ca.key. */
const char *kpr_ca_get_token_uri (KprCa *ca);
/* Makes the CA key ready to sign, once per process: nothing to do for
 * ca.key; for a token, loads the modules, finds the token
 * (KPR_ERROR_NO_TOKEN), logs in asking @pin_func (KPR_ERROR_PIN_INCORRECT,
 * never retried) and checks the key belongs to ca.pem. */
gboolean kpr_ca_unlock (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, GError **error);
void kpr_ca_free (KprCa *ca);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprCa, kpr_ca_free)

gint64 kpr_ca_get_lifetime (KprCa *ca);
KprApproval kpr_ca_get_approval (KprCa *ca);

/* Users: pre-registered by an administrator, never by the network.
 * @mail (may be NULL) receives the certificate of an approved request. */
gboolean kpr_ca_user_add (KprCa *ca, const char *name, const char *phone, const char *mail,
                          GError **error);
/* One line per user: "NAME PHONE active|throttled|disabled SERIAL|-". */
char *kpr_ca_user_list (KprCa *ca, GError **error);
/* Disabling also revokes the user's valid certificates (*@ret_generation
 * for kpr_ca_crl_after_revoke when any were). */
gboolean kpr_ca_user_disable (KprCa *ca, const char *name, guint *ret_revoked,
                              gint64 *ret_generation, GError **error);

/* A one-time enrollment code valid for @ttl seconds; it is accepted
 * wherever a secret word is. */
KprSecret *kpr_ca_code_new (KprCa *ca, const char *name, gint64 ttl,
                            GError **error);

/* Manual approval (server/README.md, "Requests and the mailed .cer"). */
typedef struct {
  char *user;
  char *serial;          /* issued now; NULL for a server-generated key */
  gint64 crl_generation; /* > 0: it superseded a certificate */
} KprApproved;
void kpr_approved_clear (KprApproved *a);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KprApproved, kpr_approved_clear)
/* Approves request @id and issues its certificate (unlocking the CA key
 * with @pin_func when needed). */
gboolean kpr_ca_approve (KprCa *ca, gint64 id, KprPinFunc pin_func, gpointer pin_data,
                         KprApproved *ret, GError **error);
gboolean kpr_ca_reject (KprCa *ca, gint64 id, const char *reason, char **ret_user,
                        GError **error);
/* Requests as a table, or a JSON array; @pending_only: those waiting for a
 * decision. */
char *kpr_ca_requests (KprCa *ca, gboolean pending_only, gboolean json, GError **error);
/* The DER certificate of request ID @which, or of serial @which. */
GBytes *kpr_ca_cert_der (KprCa *ca, const char *which, GError **error);

/* Revokes @serial (already revoked: *@ret_already, not an error);
 * *@ret_generation for kpr_ca_crl_after_revoke. */
gboolean kpr_ca_revoke_serial (KprCa *ca, const char *serial, const char *actor,
                               gboolean *ret_already, gint64 *ret_generation, GError **error);
/* After a revocation from the command line: publishes the CRL here when no
 * `serve` is running (unlocking the CA key), else waits up to 10 s for the
 * running one to publish it.  *@ret_published says whether it is out. */
gboolean kpr_ca_crl_after_revoke (KprCa *ca, KprPinFunc pin_func, gpointer pin_data,
                                  gint64 generation, gboolean *ret_published, GError **error);

/* "90s", "30m", "24h", "14d" (or plain seconds) → seconds. */
gboolean kpr_parse_duration (const char *text, gint64 *ret_seconds, GError **error);

typedef void (*KprServerLogFunc) (const char *line, gpointer user_data);

typedef struct {
  const char *listen;        /* "HOST:PORT"; NULL = 127.0.0.1:8443 */
  const char *otp_outbox;    /* file that receives one line per message */
  const char *otp_command;   /* command line run without a shell */
  const char *mail_command;  /* mails approved certificates; NULL = none */
  gint64 crl_interval;       /* least seconds between CRLs; 0 = 1 */
  guint max_connections;     /* 0 = from RLIMIT_NOFILE */
  gint64 request_timeout;    /* seconds for a whole request to arrive; 0 = 10 */
  gboolean proxy_protocol;   /* connections start with a PROXY header (haproxy) */
  guint challenges_per_address; /* /challenge calls of one address before it waits; 0 = 20 */
  KprServerLogFunc log_func; /* request log; NULL = silent */
  gpointer log_data;
} KprServerOptions;

typedef struct _KprServer KprServer;

KprServer *kpr_server_new (KprCa *ca, const KprServerOptions *options,
                           GError **error);
/* Binds the listener; @ret_address is "HOST:PORT" with the real port. */
gboolean kpr_server_bind (KprServer *server, char **ret_address, GError **error);
/* Serves until SIGTERM or SIGINT. */
gboolean kpr_server_run (KprServer *server, GError **error);
void kpr_server_free (KprServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprServer, kpr_server_free)

G_END_DECLS
