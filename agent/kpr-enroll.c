/* kpr-enroll.c — enroll, poll a pending request, install a mailed .cer,
 * and resume whatever a crash interrupted.  Renewal is in kpr-renew.c.
 * The states and their order are kpr-lifecycle.c's. */
#include "config.h"

#include <string.h>

#include <openssl/x509v3.h>

#include "kpr-agent-private.h"
#include "kpr-lifecycle.h"

/* The explicit trust anchor (RFC 7030 §4.1.1): from a file, or the
 * bootstrap answer checked against a fingerprint a person confirmed.
 * Nothing with credentials has been sent when this runs. */
static KprX509Stack *
establish_trust (KprAgent *agent, KprEstClient *client, const KprEnrollOptions *o, GError **error)
{
  g_autoptr (KprX509Stack) certs = NULL, roots = NULL, chosen = NULL;
  g_auto (GStrv) fingerprints = NULL;
  g_autoptr (KprX509Stack) verified = NULL;

  if (o->ca_file)
    chosen = kpr_agent_roots_from_file (o, error);
  else
    {
      kpr_agent_progress (agent, "Fetching the CA certificates of %s", o->server);
      certs = kpr_est_client_bootstrap (client, &fingerprints, error);
      if (!certs)
        return NULL;
      roots = kpr_est_roots (certs);
      chosen = kpr_agent_confirm_roots (agent, o, roots, fingerprints, error);
    }
  if (!chosen || !kpr_est_client_set_trust_anchors (client, chosen, error))
    return NULL;
  /* The server itself must chain to what was just trusted. */
  verified = kpr_est_client_cacerts (client, error);
  if (!verified)
    return NULL;
  return g_steal_pointer (&chosen);
}

/* The secret word (requested from the server first) or, for servers
 * without that extension, a password.  Never stored anywhere. */
static KprSecret *
obtain_secret (KprAgent *agent, KprEstClient *client, const KprIdentity *id, KprAsk *ret_what,
               GError **error)
{
  const char *username = id->username;
  g_autoptr (GError) local = NULL;
  g_autoptr (KprEstChallenge) challenge = NULL;
  g_autofree char *detail = NULL;
  KprAsk what;

  /* An enrollment code is already at hand: a secret word requested now
   * would be texted for nothing (see KprAgentUi.secret_known). */
  if (ret_what)
    *ret_what = KPR_ASK_PASSWORD;
  if (agent->ui.secret_known && agent->ui.ask)
    return agent->ui.ask (KPR_ASK_PASSWORD, username, agent->ui.data, error);
  challenge = kpr_est_client_challenge (client, username, &local);
  if (challenge)
    {
      what = KPR_ASK_SECRET_WORD;
      detail = g_strdup_printf ("sent by %s to %s; valid for %u minutes", challenge->channel,
                                challenge->destination, MAX (1, challenge->expires_in / 60));
      kpr_store_audit (agent->store, id->name, "secret word requested for %s", username);
    }
  else if (g_error_matches (local, KPR_ERROR, KPR_ERROR_REJECTED)
           && (kpr_est_client_get_http_status (client) == 404
               || kpr_est_client_get_http_status (client) == 405
               || kpr_est_client_get_http_status (client) == 501))
    {
      what = KPR_ASK_PASSWORD; /* the server has no secret-word extension */
      detail = g_strdup_printf ("for %s", username);
    }
  else
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (!agent->ui.ask)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The server needs a %s and there is no way to ask for it",
                   what == KPR_ASK_SECRET_WORD ? "secret word" : "password");
      return NULL;
    }
  if (ret_what)
    *ret_what = what;
  return agent->ui.ask (what, detail, agent->ui.data, error);
}

/* ISSUED → INSTALLED: the certificate (and the CA) on the token.
 * Idempotent: an equal certificate already there is kept.  A run that
 * resumes also removes what a crash inside the module's object creation
 * left unnamed (a fresh run's own objects all carry their names). */
