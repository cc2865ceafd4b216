/* token-fixture.c — see token-fixture.h */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/wait.h>

#include "kpr-token-private.h"
#include "token-fixture.h"

static char *tmpdir;
guint fixture_pin_calls;
gboolean fixture_saw_final_try;

const char *
fixture_dir (void)
{
  return tmpdir;
}

const char *
fixture_module (void)
{
  return KPR_SOFTHSM_MODULE;
}

gboolean
fixture_have (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);
  return path != NULL;
}

int
fixture_run (char **ret_output, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;
  va_list ap;

  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                     &err, &status, &error))
    g_error ("cannot run %s: %s", first, error->message);
  if (ret_output)
    *ret_output = g_strconcat (out, err, NULL);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

KprSecret *
fixture_pin (const KprTokenInfo *info, gpointer user_data, GError **error)
{
  fixture_pin_calls++;
  fixture_saw_final_try = info->pin_final_try;
  return kpr_secret_new (user_data, strlen (user_data));
}

KprTokenCtx *
fixture_ctx (void)
{
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx = kpr_token_ctx_new (KPR_TOKEN_CTX_SOFTWARE, NULL, &error);

  g_assert_no_error (error);
  return ctx;
}

KprToken *
fixture_login (KprTokenCtx *ctx, const char *label)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = g_strdup_printf ("pkcs11:token=%s", label);
  KprToken *token = kpr_token_ctx_find (ctx, uri, &error);

  g_assert_no_error (error);
  g_assert_true (kpr_token_login (token, fixture_pin, (gpointer) TEST_PIN, &error));
  g_assert_no_error (error);
  return token;
}

void
fixture_global_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = NULL, *tokens = NULL, *text = NULL, *out = NULL;
  g_autoptr (KprSecret) pin = kpr_secret_new (TEST_PIN, strlen (TEST_PIN));
  g_autoptr (KprSecret) so_pin = kpr_secret_new (TEST_SO_PIN, strlen (TEST_SO_PIN));
  KprTokenCtx *ctx;

  tmpdir = g_dir_make_tmp ("kpr-pkcs11-XXXXXX", &error);
  g_assert_no_error (error);
  tokens = g_build_filename (tmpdir, "tokens", NULL);
  conf = g_build_filename (tmpdir, "softhsm2.conf", NULL);
  g_mkdir (tokens, 0700);
  text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\n"
                          "log.level = ERROR\n", tokens);
  g_file_set_contents (conf, text, -1, &error);
  g_assert_no_error (error);
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  g_setenv ("HOME", tmpdir, TRUE);

  ctx = kpr_token_ctx_new (KPR_TOKEN_CTX_SOFTWARE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (kpr_token_init_software (ctx, pin, so_pin, &error));
  g_assert_no_error (error);
  kpr_token_ctx_free (ctx);

  if (fixture_run (&out, "softhsm2-util", "--init-token", "--free", "--label", TEST_CARD_LABEL,
                   "--pin", TEST_PIN, "--so-pin", TEST_SO_PIN, NULL) != 0)
    g_error ("softhsm2-util failed: %s", out);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

void
fixture_global_teardown (void)
{
  if (g_getenv ("KPR_KEEP_TMP"))
    return;
  remove_tree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

EVP_PKEY *
fixture_software_key (const char *kind)
{
  EVP_PKEY *key = NULL;

  if (g_str_equal (kind, "ec-p256"))
    key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  else if (g_str_equal (kind, "ec-p384"))
    key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-384");
  else if (g_str_equal (kind, "rsa-2048"))
    key = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048);
  else if (g_str_equal (kind, "rsa-1024"))
    key = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 1024);
  else if (g_str_equal (kind, "ed25519"))
    key = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
  g_assert_nonnull (key);
  return key;
}

static X509 *
make_cert (X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key, const char *cn, gboolean ca)
{
  X509 *cert = X509_new ();
  X509_NAME *name = X509_NAME_new ();
  X509V3_CTX v3;
  X509_EXTENSION *ext;
  const EVP_MD *md = EVP_PKEY_is_a (issuer_key, "ED25519") ? NULL : EVP_sha256 ();

  X509_set_version (cert, 2);
  ASN1_INTEGER_set_int64 (X509_get_serialNumber (cert), g_random_int_range (1000, G_MAXINT));
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  X509_set_subject_name (cert, name);
  X509_set_issuer_name (cert, issuer ? X509_get_subject_name (issuer) : name);
  X509_gmtime_adj (X509_getm_notBefore (cert), -60);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600 * 24);
  X509_set_pubkey (cert, key);
  X509V3_set_ctx (&v3, issuer ? issuer : cert, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
  ext = X509V3_EXT_conf_nid (NULL, &v3, NID_subject_key_identifier, "hash");
  X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
  g_assert_cmpint (X509_sign (cert, issuer_key, md), >, 0);
  X509_NAME_free (name);
  return cert;
}

X509 *
fixture_ca (EVP_PKEY **ret_ca_key)
{
  *ret_ca_key = fixture_software_key ("ec-p256");
  return make_cert (NULL, *ret_ca_key, *ret_ca_key, "certkeeper test CA", TRUE);
}

X509 *
fixture_issue (X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *subject_key, const char *cn)
{
  return make_cert (ca, ca_key, subject_key, cn, FALSE);
}

char *
fixture_write_file (const char *name, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (tmpdir, name, NULL);

  g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_NONE, 0600, &error);
  g_assert_no_error (error);
  return path;
}

char *
fixture_write_pem_cert (X509 *cert, const char *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data;
  long len;
  char *path;

  PEM_write_bio_X509 (bio, cert);
  len = BIO_get_mem_data (bio, &data);
  path = fixture_write_file (name, data, len);
  BIO_free (bio);
  return path;
}

char *
fixture_id_hex (GBytes *id)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (id, &len);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", d[i]);
  return g_string_free (s, FALSE);
}

guint
fixture_count_all (KprToken *token)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) all = kpr_token_find_objects (token, NULL, 0, &error);

  g_assert_no_error (error);
  return all->len;
}

char *
fixture_p11tool_privkey (const char *label, GBytes *id)
{
  g_autofree char *out = NULL, *uri = g_strdup_printf ("pkcs11:token=%s", label);
  g_auto (GStrv) lines = NULL;
  GString *want = g_string_new ("ID: ");
  GString *block = g_string_new (NULL);
  gsize len;
  const guint8 *d = g_bytes_get_data (id, &len);
  char *found = NULL;

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (want, i ? ":%02x" : "%02x", d[i]);
  /* GNUTLS_PIN is p11tool's documented way in; a throwaway test PIN. */
  g_setenv ("GNUTLS_PIN", TEST_PIN, TRUE);
  g_assert_cmpint (fixture_run (&out, "p11tool", "--provider", fixture_module (), "--login",
                                "--list-all-privkeys", uri, NULL), ==, 0);
  g_unsetenv ("GNUTLS_PIN");
  lines = g_strsplit (out, "\n", -1);
  /* Blocks start with "Object N:"; keep the one whose ID line is ours. */
  for (char **l = lines;; l++)
    {
      if (!*l || g_str_has_prefix (*l, "Object "))
        {
          if (!found && strstr (block->str, want->str))
            found = g_strdup (block->str);
          g_string_truncate (block, 0);
        }
      if (!*l)
        break;
      g_string_append_printf (block, "%s\n", g_strstrip (*l));
    }
  g_string_free (want, TRUE);
  g_string_free (block, TRUE);
  g_assert_nonnull (found);
  return found;
}
