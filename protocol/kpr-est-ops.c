/* kpr-est-ops.c — the RFC 7030 operations: cacerts (verified and
 * bootstrap), csrattrs, simpleenroll/simplereenroll, serverkeygen, and the
 * channel-bound enrollment.
 */
#include "config.h"

#include "kpr-est-private.h"

#include <string.h>

/* Decodes a base64 body and parses it as certs-only PKCS#7. */
static KprX509Stack *
certs_from_body (const KprEstResponse *resp, GError **error)
{
  g_autoptr (GBytes) der = NULL;

  der = kpr_est_base64_decode ((const char *) resp->body->data, resp->body->len, error);
  if (!der)
    return NULL;
  return kpr_est_certs_only_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), error);
}

static KprX509Stack *
fetch_cacerts (KprEstClient *client, KprEstTrust trust, GError **error)
{
  KprEstRequest req = { .method = "GET", .op = "cacerts", .trust = trust };
  KprEstResponse resp = { 0 };
  KprX509Stack *certs = NULL;

  if (!kpr_est_perform (client, &req, &resp, error))
    return NULL;
  /* RFC 7030 §4.1.3: only 200 is success; any other code aborts. */
  if (kpr_est_check_status (client, &resp, FALSE, error)
      && kpr_est_check_media_type (&resp, "application/pkcs7-mime", error))
    certs = certs_from_body (&resp, error);
  kpr_est_response_clear (&resp);
  return certs;
}

KprX509Stack *
kpr_est_client_bootstrap (KprEstClient *client, GStrv *ret_fingerprints, GError **error)
{
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (KprX509Stack) roots = NULL;
  g_autoptr (GPtrArray) fps = NULL;
  int i;

  g_return_val_if_fail (client != NULL && ret_fingerprints != NULL, NULL);

  certs = fetch_cacerts (client, KPR_EST_BOOTSTRAP, error);
  if (!certs)
    return NULL;
  roots = kpr_est_roots (certs);
  if (!roots || sk_X509_num (roots) == 0)
    {
      /* §4.1.3: the current root MUST be in the answer; without one there
       * is nothing a person could meaningfully confirm. */
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The server's CA certificates contain no root certificate");
      return NULL;
    }
  fps = g_ptr_array_new_with_free_func (g_free);
  for (i = 0; i < sk_X509_num (roots); i++)
    g_ptr_array_add (fps, kpr_est_cert_fingerprint (sk_X509_value (roots, i)));
  g_ptr_array_add (fps, NULL);
  *ret_fingerprints = (GStrv) g_ptr_array_free (g_steal_pointer (&fps), FALSE);
  return g_steal_pointer (&certs);
}

KprX509Stack *
kpr_est_client_cacerts (KprEstClient *client, GError **error)
{
  g_return_val_if_fail (client != NULL, NULL);
  return fetch_cacerts (client, KPR_EST_VERIFIED, error);
}

KprEstCsrAttrs *
kpr_est_client_csrattrs (KprEstClient *client, GError **error)
{
  KprEstRequest req = { .method = "GET", .op = "csrattrs" };
  KprEstResponse resp = { 0 };
  g_autoptr (GBytes) der = NULL;
  KprEstCsrAttrs *attrs = NULL;

  g_return_val_if_fail (client != NULL, NULL);

  if (!kpr_est_perform (client, &req, &resp, error))
    return NULL;
  if (resp.status == 204 || resp.status == 404)
    {
      /* RFC 8951 §4: the server has no attributes to ask for. */
      attrs = kpr_est_csrattrs_parse ((const guint8 *) "\x30\x00", 2, error);
    }
  else if (kpr_est_check_status (client, &resp, FALSE, error)
           && kpr_est_check_media_type (&resp, "application/csrattrs", error))
    {
      der = kpr_est_base64_decode ((const char *) resp.body->data, resp.body->len, error);
      if (der)
        attrs = kpr_est_csrattrs_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der),
                                        error);
    }
  kpr_est_response_clear (&resp);
  return attrs;
}

static char *
csr_body (X509_REQ *req, gsize *ret_len, GError **error)
{
  g_autoptr (GBytes) der = kpr_est_csr_to_der (req, error);
  char *b64;

  if (!der)
    return NULL;
  b64 = kpr_est_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  *ret_len = strlen (b64);
  return b64;
}

X509 *
kpr_est_client_enroll (KprEstClient *client, X509_REQ *csr, EVP_PKEY *key, gboolean reenroll,
                       const KprEstCredentials *creds, GError **error)
{
  g_autofree char *body = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  KprEstRequest req = { .method = "POST", .content_type = "application/pkcs10",
                        .base64_body = TRUE, .creds = creds };
  KprEstResponse resp = { 0 };
  X509 *issued;
  gboolean ok;

  g_return_val_if_fail (client != NULL && csr != NULL && key != NULL, NULL);

  req.op = reenroll ? "simplereenroll" : "simpleenroll";
  body = csr_body (csr, &req.body_len, error);
  if (!body)
    return NULL;
  req.body = body;
  if (!kpr_est_perform (client, &req, &resp, error))
    return NULL;
  ok = kpr_est_check_status (client, &resp, TRUE, error)
       && kpr_est_check_media_type (&resp, "application/pkcs7-mime", error)
       && (certs = certs_from_body (&resp, error)) != NULL;
  kpr_est_response_clear (&resp);
  if (!ok)
    return NULL;

  /* §4.2.3: the answer holds the issued certificate (first); anything
   * after it may help build the chain but is never trusted by itself. */
  issued = sk_X509_value (certs, 0);
  if (!kpr_est_verify_issued (issued, key, client->anchors, certs, 0, error))
    return NULL;
  X509_up_ref (issued);
  return issued;
}

