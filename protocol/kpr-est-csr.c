/* kpr-est-csr.c — building CSRs and checking what a server issued.
 *
 * CSRs are signed through EVP_PKEY only, so a token-backed key (libp11)
 * signs exactly like a software one.  The issued-certificate check is the
 * single gate every certificate from a server passes (DESIGN §4).
 */
#include "config.h"

#include "kpr-est.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE_CTX, X509_STORE_CTX_free)

static void
set_ossl_error (GError **error, KprError code, const char *what)
{
  g_autofree char *detail = kpr_ossl_error_string ();

  g_set_error (error, KPR_ERROR, code, "%s (%s)", what, detail);
}

/* The extensions certkeeper can fill in when a server asks for them
 * (RFC 7030 §4.5.2): what a client certificate of a person has. */
static const char *
extension_value (int nid, EVP_PKEY *key)
{
  switch (nid)
    {
    case NID_key_usage:
      return EVP_PKEY_is_a (key, "RSA") ? "critical,digitalSignature,keyEncipherment"
                                        : "critical,digitalSignature";
    case NID_ext_key_usage:
      return "clientAuth";
    case NID_basic_constraints:
      return "critical,CA:FALSE";
    case NID_subject_key_identifier:
      return "hash";
    default:
      return NULL;
    }
}

/* Adds @san and the extensions @attrs asks for; the OIDs asked for that
 * cannot be supplied go to @unmet. */
static gboolean
add_extensions (X509_REQ *req, EVP_PKEY *key, const GENERAL_NAMES *san,
                const KprEstCsrAttrs *attrs, GPtrArray *unmet, GError **error)
{
  STACK_OF (X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null ();
  X509V3_CTX ctx;
  gboolean ok = exts != NULL;

  X509V3_set_ctx (&ctx, NULL, NULL, req, NULL, 0);
  if (ok && san && sk_GENERAL_NAME_num (san) > 0)
    {
      X509_EXTENSION *ext = X509V3_EXT_i2d (NID_subject_alt_name, 0, (void *) san);

      ok = ext && sk_X509_EXTENSION_push (exts, ext);
      if (!ok)
        X509_EXTENSION_free (ext);
    }
  for (gsize i = 0; ok && attrs && attrs->extensions[i]; i++)
    {
      ASN1_OBJECT *obj = OBJ_txt2obj (attrs->extensions[i], 1);
      int nid = obj ? OBJ_obj2nid (obj) : NID_undef;
      const char *value = extension_value (nid, key);
      X509_EXTENSION *ext;

      ASN1_OBJECT_free (obj);
      if (nid == NID_subject_alt_name && san && sk_GENERAL_NAME_num (san) > 0)
        continue;
      if (!value)
        {
          g_ptr_array_add (unmet, g_strdup (attrs->extensions[i]));
          continue;
        }
      ext = X509V3_EXT_nconf_nid (NULL, &ctx, nid, value);
      ok = ext && sk_X509_EXTENSION_push (exts, ext);
      if (!ok)
        X509_EXTENSION_free (ext);
    }
  ok = ok && (sk_X509_EXTENSION_num (exts) == 0 || X509_REQ_add_extensions (req, exts));
  sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
  if (!ok)
    set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot add the requested extensions");
  return ok;
}

X509_REQ *
kpr_est_csr_new_with_attrs (EVP_PKEY *key, const X509_NAME *subject, const GENERAL_NAMES *san,
                            const KprEstCsrAttrs *attrs, const char *challenge_password,
                            GStrv *ret_unmet, GError **error)
{
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (GPtrArray) unmet = g_ptr_array_new_with_free_func (g_free);
  const EVP_MD *md = EVP_sha256 ();

  g_return_val_if_fail (key != NULL && subject != NULL, NULL);

  if (attrs && !kpr_est_csrattrs_check_key (attrs, key, error))
    return NULL;
  if (attrs && attrs->digest && !(md = EVP_get_digestbyname (attrs->digest)))
    md = EVP_sha256 ();
  req = X509_REQ_new ();
  if (!req || !X509_REQ_set_version (req, X509_REQ_VERSION_1)
      || !X509_REQ_set_subject_name (req, subject) || !X509_REQ_set_pubkey (req, key))
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot build the certificate request");
      return NULL;
    }
  if (challenge_password
      && !X509_REQ_add1_attr_by_NID (req, NID_pkcs9_challengePassword, MBSTRING_UTF8,
                                     (const unsigned char *) challenge_password, -1))
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot add the challenge password");
      return NULL;
    }
  if (!add_extensions (req, key, san, attrs, unmet, error))
    return NULL;
  for (gsize i = 0; attrs && attrs->other[i]; i++)
    g_ptr_array_add (unmet, g_strdup (attrs->other[i]));
  /* SHA-256 unless the server asks for more; a token may refuse, which
   * is an error of the token, not of the request. */
  if (X509_REQ_sign (req, key, md) <= 0)
    {
      set_ossl_error (error, KPR_ERROR_TOKEN, "The key could not sign the certificate request");
      return NULL;
    }
  if (ret_unmet)
    {
      g_ptr_array_add (unmet, NULL);
      *ret_unmet = (GStrv) g_ptr_array_free (g_steal_pointer (&unmet), FALSE);
    }
  return g_steal_pointer (&req);
}

