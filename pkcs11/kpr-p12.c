/* kpr-p12.c — PKCS#12 backups: parse, import to a token, export.
 *
 * Import is raw C_CreateObject: libp11 0.4.12 cannot import EC private keys
 * and does not let us choose CKA_SENSITIVE / CKA_EXTRACTABLE.  Every buffer
 * that held key material is erased before it is freed.
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>

#include "kpr-token-private.h"

/* PBKDF2 iterations of the modern preset; OpenSSL's default (2048) is
 * too low for a file that may sit on a lost USB stick. */
#define KPR_P12_MODERN_ITER 100000
#define KPR_P12_LEGACY_ITER 2048

/* The bag attribute holding certkeeper's note: an OID from the UUID arc
 * (ITU-T X.667), which needs no registration. */
#define KPR_P12_NOTE_OID "2.25.19997692431834981444781764029714851023"
#define KPR_P12_NOTE_MAX 4096

/* The note, read from the certificate bags of @p12 (whose MAC was
 * verified with @pass). */
static char *
read_note (PKCS12 *p12, const KprSecret *pass)
{
  STACK_OF (PKCS7) *safes = PKCS12_unpack_authsafes (p12);
  ASN1_OBJECT *oid = OBJ_txt2obj (KPR_P12_NOTE_OID, 1);
  char *note = NULL;

  for (int i = 0; safes && oid && !note && i < sk_PKCS7_num (safes); i++)
    {
      PKCS7 *p7 = sk_PKCS7_value (safes, i);
      int nid = OBJ_obj2nid (p7->type);
      STACK_OF (PKCS12_SAFEBAG) *bags =
        nid == NID_pkcs7_data ? PKCS12_unpack_p7data (p7)
        : nid == NID_pkcs7_encrypted ? PKCS12_unpack_p7encdata (p7, pass->data, pass->len)
                                     : NULL;
      for (int j = 0; bags && !note && j < sk_PKCS12_SAFEBAG_num (bags); j++)
        {
          const STACK_OF (X509_ATTRIBUTE) *attrs =
            PKCS12_SAFEBAG_get0_attrs (sk_PKCS12_SAFEBAG_value (bags, j));
          int idx = X509at_get_attr_by_OBJ (attrs, oid, -1);
          ASN1_TYPE *value = idx >= 0 ? X509_ATTRIBUTE_get0_type (X509at_get_attr (attrs, idx), 0) : NULL;
          if (value && value->type == V_ASN1_UTF8STRING
              && ASN1_STRING_length (value->value.utf8string) <= KPR_P12_NOTE_MAX)
            note = g_strndup ((const char *) ASN1_STRING_get0_data (value->value.utf8string),
                              ASN1_STRING_length (value->value.utf8string));
        }
      sk_PKCS12_SAFEBAG_pop_free (bags, PKCS12_SAFEBAG_free);
    }
  ASN1_OBJECT_free (oid);
  sk_PKCS7_pop_free (safes, PKCS7_free);
  ERR_clear_error ();
  if (note && !g_utf8_validate (note, -1, NULL))
    g_clear_pointer (&note, g_free);
  return note;
}

static gboolean
key_is_supported (EVP_PKEY *key, GError **error)
{
  int bits = EVP_PKEY_get_bits (key);
  char group[64] = "";

  if (EVP_PKEY_is_a (key, "RSA") && bits >= 2048 && bits <= 4096)
    return TRUE;
  if (EVP_PKEY_is_a (key, "EC")
      && EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL)
      && (g_str_equal (group, "prime256v1") || g_str_equal (group, "secp384r1")))
    return TRUE;
  g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
               "The backup holds a %s key of %d bits; certkeeper keeps EC P-256, EC P-384 "
               "and RSA 2048 to 4096 keys", EVP_PKEY_get0_type_name (key), bits);
  return FALSE;
}

/* A key we can keep, and @cert is its certificate (@mismatch otherwise). */
static gboolean
key_fits_cert (EVP_PKEY *key, X509 *cert, const char *mismatch, GError **error)
{
  if (!key_is_supported (key, error))
    return FALSE;
  if (X509_check_private_key (cert, key) != 1)
    {
      ERR_clear_error ();
      g_set_error_literal (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH, mismatch);
      return FALSE;
    }
  return TRUE;
}

