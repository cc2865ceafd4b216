/* kpr-pkey.c — an EVP_PKEY that signs (and, for SCEP, decrypts) with a
 * private key object found by one C_FindObjects template.
 *
 * libp11 0.4.12 hands out such keys only from PKCS11_enumerate_keys(),
 * which reads every key on the token (and, for an EC key, every public key
 * and certificate too) and so grows with what the token holds: 1.1 s of a
 * renewal at 1 000 identities (issue 11, item 6).  Here the key is found
 * by its CKA_ID and the EVP_PKEY is built the way libp11 builds its own: an
 * RSA or EC_KEY holding the public half (for certificate checks and TLS)
 * with an RSA_METHOD / EC_KEY_METHOD whose private operations call
 * C_Sign / C_Decrypt on the object.  OpenSSL 3.0 treats a key with a
 * non-default method as "foreign" and keeps it on its legacy code path,
 * as it does for libp11's keys, so everything that used those keys (CSRs,
 * TLS client authentication, CMS, SCEP's PKCS#7) behaves the same.
 *
 * Those method APIs are deprecated in OpenSSL 3.0 and hidden by the
 * project's OPENSSL_API_COMPAT=30000: this one file asks for them (libp11
 * does the same).  The other way, an OpenSSL 3 provider, is several
 * hundred lines more for the same calls.
 *
 * Each operation opens its own session on the slot (the application's
 * login covers it) and closes it: an EVP_PKEY may be used from another
 * thread than the token's (certkeeper-ca signs in its writer thread), and
 * a PKCS#11 session must not be shared between threads.  The key must be
 * freed before its KprTokenCtx (the module is unloaded with it), as with
 * libp11's keys before.
 */
#undef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 10101
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "config.h"

#include <string.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kpr-token-private.h"

/* What a key's method needs to reach its object. */
typedef struct {
  CK_FUNCTION_LIST *fn;
  CK_SLOT_ID slot_id;
  CK_OBJECT_HANDLE obj;
} KeyRef;

static int rsa_index = -1, ec_index = -1;
static RSA_METHOD *rsa_method;
static EC_KEY_METHOD *ec_method;

static void
key_ref_free (void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
  (void) parent, (void) ad, (void) idx, (void) argl, (void) argp;
  g_free (ptr);
}

/* One PKCS#11 operation on @ref's object: C_xInit, then C_x into @out.
 * Returns the length written, or -1. */
static int
run_op (const KeyRef *ref, CK_MECHANISM *mech, gboolean decrypt, const unsigned char *in,
        gsize in_len, unsigned char *out, gsize out_len)
{
  CK_SESSION_HANDLE session;
  CK_ULONG len = out_len;
  CK_RV rv;

  if (!ref || ref->fn->C_OpenSession (ref->slot_id, CKF_SERIAL_SESSION, NULL, NULL, &session)
                  != CKR_OK)
    return -1;
  if (decrypt)
    {
      rv = ref->fn->C_DecryptInit (session, mech, ref->obj);
      if (rv == CKR_OK)
        rv = ref->fn->C_Decrypt (session, (CK_BYTE_PTR) in, in_len, out, &len);
    }
  else
    {
      rv = ref->fn->C_SignInit (session, mech, ref->obj);
      if (rv == CKR_OK)
        rv = ref->fn->C_Sign (session, (CK_BYTE_PTR) in, in_len, out, &len);
    }
  ref->fn->C_CloseSession (session);
  /* A module reporting more than the buffer it was given is not believed. */
  return rv == CKR_OK && len <= out_len ? (int) len : -1;
}

static gboolean
rsa_mechanism (int padding, CK_MECHANISM *ret_mech)
{
  static CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0 };

  switch (padding)
    {
    case RSA_PKCS1_PADDING:
      *ret_mech = (CK_MECHANISM) { CKM_RSA_PKCS, NULL, 0 };
      return TRUE;
    case RSA_NO_PADDING: /* PSS: OpenSSL pads, the token exponentiates */
      *ret_mech = (CK_MECHANISM) { CKM_RSA_X_509, NULL, 0 };
      return TRUE;
    case RSA_PKCS1_OAEP_PADDING: /* decryption only; OpenSSL's default parameters */
      *ret_mech = (CK_MECHANISM) { CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep };
      return TRUE;
    default:
      return FALSE;
    }
}

