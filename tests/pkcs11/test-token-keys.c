/* test-token-keys.c — key pairs, CSR signing, certificates, PKCS#12 import
 * and export, lock and provenance (issue 2, items 4–10), registered into
 * test-token's main. */
#include "config.h"

#include <string.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "kpr-token-private.h"
#include "token-fixture.h"

typedef struct {
  KprKeyType type;
  KprProtection protection;
} KeyCase;

/* pkcs11-tool's description of the objects with @id on @label, logged in
 * or as anyone could see them without the PIN.  Its --id does not filter
 * a listing, so keep the blocks ("... Object; ...") that carry the id. */
static char *
pkcs11_tool_list (const char *label, GBytes *id, gboolean login)
{
  g_autofree char *hex = fixture_id_hex (id), *out = NULL;
  g_autofree char *id_line = g_strdup_printf ("ID:         %s", hex);
  g_auto (GStrv) lines = NULL;
  GString *mine = g_string_new (NULL), *block = g_string_new (NULL);

  if (login)
    g_assert_cmpint (fixture_run (&out, "pkcs11-tool", "--module", fixture_module (),
                                  "--token-label", label, "--login", "--pin", TEST_PIN,
                                  "--list-objects", NULL), ==, 0);
  else
    g_assert_cmpint (fixture_run (&out, "pkcs11-tool", "--module", fixture_module (),
                                  "--token-label", label, "--list-objects", NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  for (char **l = lines;; l++)
    {
      if (!*l || strstr (*l, " Object;"))
        {
          if (strstr (block->str, id_line))
            g_string_append (mine, block->str);
          g_string_truncate (block, 0);
        }
      if (!*l)
        break;
      g_string_append_printf (block, "%s\n", *l);
    }
  g_string_free (block, TRUE);
  return g_string_free (mine, FALSE);
}

static char *
pkcs11_tool_objects (const char *label, GBytes *id)
{
  return pkcs11_tool_list (label, id, TRUE);
}

static void
check_csr (KprToken *token, GBytes *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) priv = kpr_token_get_private_key (token, id, &error);
  g_autoptr (EVP_PKEY) pub = NULL;
  g_autoptr (X509_REQ) req = X509_REQ_new ();
  g_autoptr (X509_NAME) name = X509_NAME_new ();
  g_autofree char *path = NULL, *out = NULL;
  BIO *bio;
  char *pem;
  long len;

  g_assert_no_error (error);
  pub = kpr_token_get_public_key (token, id, &error);
  g_assert_no_error (error);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) "alice", -1, -1, 0);
  X509_REQ_set_subject_name (req, name);
  X509_REQ_set_pubkey (req, pub);
  /* The signature is made on the token. */
  g_assert_cmpint (X509_REQ_sign (req, priv, EVP_sha256 ()), >, 0);
  g_assert_cmpint (X509_REQ_verify (req, pub), ==, 1);

  bio = BIO_new (BIO_s_mem ());
  PEM_write_bio_X509_REQ (bio, req);
  len = BIO_get_mem_data (bio, &pem);
  path = fixture_write_file ("req.pem", pem, len);
  BIO_free (bio);
  g_assert_cmpint (fixture_run (&out, "openssl", "req", "-verify", "-noout", "-in", path, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "verify OK"));
}

