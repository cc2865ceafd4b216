/* kpr-cmp-client.c — the CMP client: OSSL_CMP does the messages and their
 * protection; we give it the transport (libcurl, capped, no redirects),
 * the trust (explicit anchors only), the check of what was issued (in
 * the certConf callback, so a certificate we refuse is refused to the CA
 * too), and turn its outcome into one KprError a person can act on.
 */
#include "config.h"

#include "kpr-cmp.h"
#include "kpr-est.h"
#include "kpr-http-private.h"
#include "kpr-est-private.h"

#include <string.h>

#include <openssl/cmp.h>
#include <openssl/err.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_CMP_CTX, OSSL_CMP_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KprHttpResponse, kpr_http_response_clear)

#define DEFAULT_CONNECT_TIMEOUT 15
#define DEFAULT_MESSAGE_TIMEOUT 60

struct _KprCmpClient {
  char *url;
  guint connect_timeout, message_timeout, poll_limit;
  KprX509Stack *anchors;
  char *anchor_fingerprint; /* upper-case hex, no colons */
  X509 *found_anchor;
  char *reference;
  KprSecret *secret;
  CURL *easy;
};

/* One session: what the callbacks need, and the first error they met. */
typedef struct {
  KprCmpClient *client;
  EVP_PKEY *key; /* the key the issued certificate must carry */
  gboolean mac;  /* protected with the secret */
  GError *error;
} Session;

KprCmpClient *
kpr_cmp_client_new (const char *url, GError **error)
{
  KprCmpClient *client;

  g_return_val_if_fail (url != NULL, NULL);

  if (!kpr_http_check_url (url, "The CMP server URL", error))
    return NULL;
  client = g_new0 (KprCmpClient, 1);
  client->url = g_strdup (url);
  client->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  client->message_timeout = DEFAULT_MESSAGE_TIMEOUT;
  client->poll_limit = KPR_CMP_POLL_LIMIT;
  return client;
}

void
kpr_cmp_client_free (KprCmpClient *client)
{
  if (!client)
    return;
  g_clear_pointer (&client->easy, curl_easy_cleanup);
  g_clear_pointer (&client->anchors, kpr_x509_stack_free);
  g_clear_pointer (&client->found_anchor, X509_free);
  g_clear_pointer (&client->secret, kpr_secret_free);
  g_free (client->anchor_fingerprint);
  g_free (client->reference);
  g_free (client->url);
  g_free (client);
}

void
kpr_cmp_client_set_timeouts (KprCmpClient *client, guint connect_s, guint message_s,
                             guint poll_limit_s)
{
  g_return_if_fail (client != NULL);
  if (connect_s)
    client->connect_timeout = connect_s;
  if (message_s)
    client->message_timeout = message_s;
  if (poll_limit_s)
    client->poll_limit = poll_limit_s;
}

gboolean
kpr_cmp_client_set_trust_anchors (KprCmpClient *client, KprX509Stack *anchors, GError **error)
{
  g_return_val_if_fail (client != NULL && anchors != NULL, FALSE);
  return kpr_protocol_set_anchors (&client->anchors, anchors, error);
}

/* "ab:CD…" → "ABCD…"; NULL unless 64 hex digits. */
static char *
normalize_fingerprint (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    if (g_ascii_isxdigit (*p))
      g_string_append_c (s, g_ascii_toupper (*p));
    else if (*p != ':' && *p != ' ')
      break;
  if (s->len != 64)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  return g_string_free (s, FALSE);
}

gboolean
kpr_cmp_client_set_anchor_fingerprint (KprCmpClient *client, const char *fingerprint,
                                       GError **error)
{
  char *fp;

  g_return_val_if_fail (client != NULL && fingerprint != NULL, FALSE);

  if (!(fp = normalize_fingerprint (fingerprint)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "“%s” is not a SHA-256 fingerprint (64 hex digits)", fingerprint);
      return FALSE;
    }
  g_free (client->anchor_fingerprint);
  client->anchor_fingerprint = fp;
  return TRUE;
}

X509 *
kpr_cmp_client_get_anchor (KprCmpClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);
  return client->found_anchor;
}

