/* kpr-enroll-protocol.c — what enroll, renew, pending and revoke ask of
 * the server, whichever protocol the identity speaks: EST (the default,
 * kpr-enroll.c and kpr-renew.c hold its requests), SCEP (RFC 8894,
 * docs/scep.md) or CMP (RFC 4210/9483, docs/cmp.md).  The lifecycle is the
 * same for all three: the flows drive the table in kpr-lifecycle.c and
 * call here for the step that talks to the server.
 *
 * The one-time secrets (SCEP challenge password, CMP secret) are asked
 * through ui->ask (KPR_ASK_PASSWORD: a prompt, a file, or the headless
 * agent's code file), used for one request and erased; never stored. */
#include "config.h"

#include <openssl/x509v3.h>

#include "kpr-agent-private.h"
#include "kpr-lifecycle.h"

static const char *const protocol_names[] = {
  [KPR_PROTOCOL_EST] = "est",
  [KPR_PROTOCOL_SCEP] = "scep",
  [KPR_PROTOCOL_CMP] = "cmp",
};

const char *
kpr_protocol_to_string (KprProtocol protocol)
{
  return (gsize) protocol < G_N_ELEMENTS (protocol_names) ? protocol_names[protocol] : "?";
}

gboolean
kpr_protocol_from_string (const char *text, KprProtocol *ret_protocol)
{
  for (gsize i = 0; text && i < G_N_ELEMENTS (protocol_names); i++)
    if (g_ascii_strcasecmp (text, protocol_names[i]) == 0)
      {
        *ret_protocol = (KprProtocol) i;
        return TRUE;
      }
  return FALSE;
}

void
kpr_agent_set_cmp_reference (KprAgent *agent, const char *reference)
{
  g_free (agent->cmp_reference);
  agent->cmp_reference = g_strdup (reference);
}

void
kpr_agent_pending_error (const KprIdentity *id, guint wait, GError **error)
{
  g_autofree char *quoted = id->request_id
    ? g_strdup_printf (" It is request %s at the server: quote that number to its "
                       "administrator.", id->request_id)
    : g_strdup ("");

  g_set_error (error, KPR_ERROR, KPR_ERROR_PENDING,
               "The server has not decided on “%s” yet.%s Run 'certkeeper renew %s' in %u "
               "seconds or later, or install the certificate you receive with 'certkeeper "
               "install %s FILE.cer'", id->name, quoted, id->name, wait, id->name);
}

X509_NAME *
kpr_agent_subject_for (const char *username)
{
  X509_NAME *name = X509_NAME_new ();

  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) username, -1,
                              -1, 0);
  return name;
}

/* "AB:CD:…" or "abcd…" to "ABCD…", for comparing fingerprints. */
static char *
normalize_fingerprint (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *p = text; p && *p; p++)
    if (g_ascii_isxdigit (*p))
      g_string_append_c (s, g_ascii_toupper (*p));
  return g_string_free (s, FALSE);
}

KprX509Stack *
kpr_agent_roots_from_file (const KprEnrollOptions *o, GError **error)
{
  g_autoptr (KprX509Stack) certs = kpr_load_pem_certs (o->ca_file, error);
  KprX509Stack *roots;

  if (!certs)
    return NULL;
  roots = kpr_est_roots (certs);
  if (sk_X509_num (roots) > 0)
    return roots;
  sk_X509_free (roots);
  return g_steal_pointer (&certs);
}

