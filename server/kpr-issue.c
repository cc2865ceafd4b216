/* kpr-issue.c — issuing and revoking certificates, and manual approvals.
 *
 * Each issuance is one BEGIN IMMEDIATE transaction: the secret word is
 * consumed, the previous certificates of the user are revoked (a new
 * certificate expires the previous one), the new one is recorded under a
 * UNIQUE random serial and the CRL is rewritten — or none of it happens.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

const char *
kpr_issue_kind_name (KprIssueKind kind)
{
  switch (kind)
    {
    case KPR_ISSUE_ENROLL: return "simpleenroll";
    case KPR_ISSUE_REENROLL: return "simplereenroll";
    case KPR_ISSUE_SERVERKEYGEN: return "serverkeygen";
    default: return "unknown";
    }
}

gboolean
kpr_revoke_user_certs (KprCa *ca, gint64 user_id, int reason, guint *ret_count, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (
    ca->db, "UPDATE certs SET revoked = ?, reason = ? WHERE user_id = ? AND revoked IS NULL"
            " AND not_after > ?", error);
  gint64 now = now_s ();

  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_int (stmt, 2, reason);
  sqlite3_bind_int64 (stmt, 3, user_id);
  sqlite3_bind_int64 (stmt, 4, now);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return kpr_store_fail (ca->db, "revoking previous certificates", error);
  *ret_count = (guint) sqlite3_changes (ca->db);
  return TRUE;
}

static char *pubkey_fingerprint (EVP_PKEY *pub);

/* Records @cert; FALSE with KPR_ERROR_EXISTS on a serial collision. */
static gboolean
record_cert (KprCa *ca, const KprUser *user, KprIssueKind kind, X509 *cert,
             const char *serial, gint64 now, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *subject = X509_NAME_oneline (X509_get_subject_name (cert), NULL, 0);
  unsigned char *der = NULL;
  struct tm tm;
  gint64 not_after = 0;
  int len = i2d_X509 (cert, &der);
  int rc;

  if (len <= 0 || !subject)
    {
      OPENSSL_free (der);
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot encode the certificate");
      return FALSE;
    }
  if (ASN1_TIME_to_tm (X509_get0_notAfter (cert), &tm))
    not_after = (gint64) timegm (&tm);
  stmt = kpr_store_prepare (ca->db,
                            "INSERT INTO certs(serial, user_id, kind, subject, not_before,"
                            " not_after, der, issued, pubkey) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            error);
  if (!stmt)
    {
      OPENSSL_free (der);
      return FALSE;
    }
  sqlite3_bind_text (stmt, 1, serial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, user->id);
  sqlite3_bind_text (stmt, 3, kpr_issue_kind_name (kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, now - 60);
  sqlite3_bind_int64 (stmt, 6, not_after);
  sqlite3_bind_blob (stmt, 7, der, len, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 8, now);
  {
    g_autofree char *fp = pubkey_fingerprint (X509_get0_pubkey (cert));
    sqlite3_bind_text (stmt, 9, fp, -1, SQLITE_TRANSIENT);
  }
  rc = sqlite3_step (stmt);
  OPENSSL_free (der);
  if (rc != SQLITE_DONE)
    return kpr_store_fail (ca->db, "recording the certificate", error);
  return TRUE;
}

static gboolean
close_pending (KprCa *ca, gint64 pending_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (
    ca->db, "UPDATE pending SET done = 1 WHERE id = ? AND approved = 1 AND done = 0", error);

  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, pending_id);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return kpr_store_fail (ca->db, "closing the request", error);
  if (sqlite3_changes (ca->db) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "This approved request was already fetched; enroll again with a new secret "
                   "word");
      return FALSE;
    }
  return TRUE;
}

