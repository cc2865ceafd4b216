/* kpr-ca.c — the CA directory: creating it, loading it, and everything
 * that signs (user certificates and the CRL).
 *
 * The CA key is touched only by ca_sign_context(): either the key read
 * from ca.key or the token-backed EVP_PKEY of kpr-ca-token.c, which signs
 * on the PKCS#11 token; nothing else knows the difference.
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

gboolean
kpr_ossl_fail (GError **error, int code, const char *what)
{
  g_autofree char *detail = kpr_ossl_error_string ();

  g_set_error (error, KPR_ERROR, code, "%s: %s", what, detail);
  return FALSE;
}

char *
kpr_ca_path (const char *dir, const char *name)
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
    kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot generate a key");
  return key;
}

gboolean
kpr_serial_random (BIGNUM **ret_bn, char **ret_hex, GError **error)
{
  guint8 bytes[16];
  g_autoptr (BIGNUM) bn = NULL;
  char *hex;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "No randomness for a serial number");
  /* Positive (RFC 5280) and always 16 bytes long, so every serial prints
   * the same width. */
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  if (!bn || !(hex = BN_bn2hex (bn)))
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot make a serial number");
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
  g_autoptr (EVP_MD_CTX) ctx = NULL;

  if (!ca->key)
    {
      /* A programming error: the command did not call kpr_ca_unlock(). */
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL,
                   "The CA key on token %s was not unlocked", ca->token_uri);
      return NULL;
    }
  ctx = EVP_MD_CTX_new ();
  if (!ctx || EVP_DigestSignInit_ex (ctx, NULL, "SHA256", NULL, NULL, ca->key, NULL) != 1)
    {
      kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "The CA key cannot sign");
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
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Signing a certificate failed");
  return TRUE;
}

