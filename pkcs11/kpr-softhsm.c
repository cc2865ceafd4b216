/* kpr-softhsm.c — the per-user software token (SoftHSM2).
 *
 * SoftHSM reads SOFTHSM2_CONF, else ~/.config/softhsm2/softhsm2.conf, else
 * /etc/softhsm/softhsm2.conf — which is root:softhsm 0640 and so unreadable
 * for a person.  It does not expand "~" either.  So we write the user's
 * own config, with an absolute token directory, when there is none.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <unistd.h>

#include <glib/gstdio.h>

#include "kpr-token-private.h"

static char *
config_path (void)
{
  const char *env = g_getenv ("SOFTHSM2_CONF");

  if (env && *env)
    return g_strdup (env);
  return g_build_filename (g_get_home_dir (), ".config", "softhsm2", "softhsm2.conf", NULL);
}

/* SoftHSM's config is "key = value" lines without a group: read the token
 * directory ourselves.  NULL when the file has none. */
static char *
read_tokendir (const char *config, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  char *tokendir = NULL;

  if (!g_file_get_contents (config, &text, NULL, NULL))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot read the SoftHSM configuration %s",
                   config);
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      char *line = g_strstrip (*l);
      char *eq = strchr (line, '=');
      if (eq && g_str_has_prefix (line, "directories.tokendir"))
        {
          g_free (tokendir);
          tokendir = g_strdup (g_strstrip (eq + 1));
        }
    }
  return tokendir;
}

gboolean
kpr_softhsm_ensure_config (char **ret_config_path, GError **error)
{
  g_autofree char *config = config_path ();
  g_autofree char *tokendir = NULL;
  g_autofree char *contents = NULL;

  if (!g_file_test (config, G_FILE_TEST_EXISTS))
    {
      g_autofree char *dir = g_path_get_dirname (config);
      tokendir = g_build_filename (g_get_user_data_dir (), "softhsm", "tokens", NULL);
      contents = g_strdup_printf ("# Written by certkeeper for this user's software token.\n"
                                  "directories.tokendir = %s\n"
                                  "objectstore.backend = file\n"
                                  "log.level = ERROR\n"
                                  "slots.removable = false\n",
                                  tokendir);
      if (g_mkdir_with_parents (dir, 0700) < 0)
        {
          int saved = errno;
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot create %s: %s", dir,
                       g_strerror (saved));
          return FALSE;
        }
      g_autoptr (GError) local = NULL;
      if (!g_file_set_contents_full (config, contents, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                       "Cannot write the SoftHSM configuration: %s", local->message);
          return FALSE;
        }
    }
  else
    {
      g_autoptr (GError) local = NULL;

      tokendir = read_tokendir (config, &local);
      if (local)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }

  if (tokendir && g_path_is_absolute (tokendir) && g_mkdir_with_parents (tokendir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot create the token directory %s: %s",
                   tokendir, g_strerror (saved));
      return FALSE;
    }
  if (ret_config_path)
    *ret_config_path = g_steal_pointer (&config);
  return TRUE;
}

gboolean
kpr_softhsm_check_tokendir (GError **error)
{
  g_autofree char *config = config_path ();
  g_autofree char *tokendir = read_tokendir (config, NULL);
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (!tokendir || !g_path_is_absolute (tokendir))
    return TRUE;
  if (!(dir = g_dir_open (tokendir, 0, NULL)))
    {
      int saved = errno;
      if (saved == ENOENT)
        return TRUE;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                   "The software token directory %s cannot be read (%s): fix its permissions "
                   "(chmod -R u+rwX '%s'); certkeeper will not create another token beside it",
                   tokendir, g_strerror (saved), tokendir);
      return FALSE;
    }
  /* SoftHSM silently skips a token it cannot open; so would we, and then
   * offer to create a second "certkeeper" token beside the person's keys. */
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (tokendir, name, NULL);
      g_autofree char *object = g_build_filename (path, "token.object", NULL);

      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      if (access (path, R_OK | W_OK | X_OK) != 0
          || (g_file_test (object, G_FILE_TEST_EXISTS) && access (object, R_OK | W_OK) != 0))
        {
          int saved = errno;
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                       "A software token in %s cannot be opened (%s): fix its permissions "
                       "(chmod -R u+rwX '%s'); certkeeper will not create another token beside it",
                       path, g_strerror (saved), path);
          return FALSE;
        }
    }
  return TRUE;
}