X509_REQ *
kpr_est_csr_new (EVP_PKEY *key, const X509_NAME *subject, const GENERAL_NAMES *san,
                 const char *challenge_password, GError **error)
{
  return kpr_est_csr_new_with_attrs (key, subject, san, NULL, challenge_password, NULL, error);
}

X509_REQ *
kpr_est_csr_new_renewal (EVP_PKEY *new_key, X509 *current, const char *challenge_password,
                         GError **error)
{
  g_autoptr (GENERAL_NAMES) san = NULL;
  int crit = -1;

  g_return_val_if_fail (new_key != NULL && current != NULL, NULL);

  san = X509_get_ext_d2i (current, NID_subject_alt_name, &crit, NULL);
  if (!san && crit != -1)
    {
      /* crit == -2: several SAN extensions; -1: none. */
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The current certificate's subject alternative name cannot be read");
      return NULL;
    }
  return kpr_est_csr_new (new_key, X509_get_subject_name (current), san, challenge_password,
                          error);
}

KprX509Stack *
kpr_est_roots (KprX509Stack *certs)
{
  KprX509Stack *roots = sk_X509_new_null ();
  int i;

  g_return_val_if_fail (certs != NULL, roots);

  for (i = 0; roots && i < sk_X509_num (certs); i++)
    {
      X509 *cert = sk_X509_value (certs, i);

      /* Signature checked too: a "self-signed" name match alone is what an
       * attacker can forge cheapest. */
      if (X509_self_signed (cert, 1) == 1)
        {
          X509_up_ref (cert);
          if (!sk_X509_push (roots, cert))
            X509_free (cert);
        }
    }
  ERR_clear_error ();
  return roots;
}

gboolean
kpr_est_verify_issued (X509 *cert, EVP_PKEY *key, KprX509Stack *anchors,
                       KprX509Stack *untrusted, time_t at, GError **error)
{
  g_autoptr (X509_STORE) store = NULL;
  g_autoptr (X509_STORE_CTX) ctx = NULL;
  X509_VERIFY_PARAM *param;
  int i, err;

  g_return_val_if_fail (cert != NULL, FALSE);

  if (key && EVP_PKEY_eq (X509_get0_pubkey (cert), key) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "The server returned a certificate for another key");
      return FALSE;
    }
  if (!anchors || sk_X509_num (anchors) == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                   "No trust anchor is set for this server");
      return FALSE;
    }
  store = X509_STORE_new ();
  ctx = X509_STORE_CTX_new ();
  if (!store || !ctx)
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Out of memory");
      return FALSE;
    }
  for (i = 0; i < sk_X509_num (anchors); i++)
    if (!X509_STORE_add_cert (store, sk_X509_value (anchors, i)))
      {
        set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot load the trust anchor");
        return FALSE;
      }
  if (!X509_STORE_CTX_init (ctx, store, cert, untrusted))
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot set up verification");
      return FALSE;
    }
  param = X509_STORE_CTX_get0_param (ctx);
  /* Anchors are whatever the person confirmed, possibly an issuing CA
   * below an unpublished root. */
  X509_VERIFY_PARAM_set_flags (param, X509_V_FLAG_PARTIAL_CHAIN);
  if (at != 0)
    X509_VERIFY_PARAM_set_time (param, at);
  if (X509_verify_cert (ctx) == 1)
    return TRUE;
  err = X509_STORE_CTX_get_error (ctx);
  ERR_clear_error ();
  g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
               "The certificate the server returned is not trusted: %s",
               X509_verify_cert_error_string (err));
  return FALSE;
}
