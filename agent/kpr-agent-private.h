/* kpr-agent-private.h — shared between the files of agent/. */
#pragma once

#include "kpr-agent.h"
#include "kpr-protocol.h"
#include "kpr-token.h"

#include <openssl/err.h>

/* A renewal's new key replaces the current one: made here, not restored,
 * no backup holds it (kpr-identity.c). */
void kpr_identity_forget_key_facts (KprIdentity *identity);
char *kpr_identity_to_data (const KprIdentity *identity, gsize *ret_len);
/* @brief: see kpr_store_load_brief.  @ret_values (brief only, may be
 * NULL): what the list cache keeps to make the same brief identity again
 * with kpr_identity_from_cache_values(), left NULL when it cannot. */
KprIdentity *kpr_identity_from_data (const char *name, const char *data, gsize len,
                                     gboolean brief, GVariant **ret_values, GError **error);
KprIdentity *kpr_identity_from_cache_values (const char *name, GVariant *values,
                                             GError **error);
/* Writes @path through a temp file renamed over it: atomic, not durable
 * (kpr-store.c). */
gboolean kpr_store_replace_quickly (const char *path, const char *data, gsize len,
                                    GError **error);

/* kpr-store-cache.c: the list cache, brief identities without reading
 * their records (kpr_store_load_brief). */
typedef struct _KprStoreCache KprStoreCache;
struct stat;
KprStoreCache *kpr_store_cache_new (const char *store_dir, int ids_fd);
/* Writes the cache when it changed. */
void kpr_store_cache_free (KprStoreCache *cache);
/* @name's brief identity when its record is unchanged since cached. */
KprIdentity *kpr_store_cache_get (KprStoreCache *cache, const char *name);
/* @values (kpr_identity_from_data) of the record whose fstat is @st. */
void kpr_store_cache_put (KprStoreCache *cache, const char *name, const struct stat *st,
                          GVariant *values);

/* PEM (one or more), DER, or PKCS#7 certs-only in PEM or DER. */
KprX509Stack *kpr_load_pem_certs (const char *path, GError **error);
/* The certificate of @certs for @key, or the best one to refuse (see
 * kpr-store.c). */
X509 *kpr_pick_issued (KprX509Stack *certs, EVP_PKEY *key);
/* kpr-enroll-protocol.c: what the flows ask of the server, by protocol.
 * KPR_ERROR_PENDING for @id, naming the request a person quotes to the
 * administrator and what to do next. */
void kpr_agent_pending_error (const KprIdentity *id, guint wait, GError **error);
/* The subject every protocol asks for: CN=username. */
X509_NAME *kpr_agent_subject_for (const char *username);
/* The roots of @roots a person confirmed (ui->confirm with the
 * fingerprint) or that have o->trust_fingerprint; an error saying why
 * when none.  Nothing with credentials has been sent. */
KprX509Stack *kpr_agent_confirm_roots (KprAgent *agent, const KprEnrollOptions *o,
                                       KprX509Stack *roots, GStrv fingerprints, GError **error);
/* The roots in o->ca_file (or all its certificates when none is a root). */
KprX509Stack *kpr_agent_roots_from_file (const KprEnrollOptions *o, GError **error);
/* SCEP and CMP: checks @o, establishes the explicit anchor (file or
 * confirmed fingerprint) before any secret is sent. */
KprX509Stack *kpr_agent_protocol_trust (KprAgent *agent, const KprEnrollOptions *o,
                                        GError **error);
/* The key pair for @key_id as the identity's protocol needs it (SCEP:
 * an RSA key that may decrypt); its private key, kept by the caller for
 * the request instead of searching the token for it again. */
EVP_PKEY *kpr_agent_generate_key (KprAgent *agent, KprToken *token, const KprIdentity *id,
                                  GBytes *key_id, GError **error);
