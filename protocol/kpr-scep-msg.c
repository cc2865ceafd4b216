/* kpr-scep-msg.c — SCEP messages (RFC 8894 §3): capabilities, the CA
 * certificate answer, the pkiMessage we send (SignedData over
 * EnvelopedData, through OpenSSL CMS, which reads and writes the PKCS#7
 * forms SCEP servers use) and the CertRep we read.
 *
 * A CertRep is hostile until proven otherwise: its size is capped, its one
 * signature must verify with a certificate the caller vouches for (never
 * one the message brings along), and its transaction and nonce must be
 * ours, so an answer to someone else's request cannot be replayed to us.
 */
#include "config.h"

#include "kpr-scep-private.h"
#include "kpr-est-codec.h"

#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CMS_ContentInfo, CMS_ContentInfo_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PKCS7, PKCS7_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_OBJECT, ASN1_OBJECT_free)

/* Longest attribute value we look at (transaction IDs are ~64 chars). */
#define ATTR_MAX 256

static void
set_ossl_error (GError **error, KprError code, const char *what)
{
  /* The person gets what happened; OpenSSL's text stays out of it. */
  ERR_clear_error ();
  g_set_error_literal (error, KPR_ERROR, code, what);
}

KprScepCaps
kpr_scep_caps_parse (const guint8 *text, gsize len)
{
  static const struct {
    const char *word;
    KprScepCaps cap;
  } words[] = {
    { "AES", KPR_SCEP_CAP_AES },           { "DES3", KPR_SCEP_CAP_DES3 },
    { "SHA-1", KPR_SCEP_CAP_SHA1 },        { "SHA-256", KPR_SCEP_CAP_SHA256 },
    { "SHA-512", KPR_SCEP_CAP_SHA512 },    { "POSTPKIOperation", KPR_SCEP_CAP_POST },
    { "Renewal", KPR_SCEP_CAP_RENEWAL },   { "SCEPStandard", KPR_SCEP_CAP_STANDARD },
    { "GetNextCACert", KPR_SCEP_CAP_NEXT_CA },
  };
  g_autofree char *copy = NULL;
  g_auto (GStrv) lines = NULL;
  KprScepCaps caps = 0;

  if (!text || len == 0 || len > 4096)
    return 0;
  copy = g_strndup ((const char *) text, len);
  lines = g_strsplit_set (copy, "\r\n", -1);
  for (char **l = lines; *l; l++)
    for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
      if (g_ascii_strcasecmp (g_strstrip (*l), words[i].word) == 0)
        caps |= words[i].cap;
  /* SCEPStandard promises AES, SHA-256 and POST (RFC 8894 §3.5.2). */
  if (caps & KPR_SCEP_CAP_STANDARD)
    caps |= KPR_SCEP_CAP_AES | KPR_SCEP_CAP_SHA256 | KPR_SCEP_CAP_POST;
  return caps;
}

char *
kpr_scep_caps_to_string (KprScepCaps caps)
{
  static const char *const names[] = { "AES",  "DES3", "SHA-1",   "SHA-256",      "SHA-512",
                                       "POST", "Renewal", "SCEPStandard", "GetNextCACert" };
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (caps & (1 << i))
      g_string_append_printf (s, "%s%s", s->len ? " " : "", names[i]);
  return g_string_free (s, FALSE);
}

static KprX509Stack *
one_cert (const guint8 *body, gsize len)
{
  const unsigned char *p = body;
  X509 *cert = d2i_X509 (NULL, &p, (long) len);
  KprX509Stack *certs;

  if (!cert || (gsize) (p - body) != len)
    {
      X509_free (cert);
      ERR_clear_error ();
      return NULL;
    }
  certs = sk_X509_new_null ();
  if (!certs || !sk_X509_push (certs, cert))
    {
      X509_free (cert);
      kpr_x509_stack_free (certs);
      return NULL;
    }
  return certs;
}

KprX509Stack *
kpr_scep_ca_certs_parse (const char *media_type, const guint8 *body, gsize len, GError **error)
{
  gboolean single = g_strcmp0 (media_type, "application/x-x509-ca-cert") == 0;
  gboolean chain = g_strcmp0 (media_type, "application/x-x509-ca-ra-cert") == 0;
  KprX509Stack *certs = NULL;

  if (len == 0 || len > KPR_SCEP_BODY_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The SCEP server's CA certificate answer has an impossible size "
                   "(%" G_GSIZE_FORMAT " bytes)", len);
      return NULL;
    }
  if (!chain && (certs = one_cert (body, len)))
    return certs;
  if (!single)
    return kpr_est_certs_only_parse (body, len, error);
  g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
               "The SCEP server's CA certificate is not a DER certificate");
  return NULL;
}

