/* kpr-module.c — loading PKCS#11 modules and listing their tokens.
 *
 * p11-kit tells us which modules are registered; each is then loaded once
 * by libp11 (which initializes it) and once more through p11-kit without
 * management, which dlopen()s the same library and so hands back the same
 * function list: libp11 and our raw calls share one module instance, and
 * so one login state.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <openssl/err.h>

#include "kpr-token-private.h"

static char *
trimmed (const unsigned char *padded, gsize len)
{
  g_autofree char *copy = g_strndup ((const char *) padded, len);
  return g_strdup (g_strchomp (copy));
}

void
kpr_token_info_clear (KprTokenInfo *info)
{
  g_free (info->uri);
  g_free (info->label);
  g_free (info->manufacturer);
  g_free (info->model);
  g_free (info->serial);
  g_free (info->module_name);
  g_free (info->module_path);
  memset (info, 0, sizeof *info);
}

KprTokenInfo *
kpr_token_info_copy (const KprTokenInfo *info)
{
  KprTokenInfo *copy;

  if (!info)
    return NULL;
  copy = g_memdup2 (info, sizeof *info);
  copy->uri = g_strdup (info->uri);
  copy->label = g_strdup (info->label);
  copy->manufacturer = g_strdup (info->manufacturer);
  copy->model = g_strdup (info->model);
  copy->serial = g_strdup (info->serial);
  copy->module_name = g_strdup (info->module_name);
  copy->module_path = g_strdup (info->module_path);
  return copy;
}

void
kpr_token_info_free (KprTokenInfo *info)
{
  if (!info)
    return;
  kpr_token_info_clear (info);
  g_free (info);
}

static void
token_free (KprToken *token)
{
  kpr_token_close_session (token);
  kpr_token_info_clear (&token->info);
  g_free (token);
}

static void
module_free (KprModule *module)
{
  if (module->fn)
    p11_kit_module_release (module->fn);
  if (module->p11)
    {
      if (module->slots)
        PKCS11_release_all_slots (module->p11, module->slots, module->n_slots);
      /* Finalizes the module: only ever at the end of the context. */
      PKCS11_CTX_unload (module->p11);
      PKCS11_CTX_free (module->p11);
    }
  g_free (module->path);
  g_free (module->name);
  g_free (module);
}

static void
read_mechanisms (KprToken *token)
{
  CK_FUNCTION_LIST *fn = token->module->fn;
  CK_MECHANISM_INFO mi;

  if (fn->C_GetMechanismInfo (token->slot_id, CKM_EC_KEY_PAIR_GEN, &mi) == CKR_OK
      && (mi.flags & CKF_GENERATE_KEY_PAIR))
    {
      token->info.ec_min_bits = mi.ulMinKeySize;
      token->info.ec_max_bits = mi.ulMaxKeySize;
      token->info.can_generate[KPR_KEY_EC_P256] = mi.ulMinKeySize <= 256 && mi.ulMaxKeySize >= 256;
      token->info.can_generate[KPR_KEY_EC_P384] = mi.ulMinKeySize <= 384 && mi.ulMaxKeySize >= 384;
    }
  if (fn->C_GetMechanismInfo (token->slot_id, CKM_RSA_PKCS_KEY_PAIR_GEN, &mi) == CKR_OK
      && (mi.flags & CKF_GENERATE_KEY_PAIR))
    {
      token->info.rsa_min_bits = mi.ulMinKeySize;
      token->info.rsa_max_bits = mi.ulMaxKeySize;
      token->info.can_generate[KPR_KEY_RSA_2048] = mi.ulMinKeySize <= 2048 && mi.ulMaxKeySize >= 2048;
      token->info.can_generate[KPR_KEY_RSA_3072] = mi.ulMinKeySize <= 3072 && mi.ulMaxKeySize >= 3072;
    }
}