gboolean
kpr_ca_sign_crl (KprCa *ca, X509_CRL *crl, GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = ca_sign_context (ca, error);

  if (!ctx)
    return FALSE;
  if (X509_CRL_sign_ctx (crl, ctx) <= 0)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Signing the CRL failed");
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
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot add a certificate extension");
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
      kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build a certificate");
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
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot encode PEM");
  len = BIO_get_mem_data (bio, &data);
  ok = write_new_file (path, data, (gsize) len, key ? 0600 : 0644, error);
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
  cert = cert_skeleton (NULL, cn, pub, serial, now - 60, now + CA_VALIDITY, error);
  if (!cert)
    return NULL;
  if (!add_ext (cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", error)
      || !add_ext (cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign", error)
      || !add_ext (cert, cert, NID_subject_key_identifier, "hash", error)
      || !add_ext (cert, cert, NID_authority_key_identifier, "keyid:always", error)
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
write_config (const char *path, KprCa *ca, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autofree char *life = g_strdup_printf ("%" G_GINT64_FORMAT "s", ca->lifetime);
  gsize len;

  g_key_file_set_string (kf, "ca", "lifetime", life);
  g_key_file_set_string (kf, "ca", "approval",
                         ca->approval == KPR_APPROVAL_MANUAL ? "manual" : "auto");
  if (ca->token_uri)
    {
      g_autofree char *id = kpr_hex_encode (ca->key_id);
      g_key_file_set_string (kf, "ca", "token", ca->token_uri);
      g_key_file_set_string (kf, "ca", "key-id", id);
      if (ca->token_module)
        g_key_file_set_string (kf, "ca", "token-module", ca->token_module);
    }
  g_key_file_set_comment (kf, "ca", NULL,
                          ca->token_uri
                            ? " certkeeper-ca settings; lifetime takes s/m/h/d suffixes,"
                              " approval is auto or manual; the CA key is on the PKCS#11"
                              " token named by token=, with CKA_ID key-id= (hex)"
                            : " certkeeper-ca settings; lifetime takes s/m/h/d suffixes,"
                              " approval is auto or manual", NULL);
  data = g_key_file_to_data (kf, &len, NULL);
  return write_new_file (path, data, len, 0600, error);
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
      || !write_pem (key_path, ca->key, NULL, error)
      || !write_pem (pem_path, NULL, ca->cert, error))
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
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

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
  if (!init_ca_key (ca, pin_func, pin_data, now, error))
    return FALSE;

  /* The TLS server key stays a file even when the CA key is on a token:
   * it signs every handshake and is worth far less. */
  if (!(tls_key = kpr_key_generate ("P-256", 0, error))
      || !(tls_cert = make_tls_cert (ca, tls_key, now, error))
      || !write_pem (tls_key_path, tls_key, NULL, error)
      || !write_pem (tls_pem_path, NULL, tls_cert, error)
      || !write_config (conf_path, ca, error)
      || !(ca->db = kpr_store_open (db_path, TRUE, error)))
    return FALSE;

  if (!kpr_store_begin (ca->db, error))
    return FALSE;
  if (!kpr_ca_write_crl (ca, error)
      || !kpr_store_audit (ca->db, "admin", "init", ca->dir,
                           NULL, error))
    {
      kpr_store_rollback (ca->db);
      return FALSE;
    }
  return kpr_store_commit (ca->db, error);
}

gboolean
kpr_ca_init (const char *dir, gint64 lifetime, KprApproval approval, GError **error)
{
  g_autoptr (KprCa) ca = g_new0 (KprCa, 1);

  ca->dir = g_strdup (dir);
  ca->lifetime = lifetime;
  ca->approval = approval;
  return init_ca (ca, NULL, NULL, error);
}

gboolean
kpr_ca_init_on_token (const char *dir, gint64 lifetime, KprApproval approval,
                      const char *token_uri, const char *module, KprPinFunc pin_func,
                      gpointer pin_data, GError **error)
{
  g_autoptr (KprCa) ca = g_new0 (KprCa, 1);

  ca->dir = g_strdup (dir);
  ca->lifetime = lifetime;
  ca->approval = approval;
  ca->token_uri = g_strdup (token_uri);
  ca->token_module = g_strdup (module);
  if (init_ca (ca, pin_func, pin_data, error))
    return TRUE;
  /* No orphan key pair on the token. */
  kpr_ca_token_discard (ca);
  return FALSE;
}

static gboolean
load_config (KprCa *ca, GError **error)
{
  g_autofree char *path = kpr_ca_path (ca->dir, "ca.conf");
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
  ca->token_uri = g_key_file_get_string (kf, "ca", "token", NULL);
  ca->token_module = g_key_file_get_string (kf, "ca", "token-module", NULL);
  if (ca->token_uri)
    {
      g_autofree char *id = g_key_file_get_string (kf, "ca", "key-id", NULL);
      if (!id || !(ca->key_id = kpr_hex_decode (id)))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "%s: token= needs key-id= with the CA key's CKA_ID in hex", path);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
kpr_ca_load (KprCa *ca, GError **error)
{
  g_autofree char *key_path = kpr_ca_path (ca->dir, "ca.key");
  g_autofree char *pem_path = kpr_ca_path (ca->dir, "ca.pem");
  g_autofree char *db_path = kpr_ca_path (ca->dir, "ca.db");
  g_autoptr (BIO) kb = NULL;
  g_autoptr (BIO) cb = NULL;

  if (!load_config (ca, error))
    return FALSE;
  if (ca->token_uri)
    {
      /* The key comes from the token in kpr_ca_unlock(). */
      if (!(cb = BIO_new_file (pem_path, "r")))
        {
          ERR_clear_error ();
          g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                       "Cannot read the CA certificate %s", pem_path);
          return FALSE;
        }
      if (!(ca->cert = PEM_read_bio_X509 (cb, NULL, NULL, NULL)))
        return kpr_ossl_fail (error, KPR_ERROR_BAD_INPUT, "The CA certificate is damaged");
      ca->db = kpr_store_open (db_path, FALSE, error);
      return ca->db != NULL;
    }
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
    return kpr_ossl_fail (error, KPR_ERROR_BAD_INPUT, "The CA key or certificate is damaged");
  if (X509_check_private_key (ca->cert, ca->key) != 1)
    return kpr_ossl_fail (error, KPR_ERROR_KEY_MISMATCH,
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

const char *
kpr_ca_get_token_uri (KprCa *ca)
{
  return ca->token_uri;
}

gboolean
kpr_ca_unlock (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, GError **error)
{
  if (ca->key || !ca->token_uri)
    return TRUE;
  return kpr_ca_token_open (ca, pin_func, pin_data, error);
}

void
kpr_ca_free (KprCa *ca)
{
  if (!ca)
    return;
  if (ca->db)
    sqlite3_close (ca->db);
  /* The token-backed key before the context that owns its module. */
  EVP_PKEY_free (ca->key);
  kpr_token_ctx_free (ca->tokens);
  g_clear_pointer (&ca->key_id, g_bytes_unref);
  g_free (ca->token_uri);
  g_free (ca->token_module);
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
