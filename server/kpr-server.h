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

/* Creates DIR (0700) with ca.key, ca.pem, tls.key, tls.pem, ca.db, ca.conf
 * and crl.der.  KPR_ERROR_EXISTS when DIR already holds a CA. */
gboolean kpr_ca_init (const char *dir, gint64 lifetime, KprApproval approval,
                      GError **error);
/* The same with the CA key generated on the PKCS#11 token @token_uri
 * (RFC 7512) instead of ca.key: EC P-256, non-exportable, PIN needed to
 * use it.  @module (may be NULL) is a module to load besides the ones
 * registered with p11-kit.  ca.conf records the URI and the key's CKA_ID;
 * nothing is left on the token when init fails. */
gboolean kpr_ca_init_on_token (const char *dir, gint64 lifetime, KprApproval approval,
                               const char *token_uri, const char *module,
                               KprPinFunc pin_func, gpointer pin_data, GError **error);
/* Opens DIR.  A key file is loaded at once; a key on a token only by
 * kpr_ca_unlock(), so commands that never sign need no PIN. */
KprCa *kpr_ca_open (const char *dir, GError **error);
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

/* Users: pre-registered by an administrator, never by the network. */
gboolean kpr_ca_user_add (KprCa *ca, const char *name, const char *phone,
                          GError **error);
/* One line per user: "NAME PHONE active|disabled|locked [SERIAL]". */
char *kpr_ca_user_list (KprCa *ca, GError **error);
/* Disabling also revokes the user's valid certificates. */
gboolean kpr_ca_user_disable (KprCa *ca, const char *name, guint *ret_revoked,
                              GError **error);

/* A one-time enrollment code valid for @ttl seconds; it is accepted
 * wherever a secret word is. */
KprSecret *kpr_ca_code_new (KprCa *ca, const char *name, gint64 ttl,
                            GError **error);

gboolean kpr_ca_approve (KprCa *ca, gint64 id, char **ret_user, GError **error);
gboolean kpr_ca_revoke_serial (KprCa *ca, const char *serial, const char *actor,
                               GError **error);

/* "90s", "30m", "24h", "14d" (or plain seconds) → seconds. */
gboolean kpr_parse_duration (const char *text, gint64 *ret_seconds, GError **error);

typedef void (*KprServerLogFunc) (const char *line, gpointer user_data);

typedef struct {
  const char *listen;        /* "HOST:PORT"; NULL = 127.0.0.1:8443 */
  const char *otp_outbox;    /* file that receives one line per message */
  const char *otp_command;   /* command line run without a shell */
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