static gboolean
fill_info (KprToken *token, GError **error)
{
  CK_FUNCTION_LIST *fn = token->module->fn;
  CK_TOKEN_INFO ti;
  CK_INFO mi;
  CK_RV rv;
  P11KitUri *uri;
  char *uri_text = NULL;

  rv = fn->C_GetTokenInfo (token->slot_id, &ti);
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Cannot read the token in slot %lu of %s",
                         (unsigned long) token->slot_id, token->module->name);
      return FALSE;
    }

  kpr_token_info_clear (&token->info);
  token->info.label = trimmed (ti.label, sizeof ti.label);
  token->info.manufacturer = trimmed (ti.manufacturerID, sizeof ti.manufacturerID);
  token->info.model = trimmed (ti.model, sizeof ti.model);
  token->info.serial = trimmed (ti.serialNumber, sizeof ti.serialNumber);
  token->info.module_name = g_strdup (token->module->name);
  token->info.module_path = g_strdup (token->module->path);
  token->info.initialized = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
  token->info.login_required = (ti.flags & CKF_LOGIN_REQUIRED) != 0;
  token->info.user_pin_initialized = (ti.flags & CKF_USER_PIN_INITIALIZED) != 0;
  token->info.write_protected = (ti.flags & CKF_WRITE_PROTECTED) != 0;
  token->info.pin_count_low = (ti.flags & CKF_USER_PIN_COUNT_LOW) != 0;
  token->info.pin_final_try = (ti.flags & CKF_USER_PIN_FINAL_TRY) != 0;
  token->info.pin_locked = (ti.flags & CKF_USER_PIN_LOCKED) != 0;
  token->info.spare = !token->info.initialized && token->ctx->softhsm_path
                      && g_strcmp0 (token->ctx->softhsm_path, token->module->path) == 0;
  token->info.software = token->ctx->softhsm_path
                         && g_strcmp0 (token->ctx->softhsm_path, token->module->path) == 0
                         && g_str_equal (token->info.label, KPR_SOFTWARE_TOKEN_LABEL);

  /* The URI names the module too, so that two tokens with equal labels in
   * different modules stay apart. */
  uri = p11_kit_uri_new ();
  memcpy (p11_kit_uri_get_token_info (uri), &ti, sizeof ti);
  if (fn->C_GetInfo (&mi) == CKR_OK)
    memcpy (p11_kit_uri_get_module_info (uri), &mi, sizeof mi);
  if (p11_kit_uri_format (uri, P11_KIT_URI_FOR_TOKEN | P11_KIT_URI_FOR_MODULE, &uri_text)
      == P11_KIT_URI_OK)
    {
      token->info.uri = g_strdup (uri_text);
      free (uri_text);
    }
  p11_kit_uri_free (uri);

  read_mechanisms (token);
  return TRUE;
}

gboolean
kpr_token_update_info (KprToken *token, GError **error)
{
  return fill_info (token, error);
}

const KprTokenInfo *
kpr_token_get_info (KprToken *token)
{
  return &token->info;
}

static char *
canonical_path (const char *path)
{
  char *real = realpath (path, NULL);
  char *copy;

  if (!real)
    return g_strdup (path);
  copy = g_strdup (real);
  free (real);
  return copy;
}

static gboolean
module_add (KprTokenCtx *ctx, const char *path, const char *name, gboolean required,
            GError **error)
{
  g_autofree char *real = canonical_path (path);
  KprModule *module;

  for (guint i = 0; i < ctx->modules->len; i++)
    if (g_str_equal (((KprModule *) ctx->modules->pdata[i])->path, real))
      return TRUE;

  if (!g_file_test (real, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_MODULE, "No PKCS#11 module at %s", path);
      return FALSE;
    }

  module = g_new0 (KprModule, 1);
  module->path = g_steal_pointer (&real);
  module->name = name ? g_strdup (name) : g_path_get_basename (path);
  module->required = required;
  module->p11 = PKCS11_CTX_new ();
  if (!module->p11 || PKCS11_CTX_load (module->p11, module->path) < 0)
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_MODULE,
                   "%s is not a usable PKCS#11 module (it could not be loaded or "
                   "initialized: %s)", path, detail);
      if (module->p11)
        PKCS11_CTX_free (module->p11);
      module->p11 = NULL;
      module_free (module);
      return FALSE;
    }
  module->fn = p11_kit_module_load (module->path, P11_KIT_MODULE_UNMANAGED);
  if (!module->fn)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_MODULE, "Cannot load %s through p11-kit: %s",
                   path, p11_kit_message () ? p11_kit_message () : "unknown reason");
      module_free (module);
      return FALSE;
    }
  g_ptr_array_add (ctx->modules, module);
  return TRUE;
}

static gboolean
has_module (KprTokenCtx *ctx, const char *path)
{
  g_autofree char *real = canonical_path (path);

  for (guint i = 0; i < ctx->modules->len; i++)
    if (g_str_equal (((KprModule *) ctx->modules->pdata[i])->path, real))
      return TRUE;
  return FALSE;
}

/* Registered modules, except trust-policy modules (p11-kit-trust holds the
 * system's CA list, never a person's keys).  @probe: each is started in a
 * child process first (kpr-probe.c); one that crashes or hangs there is
 * not loaded here. */
