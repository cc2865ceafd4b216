/* kpr-p12-guard.c — what a PKCS#12 file from elsewhere must pass before
 * certkeeper spends any work on its passphrase.
 *
 * A backup is a file a person found somewhere: it may come from Windows or
 * an old browser (RC2-40, 3DES: OpenSSL 3 keeps RC2 in its legacy
 * provider), or be made to keep the importer busy: PKCS#12 lets the file
 * name its own iteration counts, and 2^31-1 rounds held an import for some
 * 13 minutes.  So the counts are read from the structure, without deriving
 * anything, and refused above a cap; nothing may follow the encoded file.
 */
#include "config.h"

#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "kpr-token-private.h"

/* Ten times certkeeper's own modern preset (100 000); browsers and Windows
 * write 2 000 to 10 000.  At the rate measured here (~0.36 µs a round) a
 * file at the cap costs about a second for its three derivations. */
#define KPR_P12_MAX_ITER 1000000

/* Kept for the life of the process: OpenSSL's clean-up at exit leaves a
 * provider someone still holds, and LSan reports it when nobody does. */
static OSSL_PROVIDER *legacy_provider;

void
kpr_p12_reader_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      /* Reading only: the writer pins "provider=default" (kpr-p12.c), so
       * a weak algorithm is never chosen for a new file.  Keeping the
       * fallbacks leaves the default provider loaded beside it.  Without
       * the module, old files fail with a clear error instead. */
      legacy_provider = OSSL_PROVIDER_try_load (NULL, "legacy", 1);
      g_once_init_leave (&done, 1);
    }
}

/* The iteration count a PBE AlgorithmIdentifier asks for: PKCS#12's own
 * PBEs and PBES1 carry PBEParameter, PBES2 a PBKDF2 key function.  -1 when
 * the algorithm carries none we know (OpenSSL then refuses it itself). */
static gint64
pbe_iterations (const X509_ALGOR *alg)
{
  const ASN1_OBJECT *obj;
  int ptype;
  const void *pval;
  gint64 iter = -1;

  X509_ALGOR_get0 (&obj, &ptype, &pval, alg);
  if (ptype != V_ASN1_SEQUENCE)
    return -1;
  if (OBJ_obj2nid (obj) == NID_pbes2)
    {
      PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence (ASN1_ITEM_rptr (PBE2PARAM), alg->parameter);
      PBKDF2PARAM *kdf = NULL;

      if (p2 && OBJ_obj2nid (p2->keyfunc->algorithm) == NID_id_pbkdf2
          && (kdf = ASN1_TYPE_unpack_sequence (ASN1_ITEM_rptr (PBKDF2PARAM), p2->keyfunc->parameter))
          && !ASN1_INTEGER_get_int64 (&iter, kdf->iter))
        iter = G_MAXINT64;
      PBKDF2PARAM_free (kdf);
      PBE2PARAM_free (p2);
      return iter;
    }
  {
    PBEPARAM *pbe = ASN1_TYPE_unpack_sequence (ASN1_ITEM_rptr (PBEPARAM), alg->parameter);

    if (pbe && !ASN1_INTEGER_get_int64 (&iter, pbe->iter))
      iter = G_MAXINT64;
    PBEPARAM_free (pbe);
  }
  return iter;
}

static gboolean
check_count (gint64 iter, const char *what, GError **error)
{
  if (iter <= KPR_P12_MAX_ITER)
    return TRUE;
  g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
               "The backup asks for %" G_GINT64_FORMAT " rounds to derive its %s key; certkeeper "
               "reads at most %d (docs/errors.md, code 3)", iter, what, KPR_P12_MAX_ITER);
  return FALSE;
}

static gboolean
check_bags (const STACK_OF (PKCS12_SAFEBAG) *bags, GError **error)
{
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num (bags); i++)
    {
      const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value (bags, i);
      const X509_ALGOR *alg = NULL;

      if (PKCS12_SAFEBAG_get_nid (bag) != NID_pkcs8ShroudedKeyBag)
        continue;
      X509_SIG_get0 (PKCS12_SAFEBAG_get0_pkcs8 (bag), &alg, NULL);
      if (alg && !check_count (pbe_iterations (alg), "private", error))
        return FALSE;
    }
  return TRUE;
}

/* Before the MAC: the MAC's count and those visible without the
 * passphrase.  After (@pass given): those inside encrypted safes, which
 * the outer count, already checked, protects. */
static gboolean
check_safes (PKCS12 *p12, const KprSecret *pass, GError **error)
{
  STACK_OF (PKCS7) *safes = PKCS12_unpack_authsafes (p12);
  gboolean ok = TRUE;

  for (int i = 0; ok && i < sk_PKCS7_num (safes); i++)
    {
      PKCS7 *p7 = sk_PKCS7_value (safes, i);
      STACK_OF (PKCS12_SAFEBAG) *bags = NULL;
      int nid = OBJ_obj2nid (p7->type);

      if (nid == NID_pkcs7_encrypted && p7->d.encrypted && p7->d.encrypted->enc_data)
        {
          ok = check_count (pbe_iterations (p7->d.encrypted->enc_data->algorithm), "content",
                            error);
          if (ok && pass)
            bags = PKCS12_unpack_p7encdata (p7, pass->data, (int) pass->len);
        }
      else if (nid == NID_pkcs7_data && !pass)
        bags = PKCS12_unpack_p7data (p7);
      ok = ok && check_bags (bags, error);
      sk_PKCS12_SAFEBAG_pop_free (bags, PKCS12_SAFEBAG_free);
    }
  sk_PKCS7_pop_free (safes, PKCS7_free);
  ERR_clear_error ();
  return ok;
}

gboolean
kpr_p12_check_before_mac (PKCS12 *p12, gsize trailing, GError **error)
{
  const ASN1_INTEGER *iter = NULL;
  gint64 count = 1;

  if (trailing > 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The file holds %" G_GSIZE_FORMAT " bytes more than its PKCS#12 backup: it is "
                   "damaged or not a backup", trailing);
      return FALSE;
    }
  PKCS12_get0_mac (NULL, NULL, NULL, &iter, p12);
  if (iter && !ASN1_INTEGER_get_int64 (&count, iter))
    count = G_MAXINT64;
  return check_count (count, "integrity", error) && check_safes (p12, NULL, error);
}

gboolean
kpr_p12_check_after_mac (PKCS12 *p12, const KprSecret *pass, GError **error)
{
  return check_safes (p12, pass, error);
}
