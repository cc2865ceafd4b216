/* scep-fake.c — see scep-fake.h */
#include "config.h"

#include "scep-fake.h"
#include "kpr-scep-private.h"

#include <string.h>

#include <openssl/cms.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>

static void
seen_free (gpointer p)
{
  FakeSeen *s = p;

  g_free (s->tid);
  g_free (s->method);
  g_free (s->cipher);
  g_free (s->digest);
  g_free (s->challenge);
  X509_free (s->signer);
  g_free (s);
}

FakeScep *
fake_scep_new (gboolean ndes)
{
  FakeScep *f = g_new0 (FakeScep, 1);

  f->ndes = ndes;
  f->caps = "AES\nSHA-256\nPOSTPKIOperation\nRenewal\n";
  f->ca_key = kpr_test_key_rsa ();
  f->ca = pf_cert (f->ca_key, "Fake SCEP CA", NULL, NULL, TRUE, "critical,keyCertSign,cRLSign");
  if (ndes)
    {
      /* As NDES publishes them: one RA certificate to verify its
       * signatures, another to encrypt requests to. */
      f->ra_sign_key = kpr_test_key_rsa ();
      f->ra_sign = pf_cert (f->ra_sign_key, "Fake NDES RA", f->ca, f->ca_key, FALSE,
                            "critical,digitalSignature");
      f->ra_enc_key = kpr_test_key_rsa ();
      f->ra_enc = pf_cert (f->ra_enc_key, "Fake NDES RA", f->ca, f->ca_key, FALSE,
                           "critical,keyEncipherment");
    }
  f->rogue_key = kpr_test_key_rsa ();
  /* The signer's name without its key. */
  f->rogue = pf_cert (f->rogue_key, ndes ? "Fake NDES RA" : "Fake SCEP CA", NULL, NULL, TRUE,
                      NULL);
  f->seen = g_ptr_array_new_with_free_func (seen_free);
  g_mutex_init (&f->lock);
  return f;
}

void
fake_scep_free (FakeScep *f)
{
  if (!f)
    return;
  EVP_PKEY_free (f->ca_key);
  EVP_PKEY_free (f->ra_sign_key);
  EVP_PKEY_free (f->ra_enc_key);
  EVP_PKEY_free (f->rogue_key);
  X509_free (f->ca);
  X509_free (f->ra_sign);
  X509_free (f->ra_enc);
  X509_free (f->rogue);
  X509_REQ_free (f->pending_csr);
  g_ptr_array_unref (f->seen);
  g_mutex_clear (&f->lock);
  g_free (f);
}

FakeSeen *
fake_scep_seen (FakeScep *f, guint i)
{
  FakeSeen *s;

  g_mutex_lock (&f->lock);
  s = i < f->seen->len ? g_ptr_array_index (f->seen, i) : NULL;
  g_mutex_unlock (&f->lock);
  return s;
}

guint
fake_scep_count (FakeScep *f)
{
  guint n;

  g_mutex_lock (&f->lock);
  n = f->seen->len;
  g_mutex_unlock (&f->lock);
  return n;
}

static GBytes *
der_of_p7 (PKCS7 *p7)
{
  unsigned char *der = NULL;
  int len = i2d_PKCS7 (p7, &der);
  GBytes *out;

  g_assert_cmpint (len, >, 0);
  out = g_bytes_new (der, len);
  OPENSSL_free (der);
  return out;
}

static GBytes *
degenerate (X509 *a, X509 *b, X509 *c)
{
  PKCS7 *p7 = PKCS7_new ();
  GBytes *out;

  g_assert_true (PKCS7_set_type (p7, NID_pkcs7_signed));
  g_assert_true (PKCS7_content_new (p7, NID_pkcs7_data));
  PKCS7_add_certificate (p7, a);
  if (b)
    PKCS7_add_certificate (p7, b);
  if (c)
    PKCS7_add_certificate (p7, c);
  out = der_of_p7 (p7);
  PKCS7_free (p7);
  return out;
}