static int
rsa_priv_op (int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding,
             gboolean decrypt)
{
  CK_MECHANISM mech;

  if (flen < 0 || (!decrypt && padding == RSA_PKCS1_OAEP_PADDING)
      || !rsa_mechanism (padding, &mech))
    {
      ERR_raise (ERR_LIB_RSA, RSA_R_UNKNOWN_PADDING_TYPE);
      return -1;
    }
  return run_op (RSA_get_ex_data (rsa, rsa_index), &mech, decrypt, from, flen, to,
                 RSA_size (rsa));
}

static int
rsa_priv_enc (int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
  return rsa_priv_op (flen, from, to, rsa, padding, FALSE);
}

static int
rsa_priv_dec (int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
  return rsa_priv_op (flen, from, to, rsa, padding, TRUE);
}

/* CKM_ECDSA answers r || s, each as long as the group order. */
static ECDSA_SIG *
ec_sign_sig (const unsigned char *dgst, int dgst_len, const BIGNUM *kinv, const BIGNUM *r,
             EC_KEY *ec)
{
  CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
  int order_len = (EC_GROUP_order_bits (EC_KEY_get0_group (ec)) + 7) / 8;
  unsigned char sig[2 * 66];
  ECDSA_SIG *ret;
  BIGNUM *sig_r, *sig_s;
  int len;

  (void) kinv, (void) r;
  /* As OpenSSL does: the leftmost bytes of a longer digest. */
  if (dgst_len > order_len)
    dgst_len = order_len;
  len = dgst_len < 0 || 2 * order_len > (int) sizeof sig
          ? -1
          : run_op (EC_KEY_get_ex_data (ec, ec_index), &mech, FALSE, dgst, dgst_len, sig,
                    2 * order_len);
  if (len != 2 * order_len)
    {
      ERR_raise (ERR_LIB_EC, ERR_R_EC_LIB);
      return NULL;
    }
  ret = ECDSA_SIG_new ();
  sig_r = BN_bin2bn (sig, order_len, NULL);
  sig_s = BN_bin2bn (sig + order_len, order_len, NULL);
  if (!ret || !sig_r || !sig_s || ECDSA_SIG_set0 (ret, sig_r, sig_s) != 1)
    {
      BN_free (sig_r);
      BN_free (sig_s);
      ECDSA_SIG_free (ret);
      return NULL;
    }
  return ret;
}

static gpointer
methods_init (gpointer data)
{
  int (*sign) (int, const unsigned char *, int, unsigned char *, unsigned int *,
               const BIGNUM *, const BIGNUM *, EC_KEY *) = NULL;

  (void) data;
  rsa_index = RSA_get_ex_new_index (0, "certkeeper key object", NULL, NULL, key_ref_free);
  ec_index = EC_KEY_get_ex_new_index (0, "certkeeper key object", NULL, NULL, key_ref_free);
  rsa_method = RSA_meth_dup (RSA_PKCS1_OpenSSL ());
  ec_method = EC_KEY_METHOD_new (EC_KEY_OpenSSL ());
  if (rsa_index < 0 || ec_index < 0 || !rsa_method || !ec_method)
    g_error ("OpenSSL could not make the token key methods");
  RSA_meth_set1_name (rsa_method, "certkeeper PKCS#11 key");
  RSA_meth_set_priv_enc (rsa_method, rsa_priv_enc);
  RSA_meth_set_priv_dec (rsa_method, rsa_priv_dec);
  /* OpenSSL's ECDSA_sign() encodes what sign_sig returns. */
  EC_KEY_METHOD_get_sign (EC_KEY_OpenSSL (), &sign, NULL, NULL);
  EC_KEY_METHOD_set_sign (ec_method, sign, NULL, ec_sign_sig);
  return NULL;
}

/* @pub with its private operations done by @obj of @token. */
static EVP_PKEY *
wrap_public (KprToken *token, CK_OBJECT_HANDLE obj, EVP_PKEY *pub)
{
  static GOnce once = G_ONCE_INIT;
  g_autoptr (EVP_PKEY) pkey = EVP_PKEY_new ();
  g_autofree KeyRef *ref = g_new0 (KeyRef, 1);

  g_once (&once, methods_init, NULL);
  *ref = (KeyRef) { token->module->fn, token->slot_id, obj };
  /* Once attached, @ref belongs to the RSA or EC_KEY (key_ref_free). */
  if (EVP_PKEY_get_base_id (pub) == EVP_PKEY_RSA)
    {
      RSA *rsa = RSAPublicKey_dup (EVP_PKEY_get0_RSA (pub));

      if (rsa && RSA_set_method (rsa, rsa_method) == 1
          && RSA_set_ex_data (rsa, rsa_index, ref) == 1)
        ref = NULL;
      if (!ref && EVP_PKEY_assign_RSA (pkey, rsa) == 1)
        return g_steal_pointer (&pkey);
      RSA_free (rsa);
    }
  else
    {
      EC_KEY *ec = EC_KEY_dup (EVP_PKEY_get0_EC_KEY (pub));

      if (ec && EC_KEY_set_method (ec, ec_method) == 1
          && EC_KEY_set_ex_data (ec, ec_index, ref) == 1)
        ref = NULL;
      if (!ref && EVP_PKEY_assign_EC_KEY (pkey, ec) == 1)
        return g_steal_pointer (&pkey);
      EC_KEY_free (ec);
    }
  return NULL;
}