KprX509Stack *
kpr_agent_confirm_roots (KprAgent *agent, const KprEnrollOptions *o, KprX509Stack *roots,
                         GStrv fingerprints, GError **error)
{
  g_autoptr (KprX509Stack) chosen = sk_X509_new_null ();
  g_autofree char *want = o->trust_fingerprint ? normalize_fingerprint (o->trust_fingerprint) : NULL;

  for (int i = 0; i < sk_X509_num (roots) && fingerprints && fingerprints[i]; i++)
    {
      g_autofree char *have = normalize_fingerprint (fingerprints[i]);
      gboolean ok;

      if (want)
        ok = g_str_equal (want, have);
      else
        {
          g_autofree char *question = NULL;
          char subject[256];
          X509_NAME_oneline (X509_get_subject_name (sk_X509_value (roots, i)), subject,
                             sizeof subject);
          question = g_strdup_printf ("The server %s presents the certificate authority\n"
                                      "  %s\nwith the SHA-256 fingerprint\n  %s\n"
                                      "Check this fingerprint with the server's administrator. "
                                      "Trust this authority?",
                                      o->server, subject, fingerprints[i]);
          if (agent->ui.confirm_trust)
            ok = agent->ui.confirm_trust (o->server, subject, fingerprints[i], agent->ui.data);
          else
            ok = agent->ui.confirm && agent->ui.confirm (question, agent->ui.data);
        }
      if (ok)
        {
          X509_up_ref (sk_X509_value (roots, i));
          sk_X509_push (chosen, sk_X509_value (roots, i));
        }
    }
  if (sk_X509_num (chosen) > 0)
    return g_steal_pointer (&chosen);
  if (want)
    g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                 "The CA of %s does not have the fingerprint %s (it has %s); "
                 "nothing was sent to it", o->server, o->trust_fingerprint,
                 fingerprints && fingerprints[0] ? fingerprints[0] : "no root at all");
  else if (agent->ui.confirm)
    g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED,
                 "The CA of %s was not trusted; nothing was sent to it", o->server);
  else
    g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                 "%s is not a known server: confirm its CA with --trust-fingerprint "
                 "or --ca-file", o->server);
  return NULL;
}

/* --- SCEP ------------------------------------------------------------------ */

static KprScepClient *
scep_client_for (KprAgent *agent, const KprIdentity *id, GError **error)
{
  g_autoptr (KprScepClient) client = kpr_scep_client_new (id->server, error);
  g_autoptr (KprX509Stack) anchors = NULL;

  if (!client)
    return NULL;
  kpr_scep_client_set_ca_ident (client, id->label);
  anchors = kpr_store_load_trust (agent->store, id->name, error);
  if (!anchors || !kpr_scep_client_set_trust_anchors (client, anchors, error))
    return NULL;
  return g_steal_pointer (&client);
}

/* GetCACert, the CA confirmed by a person or its fingerprint (or the
 * file); GetCACaps said aloud, weak algorithms included. */
static KprX509Stack *
scep_trust (KprAgent *agent, const KprEnrollOptions *o, GError **error)
{
  g_autoptr (KprScepClient) client = kpr_scep_client_new (o->server, error);
  g_autoptr (KprX509Stack) certs = NULL, roots = NULL, chosen = NULL;
  g_auto (GStrv) fingerprints = NULL;
  KprScepCaps caps = 0;
  gboolean missing = FALSE;

  if (!client)
    return NULL;
  kpr_scep_client_set_ca_ident (client, o->label);
  if (!kpr_scep_client_get_caps (client, &caps, &missing, error))
    return NULL;
  if (missing)
    kpr_agent_progress (agent, "The SCEP server does not say what it offers (no GetCACaps): "
                               "requests will use DES3 and SHA-1, the only choice it leaves");
  else
    {
      g_autofree char *text = kpr_scep_caps_to_string (caps);
      kpr_agent_progress (agent, "The SCEP server offers: %s", text);
    }
  if (o->ca_file)
    chosen = kpr_agent_roots_from_file (o, error);
  else
    {
      kpr_agent_progress (agent, "Fetching the CA certificates of %s", o->server);
      if (!(certs = kpr_scep_client_bootstrap (client, &fingerprints, error)))
        return NULL;
      roots = kpr_scep_ca_certs (certs);
      chosen = kpr_agent_confirm_roots (agent, o, roots, fingerprints, error);
    }
  /* The challenge goes only to RA certificates that chain to what was
   * just trusted (kpr_scep_client_enroll checks). */
  return g_steal_pointer (&chosen);
}

/* Said, and kept in the identity's log: DES3 and SHA-1 are used only when
 * the CA offers nothing better, and a person should be able to see it. */
static void
scep_say_algorithms (KprAgent *agent, const KprIdentity *id, KprScepClient *client)
{
  KprScepAlgorithms alg = { 0 };

  kpr_scep_client_get_algorithms (client, &alg);
  if (!alg.cipher)
    return;
  kpr_agent_progress (agent, "Request sent (%s, %s%s)", alg.cipher, alg.digest,
                      alg.weak ? ": the CA offers nothing stronger" : "");
  kpr_store_audit (agent->store, id->name, "SCEP request sent by %s with %s, %s%s", alg.method,
                   alg.cipher, alg.digest, alg.weak ? " (the CA offers nothing stronger)" : "");
}