/* SCEP and CMP: KPR_STEP_SUBMIT → ISSUED or PENDING (SCEP CertPoll). */
gboolean kpr_agent_protocol_submit (KprAgent *agent, KprIdentity *id, EVP_PKEY *key,
                                    GError **error);
/* SCEP RenewalReq or CMP KUR, signed with the current pair. */
X509 *kpr_agent_protocol_renew (KprAgent *agent, KprToken *token, KprIdentity *id,
                                EVP_PKEY *next_key, GError **error);
/* CMP RR with the key on @token (may be NULL: lost), else with a one-time
 * secret; SCEP has none.  The caller records the revocation. */
gboolean kpr_agent_protocol_revoke (KprAgent *agent, KprIdentity *id, KprToken *token,
                                    GError **error);

/* kpr-lifecycle.c */
gboolean kpr_lifecycle_enter (KprStore *store, KprIdentity *identity, KprState state,
                              GError **error);
/* @durable: fsynced (a key id named before its key exists, a fact a person
 * relies on); not for what a re-run repairs (stale objects removed). */
gboolean kpr_lifecycle_save (KprStore *store, KprIdentity *identity, const char *point,
                             gboolean durable, GError **error);
#ifdef KPR_FAULT_INJECTION
void kpr_fault_point (const char *point);
#else
#define kpr_fault_point(point) ((void) 0)
#endif

struct _KprAgent {
  KprAgentUi ui;
  KprStore *store;
  KprTokenCtx *tokens;
  gboolean tokens_all; /* every registered module is loaded into @tokens */
  guint retry_after; /* the server's Retry-After with the last failure */
  gboolean request_sent; /* an enrollment request with credentials left */
  int browsers;       /* kpr-browser.c: 0 unset (certkeeper.conf decides), 1 on, 2 off */
  char *browser_note; /* what the last flow's browser step did, or NULL */
  char *browser_restart; /* its "Restart Chromium to use it there." part, or NULL */
  char *renewal_note; /* a renewal that became a new enrollment: why, or NULL */
  char *cmp_reference; /* kpr_agent_set_cmp_reference */
};

/* The process's one token context with every registered module (each
 * tried in a child process first) and the software token's. */
KprTokenCtx *kpr_agent_get_tokens (KprAgent *agent, GError **error);
/* The token context with the module of one token loaded: @module (a
 * record's token-module), else the software token's when @token_uri is
 * NULL or names it, else every module (kpr_agent_get_tokens). */
KprTokenCtx *kpr_agent_tokens_for (KprAgent *agent, const char *token_uri, const char *module,
                                   GError **error);
/* The identity's token, logged in through ui->pin when needed. */
KprToken *kpr_agent_token_for (KprAgent *agent, const KprIdentity *identity, gboolean login,
                               GError **error);
/* kpr-tokens.c: what the front ends see of @info. */
KprAgentToken *kpr_agent_token_from_info (const KprTokenInfo *info);
/* Logs in to @token through ui->pin (a KprPinFunc over KprAgentToken). */
gboolean kpr_agent_login (KprAgent *agent, KprToken *token, GError **error);

