/* kpr-ca.c — the CA directory: creating it, loading it, and everything
 * that signs (user certificates and the CRL).
 *
 * The CA key is touched only by ca_sign_context(); a key on a PKCS#11
 * token (an EVP_PKEY from pkcs11/) can replace the file key there without
 * changing anything else.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define CA_VALIDITY (10 * 365 * 24 * 3600LL)
#define TLS_VALIDITY (825 * 24 * 3600LL)
#define CRL_VALIDITY (7 * 24 * 3600LL)

static gboolean
ossl_fail (GError **error, int code, const char *what)
{
  g_autofree char *detail = kpr_ossl_error_string ();

  g_set_error (error, KPR_ERROR, code, "%s: %s", what, detail);
  return FALSE;
}

static char *
ca_path (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

EVP_PKEY *
kpr_key_generate (const char *type, int bits, GError **error)
{
  EVP_PKEY *key;

  if (g_str_equal (type, "RSA"))
    key = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) bits);
  else
    key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", type);
  if (!key)
    ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot generate a key");
  return key;
}

gboolean
kpr_serial_random (BIGNUM **ret_bn, char **ret_hex, GError **error)
{
  guint8 bytes[16];
  g_autoptr (BIGNUM) bn = NULL;
  char *hex;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return ossl_fail (error, KPR_ERROR_INTERNAL, "No randomness for a serial number");
  /* Positive (RFC 5280) and always 16 bytes long, so every serial prints
   * the same width. */
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  if (!bn || !(hex = BN_bn2hex (bn)))
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot make a serial number");
  *ret_hex = g_strdup (hex);
  OPENSSL_free (hex);
  *ret_bn = g_steal_pointer (&bn);
  return TRUE;
}

char *
kpr_serial_normalize (const char *text, GError **error)
{
  g_autoptr (GString) clean = g_string_new (NULL);
  g_autoptr (BIGNUM) bn = NULL;
  char *hex;
  char *ret;

  for (const char *p = text; *p; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p) || clean->len >= 64)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "'%s' is not a serial number (hexadecimal, as 'openssl x509 -serial' prints it)",
                       text);
          return NULL;
        }
      g_string_append_c (clean, g_ascii_toupper (*p));
    }
  if (clean->len == 0 || !BN_hex2bn (&bn, clean->str) || BN_is_zero (bn))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "'%s' is not a serial number", text);
      return NULL;
    }
  hex = BN_bn2hex (bn);
  ret = g_strdup (hex);
  OPENSSL_free (hex);
  return ret;
}

/* The one place the CA key signs; see the comment at the top. */
static EVP_MD_CTX *
ca_sign_context (KprCa *ca, GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();

  if (!ctx || EVP_DigestSignInit_ex (ctx, NULL, "SHA256", NULL, NULL, ca->key, NULL) != 1)
    {
      ossl_fail (error, KPR_ERROR_INTERNAL, "The CA key cannot sign");
      return NULL;
    }
  return g_steal_pointer (&ctx);
}

gboolean
kpr_ca_sign_cert (KprCa *ca, X509 *cert, GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = ca_sign_context (ca, error);

  if (!ctx)
    return FALSE;
  if (X509_sign_ctx (cert, ctx) <= 0)
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Signing a certificate failed");
  return TRUE;
}

gboolean
kpr_ca_sign_crl (KprCa *ca, X509_CRL *crl, GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = ca_sign_context (ca, error);

  if (!ctx)
    return FALSE;
  if (X509_CRL_sign_ctx (crl, ctx) <= 0)
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Signing the CRL failed");
  return TRUE;
}

static gboolean
add_ext (X509 *cert, X509 *issuer, int nid, const char *value, GError **error)
{
  X509V3_CTX ctx;
  g_autoptr (X509_EXTENSION) ext = NULL;

  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_nconf_nid (NULL, &ctx, nid, value);
  if (!ext || !X509_add_ext (cert, ext, -1))
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot add a certificate extension");
  return TRUE;
}

