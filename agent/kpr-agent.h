/* kpr-agent.h — the face of agent/: a person's identities and everything
 * that happens to them (enroll, pending, install, renew, back up, lock,
 * delete, import, revoke).  The CLI, the daemon and the GUI all call these
 * functions; this header does not re-export pkcs11/ or protocol/, and the
 * GUI includes nothing else (tests/unit/test-layers.py checks it).
 *
 * Every step of a flow is written to the identity's record before its
 * effects are relied on (kpr-lifecycle.c), so a crash at any point is
 * resumed or rolled back by the next run, and old keys are removed only
 * once the new pair is on the token and verified.
 */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

#include "kpr-common.h"

G_BEGIN_DECLS

/* The stored lifecycle state (see the diagram in kpr-lifecycle.c). */
typedef enum {
  KPR_STATE_NEW = 0,
  KPR_STATE_KEY_READY,
  KPR_STATE_SUBMITTED,
  KPR_STATE_PENDING,
  KPR_STATE_ISSUED,
  KPR_STATE_INSTALLED,
  KPR_STATE_ACTIVE,
  KPR_STATE_NEXT_KEY_READY,
  KPR_STATE_NEXT_SUBMITTED,
  KPR_STATE_NEXT_INSTALLED,
  KPR_STATE_REVOKED,
  KPR_STATE_FAILED,
} KprState;

/* What a person is told about an identity: the stored state seen
 * through the clock (an ACTIVE certificate can be due or expired). */
typedef enum {
  KPR_STATUS_ACTIVE = 0,
  KPR_STATUS_RENEW_DUE,
  KPR_STATUS_EXPIRED,
  KPR_STATUS_PENDING,
  KPR_STATUS_IN_PROGRESS,
  KPR_STATUS_REVOKED,
  KPR_STATUS_FAILED,
} KprStatus;

/* What `list` and `status` show of a certificate (kept in the record beside
 * it, so that a listing decodes no certificate: OpenSSL 3's decoder set-up
 * was most of a listing's time). */
typedef struct {
  char *serial;  /* upper-case hex; NULL without a certificate */
  char *subject; /* RFC 2253 */
  char *issuer;
  char *sha256;  /* "AB:CD:…" */
  gint64 not_before, not_after;
} KprCertShown;

/* The enrollment protocol an identity speaks (kpr-enroll-protocol.c). */
typedef enum {
  KPR_PROTOCOL_EST = 0, /* RFC 7030, what certkeeper-ca serves (the default) */
  KPR_PROTOCOL_SCEP,    /* RFC 8894: NDES/Intune, EJBCA, step-ca (docs/scep.md) */
  KPR_PROTOCOL_CMP,     /* RFC 4210/9483: EJBCA, OpenSSL (docs/cmp.md) */
} KprProtocol;

const char *kpr_protocol_to_string (KprProtocol protocol); /* "est", "scep", "cmp" */
gboolean kpr_protocol_from_string (const char *text, KprProtocol *ret_protocol);

typedef struct {
  char *name;
  KprState state;
  char *failed_reason;
  /* where it comes from */
  char *server;       /* https://host:port (SCEP and CMP: the endpoint's URL) */
  char *label;        /* EST CA label, SCEP CA identifier, or NULL */
  char *username;
  KprProtocol protocol;
  char *reference;    /* CMP: the reference that goes with its one-time secret */
  char *anchor_fingerprint; /* CMP: the CA's SHA-256 confirmed by a person, until the
                             * first answer brings that certificate (then the anchor) */
  /* where the key lives */
  char *token_uri;    /* RFC 7512, token part */
  GBytes *key_id;     /* CKA_ID of key pair and certificate */
  KprKeyType key_type;
  KprProtection protection;
  X509 *cert;         /* the current certificate, once issued */
  /* a renewal in progress */
  GBytes *next_key_id;
  X509 *next_cert;
  /* objects to remove once the record no longer points at them */
  GBytes *stale_key_id;
  /* a request waiting for the server */
  X509_REQ *pending_csr;
  gint64 retry_at;    /* unix time; 0 = now */
  char *request_id;   /* the server's number for it (what a person quotes), or NULL */
  /* the last verified backup */
  char *backup_when;  /* ISO 8601 */
  char *backup_where;
  char *backup_sha256;
  gboolean imported;  /* restored from a backup rather than enrolled */
  /* The current certificate as listings show it; from ->cert on every
   * save and full load, from the record on a brief one. */
  KprCertShown shown;
} KprIdentity;