X509 *
kpr_scep_self_signed (EVP_PKEY *key, const X509_NAME *subject, const EVP_MD *md, GError **error)
{
  g_autoptr (X509) cert = X509_new ();
  g_autoptr (BIGNUM) bn = BN_new ();
  ASN1_INTEGER *serial = NULL;
  gboolean ok;

  /* A random positive 64-bit serial: the CA may index the request by the
   * signer's issuer and serial. */
  ok = cert && bn && BN_rand (bn, 64, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY)
       && (serial = BN_to_ASN1_INTEGER (bn, NULL)) && X509_set_version (cert, X509_VERSION_3)
       && X509_set_serialNumber (cert, serial) && X509_set_subject_name (cert, subject)
       && X509_set_issuer_name (cert, subject)
       && X509_gmtime_adj (X509_getm_notBefore (cert), -300)
       && X509_gmtime_adj (X509_getm_notAfter (cert), 7 * 24 * 3600)
       && X509_set_pubkey (cert, key);
  ASN1_INTEGER_free (serial);
  if (!ok)
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot build the SCEP signer certificate");
      return NULL;
    }
  if (X509_sign (cert, key, md) <= 0)
    {
      set_ossl_error (error, KPR_ERROR_TOKEN, "The key could not sign the SCEP signer certificate");
      return NULL;
    }
  return g_steal_pointer (&cert);
}

GBytes *
kpr_scep_issuer_and_subject (const X509_NAME *issuer, const X509_NAME *subject, GError **error)
{
  int li = i2d_X509_NAME (issuer, NULL), ls = i2d_X509_NAME (subject, NULL);
  unsigned char *der, *p;
  int total;

  if (li <= 0 || ls <= 0)
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot encode the names of a SCEP poll");
      return NULL;
    }
  /* SEQUENCE { issuer Name, subject Name } */
  total = ASN1_object_size (1, li + ls, V_ASN1_SEQUENCE);
  der = p = g_malloc (total);
  ASN1_put_object (&p, 1, li + ls, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
  i2d_X509_NAME (issuer, &p);
  i2d_X509_NAME (subject, &p);
  return g_bytes_new_take (der, total);
}

static gboolean
add_attr (CMS_SignerInfo *si, const char *oid, int type, const void *data, int len)
{
  g_autoptr (ASN1_OBJECT) obj = OBJ_txt2obj (oid, 1);

  return obj && CMS_signed_add1_attr_by_OBJ (si, obj, type, data, len) == 1;
}

static GBytes *
cms_to_bytes (CMS_ContentInfo *cms)
{
  unsigned char *der = NULL;
  int len = i2d_CMS_ContentInfo (cms, &der);
  GBytes *out;

  if (len <= 0)
    return NULL;
  out = g_bytes_new (der, len);
  OPENSSL_free (der);
  return out;
}

GBytes *
kpr_scep_request_build (const KprScepBuild *b, GError **error)
{
  g_autoptr (BIO) in = BIO_new_mem_buf (b->content, (int) b->content_len);
  g_autoptr (KprX509Stack) recipients = sk_X509_new_null ();
  g_autoptr (CMS_ContentInfo) env = NULL;
  g_autoptr (CMS_ContentInfo) cms = NULL;
  g_autoptr (GBytes) env_der = NULL;
  g_autoptr (BIO) env_bio = NULL;
  g_autofree char *type = g_strdup_printf ("%d", (int) b->type);
  CMS_SignerInfo *si;
  GBytes *out;

  if (!in || !recipients || !X509_up_ref (b->recipient)
      || !sk_X509_push (recipients, b->recipient))
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Out of memory");
      return NULL;
    }
  /* pkcsPKIEnvelope: the request, readable only by the RA/CA. */
  env = CMS_encrypt (recipients, in, b->cipher, CMS_BINARY);
  if (!env || !(env_der = cms_to_bytes (env)))
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL,
                      "Cannot encrypt the SCEP request to the CA's certificate");
      return NULL;
    }
  cms = CMS_sign (NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP);
  si = cms ? CMS_add1_signer (cms, b->signer, b->signer_key, b->md,
                              CMS_BINARY | CMS_NOSMIMECAP)
           : NULL;
  if (!si || !add_attr (si, KPR_SCEP_OID_TRANSACTION_ID, V_ASN1_PRINTABLESTRING, b->transaction_id,
                        (int) strlen (b->transaction_id))
      || !add_attr (si, KPR_SCEP_OID_MESSAGE_TYPE, V_ASN1_PRINTABLESTRING, type, (int) strlen (type))
      || !add_attr (si, KPR_SCEP_OID_SENDER_NONCE, V_ASN1_OCTET_STRING, b->nonce, KPR_SCEP_NONCE_LEN))
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot build the SCEP request");
      return NULL;
    }
  env_bio = BIO_new_mem_buf (g_bytes_get_data (env_der, NULL), (int) g_bytes_get_size (env_der));
  if (!env_bio || CMS_final (cms, env_bio, NULL, CMS_BINARY) != 1)
    {
      set_ossl_error (error, KPR_ERROR_TOKEN, "The key could not sign the SCEP request");
      return NULL;
    }
  if (!(out = cms_to_bytes (cms)))
    set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot encode the SCEP request");
  return out;
}