/* Fills the fields every certificate we make shares. */
static X509 *
cert_skeleton (X509_NAME *issuer, const char *cn, EVP_PKEY *pub, const BIGNUM *serial,
               gint64 not_before, gint64 not_after, GError **error)
{
  g_autoptr (X509) cert = X509_new ();
  g_autoptr (X509_NAME) subject = X509_NAME_new ();

  if (!cert || !subject
      || !X509_set_version (cert, X509_VERSION_3)
      || !BN_to_ASN1_INTEGER (serial, X509_get_serialNumber (cert))
      || !X509_NAME_add_entry_by_txt (subject, "CN", MBSTRING_UTF8,
                                      (const unsigned char *) cn, -1, -1, 0)
      || !X509_set_subject_name (cert, subject)
      || !X509_set_issuer_name (cert, issuer ? issuer : subject)
      || !ASN1_TIME_set (X509_getm_notBefore (cert), (time_t) not_before)
      || !ASN1_TIME_set (X509_getm_notAfter (cert), (time_t) not_after)
      || !X509_set_pubkey (cert, pub))
    {
      ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build a certificate");
      return NULL;
    }
  return g_steal_pointer (&cert);
}

X509 *
kpr_ca_make_user_cert (KprCa *ca, const char *username, EVP_PKEY *pub,
                       const BIGNUM *serial, gint64 now, GError **error)
{
  g_autoptr (X509) cert = NULL;
  gint64 not_after = now + ca->lifetime;
  gint64 ca_end = 0;
  struct tm tm;
  const char *usage;

  /* Never outlive the CA: clients would reject the chain anyway. */
  if (ASN1_TIME_to_tm (X509_get0_notAfter (ca->cert), &tm))
    {
      ca_end = (gint64) timegm (&tm);
      if (not_after > ca_end)
        not_after = ca_end;
    }
  /* A minute of slack for clients whose clock runs a little behind. */
  cert = cert_skeleton (X509_get_subject_name (ca->cert), username, pub, serial,
                        now - 60, not_after, error);
  if (!cert)
    return NULL;
  usage = EVP_PKEY_is_a (pub, "RSA") ? "critical,digitalSignature,keyEncipherment"
                                     : "critical,digitalSignature,keyAgreement";
  if (!add_ext (cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE", error)
      || !add_ext (cert, ca->cert, NID_key_usage, usage, error)
      || !add_ext (cert, ca->cert, NID_ext_key_usage, "clientAuth", error)
      || !add_ext (cert, ca->cert, NID_subject_key_identifier, "hash", error)
      || !add_ext (cert, ca->cert, NID_authority_key_identifier, "keyid:always", error)
      || !kpr_ca_sign_cert (ca, cert, error))
    return NULL;
  return g_steal_pointer (&cert);
}

/* ---- files ------------------------------------------------------------ */

static gboolean
write_new_file (const char *path, const void *data, gsize len, int mode, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  const guint8 *p = data;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, saved == EEXIST ? KPR_ERROR_EXISTS : KPR_ERROR_IO,
                   "Cannot create %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;
          close (fd);
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write %s: %s", path,
                       g_strerror (saved));
          return FALSE;
        }
      p += n;
      len -= (gsize) n;
    }
  if (fsync (fd) < 0 || close (fd) < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write %s", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_pem (const char *path, EVP_PKEY *key, X509 *cert, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;
  gboolean ok;

  if (!bio || (key && !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL))
      || (cert && !PEM_write_bio_X509 (bio, cert)))
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot encode PEM");
  len = BIO_get_mem_data (bio, &data);
  ok = write_new_file (path, data, (gsize) len, key ? 0600 : 0644, error);
  if (key)
    kpr_memory_erase (data, (gsize) len);
  return ok;
}

