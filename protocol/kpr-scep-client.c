/* kpr-scep-client.c — the SCEP client object and its operations (RFC 8894
 * §3.5 GetCACaps/GetCACert, §3.3 PKCSReq/RenewalReq/CertPoll).
 *
 * Every PKIOperation starts from fresh GetCACaps and GetCACert answers:
 * the CA may have rolled its RA certificates since the last run, and
 * only certificates that chain to the person's anchor are ever used to
 * encrypt to or to accept a signature from.
 */
#include "config.h"

#include "kpr-scep-private.h"
#include "kpr-est.h"
#include "kpr-http-private.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KprHttpResponse, kpr_http_response_clear)

#define DEFAULT_CONNECT_TIMEOUT 15
#define DEFAULT_TOTAL_TIMEOUT 60

KprScepClient *
kpr_scep_client_new (const char *url, GError **error)
{
  KprScepClient *client;

  g_return_val_if_fail (url != NULL, NULL);

  if (!kpr_http_check_url (url, "The SCEP server URL", error))
    return NULL;
  if (strstr (url, "operation="))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "Give the SCEP server URL without “operation=”: certkeeper adds it");
      return NULL;
    }
  client = g_new0 (KprScepClient, 1);
  client->url = g_strdup (url);
  client->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  client->total_timeout = DEFAULT_TOTAL_TIMEOUT;
  return client;
}

void
kpr_scep_client_free (KprScepClient *client)
{
  if (!client)
    return;
  g_clear_pointer (&client->easy, curl_easy_cleanup);
  g_clear_pointer (&client->anchors, kpr_x509_stack_free);
  g_free (client->url);
  g_free (client->ca_ident);
  g_free (client);
}

void
kpr_scep_client_set_timeouts (KprScepClient *client, guint connect_s, guint total_s)
{
  g_return_if_fail (client != NULL);
  if (connect_s)
    client->connect_timeout = connect_s;
  if (total_s)
    client->total_timeout = total_s;
}

void
kpr_scep_client_set_ca_ident (KprScepClient *client, const char *ident)
{
  g_return_if_fail (client != NULL);
  g_free (client->ca_ident);
  client->ca_ident = g_strdup (ident);
}

gboolean
kpr_scep_client_set_trust_anchors (KprScepClient *client, KprX509Stack *anchors, GError **error)
{
  g_return_val_if_fail (client != NULL && anchors != NULL, FALSE);
  return kpr_protocol_set_anchors (&client->anchors, anchors, error);
}

void
kpr_scep_client_get_algorithms (KprScepClient *client, KprScepAlgorithms *ret)
{
  g_return_if_fail (client != NULL && ret != NULL);
  *ret = client->used;
}

/* One SCEP HTTP request: GET "?operation=OP[&message=M]" or a POST of
 * @body.  @message is escaped here. */
static gboolean
exchange (KprScepClient *client, const char *op, const char *message, GBytes *body,
          KprHttpResponse *ret_resp, GError **error)
{
  g_autofree char *escaped = message ? g_uri_escape_string (message, NULL, FALSE) : NULL;
  g_autofree char *url = g_strdup_printf ("%s%soperation=%s%s%s", client->url,
                                          strchr (client->url, '?') ? "&" : "?", op,
                                          escaped ? "&message=" : "", escaped ? escaped : "");
  KprHttpRequest req = {
    .url = url,
    .max_body = KPR_SCEP_BODY_MAX,
    .connect_timeout = client->connect_timeout,
    .total_timeout = client->total_timeout,
  };

  if (body)
    {
      req.content_type = "application/x-pki-message";
      req.body = g_bytes_get_data (body, &req.body_len);
    }
  return kpr_http_exchange (&client->easy, &req, ret_resp, error);
}