void kpr_identity_free (KprIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprIdentity, kpr_identity_free)

const char *kpr_state_to_string (KprState state);
/* From the lifecycle table (kpr-lifecycle.c): an enrollment not finished
 * yet (NEW to INSTALLED, PENDING included)... */
gboolean kpr_state_is_enrolling (KprState state);
/* ... a certificate in use (ACTIVE, or a renewal under way). */
gboolean kpr_state_is_in_use (KprState state);
/* Test builds (-Dfault_injection=true) only: the lifecycle's fault points
 * as pairs (flow, point), NULL-terminated, for `certkeeper
 * --fault-points`; NULL in other builds. */
const char *const *kpr_agent_fault_points (void);
gboolean kpr_state_from_string (const char *text, KprState *ret_state);
const char *kpr_status_to_string (KprStatus status);

/* Renewal is due at 2/3 of the certificate's lifetime. */
KprStatus kpr_identity_status (const KprIdentity *identity, gint64 now);
gint64 kpr_identity_renew_at (const KprIdentity *identity);
/* The key is still exportable and no verified backup exists. */
gboolean kpr_identity_backup_missing (const KprIdentity *identity);
/* The private key's PKCS#11 URI as other programs take it (token
 * attributes and id only: libp11 refuses the library-* ones). */
char *kpr_identity_key_uri (const KprIdentity *identity);

/* --- the store (kpr-store.c) --- */

typedef struct _KprStore KprStore;

/* Opens $XDG_STATE_HOME/certkeeper (created 0700) and takes its lock:
 * KPR_ERROR_BUSY while another certkeeper holds it. */
KprStore *kpr_store_open (GError **error);
void kpr_store_free (KprStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprStore, kpr_store_free)

const char *kpr_store_get_dir (KprStore *store);
/* Names of the stored identities, sorted. */
GStrv kpr_store_list (KprStore *store, GError **error);
/* KPR_ERROR_NOT_FOUND for an unknown name, KPR_ERROR_BAD_INPUT for a
 * damaged record (named, with what to do). */
KprIdentity *kpr_store_load (KprStore *store, const char *name, GError **error);
/* The same without decoding any certificate or request (->cert,
 * ->next_cert and ->pending_csr stay NULL; ->shown is filled): for
 * listings. */
KprIdentity *kpr_store_load_brief (KprStore *store, const char *name, GError **error);
/* Atomic and durable, mode 0600. */
gboolean kpr_store_save (KprStore *store, const KprIdentity *identity, GError **error);
/* Atomic; durable (fsync of the file and its directory) only with
 * @durable: a state whose loss a re-run repairs (the lifecycle table's
 * `durable` says which) is left to the next durable write or the kernel. */
gboolean kpr_store_save_full (KprStore *store, const KprIdentity *identity, gboolean durable,
                              GError **error);
gboolean kpr_store_exists (KprStore *store, const char *name);
/* Moves the record (and its log and trust anchors) under archive/. */
gboolean kpr_store_archive (KprStore *store, const char *name, GError **error);
/* One line in NAME.log; never holds a secret. */
void kpr_store_audit (KprStore *store, const char *name, const char *format, ...)
  G_GNUC_PRINTF (3, 4);
/* The lines of NAME.log, oldest first (an empty list when there is no
 * log yet); for the GUI's history. */
GStrv kpr_store_read_audit (KprStore *store, const char *name, GError **error);
gboolean kpr_store_save_trust (KprStore *store, const char *name, KprX509Stack *anchors,
                               GError **error);
KprX509Stack *kpr_store_load_trust (KprStore *store, const char *name, GError **error);
/* TRUE for names usable as file names: [A-Za-z0-9._-], 1-64, no leading dot. */
gboolean kpr_identity_name_is_valid (const char *name);