gboolean
kpr_agent_install_cert (KprAgent *agent, KprToken *token, KprIdentity *id, GBytes *key_id,
                        X509 *cert, gboolean made_here, GError **error)
{
  g_autoptr (KprX509Stack) anchors = kpr_store_load_trust (agent->store, id->name, NULL);
  g_autofree char *label = kpr_agent_object_label (id, key_id);

  if (made_here ? !kpr_token_store_certificate (token, cert, label, key_id, error)
                : !kpr_token_replace_certificate (token, cert, label, key_id, error)
                    || !kpr_token_delete_orphans (token, NULL, error))
    return FALSE;
  /* The CA next to it, so that browsers and backups find the chain. */
  for (int i = 0; anchors && i < sk_X509_num (anchors); i++)
    if (!kpr_token_store_certificate (token, sk_X509_value (anchors, i), "certkeeper CA", NULL,
                                      error))
      return FALSE;
  return TRUE;
}

static void
audit_issued (KprAgent *agent, KprIdentity *id, const char *what)
{
  g_autofree char *hex = kpr_ossl_serial_hex (id->cert);

  kpr_store_audit (agent->store, id->name, "%s certificate serial %s", what, hex);
  kpr_store_record_event (agent->store, id->name,
                          &(KprEvent) { .type = KPR_EVENT_ENROLLED, .serial = hex,
                                        .not_after = kpr_ossl_time_unix (X509_get0_notAfter (id->cert)),
                                        .exportable = id->protection == KPR_PROTECTION_EXPORTABLE });
}

/* How a request authenticated with @what, for the record. */
static const char *
auth_name (KprAsk what)
{
  return what == KPR_ASK_SECRET_WORD ? "secret-word" : "password";
}

/* Submits the recorded (or a new) CSR, made from the server's CSR
 * attributes.  SUBMITTED is written before the request leaves; a 202
 * leaves the identity PENDING, with how the request authenticated. */
static gboolean
submit (KprAgent *agent, KprIdentity *id, KprEstClient *client, EVP_PKEY *key, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (KprSecret) secret = NULL;
  g_autoptr (X509_NAME) subject = kpr_agent_subject_for (id->username);
  KprEstCredentials creds = { id->username, NULL };
  /* The request may have reached the server before (a crash, a lost
   * answer, a pending request): send it again without credentials first.
   * A server that already decided answers with the certificate, or 202;
   * one that needs credentials says 401 and only then is a secret word
   * spent. */
  gboolean again = id->state == KPR_STATE_SUBMITTED || id->state == KPR_STATE_PENDING;
  KprAsk what = KPR_ASK_PASSWORD;
  X509 *cert;

  if (!kpr_agent_make_request (agent, client, id, key, subject, NULL, error))
    return FALSE;
  /* A poll keeps PENDING: a failed poll must not make a waiting request
   * look like one that was never answered. */
  if (id->state != KPR_STATE_PENDING
      && !kpr_lifecycle_enter (agent->store, id, KPR_STATE_SUBMITTED, error))
    return FALSE;

  if (!again)
    {
      secret = obtain_secret (agent, client, id, &what, error);
      if (!secret)
        return FALSE;
      creds.secret = secret;
      kpr_agent_note_auth (agent, id, auth_name (what));
    }
  kpr_agent_progress (agent, "Sending the certificate request to %s", id->server);
  agent->request_sent = agent->request_sent || creds.secret;
  cert = kpr_agent_send_request (agent, client, id, key, subject, NULL, FALSE,
                                 creds.secret ? &creds : NULL, &local);
  if (!cert && again && g_error_matches (local, KPR_ERROR, KPR_ERROR_AUTH) && agent->ui.ask)
    {
      /* The server wants credentials again for the request it holds.  As
       * the request authenticated: a password is asked for (or read from
       * the configured file) again; a one-time word never works twice, so
       * a new one. */
      kpr_agent_progress (agent, "%s wants credentials again for the request of “%s”: %s",
                          id->server, id->name, local->message);
      g_clear_error (&local);
      if (g_strcmp0 (id->submitted_auth, "password") == 0)
        secret = kpr_agent_ask_password (agent, id, "again, to answer the request it holds",
                                         error);
      else
        secret = obtain_secret (agent, client, id, &what, error);
      if (!secret)
        return FALSE;
      creds.secret = secret;
      kpr_agent_note_auth (agent, id, auth_name (what));
      agent->request_sent = TRUE;
      cert = kpr_agent_send_request (agent, client, id, key, subject, NULL, FALSE, &creds, &local);
    }
  if (!cert && again && g_error_matches (local, KPR_ERROR, KPR_ERROR_AUTH) && !agent->ui.ask)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "%s wants credentials again to answer the request of “%s” (%s, as it "
                   "authenticated first): run 'certkeeper renew %s' where they can be typed, "
                   "or give them in a file (--secret-file; headless: password-file=). %s",
                   id->server, id->name, id->submitted_auth ? id->submitted_auth : "a password",
                   id->name, local->message);
      return FALSE;
    }
  if (!cert)
    {
      agent->retry_after = kpr_est_client_get_retry_after (client);
      if (g_error_matches (local, KPR_ERROR, KPR_ERROR_PENDING))
        {
          guint wait = kpr_est_client_get_retry_after (client);
          const char *request = kpr_est_client_get_request_id (client);
          id->retry_at = g_get_real_time () / G_USEC_PER_SEC + wait;
          /* A poll's answer names the same request; keep the first name
           * when a later answer names none. */
          if (request)
            g_free (id->request_id), id->request_id = g_strdup (request);
          if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_PENDING, error))
            return FALSE;
          kpr_agent_pending_error (id, wait, error);
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  id->cert = cert;
  return kpr_lifecycle_enter (agent->store, id, KPR_STATE_ISSUED, error);
}