static void
add_registered (KprTokenCtx *ctx, gboolean probe)
{
  CK_FUNCTION_LIST **list = p11_kit_modules_load (NULL, P11_KIT_MODULE_UNMANAGED);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  g_autoptr (GPtrArray) names = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  g_autoptr (GArray) known = g_array_new (FALSE, TRUE, sizeof (gboolean));
  g_auto (GStrv) broken = NULL;

  if (!list)
    {
      g_ptr_array_add (ctx->warnings, g_strdup_printf ("p11-kit: %s", p11_kit_message ()));
      return;
    }
  for (CK_FUNCTION_LIST **m = list; *m; m++)
    {
      g_autofree char *trust = p11_kit_config_option (*m, "trust-policy");
      g_autofree char *file = p11_kit_module_get_filename (*m);

      if (!file || (trust && g_ascii_strcasecmp (trust, "yes") == 0))
        continue;
      g_ptr_array_add (paths, g_path_is_absolute (file)
                                ? g_strdup (file)
                                : g_build_filename (P11_MODULE_PATH, file, NULL));
      g_ptr_array_add (names, p11_kit_module_get_name (*m));
      {
        gboolean loaded = has_module (ctx, paths->pdata[paths->len - 1]);
        g_array_append_val (known, loaded);
      }
    }
  p11_kit_modules_release (list);
  /* All at once, so that a list with several hanging modules still takes
   * one timeout.  Those loaded already (SoftHSM) are known to start. */
  if (probe)
    broken = kpr_module_probe_all ((const char *const *) paths->pdata,
                                   (const char *const *) names->pdata,
                                   (const gboolean *) known->data, paths->len,
                                   KPR_TOKEN_PROBE_TIMEOUT);
  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (GError) local = NULL;

      if (broken && broken[i][0])
        {
          g_ptr_array_add (ctx->broken, g_strdup (broken[i]));
          continue;
        }
      if (!module_add (ctx, paths->pdata[i], names->pdata[i], FALSE, &local))
        g_ptr_array_add (ctx->warnings, g_strdup (local->message));
    }
}

/* The tokens of the modules from @from on; from 0: all of them, anew. */
static gboolean
build_tokens (KprTokenCtx *ctx, guint from, GError **error)
{
  if (from == 0)
    g_ptr_array_set_size (ctx->tokens, 0);
  for (guint i = from; i < ctx->modules->len; i++)
    {
      KprModule *module = ctx->modules->pdata[i];
      int rc;

      /* Not PKCS11_update_slots(): in libp11 0.4.12 it leaves the array in
       * a state that PKCS11_release_all_slots() frees twice (seen under
       * ASan).  Releasing and enumerating again is safe because no key of
       * this context is in use across a refresh. */
      if (module->slots)
        PKCS11_release_all_slots (module->p11, module->slots, module->n_slots);
      module->slots = NULL;
      module->n_slots = 0;
      rc = PKCS11_enumerate_slots (module->p11, &module->slots, &module->n_slots);
      if (rc < 0)
        {
          g_autofree char *detail = kpr_ossl_error_string ();
          module->slots = NULL;
          module->n_slots = 0;
          /* A reader module without readers (OpenSC, no pcscd) has no slots
           * to list: that is an empty module, not a failure. */
          if (!module->required)
            {
              ERR_clear_error ();
              continue;
            }
          g_set_error (error, KPR_ERROR, KPR_ERROR_MODULE, "Cannot list the slots of %s: %s",
                       module->name, detail);
          return FALSE;
        }
      for (unsigned int s = 0; s < module->n_slots; s++)
        {
          PKCS11_SLOT *slot = &module->slots[s];
          KprToken *token;
          g_autoptr (GError) local = NULL;

          if (!slot->token)
            continue;
          token = g_new0 (KprToken, 1);
          token->ctx = ctx;
          token->module = module;
          token->slot = slot;
          token->slot_id = PKCS11_get_slotid_from_slot (slot);
          if (!fill_info (token, &local))
            {
              g_ptr_array_add (ctx->warnings, g_strdup (local->message));
              token_free (token);
              continue;
            }
          g_ptr_array_add (ctx->tokens, token);
        }
    }
  return TRUE;
}

static gboolean
is_softhsm (KprTokenCtx *ctx, const char *path)
{
  g_autofree char *real = canonical_path (path);

  return ctx->softhsm_path && g_str_equal (real, ctx->softhsm_path);
}

