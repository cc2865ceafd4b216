/* kpr-csr.c — the PKCS#10 request as the server reads it (hostile input,
 * fuzzed in tests/fuzz/server/fuzz-server-csr.c).
 *
 * d2i_X509_REQ decodes the request's public key through OpenSSL 3's
 * decoder framework, whose set-up alone cost ~160 µs per request here —
 * more than the request's signature check (bench/RESULTS.md).  So the
 * request is parsed with templates of our own that keep the
 * SubjectPublicKeyInfo as its two parts, and the key is built from them
 * (EVP_PKEY_fromdata: named EC curves, RSA); anything else goes through
 * the generic decoder.  The signature is checked over the request info's
 * bytes as they came (proof of possession).
 */
#include "config.h"

#include "kpr-server-private.h"

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

/* The shapes of RFC 2986 and RFC 5280 §4.1 (SubjectPublicKeyInfo). */
typedef struct {
  X509_ALGOR *algor;
  ASN1_BIT_STRING *public_key;
} KPR_SPKI;

ASN1_SEQUENCE (KPR_SPKI) = {
  ASN1_SIMPLE (KPR_SPKI, algor, X509_ALGOR),
  ASN1_SIMPLE (KPR_SPKI, public_key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END (KPR_SPKI)

typedef struct {
  ASN1_ENCODING enc; /* the bytes the signature covers */
  ASN1_INTEGER *version;
  X509_NAME *subject;
  KPR_SPKI *spki;
  STACK_OF (X509_ATTRIBUTE) *attributes;
} KPR_REQ_INFO;

ASN1_SEQUENCE_enc (KPR_REQ_INFO, enc, NULL) = {
  ASN1_SIMPLE (KPR_REQ_INFO, version, ASN1_INTEGER),
  ASN1_SIMPLE (KPR_REQ_INFO, subject, X509_NAME),
  ASN1_SIMPLE (KPR_REQ_INFO, spki, KPR_SPKI),
  ASN1_IMP_SET_OF_OPT (KPR_REQ_INFO, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref (KPR_REQ_INFO, KPR_REQ_INFO)

typedef struct {
  KPR_REQ_INFO *info;
  X509_ALGOR *sig_alg;
  ASN1_BIT_STRING *signature;
} KPR_REQ;

ASN1_SEQUENCE (KPR_REQ) = {
  ASN1_SIMPLE (KPR_REQ, info, KPR_REQ_INFO),
  ASN1_SIMPLE (KPR_REQ, sig_alg, X509_ALGOR),
  ASN1_SIMPLE (KPR_REQ, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END (KPR_REQ)

/* RFC 8017 RSAPublicKey. */
typedef struct {
  ASN1_INTEGER *n;
  ASN1_INTEGER *e;
} KPR_RSA_PUB;

ASN1_SEQUENCE (KPR_RSA_PUB) = {
  ASN1_SIMPLE (KPR_RSA_PUB, n, ASN1_INTEGER),
  ASN1_SIMPLE (KPR_RSA_PUB, e, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END (KPR_RSA_PUB)

static EVP_PKEY *
key_from_params (const char *type, OSSL_PARAM *params)
{
  g_autoptr (EVP_PKEY_CTX) ctx = EVP_PKEY_CTX_new_from_name (NULL, type, NULL);
  EVP_PKEY *key = NULL;

  if (!ctx || EVP_PKEY_fromdata_init (ctx) <= 0
      || EVP_PKEY_fromdata (ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    return NULL;
  return key;
}

static EVP_PKEY *
ec_key (const KPR_SPKI *spki)
{
  const ASN1_OBJECT *curve = NULL;
  const void *pval = NULL;
  int ptype = 0;
  const char *name;
  OSSL_PARAM params[3];

  X509_ALGOR_get0 (NULL, &ptype, &pval, spki->algor);
  if (ptype != V_ASN1_OBJECT)
    return NULL; /* explicit parameters: the generic way */
  curve = pval;
  if (!(name = OSSL_EC_curve_nid2name (OBJ_obj2nid (curve))))
    return NULL;
  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, (char *) name, 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_PKEY_PARAM_PUB_KEY,
                                                 spki->public_key->data,
                                                 (size_t) spki->public_key->length);
  params[2] = OSSL_PARAM_construct_end ();
  return key_from_params ("EC", params);
}

static EVP_PKEY *
rsa_key (const KPR_SPKI *spki)
{
  const unsigned char *p = spki->public_key->data;
  KPR_RSA_PUB *pub = (KPR_RSA_PUB *) ASN1_item_d2i (NULL, &p, spki->public_key->length,
                                                   ASN1_ITEM_rptr (KPR_RSA_PUB));
  g_autoptr (BIGNUM) n = pub ? ASN1_INTEGER_to_BN (pub->n, NULL) : NULL;
  g_autoptr (BIGNUM) e = pub ? ASN1_INTEGER_to_BN (pub->e, NULL) : NULL;
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new ();
  OSSL_PARAM *params = NULL;
  EVP_PKEY *key = NULL;

  /* A modulus past 16384 bits is nobody's key: refused before any maths. */
  if (n && e && bld && BN_num_bits (n) <= 16384 && !BN_is_negative (n) && !BN_is_negative (e)
      && OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_N, n)
      && OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_E, e)
      && (params = OSSL_PARAM_BLD_to_param (bld)))
    key = key_from_params ("RSA", params);
  OSSL_PARAM_free (params);
  OSSL_PARAM_BLD_free (bld);
  ASN1_item_free ((ASN1_VALUE *) pub, ASN1_ITEM_rptr (KPR_RSA_PUB));
  return key;
}

/* The key of @spki; @der is its encoding, for the generic decoder. */
static EVP_PKEY *
spki_key (const KPR_SPKI *spki, const unsigned char *der, long len)
{
  const ASN1_OBJECT *alg = NULL;
  EVP_PKEY *key = NULL;

  X509_ALGOR_get0 (&alg, NULL, NULL, spki->algor);
  switch (OBJ_obj2nid (alg))
    {
    case NID_X9_62_id_ecPublicKey:
      key = ec_key (spki);
      break;
    case NID_rsaEncryption:
      key = rsa_key (spki);
      break;
    default:
      break;
    }
  if (!key)
    /* Ed25519, RSA-PSS, explicit curves: rare here, and not allowed by
     * the policy, but the request still has to be understood. */
    key = d2i_PUBKEY (NULL, &der, len);
  return key;
}

void
kpr_csr_free (KprCsr *csr)
{
  if (!csr)
    return;
  kpr_pubkey_free (csr->pub);
  X509_NAME_free (csr->subject);
  g_clear_pointer (&csr->san, g_bytes_unref);
  g_free (csr->common_name);
  g_free (csr->challenge_password);
  g_free (csr);
}

/* The subjectAltName of the extensionRequest attribute, as DER. */
static GBytes *
request_san (STACK_OF (X509_ATTRIBUTE) *attributes)
{
  for (int i = 0; i < sk_X509_ATTRIBUTE_num (attributes); i++)
    {
      X509_ATTRIBUTE *attr = sk_X509_ATTRIBUTE_value (attributes, i);
      ASN1_TYPE *value;
      const unsigned char *p;
      STACK_OF (X509_EXTENSION) *exts;
      GBytes *san = NULL;
      int idx;

      if (OBJ_obj2nid (X509_ATTRIBUTE_get0_object (attr)) != NID_ext_req
          || !(value = X509_ATTRIBUTE_get0_type (attr, 0)) || value->type != V_ASN1_SEQUENCE)
        continue;
      p = value->value.sequence->data;
      exts = d2i_X509_EXTENSIONS (NULL, &p, value->value.sequence->length);
      if ((idx = X509v3_get_ext_by_NID (exts, NID_subject_alt_name, -1)) >= 0)
        {
          ASN1_OCTET_STRING *data = X509_EXTENSION_get_data (X509v3_get_ext (exts, idx));
          san = g_bytes_new (ASN1_STRING_get0_data (data), (gsize) ASN1_STRING_length (data));
        }
      sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
      return san;
    }
  return NULL;
}

/* RFC 7030 §4.4.1.1 DecryptKeyIdentifier and §4.4.1.2
 * AsymmetricDecryptKeyIdentifier (id-aa-*): a client asks for the
 * generated key wrapped in CMS with them. */
#define OID_DECRYPT_KEY_ID "1.2.840.113549.1.9.16.2.37"
#define OID_ASYM_DECRYPT_KEY_ID "1.2.840.113549.1.9.16.2.54"

static void
request_attributes (STACK_OF (X509_ATTRIBUTE) *attributes, KprCsr *csr)
{
  for (int i = 0; i < sk_X509_ATTRIBUTE_num (attributes); i++)
    {
      X509_ATTRIBUTE *attr = sk_X509_ATTRIBUTE_value (attributes, i);
      const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object (attr);
      ASN1_TYPE *value = X509_ATTRIBUTE_get0_type (attr, 0);
      char oid[64];

      if (OBJ_obj2nid (obj) == NID_pkcs9_challengePassword && value && !csr->challenge_password
          && (value->type == V_ASN1_UTF8STRING || value->type == V_ASN1_PRINTABLESTRING
              || value->type == V_ASN1_IA5STRING))
        {
          /* The binding is base64: anything longer is not one. */
          int n = ASN1_STRING_length (value->value.asn1_string);

          if (n > 0 && n <= 256)
            csr->challenge_password = g_strndup (
              (const char *) ASN1_STRING_get0_data (value->value.asn1_string), (gsize) n);
          continue;
        }
      if (OBJ_obj2txt (oid, sizeof oid, obj, 1) > 0
          && (g_str_equal (oid, OID_DECRYPT_KEY_ID) || g_str_equal (oid, OID_ASYM_DECRYPT_KEY_ID)))
        csr->key_encryption = TRUE;
    }
}

static char *
common_name (X509_NAME *name)
{
  int i = X509_NAME_get_index_by_NID (name, NID_commonName, -1);
  unsigned char *utf8 = NULL;
  char *ret = NULL;

  if (i >= 0
      && ASN1_STRING_to_UTF8 (&utf8, X509_NAME_ENTRY_get_data (X509_NAME_get_entry (name, i))) >= 0)
    ret = g_strdup ((const char *) utf8);
  OPENSSL_free (utf8);
  return ret;
}

KprCsr *
kpr_csr_parse (const guint8 *der, gsize len, GError **error)
{
  g_autoptr (KprCsr) csr = g_new0 (KprCsr, 1);
  const unsigned char *p = der;
  KPR_REQ *req = NULL;
  unsigned char *spki_der = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  int spki_len;

  if (len == 0 || len > KPR_CSR_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate request has an impossible size (%" G_GSIZE_FORMAT " bytes)",
                   len);
      return NULL;
    }
  req = (KPR_REQ *) ASN1_item_d2i (NULL, &p, (long) len, ASN1_ITEM_rptr (KPR_REQ));
  if (!req || (gsize) (p - der) != len)
    {
      ASN1_item_free ((ASN1_VALUE *) req, ASN1_ITEM_rptr (KPR_REQ));
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate request is not PKCS#10 (or has trailing bytes)");
      return NULL;
    }
  spki_len = ASN1_item_i2d ((ASN1_VALUE *) req->info->spki, &spki_der, ASN1_ITEM_rptr (KPR_SPKI));
  if (spki_len <= 0 || !(key = spki_key (req->info->spki, spki_der, spki_len)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate request has an unusable public key");
      goto fail;
    }
  /* Proof of possession: the request must be signed by its own key. */
  if (ASN1_item_verify_ex (ASN1_ITEM_rptr (KPR_REQ_INFO), req->sig_alg, req->signature, req->info,
                           NULL, key, NULL, NULL) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate request's signature does not verify");
      goto fail;
    }
  if (!(csr->pub = kpr_pubkey_from_parts (req->info->spki->algor, req->info->spki->public_key,
                                          spki_der, (gsize) spki_len, key, error)))
    goto fail;
  csr->subject = X509_NAME_dup (req->info->subject);
  csr->san = request_san (req->info->attributes);
  csr->common_name = common_name (req->info->subject);
  request_attributes (req->info->attributes, csr);
  OPENSSL_free (spki_der);
  ASN1_item_free ((ASN1_VALUE *) req, ASN1_ITEM_rptr (KPR_REQ));
  ERR_clear_error ();
  return g_steal_pointer (&csr);

fail:
  OPENSSL_free (spki_der);
  ASN1_item_free ((ASN1_VALUE *) req, ASN1_ITEM_rptr (KPR_REQ));
  ERR_clear_error ();
  return NULL;
}