static X509 *
make_ca_cert (EVP_PKEY *key, gint64 now, GError **error)
{
  g_autoptr (BIGNUM) serial = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *cn = NULL;
  g_autoptr (X509) cert = NULL;
  KprCa self = { .key = key };

  if (!kpr_serial_random (&serial, &hex, error))
    return NULL;
  /* A distinct name per CA, so two test CAs are never confused. */
  cn = g_strdup_printf ("certkeeper CA %.8s", hex + 8);
  cert = cert_skeleton (NULL, cn, key, serial, now - 60, now + CA_VALIDITY, error);
  if (!cert)
    return NULL;
  self.cert = cert;
  if (!add_ext (cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", error)
      || !add_ext (cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign", error)
      || !add_ext (cert, cert, NID_subject_key_identifier, "hash", error)
      || !add_ext (cert, cert, NID_authority_key_identifier, "keyid:always", error)
      || !kpr_ca_sign_cert (&self, cert, error))
    return NULL;
  return g_steal_pointer (&cert);
}

static X509 *
make_tls_cert (KprCa *ca, EVP_PKEY *key, gint64 now, GError **error)
{
  g_autoptr (BIGNUM) serial = NULL;
  g_autofree char *hex = NULL;
  g_autoptr (X509) cert = NULL;

  if (!kpr_serial_random (&serial, &hex, error))
    return NULL;
  cert = cert_skeleton (X509_get_subject_name (ca->cert), "localhost", key, serial,
                        now - 60, now + TLS_VALIDITY, error);
  if (!cert)
    return NULL;
  if (!add_ext (cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE", error)
      || !add_ext (cert, ca->cert, NID_key_usage, "critical,digitalSignature", error)
      || !add_ext (cert, ca->cert, NID_ext_key_usage, "serverAuth", error)
      || !add_ext (cert, ca->cert, NID_subject_alt_name,
                   "DNS:localhost,IP:127.0.0.1,IP:::1", error)
      || !add_ext (cert, ca->cert, NID_subject_key_identifier, "hash", error)
      || !add_ext (cert, ca->cert, NID_authority_key_identifier, "keyid:always", error)
      || !kpr_ca_sign_cert (ca, cert, error))
    return NULL;
  return g_steal_pointer (&cert);
}

static gboolean
write_config (const char *path, gint64 lifetime, KprApproval approval, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autofree char *life = g_strdup_printf ("%" G_GINT64_FORMAT "s", lifetime);
  gsize len;

  g_key_file_set_string (kf, "ca", "lifetime", life);
  g_key_file_set_string (kf, "ca", "approval",
                         approval == KPR_APPROVAL_MANUAL ? "manual" : "auto");
  g_key_file_set_comment (kf, "ca", NULL,
                          " certkeeper-ca settings; lifetime takes s/m/h/d suffixes,"
                          " approval is auto or manual", NULL);
  data = g_key_file_to_data (kf, &len, NULL);
  return write_new_file (path, data, len, 0600, error);
}

gboolean
kpr_ca_init (const char *dir, gint64 lifetime, KprApproval approval, GError **error)
{
  g_autofree char *key_path = ca_path (dir, "ca.key");
  g_autofree char *pem_path = ca_path (dir, "ca.pem");
  g_autofree char *tls_key_path = ca_path (dir, "tls.key");
  g_autofree char *tls_pem_path = ca_path (dir, "tls.pem");
  g_autofree char *conf_path = ca_path (dir, "ca.conf");
  g_autofree char *db_path = ca_path (dir, "ca.db");
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (EVP_PKEY) tls_key = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (X509) tls_cert = NULL;
  g_autoptr (KprCa) ca = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot create %s: %s", dir,
                   g_strerror (saved));
      return FALSE;
    }
  if (g_file_test (pem_path, G_FILE_TEST_EXISTS) || g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                   "%s already holds a CA; refusing to overwrite it (choose another directory)",
                   dir);
      return FALSE;
    }
  if (!(key = kpr_key_generate ("P-256", 0, error))
      || !(cert = make_ca_cert (key, now, error))
      /* The key file is created first and exclusively, so two inits of
       * the same directory cannot both succeed. */
      || !write_pem (key_path, key, NULL, error)
      || !write_pem (pem_path, NULL, cert, error))
    return FALSE;

  ca = g_new0 (KprCa, 1);
  ca->dir = g_strdup (dir);
  ca->key = g_steal_pointer (&key);
  ca->cert = g_steal_pointer (&cert);
  ca->lifetime = lifetime;
  ca->approval = approval;

  if (!(tls_key = kpr_key_generate ("P-256", 0, error))
      || !(tls_cert = make_tls_cert (ca, tls_key, now, error))
      || !write_pem (tls_key_path, tls_key, NULL, error)
      || !write_pem (tls_pem_path, NULL, tls_cert, error)
      || !write_config (conf_path, lifetime, approval, error)
      || !(ca->db = kpr_store_open (db_path, TRUE, error)))
    return FALSE;

  if (!kpr_store_begin (ca->db, error))
    return FALSE;
  if (!kpr_ca_write_crl (ca, error)
      || !kpr_store_audit (ca->db, "admin", "init", dir,
                           NULL, error))
    {
      kpr_store_rollback (ca->db);
      return FALSE;
    }
  return kpr_store_commit (ca->db, error);
}