gboolean
kpr_cmp_client_set_secret (KprCmpClient *client, const char *reference, const KprSecret *secret,
                           GError **error)
{
  g_return_val_if_fail (client != NULL && reference != NULL && secret != NULL, FALSE);

  if (!reference[0] || strlen (reference) > 256 || secret->len == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The CMP reference and secret must not be empty");
      return FALSE;
    }
  g_free (client->reference);
  g_clear_pointer (&client->secret, kpr_secret_free);
  client->reference = g_strdup (reference);
  client->secret = kpr_secret_new (secret->data, secret->len);
  return TRUE;
}

static void
session_fail (Session *s, GError *error)
{
  if (!s->error)
    s->error = error;
  else
    g_error_free (error);
}

/* RFC 6712: POST application/pkixcmp, the answer the same type. */
static OSSL_CMP_MSG *
transfer_cb (OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req)
{
  Session *s = OSSL_CMP_CTX_get_transfer_cb_arg (ctx);
  KprCmpClient *client = s->client;
  g_auto (KprHttpResponse) resp = { 0 };
  GError *error = NULL;
  unsigned char *der = NULL;
  const unsigned char *p;
  OSSL_CMP_MSG *msg;
  int len = i2d_OSSL_CMP_MSG (req, &der);
  KprHttpRequest hr = {
    .url = client->url,
    .content_type = "application/pkixcmp",
    .body = der,
    .body_len = len > 0 ? (gsize) len : 0,
    .max_body = KPR_CMP_BODY_MAX,
    .connect_timeout = client->connect_timeout,
    .total_timeout = client->message_timeout,
  };
  gboolean ok;

  if (len <= 0)
    return NULL;
  /* RFC 6712 §3.3: a CMP error message may come with a 4xx or 5xx
   * status; read it when it is one, for the CA's reasons. */
  ok = kpr_http_exchange (&client->easy, &hr, &resp, &error)
       && (g_strcmp0 (resp.media_type, "application/pkixcmp") == 0
           || kpr_http_check_status (&resp, &error));
  OPENSSL_free (der);
  if (!ok)
    {
      session_fail (s, error);
      return NULL;
    }
  p = resp.body->data;
  msg = d2i_OSSL_CMP_MSG (NULL, &p, (long) resp.body->len);
  if (!msg || (gsize) (p - resp.body->data) != resp.body->len)
    {
      OSSL_CMP_MSG_free (msg);
      session_fail (s, g_error_new (KPR_ERROR, KPR_ERROR_PROTOCOL,
                                    "The CMP server's answer is not a CMP message"));
      return NULL;
    }
  return msg;
}

/* Library code never prints: OSSL_CMP's own log goes nowhere. */
static int
quiet_log_cb (const char *func, const char *file, int line, OSSL_CMP_severity level,
              const char *msg)
{
  return 1;
}

static X509 *
find_by_fingerprint (KprX509Stack *certs, const char *want)
{
  for (int i = 0; certs && i < sk_X509_num (certs); i++)
    {
      g_autofree char *fp = kpr_est_cert_fingerprint (sk_X509_value (certs, i));
      g_autofree char *norm = normalize_fingerprint (fp);

      if (norm && g_str_equal (norm, want))
        return sk_X509_value (certs, i);
    }
  return NULL;
}

/* The issued certificate passes the gate every issued certificate
 * passes; if not, the failure goes back to the CA in certConf. */