/* The value of signed attribute @oid as text (or raw bytes). */
static char *
attr (CMS_SignerInfo *si, const char *oid, gsize *ret_len)
{
  ASN1_OBJECT *obj = OBJ_txt2obj (oid, 1);
  int idx = CMS_signed_get_attr_by_OBJ (si, obj, -1);
  ASN1_TYPE *t = idx >= 0 ? X509_ATTRIBUTE_get0_type (CMS_signed_get_attr (si, idx), 0) : NULL;
  char *out = NULL;

  ASN1_OBJECT_free (obj);
  if (t && t->value.asn1_string)
    {
      const ASN1_STRING *s = t->value.asn1_string;

      /* Bytes, not a C string: a nonce may hold NULs. */
      out = g_malloc0 ((gsize) ASN1_STRING_length (s) + 1);
      memcpy (out, ASN1_STRING_get0_data (s), (gsize) ASN1_STRING_length (s));
      if (ret_len)
        *ret_len = (gsize) ASN1_STRING_length (s);
    }
  return out;
}

static void
add_attr (CMS_SignerInfo *si, const char *oid, int type, const void *data, int len)
{
  ASN1_OBJECT *obj = OBJ_txt2obj (oid, 1);

  g_assert_cmpint (CMS_signed_add1_attr_by_OBJ (si, obj, type, data, len), ==, 1);
  ASN1_OBJECT_free (obj);
}

static X509 *
issue (X509_REQ *csr, X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *other_key)
{
  X509 *cert = X509_new ();
  EVP_PKEY *pub = X509_REQ_get0_pubkey (csr);

  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set_int64 (X509_get_serialNumber (cert), g_random_int_range (1000, G_MAXINT));
  X509_set_subject_name (cert, X509_REQ_get_subject_name (csr));
  X509_set_issuer_name (cert, X509_get_subject_name (ca));
  X509_gmtime_adj (X509_getm_notBefore (cert), -600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 30 * 24 * 3600);
  X509_set_pubkey (cert, other_key ? other_key : pub);
  g_assert_cmpint (X509_sign (cert, ca_key, EVP_sha256 ()), >, 0);
  return cert;
}

typedef struct {
  char *tid;
  guint8 nonce[16];
  X509 *signer;
  X509_REQ *csr;
} Request;

static GBytes *
certrep (FakeScep *f, const Request *rq, int status, X509 *issued, X509 *issuer)
{
  gboolean rogue = f->mode == FAKE_WRONG_SIGNER;
  X509 *scert = rogue ? f->rogue : f->ndes ? f->ra_sign : f->ca;
  EVP_PKEY *skey = rogue ? f->rogue_key : f->ndes ? f->ra_sign_key : f->ca_key;
  unsigned int flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP;
  g_autofree char *st = g_strdup_printf ("%d", status);
  guint8 sender_nonce[16], other_nonce[16];
  GBytes *env_der = NULL, *out;
  CMS_ContentInfo *cms;
  CMS_SignerInfo *si;
  BIO *in;

  RAND_bytes (sender_nonce, sizeof sender_nonce);
  RAND_bytes (other_nonce, sizeof other_nonce);
  if (issued)
    {
      g_autoptr (GBytes) deg = degenerate (issued, issuer, NULL);
      STACK_OF (X509) *to = sk_X509_new_null ();
      BIO *d = BIO_new_mem_buf (g_bytes_get_data (deg, NULL), (int) g_bytes_get_size (deg));
      CMS_ContentInfo *env;
      unsigned char *der = NULL;
      int len;

      /* To the requester's signer certificate, as RFC 8894 says; NDES
       * answers in DES3. */
      sk_X509_push (to, rq->signer);
      env = CMS_encrypt (to, d, f->ndes ? EVP_des_ede3_cbc () : EVP_aes_256_cbc (), CMS_BINARY);
      g_assert_nonnull (env);
      len = i2d_CMS_ContentInfo (env, &der);
      env_der = g_bytes_new (der, len);
      OPENSSL_free (der);
      CMS_ContentInfo_free (env);
      BIO_free (d);
      sk_X509_free (to);
      in = BIO_new_mem_buf (g_bytes_get_data (env_der, NULL), (int) g_bytes_get_size (env_der));
    }
  else
    {
      /* PENDING and FAILURE carry no content (§3.3.2). */
      flags |= CMS_DETACHED;
      in = BIO_new_mem_buf ("", 0);
    }
  cms = CMS_sign (NULL, NULL, NULL, NULL, flags);
  si = CMS_add1_signer (cms, scert, skey, f->ndes ? EVP_sha1 () : EVP_sha256 (), flags);
  g_assert_nonnull (si);
  add_attr (si, KPR_SCEP_OID_TRANSACTION_ID, V_ASN1_PRINTABLESTRING, rq->tid, (int) strlen (rq->tid));
  add_attr (si, KPR_SCEP_OID_MESSAGE_TYPE, V_ASN1_PRINTABLESTRING, "3", 1);
  add_attr (si, KPR_SCEP_OID_PKI_STATUS, V_ASN1_PRINTABLESTRING, st, (int) strlen (st));
  if (status == 2)
    add_attr (si, KPR_SCEP_OID_FAIL_INFO, V_ASN1_PRINTABLESTRING, "2", 1);
  add_attr (si, KPR_SCEP_OID_SENDER_NONCE, V_ASN1_OCTET_STRING, sender_nonce, 16);
  add_attr (si, KPR_SCEP_OID_RECIPIENT_NONCE, V_ASN1_OCTET_STRING,
            f->mode == FAKE_WRONG_NONCE ? other_nonce : rq->nonce, 16);
  g_assert_cmpint (CMS_final (cms, in, NULL, flags), ==, 1);
  {
    unsigned char *der = NULL;
    int len = i2d_CMS_ContentInfo (cms, &der);

    out = g_bytes_new (der, len);
    OPENSSL_free (der);
  }
  CMS_ContentInfo_free (cms);
  BIO_free (in);
  if (env_der)
    g_bytes_unref (env_der);
  return out;
}