gboolean
kpr_scep_client_get_caps (KprScepClient *client, KprScepCaps *ret_caps, gboolean *ret_missing,
                          GError **error)
{
  g_auto (KprHttpResponse) resp = { 0 };
  KprScepCaps caps;

  g_return_val_if_fail (client != NULL && ret_caps != NULL, FALSE);

  if (!exchange (client, "GetCACaps", NULL, NULL, &resp, error))
    return FALSE;
  /* RFC 8894 §3.5.2: a server without GetCACaps is assumed to offer the
   * minimum; older NDES answers 404 or 500 here. */
  caps = resp.status == 200 ? kpr_scep_caps_parse (resp.body->data, resp.body->len) : 0;
  *ret_caps = caps;
  if (ret_missing)
    *ret_missing = resp.status != 200 || resp.body->len == 0;
  return TRUE;
}

static KprX509Stack *
fetch_ca_certs (KprScepClient *client, GError **error)
{
  g_auto (KprHttpResponse) resp = { 0 };

  if (!exchange (client, "GetCACert", client->ca_ident, NULL, &resp, error)
      || !kpr_http_check_status (&resp, error))
    return NULL;
  return kpr_scep_ca_certs_parse (resp.media_type, resp.body->data, resp.body->len, error);
}

KprX509Stack *
kpr_scep_ca_certs (KprX509Stack *certs)
{
  KprX509Stack *cas = sk_X509_new_null ();

  for (int i = 0; cas && i < sk_X509_num (certs); i++)
    {
      X509 *cert = sk_X509_value (certs, i);

      if (X509_check_ca (cert) != 0 && X509_up_ref (cert) && !sk_X509_push (cas, cert))
        X509_free (cert);
    }
  return cas;
}

KprX509Stack *
kpr_scep_client_bootstrap (KprScepClient *client, GStrv *ret_fingerprints, GError **error)
{
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (KprX509Stack) cas = NULL;
  GPtrArray *fps;

  g_return_val_if_fail (client != NULL && ret_fingerprints != NULL, NULL);

  if (!(certs = fetch_ca_certs (client, error)))
    return NULL;
  cas = kpr_scep_ca_certs (certs);
  if (!cas || sk_X509_num (cas) == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The SCEP server's answer holds no CA certificate to confirm");
      return NULL;
    }
  fps = g_ptr_array_new ();
  for (int i = 0; i < sk_X509_num (cas); i++)
    g_ptr_array_add (fps, kpr_est_cert_fingerprint (sk_X509_value (cas, i)));
  g_ptr_array_add (fps, NULL);
  *ret_fingerprints = (GStrv) g_ptr_array_free (fps, FALSE);
  return g_steal_pointer (&certs);
}

/* What a PKIOperation needs from GetCACaps and GetCACert. */
typedef struct {
  KprScepCaps caps;
  KprX509Stack *signers; /* the RA/CA certificates that chain to the anchor */
  X509 *recipient;       /* one of them, RSA, to encrypt to */
  const X509_NAME *issuer; /* the issuing CA's name, for CertPoll */
} Prepared;

