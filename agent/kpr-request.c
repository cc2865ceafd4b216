/* kpr-request.c — what the agent sends an EST server for an enrollment or
 * a renewal: the server's CSR attributes asked for first (RFC 7030 §4.5)
 * and honoured (key type, hash, extensions), the request bound to its TLS
 * connection when the server asks (tls-unique, §3.5), and how the request
 * authenticated, so that a poll of a pending one (§4.2.3) can do the same.
 */
#include "config.h"

#include "kpr-agent-private.h"

/* The server's CSR attributes; an answer that cannot be read leaves the
 * request as certkeeper makes it (§4.5.2: the attributes are a hint), but
 * a server that cannot be reached or trusted stops here. */
static KprEstCsrAttrs *
server_attrs (KprAgent *agent, KprEstClient *client, const KprIdentity *id, GError **error)
{
  g_autoptr (GError) local = NULL;
  KprEstCsrAttrs *attrs = kpr_est_client_csrattrs (client, &local);

  if (attrs)
    return attrs;
  if (g_error_matches (local, KPR_ERROR, KPR_ERROR_UNREACHABLE)
      || g_error_matches (local, KPR_ERROR, KPR_ERROR_UNTRUSTED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  kpr_store_audit (agent->store, id->name, "CSR attributes of %s not read (%s); request sent "
                   "without them", id->server, local->message);
  return kpr_est_csrattrs_parse ((const guint8 *) "\x30\x00", 2, error);
}

gboolean
kpr_agent_adopt_key_type (KprAgent *agent, KprEstClient *client, KprIdentity *id,
                          GError **error)
{
  g_autoptr (KprEstCsrAttrs) attrs = server_attrs (agent, client, id, error);
  g_autofree char *wanted = NULL;
  KprKeyType type;

  if (!attrs)
    return FALSE;
  if (!(wanted = kpr_est_csrattrs_key_name (attrs)))
    return TRUE;
  if (kpr_key_type_from_string (wanted, &type))
    {
      if (type != id->key_type)
        {
          kpr_agent_progress (agent, "%s asks for %s keys (its CSR attributes): making one "
                              "instead of %s", id->server, wanted,
                              kpr_key_type_to_string (id->key_type));
          kpr_store_audit (agent->store, id->name, "key type %s, as %s asks", wanted,
                           id->server);
          id->key_type = type;
        }
      return TRUE;
    }
  /* "ec" or "rsa" without a size: any of ours of that kind will do. */
  if ((g_str_equal (wanted, "ec") && id->key_type <= KPR_KEY_EC_P384)
      || (g_str_equal (wanted, "rsa") && id->key_type >= KPR_KEY_RSA_2048))
    return TRUE;
  g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
               "%s asks for %s keys (its CSR attributes), which certkeeper cannot make: it "
               "makes ec-p256, ec-p384, rsa-2048 and rsa-3072. Nothing was generated or sent",
               id->server, wanted);
  return FALSE;
}

static void
audit_unmet (KprAgent *agent, const KprIdentity *id, const char *const *unmet)
{
  g_autofree char *list = NULL;

  if (!unmet || !unmet[0])
    return;
  list = g_strjoinv (", ", (GStrv) unmet);
  kpr_store_audit (agent->store, id->name, "%s asked for %s, which certkeeper cannot fill in; "
                   "the request goes without", id->server, list);
}

gboolean
kpr_agent_make_request (KprAgent *agent, KprEstClient *client, KprIdentity *id, EVP_PKEY *key,
                        const X509_NAME *subject, const GENERAL_NAMES *san, GError **error)
{
  g_autoptr (KprEstCsrAttrs) attrs = NULL;
  g_auto (GStrv) unmet = NULL;

  if (id->pending_csr)
    return TRUE;
  if (!(attrs = server_attrs (agent, client, id, error)))
    return FALSE;
  if (attrs->challenge_password)
    {
      /* Bound to a TLS connection: made on the one it is sent on. */
      kpr_agent_progress (agent, "%s asks for the request bound to the TLS connection",
                          id->server);
      return kpr_est_csrattrs_check_key (attrs, key, error);
    }
  id->pending_csr = kpr_est_csr_new_with_attrs (key, subject, san, attrs, NULL, &unmet, error);
  audit_unmet (agent, id, (const char *const *) unmet);
  return id->pending_csr != NULL;
}

X509 *
kpr_agent_send_request (KprAgent *agent, KprEstClient *client, KprIdentity *id, EVP_PKEY *key,
                        const X509_NAME *subject, const GENERAL_NAMES *san, gboolean reenroll,
                        const KprEstCredentials *creds, GError **error)
{
  g_autoptr (GError) local = NULL;
  X509_REQ *req = NULL;
  X509 *cert;

  /* A recorded request bound to the connection it first went on cannot
   * be bound to this one: the same request (key, subject, attributes) is
   * made again on this connection; the server knows it by its key. */
  if (id->pending_csr
      && X509_REQ_get_attr_by_NID (id->pending_csr, NID_pkcs9_challengePassword, -1) >= 0)
    g_clear_pointer (&id->pending_csr, X509_REQ_free);
  /* Made already (or recorded: a poll, a retry after a crash or a lost
   * answer, which the server knows by its key): sent as it is. */
  if (id->pending_csr)
    return kpr_est_client_enroll (client, id->pending_csr, key, reenroll, creds, error);
  cert = kpr_est_client_enroll_linked (client, key, subject, san, reenroll, creds, &req, &local);
  audit_unmet (agent, id, kpr_est_client_get_unmet_attributes (client));
  /* What the server got, for a poll; lost in a crash right here, the next
   * run binds a new request for the same key. */
  id->pending_csr = req;
  if (req && !kpr_store_save_full (agent->store, id, TRUE, error))
    {
      X509_free (cert);
      return NULL;
    }
  if (local)
    g_propagate_error (error, g_steal_pointer (&local));
  return cert;
}

void
kpr_agent_note_auth (KprAgent *agent, KprIdentity *id, const char *how)
{
  if (g_strcmp0 (id->submitted_auth, how) == 0)
    return;
  g_free (id->submitted_auth);
  id->submitted_auth = g_strdup (how);
  kpr_store_audit (agent->store, id->name, "request authenticated by %s", how);
}

KprSecret *
kpr_agent_ask_password (KprAgent *agent, const KprIdentity *id, const char *why, GError **error)
{
  g_autofree char *detail = NULL;

  if (!agent->ui.ask)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "%s wants the password of %s %s, and there is no way to ask for it here: "
                   "run 'certkeeper renew %s' where it can be typed (or give the headless "
                   "agent a password-file=)", id->server, id->username, why, id->name);
      return NULL;
    }
  detail = g_strdup_printf ("for %s at %s (%s)", id->username, id->server, why);
  kpr_agent_progress (agent, "%s wants the password of %s %s", id->server, id->username, why);
  return agent->ui.ask (KPR_ASK_PASSWORD, detail, agent->ui.data, error);
}
