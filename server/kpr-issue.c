/* kpr-issue.c — issuing and revoking certificates in the database.
 *
 * Each issuance is part of one transaction (with the secret word consumed
 * or the request closed by the caller): the previous certificates of the
 * user are revoked (a new certificate expires the previous one), the new
 * one is recorded under a UNIQUE random serial, and the CRL is marked for
 * publishing — or none of it happens.  The CRL itself is built off the
 * request path (kpr-crl.c): its cost grows with the history, a request's
 * must not.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_BIT_STRING, ASN1_BIT_STRING_free)

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

/* ---- public keys, encoded once ------------------------------------------ */

void
kpr_pubkey_free (KprPubkey *pk)
{
  if (!pk)
    return;
  EVP_PKEY_free (pk->key);
  g_clear_pointer (&pk->spki, g_bytes_unref);
  g_free (pk->fingerprint);
  g_free (pk->type);
  ASN1_OBJECT_free (pk->alg);
  if (pk->ptype == V_ASN1_OBJECT)
    ASN1_OBJECT_free (pk->pval);
  else if (pk->ptype == V_ASN1_SEQUENCE)
    ASN1_STRING_free (pk->pval);
  g_free (pk->bits);
  g_free (pk);
}

static char *
key_type_name (EVP_PKEY *key)
{
  char curve[64] = "";

  if (EVP_PKEY_is_a (key, "RSA"))
    return g_strdup_printf ("RSA %d", EVP_PKEY_get_bits (key));
  if (EVP_PKEY_is_a (key, "EC")
      && EVP_PKEY_get_utf8_string_param (key, "group", curve, sizeof curve, NULL))
    return g_strdup_printf ("EC %s", g_str_equal (curve, "prime256v1")  ? "P-256"
                                     : g_str_equal (curve, "secp384r1") ? "P-384"
                                                                        : curve);
  return g_strdup (EVP_PKEY_get0_type_name (key) ? EVP_PKEY_get0_type_name (key) : "?");
}

KprPubkey *
kpr_pubkey_from_parts (const X509_ALGOR *algor, const ASN1_BIT_STRING *bits, const guint8 *der,
                       gsize len, EVP_PKEY *key, GError **error)
{
  g_autoptr (KprPubkey) pk = g_new0 (KprPubkey, 1);
  const ASN1_OBJECT *alg = NULL;
  const void *pval = NULL;

  if (!algor || !bits || !der || !key)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The request carries no usable public key");
      return NULL;
    }
  pk->spki = g_bytes_new (der, len);
  pk->fingerprint = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der, len);
  X509_ALGOR_get0 (&alg, &pk->ptype, &pval, algor);
  pk->alg = OBJ_dup (alg);
  if (pk->ptype == V_ASN1_OBJECT)
    pk->pval = OBJ_dup (pval);
  else if (pk->ptype == V_ASN1_SEQUENCE)
    pk->pval = ASN1_STRING_dup (pval);
  else
    pk->ptype = pk->ptype == V_ASN1_UNDEF ? V_ASN1_UNDEF : V_ASN1_NULL;
  pk->bits = g_memdup2 (ASN1_STRING_get0_data (bits), (gsize) ASN1_STRING_length (bits));
  pk->bits_len = ASN1_STRING_length (bits);
  pk->key = key;
  EVP_PKEY_up_ref (key);
  pk->type = key_type_name (key);
  return g_steal_pointer (&pk);
}

/* From a parsed X509_PUBKEY (a key we made, or one stored with a request). */
static KprPubkey *
pubkey_from_x509_pubkey (X509_PUBKEY *xpk, EVP_PKEY *key, GError **error)
{
  const unsigned char *bits = NULL;
  int bits_len = 0;
  X509_ALGOR *algor = NULL;
  g_autoptr (ASN1_BIT_STRING) bs = ASN1_BIT_STRING_new ();
  unsigned char *der = NULL;
  KprPubkey *pk;
  int len;

  if (!xpk || !bs || !X509_PUBKEY_get0_param (NULL, &bits, &bits_len, &algor, xpk)
      || !ASN1_BIT_STRING_set (bs, (unsigned char *) bits, bits_len)
      || (len = i2d_X509_PUBKEY (xpk, &der)) <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The request carries no usable public key");
      return NULL;
    }
  pk = kpr_pubkey_from_parts (algor, bs, der, (gsize) len, key, error);
  OPENSSL_free (der);
  return pk;
}

KprPubkey *
kpr_pubkey_from_spki (const guint8 *der, gsize len, GError **error)
{
  const unsigned char *p = der;
  X509_PUBKEY *xpk = d2i_X509_PUBKEY (NULL, &p, (long) len);
  KprPubkey *pk = xpk ? pubkey_from_x509_pubkey (xpk, X509_PUBKEY_get0 (xpk), error) : NULL;

  if (!xpk)
    g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The stored public key is damaged");
  X509_PUBKEY_free (xpk);
  return pk;
}