gboolean
kpr_p12_parse (GBytes *data, const KprSecret *passphrase, EVP_PKEY **ret_key, X509 **ret_cert,
               KprX509Stack **ret_chain, char **ret_note, GError **error)
{
  gsize len;
  const unsigned char *start = g_bytes_get_data (data, &len), *p = start;
  g_autoptr (PKCS12) p12 = len < G_MAXINT ? d2i_PKCS12 (NULL, &p, len) : NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprX509Stack) chain = NULL;

  if (!p12)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The file is not a PKCS#12 backup or is damaged");
      return FALSE;
    }
  kpr_p12_reader_init ();
  if (!kpr_p12_check_before_mac (p12, len - (gsize) (p - start), error))
    return FALSE;
  if (PKCS12_mac_present (p12) && !PKCS12_verify_mac (p12, passphrase->data, passphrase->len))
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_PASSPHRASE,
                   "Wrong passphrase for the backup (or the file was altered)");
      return FALSE;
    }
  if (!kpr_p12_check_after_mac (p12, passphrase, error))
    return FALSE;
  if (!PKCS12_parse (p12, passphrase->data, &key, &cert, &chain))
    {
      unsigned long e = ERR_peek_last_error ();
      g_autofree char *detail = kpr_ossl_error_string ();

      if (ERR_GET_REASON (e) == ERR_R_UNSUPPORTED)
        g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                     "The backup is encrypted with an algorithm this system's OpenSSL cannot "
                     "read (an old one such as RC2 needs OpenSSL's legacy provider, "
                     "ossl-modules/legacy.so)");
      else
        g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The backup cannot be opened: %s",
                     detail);
      return FALSE;
    }
  /* PKCS12_parse pairs the key with the certificate that matches it and
   * files every other certificate under the chain: a key whose own
   * certificate is missing while others are present is a mismatch. */
  if (key && !cert && sk_X509_num (chain) > 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "No certificate in the backup belongs to its private key");
      return FALSE;
    }
  if (!key || !cert)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The backup does not hold both a private key and its certificate");
      return FALSE;
    }
  if (!key_fits_cert (key, cert, "The certificate in the backup does not belong to its private key",
                      error))
    return FALSE;
  if (ret_note)
    *ret_note = read_note (p12, passphrase);
  *ret_key = g_steal_pointer (&key);
  *ret_cert = g_steal_pointer (&cert);
  if (ret_chain)
    *ret_chain = chain ? g_steal_pointer (&chain) : sk_X509_new_null ();
  return TRUE;
}

/* A big number as a fixed-width big-endian buffer, erased on release. */
typedef struct {
  guint8 *data;
  gsize len;
} Blob;

static void
blob_clear (Blob *blob)
{
  kpr_memory_erase (blob->data, blob->len);
  g_free (blob->data);
  blob->data = NULL;
  blob->len = 0;
}

static gboolean
blob_from_param (EVP_PKEY *key, const char *name, gsize width, Blob *blob)
{
  BIGNUM *bn = NULL;
  gboolean ok;

  if (!EVP_PKEY_get_bn_param (key, name, &bn))
    return FALSE;
  blob->len = width ? width : (gsize) BN_num_bytes (bn);
  blob->data = g_malloc0 (blob->len ? blob->len : 1);
  ok = BN_bn2binpad (bn, blob->data, blob->len) >= 0;
  BN_clear_free (bn);
  return ok;
}

static gboolean
create_object (KprToken *token, CK_ATTRIBUTE *tmpl, CK_ULONG n, const char *what, GError **error)
{
  CK_OBJECT_HANDLE handle;
  CK_RV rv = token->module->fn->C_CreateObject (token->session, tmpl, n, &handle);

  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Cannot store the %s on token “%s”", what, token->info.label);
      return FALSE;
    }
  return TRUE;
}