void kpr_agent_progress (KprAgent *agent, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* An EST client for @identity with its trust anchors loaded. */
KprEstClient *kpr_agent_client_for (KprAgent *agent, const KprIdentity *identity,
                                    GError **error);
/* Removes every object with @id (orphans included); idempotent. */
gboolean kpr_agent_remove_objects (KprAgent *agent, KprToken *token, GBytes *id,
                                   const char *why, GError **error);
/* The same; without @sweep the objects that name nobody are left to the
 * run that resumes what a crash interrupted (kpr_token_delete_objects_of). */
gboolean kpr_agent_remove_objects_of (KprAgent *agent, KprToken *token, GBytes *id,
                                      const char *why, gboolean sweep, GError **error);

/* kpr-renew.c: the CKA_LABEL of @key_id's objects: the identity's name,
 * or a temporary one for the renewal's pair until it takes over. */
char *kpr_agent_object_label (const KprIdentity *id, GBytes *key_id);

/* kpr-enroll.c */
/* @made_here: this run made @key_id's key under an id it minted, so no
 * certificate can carry that id and no search is needed. */
gboolean kpr_agent_install_cert (KprAgent *agent, KprToken *token, KprIdentity *id,
                                 GBytes *key_id, X509 *cert, gboolean made_here, GError **error);
gboolean kpr_agent_continue_enrollment (KprAgent *agent, KprIdentity *id, gboolean with_server,
                                        GError **error);

/* kpr-request.c: what is sent to the EST server. */
/* Before a key is made: GET /csrattrs; a key type the server asks for
 * that certkeeper makes replaces @id->key_type (said and audited); one it
 * cannot make is KPR_ERROR_UNSUPPORTED before anything is generated. */
gboolean kpr_agent_adopt_key_type (KprAgent *agent, KprEstClient *client, KprIdentity *id,
                                   GError **error);
/* Makes @id->pending_csr for @key from the server's CSR attributes
 * (OIDs it cannot fill in are audited), unless there is one; when they ask
 * for the request bound to the TLS connection (challengePassword), none is
 * made here: kpr_agent_send_request makes it on that connection. */
gboolean kpr_agent_make_request (KprAgent *agent, KprEstClient *client, KprIdentity *id,
                                 EVP_PKEY *key, const X509_NAME *subject,
                                 const GENERAL_NAMES *san, GError **error);
/* simpleenroll / simplereenroll of @id->pending_csr, or of the bound
 * request made now (then kept in @id->pending_csr, and saved). */
X509 *kpr_agent_send_request (KprAgent *agent, KprEstClient *client, KprIdentity *id,
                              EVP_PKEY *key, const X509_NAME *subject, const GENERAL_NAMES *san,
                              gboolean reenroll, const KprEstCredentials *creds, GError **error);
/* Records how @id's request authenticated ("secret-word", "password",
 * "certificate", "certificate+password"): a poll does the same. */
void kpr_agent_note_auth (KprAgent *agent, KprIdentity *id, const char *how);
/* The server's password for @id (not a one-time word), @why it is
 * needed, through ui->ask; KPR_ERROR_AUTH saying what to do when nothing
 * can ask. */
KprSecret *kpr_agent_ask_password (KprAgent *agent, const KprIdentity *id, const char *why,
                                   GError **error);
/* kpr-backup-file.c: whether the file read back from the disk (before it
 * takes its place) is the backup it should be. */
typedef gboolean (*KprBackupVerify) (GBytes *on_disk, gpointer data, GError **error);
/* Writes @bytes at @path without truncating or replacing anything (with
 * @force, a regular file may be replaced); refuses links, directories,
 * devices and FIFOs (KPR_ERROR_EXISTS).  *ret_sha256: of the file. */
gboolean kpr_backup_file_write (const char *path, GBytes *bytes, gboolean force,
                                KprBackupVerify verify, gpointer data, char **ret_sha256,
                                GError **error);
/* NULL when the recorded backup is still there, unchanged and of the
 * current certificate; else what is wrong, as a clause for a sentence. */
char *kpr_backup_file_problem (const KprIdentity *id);

/* kpr-revocation.c: before a renewal, TRUE (with @error set) when the
 * CRL says @id's certificate is revoked (@id is then REVOKED); after a
 * new certificate, the account's other identities are checked. */
gboolean kpr_agent_stop_if_revoked (KprAgent *agent, KprIdentity *id, GError **error);
void kpr_agent_after_issue (KprAgent *agent, const KprIdentity *id);
/* After an import: the same check, @id's own (restored) certificate too. */
void kpr_agent_after_import (KprAgent *agent, const KprIdentity *id);

/* kpr-browser.c: after enroll, import, install and renew (never fails). */
void kpr_agent_browser_after (KprAgent *agent, const KprIdentity *identity);