/* Runs the enrollment from whatever state the record is in to ACTIVE. */
/* The key this enrollment recorded.  When it is gone from the token (the
 * token was reset or replaced) nothing can resume the enrollment: the
 * identity enters FAILED, with the reason, and waits to be deleted. */
static EVP_PKEY *
enrollment_key (KprAgent *agent, KprToken *token, KprIdentity *id, GError **error)
{
  g_autoptr (GError) local = NULL;
  const KprTokenInfo *info = kpr_token_get_info (token);
  EVP_PKEY *key = kpr_token_get_private_key (token, id->key_id, &local);

  if (key)
    return key;
  if (g_error_matches (local, KPR_ERROR, KPR_ERROR_NOT_FOUND)
      && (!info->login_required || kpr_token_is_logged_in (token)))
    {
      g_free (id->failed_reason);
      id->failed_reason = g_strdup_printf ("its key is no longer on the token “%s”", info->label);
      if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_FAILED, error))
        return NULL;
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "The enrollment of “%s” cannot go on: %s. Remove it with 'certkeeper delete "
                   "%s' and enroll again", id->name, id->failed_reason, id->name);
      return NULL;
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return NULL;
}

/* Drives an enrollment to ACTIVE, one step of the lifecycle table
 * (kpr-lifecycle.c) after the other. */
static gboolean
drive (KprAgent *agent, KprIdentity *id, KprEstClient *client, gboolean with_server,
       GError **error)
{
  KprToken *token = kpr_agent_token_for (agent, id, TRUE, error);
  /* The key this run made, kept for its request. */
  g_autoptr (EVP_PKEY) made = NULL;
  gboolean made_here = FALSE;

  if (!token)
    return FALSE;
  while (id->state != KPR_STATE_ACTIVE)
    switch (kpr_lifecycle_info (id->state)->step)
      {
      case KPR_STEP_MAKE_KEY:
        /* A key left by a run that died before KEY_READY is an orphan. */
        if (!kpr_agent_remove_objects (agent, token, id->key_id, "unfinished", error))
          return FALSE;
        /* Of the type the server's CSR attributes ask for, when they do. */
        if (client && !kpr_agent_adopt_key_type (agent, client, id, error))
          return FALSE;
        kpr_agent_progress (agent, "Generating a %s key on “%s”…",
                            kpr_key_type_to_string (id->key_type), kpr_token_get_info (token)->label);
        if (!(made = kpr_agent_generate_key (agent, token, id, id->key_id, error)))
          return FALSE;
        made_here = TRUE;
        kpr_fault_point ("after:keygen");
        if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_KEY_READY, error))
          return FALSE;
        break;

      case KPR_STEP_SUBMIT:
        {
          g_autoptr (EVP_PKEY) key =
            made ? g_steal_pointer (&made) : enrollment_key (agent, token, id, error);
          if (!key)
            return FALSE;
          if (!with_server)
            {
              g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                           "“%s” waits for the server; run 'certkeeper renew %s'", id->name,
                           id->name);
              return FALSE;
            }
          /* SCEP and CMP: kpr-enroll-protocol.c */
          if (!(id->protocol == KPR_PROTOCOL_EST ? submit (agent, id, client, key, error)
                                                 : kpr_agent_protocol_submit (agent, id, key, error)))
            return FALSE;
        }
        break;

      case KPR_STEP_STORE_CERT:
        if (!kpr_agent_install_cert (agent, token, id, id->key_id, id->cert, made_here, error)
            || !kpr_lifecycle_enter (agent->store, id, KPR_STATE_INSTALLED, error))
          return FALSE;
        break;

      case KPR_STEP_CHECK_PAIR:
        {
          g_autoptr (X509) on_token = kpr_token_find_certificate (token, id->key_id, error);
          g_autoptr (EVP_PKEY) key = on_token ? enrollment_key (agent, token, id, error) : NULL;
          if (!key)
            return FALSE;
          if (X509_cmp (on_token, id->cert) != 0 || X509_check_private_key (on_token, key) != 1)
            {
              ERR_clear_error ();
              g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN,
                           "The token does not hold the pair just installed for “%s”", id->name);
              return FALSE;
            }
          g_clear_pointer (&id->pending_csr, X509_REQ_free);
          g_clear_pointer (&id->request_id, g_free);
          id->retry_at = 0;
          if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_ACTIVE, error))
            return FALSE;
          audit_issued (agent, id, "installed");
        }
        break;

      default:
        g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL,
                     "Identity “%s” is %s, not an enrollment in progress", id->name,
                     kpr_state_to_string (id->state));
        return FALSE;
      }
  return TRUE;
}