static int
cert_conf_cb (OSSL_CMP_CTX *ctx, X509 *cert, int fail_info, const char **txt)
{
  Session *s = OSSL_CMP_CTX_get_certConf_cb_arg (ctx);
  KprCmpClient *client = s->client;
  g_autoptr (KprX509Stack) ca_pubs = OSSL_CMP_CTX_get1_caPubs (ctx);
  g_autoptr (KprX509Stack) extra = OSSL_CMP_CTX_get1_extraCertsIn (ctx);
  g_autoptr (KprX509Stack) untrusted = sk_X509_new_null ();
  g_autoptr (KprX509Stack) found = NULL;
  KprX509Stack *anchors = client->anchors;
  GError *error = NULL;

  for (int i = 0; untrusted && extra && i < sk_X509_num (extra); i++)
    if (X509_up_ref (sk_X509_value (extra, i))
        && !sk_X509_push (untrusted, sk_X509_value (extra, i)))
      X509_free (sk_X509_value (extra, i));
  for (int i = 0; untrusted && ca_pubs && i < sk_X509_num (ca_pubs); i++)
    if (X509_up_ref (sk_X509_value (ca_pubs, i))
        && !sk_X509_push (untrusted, sk_X509_value (ca_pubs, i)))
      X509_free (sk_X509_value (ca_pubs, i));
  if (!anchors && client->anchor_fingerprint && s->mac)
    {
      X509 *a = find_by_fingerprint (untrusted, client->anchor_fingerprint);

      if (a && (found = sk_X509_new_null ()) && X509_up_ref (a) && !sk_X509_push (found, a))
        X509_free (a);
      anchors = found;
    }
  if (!anchors || sk_X509_num (anchors) == 0)
    error = g_error_new (KPR_ERROR, KPR_ERROR_UNTRUSTED,
                         "The CMP server's answer holds no CA certificate with the fingerprint "
                         "you confirmed; nothing was accepted");
  else if (kpr_est_verify_issued (cert, s->key, anchors, untrusted, 0, &error) && found)
    {
      g_clear_pointer (&client->found_anchor, X509_free);
      client->found_anchor = sk_X509_value (found, 0);
      X509_up_ref (client->found_anchor);
    }
  if (error)
    {
      session_fail (s, error);
      *txt = "certificate not accepted by the client";
      return fail_info | (1 << OSSL_CMP_PKIFAILUREINFO_incorrectData);
    }
  return fail_info;
}

static OSSL_CMP_CTX *
new_ctx (KprCmpClient *client, Session *s, gboolean need_anchor, GError **error)
{
  g_autoptr (OSSL_CMP_CTX) ctx = OSSL_CMP_CTX_new (NULL, NULL);
  gboolean ok;

  if (need_anchor && !client->anchors && !(client->anchor_fingerprint && s->mac))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                   "No trust anchor is set for this CMP server; give its CA certificate or "
                   "confirm its fingerprint first");
      return NULL;
    }
  ok = ctx && OSSL_CMP_CTX_set_log_cb (ctx, quiet_log_cb)
       && OSSL_CMP_CTX_set_transfer_cb (ctx, transfer_cb)
       && OSSL_CMP_CTX_set_transfer_cb_arg (ctx, s)
       && OSSL_CMP_CTX_set_certConf_cb (ctx, cert_conf_cb)
       && OSSL_CMP_CTX_set_certConf_cb_arg (ctx, s)
       && OSSL_CMP_CTX_set_option (ctx, OSSL_CMP_OPT_DIGEST_ALGNID, NID_sha256)
       && OSSL_CMP_CTX_set_option (ctx, OSSL_CMP_OPT_OWF_ALGNID, NID_sha256)
       && OSSL_CMP_CTX_set_option (ctx, OSSL_CMP_OPT_MAC_ALGNID, NID_hmacWithSHA256)
       && OSSL_CMP_CTX_set_option (ctx, OSSL_CMP_OPT_TOTAL_TIMEOUT, (int) client->poll_limit)
       /* A CA that cannot check our MAC cannot MAC its refusal either:
        * accept negative answers unprotected, to tell the person why.
        * They can only make us give up, never make us accept anything. */
       && OSSL_CMP_CTX_set_option (ctx, OSSL_CMP_OPT_UNPROTECTED_ERRORS, 1);
  if (ok && client->anchors)
    {
      g_autoptr (X509_STORE) store = X509_STORE_new ();

      ok = store != NULL;
      for (int i = 0; ok && i < sk_X509_num (client->anchors); i++)
        ok = X509_STORE_add_cert (store, sk_X509_value (client->anchors, i));
      ok = ok && X509_STORE_set_flags (store, X509_V_FLAG_PARTIAL_CHAIN)
           && OSSL_CMP_CTX_set0_trustedStore (ctx, store);
      if (ok)
        store = NULL;
    }
  if (ok && s->mac)
    ok = OSSL_CMP_CTX_set1_referenceValue (ctx, (const unsigned char *) client->reference,
                                           (int) strlen (client->reference))
         && OSSL_CMP_CTX_set1_secretValue (ctx, (const unsigned char *) client->secret->data,
                                           (int) client->secret->len);
  if (!ok)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot set up the CMP session");
      return NULL;
    }
  return g_steal_pointer (&ctx);
}

