/* kpr-crl.c — the certificate revocation list: rewritten and signed (by
 * the one signing seam, kpr_ca_sign_crl) on every revocation. */
#include "config.h"

#include "kpr-server-private.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define CRL_VALIDITY (7 * 24 * 3600LL)

static gboolean
add_revoked (X509_CRL *crl, const char *serial_hex, gint64 when, int reason, GError **error)
{
  X509_REVOKED *rev = X509_REVOKED_new ();
  g_autoptr (BIGNUM) bn = NULL;
  ASN1_INTEGER *serial = NULL;
  ASN1_TIME *at = ASN1_TIME_set (NULL, (time_t) when);
  ASN1_ENUMERATED *code = NULL;
  gboolean ok = FALSE;

  if (rev && at && BN_hex2bn (&bn, serial_hex) && (serial = BN_to_ASN1_INTEGER (bn, NULL))
      && X509_REVOKED_set_serialNumber (rev, serial)
      && X509_REVOKED_set_revocationDate (rev, at))
    {
      ok = TRUE;
      if (reason > 0)
        {
          code = ASN1_ENUMERATED_new ();
          ok = code && ASN1_ENUMERATED_set (code, reason)
               && X509_REVOKED_add1_ext_i2d (rev, NID_crl_reason, code, 0, 0) == 1;
        }
      if (ok)
        ok = X509_CRL_add0_revoked (crl, rev) == 1;
      if (ok)
        rev = NULL;
    }
  ASN1_ENUMERATED_free (code);
  ASN1_INTEGER_free (serial);
  ASN1_TIME_free (at);
  X509_REVOKED_free (rev);
  if (!ok)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot add an entry to the CRL");
  return TRUE;
}

gboolean
kpr_ca_write_crl (KprCa *ca, GError **error)
{
  g_autoptr (X509_CRL) crl = X509_CRL_new ();
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (X509_EXTENSION) aki = NULL;
  g_autofree char *path = kpr_ca_path (ca->dir, "crl.der");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 number;
  ASN1_INTEGER *num;
  ASN1_TIME *t1 = ASN1_TIME_set (NULL, (time_t) now);
  ASN1_TIME *t2 = ASN1_TIME_set (NULL, (time_t) (now + CRL_VALIDITY));
  X509V3_CTX ctx;
  unsigned char *der = NULL;
  int len;
  gboolean ok;
  int rc;

  ok = crl && t1 && t2 && X509_CRL_set_version (crl, X509_CRL_VERSION_2)
       && X509_CRL_set_issuer_name (crl, X509_get_subject_name (ca->cert))
       && X509_CRL_set1_lastUpdate (crl, t1) && X509_CRL_set1_nextUpdate (crl, t2);
  ASN1_TIME_free (t1);
  ASN1_TIME_free (t2);
  if (!ok)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build the CRL");

  /* Expired certificates stay listed for a day after they expire. */
  stmt = kpr_store_prepare (ca->db,
                            "SELECT serial, revoked, COALESCE(reason, 0) FROM certs"
                            " WHERE revoked IS NOT NULL AND not_after > ? ORDER BY revoked",
                            error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now - 86400);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    if (!add_revoked (crl, (const char *) sqlite3_column_text (stmt, 0),
                      sqlite3_column_int64 (stmt, 1), sqlite3_column_int (stmt, 2), error))
      return FALSE;
  if (rc != SQLITE_DONE)
    return kpr_store_fail (ca->db, "listing revoked certificates", error);

  if ((number = kpr_store_next_crl_number (ca->db, error)) < 0)
    return FALSE;
  num = ASN1_INTEGER_new ();
  ok = num && ASN1_INTEGER_set_int64 (num, number)
       && X509_CRL_add1_ext_i2d (crl, NID_crl_number, num, 0, 0) == 1;
  ASN1_INTEGER_free (num);
  X509V3_set_ctx (&ctx, ca->cert, NULL, NULL, crl, 0);
  aki = ok ? X509V3_EXT_nconf_nid (NULL, &ctx, NID_authority_key_identifier, "keyid:always")
           : NULL;
  if (!aki || !X509_CRL_add_ext (crl, aki, -1) || !X509_CRL_sort (crl))
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build the CRL");
  if (!kpr_ca_sign_crl (ca, crl, error))
    return FALSE;
  if ((len = i2d_X509_CRL (crl, &der)) <= 0)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot encode the CRL");
  /* Atomic replace: a reader never sees half a CRL. */
  ok = g_file_set_contents_full (path, (const char *) der, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, NULL);
  OPENSSL_free (der);
  if (!ok)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write %s", path);
      return FALSE;
    }
  return TRUE;
}

GBytes *
kpr_ca_read_crl (KprCa *ca, GError **error)
{
  g_autofree char *path = kpr_ca_path (ca->dir, "crl.der");
  char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot read %s", path);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}