/* --- tokens as the front ends see them (kpr-tokens.c) --- */

/* A token: a copy that outlives the agent's token context, so a window can
 * keep it or hand it to another thread.  Also what a PIN question is
 * about (KprAgentUi.pin), with the PIN state read just before asking. */
typedef struct {
  char *uri;          /* RFC 7512, token attributes only */
  char *label;
  char *description;  /* manufacturer and model */
  gboolean software;  /* this computer's key store (the certkeeper SoftHSM token) */
  gboolean initialized;
  gboolean pin_locked;
  gboolean pin_count_low;
  gboolean pin_final_try;
  /* Key generation: which KprKeyType values the token can make. */
  gboolean can_generate[KPR_KEY_RSA_3072 + 1];
} KprAgentToken;

KprAgentToken *kpr_agent_token_copy (const KprAgentToken *token);
void kpr_agent_token_free (KprAgentToken *token);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprAgentToken, kpr_agent_token_free)

/* Asked for a token's PIN; NULL with @error set cancels
 * (KPR_ERROR_CANCELLED).  A wrong PIN is never retried by the agent. */
typedef KprSecret *(*KprAgentPinFunc) (const KprAgentToken *token, gpointer data,
                                       GError **error);

/* The label of the identity's token, from its URI (NULL when the URI
 * names none); *ret_software (may be NULL): it is this computer's key
 * store. */
char *kpr_identity_token_label (const KprIdentity *identity, gboolean *ret_software);

/* --- the agent: flows over the store, the tokens and the server --- */

typedef enum {
  KPR_ASK_SECRET_WORD = 1, /* one-time word the server sent by text message */
  KPR_ASK_PASSWORD,        /* a server without the secret-word extension */
  KPR_ASK_NEW_PASSPHRASE,  /* for a new backup: asked twice, strength-checked */
  KPR_ASK_PASSPHRASE,      /* to open an existing backup */
} KprAsk;

/* How the agent talks to the person: the CLI prompts on the terminal,
 * the GUI opens dialogs, the headless daemon reads files. */
typedef struct {
  KprAgentPinFunc pin;
  /* @detail: where the word was sent, or the file a passphrase is for. */
  KprSecret *(*ask) (KprAsk what, const char *detail, gpointer data, GError **error);
  /* A yes/no question (trust this CA fingerprint? delete without backup?). */
  gboolean (*confirm) (const char *question, gpointer data);
  /* Progress on long operations; may be NULL. */
  void (*progress) (const char *message, gpointer data);
  gpointer data;
  /* ask() already knows the answer (an enrollment code from a file, for
   * the headless agent): the agent does not request a secret word from
   * the server first, which would only text the person a useless word and
   * count against the server's rate limit; it asks KPR_ASK_PASSWORD and
   * sends the answer as the HTTP Basic password. */
  gboolean secret_known;
} KprAgentUi;

typedef struct _KprAgent KprAgent;

/* Takes the store's lock (KPR_ERROR_BUSY when another agent has it). */
KprAgent *kpr_agent_new (const KprAgentUi *ui, GError **error);
void kpr_agent_free (KprAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprAgent, kpr_agent_free)
KprStore *kpr_agent_get_store (KprAgent *agent);

typedef struct {
  const char *name;
  const char *server;            /* https://host[:port] */
  const char *label;             /* EST CA label, or NULL */
  const char *username;
  const char *token_uri;         /* NULL: the software token */
  KprKeyType key_type;
  KprProtection protection;      /* standard or strong */
  gboolean no_backup;            /* software token: non-exportable at once */
  gboolean server_keygen;        /* the server makes the key (imported locked) */
  const char *trust_fingerprint; /* SHA-256 of the CA root, "AB:CD:…" or hex */
  const char *ca_file;           /* PEM/DER file with the CA certificate(s) */
  KprProtocol protocol;          /* EST unless set */
  const char *reference;         /* CMP: the reference of the one-time secret */
} KprEnrollOptions;

/* Enrolls (or resumes an enrollment that was interrupted).  A server that
 * has not decided yet leaves the identity PENDING: KPR_ERROR_PENDING. */
