/* test-token.c — the token layer (issue 2, items 1–10) on real SoftHSM2
 * tokens, each claim confirmed by an independent reader where one exists:
 * pkcs11-tool (OpenSC), p11tool (GnuTLS), openssl, NSS certutil/pk12util. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "kpr-token-private.h"
#include "token-fixture.h"

/* 1. Listing */

static void
test_list_software (void)
{
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = kpr_token_ctx_software (ctx, &error);
  const KprTokenInfo *info;
  g_autofree char *out = NULL;

  g_assert_no_error (error);
  info = kpr_token_get_info (token);
  g_assert_cmpstr (info->label, ==, "certkeeper");
  g_assert_cmpstr (info->manufacturer, ==, "SoftHSM project");
  g_assert_cmpstr (info->model, ==, "SoftHSM v2");
  g_assert_cmpuint (strlen (info->serial), >, 0);
  g_assert_true (info->software && info->initialized && info->login_required);
  g_assert_true (info->user_pin_initialized);
  g_assert_false (info->pin_locked || info->pin_final_try || info->pin_count_low);
  for (KprKeyType t = KPR_KEY_EC_P256; t <= KPR_KEY_RSA_3072; t++)
    g_assert_true (info->can_generate[t]);
  g_assert_cmpuint (info->rsa_max_bits, >=, 3072);
  g_assert_true (g_str_has_prefix (info->uri, "pkcs11:"));
  g_assert_nonnull (strstr (info->uri, "token=certkeeper"));
  /* The URI we print finds the same token again. */
  g_assert_true (kpr_token_ctx_find (ctx, info->uri, &error) == token);
  g_assert_no_error (error);

  /* The stand-in hardware token is not the software token. */
  token = kpr_token_ctx_find (ctx, "pkcs11:token=" TEST_CARD_LABEL, &error);
  g_assert_no_error (error);
  g_assert_false (kpr_token_get_info (token)->software);

  /* p11tool (GnuTLS) sees the same serial. */
  if (fixture_have ("p11tool"))
    {
      g_assert_cmpint (fixture_run (&out, "p11tool", "--provider", fixture_module (),
                                    "--list-tokens", NULL), ==, 0);
      g_assert_nonnull (strstr (out, kpr_token_get_info (kpr_token_ctx_software (ctx, NULL))->serial));
    }
  kpr_token_ctx_free (ctx);
}

static void
test_list_registered (void)
{
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx = kpr_token_ctx_new (KPR_TOKEN_CTX_REGISTERED | KPR_TOKEN_CTX_SOFTWARE, NULL,
                                        &error);
  GPtrArray *tokens;
  guint software = 0;

  g_assert_no_error (error);
  tokens = kpr_token_ctx_list (ctx);
  for (guint i = 0; i < tokens->len; i++)
    {
      const KprTokenInfo *info = kpr_token_get_info (tokens->pdata[i]);
      software += info->software;
      /* The system trust store is no place for keys. */
      g_assert_cmpstr (info->model, !=, "p11-kit-trust");
    }
  /* SoftHSM is registered with p11-kit and is also our own module: one
   * instance, listed once. */
  g_assert_cmpuint (software, ==, 1);
  kpr_token_ctx_free (ctx);
}