KprPubkey *
kpr_pubkey_from_key (EVP_PKEY *key, GError **error)
{
  X509_PUBKEY *xpk = NULL;
  KprPubkey *pk;

  if (X509_PUBKEY_set (&xpk, key) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot encode a public key");
      return NULL;
    }
  pk = pubkey_from_x509_pubkey (xpk, key, error);
  X509_PUBKEY_free (xpk);
  return pk;
}

gboolean
kpr_pubkey_set_on_cert (const KprPubkey *pk, X509 *cert)
{
  X509_PUBKEY *xpk = X509_get_X509_PUBKEY (cert);
  void *pval = pk->ptype == V_ASN1_OBJECT     ? (void *) OBJ_dup (pk->pval)
               : pk->ptype == V_ASN1_SEQUENCE ? (void *) ASN1_STRING_dup (pk->pval)
                                              : NULL;
  unsigned char *bits = OPENSSL_memdup (pk->bits, (size_t) pk->bits_len);

  if (!xpk || !bits || !X509_PUBKEY_set0_param (xpk, OBJ_dup (pk->alg), pk->ptype, pval, bits,
                                                 pk->bits_len))
    {
      OPENSSL_free (bits);
      return FALSE;
    }
  return TRUE;
}

/* ---- issuance ------------------------------------------------------------ */

gboolean
kpr_revoke_user_certs (KprCaDb *db, gint64 user_id, int reason, guint *ret_count,
                       GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "UPDATE certs SET revoked = ?, reason = ? WHERE user_id = ? AND revoked IS NULL"
        " AND not_after > ?", error);
  gint64 now = kpr_now ();

  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, now);
  kpr_ca_db_bind_int64 (st, 2, reason);
  kpr_ca_db_bind_int64 (st, 3, user_id);
  kpr_ca_db_bind_int64 (st, 4, now);
  if (!kpr_ca_db_run (st, "revoking previous certificates", error))
    return FALSE;
  *ret_count = (guint) kpr_ca_db_changes (st);
  return TRUE;
}

/* Records @cert; FALSE with KPR_ERROR_EXISTS on a serial collision.  With
 * PostgreSQL in a savepoint of its own: it aborts a transaction on a
 * unique violation, and only the insert must be undone to draw again
 * (SQLite undoes just the failed statement). */
static gboolean
record_cert (KprCaDb *db, const KprUser *user, KprIssueKind kind, X509 *cert,
             const char *serial, const KprPubkey *pub, gint64 request_id, gint64 now,
             GError **error)
{
  g_autoptr (KprCaDbStmt) st = NULL;
  g_autofree char *subject = g_strdup_printf ("/CN=%s", user->name);
  gboolean own_savepoint = kpr_ca_db_errors_abort (db);
  unsigned char *der = NULL;
  int len = i2d_X509 (cert, &der);
  gboolean ok;

  if (len <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot encode the certificate");
      return FALSE;
    }
  if ((own_savepoint && !kpr_ca_db_begin (db, error))
      || !(st = kpr_ca_db_prepare (db, "INSERT INTO certs(serial, user_id, kind, subject,"
                                       " not_before, not_after, der, issued, pubkey, request_id)"
                                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error)))
    {
      OPENSSL_free (der);
      if (own_savepoint)
        kpr_ca_db_rollback (db);
      return FALSE;
    }
  kpr_ca_db_bind_text (st, 1, serial);
  kpr_ca_db_bind_int64 (st, 2, user->id);
  kpr_ca_db_bind_text (st, 3, kpr_issue_kind_name (kind));
  kpr_ca_db_bind_text (st, 4, subject);
  kpr_ca_db_bind_int64 (st, 5, now - 60);
  kpr_ca_db_bind_int64 (st, 6, kpr_ossl_time_unix (X509_get0_notAfter (cert)));
  kpr_ca_db_bind_blob (st, 7, der, (gsize) len);
  kpr_ca_db_bind_int64 (st, 8, now);
  kpr_ca_db_bind_text (st, 9, pub->fingerprint);
  if (request_id > 0)
    kpr_ca_db_bind_int64 (st, 10, request_id);
  else
    kpr_ca_db_bind_text (st, 10, NULL);
  ok = kpr_ca_db_run (st, "recording the certificate", error);
  OPENSSL_free (der);
  g_clear_pointer (&st, kpr_ca_db_stmt_release);
  if (!own_savepoint)
    return ok;
  if (!ok)
    {
      kpr_ca_db_rollback (db);
      return FALSE;
    }
  return kpr_ca_db_commit (db, error);
}

