/* test-token-pkey.c — the token-backed EVP_PKEY (pkcs11/kpr-pkey.c):
 * found by CKA_ID among other keys, every private operation OpenSSL asks
 * of it (ECDSA with short and long digests, RSA PKCS#1 v1.5 and PSS
 * signatures, PKCS#1 v1.5 and OAEP decryption), from another thread, and
 * with only a certificate left for its public half.  Each result is
 * checked with the public key in plain OpenSSL.  Registered into
 * test-token's main. */
#include "config.h"

#include <string.h>

#include <openssl/rsa.h>

#include "kpr-token-private.h"
#include "token-fixture.h"

static gsize
sign (EVP_PKEY *key, const EVP_MD *md, int padding, guint8 *sig, gsize sig_size)
{
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  EVP_PKEY_CTX *pctx = NULL;
  static const char message[] = "the same message";
  size_t len = sig_size;

  g_assert_cmpint (EVP_DigestSignInit (ctx, &pctx, md, NULL, key), ==, 1);
  if (padding)
    g_assert_cmpint (EVP_PKEY_CTX_set_rsa_padding (pctx, padding), ==, 1);
  g_assert_cmpint (EVP_DigestSign (ctx, sig, &len, (const guint8 *) message, sizeof message), ==,
                   1);
  return len;
}

static gboolean
verifies (EVP_PKEY *pub, const EVP_MD *md, int padding, const guint8 *sig, gsize len)
{
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  EVP_PKEY_CTX *pctx = NULL;
  static const char message[] = "the same message";

  g_assert_cmpint (EVP_DigestVerifyInit (ctx, &pctx, md, NULL, pub), ==, 1);
  if (padding)
    g_assert_cmpint (EVP_PKEY_CTX_set_rsa_padding (pctx, padding), ==, 1);
  return EVP_DigestVerify (ctx, sig, len, (const guint8 *) message, sizeof message) == 1;
}

static void
check_signs (EVP_PKEY *priv, EVP_PKEY *pub, const EVP_MD *md, int padding)
{
  guint8 sig[512];
  gsize len = sign (priv, md, padding, sig, sizeof sig);

  g_assert_true (verifies (pub, md, padding, sig, len));
  sig[len / 2] ^= 1;
  g_assert_false (verifies (pub, md, padding, sig, len));
}

static void
check_decrypts (EVP_PKEY *priv, EVP_PKEY *pub, int padding)
{
  static const guint8 secret[] = "a content-encryption key";
  g_autoptr (EVP_PKEY_CTX) enc = EVP_PKEY_CTX_new (pub, NULL);
  g_autoptr (EVP_PKEY_CTX) dec = EVP_PKEY_CTX_new (priv, NULL);
  guint8 wrapped[512], plain[512];
  size_t wrapped_len = sizeof wrapped, plain_len = sizeof plain;

  g_assert_cmpint (EVP_PKEY_encrypt_init (enc), ==, 1);
  g_assert_cmpint (EVP_PKEY_CTX_set_rsa_padding (enc, padding), ==, 1);
  g_assert_cmpint (EVP_PKEY_encrypt (enc, wrapped, &wrapped_len, secret, sizeof secret), ==, 1);
  g_assert_cmpint (EVP_PKEY_decrypt_init (dec), ==, 1);
  g_assert_cmpint (EVP_PKEY_CTX_set_rsa_padding (dec, padding), ==, 1);
  g_assert_cmpint (EVP_PKEY_decrypt (dec, plain, &plain_len, wrapped, wrapped_len), ==, 1);
  g_assert_cmpmem (plain, plain_len, secret, sizeof secret);
}

typedef struct {
  KprKeyType type;
  KprKeyUsage usage;
} PkeyCase;

static void
test_operations (gconstpointer data)
{
  const PkeyCase *pc = data;
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = fixture_login (ctx, "certkeeper");
  GBytes *ids[3];
  guint count;

  /* The key asked for sits between two others of the same type. */
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      ids[i] = kpr_token_new_id ();
      g_assert_true (kpr_token_generate_key_for (token, pc->type, KPR_PROTECTION_STRONG, pc->usage,
                                                 "pkey", ids[i], &error));
      g_assert_no_error (error);
    }
  {
    g_autoptr (EVP_PKEY) priv = kpr_token_get_private_key (token, ids[1], &error);
    g_autoptr (EVP_PKEY) pub = kpr_token_get_public_key (token, ids[1], NULL);
    g_autoptr (EVP_PKEY) other = kpr_token_get_public_key (token, ids[0], NULL);

    g_assert_no_error (error);
    g_assert_cmpint (EVP_PKEY_eq (priv, pub), ==, 1);
    g_assert_cmpint (EVP_PKEY_eq (priv, other), !=, 1);
    if (kpr_key_type_is_ec (pc->type))
      {
        /* A digest shorter and one longer than the group order. */
        check_signs (priv, pub, EVP_sha256 (), 0);
        check_signs (priv, pub, EVP_sha512 (), 0);
      }
    else
      {
        check_signs (priv, pub, EVP_sha256 (), RSA_PKCS1_PADDING);
        check_signs (priv, pub, EVP_sha384 (), RSA_PKCS1_PSS_PADDING);
      }
    if (pc->usage == KPR_KEY_USAGE_SIGN_DECRYPT)
      {
        check_decrypts (priv, pub, RSA_PKCS1_PADDING);
        check_decrypts (priv, pub, RSA_PKCS1_OAEP_PADDING);
      }
  }
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_assert_true (kpr_token_delete_objects (token, ids[i], &count, &error));
      g_bytes_unref (ids[i]);
    }
  kpr_token_ctx_free (ctx);
}

