/* kpr-renew.c — renewal with a new key on the same token, and resuming
 * an interrupted renewal.  The old pair goes only after the record points
 * at the new one, which is on the token and verified (kpr-lifecycle.c). */
#include "config.h"

#include "kpr-agent-private.h"
#include "kpr-lifecycle.h"

/* ACTIVE + stale-key-id: remove what the record no longer points at. */
static gboolean
drop_stale (KprAgent *agent, KprToken *token, KprIdentity *id, GError **error)
{
  if (!id->stale_key_id)
    return TRUE;
  if (!kpr_agent_remove_objects (agent, token, id->stale_key_id, "previous", error))
    return FALSE;
  g_clear_pointer (&id->stale_key_id, g_bytes_unref);
  return kpr_lifecycle_save (agent->store, id, "stale-removed", FALSE, error);
}

/* ACTIVE + next-key-id without NEXT_KEY_READY: the new key may or may not
 * exist; it was never relied on, so it goes. */
static gboolean
roll_back_next (KprAgent *agent, KprToken *token, KprIdentity *id, GError **error)
{
  if (!id->next_key_id || id->state != KPR_STATE_ACTIVE)
    return TRUE;
  if (!kpr_agent_remove_objects (agent, token, id->next_key_id, "unfinished", error))
    return FALSE;
  g_clear_pointer (&id->next_key_id, g_bytes_unref);
  return kpr_lifecycle_save (agent->store, id, "next-rolled-back", TRUE, error);
}

/* NEXT_INSTALLED → ACTIVE: the record takes the new pair, then the old
 * objects go. */
static gboolean
swap (KprAgent *agent, KprToken *token, KprIdentity *id, GError **error)
{
  id->stale_key_id = g_steal_pointer (&id->key_id);
  id->key_id = g_steal_pointer (&id->next_key_id);
  X509_free (id->cert);
  id->cert = g_steal_pointer (&id->next_cert);
  g_clear_pointer (&id->pending_csr, X509_REQ_free);
  id->retry_at = 0;
  /* A new key on the software token starts in exporting mode again, so
   * its backup is new business. */
  if (id->protection == KPR_PROTECTION_EXPORTABLE)
    g_clear_pointer (&id->backup_when, g_free);
  if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_ACTIVE, error))
    return FALSE;
  kpr_store_audit (agent->store, id->name, "renewed");
  return drop_stale (agent, token, id, error);
}

/* The renewal request: simplereenroll over mutual TLS with the current
 * pair; when that is refused (expired, revoked, unknown to the server),
 * the same flow with username + secret word. */
static X509 *
ask_server (KprAgent *agent, KprEstClient *client, KprToken *token, KprIdentity *id,
            EVP_PKEY *next_key, GError **error)
{
  g_autoptr (EVP_PKEY) current = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (KprSecret) secret = NULL;
  KprEstCredentials creds = { id->username, NULL };
  X509 *cert;

  current = kpr_token_get_private_key (token, id->key_id, &local);
  if (current)
    {
      kpr_est_client_set_client_cert (client, id->cert, current, NULL);
      kpr_agent_progress (agent, "Renewing “%s” with %s", id->name, id->server);
      cert = kpr_est_client_enroll (client, id->pending_csr, next_key, TRUE, NULL, &local);
      kpr_est_client_set_client_cert (client, NULL, NULL, NULL);
      if (cert || g_error_matches (local, KPR_ERROR, KPR_ERROR_PENDING)
          || g_error_matches (local, KPR_ERROR, KPR_ERROR_UNREACHABLE)
          || g_error_matches (local, KPR_ERROR, KPR_ERROR_UNTRUSTED)
          || g_error_matches (local, KPR_ERROR, KPR_ERROR_KEY_MISMATCH))
        {
          if (!cert)
            g_propagate_error (error, g_steal_pointer (&local));
          return cert;
        }
    }
  /* Refused with our certificate: prove who we are again. */
  if (!agent->ui.ask)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The server refused to renew “%s” with its certificate (%s); run "
                   "'certkeeper renew %s' where a secret word can be typed",
                   id->name, local ? local->message : "no usable key", id->name);
      return NULL;
    }
  kpr_agent_progress (agent, "The server refused the current certificate (%s); "
                      "asking for a secret word instead", local ? local->message : "no key");
  {
    g_autoptr (KprEstChallenge) challenge =
      agent->ui.secret_known ? NULL : kpr_est_client_challenge (client, id->username, NULL);
    g_autofree char *detail = challenge
      ? g_strdup_printf ("sent by %s to %s", challenge->channel, challenge->destination)
      : g_strdup_printf ("for %s", id->username);
    secret = agent->ui.ask (challenge ? KPR_ASK_SECRET_WORD : KPR_ASK_PASSWORD, detail,
                            agent->ui.data, error);
  }
  if (!secret)
    return NULL;
  creds.secret = secret;
  return kpr_est_client_enroll (client, id->pending_csr, next_key, FALSE, &creds, error);
}

static X509 *
request_renewal (KprAgent *agent, KprToken *token, KprIdentity *id, EVP_PKEY *next_key,
                 GError **error)
{
  g_autoptr (KprEstClient) client = NULL;
  X509 *cert;

  /* SCEP RenewalReq, CMP KUR: kpr-enroll-protocol.c */
  if (id->protocol != KPR_PROTOCOL_EST)
    return kpr_agent_protocol_renew (agent, token, id, next_key, error);
  if (!(client = kpr_agent_client_for (agent, id, error)))
    return NULL;
  cert = ask_server (agent, client, token, id, next_key, error);
  if (!cert)
    agent->retry_after = kpr_est_client_get_retry_after (client);
  return cert;
}