static KprSecret *
ask_secret (KprAgent *agent, const char *what, const char *server, GError **error)
{
  g_autofree char *detail = g_strdup_printf ("%s of %s", what, server);

  if (!agent->ui.ask)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The server needs the %s and there is no way to ask for it", what);
      return NULL;
    }
  return agent->ui.ask (KPR_ASK_PASSWORD, detail, agent->ui.data, error);
}

static X509 *
scep_submit (KprAgent *agent, KprIdentity *id, EVP_PKEY *key, gboolean poll, GError **error)
{
  g_autoptr (KprScepClient) client = scep_client_for (agent, id, error);
  g_autoptr (X509_NAME) subject = kpr_agent_subject_for (id->username);
  g_autoptr (KprSecret) challenge = NULL;
  KprScepRequest req = { .key = key, .subject = subject };
  X509 *cert;

  if (!client)
    return NULL;
  if (poll)
    {
      kpr_agent_progress (agent, "Asking %s about the waiting request (CertPoll)", id->server);
      return kpr_scep_client_poll (client, &req, error);
    }
  if (!(challenge = ask_secret (agent, "challenge password", id->server, error)))
    return NULL;
  req.challenge = challenge;
  agent->request_sent = TRUE; /* the challenge may be spent: no rollback */
  kpr_agent_progress (agent, "Sending the certificate request to %s (PKCSReq)", id->server);
  cert = kpr_scep_client_enroll (client, &req, error);
  scep_say_algorithms (agent, id, client);
  return cert;
}

/* RenewalReq signed with the current pair.  A CA that wants the challenge
 * on renewals too (micromdm's scepserver) refuses one without it: then
 * the challenge is asked for and the request sent again. */
static X509 *
scep_renew (KprAgent *agent, KprIdentity *id, EVP_PKEY *current, EVP_PKEY *next_key,
            GError **error)
{
  g_autoptr (KprScepClient) client = scep_client_for (agent, id, error);
  g_autoptr (KprSecret) challenge = NULL;
  g_autoptr (GError) local = NULL;
  KprScepRequest req = {
    .key = next_key, .subject = X509_get_subject_name (id->cert), .current = id->cert,
    .current_key = current,
  };
  X509 *cert;

  if (!client)
    return NULL;
  kpr_agent_progress (agent, "Renewing “%s” with %s (RenewalReq)", id->name, id->server);
  cert = kpr_scep_client_enroll (client, &req, &local);
  if (!cert && g_error_matches (local, KPR_ERROR, KPR_ERROR_REJECTED) && agent->ui.ask)
    {
      kpr_agent_progress (agent, "The CA refused the renewal without a challenge password (%s)",
                          local->message);
      kpr_store_audit (agent->store, id->name, "SCEP renewal refused without a challenge "
                       "password; sent again with one");
      g_clear_error (&local);
      if (!(challenge = ask_secret (agent, "challenge password", id->server, error)))
        return NULL;
      req.challenge = challenge;
      cert = kpr_scep_client_enroll (client, &req, &local);
    }
  scep_say_algorithms (agent, id, client);
  if (!cert)
    g_propagate_error (error, g_steal_pointer (&local));
  return cert;
}

/* --- CMP ------------------------------------------------------------------- */

static KprCmpClient *
cmp_client_for (KprAgent *agent, const KprIdentity *id, GError **error)
{
  g_autoptr (KprCmpClient) client = kpr_cmp_client_new (id->server, error);
  g_autoptr (KprX509Stack) anchors = NULL;

  if (!client)
    return NULL;
  /* No anchor yet: the first MAC-protected answer brings the certificate
   * with the fingerprint a person confirmed (kpr-cmp.h). */
  if (id->anchor_fingerprint)
    return kpr_cmp_client_set_anchor_fingerprint (client, id->anchor_fingerprint, error)
             ? g_steal_pointer (&client) : NULL;
  anchors = kpr_store_load_trust (agent->store, id->name, error);
  if (!anchors || !kpr_cmp_client_set_trust_anchors (client, anchors, error))
    return NULL;
  return g_steal_pointer (&client);
}

/* The anchor found by fingerprint becomes the identity's stored anchor
 * (before the record says ISSUED: a crash in between asks again). */