static void
prepared_clear (Prepared *pp)
{
  g_clear_pointer (&pp->signers, kpr_x509_stack_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Prepared, prepared_clear)

static gboolean
is_rsa (X509 *cert)
{
  EVP_PKEY *pub = X509_get0_pubkey (cert);

  return pub && EVP_PKEY_get_base_id (pub) == EVP_PKEY_RSA;
}

/* NDES sends an RA signing and an RA encryption certificate beside the
 * CA's: encrypt to an RA certificate that may encipher keys; without one,
 * the CA itself acts as RA (micromdm, EJBCA), whatever its key usage. */
static X509 *
pick_recipient (KprX509Stack *certs)
{
  for (int i = 0; i < sk_X509_num (certs); i++)
    {
      X509 *c = sk_X509_value (certs, i);

      if (X509_check_ca (c) == 0 && is_rsa (c)
          && (X509_get_key_usage (c) & KU_KEY_ENCIPHERMENT))
        return c;
    }
  for (int i = 0; i < sk_X509_num (certs); i++)
    {
      X509 *c = sk_X509_value (certs, i);

      if (X509_check_ca (c) != 0 && is_rsa (c))
        return c;
    }
  return NULL;
}

static gboolean
prepare (KprScepClient *client, Prepared *pp, GError **error)
{
  g_autoptr (KprX509Stack) certs = NULL;

  if (!client->anchors)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                   "No trust anchor is set for this SCEP server; fetch and confirm the CA "
                   "certificate first");
      return FALSE;
    }
  if (!kpr_scep_client_get_caps (client, &pp->caps, NULL, error)
      || !(certs = fetch_ca_certs (client, error)))
    return FALSE;
  pp->signers = sk_X509_new_null ();
  for (int i = 0; pp->signers && i < sk_X509_num (certs); i++)
    {
      X509 *c = sk_X509_value (certs, i);

      if (kpr_est_verify_issued (c, NULL, client->anchors, certs, 0, NULL) && X509_up_ref (c)
          && !sk_X509_push (pp->signers, c))
        X509_free (c);
    }
  if (!pp->signers || sk_X509_num (pp->signers) == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                   "The SCEP server's CA certificates do not chain to the CA certificate you "
                   "confirmed; nothing was sent");
      return FALSE;
    }
  if (!(pp->recipient = pick_recipient (pp->signers)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "The SCEP server offers no RSA certificate to encrypt the request to");
      return FALSE;
    }
  pp->issuer = X509_check_ca (pp->recipient) != 0 ? X509_get_subject_name (pp->recipient)
                                                  : X509_get_issuer_name (pp->recipient);
  return TRUE;
}

/* RFC 8894 §3.5.2: AES and SHA-256 when offered; DES3 and SHA-1 are what
 * every SCEP server has, used only when nothing better is offered. */
static void
choose_algorithms (KprScepClient *client, KprScepCaps caps, const EVP_CIPHER **ret_cipher,
                   const EVP_MD **ret_md)
{
  KprScepAlgorithms *u = &client->used;

  *ret_cipher = caps & KPR_SCEP_CAP_AES ? EVP_aes_128_cbc () : EVP_des_ede3_cbc ();
  u->cipher = caps & KPR_SCEP_CAP_AES ? "AES-128-CBC" : "DES-EDE3-CBC";
  if (caps & KPR_SCEP_CAP_SHA256)
    *ret_md = EVP_sha256 (), u->digest = "SHA-256";
  else if (caps & KPR_SCEP_CAP_SHA512)
    *ret_md = EVP_sha512 (), u->digest = "SHA-512";
  else
    *ret_md = EVP_sha1 (), u->digest = "SHA-1";
  u->method = caps & KPR_SCEP_CAP_POST ? "POST" : "GET";
  u->weak = !(caps & KPR_SCEP_CAP_AES) || *ret_md == EVP_sha1 ();
  u->reply_cipher = NULL;
}

static gboolean
check_rsa_key (EVP_PKEY *key, const char *which, GError **error)
{
  if (key && EVP_PKEY_get_base_id (key) == EVP_PKEY_RSA)
    return TRUE;
  g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
               "SCEP needs an RSA key (the CA encrypts its answer to it); %s is not RSA", which);
  return FALSE;
}

/* The certificate for @key among @certs, checked like every issued one. */
static X509 *
take_issued (KprScepClient *client, KprX509Stack *certs, KprX509Stack *signers, EVP_PKEY *key,
             GError **error)
{
  g_autoptr (KprX509Stack) untrusted = X509_chain_up_ref (certs);
  X509 *mine = NULL;

  for (int i = 0; i < sk_X509_num (certs) && !mine; i++)
    if (EVP_PKEY_eq (X509_get0_pubkey (sk_X509_value (certs, i)), key) == 1)
      mine = sk_X509_value (certs, i);
  ERR_clear_error ();
  for (int i = 0; untrusted && i < sk_X509_num (signers); i++)
    if (X509_up_ref (sk_X509_value (signers, i))
        && !sk_X509_push (untrusted, sk_X509_value (signers, i)))
      X509_free (sk_X509_value (signers, i));
  /* Without our key among them, the first one gets the check so the
   * error says "another key". */
  if (!kpr_est_verify_issued (mine ? mine : sk_X509_value (certs, 0), key, client->anchors,
                              untrusted, 0, error))
    return NULL;
  X509_up_ref (mine);
  return mine;
}