/* Reads the request the way a CA does; records it in f->seen.  FALSE
 * when it cannot be read at all. */
static gboolean
read_request (FakeScep *f, const char *method, GBytes *msg, Request *rq)
{
  FakeSeen *seen = g_new0 (FakeSeen, 1);
  const unsigned char *p = g_bytes_get_data (msg, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (msg));
  BIO *out = BIO_new (BIO_s_mem ());
  CMS_SignerInfo *si;
  X509_ALGOR *dig = NULL;
  X509 *signer = NULL;
  char *data = NULL;
  long n;
  gsize nonce_len = 0;
  g_autofree char *nonce = NULL, *type = NULL;

  seen->method = g_strdup (method);
  if (!cms || CMS_verify (cms, NULL, NULL, NULL, out, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
    goto out;
  si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  CMS_SignerInfo_get0_algs (si, NULL, &signer, &dig, NULL);
  seen->signer = X509_dup (signer);
  seen->digest = g_strdup (OBJ_nid2sn (OBJ_obj2nid (dig->algorithm)));
  seen->tid = attr (si, KPR_SCEP_OID_TRANSACTION_ID, NULL);
  type = attr (si, KPR_SCEP_OID_MESSAGE_TYPE, NULL);
  seen->type = type ? atoi (type) : -1;
  nonce = attr (si, KPR_SCEP_OID_SENDER_NONCE, &nonce_len);
  if (nonce && nonce_len == 16)
    memcpy (rq->nonce, nonce, 16);
  rq->tid = g_strdup (seen->tid);
  rq->signer = seen->signer;
  n = BIO_get_mem_data (out, &data);
  {
    /* The envelope: which cipher, and does it open with the key the
     * client was meant to encrypt to (the RA encryption certificate)? */
    const unsigned char *q = (const unsigned char *) data;
    PKCS7 *p7 = d2i_PKCS7 (NULL, &q, n);
    CMS_ContentInfo *env;
    BIO *env_in = BIO_new_mem_buf (data, (int) n), *plain = BIO_new (BIO_s_mem ());

    if (p7 && PKCS7_type_is_enveloped (p7))
      seen->cipher = g_strdup (
        OBJ_nid2sn (OBJ_obj2nid (p7->d.enveloped->enc_data->algorithm->algorithm)));
    PKCS7_free (p7);
    env = d2i_CMS_bio (env_in, NULL);
    seen->opened = env && CMS_decrypt (env, f->ndes ? f->ra_enc_key : f->ca_key,
                                       f->ndes ? f->ra_enc : f->ca, NULL, plain, CMS_BINARY)
                            == 1;
    if (seen->opened && (seen->type == 19 || seen->type == 17))
      {
        char *pd = NULL;
        long pn = BIO_get_mem_data (plain, &pd);
        const unsigned char *r = (const unsigned char *) pd;

        rq->csr = d2i_X509_REQ (NULL, &r, pn);
        if (rq->csr)
          {
            int idx = X509_REQ_get_attr_by_NID (rq->csr, NID_pkcs9_challengePassword, -1);
            ASN1_TYPE *t = idx >= 0 ? X509_ATTRIBUTE_get0_type (X509_REQ_get_attr (rq->csr, idx), 0)
                                    : NULL;

            if (t)
              seen->challenge = g_strndup ((const char *) t->value.asn1_string->data,
                                           t->value.asn1_string->length);
          }
      }
    CMS_ContentInfo_free (env);
    BIO_free (env_in);
    BIO_free (plain);
  }
out:
  CMS_ContentInfo_free (cms);
  BIO_free (out);
  g_mutex_lock (&f->lock);
  g_ptr_array_add (f->seen, seen);
  g_mutex_unlock (&f->lock);
  return seen->opened;
}

static RespAnswer
pki_operation (FakeScep *f, const char *method, GBytes *msg)
{
  RespAnswer a = { 200, "application/x-pki-message", NULL };
  Request rq = { 0 };
  g_autoptr (X509) issued = NULL;
  X509 *issuer = f->ca;
  int status = 0;

  if (f->mode == FAKE_GARBAGE)
    {
      a.body = g_bytes_new_static ("\x30\x80this is not a pkiMessage", 27);
      return a;
    }
  if (f->mode == FAKE_HUGE)
    {
      a.body = g_bytes_new_take (g_malloc0 (KPR_SCEP_BODY_MAX + 10), KPR_SCEP_BODY_MAX + 10);
      return a;
    }
  if (!read_request (f, method, msg, &rq))
    {
      a.status = 500;
      a.body = g_bytes_new_static ("cannot read the request", 23);
      goto out;
    }
  if (f->mode == FAKE_PENDING)
    {
      if (rq.csr)
        {
          g_clear_pointer (&f->pending_csr, X509_REQ_free);
          f->pending_csr = X509_REQ_dup (rq.csr);
        }
      if (!f->approved || !f->pending_csr)
        status = 3;
      else
        issued = issue (f->pending_csr, f->ca, f->ca_key, NULL);
    }
  else if (f->mode == FAKE_FAIL)
    status = 2;
  else if (f->mode == FAKE_OTHER_KEY)
    issued = issue (rq.csr, f->ca, f->ca_key, f->rogue_key);
  else if (f->mode == FAKE_OTHER_CA)
    issued = issue (rq.csr, issuer = f->rogue, f->rogue_key, NULL);
  else
    issued = issue (rq.csr, f->ca, f->ca_key, NULL);
  a.body = certrep (f, &rq, status, issued, issuer);
out:
  g_free (rq.tid);
  X509_REQ_free (rq.csr);
  return a;
}

static char *
query_param (const char *target, const char *name)
{
  const char *q = strchr (target, '?');
  g_auto (GStrv) pairs = q ? g_strsplit (q + 1, "&", -1) : NULL;

  for (char **p = pairs; p && *p; p++)
    {
      const char *eq = strchr (*p, '=');

      if (eq && (gsize) (eq - *p) == strlen (name) && strncmp (*p, name, eq - *p) == 0)
        return g_uri_unescape_string (eq + 1, NULL);
    }
  return NULL;
}

RespAnswer
fake_scep_handle (const char *method, const char *target, GBytes *body, gpointer user_data)
{
  FakeScep *f = user_data;
  g_autofree char *op = query_param (target, "operation");
  RespAnswer a = { 404, "text/plain", g_bytes_new_static ("not here", 8) };

  if (g_strcmp0 (op, "GetCACaps") == 0 && f->caps)
    {
      g_bytes_unref (a.body);
      a = (RespAnswer) { 200, "text/plain", g_bytes_new_static (f->caps, strlen (f->caps)) };
    }
  else if (g_strcmp0 (op, "GetCACert") == 0)
    {
      g_bytes_unref (a.body);
      a.status = 200;
      if (f->ndes)
        {
          a.content_type = "application/x-x509-ca-ra-cert";
          a.body = degenerate (f->ra_sign, f->ra_enc, f->ca);
        }
      else
        {
          unsigned char *der = NULL;
          int len = i2d_X509 (f->ca, &der);

          a.content_type = "application/x-x509-ca-cert";
          a.body = g_bytes_new (der, len);
          OPENSSL_free (der);
        }
    }
  else if (g_strcmp0 (op, "PKIOperation") == 0)
    {
      g_autofree char *m = NULL;
      g_autoptr (GBytes) msg = NULL;

      g_bytes_unref (a.body);
      if (g_str_equal (method, "POST"))
        msg = g_bytes_ref (body);
      else if ((m = query_param (target, "message")))
        {
          gsize len = 0;
          guchar *der = g_base64_decode (m, &len);

          msg = g_bytes_new_take (der, len);
        }
      else
        msg = g_bytes_new (NULL, 0);
      a = pki_operation (f, method, msg);
    }
  return a;
}