X509 *
kpr_issue (KprCa *ca, KprCaDb *db, const KprUser *user, const KprPubkey *pub, KprIssueKind kind,
           gint64 request_id, const char *peer, gint64 *ret_crl_generation, GError **error)
{
  g_autoptr (X509) cert = NULL;
  g_autofree char *serial_hex = NULL;
  g_autofree char *detail = NULL;
  gint64 now = kpr_now ();
  guint revoked = 0;

  if (user->disabled)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "User %s is disabled", user->name);
      return NULL;
    }
  if (!kpr_revoke_user_certs (db, user->id, KPR_REASON_SUPERSEDED, &revoked, error))
    return NULL;

  /* 126 random bits make a collision practically impossible, but the
   * UNIQUE index decides (on every front end), and we simply draw again. */
  for (int attempt = 0; attempt < 4; attempt++)
    {
      g_autoptr (BIGNUM) serial = NULL;
      g_autoptr (GError) local = NULL;

      g_clear_pointer (&serial_hex, g_free);
      g_clear_pointer (&cert, X509_free);
      if (!kpr_serial_random (&serial, &serial_hex, error)
          || !(cert = kpr_ca_make_user_cert (ca, user->name, pub, serial, now, error)))
        return NULL;
      if (record_cert (db, user, kind, cert, serial_hex, pub, request_id, now, &local))
        break;
      if (!g_error_matches (local, KPR_ERROR, KPR_ERROR_EXISTS) || attempt == 3)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
    }
  if (revoked > 0 && !kpr_crl_mark (db, FALSE, ret_crl_generation, error))
    return NULL;
  detail = g_strdup_printf ("serial %s issued to CN=%s; %u previous revoked", serial_hex,
                            user->name, revoked);
  if (!kpr_audit (db, user->name, kpr_issue_kind_name (kind), detail, peer, error))
    return NULL;
  return g_steal_pointer (&cert);
}

/* ---- certificates already issued ------------------------------------------ */

void
kpr_cert_row_free (KprCertRow *row)
{
  if (!row)
    return;
  g_free (row->serial);
  X509_free (row->cert);
  g_free (row);
}

static KprCertRow *
cert_row (KprCaDbStmt *st)
{
  KprCertRow *row = g_new0 (KprCertRow, 1);
  gsize len = 0;
  const guint8 *der = kpr_ca_db_column_blob (st, 1, &len);
  const unsigned char *p = der;

  row->serial = g_strdup (kpr_ca_db_column_text (st, 0));
  row->cert = der ? d2i_X509 (NULL, &p, (long) len) : NULL;
  row->user_id = kpr_ca_db_column_int64 (st, 2);
  row->issued = kpr_ca_db_column_int64 (st, 3);
  row->not_after = kpr_ca_db_column_int64 (st, 4);
  row->revoked = !kpr_ca_db_column_null (st, 5);
  return row;
}

#define CERT_COLUMNS "serial, der, user_id, issued, not_after, revoked"

KprCertRow *
kpr_cert_current_by_key (KprCaDb *db, const char *fingerprint, gint64 now, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT " CERT_COLUMNS " FROM certs WHERE pubkey = ? AND revoked IS NULL"
        " AND not_after > ? ORDER BY issued DESC, not_after DESC LIMIT 1", error);

  if (!st)
    return NULL;
  kpr_ca_db_bind_text (st, 1, fingerprint);
  kpr_ca_db_bind_int64 (st, 2, now);
  if (kpr_ca_db_step (st, "looking up certificates", error) != KPR_CA_DB_ROW)
    return NULL;
  return cert_row (st);
}

KprCertRow *
kpr_cert_by_serial (KprCaDb *db, const char *serial, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT " CERT_COLUMNS " FROM certs WHERE serial = ?", error);

  if (!st)
    return NULL;
  kpr_ca_db_bind_text (st, 1, serial);
  if (kpr_ca_db_step (st, "looking up a certificate", error) != KPR_CA_DB_ROW)
    return NULL;
  return cert_row (st);
}

char *
kpr_cert_serial_hex (X509 *cert)
{
  char *hex = kpr_ossl_serial_hex (cert);

  if (!*hex)
    g_clear_pointer (&hex, g_free);
  return hex;
}