static gboolean
import_key (KprToken *token, EVP_PKEY *key, const char *label, GBytes *id,
            KprProtection protection, GError **error)
{
  CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
  gboolean is_rsa = EVP_PKEY_is_a (key, "RSA");
  CK_KEY_TYPE key_type = is_rsa ? CKK_RSA : CKK_EC;
  static const char *rsa_names[] = {
    OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
    OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
    OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
  };
  static const CK_ATTRIBUTE_TYPE rsa_attrs[] = {
    CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
    CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
  };
  Blob blobs[G_N_ELEMENTS (rsa_names)] = { { 0 } };
  g_autofree unsigned char *params = NULL, *point_der = NULL;
  KprKeyTemplate t;
  gboolean ok = FALSE;

  kpr_key_template_init (&t, protection, FALSE, id, label);
  kpr_key_template_add_priv (&t, CKA_CLASS, &priv_class, sizeof priv_class);
  kpr_key_template_add_priv (&t, CKA_KEY_TYPE, &key_type, sizeof key_type);
  kpr_key_template_add_pub (&t, CKA_CLASS, &pub_class, sizeof pub_class);
  kpr_key_template_add_pub (&t, CKA_KEY_TYPE, &key_type, sizeof key_type);

  if (is_rsa)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (rsa_names); i++)
        {
          if (!blob_from_param (key, rsa_names[i], 0, &blobs[i]))
            goto out;
          kpr_key_template_add_priv (&t, rsa_attrs[i], blobs[i].data, blobs[i].len);
          if (i < 2)
            kpr_key_template_add_pub (&t, rsa_attrs[i], blobs[i].data, blobs[i].len);
        }
    }
  else
    {
      /* CKA_EC_PARAMS: the named curve; CKA_EC_POINT: DER OCTET STRING of
       * the uncompressed point; CKA_VALUE: the scalar, full field width. */
      int params_len = i2d_KeyParams (key, &params);
      unsigned char raw_point[200];
      gsize raw_len = 0;
      ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new ();
      int point_len;

      if (params_len <= 0
          || !EVP_PKEY_get_octet_string_param (key, OSSL_PKEY_PARAM_PUB_KEY, raw_point,
                                               sizeof raw_point, &raw_len)
          || !ASN1_OCTET_STRING_set (os, raw_point, raw_len)
          || (point_len = i2d_ASN1_OCTET_STRING (os, &point_der)) <= 0
          || !blob_from_param (key, OSSL_PKEY_PARAM_PRIV_KEY, (EVP_PKEY_get_bits (key) + 7) / 8,
                               &blobs[0]))
        {
          ASN1_OCTET_STRING_free (os);
          goto out;
        }
      ASN1_OCTET_STRING_free (os);
      kpr_key_template_add_priv (&t, CKA_EC_PARAMS, params, params_len);
      kpr_key_template_add_priv (&t, CKA_VALUE, blobs[0].data, blobs[0].len);
      kpr_key_template_add_pub (&t, CKA_EC_PARAMS, params, params_len);
      kpr_key_template_add_pub (&t, CKA_EC_POINT, point_der, point_len);
    }

  ok = create_object (token, t.priv, t.n_priv, "private key", error)
       && create_object (token, t.pub, t.n_pub, "public key", error);

out:
  if (!ok && error && !*error)
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "Cannot read the backup's key: %s",
                   detail);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (blobs); i++)
    blob_clear (&blobs[i]);
  return ok;
}

gboolean
kpr_token_import_key (KprToken *token, EVP_PKEY *key, X509 *cert, KprX509Stack *chain,
                      const char *label, GBytes *id, KprProtection protection, GError **error)
{
  guint existing = 0;

  if (protection == KPR_PROTECTION_EXPORTABLE && !token->info.software)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "Only the software token can hold an exportable key");
      return FALSE;
    }
  if (!key_fits_cert (key, cert, "The certificate does not belong to the key", error))
    return FALSE;
  if (!kpr_token_session (token, error) || !kpr_token_count_objects (token, id, &existing, error))
    return FALSE;
  if (existing > 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                   "Token “%s” already holds objects with this id", token->info.label);
      return FALSE;
    }

  if (!import_key (token, key, label, id, protection, error)
      || !kpr_token_store_certificate (token, cert, label, id, error))
    goto rollback;
  for (int i = 0; i < sk_X509_num (chain); i++)
    if (!kpr_token_store_certificate (token, sk_X509_value (chain, i), "CA certificate", NULL,
                                      error))
      goto rollback;
  return TRUE;

rollback:
  kpr_token_delete_objects (token, id, NULL, NULL);
  return FALSE;
}

gboolean
kpr_token_import_pkcs12 (KprToken *token, GBytes *data, const KprSecret *passphrase,
                         const char *label, GBytes *id, KprProtection protection, GError **error)
{
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprX509Stack) chain = NULL;

  if (protection == KPR_PROTECTION_EXPORTABLE && !token->info.software)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "Only the software token can hold an exportable key");
      return FALSE;
    }
  /* Everything that can be wrong with the file is found before the
   * token is touched. */
  if (!kpr_p12_parse (data, passphrase, &key, &cert, &chain, NULL, error))
    return FALSE;
  return kpr_token_import_key (token, key, cert, chain, label, id, protection, error);
}

/* The private key as a plain OpenSSL key: possible only while the token
 * lets the value out (exporting mode). */