/* Drives a renewal to ACTIVE, one step of the lifecycle table
 * (kpr-lifecycle.c) after the other. */
static gboolean
drive_renewal (KprAgent *agent, KprToken *token, KprIdentity *id, GError **error)
{
  for (;;)
    switch (kpr_lifecycle_info (id->state)->step)
      {
      case KPR_STEP_RENEW_KEY:
        if (id->next_key_id)
          {
            /* The id is recorded; the key is made now. */
            if (!kpr_agent_remove_objects (agent, token, id->next_key_id, "unfinished", error))
              return FALSE;
            kpr_agent_progress (agent, "Generating a new %s key on “%s”…",
                                kpr_key_type_to_string (id->key_type),
                                kpr_token_get_info (token)->label);
            if (!kpr_agent_generate_key (agent, token, id, id->next_key_id, error))
              return FALSE;
            kpr_fault_point ("after:next-keygen");
            if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEXT_KEY_READY, error))
              return FALSE;
            break;
          }
        return drop_stale (agent, token, id, error);

      case KPR_STEP_RENEW_REQUEST:
        {
          g_autoptr (EVP_PKEY) next_key = kpr_token_get_private_key (token, id->next_key_id, error);
          X509 *cert;
          if (!next_key)
            return FALSE;
          if (!id->pending_csr
              && !(id->pending_csr = kpr_est_csr_new_renewal (next_key, id->cert, NULL, error)))
            return FALSE;
          if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEXT_SUBMITTED, error))
            return FALSE;
          cert = request_renewal (agent, token, id, next_key, error);
          if (!cert)
            return FALSE;
          X509_free (id->next_cert);
          id->next_cert = cert;
          if (!kpr_agent_install_cert (agent, token, id, id->next_key_id, cert, error)
              || !kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEXT_INSTALLED, error))
            return FALSE;
        }
        break;

      case KPR_STEP_SWAP:
        if (!swap (agent, token, id, error))
          return FALSE;
        return TRUE;

      default:
        g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "“%s” is %s, not renewable", id->name,
                     kpr_state_to_string (id->state));
        return FALSE;
      }
}

KprIdentity *
kpr_agent_renew (KprAgent *agent, const char *name, gboolean force, gboolean *ret_renewed,
                 GError **error)
{
  g_autoptr (KprIdentity) id = kpr_store_load (agent->store, name, error);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  KprToken *token;

  agent->retry_after = 0;
  if (ret_renewed)
    *ret_renewed = FALSE;
  if (!id)
    return NULL;
  if (kpr_lifecycle_info (id->state)->sched == KPR_SCHED_NONE)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "“%s” is %s; enroll it again with 'certkeeper delete %s' and "
                   "'certkeeper enroll %s …'", name, kpr_state_to_string (id->state), name, name);
      return NULL;
    }
  if (kpr_lifecycle_info (id->state)->enrolling)
    {
      /* Pending or interrupted: polling is what renewing means here. */
      if (!kpr_agent_continue_enrollment (agent, id, TRUE, error))
        return NULL;
      if (ret_renewed)
        *ret_renewed = TRUE;
      kpr_agent_browser_after (agent, id);
      return g_steal_pointer (&id);
    }
  if (!(token = kpr_agent_token_for (agent, id, TRUE, error))
      || !roll_back_next (agent, token, id, error))
    return NULL;

  if (id->state == KPR_STATE_ACTIVE)
    {
      if (!drop_stale (agent, token, id, error))
        return NULL;
      if (!force && now < kpr_identity_renew_at (id))
        return g_steal_pointer (&id);
      /* The new key's id is in the record before the key exists. */
      id->next_key_id = kpr_token_new_id ();
      if (!kpr_lifecycle_save (agent->store, id, "next-key-id", TRUE, error))
        return NULL;
    }
  if (!drive_renewal (agent, token, id, error))
    return NULL;
  if (ret_renewed)
    *ret_renewed = TRUE;
  kpr_agent_browser_after (agent, id);
  return g_steal_pointer (&id);
}

KprIdentity *
kpr_agent_resume (KprAgent *agent, const char *name, GError **error)
{
  g_autoptr (KprIdentity) id = kpr_store_load (agent->store, name, error);
  KprToken *token;

  if (!id)
    return NULL;
  /* What the lifecycle table says resuming does in this state. */
  switch (kpr_lifecycle_info (id->state)->resume)
    {
    case KPR_RESUME_DRIVE:
      /* Steps that need nobody to type anything. */
      if (!kpr_agent_continue_enrollment (agent, id, FALSE, error))
        return NULL;
      break;
    case KPR_RESUME_TIDY:
      if (!(token = kpr_agent_token_for (agent, id, TRUE, error))
          || !roll_back_next (agent, token, id, error) || !drop_stale (agent, token, id, error))
        return NULL;
      break;
    case KPR_RESUME_SWAP:
      if (!(token = kpr_agent_token_for (agent, id, TRUE, error)) || !swap (agent, token, id, error))
        return NULL;
      break;
    case KPR_RESUME_KEEP:
      break;
    }
  return g_steal_pointer (&id);
}
