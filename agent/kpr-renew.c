/* kpr-renew.c — renewal with a new key on the same token, and resuming
 * an interrupted renewal.  The old pair goes only after the record points
 * at the new one, which is on the token and verified (kpr-lifecycle.c). */
#include "config.h"

#include "kpr-agent-private.h"
#include "kpr-lifecycle.h"

char *
kpr_agent_object_label (const KprIdentity *id, GBytes *key_id)
{
  /* Programs that use the identity by its label (pkcs11:object=NAME) look
   * the certificate and the key up one after the other: the renewal's
   * pair carries another label until it replaces the current one. */
  if (key_id && id->next_key_id && g_bytes_equal (key_id, id->next_key_id))
    return g_strconcat (id->name, " (renewal)", NULL);
  return g_strdup (id->name);
}

/* ACTIVE + stale-key-id: the new pair takes the identity's label, then
 * what the record no longer points at goes.  Both happen back to back,
 * after the record was written, so that programs that look the identity
 * up by label see the old pair or the new one for as short a time as the
 * token allows, never a key without its certificate for longer. */
/* @sweep: also remove what a crash left unnamed; a run that made the new
 * pair itself, from ACTIVE, has nothing of the kind to clean up. */
static gboolean
drop_stale (KprAgent *agent, KprToken *token, KprIdentity *id, gboolean sweep, GError **error)
{
  if (!id->stale_key_id)
    return TRUE;
  if (!kpr_token_set_label (token, id->key_id, id->name, error)
      || !kpr_agent_remove_objects_of (agent, token, id->stale_key_id, "previous", sweep, error))
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
swap (KprAgent *agent, KprToken *token, KprIdentity *id, gboolean sweep, GError **error)
{
  id->stale_key_id = g_steal_pointer (&id->key_id);
  id->key_id = g_steal_pointer (&id->next_key_id);
  X509_free (id->cert);
  id->cert = g_steal_pointer (&id->next_cert);
  g_clear_pointer (&id->pending_csr, X509_REQ_free);
  id->retry_at = 0;
  /* The new key was made here, and no backup holds it yet (an exportable
   * one starts in exporting mode again: its backup is new business). */
  kpr_identity_forget_key_facts (id);
  if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_ACTIVE, error))
    return FALSE;
  kpr_store_audit (agent->store, id->name, "renewed");
  {
    g_autofree char *hex = kpr_ossl_serial_hex (id->cert);
    kpr_store_record_event (agent->store, id->name,
                            &(KprEvent) { .type = KPR_EVENT_RENEWED, .serial = hex,
                                          .not_after = kpr_ossl_time_unix (X509_get0_notAfter (id->cert)) });
  }
  return drop_stale (agent, token, id, sweep, error);
}

/* Sends the renewal (a new request, or the recorded one when polling)
 * with the current certificate, and the server's password too when it
 * asks for both.  NULL with *@cert_refused when the server refused the
 * certificate itself (expired, revoked, unknown to it). */
static X509 *
reenroll (KprAgent *agent, KprEstClient *client, KprIdentity *id, EVP_PKEY *current,
          EVP_PKEY *next_key, gboolean *cert_refused, GError **error)
{
  g_autoptr (GENERAL_NAMES) san = X509_get_ext_d2i (id->cert, NID_subject_alt_name, NULL, NULL);
  g_autoptr (KprSecret) secret = NULL;
  g_autoptr (GError) local = NULL;
  KprEstCredentials creds = { id->username, NULL };
  X509 *cert = NULL;

  *cert_refused = FALSE;
  /* A poll of a request that needed both authenticates the same way. */
  if (id->pending_csr && g_strcmp0 (id->submitted_auth, "certificate+password") == 0)
    {
      if (!(secret = kpr_agent_ask_password (agent, id, "with the certificate, to answer the "
                                             "renewal it is waiting for", error)))
        return NULL;
      creds.secret = secret;
    }
  else
    kpr_agent_note_auth (agent, id, "certificate");
  kpr_est_client_set_client_cert (client, id->cert, current, NULL);
  kpr_agent_progress (agent, "Renewing “%s” with %s", id->name, id->server);
  cert = kpr_agent_send_request (agent, client, id, next_key, X509_get_subject_name (id->cert),
                                 san, TRUE, creds.secret ? &creds : NULL, &local);
  if (!cert && !creds.secret && g_error_matches (local, KPR_ERROR, KPR_ERROR_AUTH)
      && kpr_est_client_get_refusal (client) == KPR_EST_REFUSAL_CERTIFICATE)
    {
      /* The server wants its HTTP authentication on top of the
       * certificate (RFC 7030 §3.2.3): the same simplereenroll again, with
       * both — a renewal stays a renewal. */
      g_clear_error (&local);
      if (!(secret = kpr_agent_ask_password (agent, id, "with the certificate, to renew",
                                             error)))
        {
          kpr_est_client_set_client_cert (client, NULL, NULL, NULL);
          return NULL;
        }
      creds.secret = secret;
      kpr_agent_note_auth (agent, id, "certificate+password");
      cert = kpr_agent_send_request (agent, client, id, next_key,
                                     X509_get_subject_name (id->cert), san, TRUE, &creds, &local);
    }
  kpr_est_client_set_client_cert (client, NULL, NULL, NULL);
  if (cert)
    return cert;
  /* Refused for the certificate: no credentials were in play, and the
   * server did not merely want a password besides. */
  *cert_refused = !creds.secret
                  && (g_error_matches (local, KPR_ERROR, KPR_ERROR_AUTH)
                      || g_error_matches (local, KPR_ERROR, KPR_ERROR_REJECTED));
  g_propagate_error (error, g_steal_pointer (&local));
  return NULL;
}

