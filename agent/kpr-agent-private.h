/* kpr-agent-private.h — shared between the files of agent/. */
#pragma once

#include "kpr-agent.h"
#include "kpr-protocol.h"
#include "kpr-token.h"

#include <openssl/err.h>

char *kpr_identity_to_data (const KprIdentity *identity, gsize *ret_len);
/* @brief: see kpr_store_load_brief. */
KprIdentity *kpr_identity_from_data (const char *name, const char *data, gsize len,
                                     gboolean brief, GError **error);
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
 * an RSA key that may decrypt). */
gboolean kpr_agent_generate_key (KprAgent *agent, KprToken *token, const KprIdentity *id,
                                 GBytes *key_id, GError **error);
/* SCEP and CMP: KPR_STEP_SUBMIT → ISSUED or PENDING (SCEP CertPoll). */
gboolean kpr_agent_protocol_submit (KprAgent *agent, KprIdentity *id, EVP_PKEY *key,
                                    GError **error);
/* SCEP RenewalReq or CMP KUR, signed with the current pair. */
X509 *kpr_agent_protocol_renew (KprAgent *agent, KprToken *token, KprIdentity *id,
                                EVP_PKEY *next_key, GError **error);
/* CMP RR (signed with the key, else MAC-protected with a one-time
 * secret); SCEP has no revocation.  Enters REVOKED and wipes the key. */
gboolean kpr_agent_protocol_revoke (KprAgent *agent, KprIdentity *id, GError **error);

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
  guint retry_after; /* the server's Retry-After with the last failure */
  int browsers;       /* kpr-browser.c: 0 unset (certkeeper.conf decides), 1 on, 2 off */
  char *browser_note; /* what the last flow's browser step did, or NULL */
  char *cmp_reference; /* kpr_agent_set_cmp_reference */
};

/* The process's one token context (loaded on first use). */
KprTokenCtx *kpr_agent_get_tokens (KprAgent *agent, GError **error);
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

/* kpr-enroll.c */
gboolean kpr_agent_install_cert (KprAgent *agent, KprToken *token, KprIdentity *id,
                                 GBytes *key_id, X509 *cert, GError **error);
gboolean kpr_agent_continue_enrollment (KprAgent *agent, KprIdentity *id, gboolean with_server,
                                        GError **error);

/* kpr-browser.c: after enroll, import, install and renew (never fails). */
void kpr_agent_browser_after (KprAgent *agent, const KprIdentity *identity);