typedef struct {
  KprScepMessageType type;
  GBytes *content;
  X509 *signer;        /* signs the request; the answer is encrypted to it */
  EVP_PKEY *signer_key;
  EVP_PKEY *key;       /* the key the certificate must carry */
  const char *transaction_id;
} Transaction;

static X509 *
transact (KprScepClient *client, const Prepared *pp, const Transaction *t,
          const EVP_CIPHER *cipher, const EVP_MD *md, GError **error)
{
  g_auto (KprHttpResponse) resp = { 0 };
  g_autoptr (GBytes) msg = NULL;
  g_autoptr (KprScepReply) reply = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  guint8 nonce[KPR_SCEP_NONCE_LEN];
  KprScepBuild b = {
    .type = t->type, .transaction_id = t->transaction_id, .nonce = nonce,
    .recipient = pp->recipient, .cipher = cipher, .signer = t->signer,
    .signer_key = t->signer_key, .md = md,
  };

  if (RAND_bytes (nonce, sizeof nonce) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "The random generator failed");
      return NULL;
    }
  b.content = g_bytes_get_data (t->content, &b.content_len);
  if (!(msg = kpr_scep_request_build (&b, error)))
    return NULL;
  if (pp->caps & KPR_SCEP_CAP_POST)
    {
      if (!exchange (client, "PKIOperation", NULL, msg, &resp, error))
        return NULL;
    }
  else
    {
      g_autofree char *b64 = g_base64_encode (g_bytes_get_data (msg, NULL),
                                              g_bytes_get_size (msg));

      if (!exchange (client, "PKIOperation", b64, NULL, &resp, error))
        return NULL;
    }
  /* The media type is not checked: servers differ, and nothing in the
   * body counts before its signature is verified. */
  if (!kpr_http_check_status (&resp, error))
    return NULL;
  reply = kpr_scep_reply_parse (resp.body->data, resp.body->len, pp->signers,
                                t->transaction_id, nonce, error);
  if (!reply)
    return NULL;
  if (reply->status == KPR_SCEP_STATUS_PENDING)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PENDING,
                   "The SCEP server holds the request for approval; ask again later");
      return NULL;
    }
  if (reply->status == KPR_SCEP_STATUS_FAILURE)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                   "The SCEP server refused the request (%s)%s",
                   kpr_scep_fail_info_name (reply->fail_info),
                   reply->fail_info == 2 && t->type == KPR_SCEP_MSG_PKCS_REQ
                     ? ": the challenge password may be wrong or already used"
                     : "");
      return NULL;
    }
  certs = kpr_scep_envelope_open (reply->envelope, t->signer_key, t->signer,
                                  &client->used.reply_cipher, error);
  if (!certs)
    return NULL;
  return take_issued (client, certs, pp->signers, t->key, error);
}

/* The CSR, DER; the challenge password in it is erased from the
 * X509_REQ before it is freed (the DER is the caller's to erase). */
static GBytes *
csr_der (const KprScepRequest *req, GError **error)
{
  const char *challenge = req->challenge ? req->challenge->data : NULL;
  /* A renewal keeps the current Subject and SubjectAltName unless the
   * caller names them. */
  g_autoptr (X509_REQ) csr = req->current && !req->subject
                               ? kpr_est_csr_new_renewal (req->key, req->current, challenge, error)
                               : kpr_est_csr_new (req->key, req->subject, req->san, challenge,
                                                  error);
  unsigned char *der = NULL;
  KprSecret *secret;
  int len, idx;

  if (!csr)
    return NULL;
  len = i2d_X509_REQ (csr, &der);
  idx = X509_REQ_get_attr_by_NID (csr, NID_pkcs9_challengePassword, -1);
  if (idx >= 0)
    {
      ASN1_TYPE *t = X509_ATTRIBUTE_get0_type (X509_REQ_get_attr (csr, idx), 0);

      if (t && t->value.asn1_string)
        OPENSSL_cleanse (t->value.asn1_string->data, t->value.asn1_string->length);
    }
  if (len <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot encode the request");
      return NULL;
    }
  /* Held in a KprSecret: erased, whoever drops the last reference. */
  secret = kpr_secret_new ((const char *) der, (gsize) len);
  OPENSSL_cleanse (der, len);
  OPENSSL_free (der);
  return g_bytes_new_with_free_func (secret->data, secret->len, (GDestroyNotify) kpr_secret_free,
                                     secret);
}

