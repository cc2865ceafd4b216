/* kpr-keys.c — key pairs on a token: generation, public keys, provenance.
 *
 * Generation is raw C_GenerateKeyPair: libp11 0.4.12 can only make RSA
 * keys and cannot set the protection attributes we need (DESIGN §3).
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "kpr-token-private.h"

/* DER of the named-curve OIDs, for CKA_EC_PARAMS. */
static const guint8 oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const guint8 oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

void
kpr_key_template_init (KprKeyTemplate *t, KprProtection protection, gboolean decrypt, GBytes *id,
                       const char *label)
{
  gsize id_len, label_len = label ? strlen (label) : 0;
  const void *id_data = g_bytes_get_data (id, &id_len);

  memset (t, 0, sizeof *t);
  t->yes = CK_TRUE;
  t->no = CK_FALSE;
  t->decrypt = decrypt ? CK_TRUE : CK_FALSE;
  t->is_private = protection == KPR_PROTECTION_STRONG ? CK_TRUE : CK_FALSE;
  t->extractable = protection == KPR_PROTECTION_EXPORTABLE ? CK_TRUE : CK_FALSE;
  t->sensitive = t->extractable ? CK_FALSE : CK_TRUE;

  kpr_key_template_add_pub (t, CKA_TOKEN, &t->yes, sizeof t->yes);
  kpr_key_template_add_pub (t, CKA_PRIVATE, &t->no, sizeof t->no);
  /* Signing keys, unless SCEP needs decryption: a client key (or a CA
   * key) never needs to unwrap or derive, and tokens' defaults differ. */
  kpr_key_template_add_pub (t, CKA_VERIFY, &t->yes, sizeof t->yes);
  kpr_key_template_add_pub (t, CKA_ENCRYPT, &t->decrypt, sizeof t->decrypt);
  kpr_key_template_add_pub (t, CKA_WRAP, &t->no, sizeof t->no);
  kpr_key_template_add_pub (t, CKA_ID, id_data, id_len);
  kpr_key_template_add_pub (t, CKA_LABEL, label, label_len);

  kpr_key_template_add_priv (t, CKA_TOKEN, &t->yes, sizeof t->yes);
  kpr_key_template_add_priv (t, CKA_PRIVATE, &t->is_private, sizeof t->is_private);
  kpr_key_template_add_priv (t, CKA_SIGN, &t->yes, sizeof t->yes);
  kpr_key_template_add_priv (t, CKA_DECRYPT, &t->decrypt, sizeof t->decrypt);
  kpr_key_template_add_priv (t, CKA_UNWRAP, &t->no, sizeof t->no);
  kpr_key_template_add_priv (t, CKA_DERIVE, &t->no, sizeof t->no);
  kpr_key_template_add_priv (t, CKA_SENSITIVE, &t->sensitive, sizeof t->sensitive);
  kpr_key_template_add_priv (t, CKA_EXTRACTABLE, &t->extractable, sizeof t->extractable);
  kpr_key_template_add_priv (t, CKA_ID, id_data, id_len);
  kpr_key_template_add_priv (t, CKA_LABEL, label, label_len);
}

gboolean
kpr_key_type_is_ec (KprKeyType type)
{
  return type == KPR_KEY_EC_P256 || type == KPR_KEY_EC_P384;
}

GBytes *
kpr_token_new_id (void)
{
  guint8 id[20];

  if (RAND_bytes (id, sizeof id) != 1)
    g_error ("the OpenSSL random generator failed");
  return g_bytes_new (id, sizeof id);
}

gboolean
kpr_token_generate_key (KprToken *token, KprKeyType type, KprProtection protection,
                        const char *label, GBytes *id, GError **error)
{
  return kpr_token_generate_key_for (token, type, protection, KPR_KEY_USAGE_SIGN, label, id,
                                     error);
}