static gboolean
server_keygen (KprAgent *agent, KprIdentity *id, KprEstClient *client, GError **error)
{
  KprToken *token = kpr_agent_token_for (agent, id, TRUE, error);
  g_autoptr (EVP_PKEY) throwaway = NULL, key = NULL;
  g_autoptr (X509_NAME) subject = kpr_agent_subject_for (id->username);
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprSecret) secret = NULL;
  KprEstCredentials creds = { id->username, NULL };

  if (!token)
    return FALSE;
  /* The CSR only names the subject; the server makes the key. */
  throwaway = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  if (!throwaway || !(req = kpr_est_csr_new (throwaway, subject, NULL, NULL, error)))
    return FALSE;
  if (!(secret = obtain_secret (agent, client, id, NULL, error)))
    return FALSE;
  creds.secret = secret;
  kpr_agent_progress (agent, "Asking %s to generate the key", id->server);
  agent->request_sent = TRUE;
  if (!kpr_est_client_serverkeygen (client, req, &creds, &key, &cert, error))
    return FALSE;
  if (!kpr_agent_remove_objects (agent, token, id->key_id, "unfinished", error)
      || !kpr_token_import_key (token, key, cert, NULL, id->name, id->key_id, id->protection, error))
    return FALSE;
  id->cert = g_steal_pointer (&cert);
  id->key_origin = KPR_KEY_ORIGIN_SERVER;
  return kpr_lifecycle_enter (agent->store, id, KPR_STATE_ISSUED, error);
}

/* A new enrollment that failed before its secret word was spent (the
 * person cancelled a prompt, the server refused the word or throttled
 * us, or nothing was sent) leaves nothing behind: its key goes, then its
 * record.  Once a request with the word may have been answered, the
 * record stays so that the next run resumes without another word. */
static void
roll_back_unspent (KprAgent *agent, KprIdentity *id, GError **error)
{
  gboolean refused = error && *error
                     && ((*error)->domain == KPR_ERROR
                         && ((*error)->code == KPR_ERROR_CANCELLED || (*error)->code == KPR_ERROR_AUTH
                             || (*error)->code == KPR_ERROR_REJECTED));
  KprToken *token;

  if (!agent->ui.roll_back_unspent || !kpr_lifecycle_info (id->state)->enrolling
      || id->state == KPR_STATE_PENDING || (agent->request_sent && !refused))
    return;
  if (id->state != KPR_STATE_NEW
      && (!(token = kpr_agent_token_for (agent, id, FALSE, NULL))
          || !kpr_token_delete_objects (token, id->key_id, NULL, NULL)))
    return;
  if (!kpr_store_forget (agent->store, id->name, NULL))
    return;
  if (error && *error)
    g_prefix_error (error, "Nothing was changed (no identity “%s” recorded, no key left): ",
                    id->name);
}