/* The renewal request: simplereenroll over mutual TLS with the current
 * pair (and the server's password when it wants both).  Only when the
 * certificate itself is refused (expired, revoked, unknown to the server)
 * does it become a new enrollment with username and secret word — a
 * different operation, said in the log, the record's history and the
 * outcome (kpr_agent_get_renewal_note). */
static X509 *
ask_server (KprAgent *agent, KprEstClient *client, KprToken *token, KprIdentity *id,
            EVP_PKEY *next_key, GError **error)
{
  g_autoptr (EVP_PKEY) current = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (KprSecret) secret = NULL;
  KprEstCredentials creds = { id->username, NULL };
  gboolean cert_refused = TRUE;
  KprAsk what;
  X509 *cert;

  current = kpr_token_get_private_key (token, id->key_id, &local);
  if (current)
    {
      cert = reenroll (agent, client, id, current, next_key, &cert_refused, &local);
      if (cert || !cert_refused)
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
                   "'certkeeper renew %s' where a secret word can be typed to enroll it again",
                   id->name, local ? local->message : "no usable key", id->name);
      return NULL;
    }
  kpr_agent_progress (agent, "The server refused the current certificate (%s); enrolling "
                      "“%s” again with username and secret word instead of renewing it",
                      local ? local->message : "no key", id->name);
  kpr_store_audit (agent->store, id->name, "renewal refused with the certificate (%s): "
                   "enrolling again (simpleenroll) instead",
                   local ? local->message : "no key");
  {
    g_autoptr (KprEstChallenge) challenge =
      agent->ui.secret_known ? NULL : kpr_est_client_challenge (client, id->username, NULL);
    g_autofree char *detail = challenge
      ? g_strdup_printf ("sent by %s to %s", challenge->channel, challenge->destination)
      : g_strdup_printf ("for %s", id->username);
    what = challenge ? KPR_ASK_SECRET_WORD : KPR_ASK_PASSWORD;
    secret = agent->ui.ask (what, detail, agent->ui.data, error);
  }
  if (!secret)
    return NULL;
  creds.secret = secret;
  kpr_agent_note_auth (agent, id, what == KPR_ASK_SECRET_WORD ? "secret-word" : "password");
  {
    g_autoptr (GENERAL_NAMES) san = X509_get_ext_d2i (id->cert, NID_subject_alt_name, NULL,
                                                      NULL);
    cert = kpr_agent_send_request (agent, client, id, next_key, X509_get_subject_name (id->cert),
                                   san, FALSE, &creds, error);
  }
  if (cert)
    {
      g_free (agent->renewal_note);
      agent->renewal_note = g_strdup_printf (
        "“%s” was not renewed but enrolled again (username and %s): the server refused to "
        "renew with the current certificate (%s)", id->name,
        what == KPR_ASK_SECRET_WORD ? "secret word" : "password",
        local ? local->message : "no usable key");
    }
  return cert;
}