static gboolean
generate (KprToken *token, KprKeyType type, KprProtection protection, KprKeyUsage usage,
          const char *label, GBytes *id, CK_OBJECT_HANDLE *ret_pub, CK_OBJECT_HANDLE *ret_priv,
          GError **error)
{
  gboolean decrypt = usage == KPR_KEY_USAGE_SIGN_DECRYPT;
  CK_BBOOL is_rsa = !kpr_key_type_is_ec (type);
  CK_ULONG bits = type == KPR_KEY_RSA_3072 ? 3072 : 2048;
  guint8 exponent[] = { 0x01, 0x00, 0x01 };
  CK_MECHANISM mech = { is_rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0 };
  const guint8 *curve = type == KPR_KEY_EC_P384 ? oid_p384 : oid_p256;
  gsize curve_len = type == KPR_KEY_EC_P384 ? sizeof oid_p384 : sizeof oid_p256;
  CK_OBJECT_HANDLE pub, priv;
  CK_SESSION_HANDLE session;
  KprKeyTemplate t;
  CK_RV rv;

  if (type < KPR_KEY_EC_P256 || type > KPR_KEY_RSA_3072)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED, "Unknown key type %d", (int) type);
      return FALSE;
    }
  if (!token->info.can_generate[type])
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "Token “%s” cannot generate %s keys", token->info.label,
                   kpr_key_type_to_string (type));
      return FALSE;
    }
  if (protection == KPR_PROTECTION_EXPORTABLE && !token->info.software)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "Exportable keys exist only on the software token; keys made on “%s” "
                   "never leave it", token->info.label);
      return FALSE;
    }
  if (decrypt && kpr_key_type_is_ec (type))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "Only RSA keys can decrypt what a SCEP server sends; choose an RSA key");
      return FALSE;
    }
  if (!(session = kpr_token_session (token, error)))
    return FALSE;

  kpr_key_template_init (&t, protection, decrypt, id, label);
  if (is_rsa)
    {
      kpr_key_template_add_pub (&t, CKA_MODULUS_BITS, &bits, sizeof bits);
      kpr_key_template_add_pub (&t, CKA_PUBLIC_EXPONENT, exponent, sizeof exponent);
    }
  else
    kpr_key_template_add_pub (&t, CKA_EC_PARAMS, curve, curve_len);

  rv = token->module->fn->C_GenerateKeyPair (session, &mech, t.pub, t.n_pub, t.priv, t.n_priv,
                                             &pub, &priv);
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Token “%s” could not generate a %s key",
                         token->info.label, kpr_key_type_to_string (type));
      return FALSE;
    }
  *ret_pub = pub;
  *ret_priv = priv;
  return TRUE;
}

gboolean
kpr_token_generate_key_for (KprToken *token, KprKeyType type, KprProtection protection,
                            KprKeyUsage usage, const char *label, GBytes *id, GError **error)
{
  CK_OBJECT_HANDLE pub, priv;

  return generate (token, type, protection, usage, label, id, &pub, &priv, error);
}

EVP_PKEY *
kpr_token_generate_private_key (KprToken *token, KprKeyType type, KprProtection protection,
                                KprKeyUsage usage, const char *label, GBytes *id,
                                GError **error)
{
  CK_OBJECT_HANDLE pub, priv;

  /* The handles C_GenerateKeyPair gave back: no search for what was just
   * made (each search costs SoftHSM a look at every object, issue 11). */
  if (!generate (token, type, protection, usage, label, id, &pub, &priv, error))
    return NULL;
  return kpr_token_private_key_of (token, priv, pub, CK_INVALID_HANDLE, error);
}

void
kpr_params_free_erased (OSSL_PARAM *params)
{
  if (!params)
    return;
  for (OSSL_PARAM *p = params; p->key; p++)
    kpr_memory_erase (p->data, p->data_size);
  OSSL_PARAM_free (params);
}

static EVP_PKEY *
pkey_from_params (const char *type, OSSL_PARAM_BLD *bld, int selection, GError **error)
{
  OSSL_PARAM *params = OSSL_PARAM_BLD_to_param (bld);
  g_autoptr (EVP_PKEY_CTX) pctx = EVP_PKEY_CTX_new_from_name (NULL, type, NULL);
  EVP_PKEY *pkey = NULL;

  if (!params || !pctx || EVP_PKEY_fromdata_init (pctx) <= 0
      || EVP_PKEY_fromdata (pctx, &pkey, selection, params) <= 0)
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN, "The token's key is malformed: %s", detail);
      pkey = NULL;
    }
  kpr_params_free_erased (params);
  return pkey;
}

/* CKA_EC_PARAMS holds the curve OID; OpenSSL wants its short name. */
static const char *
curve_name (GBytes *params)
{
  gsize len;
  const unsigned char *p = g_bytes_get_data (params, &len);
  ASN1_OBJECT *oid = d2i_ASN1_OBJECT (NULL, &p, len);
  int nid = oid ? OBJ_obj2nid (oid) : NID_undef;

  ASN1_OBJECT_free (oid);
  return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 ? OBJ_nid2sn (nid) : NULL;
}

EVP_PKEY *
kpr_token_get_public_key (KprToken *token, GBytes *id, GError **error)
{
  CK_OBJECT_HANDLE obj;

  if (!kpr_token_find_one (token, CKO_PUBLIC_KEY, id, &obj, error))
    return NULL;
  return kpr_token_public_key_of (token, obj, error);
}