/* The public half: the public key object, else the certificate. */
static EVP_PKEY *
public_half (KprToken *token, CK_OBJECT_HANDLE pub_obj, CK_OBJECT_HANDLE cert_obj,
             GError **error)
{
  g_autoptr (GBytes) der = NULL;
  g_autoptr (X509) cert = NULL;
  const unsigned char *p;
  gsize len;

  if (pub_obj != CK_INVALID_HANDLE)
    return kpr_token_public_key_of (token, pub_obj, error);
  if (cert_obj == CK_INVALID_HANDLE)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "Token “%s” has neither a public key nor a certificate for this key",
                   token->info.label);
      return NULL;
    }
  if (!(der = kpr_token_get_attr (token, cert_obj, CKA_VALUE, error)))
    return NULL;
  p = g_bytes_get_data (der, &len);
  if (!(cert = d2i_X509 (NULL, &p, len)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN, "The certificate on token “%s” is malformed",
                   token->info.label);
      return NULL;
    }
  return X509_get_pubkey (cert);
}

EVP_PKEY *
kpr_token_get_private_key (KprToken *token, GBytes *id, GError **error)
{
  gsize id_len;
  const void *id_data = g_bytes_get_data (id, &id_len);
  CK_ATTRIBUTE tmpl[] = { { CKA_ID, (void *) id_data, id_len } };
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE, cert = CK_INVALID_HANDLE;
  g_autoptr (GArray) found = NULL;

  /* Every object of the identity in one search: the key, and what holds
   * its public half. */
  if (!(found = kpr_token_find_objects (token, tmpl, G_N_ELEMENTS (tmpl), error)))
    return NULL;
  for (guint i = 0; i < found->len; i++)
    {
      CK_OBJECT_HANDLE obj = g_array_index (found, CK_OBJECT_HANDLE, i);
      CK_ULONG klass;

      if (!kpr_token_get_ulong (token, obj, CKA_CLASS, &klass, NULL))
        continue;
      if (klass == CKO_PRIVATE_KEY && priv == CK_INVALID_HANDLE)
        priv = obj;
      else if (klass == CKO_PUBLIC_KEY && pub == CK_INVALID_HANDLE)
        pub = obj;
      else if (klass == CKO_CERTIFICATE && cert == CK_INVALID_HANDLE)
        cert = obj;
    }
  if (priv == CK_INVALID_HANDLE)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "No private key with this id on token “%s”%s", token->info.label,
                   kpr_token_is_logged_in (token) ? "" : " (not logged in)");
      return NULL;
    }
  return kpr_token_private_key_of (token, priv, pub, cert, error);
}

EVP_PKEY *
kpr_token_private_key_of (KprToken *token, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub,
                          CK_OBJECT_HANDLE cert, GError **error)
{
  g_autoptr (EVP_PKEY) public = NULL;
  EVP_PKEY *pkey;
  CK_ULONG key_type;

  if (!kpr_token_get_ulong (token, priv, CKA_KEY_TYPE, &key_type, error))
    return NULL;
  if (key_type != CKK_RSA && key_type != CKK_EC)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED, "Key type 0x%lx is not supported",
                   (unsigned long) key_type);
      return NULL;
    }
  if (!(public = public_half (token, pub, cert, error)))
    return NULL;
  if (EVP_PKEY_get_base_id (public) != (key_type == CKK_RSA ? EVP_PKEY_RSA : EVP_PKEY_EC))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "The public key on token “%s” is not of the private key's type",
                   token->info.label);
      return NULL;
    }
  if (!(pkey = wrap_public (token, priv, public)))
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN,
                   "Cannot use the private key on token “%s”: %s", token->info.label, detail);
    }
  return pkey;
}