static EVP_PKEY *
read_private_key (KprToken *token, GBytes *id, GError **error)
{
  CK_OBJECT_HANDLE obj;
  CK_ULONG key_type;
  gboolean sensitive = TRUE, extractable = FALSE;
  OSSL_PARAM_BLD *bld = NULL;
  OSSL_PARAM *params = NULL;
  g_autoptr (EVP_PKEY_CTX) pctx = NULL;
  g_autoptr (EVP_PKEY) pub = NULL;
  GPtrArray *bns = g_ptr_array_new_with_free_func ((GDestroyNotify) BN_clear_free);
  EVP_PKEY *pkey = NULL;
  /* OSSL_PARAM_BLD keeps pointers to strings and octets until
   * OSSL_PARAM_BLD_to_param(): they must live at function scope. */
  char group[64];
  unsigned char point[200];
  gsize point_len = 0;

  if (!kpr_token_find_one (token, CKO_PRIVATE_KEY, id, &obj, error)
      || !kpr_token_get_ulong (token, obj, CKA_KEY_TYPE, &key_type, error)
      || !kpr_token_get_bool (token, obj, CKA_SENSITIVE, &sensitive, error)
      || !kpr_token_get_bool (token, obj, CKA_EXTRACTABLE, &extractable, error))
    goto out;
  if (sensitive || !extractable)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_EXPORTABLE,
                   "The key on token “%s” is protected from export (%s)", token->info.label,
                   sensitive ? "CKA_SENSITIVE" : "CKA_EXTRACTABLE is false");
      goto out;
    }

  bld = OSSL_PARAM_BLD_new ();
  if (key_type == CKK_RSA)
    {
      static const CK_ATTRIBUTE_TYPE attrs[] = {
        CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
        CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
      };
      static const char *names[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
      };
      for (gsize i = 0; i < G_N_ELEMENTS (attrs); i++)
        {
          g_autoptr (GBytes) v = kpr_token_get_attr (token, obj, attrs[i], error);
          gsize len;
          const guint8 *d;
          if (!v)
            goto out;
          d = g_bytes_get_data (v, &len);
          g_ptr_array_add (bns, BN_bin2bn (d, len, NULL));
          OSSL_PARAM_BLD_push_BN (bld, names[i], bns->pdata[bns->len - 1]);
        }
    }
  else if (key_type == CKK_EC)
    {
      g_autoptr (GBytes) value = kpr_token_get_attr (token, obj, CKA_VALUE, error);
      if (!value || !(pub = kpr_token_get_public_key (token, id, error)))
        goto out;
      if (!EVP_PKEY_get_utf8_string_param (pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL)
          || !EVP_PKEY_get_octet_string_param (pub, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                               &point_len))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN, "The token's public key is malformed");
          goto out;
        }
      g_ptr_array_add (bns, BN_bin2bn (g_bytes_get_data (value, NULL), g_bytes_get_size (value),
                                       NULL));
      OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
      OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY, point, point_len);
      OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_PRIV_KEY, bns->pdata[0]);
    }
  else
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED, "Key type 0x%lx cannot be exported",
                   (unsigned long) key_type);
      goto out;
    }

  params = OSSL_PARAM_BLD_to_param (bld);
  pctx = EVP_PKEY_CTX_new_from_name (NULL, key_type == CKK_RSA ? "RSA" : "EC", NULL);
  if (!params || !pctx || EVP_PKEY_fromdata_init (pctx) <= 0
      || EVP_PKEY_fromdata (pctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN, "The token's key is malformed: %s", detail);
      pkey = NULL;
    }

out:
  kpr_params_free_erased (params);
  OSSL_PARAM_BLD_free (bld);
  g_ptr_array_unref (bns);
  return pkey;
}

/* Issuers of @cert found among the token's certificates, nearest first. */
static KprX509Stack *
chain_from_token (KprToken *token, X509 *cert, GError **error)
{
  g_autoptr (KprX509Stack) all = kpr_token_list_certificates (token, error);
  KprX509Stack *chain;
  X509 *current = cert;

  if (!all)
    return NULL;
  chain = sk_X509_new_null ();
  /* Bounded: a chain longer than the number of certificates is a loop. */
  for (int depth = 0; depth < sk_X509_num (all); depth++)
    {
      X509 *issuer = NULL;
      if (X509_check_issued (current, current) == X509_V_OK)
        break;
      for (int i = 0; i < sk_X509_num (all) && !issuer; i++)
        if (X509_check_issued (sk_X509_value (all, i), current) == X509_V_OK
            && X509_cmp (sk_X509_value (all, i), current) != 0)
          issuer = sk_X509_value (all, i);
      if (!issuer)
        break;
      X509_up_ref (issuer);
      sk_X509_push (chain, issuer);
      current = issuer;
    }
  return chain;
}