gboolean
kpr_token_ctx_add (KprTokenCtx *ctx, KprTokenCtxFlags flags, const char *const *extra_modules,
                   GError **error)
{
  guint from = ctx->modules->len;

  /* SoftHSM named as a module is the software token's: loaded as such
   * (its config first, its name "softhsm2"), below. */
  for (const char *const *m = extra_modules; m && *m; m++)
    if (is_softhsm (ctx, *m))
      flags |= KPR_TOKEN_CTX_SOFTWARE;
  /* Before SoftHSM is initialized anywhere in this process: without a
   * config of its own the person's SoftHSM reads the system one, which
   * they cannot read (or, as root, is the system's token store). */
  if ((flags & KPR_TOKEN_CTX_SOFTWARE) && !has_module (ctx, KPR_SOFTHSM_MODULE)
      && !kpr_softhsm_ensure_config (NULL, error))
    return FALSE;
  for (const char *const *m = extra_modules; m && *m; m++)
    if (!is_softhsm (ctx, *m) && !module_add (ctx, *m, NULL, TRUE, error))
      return FALSE;
  if ((flags & KPR_TOKEN_CTX_SOFTWARE) && !has_module (ctx, KPR_SOFTHSM_MODULE))
    {
      g_autoptr (GError) local = NULL;
      if (!module_add (ctx, KPR_SOFTHSM_MODULE, "softhsm2", TRUE, &local))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_MODULE,
                       "The software token is not available: %s", local->message);
          return FALSE;
        }
      if (!kpr_softhsm_check_tokendir (&local))
        g_ptr_array_add (ctx->warnings, g_strdup (local->message));
    }
  if (flags & KPR_TOKEN_CTX_REGISTERED)
    add_registered (ctx, (flags & KPR_TOKEN_CTX_PROBE) != 0);
  /* Only the new modules' tokens: those of the others stay valid. */
  return build_tokens (ctx, from, error);
}

KprTokenCtx *
kpr_token_ctx_new (KprTokenCtxFlags flags, const char *const *extra_modules, GError **error)
{
  KprTokenCtx *ctx = g_new0 (KprTokenCtx, 1);

  ctx->modules = g_ptr_array_new_with_free_func ((GDestroyNotify) module_free);
  ctx->tokens = g_ptr_array_new_with_free_func ((GDestroyNotify) token_free);
  ctx->warnings = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  ctx->broken = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  ctx->softhsm_path = canonical_path (KPR_SOFTHSM_MODULE);
  if (!kpr_token_ctx_add (ctx, flags, extra_modules, error))
    {
      kpr_token_ctx_free (ctx);
      return NULL;
    }
  return ctx;
}

void
kpr_token_ctx_free (KprTokenCtx *ctx)
{
  if (!ctx)
    return;
  /* Tokens (their sessions) go before the modules that own them. */
  g_ptr_array_unref (ctx->tokens);
  g_ptr_array_unref (ctx->modules);
  g_ptr_array_unref (ctx->warnings);
  g_ptr_array_unref (ctx->broken);
  g_free (ctx->softhsm_path);
  g_free (ctx);
}

const char *const *
kpr_token_ctx_get_warnings (KprTokenCtx *ctx)
{
  return (const char *const *) ctx->warnings->pdata;
}

const char *const *
kpr_token_ctx_get_broken (KprTokenCtx *ctx)
{
  return (const char *const *) ctx->broken->pdata;
}

GPtrArray *
kpr_token_ctx_list (KprTokenCtx *ctx)
{
  return ctx->tokens;
}

gboolean
kpr_token_ctx_refresh (KprTokenCtx *ctx, GError **error)
{
  return build_tokens (ctx, 0, error);
}

KprToken *
kpr_token_ctx_find (KprTokenCtx *ctx, const char *uri_text, GError **error)
{
  P11KitUri *uri = p11_kit_uri_new ();
  KprToken *found = NULL;
  guint matches = 0;
  int rc;

  rc = p11_kit_uri_parse (uri_text, P11_KIT_URI_FOR_ANY, uri);
  if (rc != P11_KIT_URI_OK)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "“%s” is not a PKCS#11 URI: %s",
                   uri_text, p11_kit_uri_message (rc));
      p11_kit_uri_free (uri);
      return NULL;
    }
  for (guint i = 0; i < ctx->tokens->len; i++)
    {
      KprToken *token = ctx->tokens->pdata[i];
      CK_TOKEN_INFO ti;
      CK_INFO mi;

      if (token->module->fn->C_GetTokenInfo (token->slot_id, &ti) != CKR_OK
          || token->module->fn->C_GetInfo (&mi) != CKR_OK)
        continue;
      if (p11_kit_uri_match_token_info (uri, &ti) && p11_kit_uri_match_module_info (uri, &mi))
        {
          found = token;
          matches++;
        }
    }
  p11_kit_uri_free (uri);

  if (matches == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NO_TOKEN, "No token matches %s", uri_text);
      return NULL;
    }
  if (matches > 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "%u tokens match %s; add serial= to the URI to pick one", matches, uri_text);
      return NULL;
    }
  return found;
}

KprToken *
kpr_token_ctx_software (KprTokenCtx *ctx, GError **error)
{
  for (guint i = 0; i < ctx->tokens->len; i++)
    {
      KprToken *token = ctx->tokens->pdata[i];
      if (token->info.software)
        return token;
    }
  if (!kpr_softhsm_check_tokendir (error))
    return NULL;
  g_set_error (error, KPR_ERROR, KPR_ERROR_NO_TOKEN,
               "There is no software token yet; create it with "
               "'certkeeper token init-software'");
  return NULL;
}