static KprToken *
free_softhsm_slot (KprTokenCtx *ctx)
{
  for (guint i = 0; i < ctx->tokens->len; i++)
    {
      KprToken *token = ctx->tokens->pdata[i];
      if (!token->info.initialized && g_strcmp0 (token->module->path, ctx->softhsm_path) == 0)
        return token;
    }
  return NULL;
}

/* Both PINs are checked against the token's limits before anything is
 * written: a token created without a user PIN would be a trap. */
static gboolean
check_pin_lengths (CK_FUNCTION_LIST *fn, CK_SLOT_ID slot_id, const KprSecret *pin,
                   const KprSecret *so_pin, GError **error)
{
  CK_TOKEN_INFO ti;
  CK_RV rv = fn->C_GetTokenInfo (slot_id, &ti);

  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Cannot read the SoftHSM slot");
      return FALSE;
    }
  if (pin->len < ti.ulMinPinLen || pin->len > ti.ulMaxPinLen
      || so_pin->len < ti.ulMinPinLen || so_pin->len > ti.ulMaxPinLen)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_WEAK_SECRET,
                   "PINs for the software token must be %lu to %lu characters long",
                   (unsigned long) ti.ulMinPinLen, (unsigned long) ti.ulMaxPinLen);
      return FALSE;
    }
  return TRUE;
}

static KprToken *
set_user_pin (KprTokenCtx *ctx, KprToken *slot_token, const KprSecret *pin,
              const KprSecret *so_pin, GError **error)
{
  CK_FUNCTION_LIST *fn = slot_token->module->fn;
  CK_SESSION_HANDLE session = 0;
  CK_RV rv;

  if (!check_pin_lengths (fn, slot_token->slot_id, pin, so_pin, error))
    return NULL;
  rv = fn->C_OpenSession (slot_token->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                          &session);
  if (rv == CKR_OK)
    rv = fn->C_Login (session, CKU_SO, (CK_UTF8CHAR_PTR) so_pin->data, so_pin->len);
  if (rv == CKR_OK)
    {
      rv = fn->C_InitPIN (session, (CK_UTF8CHAR_PTR) pin->data, pin->len);
      fn->C_Logout (session);
    }
  if (session)
    fn->C_CloseSession (session);
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Cannot set the PIN of the software token");
      return NULL;
    }
  if (!kpr_token_update_info (slot_token, error))
    return NULL;
  return slot_token;
}

KprToken *
kpr_token_init_software (KprTokenCtx *ctx, const KprSecret *pin, const KprSecret *so_pin,
                         GError **error)
{
  unsigned char label[32];
  KprToken *slot_token;
  CK_FUNCTION_LIST *fn;
  CK_SLOT_ID slot_id;
  CK_RV rv;

  slot_token = kpr_token_ctx_software (ctx, NULL);
  if (slot_token && slot_token->info.user_pin_initialized)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                   "The software token “%s” already exists", KPR_SOFTWARE_TOKEN_LABEL);
      return NULL;
    }
  /* A token left without a user PIN (a crash, or a PIN the token refused)
   * is finished with the same SO PIN instead of being a dead end. */
  if (slot_token)
    return set_user_pin (ctx, slot_token, pin, so_pin, error);
  if (!kpr_softhsm_check_tokendir (error))
    return NULL;
  slot_token = free_softhsm_slot (ctx);
  if (!slot_token)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_MODULE,
                   "SoftHSM offers no free slot for the software token (is %s loaded?)",
                   KPR_SOFTHSM_MODULE);
      return NULL;
    }
  fn = slot_token->module->fn;
  slot_id = slot_token->slot_id;

  if (!check_pin_lengths (fn, slot_id, pin, so_pin, error))
    return NULL;

  memset (label, ' ', sizeof label);
  memcpy (label, KPR_SOFTWARE_TOKEN_LABEL, strlen (KPR_SOFTWARE_TOKEN_LABEL));
  rv = fn->C_InitToken (slot_id, (CK_UTF8CHAR_PTR) so_pin->data, so_pin->len, label);
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Cannot create the software token");
      return NULL;
    }

  /* SoftHSM renumbers its slots after C_InitToken: find ours again. */
  if (!kpr_token_ctx_refresh (ctx, error))
    return NULL;
  slot_token = kpr_token_ctx_software (ctx, error);
  if (!slot_token)
    return NULL;

  return set_user_pin (ctx, slot_token, pin, so_pin, error);
}