void
kpr_scep_reply_free (KprScepReply *reply)
{
  if (!reply)
    return;
  g_clear_pointer (&reply->envelope, g_bytes_unref);
  g_free (reply);
}

/* The single value of signed attribute @oid, if it has one of @types.
 * Returns FALSE when absent, repeated, multi-valued or mistyped. */
static gboolean
attr_value (CMS_SignerInfo *si, const char *oid, const int *types, const guint8 **ret_data,
            gsize *ret_len)
{
  g_autoptr (ASN1_OBJECT) obj = OBJ_txt2obj (oid, 1);
  X509_ATTRIBUTE *attr;
  ASN1_TYPE *t;
  int idx;

  if (!obj || (idx = CMS_signed_get_attr_by_OBJ (si, obj, -1)) < 0
      || CMS_signed_get_attr_by_OBJ (si, obj, idx) >= 0)
    return FALSE;
  attr = CMS_signed_get_attr (si, idx);
  if (X509_ATTRIBUTE_count (attr) != 1 || !(t = X509_ATTRIBUTE_get0_type (attr, 0)))
    return FALSE;
  for (; *types; types++)
    if (t->type == *types)
      {
        const ASN1_STRING *s = t->value.asn1_string;

        if (ASN1_STRING_length (s) < 0 || ASN1_STRING_length (s) > ATTR_MAX)
          return FALSE;
        *ret_data = ASN1_STRING_get0_data (s);
        *ret_len = (gsize) ASN1_STRING_length (s);
        return TRUE;
      }
  return FALSE;
}

static const int string_types[] = { V_ASN1_PRINTABLESTRING, V_ASN1_UTF8STRING, V_ASN1_IA5STRING,
                                     0 };
static const int octet_types[] = { V_ASN1_OCTET_STRING, 0 };

/* A small decimal attribute ("3", "0"…) as an int, -1 if absent/odd. */
static int
attr_number (CMS_SignerInfo *si, const char *oid)
{
  const guint8 *d;
  gsize n;
  int v = 0;

  if (!attr_value (si, oid, string_types, &d, &n) || n == 0 || n > 3)
    return -1;
  for (gsize i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (d[i]))
        return -1;
      v = v * 10 + (d[i] - '0');
    }
  return v;
}