static void
test_find_errors (void)
{
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx = fixture_ctx ();

  g_assert_null (kpr_token_ctx_find (ctx, "pkcs11:token=no-such-token", &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_NO_TOKEN);
  g_clear_error (&error);
  g_assert_null (kpr_token_ctx_find (ctx, "https://example.org/", &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT);
  g_clear_error (&error);
  /* Several SoftHSM tokens match a model-only URI: ambiguity is an error,
   * never a guess. */
  g_assert_null (kpr_token_ctx_find (ctx, "pkcs11:model=SoftHSM%20v2", &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_USAGE);
  g_clear_error (&error);
  kpr_token_ctx_free (ctx);
}

static void
test_not_a_module (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *junk = fixture_write_file ("junk.so", "not a module\n", 13);
  const char *missing[] = { "/nonexistent/libnothing.so", NULL };
  const char *bad[] = { junk, NULL };

  g_assert_null (kpr_token_ctx_new (0, missing, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_MODULE);
  g_assert_nonnull (strstr (error->message, "/nonexistent/libnothing.so"));
  g_clear_error (&error);
  g_assert_null (kpr_token_ctx_new (0, bad, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_MODULE);
  g_assert_nonnull (strstr (error->message, "not a usable PKCS#11 module"));
}

/* 2. The software token */

static void
test_software_exists (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) pin = kpr_secret_new ("9999", 4);
  KprTokenCtx *ctx = fixture_ctx ();
  guint before = kpr_token_ctx_list (ctx)->len;

  g_assert_null (kpr_token_init_software (ctx, pin, pin, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_EXISTS);
  g_assert_cmpuint (kpr_token_ctx_list (ctx)->len, ==, before);
  kpr_token_ctx_free (ctx);
}

static void
test_softhsm_config (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("SOFTHSM2_CONF"));
  g_autofree char *home = g_build_filename (fixture_dir (), "home", NULL);
  g_autofree char *data = g_build_filename (home, "data", NULL);
  g_autofree char *path = NULL, *text = NULL, *tokendir = NULL;

  g_unsetenv ("SOFTHSM2_CONF");
  g_setenv ("HOME", home, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_assert_true (kpr_softhsm_ensure_config (&path, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (path, home));
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  /* Absolute: SoftHSM does not expand "~". */
  tokendir = g_build_filename (data, "softhsm", "tokens", NULL);
  g_assert_nonnull (strstr (text, tokendir));
  g_assert_true (g_file_test (tokendir, G_FILE_TEST_IS_DIR));
  /* A second call keeps the file as it is. */
  g_assert_true (kpr_softhsm_ensure_config (NULL, &error));
  g_setenv ("SOFTHSM2_CONF", saved, TRUE);
  g_setenv ("HOME", fixture_dir (), TRUE);
}

/* 3. Login */

static void
test_login_wrong_pin (void)
{
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = kpr_token_ctx_software (ctx, NULL);

  fixture_pin_calls = 0;
  g_assert_false (kpr_token_login (token, fixture_pin, (gpointer) "0000", &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PIN_INCORRECT);
  g_assert_nonnull (strstr (error->message, "CKR_PIN_INCORRECT"));
  /* Asked once, never retried. */
  g_assert_cmpuint (fixture_pin_calls, ==, 1);
  g_assert_false (kpr_token_is_logged_in (token));
  g_clear_error (&error);

  g_assert_true (kpr_token_login (token, fixture_pin, (gpointer) TEST_PIN, &error));
  g_assert_no_error (error);
  g_assert_true (kpr_token_is_logged_in (token));
  /* Logged in: no second question. */
  g_assert_true (kpr_token_login (token, fixture_pin, (gpointer) TEST_PIN, &error));
  g_assert_cmpuint (fixture_pin_calls, ==, 2);
  kpr_token_ctx_free (ctx);
}

/* Occurrences of @needle in this process's heap. */
static guint
heap_count (const char *needle)
{
  g_autofree char *maps = NULL;
  g_auto (GStrv) lines = NULL;
  FILE *mem = fopen ("/proc/self/mem", "rb");
  gsize nlen = strlen (needle);
  guint hits = 0;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  g_assert_nonnull (mem);
  lines = g_strsplit (maps, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      unsigned long from, to;
      g_autofree char *buf = NULL;
      gsize got;
      if (!strstr (*l, "[heap]") || sscanf (*l, "%lx-%lx", &from, &to) != 2)
        continue;
      buf = g_malloc (to - from);
      if (fseek (mem, (long) from, SEEK_SET) != 0)
        continue;
      got = fread (buf, 1, to - from, mem);
      for (gsize i = 0; i + nlen <= got; i++)
        hits += memcmp (buf + i, needle, nlen) == 0;
    }
  fclose (mem);
  return hits;
}

static void
test_login_keeps_no_pin (void)
{
  g_autoptr (GError) error = NULL;
  /* Built on the stack from pieces, so only a copy made by the code under
   * test can be found on the heap. */
  char pin[32];
  g_autofree char *out = NULL;
  KprTokenCtx *ctx;
  KprToken *token;

  g_snprintf (pin, sizeof pin, "%s-%s-%d", "Pin", "Copy-Canary", 5519);
  if (fixture_run (&out, "softhsm2-util", "--init-token", "--free", "--label", "pincopy", "--pin",
                   pin, "--so-pin", TEST_SO_PIN, NULL) != 0)
    g_error ("softhsm2-util failed: %s", out);
  ctx = fixture_ctx ();
  token = kpr_token_ctx_find (ctx, "pkcs11:token=pincopy", &error);
  g_assert_no_error (error);
  g_assert_true (kpr_token_login (token, fixture_pin, pin, &error));
  g_assert_no_error (error);
  /* libp11's PKCS11_login would keep one for the life of the process. */
  g_assert_cmpuint (heap_count (pin), ==, 0);
  kpr_token_ctx_free (ctx);
}

/* SoftHSM has no PIN lockout, so the PIN flags come from the shim
 * module (the only stand-in in this suite). */
static KprTokenCtx *
shim_ctx (void)
{
  g_autoptr (GError) error = NULL;
  const char *shim[] = { g_getenv ("KPR_TEST_SHIM"), NULL };
  KprTokenCtx *ctx = kpr_token_ctx_new (0, shim, &error);

  g_assert_no_error (error);
  return ctx;
}

static void
test_login_pin_flags (void)
{
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx;
  KprToken *token;
  g_autofree char *locked = g_strdup_printf ("%lu", (unsigned long) CKF_USER_PIN_LOCKED);
  g_autofree char *final = g_strdup_printf ("%lu", (unsigned long) CKF_USER_PIN_FINAL_TRY);

  g_setenv ("KPR_SHIM_TOKEN_FLAGS", locked, TRUE);
  ctx = shim_ctx ();
  token = kpr_token_ctx_find (ctx, "pkcs11:token=certkeeper", &error);
  g_assert_no_error (error);
  g_assert_true (kpr_token_get_info (token)->pin_locked);
  fixture_pin_calls = 0;
  g_assert_false (kpr_token_login (token, fixture_pin, (gpointer) TEST_PIN, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PIN_LOCKED);
  /* A blocked PIN is reported before anyone is asked. */
  g_assert_cmpuint (fixture_pin_calls, ==, 0);
  g_clear_error (&error);
  kpr_token_ctx_free (ctx);

  g_setenv ("KPR_SHIM_TOKEN_FLAGS", final, TRUE);
  ctx = shim_ctx ();
  token = kpr_token_ctx_find (ctx, "pkcs11:token=certkeeper", &error);
  fixture_saw_final_try = FALSE;
  g_assert_true (kpr_token_login (token, fixture_pin, (gpointer) TEST_PIN, &error));
  g_assert_no_error (error);
  /* The prompt knew it was the last try before it asked. */
  g_assert_true (fixture_saw_final_try);
  kpr_token_ctx_free (ctx);
  g_unsetenv ("KPR_SHIM_TOKEN_FLAGS");
}

static void
test_oversized_attribute (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) ca_key = NULL, key = fixture_software_key ("ec-p256");
  g_autoptr (X509) ca = fixture_ca (&ca_key);
  g_autoptr (X509) cert = fixture_issue (ca, ca_key, key, "oversize");
  g_autoptr (GBytes) id = kpr_token_new_id ();
  KprTokenCtx *ctx = fixture_ctx ();
  KprToken *token = fixture_login (ctx, "certkeeper");

  g_assert_true (kpr_token_store_certificate (token, cert, "oversize", id, &error));
  g_assert_no_error (error);
  kpr_token_ctx_free (ctx);

  g_setenv ("KPR_SHIM_OVERSIZE", "1", TRUE);
  ctx = shim_ctx ();
  token = kpr_token_ctx_find (ctx, "pkcs11:token=certkeeper", &error);
  g_assert_null (kpr_token_find_certificate (token, id, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_TOKEN);
  g_assert_nonnull (strstr (error->message, "refusing"));
  g_clear_error (&error);
  g_unsetenv ("KPR_SHIM_OVERSIZE");
  g_assert_true (kpr_token_delete_objects (token, id, NULL, &error));
  kpr_token_ctx_free (ctx);
}

void register_key_tests (void);
void register_pkey_tests (void);

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  fixture_global_setup ();

  g_test_add_func ("/token/list/software", test_list_software);
  g_test_add_func ("/token/list/registered", test_list_registered);
  g_test_add_func ("/token/find/errors", test_find_errors);
  g_test_add_func ("/token/module/not-a-module", test_not_a_module);
  g_test_add_func ("/token/software/exists", test_software_exists);
  g_test_add_func ("/token/software/config", test_softhsm_config);
  g_test_add_func ("/token/login/wrong-pin", test_login_wrong_pin);
  g_test_add_func ("/token/login/pin-flags", test_login_pin_flags);
  g_test_add_func ("/token/login/keeps-no-pin", test_login_keeps_no_pin);
  g_test_add_func ("/token/module/oversized-attribute", test_oversized_attribute);
  register_key_tests ();
  register_pkey_tests ();

  status = g_test_run ();
  fixture_global_teardown ();
  return status;
}