/* Key bag and certificate bags built one by one (PKCS12_create cannot
 * attach our note), each preset's algorithms, then the MAC.  Every
 * algorithm comes from the default provider: the legacy one, loaded to
 * read old files, must never choose what a new file is written with. */
#define KPR_P12_PROPQ "provider=default"

static PKCS12 *
build_p12 (EVP_PKEY *key, X509 *cert, KprX509Stack *chain, const char *label,
           const KprSecret *pass, gboolean modern, const char *note)
{
  int nid = modern ? NID_aes_256_cbc : NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
  int iter = modern ? KPR_P12_MODERN_ITER : KPR_P12_LEGACY_ITER;
  STACK_OF (PKCS12_SAFEBAG) *cert_bags = NULL, *key_bags = NULL;
  STACK_OF (PKCS7) *safes = NULL;
  PKCS12_SAFEBAG *bag;
  unsigned char keyid[EVP_MAX_MD_SIZE];
  unsigned int keyid_len = 0;
  PKCS12 *p12 = NULL;
  gboolean ok;

  X509_digest (cert, EVP_sha1 (), keyid, &keyid_len);
  ok = (bag = PKCS12_add_cert (&cert_bags, cert)) && PKCS12_add_localkeyid (bag, keyid, keyid_len)
       && (!label || PKCS12_add_friendlyname (bag, label, -1))
       && (!note || PKCS12_add1_attr_by_txt (bag, KPR_P12_NOTE_OID, MBSTRING_UTF8,
                                             (const unsigned char *) note, -1));
  for (int i = 0; ok && i < sk_X509_num (chain); i++)
    ok = PKCS12_add_cert (&cert_bags, sk_X509_value (chain, i)) != NULL;
  ok = ok && (bag = PKCS12_add_key_ex (&key_bags, key, 0, iter, nid, pass->data, NULL,
                                                KPR_P12_PROPQ))
       && PKCS12_add_localkeyid (bag, keyid, keyid_len)
       && (!label || PKCS12_add_friendlyname (bag, label, -1))
       && PKCS12_add_safe_ex (&safes, cert_bags, nid, iter, pass->data, NULL, KPR_P12_PROPQ)
       && PKCS12_add_safe_ex (&safes, key_bags, -1, 0, NULL, NULL, KPR_P12_PROPQ)
       /* No propq here: OpenSSL 3.0's PKCS12_free leaks it (LSan); the
        * MAC's KDF exists in the default provider only. */
       && (p12 = PKCS12_add_safes_ex (safes, 0, NULL, NULL))
       && PKCS12_set_mac (p12, pass->data, -1, NULL, 0, iter, modern ? EVP_sha256 () : EVP_sha1 ());
  if (!ok)
    g_clear_pointer (&p12, PKCS12_free);
  sk_PKCS12_SAFEBAG_pop_free (cert_bags, PKCS12_SAFEBAG_free);
  sk_PKCS12_SAFEBAG_pop_free (key_bags, PKCS12_SAFEBAG_free);
  sk_PKCS7_pop_free (safes, PKCS7_free);
  return p12;
}

GBytes *
kpr_token_export_pkcs12 (KprToken *token, GBytes *id, const KprSecret *passphrase,
                         KprP12Preset preset, const char *note, GError **error)
{
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprX509Stack) chain = NULL;
  g_autoptr (PKCS12) p12 = NULL;
  g_autofree char *label = NULL;
  unsigned char *der = NULL;
  int der_len;
  GBytes *result;

  if (!(key = read_private_key (token, id, error))
      || !(cert = kpr_token_find_certificate (token, id, error))
      || !(chain = chain_from_token (token, cert, error)))
    return NULL;
  if (X509_check_private_key (cert, key) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "The certificate on the token does not belong to the key with the same id");
      return NULL;
    }
  {
    X509_NAME *subject = X509_get_subject_name (cert);
    int i = X509_NAME_get_index_by_NID (subject, NID_commonName, -1);
    ASN1_STRING *cn = i >= 0 ? X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, i)) : NULL;
    if (cn)
      label = g_strndup ((const char *) ASN1_STRING_get0_data (cn), ASN1_STRING_length (cn));
  }

  p12 = build_p12 (key, cert, chain, label, passphrase, preset != KPR_P12_LEGACY, note);
  if (!p12)
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot build the PKCS#12 backup: %s",
                   detail);
      return NULL;
    }
  der_len = i2d_PKCS12 (p12, &der);
  if (der_len <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot encode the PKCS#12 backup");
      return NULL;
    }
  result = g_bytes_new (der, der_len);
  OPENSSL_free (der);
  return result;
}
