/* test-token-p12.c — PKCS#12 import and export, lock (items 7–9) and the
 * bad backups that must change nothing on the token. */
#include "config.h"

#include <string.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "kpr-token-private.h"
#include "token-fixture.h"

#define PASS "correct horse battery staple"
#define NOTE "[certkeeper]\nserver=https://ca.example:8443\nusername=carol\n"

static GBytes *
p12_bytes (PKCS12 *p12)
{
  unsigned char *der = NULL;
  int len = i2d_PKCS12 (p12, &der);
  GBytes *bytes;

  g_assert_cmpint (len, >, 0);
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

/* A backup of a fresh key of @kind, its certificate and the CA. */
static GBytes *
make_backup (const char *kind, X509 **ret_cert)
{
  g_autoptr (EVP_PKEY) ca_key = NULL, key = fixture_software_key (kind);
  g_autoptr (X509) ca = fixture_ca (&ca_key);
  X509 *cert = fixture_issue (ca, ca_key, key, "bob");
  g_autoptr (KprX509Stack) chain = sk_X509_new_null ();
  g_autoptr (PKCS12) p12 = NULL;

  sk_X509_push (chain, X509_dup (ca));
  p12 = PKCS12_create (PASS, "bob", key, cert, chain, 0, 0, 0, 0, 0);
  g_assert_nonnull (p12);
  if (ret_cert)
    *ret_cert = cert;
  else
    X509_free (cert);
  return p12_bytes (p12);
}

static KprSecret *
pass (const char *text)
{
  return kpr_secret_new (text, strlen (text));
}

static void
test_import (gconstpointer data)
{
  const char *kind = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autoptr (X509) cert = NULL, found = NULL;
  g_autoptr (GBytes) backup = make_backup (kind, &cert);
  g_autoptr (KprSecret) secret = pass (PASS);
  g_autoptr (KprX509Stack) all = NULL;
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = fixture_login (ctx, TEST_CARD_LABEL);
  KprKeyInfo info;

  g_assert_true (kpr_token_import_pkcs12 (token, backup, secret, "bob", id,
                                          KPR_PROTECTION_STANDARD, &error));
  g_assert_no_error (error);
  g_assert_true (kpr_token_get_key_info (token, id, &info, &error));
  /* Non-exportable, and honest about where it came from. */
  g_assert_true (info.sensitive);
  g_assert_false (info.extractable);
  g_assert_false (info.local);
  g_assert_false (info.always_sensitive);
  g_assert_false (info.never_extractable);
  g_assert_false (info.private_);

  found = kpr_token_find_certificate (token, id, &error);
  g_assert_cmpint (X509_cmp (found, cert), ==, 0);
  all = kpr_token_list_certificates (token, &error);
  g_assert_cmpint (sk_X509_num (all), >=, 2); /* identity + CA */

  /* The imported key signs, and matches its certificate. */
  {
    g_autoptr (EVP_PKEY) priv = kpr_token_get_private_key (token, id, &error);
    g_assert_no_error (error);
    g_assert_cmpint (X509_check_private_key (cert, priv), ==, 1);
  }

  /* The private value cannot be read.  pkcs11-tool 0.23 never reads
   * private keys, so the independent readers here are p11tool's flags and
   * a raw C_GetAttributeValue that bypasses our own attribute code. */
  if (fixture_have ("p11tool"))
    {
      g_autofree char *flags = fixture_p11tool_privkey (TEST_CARD_LABEL, id);
      g_assert_nonnull (strstr (flags, "CKA_SENSITIVE"));
      g_assert_null (strstr (flags, "CKA_EXTRACTABLE"));
    }
  {
    CK_OBJECT_HANDLE obj;
    guint8 buf[1024];
    CK_ATTRIBUTE value = { g_str_has_prefix (kind, "ec") ? CKA_VALUE : CKA_PRIVATE_EXPONENT,
                           buf, sizeof buf };
    g_assert_true (kpr_token_find_one (token, CKO_PRIVATE_KEY, id, &obj, NULL));
    g_assert_cmpuint (token->module->fn->C_GetAttributeValue (token->session, obj, &value, 1),
                      ==, CKR_ATTRIBUTE_SENSITIVE);
  }
  /* And neither can we: exporting it is refused. */
  g_assert_null (kpr_token_export_pkcs12 (token, id, secret, KPR_P12_MODERN, NOTE, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_NOT_EXPORTABLE);
  g_clear_error (&error);

  /* The same id twice is refused before anything is written. */
  g_assert_false (kpr_token_import_pkcs12 (token, backup, secret, "bob", id,
                                           KPR_PROTECTION_STANDARD, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_EXISTS);
  g_clear_error (&error);

  /* Exportable import is for the software token only. */
  {
    g_autoptr (GBytes) id2 = kpr_token_new_id ();
    g_assert_false (kpr_token_import_pkcs12 (token, backup, secret, "bob", id2,
                                             KPR_PROTECTION_EXPORTABLE, &error));
    g_assert_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED);
  }
  kpr_token_delete_objects (token, id, NULL, NULL);
  kpr_token_ctx_free (ctx);
}

static void
check_nothing_changed (const char *what, GBytes *backup, const char *passphrase, KprError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autoptr (KprSecret) secret = pass (passphrase);
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = fixture_login (ctx, "certkeeper");
  guint before = fixture_count_all (token);

  g_test_message ("bad backup: %s", what);
  g_assert_false (kpr_token_import_pkcs12 (token, backup, secret, "x", id,
                                           KPR_PROTECTION_STANDARD, &error));
  g_assert_error (error, KPR_ERROR, (int) code);
  g_assert_cmpuint (fixture_count_all (token), ==, before);
  kpr_token_ctx_free (ctx);
}

static void
test_import_bad (void)
{
  g_autoptr (GBytes) good = make_backup ("ec-p256", NULL);
  g_autoptr (GBytes) corrupt = NULL;
  g_autoptr (GBytes) ed = make_backup ("ed25519", NULL);
  g_autoptr (GBytes) small = make_backup ("rsa-1024", NULL);
  g_autoptr (GBytes) mismatch = NULL;
  guint8 *bytes;
  gsize len;

  /* flip bytes in the middle of the encrypted content */
  bytes = g_bytes_unref_to_data (g_bytes_ref (good), &len);
  for (gsize i = len / 2; i < len / 2 + 16; i++)
    bytes[i] ^= 0x5a;
  corrupt = g_bytes_new_take (bytes, len);
  check_nothing_changed ("corrupt", corrupt, PASS, KPR_ERROR_PASSPHRASE);
  {
    g_autoptr (GBytes) garbage = g_bytes_new_static ("garbage", 7);
    check_nothing_changed ("not PKCS#12", garbage, PASS, KPR_ERROR_BAD_INPUT);
  }
  check_nothing_changed ("wrong passphrase", good, "wrong", KPR_ERROR_PASSPHRASE);
  check_nothing_changed ("ed25519 key", ed, PASS, KPR_ERROR_UNSUPPORTED);
  check_nothing_changed ("rsa-1024 key", small, PASS, KPR_ERROR_UNSUPPORTED);

  /* Key A with certificate B, tied by the same localKeyID so that
   * PKCS12_parse pairs them. */
  {
    g_autoptr (EVP_PKEY) ca_key = NULL, a = fixture_software_key ("ec-p256");
    g_autoptr (EVP_PKEY) b = fixture_software_key ("ec-p256");
    g_autoptr (X509) ca = fixture_ca (&ca_key);
    g_autoptr (X509) cert_b = fixture_issue (ca, ca_key, b, "mallory");
    STACK_OF (PKCS12_SAFEBAG) *bags = NULL;
    STACK_OF (PKCS7) *safes = NULL;
    PKCS12_SAFEBAG *bag;
    PKCS12 *p12;
    unsigned char lkid[] = { 1, 2, 3, 4 };

    bag = PKCS12_add_cert (&bags, cert_b);
    PKCS12_add_localkeyid (bag, lkid, sizeof lkid);
    bag = PKCS12_add_key (&bags, a, 0, 2048, NID_aes_256_cbc, PASS);
    PKCS12_add_localkeyid (bag, lkid, sizeof lkid);
    PKCS12_add_safe (&safes, bags, -1, 0, NULL);
    p12 = PKCS12_add_safes (safes, 0);
    PKCS12_set_mac (p12, PASS, -1, NULL, 0, 2048, NULL);
    mismatch = p12_bytes (p12);
    PKCS12_free (p12);
    sk_PKCS12_SAFEBAG_pop_free (bags, PKCS12_SAFEBAG_free);
    sk_PKCS7_pop_free (safes, PKCS7_free);
  }
  check_nothing_changed ("key/certificate mismatch", mismatch, PASS, KPR_ERROR_KEY_MISMATCH);
}

/* Gives @alg (a PBES2 identifier) @iter PBKDF2 rounds, without deriving. */
static void
set_rounds (X509_ALGOR *alg, int iter)
{
  X509_ALGOR *big = PKCS5_pbe2_set_iv (EVP_aes_256_cbc (), iter, NULL, 0, NULL, NID_hmacWithSHA256);

  g_assert_nonnull (big);
  ASN1_TYPE_free (alg->parameter);
  alg->parameter = g_steal_pointer (&big->parameter);
  X509_ALGOR_free (big);
}

/* Issue 13 item 12: a file naming 2^31-1 rounds held the import for some
 * 13 minutes; one with 100 MB after it was read.  Each of these would hang
 * (meson's timeout) or pass without the checks in kpr-p12-guard.c. */
static void
test_import_hostile (void)
{
  g_autoptr (EVP_PKEY) ca_key = NULL, key = fixture_software_key ("ec-p256");
  g_autoptr (X509) ca = fixture_ca (&ca_key);
  g_autoptr (X509) cert = fixture_issue (ca, ca_key, key, "bob");
  g_autoptr (GBytes) mac = NULL, shrouded = NULL, content = NULL, trailing = NULL;

  {
    PKCS12 *p12 = PKCS12_create (PASS, "bob", key, cert, NULL, NID_aes_256_cbc,
                                 NID_aes_256_cbc, 2048, 2048, 0);
    const ASN1_INTEGER *iter = NULL;

    PKCS12_get0_mac (NULL, NULL, NULL, &iter, p12);
    g_assert_nonnull (iter);
    ASN1_INTEGER_set ((ASN1_INTEGER *) iter, G_MAXINT);
    mac = p12_bytes (p12);
    PKCS12_free (p12);
  }
  check_nothing_changed ("MAC with 2^31-1 rounds", mac, PASS, KPR_ERROR_BAD_INPUT);

  /* No MAC: the shrouded key's own count is the only guard. */
  {
    STACK_OF (PKCS12_SAFEBAG) *bags = NULL;
    STACK_OF (PKCS7) *safes = NULL;
    PKCS12_SAFEBAG *bag;
    X509_ALGOR *alg = NULL;
    PKCS12 *p12;

    g_assert_nonnull (PKCS12_add_cert (&bags, cert));
    bag = PKCS12_add_key (&bags, key, 0, 2048, NID_aes_256_cbc, PASS);
    X509_SIG_getm ((X509_SIG *) PKCS12_SAFEBAG_get0_pkcs8 (bag), &alg, NULL);
    set_rounds (alg, G_MAXINT);
    PKCS12_add_safe (&safes, bags, -1, 0, NULL);
    p12 = PKCS12_add_safes (safes, 0);
    shrouded = p12_bytes (p12);
    PKCS12_free (p12);
    sk_PKCS12_SAFEBAG_pop_free (bags, PKCS12_SAFEBAG_free);
    sk_PKCS7_pop_free (safes, PKCS7_free);
  }
  check_nothing_changed ("key bag with 2^31-1 rounds", shrouded, PASS, KPR_ERROR_BAD_INPUT);

  /* The encrypted certificate safe, under an honest MAC. */
  {
    STACK_OF (PKCS12_SAFEBAG) *cert_bags = NULL, *key_bags = NULL;
    STACK_OF (PKCS7) *safes = NULL;
    PKCS12 *p12;

    g_assert_nonnull (PKCS12_add_cert (&cert_bags, cert));
    g_assert_nonnull (PKCS12_add_key (&key_bags, key, 0, 2048, NID_aes_256_cbc, PASS));
    PKCS12_add_safe (&safes, cert_bags, NID_aes_256_cbc, 2048, PASS);
    PKCS12_add_safe (&safes, key_bags, -1, 0, NULL);
    set_rounds (sk_PKCS7_value (safes, 0)->d.encrypted->enc_data->algorithm, 1 << 30);
    p12 = PKCS12_add_safes (safes, 0);
    PKCS12_set_mac (p12, PASS, -1, NULL, 0, 2048, NULL);
    content = p12_bytes (p12);
    PKCS12_free (p12);
    sk_PKCS12_SAFEBAG_pop_free (cert_bags, PKCS12_SAFEBAG_free);
    sk_PKCS12_SAFEBAG_pop_free (key_bags, PKCS12_SAFEBAG_free);
    sk_PKCS7_pop_free (safes, PKCS7_free);
  }
  check_nothing_changed ("encrypted safe with 2^30 rounds", content, PASS, KPR_ERROR_BAD_INPUT);

  {
    g_autoptr (GBytes) good = make_backup ("ec-p256", NULL);
    gsize len = g_bytes_get_size (good);
    guint8 *bytes = g_malloc (len + 1024 * 1024);

    memcpy (bytes, g_bytes_get_data (good, NULL), len);
    memset (bytes + len, 'x', 1024 * 1024);
    trailing = g_bytes_new_take (bytes, len + 1024 * 1024);
  }
  check_nothing_changed ("a valid file followed by 1 MiB", trailing, PASS, KPR_ERROR_BAD_INPUT);
}

static char *
write_backup (GBytes *p12, const char *name)
{
  return fixture_write_file (name, g_bytes_get_data (p12, NULL), g_bytes_get_size (p12));
}

/* 8. export, 9. lock */
static void
test_export_and_lock (gconstpointer data)
{
  const char *kind = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autoptr (GBytes) backup = make_backup (kind, NULL);
  g_autoptr (GBytes) modern = NULL, legacy = NULL;
  g_autoptr (KprSecret) secret = pass (PASS);
  g_autofree char *passfile = fixture_write_file ("pass", PASS "\n", strlen (PASS) + 1);
  g_autofree char *passin = g_strconcat ("file:", passfile, NULL);
  g_autofree char *modern_path = NULL, *legacy_path = NULL, *out = NULL;
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = fixture_login (ctx, "certkeeper");
  KprKeyInfo info;

  g_assert_true (kpr_token_import_pkcs12 (token, backup, secret, "carol", id,
                                          KPR_PROTECTION_EXPORTABLE, &error));
  g_assert_no_error (error);

  if (fixture_have ("p11tool"))
    {
      g_autofree char *flags = fixture_p11tool_privkey ("certkeeper", id);
      g_assert_nonnull (strstr (flags, "CKA_EXTRACTABLE"));
      g_assert_null (strstr (flags, "CKA_SENSITIVE"));
    }
  modern = kpr_token_export_pkcs12 (token, id, secret, KPR_P12_MODERN, NOTE, &error);
  g_assert_no_error (error);
  modern_path = write_backup (modern, "modern.p12");
  g_assert_cmpint (fixture_run (&out, "openssl", "pkcs12", "-info", "-noout", "-in", modern_path,
                                "-passin", passin, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "MAC: sha256"));
  g_assert_nonnull (strstr (out, "PBKDF2"));
  g_assert_nonnull (strstr (out, "AES-256-CBC"));
  g_clear_pointer (&out, g_free);

  /* openssl finds the token's key in the backup. */
  {
    g_autoptr (EVP_PKEY) pub = kpr_token_get_public_key (token, id, &error);
    g_autofree char *key_pem = NULL, *pub_pem = NULL;
    g_autofree char *cmd = g_strdup_printf ("openssl pkcs12 -in '%s' -passin '%s' -nocerts -noenc"
                                            " | openssl pkey -pubout", modern_path, passin);
    BIO *bio = BIO_new (BIO_s_mem ());
    char *p;
    long n;
    g_assert_cmpint (fixture_run (&key_pem, "sh", "-c", cmd, NULL), ==, 0);
    PEM_write_bio_PUBKEY (bio, pub);
    n = BIO_get_mem_data (bio, &p);
    pub_pem = g_strndup (p, n);
    BIO_free (bio);
    g_assert_nonnull (strstr (key_pem, pub_pem));
  }

  /* The backup holds the right key: round trip through our own parser. */
  {
    g_autoptr (EVP_PKEY) key = NULL;
    g_autoptr (X509) cert = NULL, on_token = kpr_token_find_certificate (token, id, NULL);
    g_autoptr (KprX509Stack) chain = NULL;
    g_autofree char *note = NULL;
    g_assert_true (kpr_p12_parse (modern, secret, &key, &cert, &chain, &note, &error));
    g_assert_cmpint (X509_cmp (cert, on_token), ==, 0);
    g_assert_cmpint (sk_X509_num (chain), ==, 1);
    /* The note comes back as it went in. */
    g_assert_cmpstr (note, ==, NOTE);
  }

  if (fixture_have ("pk12util"))
    {
      g_assert_cmpint (fixture_run (&out, "pk12util", "-l", modern_path, "-w", passfile, NULL), ==, 0);
      g_assert_nonnull (strstr (out, "Key(shrouded)"));
      g_clear_pointer (&out, g_free);
    }

  legacy = kpr_token_export_pkcs12 (token, id, secret, KPR_P12_LEGACY, NULL, &error);
  g_assert_no_error (error);
  legacy_path = write_backup (legacy, "legacy.p12");
  g_assert_cmpint (fixture_run (&out, "openssl", "pkcs12", "-info", "-noout", "-in", legacy_path,
                                "-passin", passin, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "MAC: sha1"));
  g_assert_nonnull (strstr (out, "pbeWithSHA1And3-KeyTripleDES-CBC"));
  g_clear_pointer (&out, g_free);

  /* 9. lock: one way, and export stops working */
  g_assert_true (kpr_token_lock_key (token, id, &error));
  g_assert_no_error (error);
  /* Again, as after a crash between the token change and the record. */
  g_assert_true (kpr_token_lock_key (token, id, &error));
  g_assert_no_error (error);
  g_assert_true (kpr_token_get_key_info (token, id, &info, &error));
  g_assert_true (info.sensitive);
  g_assert_false (info.extractable);
  g_assert_false (info.never_extractable);
  if (fixture_have ("p11tool"))
    {
      g_autofree char *flags = fixture_p11tool_privkey ("certkeeper", id);
      g_assert_nonnull (strstr (flags, "CKA_SENSITIVE"));
      g_assert_null (strstr (flags, "CKA_EXTRACTABLE"));
    }
  g_assert_null (kpr_token_export_pkcs12 (token, id, secret, KPR_P12_MODERN, NOTE, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_NOT_EXPORTABLE);
  g_clear_error (&error);
  {
    /* The token refuses to undo it. */
    CK_OBJECT_HANDLE obj;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE back = { CKA_EXTRACTABLE, &yes, sizeof yes };
    g_assert_true (kpr_token_find_one (token, CKO_PRIVATE_KEY, id, &obj, NULL));
    g_assert_cmpuint (token->module->fn->C_SetAttributeValue (token->session, obj, &back, 1), !=, CKR_OK);
  }
  kpr_token_delete_objects (token, id, NULL, NULL);
  kpr_token_ctx_free (ctx);
}

void register_p12_tests (void);

void
register_p12_tests (void)
{
  g_test_add_data_func ("/token/p12/import/ec-p256", "ec-p256", test_import);
  g_test_add_data_func ("/token/p12/import/rsa-2048", "rsa-2048", test_import);
  g_test_add_func ("/token/p12/import-bad", test_import_bad);
  g_test_add_func ("/token/p12/import-hostile", test_import_hostile);
  g_test_add_data_func ("/token/p12/export-lock/ec-p384", "ec-p384", test_export_and_lock);
  g_test_add_data_func ("/token/p12/export-lock/rsa-2048", "rsa-2048", test_export_and_lock);
}