static gboolean
verify_signature (CMS_ContentInfo *cms, KprX509Stack *signers, GBytes **ret_content,
                  GError **error)
{
  g_autoptr (BIO) out = BIO_new (BIO_s_mem ());
  g_autoptr (BIO) empty = NULL;
  ASN1_OCTET_STRING **pos = CMS_get0_content (cms);
  char *data = NULL;
  long n;

  /* FAILURE and PENDING may carry no content at all (§3.3.2). */
  if (!pos || !*pos)
    empty = BIO_new_mem_buf ("", 0);
  if (!out || CMS_verify (cms, signers, NULL, empty, out,
                          CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
    {
      set_ossl_error (error, KPR_ERROR_UNTRUSTED,
                      "The SCEP answer is not signed by the CA or its registration authority; "
                      "nothing was accepted from it");
      return FALSE;
    }
  n = BIO_get_mem_data (out, &data);
  *ret_content = g_bytes_new (data, n > 0 ? (gsize) n : 0);
  return TRUE;
}

KprScepReply *
kpr_scep_reply_parse (const guint8 *der, gsize len, KprX509Stack *signers,
                      const char *transaction_id, const guint8 *nonce, GError **error)
{
  g_autoptr (CMS_ContentInfo) cms = NULL;
  g_autoptr (KprScepReply) reply = g_new0 (KprScepReply, 1);
  g_autoptr (GBytes) content = NULL;
  STACK_OF (CMS_SignerInfo) *sis;
  CMS_SignerInfo *si;
  const unsigned char *p = der;
  const guint8 *d;
  gsize n;
  int v;

  if (len == 0 || len > KPR_SCEP_BODY_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The SCEP answer has an impossible size (%" G_GSIZE_FORMAT " bytes)", len);
      return NULL;
    }
  cms = d2i_CMS_ContentInfo (NULL, &p, (long) len);
  if (!cms || (gsize) (p - der) != len || OBJ_obj2nid (CMS_get0_type (cms)) != NID_pkcs7_signed
      || OBJ_obj2nid (CMS_get0_eContentType (cms)) != NID_pkcs7_data
      || !(sis = CMS_get0_SignerInfos (cms)) || sk_CMS_SignerInfo_num (sis) != 1)
    {
      set_ossl_error (error, KPR_ERROR_PROTOCOL,
                      "The SCEP server's answer is not a signed SCEP message");
      return NULL;
    }
  if (!verify_signature (cms, signers, &content, error))
    return NULL;
  si = sk_CMS_SignerInfo_value (sis, 0);
  if (attr_number (si, KPR_SCEP_OID_MESSAGE_TYPE) != KPR_SCEP_MSG_CERT_REP)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The SCEP server's answer is not a certificate response");
      return NULL;
    }
  if (!attr_value (si, KPR_SCEP_OID_TRANSACTION_ID, string_types, &d, &n)
      || n != strlen (transaction_id) || memcmp (d, transaction_id, n) != 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The SCEP server answered another transaction than ours");
      return NULL;
    }
  if (!attr_value (si, KPR_SCEP_OID_RECIPIENT_NONCE, octet_types, &d, &n) || n != KPR_SCEP_NONCE_LEN
      || memcmp (d, nonce, n) != 0)
    {
      /* An old answer replayed, or one meant for another request. */
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The SCEP server's answer does not echo our request's nonce");
      return NULL;
    }
  v = attr_number (si, KPR_SCEP_OID_PKI_STATUS);
  if (v != KPR_SCEP_STATUS_SUCCESS && v != KPR_SCEP_STATUS_FAILURE
      && v != KPR_SCEP_STATUS_PENDING)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The SCEP server's answer has no valid status");
      return NULL;
    }
  reply->status = v;
  reply->fail_info = v == KPR_SCEP_STATUS_FAILURE ? attr_number (si, KPR_SCEP_OID_FAIL_INFO) : -1;
  if (v == KPR_SCEP_STATUS_SUCCESS)
    {
      if (g_bytes_get_size (content) == 0)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                       "The SCEP server reported success but sent no certificate");
          return NULL;
        }
      reply->envelope = g_steal_pointer (&content);
    }
  return g_steal_pointer (&reply);
}

/* DES-CBC lives in OpenSSL 3's legacy provider: loaded into a context of
 * its own, so the rest of the process never sees it. */
static gpointer
make_legacy_ctx (gpointer data)
{
  OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new ();

  if (ctx && (!OSSL_PROVIDER_load (ctx, "default") || !OSSL_PROVIDER_load (ctx, "legacy")))
    {
      OSSL_LIB_CTX_free (ctx);
      ctx = NULL;
    }
  ERR_clear_error ();
  return ctx;
}

static const char *
envelope_cipher (const guint8 *der, gsize len, int *ret_nid)
{
  g_autoptr (PKCS7) p7 = NULL;
  const unsigned char *p = der;
  int nid;

  p7 = d2i_PKCS7 (NULL, &p, (long) len);
  if (!p7 || (gsize) (p - der) != len || !PKCS7_type_is_enveloped (p7) || !p7->d.enveloped
      || !p7->d.enveloped->enc_data || !p7->d.enveloped->enc_data->algorithm)
    return NULL;
  nid = OBJ_obj2nid (p7->d.enveloped->enc_data->algorithm->algorithm);
  *ret_nid = nid;
  switch (nid)
    {
    case NID_aes_128_cbc:
      return "AES-128-CBC";
    case NID_aes_192_cbc:
      return "AES-192-CBC";
    case NID_aes_256_cbc:
      return "AES-256-CBC";
    case NID_des_ede3_cbc:
      return "DES-EDE3-CBC";
    case NID_des_cbc:
      return "DES-CBC";
    default:
      return "";
    }
}

