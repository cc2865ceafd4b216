/* kpr-ca-init.c — `certkeeper-ca init`: a new CA directory (keys,
 * certificates, ca.conf) and its database (DIR/ca.db, or a PostgreSQL
 * database given with --db, whose schema certkeeper-ca creates).
 */
#include "config.h"

#include "kpr-server-private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define CA_VALIDITY (10 * 365 * 24 * 3600LL)
#define TLS_VALIDITY (825 * 24 * 3600LL)

gboolean
kpr_write_new_file (const char *path, const void *data, gsize len, int mode, GError **error)
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
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot encode PEM");
  len = BIO_get_mem_data (bio, &data);
  ok = kpr_write_new_file (path, data, (gsize) len, key ? 0600 : 0644, error);
  if (key)
    kpr_memory_erase (data, (gsize) len);
  return ok;
}

/* Self-signed with @ca's key, whose public half is @pub. */
static X509 *
make_ca_cert (KprCa *ca, EVP_PKEY *pub, gint64 now, GError **error)
{
  g_autoptr (BIGNUM) serial = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *cn = NULL;
  g_autoptr (X509) cert = NULL;

  if (!kpr_serial_random (&serial, &hex, error))
    return NULL;
  /* A distinct name per CA, so two test CAs are never confused. */
  cn = g_strdup_printf ("certkeeper CA %.8s", hex + 8);
  cert = kpr_cert_skeleton (NULL, cn, serial, now - 60, now + CA_VALIDITY, error);
  if (!cert)
    return NULL;
  if (!X509_set_pubkey (cert, pub)
      || !kpr_ca_add_ext (cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", error)
      || !kpr_ca_add_ext (cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign", error)
      || !kpr_ca_add_ext (cert, cert, NID_subject_key_identifier, "hash", error)
      || !kpr_ca_add_ext (cert, cert, NID_authority_key_identifier, "keyid:always", error)
      || !kpr_ca_sign_cert (ca, cert, error))
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
  cert = kpr_cert_skeleton (X509_get_subject_name (ca->cert), "localhost", serial, now - 60,
                            now + TLS_VALIDITY, error);
  if (!cert)
    return NULL;
  if (!X509_set_pubkey (cert, key)
      || !kpr_ca_add_ext (cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE", error)
      || !kpr_ca_add_ext (cert, ca->cert, NID_key_usage, "critical,digitalSignature", error)
      || !kpr_ca_add_ext (cert, ca->cert, NID_ext_key_usage, "serverAuth", error)
      || !kpr_ca_add_ext (cert, ca->cert, NID_subject_alt_name,
                          "DNS:localhost,IP:127.0.0.1,IP:::1", error)
      || !kpr_ca_add_ext (cert, ca->cert, NID_subject_key_identifier, "hash", error)
      || !kpr_ca_add_ext (cert, ca->cert, NID_authority_key_identifier, "keyid:always", error)
      || !kpr_ca_sign_cert (ca, cert, error))
    return NULL;
  return g_steal_pointer (&cert);
}

static gboolean
write_config (const char *path, KprCa *ca, gboolean own_db, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autofree char *life = g_strdup_printf ("%" G_GINT64_FORMAT "s", ca->lifetime);
  gsize len;

  g_key_file_set_string (kf, "ca", "lifetime", life);
  g_key_file_set_string (kf, "ca", "approval",
                         ca->approval == KPR_APPROVAL_MANUAL ? "manual" : "auto");
  if (!own_db)
    g_key_file_set_string (kf, "ca", "db", ca->db_location);
  if (ca->token_uri)
    {
      g_autofree char *id = kpr_hex_encode (ca->key_id);
      g_key_file_set_string (kf, "ca", "token", ca->token_uri);
      g_key_file_set_string (kf, "ca", "key-id", id);
      if (ca->token_module)
        g_key_file_set_string (kf, "ca", "token-module", ca->token_module);
    }
  g_key_file_set_comment (kf, "ca", NULL,
                          " certkeeper-ca settings; lifetime takes s/m/h/d suffixes, approval is"
                          " auto or manual; db= a PostgreSQL URI shared by several front ends"
                          " (default: ca.db here); token= the PKCS#11 token of the CA key, with"
                          " CKA_ID key-id= (hex)", NULL);
  data = g_key_file_to_data (kf, &len, NULL);
  return kpr_write_new_file (path, data, len, 0600, error);
}

/* Creates the CA key (in ca.key, or on ca->token_uri) and ca.pem. */
static gboolean
init_ca_key (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, gint64 now, GError **error)
{
  g_autofree char *key_path = kpr_ca_path (ca->dir, "ca.key");
  g_autofree char *pem_path = kpr_ca_path (ca->dir, "ca.pem");
  g_autoptr (EVP_PKEY) pub = NULL;

  if (ca->token_uri)
    {
      if (!(pub = kpr_ca_token_create (ca, pin_func, pin_data, error))
          || !(ca->cert = make_ca_cert (ca, pub, now, error)))
        return FALSE;
      /* ca.pem is created exclusively, so two inits of the same
       * directory cannot both succeed. */
      return write_pem (pem_path, NULL, ca->cert, error);
    }
  if (!(ca->key = kpr_key_generate ("P-256", 0, error))
      || !(ca->cert = make_ca_cert (ca, ca->key, now, error))
      /* The key file is created first and exclusively, so two inits of
       * the same directory cannot both succeed. */
      || !write_pem (key_path, ca->key, NULL, error) || !write_pem (pem_path, NULL, ca->cert, error))
    return FALSE;
  return TRUE;
}

static gboolean
init_ca (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, GError **error)
{
  g_autofree char *pem_path = kpr_ca_path (ca->dir, "ca.pem");
  g_autofree char *tls_key_path = kpr_ca_path (ca->dir, "tls.key");
  g_autofree char *tls_pem_path = kpr_ca_path (ca->dir, "tls.pem");
  g_autofree char *conf_path = kpr_ca_path (ca->dir, "ca.conf");
  g_autofree char *db_path = kpr_ca_path (ca->dir, "ca.db");
  g_autoptr (EVP_PKEY) tls_key = NULL;
  g_autoptr (X509) tls_cert = NULL;
  gboolean own_db = ca->db_location == NULL;
  gint64 now = kpr_now ();

  if (g_mkdir_with_parents (ca->dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot create %s: %s", ca->dir,
                   g_strerror (saved));
      return FALSE;
    }
  if (g_file_test (pem_path, G_FILE_TEST_EXISTS) || g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                   "%s already holds a CA; refusing to overwrite it (choose another directory)",
                   ca->dir);
      return FALSE;
    }
  /* A shared database first: a PostgreSQL URI that does not work, or that
   * holds another CA, fails before any key is made. */
  if (!own_db)
    {
      g_autofree char *owner = NULL;

      if (!(ca->db = kpr_ca_db_open (ca->db_location, TRUE, error))
          || !kpr_ca_db_owner (ca->db, &owner, error))
        return FALSE;
      if (owner)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                       "The database given with --db already holds a CA (its ca.pem has SHA-256 "
                       "%.16s…); copy that CA's directory to this machine instead of making a "
                       "new CA", owner);
          return FALSE;
        }
    }
  if (!init_ca_key (ca, pin_func, pin_data, now, error))
    return FALSE;
  if (own_db)
    {
      ca->db_location = g_strdup (db_path);
      if (!(ca->db = kpr_ca_db_open (ca->db_location, TRUE, error)))
        return FALSE;
    }

  /* The TLS server key stays a file even when the CA key is on a token:
   * it signs every handshake and is worth far less. */
  if (!(tls_key = kpr_key_generate ("P-256", 0, error))
      || !(tls_cert = make_tls_cert (ca, tls_key, now, error))
      || !write_pem (tls_key_path, tls_key, NULL, error)
      || !write_pem (tls_pem_path, NULL, tls_cert, error)
      || !write_config (conf_path, ca, own_db, error) || !kpr_ca_prepare_profile (ca, error))
    return FALSE;

  if (!kpr_ca_db_begin (ca->db, error))
    return FALSE;
  if (!kpr_ca_claim_db (ca, ca->db, TRUE, error)
      || !kpr_audit (ca->db, "admin", "init", ca->dir, NULL, error)
      || !kpr_ca_db_commit (ca->db, error))
    {
      kpr_ca_db_rollback (ca->db);
      return FALSE;
    }
  /* The first CRL, empty. */
  return kpr_ca_db_try_publisher_lock (ca->db, error) && kpr_ca_publish_crl (ca, error);
}

gboolean
kpr_ca_init (const char *dir, const KprCaInitOptions *options, GError **error)
{
  g_autoptr (KprCa) ca = kpr_ca_new_empty (dir, options->db);
  gboolean ok;

  ca->lifetime = options->lifetime > 0 ? options->lifetime : KPR_CA_DEFAULT_LIFETIME;
  ca->approval = options->approval;
  ca->token_uri = g_strdup (options->token_uri);
  ca->token_module = g_strdup (options->token_module);
  ok = init_ca (ca, options->pin_func, options->pin_data, error);
  /* No orphan key pair on the token. */
  if (!ok && ca->token_uri)
    kpr_ca_token_discard (ca);
  return ok;
}