static gboolean
cmp_keep_anchor (KprAgent *agent, KprIdentity *id, KprCmpClient *client, GError **error)
{
  g_autoptr (X509) anchor = id->anchor_fingerprint ? kpr_cmp_client_get_anchor (client) : NULL;
  g_autoptr (KprX509Stack) anchors = sk_X509_new_null ();

  if (!id->anchor_fingerprint)
    return TRUE;
  if (!anchor)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                   "The CMP server's answer did not bring a CA certificate with the fingerprint "
                   "%s; nothing was installed", id->anchor_fingerprint);
      return FALSE;
    }
  sk_X509_push (anchors, g_steal_pointer (&anchor));
  if (!kpr_store_save_trust (agent->store, id->name, anchors, error))
    return FALSE;
  g_clear_pointer (&id->anchor_fingerprint, g_free);
  return TRUE;
}

/* The one-time reference + secret on @client. */
static gboolean
cmp_set_secret (KprAgent *agent, KprCmpClient *client, const KprIdentity *id, GError **error)
{
  const char *reference = agent->cmp_reference ? agent->cmp_reference : id->reference;
  g_autoptr (KprSecret) secret = NULL;

  if (!reference)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "The CMP server needs the reference that goes with its one-time secret: "
                   "give it with --reference");
      return FALSE;
    }
  if (!(secret = ask_secret (agent, "one-time CMP secret", id->server, error)))
    return FALSE;
  return kpr_cmp_client_set_secret (client, reference, secret, error);
}

static X509 *
cmp_submit (KprAgent *agent, KprIdentity *id, EVP_PKEY *key, GError **error)
{
  g_autoptr (KprCmpClient) client = cmp_client_for (agent, id, error);
  g_autoptr (X509_NAME) subject = kpr_agent_subject_for (id->username);
  KprCmpRequest req = { .key = key, .subject = subject };
  X509 *cert;

  /* OpenSSL 3.0 cannot resume a CMP transaction: a pending request is
   * made again, with a secret (docs/cmp.md, "Polling"). */
  if (!client || !cmp_set_secret (agent, client, id, error))
    return NULL;
  agent->request_sent = TRUE; /* the one-time secret may be spent: no rollback */
  kpr_agent_progress (agent, "Sending the initial request to %s (IR, protected with the "
                             "one-time secret)", id->server);
  cert = kpr_cmp_client_enroll (client, &req, error);
  if (cert && !cmp_keep_anchor (agent, id, client, error))
    g_clear_pointer (&cert, X509_free);
  return cert;
}

/* --- the flows' entry points --------------------------------------------- */

KprX509Stack *
kpr_agent_protocol_trust (KprAgent *agent, const KprEnrollOptions *o, GError **error)
{
  if (o->server_keygen)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "--server-keygen is EST only: %s has "
                   "no server-generated keys", kpr_protocol_to_string (o->protocol));
      return NULL;
    }
  if (o->protocol == KPR_PROTOCOL_SCEP)
    {
      if (o->key_type && o->key_type != KPR_KEY_RSA_2048 && o->key_type != KPR_KEY_RSA_3072)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                       "SCEP needs an RSA key (the CA encrypts its answer to it): use --key "
                       "rsa-2048 (the default for SCEP) or rsa-3072");
          return NULL;
        }
      return scep_trust (agent, o, error);
    }
  /* CMP: OSSL_CMP in OpenSSL 3.0 cannot fetch the CA certificate before
   * the first request (no genm): the anchor is a file, or the certificate
   * with the confirmed fingerprint that the first MAC-protected answer
   * brings (cmp_client_for); no one can be asked about a fingerprint. */
  if (!o->ca_file && !o->trust_fingerprint)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "CMP needs the CA: --ca-file FILE or --trust-fingerprint SHA256 (docs/cmp.md)");
      return NULL;
    }
  if (!o->reference)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "CMP needs the reference that goes with the one-time secret: --reference REF");
      return NULL;
    }
  return o->ca_file ? kpr_agent_roots_from_file (o, error) : sk_X509_new_null ();
}