KprIdentity *kpr_agent_enroll (KprAgent *agent, const KprEnrollOptions *options, GError **error);

/* Renews with a new key (or polls a pending request, or finishes an
 * interrupted renewal).  Without @force, an identity not yet due is left
 * as it is and *ret_renewed is FALSE. */
KprIdentity *kpr_agent_renew (KprAgent *agent, const char *name, gboolean force,
                              gboolean *ret_renewed, GError **error);
/* After a failed enroll or renew: the seconds the server asked to wait
 * (HTTP 503 or 429 with Retry-After), for the scheduler; 0 when it said
 * nothing. */
guint kpr_agent_get_retry_after (KprAgent *agent);

/* Completes a pending identity with the certificate the server mailed;
 * refused (KPR_ERROR_KEY_MISMATCH) unless it carries the waiting key. */
KprIdentity *kpr_agent_install (KprAgent *agent, const char *name, const char *cert_path,
                                GError **error);

/* Finishes or rolls back whatever a crash interrupted, without asking for
 * anything a person would have to type.  Returns the identity as it then
 * stands. */
KprIdentity *kpr_agent_resume (KprAgent *agent, const char *name, GError **error);

/* --- backups (kpr-backup.c) --- */

gboolean kpr_agent_export (KprAgent *agent, const char *name, const char *path,
                           KprP12Preset preset, GError **error);
/* How strong a new backup passphrase is, with the settings export uses
 * (libpwquality's defaults): 0 when kpr_agent_export would refuse it
 * (*ret_why, may be NULL, gets a sentence saying why), else 1-100. */
int kpr_passphrase_strength (const KprSecret *passphrase, char **ret_why);
gboolean kpr_agent_lock (KprAgent *agent, const char *name, GError **error);
/* Removes the key and certificate objects and archives the record.  When
 * the key could still be backed up and no verified backup exists, asks
 * ui->confirm first (KPR_ERROR_CANCELLED when the answer is no). */
gboolean kpr_agent_delete (KprAgent *agent, const char *name, GError **error);
/* @name NULL: the name stored in the backup, else the certificate's CN. */
KprIdentity *kpr_agent_import (KprAgent *agent, const char *path, const char *name,
                               const char *token_uri, gboolean exportable, GError **error);
/* "I lost my token": revoke at the server, wipe the local objects. */
gboolean kpr_agent_revoke (KprAgent *agent, const char *name, GError **error);
/* CMP: the reference of a one-time secret the CA's operator gave for this
 * run (revoking without the key); NULL: the identity's recorded one. */
void kpr_agent_set_cmp_reference (KprAgent *agent, const char *reference);

/* --- tokens, for the front ends (kpr-tokens.c) --- */

/* The tokens present now (KprAgentToken; re-read, so a token plugged in
 * since the agent started shows, with today's PIN state), spare slots
 * left out. */
GPtrArray *kpr_agent_list_tokens (KprAgent *agent, GError **error);

/* --- the scheduler (kpr-scheduler.c): when to do what, no I/O --- */

/* What the resident agent does next for one identity. */
typedef enum {
  KPR_SCHED_NONE = 0, /* nothing until something changes (revoked, failed, blocked) */
  KPR_SCHED_ENROLL,   /* not enrolled yet, or an enrollment to continue */
  KPR_SCHED_POLL,     /* a pending request: ask the server again */
  KPR_SCHED_RENEW,    /* renew (or finish an interrupted renewal) */
  KPR_SCHED_REMIND,   /* renewal is due and has not happened: tell the person */
} KprSchedAction;

typedef struct {
  double renew_fraction; /* of the lifetime; default 2/3 */
  double max_jitter;     /* of the lifetime, taken off the renewal time; default 0.05 */
} KprSchedPolicy;