/* certkeeper-ca keeps one certificate per account: a new identity for an
 * account another identity here uses makes the server revoke that one.
 * Said before anything is spent: asked when someone can answer, else a
 * warning line (issue 13, item 3). */
static gboolean
confirm_sibling (KprAgent *agent, const KprEnrollOptions *o, GError **error)
{
  g_auto (GStrv) names = kpr_store_list (agent->store, NULL);
  g_autofree char *message = NULL, *question = NULL;

  for (char **n = names; n && *n && !message; n++)
    {
      g_autoptr (KprIdentity) other = kpr_store_load_brief (agent->store, *n, NULL);

      if (other && kpr_state_is_in_use (other->state) && g_strcmp0 (other->server, o->server) == 0
          && g_strcmp0 (other->label, o->label) == 0 && g_strcmp0 (other->username, o->username) == 0)
        message = g_strdup_printf ("“%s” uses the account %s at %s: when “%s” gets its "
                                   "certificate, the server revokes the certificate of “%s”",
                                   other->name, o->username, o->server, o->name, other->name);
    }
  if (!message)
    return TRUE;
  if (!agent->ui.confirm)
    {
      if (agent->ui.warn)
        agent->ui.warn (message, agent->ui.data);
      return TRUE;
    }
  question = g_strdup_printf ("%s. Enroll “%s” anyway?", message, o->name);
  if (agent->ui.confirm (question, agent->ui.data))
    return TRUE;
  g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED, "%s: nothing was changed", message);
  return FALSE;
}

KprIdentity *
kpr_agent_enroll (KprAgent *agent, const KprEnrollOptions *o, GError **error)
{
  g_autoptr (KprIdentity) id = NULL;
  g_autoptr (KprEstClient) client = NULL;

  agent->retry_after = 0;
  agent->request_sent = FALSE;
  if (!kpr_identity_name_is_valid (o->name))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "“%s” cannot name an identity: use letters, digits, '.', '_' or '-'", o->name);
      return NULL;
    }
  if (kpr_store_exists (agent->store, o->name))
    {
      id = kpr_store_load (agent->store, o->name, error);
      if (!id)
        return NULL;
      if (kpr_lifecycle_info (id->state)->sched == KPR_SCHED_NONE)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                       "“%s” is %s%s%s; remove it with 'certkeeper delete %s' and enroll again",
                       o->name, kpr_state_to_string (id->state), id->failed_reason ? ": " : "",
                       id->failed_reason ? id->failed_reason : "", o->name);
          return NULL;
        }
      if (!kpr_lifecycle_info (id->state)->enrolling)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                       "“%s” is already enrolled (%s); renew it with 'certkeeper renew %s'",
                       o->name, kpr_state_to_string (id->state), o->name);
          return NULL;
        }
      /* An enrollment that was interrupted goes on with its own settings. */
      kpr_agent_progress (agent, "Continuing the enrollment of “%s” (%s)", id->name,
                          kpr_state_to_string (id->state));
      if ((id->protocol == KPR_PROTOCOL_EST && !(client = kpr_agent_client_for (agent, id, error)))
          || !drive (agent, id, client, TRUE, error))
        return NULL;
      kpr_agent_after_issue (agent, id);
      kpr_agent_browser_after (agent, id);
      return g_steal_pointer (&id);
    }

  {
    g_autoptr (KprX509Stack) anchors = NULL;
    KprTokenCtx *ctx;
    KprToken *token;

    /* certkeeper-ca (EST) keeps one certificate per account */
    if (o->protocol == KPR_PROTOCOL_EST && !confirm_sibling (agent, o, error))
      return NULL;
    if (o->protocol == KPR_PROTOCOL_EST
          ? !(client = kpr_est_client_new (o->server, o->label, error))
              || !(anchors = establish_trust (agent, client, o, error))
          : !(anchors = kpr_agent_protocol_trust (agent, o, error)))
      return NULL;
    if (!(ctx = kpr_agent_tokens_for (agent, o->token_uri, NULL, error)))
      return NULL;
    token = o->token_uri ? kpr_token_ctx_find (ctx, o->token_uri, error)
                         : kpr_token_ctx_software (ctx, error);
    if (!token)
      return NULL;

    id = g_new0 (KprIdentity, 1);
    id->name = g_strdup (o->name);
    id->state = KPR_STATE_NEW;
    id->server = g_strdup (o->server);
    id->label = g_strdup (o->label);
    id->username = g_strdup (o->username);
    id->protocol = o->protocol;
    id->reference = g_strdup (o->reference);
    if (o->protocol == KPR_PROTOCOL_CMP && !o->ca_file)
      id->anchor_fingerprint = g_strdup (o->trust_fingerprint);
    id->token_uri = g_strdup (kpr_token_get_info (token)->uri);
    id->token_module = g_strdup (kpr_token_get_info (token)->module_path);
    id->key_id = kpr_token_new_id ();
    id->key_type = o->key_type ? o->key_type
                               : o->protocol == KPR_PROTOCOL_SCEP ? KPR_KEY_RSA_2048 : KPR_KEY_EC_P256;
    /* The first seed's "exporting mode": a key on the software token can
     * be backed up until it is locked. */
    id->protection = kpr_token_get_info (token)->software && !o->no_backup && !o->server_keygen
                       ? KPR_PROTECTION_EXPORTABLE
                       : (o->protection ? o->protection : KPR_PROTECTION_STANDARD);
    if (!kpr_store_save_trust (agent->store, id->name, anchors, error)
        || !kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEW, error))
      return NULL;
    kpr_store_audit (agent->store, id->name, "enrollment started with %s as %s (%s)", id->server,
                     id->username, kpr_protocol_to_string (id->protocol));
  }
  if ((o->server_keygen && !server_keygen (agent, id, client, error))
      || !drive (agent, id, client, TRUE, error))
    {
      roll_back_unspent (agent, id, error);
      return NULL;
    }
  kpr_agent_after_issue (agent, id);
  kpr_agent_browser_after (agent, id);
  return g_steal_pointer (&id);
}