X509 *
kpr_issue (KprCa *ca, const KprUser *user, EVP_PKEY *pub, KprIssueKind kind,
           gint64 word_id, gint64 pending_id, const char *peer, GError **error)
{
  g_autoptr (KprUser) fresh = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *serial_hex = NULL;
  g_autofree char *detail = NULL;
  gint64 now = now_s ();
  guint revoked = 0;

  if (!kpr_store_begin (ca->db, error))
    return NULL;
  /* Re-read inside the lock: the user may have been disabled meanwhile. */
  fresh = kpr_user_lookup_id (ca, user->id, error);
  if (!fresh || fresh->disabled)
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "User %s is disabled", user->name);
      goto fail;
    }
  if ((word_id > 0 && !kpr_word_consume (ca, word_id, error))
      || (pending_id > 0 && !close_pending (ca, pending_id, error))
      || !kpr_revoke_user_certs (ca, user->id, 4 /* superseded */, &revoked, error))
    goto fail;

  /* 126 random bits make a collision practically impossible, but the
   * UNIQUE constraint decides, and we simply draw again. */
  for (int attempt = 0; attempt < 4; attempt++)
    {
      g_autoptr (BIGNUM) serial = NULL;
      g_autoptr (GError) local = NULL;

      g_clear_pointer (&serial_hex, g_free);
      g_clear_pointer (&cert, X509_free);
      if (!kpr_serial_random (&serial, &serial_hex, error)
          || !(cert = kpr_ca_make_user_cert (ca, user->name, pub, serial, now, error)))
        goto fail;
      if (record_cert (ca, user, kind, cert, serial_hex, now, &local))
        break;
      if (!g_error_matches (local, KPR_ERROR, KPR_ERROR_EXISTS) || attempt == 3)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          goto fail;
        }
    }
  if (revoked > 0 && !kpr_ca_write_crl (ca, error))
    goto fail;
  detail = g_strdup_printf ("serial %s issued to CN=%s; %u previous revoked", serial_hex,
                            user->name, revoked);
  if (!kpr_store_audit (ca->db, user->name, kpr_issue_kind_name (kind), detail, peer, error)
      || !kpr_store_commit (ca->db, error))
    goto fail;
  return g_steal_pointer (&cert);

fail:
  kpr_store_rollback (ca->db);
  return NULL;
}

/* ---- client certificates ------------------------------------------------ */

static char *
cert_serial_hex (X509 *cert)
{
  g_autoptr (BIGNUM) bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (cert), NULL);
  char *hex;
  char *ret;

  if (!bn || !(hex = BN_bn2hex (bn)))
    return NULL;
  ret = g_strdup (hex);
  OPENSSL_free (hex);
  return ret;
}

KprUser *
kpr_cert_owner (KprCa *ca, X509 *cert, char **ret_serial, GError **error)
{
  g_autofree char *serial = cert_serial_hex (cert);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  unsigned char *der = NULL;
  KprUser *user;
  int len;
  gboolean same;

  if (!serial)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "The client certificate has no serial");
      return NULL;
    }
  stmt = kpr_store_prepare (ca->db,
                            "SELECT user_id, der, revoked IS NOT NULL, not_after FROM certs"
                            " WHERE serial = ?", error);
  if (!stmt)
    return NULL;
  sqlite3_bind_text (stmt, 1, serial, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The client certificate was not issued by this CA");
      return NULL;
    }
  /* The whole certificate must be the one we issued, not just its serial. */
  len = i2d_X509 (cert, &der);
  same = len > 0 && len == sqlite3_column_bytes (stmt, 1)
         && memcmp (der, sqlite3_column_blob (stmt, 1), (size_t) len) == 0;
  OPENSSL_free (der);
  if (!same)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The client certificate was not issued by this CA");
      return NULL;
    }
  if (sqlite3_column_int (stmt, 2))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                   "The client certificate %s is revoked; enroll again with a secret word",
                   serial);
      return NULL;
    }
  if (sqlite3_column_int64 (stmt, 3) <= now_s ())
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                   "The client certificate %s has expired; enroll again with a secret word",
                   serial);
      return NULL;
    }
  user = kpr_user_lookup_id (ca, sqlite3_column_int64 (stmt, 0), error);
  if (user && user->disabled)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED, "User %s is disabled", user->name);
      kpr_user_free (user);
      return NULL;
    }
  if (!user && error && !*error)
    g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "The certificate's user no longer exists");
  if (user && ret_serial)
    *ret_serial = g_steal_pointer (&serial);
  return user;
}

char *
kpr_user_current_serial (KprCa *ca, gint64 user_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (
    ca->db, "SELECT serial FROM certs WHERE user_id = ? AND revoked IS NULL AND not_after > ?"
            " ORDER BY issued DESC, rowid DESC LIMIT 1", error);
  int rc;

  if (!stmt)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, user_id);
  sqlite3_bind_int64 (stmt, 2, now_s ());
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    kpr_store_fail (ca->db, "looking up the current certificate", error);
  else
    g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "You have no valid certificate to revoke");
  return NULL;
}