const char *const *
kpr_est_client_get_unmet_attributes (KprEstClient *client)
{
  static const char *const none[] = { NULL };

  g_return_val_if_fail (client != NULL, none);
  return client->unmet ? (const char *const *) client->unmet : none;
}

X509 *
kpr_est_client_enroll_linked (KprEstClient *client, EVP_PKEY *key, const X509_NAME *subject,
                              const GENERAL_NAMES *san, gboolean reenroll,
                              const KprEstCredentials *creds, X509_REQ **ret_req,
                              GError **error)
{
  g_autoptr (KprEstCsrAttrs) attrs = NULL;
  g_autoptr (X509_REQ) csr = NULL;
  g_autofree char *binding = NULL;
  GError *enroll_error = NULL;
  X509 *issued;

  g_return_val_if_fail (client != NULL && key != NULL && subject != NULL, NULL);

  attrs = kpr_est_client_csrattrs (client, error);
  if (!attrs || !kpr_est_csrattrs_check_key (attrs, key, error))
    return NULL;
  if (attrs->challenge_password)
    {
      g_autoptr (GError) local = NULL;

      binding = kpr_est_tls_unique (client, &local);
      if (!binding && g_error_matches (local, KPR_ERROR, KPR_ERROR_UNSUPPORTED)
          && !client->tls12_only)
        {
          /* TLS 1.3 has no tls-unique: reconnect limited to TLS 1.2 and ask
           * again on that connection (DESIGN §4). */
          g_clear_error (&local);
          client->tls12_only = TRUE;
          g_clear_pointer (&client->easy, curl_easy_cleanup);
          g_clear_pointer (&attrs, kpr_est_csrattrs_free);
          attrs = kpr_est_client_csrattrs (client, &local);
          if (!attrs)
            {
              g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                           "The server wants tls-unique channel binding but does not speak "
                           "TLS 1.2: %s", local->message);
              return NULL;
            }
          binding = attrs->challenge_password ? kpr_est_tls_unique (client, &local) : NULL;
        }
      if (!binding && local)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
    }
  g_clear_pointer (&client->unmet, g_strfreev);
  csr = kpr_est_csr_new_with_attrs (key, subject, san, attrs, binding, &client->unmet, error);
  if (!csr)
    return NULL;
  /* Same handle, so libcurl reuses the connection the binding came from. */
  issued = kpr_est_client_enroll (client, csr, key, reenroll, creds, &enroll_error);
  /* The CSR also matters when pending: the retry must send the same one. */
  if (ret_req && (issued || g_error_matches (enroll_error, KPR_ERROR, KPR_ERROR_PENDING)))
    *ret_req = g_steal_pointer (&csr);
  if (enroll_error)
    g_propagate_error (error, g_steal_pointer (&enroll_error));
  return issued;
}

gboolean
kpr_est_client_serverkeygen (KprEstClient *client, X509_REQ *csr,
                             const KprEstCredentials *creds, EVP_PKEY **ret_key,
                             X509 **ret_cert, GError **error)
{
  g_autofree char *body = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  KprEstRequest req = { .method = "POST", .op = "serverkeygen",
                        .content_type = "application/pkcs10", .base64_body = TRUE,
                        .creds = creds };
  KprEstResponse resp = { 0 };
  X509 *issued;
  gboolean ok;

  g_return_val_if_fail (client != NULL && csr != NULL, FALSE);
  g_return_val_if_fail (ret_key != NULL && ret_cert != NULL, FALSE);

  body = csr_body (csr, &req.body_len, error);
  if (!body)
    return FALSE;
  req.body = body;
  if (!kpr_est_perform (client, &req, &resp, error))
    return FALSE;
  ok = kpr_est_check_status (client, &resp, TRUE, error)
       && kpr_est_check_media_type (&resp, "multipart/mixed", error)
       && kpr_est_serverkeygen_parse (resp.content_type, resp.body->data, resp.body->len,
                                      &key, &certs, error);
  /* The body held the private key. */
  if (resp.body)
    kpr_memory_erase (resp.body->data, resp.body->len);
  kpr_est_response_clear (&resp);
  if (!ok)
    return FALSE;

  issued = sk_X509_value (certs, 0);
  if (!kpr_est_verify_issued (issued, key, client->anchors, certs, 0, error))
    return FALSE;
  X509_up_ref (issued);
  *ret_cert = issued;
  *ret_key = g_steal_pointer (&key);
  return TRUE;
}
