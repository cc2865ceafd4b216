/* kpr-cli-tokens.c — "certkeeper tokens" and "certkeeper token ...". */
#include "config.h"

#include <stdio.h>

#include <json-glib/json-glib.h>
#include <openssl/pem.h>

#include "kpr-cli.h"
#include "kpr-prompt.h"
#include "kpr-token.h"

static const char *
pin_state (const KprTokenInfo *info)
{
  if (!info->login_required)
    return "no PIN";
  if (!info->user_pin_initialized)
    return "PIN not set";
  if (info->pin_locked)
    return "PIN locked";
  if (info->pin_final_try)
    return "final try";
  if (info->pin_count_low)
    return "PIN count low";
  return "PIN ok";
}

static void
add_token_json (JsonBuilder *b, const KprTokenInfo *info)
{
  json_builder_begin_object (b);
#define STR(k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, (v) ? (v) : ""))
#define BOOL(k, v) (json_builder_set_member_name (b, k), json_builder_add_boolean_value (b, v))
  STR ("uri", info->uri);
  STR ("label", info->label);
  STR ("manufacturer", info->manufacturer);
  STR ("model", info->model);
  STR ("serial", info->serial);
  STR ("module", info->module_name);
  STR ("module_path", info->module_path);
  BOOL ("software", info->software);
  BOOL ("initialized", info->initialized);
  BOOL ("login_required", info->login_required);
  BOOL ("user_pin_initialized", info->user_pin_initialized);
  BOOL ("write_protected", info->write_protected);
  json_builder_set_member_name (b, "pin");
  json_builder_begin_object (b);
  BOOL ("count_low", info->pin_count_low);
  BOOL ("final_try", info->pin_final_try);
  BOOL ("locked", info->pin_locked);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "key_types");
  json_builder_begin_array (b);
  for (KprKeyType t = KPR_KEY_EC_P256; t <= KPR_KEY_RSA_3072; t++)
    if (info->can_generate[t])
      json_builder_add_string_value (b, kpr_key_type_to_string (t));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "mechanisms");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ec_bits");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, info->ec_min_bits);
  json_builder_add_int_value (b, info->ec_max_bits);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "rsa_bits");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, info->rsa_min_bits);
  json_builder_add_int_value (b, info->rsa_max_bits);
  json_builder_end_array (b);
  json_builder_end_object (b);
#undef STR
#undef BOOL
  json_builder_end_object (b);
}

static void
print_token (const KprTokenInfo *info)
{
  printf ("%s%s\n", info->label[0] ? info->label : "(no label)",
          info->software ? "  [software token]" : "");
  printf ("  %s %s, serial %s, module %s\n", info->manufacturer, info->model,
          info->serial[0] ? info->serial : "-", info->module_name);
  printf ("  state:     %s, %s%s\n", info->initialized ? "initialized" : "not initialized",
          pin_state (info), info->write_protected ? ", write-protected" : "");
  printf ("  key types:");
  for (KprKeyType t = KPR_KEY_EC_P256; t <= KPR_KEY_RSA_3072; t++)
    if (info->can_generate[t])
      printf (" %s", kpr_key_type_to_string (t));
  printf ("\n  uri:       %s\n", info->uri);
}