static void
test_generate (gconstpointer data)
{
  const KeyCase *kc = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autofree char *listing = NULL, *label = NULL;
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = fixture_login (ctx, "certkeeper");
  KprKeyInfo info;
  gboolean ec = kc->type <= KPR_KEY_EC_P384;
  guint count = 0;

  label = g_strdup_printf ("gen-%s-%s", kpr_key_type_to_string (kc->type),
                           kpr_protection_to_string (kc->protection));
  g_assert_true (kpr_token_generate_key (token, kc->type, kc->protection, label, id, &error));
  g_assert_no_error (error);
  g_assert_true (kpr_token_count_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 2);

  /* 10. provenance */
  g_assert_true (kpr_token_get_key_info (token, id, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpint (info.type, ==, kc->type);
  g_assert_true (info.local);
  g_assert_cmpint (info.private_, ==, kc->protection == KPR_PROTECTION_STRONG);
  g_assert_cmpint (info.extractable, ==, kc->protection == KPR_PROTECTION_EXPORTABLE);
  g_assert_cmpint (info.sensitive, ==, kc->protection != KPR_PROTECTION_EXPORTABLE);
  g_assert_cmpint (info.never_extractable, ==, kc->protection != KPR_PROTECTION_EXPORTABLE);

  /* pkcs11-tool agrees on type, size and flags. */
  listing = pkcs11_tool_objects ("certkeeper", id);
  g_assert_nonnull (strstr (listing, label));
  g_assert_nonnull (strstr (listing, ec ? "EC" : "RSA"));
  g_assert_nonnull (strstr (listing, kc->type == KPR_KEY_EC_P256    ? "EC_POINT 256 bits"
                                     : kc->type == KPR_KEY_EC_P384  ? "EC_POINT 384 bits"
                                     : kc->type == KPR_KEY_RSA_2048 ? "RSA 2048 bits"
                                                                    : "RSA 3072 bits"));
  if (kc->protection == KPR_PROTECTION_EXPORTABLE)
    g_assert_null (strstr (listing, "sensitive"));
  else
    g_assert_nonnull (strstr (listing, "sensitive, always sensitive, never extractable, local"));
  /* A signing key and nothing else. */
  g_assert_nonnull (strstr (listing, "Usage:      sign\n"));
  g_assert_nonnull (strstr (listing, "Usage:      verify\n"));

  /* p11tool (GnuTLS) reads the same type and size. */
  if (fixture_have ("p11tool"))
    {
      g_autofree char *desc = fixture_p11tool_privkey ("certkeeper", id);
      g_assert_nonnull (strstr (desc, kc->type == KPR_KEY_EC_P256    ? "EC/ECDSA-SECP256R1"
                                      : kc->type == KPR_KEY_EC_P384  ? "EC/ECDSA-SECP384R1"
                                      : kc->type == KPR_KEY_RSA_2048 ? "RSA-2048"
                                                                     : "RSA-3072"));
      g_assert_nonnull (strstr (desc, kc->protection == KPR_PROTECTION_EXPORTABLE
                                          ? "CKA_EXTRACTABLE" : "CKA_SENSITIVE"));
    }

  /* "strong" hides the key from anyone without the PIN; "standard" lets
   * the user's programs use it without one. */
  {
    g_autofree char *anonymous = pkcs11_tool_list ("certkeeper", id, FALSE);
    if (kc->protection == KPR_PROTECTION_STRONG)
      g_assert_null (strstr (anonymous, "Private Key Object"));
    else
      g_assert_nonnull (strstr (anonymous, "Private Key Object"));
  }

  /* 5. a CSR signed on the token */
  check_csr (token, id);

  g_assert_true (kpr_token_delete_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 2);
  kpr_token_ctx_free (ctx);
}

static void
test_generate_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *card = fixture_login (ctx, TEST_CARD_LABEL);
  guint before = fixture_count_all (card);

  /* Exporting mode is for the software token only. */
  g_assert_false (kpr_token_generate_key (card, KPR_KEY_EC_P256, KPR_PROTECTION_EXPORTABLE,
                                          "x", id, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (kpr_token_generate_key (card, 99, KPR_PROTECTION_STANDARD, "x", id, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED);
  g_assert_cmpuint (fixture_count_all (card), ==, before);
  kpr_token_ctx_free (ctx);
}

/* 6. certificates */
static void
test_certificate (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autoptr (EVP_PKEY) ca_key = NULL, pub = NULL;
  g_autoptr (X509) ca = fixture_ca (&ca_key);
  g_autoptr (X509) cert = NULL, found = NULL;
  g_autofree char *listing = NULL, *nssdb = NULL, *out = NULL, *dbarg = NULL;
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = fixture_login (ctx, "certkeeper");
  guint count = 0;

  g_assert_true (kpr_token_generate_key (token, KPR_KEY_EC_P256, KPR_PROTECTION_STANDARD, "alice",
                                         id, &error));
  pub = kpr_token_get_public_key (token, id, &error);
  g_assert_no_error (error);
  cert = fixture_issue (ca, ca_key, pub, "alice");
  g_assert_true (kpr_token_store_certificate (token, cert, "alice", id, &error));
  g_assert_no_error (error);
  g_assert_true (kpr_token_store_certificate (token, ca, "CA", NULL, &error));
  /* Storing the same CA certificate twice keeps one object. */
  g_assert_true (kpr_token_store_certificate (token, ca, "CA", NULL, &error));
  g_assert_no_error (error);

  found = kpr_token_find_certificate (token, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_cmp (found, cert), ==, 0);
  {
    g_autoptr (EVP_PKEY) priv = kpr_token_get_private_key (token, id, &error);
    g_assert_no_error (error);
    g_assert_cmpint (X509_check_private_key (found, priv), ==, 1);
  }

  listing = pkcs11_tool_objects ("certkeeper", id);
  g_assert_nonnull (strstr (listing, "Certificate Object"));
  g_assert_nonnull (strstr (listing, "label:      alice"));
  g_assert_nonnull (strstr (listing, "subject:    DN: CN=alice"));

  /* NSS ignores certificates without CKA_SERIAL_NUMBER: certutil listing
   * the token's certificate is the proof the serial is there. */
  if (fixture_have ("certutil") && fixture_have ("modutil"))
    {
      nssdb = g_build_filename (fixture_dir (), "nssdb", NULL);
      dbarg = g_strconcat ("sql:", nssdb, NULL);
      g_mkdir_with_parents (nssdb, 0700);
      g_assert_cmpint (fixture_run (&out, "certutil", "-N", "-d", dbarg, "--empty-password", NULL), ==, 0);
      g_clear_pointer (&out, g_free);
      g_assert_cmpint (fixture_run (&out, "modutil", "-dbdir", dbarg, "-add", "softhsm", "-libfile",
                                    fixture_module (), "-force", NULL), ==, 0);
      g_clear_pointer (&out, g_free);
      /* "-h all" lists without logging in: a "standard" key is usable by
       * NSS without a PIN, and "u,u,u" says NSS paired it with the
       * certificate (a user certificate it can authenticate with). */
      g_assert_cmpint (fixture_run (&out, "certutil", "-L", "-d", dbarg, "-h", "all", NULL), ==, 0);
      g_assert_nonnull (strstr (out, "certkeeper:alice"));
      g_assert_nonnull (strstr (out, "u,u,u"));
    }

  /* delete by id: key pair and certificate go, the CA stays */
  g_assert_true (kpr_token_delete_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 3);
  g_assert_true (kpr_token_count_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 0);
  g_clear_pointer (&listing, g_free);
  listing = pkcs11_tool_objects ("certkeeper", id);
  g_assert_cmpstr (listing, ==, "");
  /* A second delete converges. */
  g_assert_true (kpr_token_delete_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 0);
  g_assert_null (kpr_token_find_certificate (token, id, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND);
  kpr_token_ctx_free (ctx);
}

void register_key_tests (void);
void register_p12_tests (void);

void
register_key_tests (void)
{
  static const KeyCase cases[] = {
    { KPR_KEY_EC_P256, KPR_PROTECTION_STANDARD },
    { KPR_KEY_EC_P384, KPR_PROTECTION_STRONG },
    { KPR_KEY_RSA_2048, KPR_PROTECTION_EXPORTABLE },
    { KPR_KEY_RSA_3072, KPR_PROTECTION_STANDARD },
    { KPR_KEY_EC_P256, KPR_PROTECTION_EXPORTABLE },
    { KPR_KEY_RSA_2048, KPR_PROTECTION_STRONG },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/token/keys/generate/%s-%s",
                                               kpr_key_type_to_string (cases[i].type),
                                               kpr_protection_to_string (cases[i].protection));
      g_test_add_data_func (path, &cases[i], test_generate);
    }
  g_test_add_func ("/token/keys/generate-refused", test_generate_refused);
  g_test_add_func ("/token/certificate/store-find-delete", test_certificate);
  register_p12_tests ();
}