static gpointer
sign_in_thread (gpointer data)
{
  EVP_PKEY **keys = data;

  check_signs (keys[0], keys[1], EVP_sha256 (), 0);
  return NULL;
}

/* certkeeper-ca signs in its writer thread with a key found in its main
 * thread; and a token whose public key object is gone (some tokens never
 * keep one) still gives the key, its public half from the certificate. */
/* The logged-in software token, and a CA to issue certificates for it. */
static KprToken *
login_with_ca (KprTokenCtx **ret_ctx, X509 **ret_ca, EVP_PKEY **ret_ca_key)
{
  *ret_ctx = fixture_ctx ();
  *ret_ca = fixture_ca (ret_ca_key);
  return fixture_login (*ret_ctx, "certkeeper");
}

static void
test_thread_and_certificate (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autoptr (EVP_PKEY) ca_key = NULL;
  g_autoptr (X509) ca = NULL;
  KprTokenCtx *ctx;
  KprToken *token = login_with_ca (&ctx, &ca, &ca_key);
  CK_OBJECT_HANDLE pub_obj;
  guint count;

  g_assert_true (kpr_token_generate_key (token, KPR_KEY_EC_P256, KPR_PROTECTION_STRONG, "pkey",
                                         id, &error));
  {
    g_autoptr (EVP_PKEY) priv = kpr_token_get_private_key (token, id, &error);
    g_autoptr (EVP_PKEY) pub = kpr_token_get_public_key (token, id, &error);
    EVP_PKEY *keys[] = { priv, pub };
    g_autoptr (X509) cert = NULL;

    g_assert_no_error (error);
    g_thread_join (g_thread_new ("sign", sign_in_thread, keys));
    cert = fixture_issue (ca, ca_key, pub, "pkey");
    g_assert_true (kpr_token_store_certificate (token, cert, "pkey", id, &error));
    g_assert_no_error (error);
  }
  g_assert_true (kpr_token_find_one (token, CKO_PUBLIC_KEY, id, &pub_obj, &error));
  g_assert_true (kpr_token_destroy (token, pub_obj, &error));
  {
    g_autoptr (EVP_PKEY) priv = kpr_token_get_private_key (token, id, &error);
    g_autoptr (X509) cert = kpr_token_find_certificate (token, id, NULL);

    g_assert_no_error (error);
    g_assert_cmpint (X509_check_private_key (cert, priv), ==, 1);
    check_signs (priv, X509_get0_pubkey (cert), EVP_sha256 (), 0);
  }
  g_assert_true (kpr_token_delete_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 2);
  /* Gone: a clear "not found", not a key that fails later. */
  g_assert_null (kpr_token_get_private_key (token, id, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND);
  kpr_token_ctx_free (ctx);
}

/* What a renewal does without searching: the key C_GenerateKeyPair made
 * signs as the one found later would; a certificate is kept when equal
 * and replaced when not (one per id); removing the id without the sweep
 * removes its three objects. */
static void
test_made_key_and_replace (void)
{
  g_autoptr (EVP_PKEY) made = NULL, pub = NULL, ca_key = NULL;
  g_autoptr (X509) c1 = NULL, c2 = NULL, on_token = NULL, ca = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx;
  KprToken *token = login_with_ca (&ctx, &ca, &ca_key);
  guint count;

  made = kpr_token_generate_private_key (token, KPR_KEY_EC_P256, KPR_PROTECTION_STRONG,
                                         KPR_KEY_USAGE_SIGN, "made", id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (made);
  pub = kpr_token_get_public_key (token, id, &error);
  g_assert_no_error (error);
  check_signs (made, pub, EVP_sha256 (), 0);

  c1 = fixture_issue (ca, ca_key, pub, "made");
  c2 = fixture_issue (ca, ca_key, pub, "made");
  g_assert_cmpint (X509_cmp (c1, c2), !=, 0);
  g_assert_true (kpr_token_replace_certificate (token, c1, "made", id, &error));
  g_assert_true (kpr_token_replace_certificate (token, c1, "made", id, &error));
  g_assert_true (kpr_token_count_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 3);
  g_assert_true (kpr_token_replace_certificate (token, c2, "made", id, &error));
  g_assert_no_error (error);
  g_assert_true (kpr_token_count_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 3);
  on_token = kpr_token_find_certificate (token, id, &error);
  g_assert_nonnull (on_token);
  g_assert_cmpint (X509_cmp (on_token, c2), ==, 0);

  g_assert_true (kpr_token_delete_objects_of (token, id, FALSE, &count, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 3);
  g_assert_true (kpr_token_count_objects (token, id, &count, &error));
  g_assert_cmpuint (count, ==, 0);
  kpr_token_ctx_free (ctx);
}

void register_pkey_tests (void);

void
register_pkey_tests (void)
{
  static const PkeyCase cases[] = {
    { KPR_KEY_EC_P256, KPR_KEY_USAGE_SIGN },
    { KPR_KEY_EC_P384, KPR_KEY_USAGE_SIGN },
    { KPR_KEY_RSA_2048, KPR_KEY_USAGE_SIGN_DECRYPT },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/token/pkey/%s-%s",
                                               kpr_key_type_to_string (cases[i].type),
                                               cases[i].usage == KPR_KEY_USAGE_SIGN ? "sign"
                                                                                    : "decrypt");
      g_test_add_data_func (path, &cases[i], test_operations);
    }
  g_test_add_func ("/token/pkey/thread-and-certificate", test_thread_and_certificate);
  g_test_add_func ("/token/pkey/made-key-and-replace", test_made_key_and_replace);
}