EVP_PKEY *
kpr_agent_generate_key (KprAgent *agent, KprToken *token, const KprIdentity *id, GBytes *key_id,
                        GError **error)
{
  /* the renewal's pair carries "NAME (renewal)" until it replaces the
   * current one (kpr_agent_object_label) */
  g_autofree char *label = kpr_agent_object_label (id, key_id);

  return kpr_token_generate_private_key (token, id->key_type, id->protection,
                                         id->protocol == KPR_PROTOCOL_SCEP
                                           ? KPR_KEY_USAGE_SIGN_DECRYPT
                                           : KPR_KEY_USAGE_SIGN,
                                         label, key_id, error);
}

gboolean
kpr_agent_protocol_submit (KprAgent *agent, KprIdentity *id, EVP_PKEY *key, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean poll = id->state == KPR_STATE_PENDING && id->protocol == KPR_PROTOCOL_SCEP;
  X509 *cert;

  /* A poll keeps PENDING: a failed poll must not make a waiting request
   * look like one that was never answered. */
  if (id->state != KPR_STATE_PENDING
      && !kpr_lifecycle_enter (agent->store, id, KPR_STATE_SUBMITTED, error))
    return FALSE;
  cert = id->protocol == KPR_PROTOCOL_SCEP ? scep_submit (agent, id, key, poll, &local)
                                           : cmp_submit (agent, id, key, &local);
  if (!cert && g_error_matches (local, KPR_ERROR, KPR_ERROR_PENDING))
    {
      /* SCEP names the request by its transaction ID (from the key), the
       * one NDES's administrator sees. */
      if (id->protocol == KPR_PROTOCOL_SCEP && !id->request_id)
        id->request_id = kpr_scep_transaction_id (key, NULL);
      id->retry_at = g_get_real_time () / G_USEC_PER_SEC + 60;
      if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_PENDING, error))
        return FALSE;
      kpr_agent_pending_error (id, 60, error);
      return FALSE;
    }
  if (!cert)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  id->cert = cert;
  return kpr_lifecycle_enter (agent->store, id, KPR_STATE_ISSUED, error);
}

X509 *
kpr_agent_protocol_renew (KprAgent *agent, KprToken *token, KprIdentity *id, EVP_PKEY *next_key,
                          GError **error)
{
  g_autoptr (EVP_PKEY) current = kpr_token_get_private_key (token, id->key_id, error);

  /* Both renewal messages are signed with the current pair; without it
   * the identity is enrolled again (delete, enroll). */
  if (!current)
    {
      g_prefix_error (error, "Renewing “%s” needs its current key: ", id->name);
      return NULL;
    }
  if (id->protocol == KPR_PROTOCOL_SCEP)
    return scep_renew (agent, id, current, next_key, error);
  {
    g_autoptr (KprCmpClient) client = cmp_client_for (agent, id, error);
    KprCmpRequest req = { .key = next_key, .current = id->cert, .current_key = current };

    if (!client)
      return NULL;
    kpr_agent_progress (agent, "Renewing “%s” with %s (KUR, signed with the current key)",
                        id->name, id->server);
    return kpr_cmp_client_enroll (client, &req, error);
  }
}

gboolean
kpr_agent_protocol_revoke (KprAgent *agent, KprIdentity *id, KprToken *token, GError **error)
{
  g_autoptr (KprCmpClient) client = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autofree char *serial = kpr_ossl_serial_hex (id->cert);

  if (id->protocol == KPR_PROTOCOL_SCEP)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "SCEP has no revocation: ask the CA's administrator to revoke serial %s, "
                   "then remove “%s” with 'certkeeper delete %s'", serial, id->name, id->name);
      return FALSE;
    }
  if (!(client = cmp_client_for (agent, id, error)))
    return FALSE;
  /* The token may be lost: then a one-time reference + secret vouch. */
  key = token ? kpr_token_get_private_key (token, id->key_id, NULL) : NULL;
  ERR_clear_error ();
  if (!key && !cmp_set_secret (agent, client, id, error))
    return FALSE;
  kpr_agent_progress (agent, "Revoking serial %s at %s (RR, %s)", serial, id->server,
                      key ? "signed with the key" : "protected with the one-time secret");
  if (!kpr_cmp_client_revoke (client, id->cert, key, key ? CRL_REASON_CESSATION_OF_OPERATION
                                                         : CRL_REASON_KEY_COMPROMISE, error))
    return FALSE;
  /* the caller records it, enters REVOKED and wipes the key */
  return TRUE;
}