static const char *
fail_info_names (int bits, GString *out)
{
  static const char *const names[] = {
    "badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId", "badDataFormat",
    "wrongAuthority", "incorrectData", "missingTimeStamp", "badPOP", "certRevoked",
    "certConfirmed", "wrongIntegrity", "badRecipientNonce", "timeNotAvailable",
    "unacceptedPolicy", "unacceptedExtension", "addInfoNotAvailable", "badSenderNonce",
    "badCertTemplate", "signerNotTrusted", "transactionIdInUse", "unsupportedVersion",
    "notAuthorized", "systemUnavail", "systemFailure", "duplicateCertReq",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (bits & (1 << i))
      g_string_append_printf (out, "%s%s", out->len ? ", " : "", names[i]);
  return out->str;
}

/* What OSSL_CMP left behind, as one KprError. */
static void
map_failure (OSSL_CMP_CTX *ctx, Session *s, const char *what, GError **error)
{
  int status = OSSL_CMP_CTX_get_status (ctx);
  int bits = OSSL_CMP_CTX_get_failInfoCode (ctx);
  gboolean timeout = FALSE, protection = FALSE, unprotected = FALSE;
  unsigned long e;

  while ((e = ERR_get_error ()) != 0)
    if (ERR_GET_LIB (e) == ERR_LIB_CMP)
      switch (ERR_GET_REASON (e))
        {
        case CMP_R_TOTAL_TIMEOUT:
          timeout = TRUE;
          break;
        case CMP_R_ERROR_VALIDATING_PROTECTION:
        case CMP_R_ERROR_VALIDATING_SIGNATURE:
        case CMP_R_WRONG_PBM_VALUE:
        case CMP_R_NO_SUITABLE_SENDER_CERT:
        case CMP_R_SRVCERT_DOES_NOT_VALIDATE_MSG:
        case CMP_R_MISSING_TRUST_STORE:
          protection = TRUE;
          break;
        case CMP_R_MISSING_PROTECTION:
          unprotected = TRUE;
          break;
        default:
          break;
        }
  if (s->error)
    {
      g_propagate_error (error, g_steal_pointer (&s->error));
      return;
    }
  if (timeout || status == OSSL_CMP_PKISTATUS_waiting)
    g_set_error (error, KPR_ERROR, KPR_ERROR_PENDING,
                 "The CMP server did not issue the certificate within %u s; CMP cannot pick "
                 "the request up later, so ask the CA to finish it and enroll again",
                 s->client->poll_limit);
  else if (status == OSSL_CMP_PKISTATUS_rejection)
    {
      g_autoptr (GString) names = g_string_new (NULL);
      OSSL_CMP_PKIFREETEXT *texts = OSSL_CMP_CTX_get0_statusString (ctx);
      g_autoptr (GString) text = g_string_new (NULL);

      for (int i = 0; texts && i < sk_ASN1_UTF8STRING_num (texts); i++)
        {
          ASN1_UTF8STRING *t = sk_ASN1_UTF8STRING_value (texts, i);
          g_autofree char *clean = kpr_est_sanitize_text (ASN1_STRING_get0_data (t),
                                                         ASN1_STRING_length (t));

          g_string_append_printf (text, "%s%s", text->len ? "; " : "", clean);
        }
      fail_info_names (bits, names);
      /* In a MAC exchange, a refusal whose own MAC does not verify with
       * our secret (or that says so) means the secret is wrong. */
      if (s->mac && (protection || (bits & (1 << OSSL_CMP_PKIFAILUREINFO_badMessageCheck))))
        g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                     "The CMP server could not verify the request: the reference or the secret "
                     "is wrong or was used already%s%s", text->len ? ": " : "", text->str);
      else
        g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                     "The CMP server refused the %s (%s)%s%s", what,
                     names->len ? names->str : "no reason given", text->len ? ": " : "",
                     text->str);
    }
  else if (unprotected)
    g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                 "The CMP server's answer is not protected; nothing was accepted from it");
  else if (protection && s->mac)
    g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                 "The CMP server's answer does not verify with the secret: the reference or "
                 "the secret is wrong (or the server is not the one that gave them)");
  else if (protection)
    g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                 "The CMP server's answer is not signed by a certificate of the CA you "
                 "trust; nothing was accepted from it");
  else
    g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                 "The CMP server's answer to the %s could not be used", what);
}

