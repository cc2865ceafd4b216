/* kpr-agent-private.h — shared between the files of agent/. */
#pragma once

#include "kpr-agent.h"
#include "kpr-est.h"
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
/* kpr-enroll-protocol.c: KPR_ERROR_PENDING for @id, naming the request a
 * person quotes to the administrator and what to do next. */
void kpr_agent_pending_error (const KprIdentity *id, guint wait, GError **error);

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