int
kpr_cli_tokens (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  KprTokenCtx *ctx;
  GPtrArray *tokens;
  int status = 0;

  if (!kpr_cli_parse ("tokens", "", "List the tokens that can hold keys.", entries, &argc, &argv))
    return KPR_ERROR_USAGE;

  /* Every registered module is looked at here, so each is tried in a
   * child process first: a broken one is reported, not fatal (issue 13,
   * item 11).  No state lock is taken. */
  ctx = kpr_token_ctx_new (KPR_TOKEN_CTX_REGISTERED | KPR_TOKEN_CTX_SOFTWARE
                             | KPR_TOKEN_CTX_PROBE, NULL, &error);
  if (!ctx)
    return kpr_cli_report (error);
  tokens = kpr_token_ctx_list (ctx);

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < tokens->len; i++)
        if (!kpr_token_get_info (tokens->pdata[i])->spare)
          add_token_json (b, kpr_token_get_info (tokens->pdata[i]));
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, TRUE);
      text = json_generator_to_data (gen, NULL);
      printf ("%s\n", text);
    }
  else
    {
      guint shown = 0;
      for (guint i = 0; i < tokens->len; i++)
        if (!kpr_token_get_info (tokens->pdata[i])->spare)
          {
            print_token (kpr_token_get_info (tokens->pdata[i]));
            shown++;
          }
      /* Not when a token is there but unreadable: the warning says why,
       * and creating another one would hide the person's keys. */
      if (shown == 0 && kpr_softhsm_check_tokendir (NULL))
        printf ("No tokens found. Create the software token with "
                "'certkeeper token init-software'.\n");
    }
  for (const char *const *w = kpr_token_ctx_get_warnings (ctx); w && *w; w++)
    fprintf (stderr, "certkeeper: warning: %s\n", *w);
  /* The tokens above are all there is to use; the exit status says that
   * a module is broken (KPR_ERROR_MODULE). */
  for (const char *const *b = kpr_token_ctx_get_broken (ctx); b && *b; b++)
    {
      fprintf (stderr, "certkeeper: %s\n", *b);
      status = KPR_ERROR_MODULE;
    }
  kpr_token_ctx_free (ctx);
  return status;
}

static int
token_init_software (int argc, char **argv)
{
  g_autofree char *pin_file = NULL, *so_pin_file = NULL;
  const GOptionEntry entries[] = {
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file,
      "Read the new PIN from the first line of FILE (mode 0600; - for stdin)", "FILE" },
    { "so-pin-file", 0, 0, G_OPTION_ARG_FILENAME, &so_pin_file,
      "Read the new SO PIN (it unblocks the PIN) from FILE", "FILE" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) pin = NULL, so_pin = NULL;
  g_autofree char *config = NULL;
  KprTokenCtx *ctx;
  KprToken *token;
  int status = 0;

  if (!kpr_cli_parse ("token init-software", "",
                      "Create the software token “certkeeper” for keys kept on this computer.",
                      entries, &argc, &argv))
    return KPR_ERROR_USAGE;
  if (argc > 1)
    {
      fprintf (stderr, "certkeeper token init-software: unexpected argument “%s”\n", argv[1]);
      return KPR_ERROR_USAGE;
    }
  if (!kpr_softhsm_ensure_config (&config, &error))
    return kpr_cli_report (error);
  /* Writes nothing more: the config above already exists. */
  ctx = kpr_token_ctx_new (KPR_TOKEN_CTX_SOFTWARE, NULL, &error);
  if (!ctx)
    return kpr_cli_report (error);

  /* Checked before asking, so nobody types two PINs for nothing. */
  token = kpr_token_ctx_software (ctx, NULL);
  if (token && kpr_token_get_info (token)->user_pin_initialized)
    g_set_error (&error, KPR_ERROR, KPR_ERROR_EXISTS, "The software token “%s” already exists",
                 KPR_SOFTWARE_TOKEN_LABEL);
  else if ((pin = kpr_prompt_secret_from (pin_file, "New PIN for the software token: ", TRUE,
                                          &error))
           && (so_pin = kpr_prompt_secret_from (so_pin_file,
                                                "New SO PIN (needed to unblock the PIN): ",
                                                TRUE, &error))
           && (token = kpr_token_init_software (ctx, pin, so_pin, &error)))
    printf ("Created the software token “%s”\n  uri:    %s\n  config: %s\n",
            kpr_token_get_info (token)->label, kpr_token_get_info (token)->uri, config);

  if (error)
    status = kpr_cli_report (error);
  kpr_token_ctx_free (ctx);
  return status;
}

static KprSecret *
token_pin (const KprTokenInfo *info, gpointer pin_file, GError **error)
{
  return kpr_prompt_token_pin (pin_file, info->label, info->pin_count_low, info->pin_final_try,
                               error);
}

/* The token to work on: --token URI, else the software token. */
static KprToken *
pick_token (KprTokenCtx *ctx, const char *uri, GError **error)
{
  return uri ? kpr_token_ctx_find (ctx, uri, error) : kpr_token_ctx_software (ctx, error);
}