static gboolean
push_sans (OSSL_CMP_CTX *ctx, const GENERAL_NAMES *san)
{
  for (int i = 0; san && i < sk_GENERAL_NAME_num (san); i++)
    if (!OSSL_CMP_CTX_push1_subjectAltName (ctx, sk_GENERAL_NAME_value (san, i)))
      return FALSE;
  return TRUE;
}

X509 *
kpr_cmp_client_enroll (KprCmpClient *client, const KprCmpRequest *req, GError **error)
{
  Session s = { client, req ? req->key : NULL, FALSE, NULL };
  g_autoptr (OSSL_CMP_CTX) ctx = NULL;
  gboolean kur, ok;
  X509 *cert;

  g_return_val_if_fail (client != NULL && req != NULL && req->key != NULL, NULL);
  g_return_val_if_fail ((req->current == NULL) == (req->current_key == NULL), NULL);
  g_return_val_if_fail (req->current != NULL || req->subject != NULL, NULL);

  kur = req->current != NULL;
  s.mac = !kur;
  if (!kur && !client->secret)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "A first CMP enrollment needs the reference and secret the CA gave you");
      return NULL;
    }
  if (kur && X509_check_private_key (req->current, req->current_key) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "The current certificate does not belong to the current key");
      return NULL;
    }
  g_clear_pointer (&client->found_anchor, X509_free);
  if (!(ctx = new_ctx (client, &s, TRUE, error)))
    return NULL;
  ok = EVP_PKEY_up_ref (req->key) && OSSL_CMP_CTX_set0_newPkey (ctx, 1, req->key)
       && (!req->subject || OSSL_CMP_CTX_set1_subjectName (ctx, req->subject))
       && push_sans (ctx, req->san);
  if (ok && kur)
    ok = OSSL_CMP_CTX_set1_cert (ctx, req->current)
         && OSSL_CMP_CTX_set1_pkey (ctx, req->current_key)
         && OSSL_CMP_CTX_set1_oldCert (ctx, req->current);
  if (!ok)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot build the CMP request");
      return NULL;
    }
  ERR_clear_error ();
  cert = kur ? OSSL_CMP_exec_KUR_ses (ctx) : OSSL_CMP_exec_IR_ses (ctx);
  if (!cert || s.error)
    {
      map_failure (ctx, &s, kur ? "key update" : "enrollment", error);
      return NULL;
    }
  ERR_clear_error ();
  X509_up_ref (cert);
  return cert;
}

gboolean
kpr_cmp_client_revoke (KprCmpClient *client, X509 *cert, EVP_PKEY *key, int reason,
                       GError **error)
{
  Session s = { client, NULL, key == NULL, NULL };
  g_autoptr (OSSL_CMP_CTX) ctx = NULL;
  gboolean ok;

  g_return_val_if_fail (client != NULL && cert != NULL, FALSE);

  if (!key && !client->secret)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "Revoking without the key needs a reference and secret from the CA");
      return FALSE;
    }
  if (!client->anchors)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                   "No trust anchor is set for this CMP server");
      return FALSE;
    }
  if (!(ctx = new_ctx (client, &s, TRUE, error)))
    return FALSE;
  ok = OSSL_CMP_CTX_set1_oldCert (ctx, cert)
       && OSSL_CMP_CTX_set_option (ctx, OSSL_CMP_OPT_REVOCATION_REASON, reason);
  if (ok && key)
    ok = OSSL_CMP_CTX_set1_cert (ctx, cert) && OSSL_CMP_CTX_set1_pkey (ctx, key);
  if (!ok)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot build the CMP revocation");
      return FALSE;
    }
  ERR_clear_error ();
  if (OSSL_CMP_exec_RR_ses (ctx) != 1 || s.error)
    {
      map_failure (ctx, &s, "revocation", error);
      return FALSE;
    }
  ERR_clear_error ();
  return TRUE;
}