gboolean
kpr_revoke (KprCa *ca, const char *serial, gint64 user_id, int reason, gint64 word_id,
            const char *actor, const char *peer, gboolean *ret_already, GError **error)
{
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (sqlite3_stmt) upd = NULL;
  g_autofree char *detail = NULL;

  if (!kpr_store_begin (ca->db, error))
    return FALSE;
  find = kpr_store_prepare (ca->db, "SELECT user_id, revoked IS NOT NULL FROM certs"
                                    " WHERE serial = ?", error);
  if (!find)
    goto fail;
  sqlite3_bind_text (find, 1, serial, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (find) != SQLITE_ROW)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "No certificate with serial %s",
                   serial);
      goto fail;
    }
  if (user_id >= 0 && sqlite3_column_int64 (find, 0) != user_id)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                   "Certificate %s belongs to someone else; you may revoke only your own",
                   serial);
      goto fail;
    }
  /* The word is spent either way: it was used for this request. */
  if (word_id > 0 && !kpr_word_consume (ca, word_id, error))
    goto fail;
  if (sqlite3_column_int (find, 1))
    {
      /* Already revoked is success, so a retry after a lost answer
       * converges (protocol/EXTENSIONS.md §2). */
      if (ret_already)
        *ret_already = TRUE;
      return kpr_store_commit (ca->db, error);
    }
  upd = kpr_store_prepare (ca->db, "UPDATE certs SET revoked = ?, reason = ? WHERE serial = ?",
                           error);
  if (!upd)
    goto fail;
  sqlite3_bind_int64 (upd, 1, now_s ());
  sqlite3_bind_int (upd, 2, reason);
  sqlite3_bind_text (upd, 3, serial, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (upd) != SQLITE_DONE)
    {
      kpr_store_fail (ca->db, "revoking", error);
      goto fail;
    }
  detail = g_strdup_printf ("serial %s revoked", serial);
  /* The CRL is rewritten before the answer goes out. */
  if (!kpr_ca_write_crl (ca, error)
      || !kpr_store_audit (ca->db, actor, "revoke", detail, peer, error))
    goto fail;
  if (ret_already)
    *ret_already = FALSE;
  return kpr_store_commit (ca->db, error);

fail:
  kpr_store_rollback (ca->db);
  return FALSE;
}

gboolean
kpr_ca_revoke_serial (KprCa *ca, const char *serial, const char *actor, GError **error)
{
  g_autofree char *canon = kpr_serial_normalize (serial, error);

  if (!canon)
    return FALSE;
  return kpr_revoke (ca, canon, -1, 0, 0, actor ? actor : "admin", NULL, NULL, error);
}
/* ---- manual approval ------------------------------------------------------ */

static char *
pubkey_fingerprint (EVP_PKEY *pub)
{
  unsigned char *der = NULL;
  int len = i2d_PUBKEY (pub, &der);
  char *hex = len > 0 ? g_compute_checksum_for_data (G_CHECKSUM_SHA256, der, (gsize) len) : NULL;

  OPENSSL_free (der);
  return hex;
}