typedef struct {
  X509 *signer;
  EVP_PKEY *signer_key;
} Signer;

/* The certificate and key that sign: the current ones for a renewal,
 * else a self-signed certificate for the key being certified. */
static gboolean
pick_signer (const KprScepRequest *req, const X509_NAME *subject, const EVP_MD *md, Signer *ret,
             X509 **ret_made, GError **error)
{
  if (req->current)
    {
      ret->signer = req->current;
      ret->signer_key = req->current_key;
      return TRUE;
    }
  if (!(*ret_made = kpr_scep_self_signed (req->key, subject, md, error)))
    return FALSE;
  ret->signer = *ret_made;
  ret->signer_key = req->key;
  return TRUE;
}

static gboolean
check_request (const KprScepRequest *req, GError **error)
{
  if (!check_rsa_key (req->key, "the key to certify", error))
    return FALSE;
  if (req->current && !check_rsa_key (req->current_key, "the current key", error))
    return FALSE;
  if (req->current && X509_check_private_key (req->current, req->current_key) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "The current certificate does not belong to the current key");
      return FALSE;
    }
  return TRUE;
}

static X509 *
run (KprScepClient *client, const KprScepRequest *req, gboolean poll, GError **error)
{
  g_auto (Prepared) pp = { 0 };
  g_autoptr (X509) made = NULL;
  g_autoptr (GBytes) content = NULL;
  g_autofree char *tid = NULL;
  const X509_NAME *subject;
  const EVP_CIPHER *cipher;
  const EVP_MD *md;
  Signer s;
  Transaction t = { 0 };

  g_return_val_if_fail (client != NULL && req != NULL && req->key != NULL, NULL);
  g_return_val_if_fail (req->subject != NULL || req->current != NULL, NULL);
  g_return_val_if_fail ((req->current == NULL) == (req->current_key == NULL), NULL);

  memset (&client->used, 0, sizeof client->used);
  subject = req->subject ? req->subject : X509_get_subject_name (req->current);
  if (!check_request (req, error) || !prepare (client, &pp, error))
    return NULL;
  choose_algorithms (client, pp.caps, &cipher, &md);
  if (!(tid = kpr_scep_transaction_id (req->key, error))
      || !pick_signer (req, subject, md, &s, &made, error))
    return NULL;
  if (poll)
    {
      t.type = KPR_SCEP_MSG_CERT_POLL;
      content = kpr_scep_issuer_and_subject (pp.issuer, subject, error);
    }
  else
    {
      /* RFC 8894 §3.3.1.2: without Renewal, a PKCSReq signed with the
       * current certificate asks the same. */
      t.type = req->current && (pp.caps & KPR_SCEP_CAP_RENEWAL) ? KPR_SCEP_MSG_RENEWAL_REQ
                                                                 : KPR_SCEP_MSG_PKCS_REQ;
      content = csr_der (req, error);
    }
  if (!content)
    return NULL;
  t.content = content;
  t.signer = s.signer;
  t.signer_key = s.signer_key;
  t.key = req->key;
  t.transaction_id = tid;
  return transact (client, &pp, &t, cipher, md, error);
}

X509 *
kpr_scep_client_enroll (KprScepClient *client, const KprScepRequest *req, GError **error)
{
  return run (client, req, FALSE, error);
}

X509 *
kpr_scep_client_poll (KprScepClient *client, const KprScepRequest *req, GError **error)
{
  return run (client, req, TRUE, error);
}