EVP_PKEY *
kpr_token_public_key_of (KprToken *token, CK_OBJECT_HANDLE obj, GError **error)
{
  CK_ULONG key_type;
  OSSL_PARAM_BLD *bld;
  EVP_PKEY *pkey = NULL;

  if (!kpr_token_get_ulong (token, obj, CKA_KEY_TYPE, &key_type, error))
    return NULL;

  bld = OSSL_PARAM_BLD_new ();
  if (key_type == CKK_RSA)
    {
      g_autoptr (GBytes) n = kpr_token_get_attr (token, obj, CKA_MODULUS, error);
      g_autoptr (GBytes) e = n ? kpr_token_get_attr (token, obj, CKA_PUBLIC_EXPONENT, error) : NULL;
      g_autoptr (BIGNUM) bn_n = NULL, bn_e = NULL;
      if (e)
        {
          gsize nl, el;
          const guint8 *nd = g_bytes_get_data (n, &nl), *ed = g_bytes_get_data (e, &el);
          bn_n = BN_bin2bn (nd, nl, NULL);
          bn_e = BN_bin2bn (ed, el, NULL);
          OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
          OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
          pkey = pkey_from_params ("RSA", bld, EVP_PKEY_PUBLIC_KEY, error);
        }
    }
  else if (key_type == CKK_EC)
    {
      g_autoptr (GBytes) params = kpr_token_get_attr (token, obj, CKA_EC_PARAMS, error);
      g_autoptr (GBytes) point = params ? kpr_token_get_attr (token, obj, CKA_EC_POINT, error) : NULL;
      const char *curve = params ? curve_name (params) : NULL;
      if (point && !curve)
        g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED, "The key's curve is not supported");
      else if (point)
        {
          /* PKCS#11 wraps the point in a DER OCTET STRING. */
          gsize len;
          const unsigned char *p = g_bytes_get_data (point, &len);
          ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING (NULL, &p, len);
          const unsigned char *raw = os ? ASN1_STRING_get0_data (os) : g_bytes_get_data (point, NULL);
          gsize raw_len = os ? (gsize) ASN1_STRING_length (os) : len;
          OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0);
          OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY, raw, raw_len);
          pkey = pkey_from_params ("EC", bld, EVP_PKEY_PUBLIC_KEY, error);
          ASN1_OCTET_STRING_free (os);
        }
    }
  else
    g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED, "Key type 0x%lx is not supported",
                 (unsigned long) key_type);
  OSSL_PARAM_BLD_free (bld);
  return pkey;
}

gboolean
kpr_token_get_key_info (KprToken *token, GBytes *id, KprKeyInfo *ret_info, GError **error)
{
  CK_OBJECT_HANDLE obj;
  CK_ULONG key_type;
  KprKeyInfo info = { 0 };
  g_autoptr (EVP_PKEY) pub = NULL;

  if (!kpr_token_find_one (token, CKO_PRIVATE_KEY, id, &obj, error)
      || !kpr_token_get_ulong (token, obj, CKA_KEY_TYPE, &key_type, error)
      || !kpr_token_get_bool (token, obj, CKA_LOCAL, &info.local, error)
      || !kpr_token_get_bool (token, obj, CKA_ALWAYS_SENSITIVE, &info.always_sensitive, error)
      || !kpr_token_get_bool (token, obj, CKA_NEVER_EXTRACTABLE, &info.never_extractable, error)
      || !kpr_token_get_bool (token, obj, CKA_PRIVATE, &info.private_, error)
      || !kpr_token_get_bool (token, obj, CKA_SENSITIVE, &info.sensitive, error)
      || !kpr_token_get_bool (token, obj, CKA_EXTRACTABLE, &info.extractable, error))
    return FALSE;

  pub = kpr_token_get_public_key (token, id, error);
  if (!pub)
    return FALSE;
  if (key_type == CKK_EC)
    info.type = EVP_PKEY_get_bits (pub) > 256 ? KPR_KEY_EC_P384 : KPR_KEY_EC_P256;
  else
    info.type = EVP_PKEY_get_bits (pub) > 2048 ? KPR_KEY_RSA_3072 : KPR_KEY_RSA_2048;
  *ret_info = info;
  return TRUE;
}

gboolean
kpr_token_lock_key (KprToken *token, GBytes *id, GError **error)
{
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ATTRIBUTE sensitive = { CKA_SENSITIVE, &yes, sizeof yes };
  CK_ATTRIBUTE extractable = { CKA_EXTRACTABLE, &no, sizeof no };
  CK_OBJECT_HANDLE obj;
  gboolean is_sensitive = FALSE, is_extractable = TRUE;
  CK_RV rv = CKR_OK;

  if (!kpr_token_find_one (token, CKO_PRIVATE_KEY, id, &obj, error)
      || !kpr_token_get_bool (token, obj, CKA_SENSITIVE, &is_sensitive, error)
      || !kpr_token_get_bool (token, obj, CKA_EXTRACTABLE, &is_extractable, error))
    return FALSE;
  /* Only what is not locked yet: tokens refuse to set a one-way attribute
   * again (CKR_ATTRIBUTE_READ_ONLY), and a lock interrupted after the
   * token changed but before the caller recorded it must be able to run
   * again.  One attribute per call, so a refusal says which one. */
  if (!is_sensitive)
    rv = token->module->fn->C_SetAttributeValue (token->session, obj, &sensitive, 1);
  if (rv == CKR_OK && is_extractable)
    rv = token->module->fn->C_SetAttributeValue (token->session, obj, &extractable, 1);
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Token “%s” refused to make the key non-exportable",
                         token->info.label);
      return FALSE;
    }
  return TRUE;
}