gboolean
kpr_pending_find (KprCa *ca, const char *name, EVP_PKEY *pub, KprIssueKind kind,
                  const KprSecret *password, gint64 *ret_id, gboolean *ret_approved,
                  KprUser **ret_user, GError **error)
{
  g_autoptr (KprUser) user = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *fp = pubkey_fingerprint (pub);
  gint64 match = 0;
  gboolean approved = FALSE;
  int rc;

  *ret_id = 0;
  user = kpr_user_lookup (ca, name, error);
  if (!user)
    return error == NULL || *error == NULL;
  if (!fp)
    return TRUE;
  stmt = kpr_store_prepare (ca->db,
                            "SELECT id, salt, hash, approved FROM pending WHERE user_id = ?"
                            " AND kind = ? AND pubkey = ? AND done = 0", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user->id);
  sqlite3_bind_text (stmt, 2, kpr_issue_kind_name (kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, fp, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint8 hash[32];

      if (sqlite3_column_bytes (stmt, 1) != KPR_SALT_LEN || sqlite3_column_bytes (stmt, 2) != 32)
        continue;
      kpr_word_hash (password, sqlite3_column_blob (stmt, 1), hash);
      if (CRYPTO_memcmp (hash, sqlite3_column_blob (stmt, 2), 32) == 0)
        {
          match = sqlite3_column_int64 (stmt, 0);
          approved = sqlite3_column_int (stmt, 3) != 0;
        }
    }
  if (rc != SQLITE_DONE)
    return kpr_store_fail (ca->db, "looking up pending requests", error);
  *ret_id = match;
  *ret_approved = approved;
  if (match && ret_user)
    *ret_user = g_steal_pointer (&user);
  return TRUE;
}

gboolean
kpr_pending_find_by_key (KprCa *ca, EVP_PKEY *pub, KprIssueKind kind, gint64 *ret_id,
                         gboolean *ret_approved, KprUser **ret_user, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *fp = pubkey_fingerprint (pub);
  gint64 user_id = 0;
  int rc;

  *ret_id = 0;
  *ret_approved = FALSE;
  if (!fp)
    return TRUE;
  stmt = kpr_store_prepare (ca->db,
                            "SELECT id, approved, user_id FROM pending WHERE kind = ?"
                            " AND pubkey = ? AND done = 0 ORDER BY id DESC LIMIT 1", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_text (stmt, 1, kpr_issue_kind_name (kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, fp, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *ret_id = sqlite3_column_int64 (stmt, 0);
      *ret_approved = sqlite3_column_int (stmt, 1) != 0;
      user_id = sqlite3_column_int64 (stmt, 2);
    }
  else if (rc != SQLITE_DONE)
    return kpr_store_fail (ca->db, "looking up pending requests", error);
  if (*ret_id && ret_user && !(*ret_user = kpr_user_lookup_id (ca, user_id, error)))
    return FALSE;
  return TRUE;
}

gint64
kpr_pending_create (KprCa *ca, const KprUser *user, EVP_PKEY *pub, KprIssueKind kind,
                    gint64 word_id, const KprSecret *password, const char *peer,
                    GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *fp = pubkey_fingerprint (pub);
  g_autofree char *detail = NULL;
  guint8 salt[KPR_SALT_LEN];
  guint8 hash[32];
  gint64 id;

  if (!fp || RAND_bytes (salt, sizeof salt) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot record the request");
      return 0;
    }
  kpr_word_hash (password, salt, hash);
  if (!kpr_store_begin (ca->db, error))
    return 0;
  if (!kpr_word_consume (ca, word_id, error))
    goto fail;
  stmt = kpr_store_prepare (ca->db,
                            "INSERT INTO pending(user_id, kind, pubkey, salt, hash, created)"
                            " VALUES (?, ?, ?, ?, ?, ?)", error);
  if (!stmt)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, user->id);
  sqlite3_bind_text (stmt, 2, kpr_issue_kind_name (kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, fp, -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 4, salt, sizeof salt, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 5, hash, sizeof hash, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, now_s ());
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      kpr_store_fail (ca->db, "recording the request", error);
      goto fail;
    }
  id = sqlite3_last_insert_rowid (ca->db);
  detail = g_strdup_printf ("request %" G_GINT64_FORMAT " (%s) waits for approval", id,
                            kpr_issue_kind_name (kind));
  if (!kpr_store_audit (ca->db, user->name, "pending", detail, peer, error)
      || !kpr_store_commit (ca->db, error))
    goto fail;
  return id;

fail:
  kpr_store_rollback (ca->db);
  return 0;
}

gboolean
kpr_ca_approve (KprCa *ca, gint64 id, char **ret_user, GError **error)
{
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (sqlite3_stmt) upd = NULL;
  g_autofree char *name = NULL;
  g_autofree char *detail = NULL;

  if (!kpr_store_begin (ca->db, error))
    return FALSE;
  find = kpr_store_prepare (ca->db, "SELECT u.name, p.done FROM pending p JOIN users u"
                                    " ON u.id = p.user_id WHERE p.id = ?", error);
  if (!find)
    goto fail;
  sqlite3_bind_int64 (find, 1, id);
  if (sqlite3_step (find) != SQLITE_ROW)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "No request %" G_GINT64_FORMAT "; the ID is printed in the server log and "
                   "stored in the audit table", id);
      goto fail;
    }
  name = g_strdup ((const char *) sqlite3_column_text (find, 0));
  if (sqlite3_column_int (find, 1))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                   "Request %" G_GINT64_FORMAT " was already approved and issued", id);
      goto fail;
    }
  upd = kpr_store_prepare (ca->db, "UPDATE pending SET approved = 1 WHERE id = ?", error);
  if (!upd)
    goto fail;
  sqlite3_bind_int64 (upd, 1, id);
  detail = g_strdup_printf ("request %" G_GINT64_FORMAT " approved", id);
  if (sqlite3_step (upd) != SQLITE_DONE)
    {
      kpr_store_fail (ca->db, "approving", error);
      goto fail;
    }
  if (!kpr_store_audit (ca->db, "admin", "approve", detail, NULL, error)
      || !kpr_store_commit (ca->db, error))
    goto fail;
  if (ret_user)
    *ret_user = g_steal_pointer (&name);
  return TRUE;

fail:
  kpr_store_rollback (ca->db);
  return FALSE;
}

X509 *
kpr_cert_find_by_key (KprCa *ca, EVP_PKEY *pub, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *fp = pub ? pubkey_fingerprint (pub) : NULL;
  const unsigned char *der;
  X509 *cert = NULL;
  int rc;

  if (!fp)
    return NULL;
  stmt = kpr_store_prepare (ca->db,
                            "SELECT der FROM certs WHERE pubkey = ? AND revoked IS NULL"
                            " AND not_after > ? ORDER BY issued DESC LIMIT 1", error);
  if (!stmt)
    return NULL;
  sqlite3_bind_text (stmt, 1, fp, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time () / G_USEC_PER_SEC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW && (der = sqlite3_column_blob (stmt, 0)))
    cert = d2i_X509 (NULL, &der, sqlite3_column_bytes (stmt, 0));
  else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    kpr_store_fail (ca->db, "looking up certificates", error);
  return cert;
}