KprX509Stack *
kpr_scep_envelope_open (GBytes *envelope, EVP_PKEY *key, X509 *cert, const char **ret_cipher,
                        GError **error)
{
  static GOnce legacy_once = G_ONCE_INIT;
  gsize len;
  const guint8 *der = g_bytes_get_data (envelope, &len);
  g_autoptr (CMS_ContentInfo) cms = NULL;
  g_autoptr (BIO) in = NULL;
  g_autoptr (BIO) out = BIO_new (BIO_s_mem ());
  STACK_OF (CMS_RecipientInfo) *ris;
  OSSL_LIB_CTX *libctx = NULL;
  gboolean ours = FALSE;
  const char *cipher;
  char *data = NULL;
  long n;
  int nid = NID_undef;

  cipher = envelope_cipher (der, len, &nid);
  if (!cipher)
    {
      set_ossl_error (error, KPR_ERROR_PROTOCOL,
                      "The SCEP server's certificate is not in an encrypted envelope");
      return NULL;
    }
  if (!cipher[0])
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "The SCEP server encrypted its answer with an unknown cipher");
      return NULL;
    }
  if (nid == NID_des_cbc && !(libctx = g_once (&legacy_once, make_legacy_ctx, NULL)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "The SCEP server encrypted its answer with single DES, which this system's "
                   "OpenSSL cannot read (its legacy provider is missing)");
      return NULL;
    }
  cms = CMS_ContentInfo_new_ex (libctx, NULL);
  in = BIO_new_mem_buf (der, (int) len);
  if (!cms || !in || !out || !d2i_CMS_bio (in, &cms))
    {
      set_ossl_error (error, KPR_ERROR_PROTOCOL, "The SCEP server's envelope cannot be read");
      return NULL;
    }
  ris = CMS_get0_RecipientInfos (cms);
  for (int i = 0; ris && i < sk_CMS_RecipientInfo_num (ris); i++)
    {
      CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value (ris, i);

      if (CMS_RecipientInfo_type (ri) == CMS_RECIPINFO_TRANS
          && CMS_RecipientInfo_ktri_cert_cmp (ri, cert) == 0)
        ours = TRUE;
    }
  if (!ours)
    {
      set_ossl_error (error, KPR_ERROR_PROTOCOL,
                      "The SCEP server's answer is not encrypted for our request");
      return NULL;
    }
  /* CMS_DEBUG_DECRYPT: report a failed key decryption instead of going
   * on with a random key (OpenSSL's defence for servers that decrypt
   * whatever they are sent, against Bleichenbacher's attack).  Here the
   * envelope's signature by the RA was verified first, so no one else can
   * feed us envelopes to learn from our errors, and a person gets "this
   * key cannot decrypt" instead of a random garbage error. */
  if (CMS_decrypt (cms, key, cert, NULL, out, CMS_BINARY | CMS_DEBUG_DECRYPT) != 1)
    {
      set_ossl_error (error, KPR_ERROR_TOKEN,
                      "The key could not decrypt the SCEP server's answer (a key on a token "
                      "must be allowed to decrypt for SCEP)");
      return NULL;
    }
  if (ret_cipher)
    *ret_cipher = cipher;
  n = BIO_get_mem_data (out, &data);
  return kpr_est_certs_only_parse ((const guint8 *) data, n > 0 ? (gsize) n : 0, error);
}

const char *
kpr_scep_fail_info_name (int fail_info)
{
  static const char *const names[] = { "badAlg", "badMessageCheck", "badRequest", "badTime",
                                       "badCertId" };

  return fail_info >= 0 && fail_info < (int) G_N_ELEMENTS (names) ? names[fail_info]
                                                                   : "unknown";
}

char *
kpr_scep_transaction_id (EVP_PKEY *key, GError **error)
{
  unsigned char *der = NULL;
  guint8 md[32];
  int len = i2d_PUBKEY (key, &der);
  GString *s;

  if (len <= 0 || !EVP_Digest (der, len, md, NULL, EVP_sha256 (), NULL))
    {
      OPENSSL_free (der);
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot read the public key");
      return NULL;
    }
  OPENSSL_free (der);
  s = g_string_new (NULL);
  kpr_hex_append (s, md, sizeof md, "", TRUE);
  return g_string_free (s, FALSE);
}