static char *
hex_id (GBytes *id)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (id, &len);
  GString *s = g_string_new (NULL);

  kpr_hex_append (s, d, len, "%", TRUE);
  return g_string_free (s, FALSE);
}

static int
token_keygen (int argc, char **argv)
{
  g_autofree char *uri = NULL, *pin_file = NULL, *key_name = NULL, *protection_name = NULL;
  g_autofree char *label = NULL;
  const GOptionEntry entries[] = {
    { "token", 0, 0, G_OPTION_ARG_STRING, &uri, "Token to use (PKCS#11 URI; default: the software token)", "URI" },
    { "key", 0, 0, G_OPTION_ARG_STRING, &key_name, "ec-p256 (default), ec-p384, rsa-2048 or rsa-3072", "TYPE" },
    { "protection", 0, 0, G_OPTION_ARG_STRING, &protection_name, "standard (default), strong or exportable", "LEVEL" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &label, "Label of the key objects", "LABEL" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file, "Read the PIN from FILE (mode 0600; - for stdin)", "FILE" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autoptr (EVP_PKEY) pub = NULL;
  KprKeyType type = KPR_KEY_EC_P256;
  KprProtection protection = KPR_PROTECTION_STANDARD;
  KprTokenCtx *ctx;
  KprToken *token;
  KprKeyInfo info;
  int status = 0;

  if (!kpr_cli_parse ("token keygen", "",
                      "Generate a key pair on a token (enrollment does this for you).",
                      entries, &argc, &argv))
    return KPR_ERROR_USAGE;
  if (key_name && !kpr_key_type_from_string (key_name, &type))
    {
      fprintf (stderr, "certkeeper token keygen: unknown key type “%s” (ec-p256, ec-p384, rsa-2048, rsa-3072)\n", key_name);
      return KPR_ERROR_USAGE;
    }
  if (protection_name && !kpr_protection_from_string (protection_name, &protection))
    {
      fprintf (stderr, "certkeeper token keygen: unknown protection “%s” (standard, strong, exportable)\n", protection_name);
      return KPR_ERROR_USAGE;
    }
  ctx = kpr_token_ctx_new (KPR_TOKEN_CTX_REGISTERED | KPR_TOKEN_CTX_SOFTWARE, NULL, &error);
  if (!ctx)
    return kpr_cli_report (error);

  if ((token = pick_token (ctx, uri, &error))
      && kpr_token_login (token, token_pin, pin_file, &error))
    {
      /* RSA on a smart card can take a minute: say something meanwhile. */
      if (kpr_prompt_is_interactive ())
        fprintf (stderr, "Generating a %s key on “%s”…\n", kpr_key_type_to_string (type),
                 kpr_token_get_info (token)->label);
      if (kpr_token_generate_key (token, type, protection, label ? label : "certkeeper", id, &error)
          && kpr_token_get_key_info (token, id, &info, &error)
          && (pub = kpr_token_get_public_key (token, id, &error)))
        {
          g_autofree char *id_text = hex_id (id);
          printf ("Generated a %s key on “%s” (%s%s)\n  uri: %s;id=%s\n",
                  kpr_key_type_to_string (info.type), kpr_token_get_info (token)->label,
                  kpr_protection_to_string (protection),
                  info.extractable ? ", exportable" : ", never leaves the token",
                  kpr_token_get_info (token)->uri, id_text);
          PEM_write_PUBKEY (stdout, pub);
        }
    }
  if (error)
    status = kpr_cli_report (error);
  kpr_token_ctx_free (ctx);
  return status;
}

int
kpr_cli_token (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "init-software"))
    return token_init_software (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "keygen"))
    return token_keygen (argc - 1, argv + 1);
  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      printf ("Usage: certkeeper token init-software [--pin-file F] [--so-pin-file F]\n"
              "       certkeeper token keygen [--token URI] [--key TYPE] [--protection LEVEL]\n"
              "                               [--label L] [--pin-file F]\n");
      return 0;
    }
  fprintf (stderr, "certkeeper token: expected “init-software” or “keygen”; see 'certkeeper token --help'.\n");
  return KPR_ERROR_USAGE;
}