static X509 *
request_renewal (KprAgent *agent, KprEstClient *client, KprToken *token, KprIdentity *id,
                 EVP_PKEY *next_key, GError **error)
{
  X509 *cert = ask_server (agent, client, token, id, next_key, error);

  if (!cert)
    agent->retry_after = kpr_est_client_get_retry_after (client);
  return cert;
}

/* Drives a renewal to ACTIVE, one step of the lifecycle table
 * (kpr-lifecycle.c) after the other. */
static gboolean
drive_renewal (KprAgent *agent, KprToken *token, KprIdentity *id, GError **error)
{
  /* The key this run made, kept for its request. */
  g_autoptr (EVP_PKEY) made = NULL;
  gboolean made_here = FALSE;

  for (;;)
    switch (kpr_lifecycle_info (id->state)->step)
      {
      case KPR_STEP_RENEW_KEY:
        if (id->next_key_id)
          {
            /* The id is recorded; the key is made now, of the type the
             * server's CSR attributes ask for when they do (EST; SCEP and
             * CMP keep the identity's type). */
            if (id->protocol == KPR_PROTOCOL_EST)
              {
                g_autoptr (KprEstClient) client = kpr_agent_client_for (agent, id, error);

                if (!client || !kpr_agent_adopt_key_type (agent, client, id, error))
                  return FALSE;
              }
            /* The id was minted a moment ago by kpr_agent_renew (an
             * interrupted renewal's objects went with roll_back_next):
             * nothing on the token carries it, no search needed. */
            kpr_agent_progress (agent, "Generating a new %s key on “%s”…",
                                kpr_key_type_to_string (id->key_type),
                                kpr_token_get_info (token)->label);
            if (!(made = kpr_agent_generate_key (agent, token, id, id->next_key_id, error)))
              return FALSE;
            made_here = TRUE;
            kpr_fault_point ("after:next-keygen");
            if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEXT_KEY_READY, error))
              return FALSE;
            break;
          }
        return drop_stale (agent, token, id, TRUE, error);

      case KPR_STEP_RENEW_REQUEST:
        {
          g_autoptr (EVP_PKEY) next_key =
            made ? g_steal_pointer (&made) : kpr_token_get_private_key (token, id->next_key_id, error);
          g_autoptr (KprEstClient) client = NULL;
          g_autoptr (GENERAL_NAMES) san = NULL;
          X509 *cert;
          if (!next_key)
            return FALSE;
          if (id->protocol != KPR_PROTOCOL_EST)
            {
              /* SCEP RenewalReq, CMP KUR: kpr-enroll-protocol.c */
              if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEXT_SUBMITTED, error))
                return FALSE;
              cert = kpr_agent_protocol_renew (agent, token, id, next_key, error);
            }
          else
            {
              if (!(client = kpr_agent_client_for (agent, id, error)))
                return FALSE;
              /* The same Subject and SubjectAltName (RFC 7030 §4.2.2), and
               * what the server's CSR attributes ask for. */
              san = X509_get_ext_d2i (id->cert, NID_subject_alt_name, NULL, NULL);
              if (!kpr_agent_make_request (agent, client, id, next_key,
                                           X509_get_subject_name (id->cert), san, error)
                  || !kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEXT_SUBMITTED, error))
                return FALSE;
              cert = request_renewal (agent, client, token, id, next_key, error);
            }
          if (!cert)
            return FALSE;
          X509_free (id->next_cert);
          id->next_cert = cert;
          if (!kpr_agent_install_cert (agent, token, id, id->next_key_id, cert, made_here, error)
              || !kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEXT_INSTALLED, error))
            return FALSE;
        }
        break;

      case KPR_STEP_SWAP:
        if (!swap (agent, token, id, !made_here, error))
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
  g_clear_pointer (&agent->renewal_note, g_free);
  if (ret_renewed)
    *ret_renewed = FALSE;
  if (!id || kpr_agent_stop_if_revoked (agent, id, error))
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
      if (!drop_stale (agent, token, id, TRUE, error))
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
  kpr_agent_after_issue (agent, id);
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
          || !roll_back_next (agent, token, id, error) || !drop_stale (agent, token, id, TRUE, error))
        return NULL;
      break;
    case KPR_RESUME_SWAP:
      if (!(token = kpr_agent_token_for (agent, id, TRUE, error))
          || !swap (agent, token, id, TRUE, error))
        return NULL;
      break;
    case KPR_RESUME_KEEP:
      break;
    }
  return g_steal_pointer (&id);
}
