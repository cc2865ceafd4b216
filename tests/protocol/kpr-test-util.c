/* kpr-test-util.c — see kpr-test-util.h. */
#include "config.h"

#include "kpr-test-util.h"

#include <stdarg.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

EVP_PKEY *
kpr_test_key_ec (void)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");

  g_assert_nonnull (key);
  return key;
}

EVP_PKEY *
kpr_test_key_rsa (void)
{
  EVP_PKEY *key = EVP_RSA_gen (2048);

  g_assert_nonnull (key);
  return key;
}

void
kpr_test_add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;

  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  g_assert_nonnull (ext);
  g_assert_true (X509_add_ext (cert, ext, -1));
  X509_EXTENSION_free (ext);
}

X509_NAME *
kpr_test_name (const char *cn)
{
  X509_NAME *name = X509_NAME_new ();

  g_assert_true (X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn,
                                             -1, -1, 0));
  return name;
}

X509 *
kpr_test_cert (EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
               gboolean is_ca, const char *dns, const char *ip, long from_offset, long seconds)
{
  static long serial = 1000;
  X509 *cert = X509_new ();
  X509_NAME *name = kpr_test_name (cn);
  g_autoptr (GString) san = g_string_new (NULL);

  g_assert_true (X509_set_version (cert, X509_VERSION_3));
  ASN1_INTEGER_set (X509_get_serialNumber (cert), serial++ + g_random_int_range (0, 1 << 20));
  X509_set_subject_name (cert, name);
  X509_set_issuer_name (cert, issuer ? X509_get_subject_name (issuer) : name);
  X509_NAME_free (name);
  X509_gmtime_adj (X509_getm_notBefore (cert), from_offset);
  X509_gmtime_adj (X509_getm_notAfter (cert), from_offset + seconds);
  X509_set_pubkey (cert, key);
  kpr_test_add_ext (cert, issuer ? issuer : cert, NID_basic_constraints,
           is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  kpr_test_add_ext (cert, issuer ? issuer : cert, NID_subject_key_identifier, "hash");
  if (issuer)
    kpr_test_add_ext (cert, issuer, NID_authority_key_identifier, "keyid:always");
  if (is_ca)
    kpr_test_add_ext (cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (dns)
    g_string_append_printf (san, "DNS:%s", dns);
  if (ip)
    g_string_append_printf (san, "%sIP:%s", san->len ? "," : "", ip);
  if (san->len)
    kpr_test_add_ext (cert, issuer ? issuer : cert, NID_subject_alt_name, san->str);
  g_assert_true (X509_sign (cert, issuer_key ? issuer_key : key, EVP_sha256 ()) > 0);
  return cert;
}

static char *
vector_path (const char *name)
{
  const char *dir = g_getenv ("KPR_EST_VECTORS");
  char *path;

  if (!dir)
    {
      g_test_skip ("KPR_EST_VECTORS is not set");
      return NULL;
    }
  path = g_build_filename (dir, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("an RFC 7030 vector file is missing");
      g_free (path);
      return NULL;
    }
  return path;
}

GBytes *
kpr_test_vector (const char *name)
{
  g_autofree char *path = vector_path (name);
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  if (!path)
    return NULL;
  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  return g_bytes_new_take (data, len);
}

GBytes *
kpr_test_vector_b64 (const char *name)
{
  g_autofree char *b64name = g_strconcat (name, ".b64", NULL);
  g_autoptr (GBytes) text = kpr_test_vector (b64name);
  g_autoptr (GError) error = NULL;
  GBytes *der;

  if (!text)
    return NULL;
  der = kpr_est_base64_decode (g_bytes_get_data (text, NULL), g_bytes_get_size (text), &error);
  g_assert_no_error (error);
  return der;
}

X509 *
kpr_test_vector_pem (const char *name)
{
  g_autofree char *path = vector_path (name);
  BIO *bio;
  X509 *cert;

  if (!path)
    return NULL;
  bio = BIO_new_file (path, "r");
  g_assert_nonnull (bio);
  cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  g_assert_nonnull (cert);
  return cert;
}

gboolean
kpr_test_write_pem_cert (const char *path, X509 *cert)
{
  BIO *bio = BIO_new_file (path, "w");
  gboolean ok = bio && PEM_write_bio_X509 (bio, cert);

  BIO_free (bio);
  return ok;
}

gboolean
kpr_test_write_pem_key (const char *path, EVP_PKEY *key)
{
  BIO *bio = BIO_new_file (path, "w");
  gboolean ok = bio && PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL);

  BIO_free (bio);
  return ok;
}

KprX509Stack *
kpr_test_stack (X509 *first, ...)
{
  KprX509Stack *stack = sk_X509_new_null ();
  va_list ap;
  X509 *cert;

  va_start (ap, first);
  for (cert = first; cert; cert = va_arg (ap, X509 *))
    {
      X509_up_ref (cert);
      sk_X509_push (stack, cert);
    }
  va_end (ap);
  return stack;
}