/* Pending or interrupted enrollments, for renew and resume. */
gboolean
kpr_agent_continue_enrollment (KprAgent *agent, KprIdentity *id, gboolean with_server,
                               GError **error)
{
  g_autoptr (KprEstClient) client = NULL;

  if (with_server && id->protocol == KPR_PROTOCOL_EST
      && !(client = kpr_agent_client_for (agent, id, error)))
    return FALSE;
  return drive (agent, id, client, with_server, error);
}

KprIdentity *
kpr_agent_install (KprAgent *agent, const char *name, const char *cert_path, GError **error)
{
  g_autoptr (KprIdentity) id = kpr_store_load (agent->store, name, error);
  g_autoptr (KprX509Stack) certs = NULL, anchors = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GError) local = NULL;
  KprToken *token;
  X509 *cert;

  if (!id)
    return NULL;
  if (kpr_lifecycle_info (id->state)->step != KPR_STEP_SUBMIT)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "“%s” does not wait for a certificate (it is %s)", name,
                   kpr_state_to_string (id->state));
      return NULL;
    }
  if (!(certs = kpr_load_pem_certs (cert_path, error))
      || !(anchors = kpr_store_load_trust (agent->store, name, error))
      || !(token = kpr_agent_token_for (agent, id, TRUE, error))
      || !(key = kpr_token_get_public_key (token, id->key_id, error)))
    return NULL;
  /* Matched by public key: a certificate for anyone else's key (or from
   * another CA) is refused before anything changes.  A PKCS#7 file holds
   * the chain too, in any order. */
  cert = kpr_pick_issued (certs, key);
  if (!kpr_est_verify_issued (cert, key, anchors, certs, 0, &local))
    {
      /* Said from the file's side: nothing came from the server here. */
      if (g_error_matches (local, KPR_ERROR, KPR_ERROR_KEY_MISMATCH))
        g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                     "%s is a certificate for another key, not the one “%s” is waiting for",
                     cert_path, name);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s cannot complete “%s”: ",
                                    cert_path, name);
      return NULL;
    }
  X509_up_ref (cert);
  id->cert = cert;
  if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_ISSUED, error)
      || !drive (agent, id, NULL, FALSE, error))
    return NULL;
  kpr_agent_after_issue (agent, id);
  kpr_agent_browser_after (agent, id);
  return g_steal_pointer (&id);
}