/* What the scheduler knows of one identity; times are unix seconds. */
typedef struct {
  const char *name;       /* seeds the jitter */
  gboolean exists;        /* FALSE: configured but never enrolled */
  KprState state;
  gint64 not_before;      /* 0 without a certificate */
  gint64 not_after;
  gint64 retry_at;        /* PENDING: when the server said to ask again */
  guint failures;         /* consecutive failed attempts (0: the last one worked) */
  gint64 last_failure;    /* when the last attempt failed */
  gint64 retry_after;     /* seconds the server asked for with the failure; 0 none */
  gint64 last_reminder;   /* 0: never reminded */
  gint64 last_renewal;    /* when the agent last got a certificate; 0 never */
  gboolean blocked;       /* a failure no retry can fix (wrong code or PIN) */
} KprSchedInput;

typedef struct {
  KprSchedAction action;
  gint64 when; /* unix seconds (<= now: now); G_MAXINT64 with KPR_SCHED_NONE */
} KprSchedNext;

void kpr_sched_policy_init (KprSchedPolicy *policy);
/* The jittered renewal time: deterministic for a name, at most max_jitter
 * of the lifetime before renew_fraction, never past 90 % of it. */
gint64 kpr_sched_renew_at (const KprSchedPolicy *policy, const char *name, gint64 not_before,
                           gint64 not_after);
/* Seconds to wait after the @failures-th consecutive failure. */
gint64 kpr_sched_backoff (guint failures, gint64 lifetime, gint64 remaining);
/* Seconds between two reminders for a certificate of @lifetime seconds. */
gint64 kpr_sched_reminder_interval (gint64 lifetime);
/* Fills the certificate and state fields of @input from @identity. */
void kpr_sched_input_from_identity (KprSchedInput *input, const KprIdentity *identity);
KprSchedNext kpr_sched_next (const KprSchedPolicy *policy, const KprSchedInput *input,
                             gint64 now);
/* The earliest action over @n identities (index in *ret_index, may be
 * NULL); G_MAXINT64 when there is nothing to do. */
gint64 kpr_sched_deadline (const KprSchedPolicy *policy, const KprSchedInput *inputs, gsize n,
                           gint64 now, gsize *ret_index);

/* --- browsers (kpr-browser*.c, docs/browsers.md) ---
 *
 * Chromium keeps one NSS database per user, Firefox one per profile (a
 * "store").  certkeeper registers the module that holds an identity's key
 * in each store (with FRIENDLY, so the certificates show before login);
 * the browser then finds the certificate on the token, the renewed one
 * too.  The NSS work runs in a child process (certkeeper-nss). */

typedef enum {
  KPR_BROWSER_CHROMIUM = 1 << 0, /* Chromium and Google Chrome share one store */
  KPR_BROWSER_FIREFOX = 1 << 1,  /* one store per Firefox profile */
} KprBrowserKind;
#define KPR_BROWSER_ALL (KPR_BROWSER_CHROMIUM | KPR_BROWSER_FIREFOX)

/* One identity as one store sees it. */
typedef struct {
  char *identity;
  char *serial;        /* its current certificate (hex), NULL before one */
  char *module;        /* the library holding its key; NULL: token absent */
  gboolean registered; /* that library is registered in the store */
  gboolean visible;    /* the certificate is seen there (serial and issuer) */
  gboolean usable;     /* visible, and no restart needed */
  char *problem;       /* why not usable, said for a person; NULL when usable */
} KprBrowserUse;

typedef struct {
  char *name;          /* as registered ("certkeeper (softhsm2)") */
  char *library;
  gboolean ours;       /* registered by certkeeper */
} KprBrowserModule;

typedef struct {
  KprBrowserKind kind;
  char *title;             /* "Chromium", "Firefox (work)" */
  char *profile;           /* the Firefox profile's name; NULL for Chromium */
  gboolean is_default;     /* the profile Firefox opens by default */
  char *db_dir;            /* the NSS database */
  gboolean exists;         /* Chromium's is created on first use */
  gboolean sandboxed;      /* snap or flatpak: cannot load host modules */
  char *damaged;           /* why the database is left alone, or NULL */
  char *error;             /* what failed when changing it, or NULL */
  gboolean running;        /* the browser is running on this store */
  gboolean restart_needed; /* running since before the last module change */
  GPtrArray *modules;      /* KprBrowserModule, the internal one left out */
  GPtrArray *uses;         /* KprBrowserUse, one per identity with a certificate */
} KprBrowserStore;