static gboolean
load_config (KprCa *ca, GError **error)
{
  g_autofree char *path = ca_path (ca->dir, "ca.conf");
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *life = NULL;
  g_autofree char *approval = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "Cannot read %s (%s); is %s a CA made with 'certkeeper-ca init'?", path,
                   local->message, ca->dir);
      return FALSE;
    }
  ca->lifetime = KPR_CA_DEFAULT_LIFETIME;
  ca->approval = KPR_APPROVAL_AUTO;
  life = g_key_file_get_string (kf, "ca", "lifetime", NULL);
  approval = g_key_file_get_string (kf, "ca", "approval", NULL);
  if (life && !kpr_parse_duration (life, &ca->lifetime, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  if (approval && g_str_equal (approval, "manual"))
    ca->approval = KPR_APPROVAL_MANUAL;
  else if (approval && !g_str_equal (approval, "auto"))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "%s: approval must be 'auto' or 'manual', not '%s'", path, approval);
      return FALSE;
    }
  return TRUE;
}

gboolean
kpr_ca_load (KprCa *ca, GError **error)
{
  g_autofree char *key_path = ca_path (ca->dir, "ca.key");
  g_autofree char *pem_path = ca_path (ca->dir, "ca.pem");
  g_autofree char *db_path = ca_path (ca->dir, "ca.db");
  g_autoptr (BIO) kb = NULL;
  g_autoptr (BIO) cb = NULL;

  if (!load_config (ca, error))
    return FALSE;
  kb = BIO_new_file (key_path, "r");
  cb = BIO_new_file (pem_path, "r");
  if (!kb || !cb)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "Cannot read the CA key or certificate in %s", ca->dir);
      return FALSE;
    }
  ca->key = PEM_read_bio_PrivateKey (kb, NULL, NULL, NULL);
  ca->cert = PEM_read_bio_X509 (cb, NULL, NULL, NULL);
  if (!ca->key || !ca->cert)
    return ossl_fail (error, KPR_ERROR_BAD_INPUT, "The CA key or certificate is damaged");
  if (X509_check_private_key (ca->cert, ca->key) != 1)
    return ossl_fail (error, KPR_ERROR_KEY_MISMATCH,
                      "ca.key does not belong to ca.pem");
  ca->db = kpr_store_open (db_path, FALSE, error);
  return ca->db != NULL;
}

KprCa *
kpr_ca_open (const char *dir, GError **error)
{
  g_autoptr (KprCa) ca = g_new0 (KprCa, 1);

  ca->dir = g_strdup (dir);
  if (!kpr_ca_load (ca, error))
    return NULL;
  return g_steal_pointer (&ca);
}

void
kpr_ca_free (KprCa *ca)
{
  if (!ca)
    return;
  if (ca->db)
    sqlite3_close (ca->db);
  EVP_PKEY_free (ca->key);
  X509_free (ca->cert);
  g_free (ca->dir);
  g_free (ca);
}

gint64
kpr_ca_get_lifetime (KprCa *ca)
{
  return ca->lifetime;
}

KprApproval
kpr_ca_get_approval (KprCa *ca)
{
  return ca->approval;
}

/* ---- CRL ---------------------------------------------------------------- */

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
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot add an entry to the CRL");
  return TRUE;
}

gboolean
kpr_ca_write_crl (KprCa *ca, GError **error)
{
  g_autoptr (X509_CRL) crl = X509_CRL_new ();
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (X509_EXTENSION) aki = NULL;
  g_autofree char *path = ca_path (ca->dir, "crl.der");
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
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build the CRL");

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
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build the CRL");
  if (!kpr_ca_sign_crl (ca, crl, error))
    return FALSE;
  if ((len = i2d_X509_CRL (crl, &der)) <= 0)
    return ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot encode the CRL");
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
  g_autofree char *path = ca_path (ca->dir, "crl.der");
  char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot read %s", path);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}