KprUser *
kpr_cert_owner (KprCaDb *db, X509 *cert, char **ret_serial, gboolean *ret_current,
                GError **error)
{
  g_autofree char *serial = kpr_cert_serial_hex (cert);
  g_autoptr (KprCertRow) row = NULL;
  g_autoptr (GError) local = NULL;
  KprUser *user;

  row = serial ? kpr_cert_by_serial (db, serial, &local) : NULL;
  /* The whole certificate must be the one we issued, not just its serial. */
  if (!row || !row->cert || X509_cmp (row->cert, cert) != 0)
    {
      if (local)
        g_propagate_error (error, g_steal_pointer (&local));
      else
        g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                     "The client certificate was not issued by this CA");
      return NULL;
    }
  user = kpr_user_lock (db, NULL, row->user_id, error);
  if (!user)
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "The certificate's user no longer exists");
      return NULL;
    }
  if (user->disabled)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED, "User %s is disabled", user->name);
      kpr_user_free (user);
      return NULL;
    }
  *ret_current = !row->revoked && row->not_after > kpr_now ();
  if (ret_serial)
    *ret_serial = g_steal_pointer (&serial);
  return user;
}

char *
kpr_user_current_serial (KprCaDb *db, gint64 user_id, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT serial FROM certs WHERE user_id = ? AND revoked IS NULL AND not_after > ?"
        " ORDER BY issued DESC, not_after DESC LIMIT 1", error);
  KprCaDbStep rc;

  if (!st)
    return NULL;
  kpr_ca_db_bind_int64 (st, 1, user_id);
  kpr_ca_db_bind_int64 (st, 2, kpr_now ());
  rc = kpr_ca_db_step (st, "looking up the current certificate", error);
  if (rc == KPR_CA_DB_ROW)
    return g_strdup (kpr_ca_db_column_text (st, 0));
  if (rc == KPR_CA_DB_DONE)
    g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "You have no valid certificate to revoke");
  return NULL;
}

/* ---- revocation ------------------------------------------------------------ */

gboolean
kpr_revoke (KprCaDb *db, const char *serial, gint64 user_id, int reason, gint64 word_id,
            const char *actor, const char *peer, gboolean *ret_already, gint64 *ret_generation,
            GError **error)
{
  g_autoptr (KprCaDbStmt) find = NULL;
  g_autoptr (KprCaDbStmt) upd = NULL;
  g_autofree char *detail = NULL;
  gboolean already;
  KprCaDbStep rc;

  if (!kpr_ca_db_begin (db, error))
    return FALSE;
  find = kpr_ca_db_prepare (db, "SELECT user_id, revoked IS NOT NULL FROM certs WHERE serial = ?",
                            error);
  if (!find)
    goto fail;
  kpr_ca_db_bind_text (find, 1, serial);
  rc = kpr_ca_db_step (find, "looking up the certificate", error);
  if (rc != KPR_CA_DB_ROW)
    {
      if (rc == KPR_CA_DB_DONE)
        g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "No certificate with serial %s",
                     serial);
      goto fail;
    }
  if (user_id >= 0 && kpr_ca_db_column_int64 (find, 0) != user_id)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                   "Certificate %s belongs to someone else; you may revoke only your own", serial);
      goto fail;
    }
  already = kpr_ca_db_column_int64 (find, 1) != 0;
  g_clear_pointer (&find, kpr_ca_db_stmt_release);
  /* The word is spent either way: it was used for this request. */
  if (word_id > 0 && !kpr_word_consume (db, word_id, kpr_now (), error))
    goto fail;
  if (ret_already)
    *ret_already = already;
  if (already)
    {
      /* Already revoked is success, so a retry after a lost answer
       * converges (protocol/EXTENSIONS.md §2) — and waits, like the first
       * try, for a CRL that lists it. */
      if (ret_generation && !kpr_crl_generation (db, ret_generation, error))
        goto fail;
      return kpr_ca_db_commit (db, error);
    }
  upd = kpr_ca_db_prepare (db, "UPDATE certs SET revoked = ?, reason = ? WHERE serial = ?"
                               " AND revoked IS NULL", error);
  if (!upd)
    goto fail;
  kpr_ca_db_bind_int64 (upd, 1, kpr_now ());
  kpr_ca_db_bind_int64 (upd, 2, reason);
  kpr_ca_db_bind_text (upd, 3, serial);
  detail = g_strdup_printf ("serial %s revoked", serial);
  /* An explicit revocation is published at once (kpr-crl.c). */
  if (!kpr_ca_db_run (upd, "revoking", error) || !kpr_crl_mark (db, TRUE, ret_generation, error)
      || !kpr_audit (db, actor, "revoke", detail, peer, error))
    goto fail;
  return kpr_ca_db_commit (db, error);

fail:
  kpr_ca_db_rollback (db);
  return FALSE;
}

gboolean
kpr_ca_revoke_serial (KprCa *ca, const char *serial, const char *actor, gboolean *ret_already,
                      gint64 *ret_generation, GError **error)
{
  g_autofree char *canon = kpr_serial_normalize (serial, error);

  *ret_generation = 0;
  if (!canon)
    return FALSE;
  return kpr_revoke (ca->db, canon, -1, 0, 0, actor ? actor : "admin", NULL, ret_already,
                     ret_generation, error);
}