void kpr_browser_store_free (KprBrowserStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprBrowserStore, kpr_browser_store_free)
const char *kpr_browser_kind_to_string (KprBrowserKind kind); /* "chromium", "firefox" */

/* These run certkeeper-nss once or more per store (tens of milliseconds
 * each, up to 30 s when a module hangs): the window calls them from a
 * worker thread. */

/* Every store found for this user, as it stands; changes nothing. */
GPtrArray *kpr_agent_browser_status (KprAgent *agent, KprBrowserKind kinds, GError **error);
/* Registers the modules of every identity in every store of @kinds that
 * can take them, creating Chromium's database where Chromium would.
 * Idempotent.  *ret_stores (may be NULL) gets the stores afterwards, even
 * on failure; FALSE when a store could not be set up (its ->damaged or
 * ->error says why; the others are done). */
gboolean kpr_agent_browser_register (KprAgent *agent, KprBrowserKind kinds,
                                     GPtrArray **ret_stores, GError **error);
/* Removes what certkeeper registered (modules named "certkeeper (…)");
 * other modules stay. */
gboolean kpr_agent_browser_unregister (KprAgent *agent, KprBrowserKind kinds,
                                       GPtrArray **ret_stores, GError **error);
/* For the window: where identity @name is usable, as one line
 * ("Firefox (work) · Chromium", "Chromium: restart needed", "No browser
 * set up"); *ret_restart_needed (may be NULL) when a browser must restart. */
char *kpr_agent_browser_where (KprAgent *agent, const char *name, gboolean *ret_restart_needed,
                               GError **error);
/* The window's one button: register whatever can be registered. */
gboolean kpr_agent_browser_fix (KprAgent *agent, GError **error);

/* Enroll, import, install and renew make the identity usable in the
 * browsers found (docs/browsers.md); FALSE turns that off for this agent
 * (--no-browser).  Unset, [browsers] automatic= in certkeeper.conf decides
 * (default true). */
void kpr_agent_set_browsers (KprAgent *agent, gboolean automatic);
/* What that step did, for the person ("Ready in Chromium; restart Firefox
 * (work) to use it there."), or NULL; valid until the next flow. */
const char *kpr_agent_get_browser_note (KprAgent *agent);

/* A real TLS client-authentication probe of @url with identity @name's
 * key: what a browser would meet there. */
typedef struct {
  gboolean asked;        /* the site asked for a client certificate */
  GStrv asked_cas;       /* the CAs it named (empty: any) */
  gboolean issuer_asked; /* our issuer among them, or none named */
  gboolean accepted;     /* the site took the certificate and answered */
  int http_status;       /* its HTTP status, 0 without an answer */
  char *tls_version;
  char *refusal;         /* the site's alert or error when it refused */
  char *why_not;         /* why a browser would not offer the certificate, or NULL */
  GPtrArray *stores;     /* KprBrowserStore: the browsers' side */
} KprBrowserCheck;

void kpr_browser_check_free (KprBrowserCheck *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprBrowserCheck, kpr_browser_check_free)
/* @ca_file: the site's CA (else the system's trust store).  An unreachable
 * or untrusted site is an error; a refusal is a result (->accepted). */
KprBrowserCheck *kpr_agent_browser_check (KprAgent *agent, const char *name, const char *url,
                                          const char *ca_file, GError **error);

/* Kiosks (certkeeper-agent --headless, browser-url=): the Chromium policy
 * AutoSelectCertificateForUrls and the Firefox policy SecurityDevices for
 * these identities, in the policy directory (KPR_BROWSER_POLICY_ROOT,
 * /etc; CERTKEEPER_BROWSER_POLICY_ROOT overrides it).  Identities not
 * listed lose their entries; files left with nothing of certkeeper's are
 * removed.  *ret_changed: a file was written or removed. */
typedef struct {
  const char *name; /* an identity with a certificate */
  const char *url;  /* https://host[:port][/…] */
} KprBrowserPolicy;

gboolean kpr_agent_browser_policies (KprAgent *agent, const KprBrowserPolicy *wanted, gsize n,
                                     gboolean *ret_changed, GError **error);

G_END_DECLS
