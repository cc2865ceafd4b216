/* kpr-browser.c — the identities in the browsers: status, register,
 * unregister, and the step after enroll, import, install and renew.
 *
 * What a browser needs to use an identity is the module that holds its
 * key, registered in the browser's NSS database with FRIENDLY: the
 * browser then lists the token's certificates and signs with its key.
 * Each token's own module is registered, not p11-kit-proxy.so (measured
 * in docs/browsers.md: the proxy brings every module p11-kit knows into
 * the browser and costs more at start-up).  A renewal changes nothing
 * in the browser: the new certificate is on the same token.
 *
 * Nothing here fails an enrollment or a renewal: the certificate is on
 * the token either way, and the step says what it could not do.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "kpr-browser-private.h"

/* What a browser must find for one identity. */
typedef struct {
  char *name;
  char *serial;
  GBytes *issuer;       /* DER */
  char *module;         /* library path; NULL when the token is absent */
  char *module_name;    /* as registered: "certkeeper (softhsm2)" */
  char *token_problem;  /* why module is NULL */
} Wanted;

static void
wanted_free (gpointer data)
{
  Wanted *w = data;

  g_free (w->name), g_free (w->serial), g_free (w->module), g_free (w->module_name);
  g_free (w->token_problem);
  g_clear_pointer (&w->issuer, g_bytes_unref);
  g_free (w);
}

static void
use_free (gpointer data)
{
  KprBrowserUse *use = data;

  g_free (use->identity), g_free (use->serial), g_free (use->module), g_free (use->problem);
  g_free (use);
}

static void
module_free (gpointer data)
{
  KprBrowserModule *module = data;

  g_free (module->name), g_free (module->library);
  g_free (module);
}

void
kpr_browser_store_free (KprBrowserStore *store)
{
  if (!store)
    return;
  g_free (store->title), g_free (store->profile), g_free (store->db_dir);
  g_free (store->damaged), g_free (store->error);
  g_clear_pointer (&store->modules, g_ptr_array_unref);
  g_clear_pointer (&store->uses, g_ptr_array_unref);
  g_free (store);
}

const char *
kpr_browser_kind_to_string (KprBrowserKind kind)
{
  return kind == KPR_BROWSER_CHROMIUM ? "chromium" : "firefox";
}

static GBytes *
issuer_der (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509_NAME (X509_get_issuer_name (cert), &der);
  GBytes *bytes = len > 0 ? g_bytes_new (der, len) : g_bytes_new (NULL, 0);

  OPENSSL_free (der);
  return bytes;
}

/* The identities with a certificate (all, or only @only), and the module
 * of each one's token.  A token that is absent is said, not an error. */
static GPtrArray *
collect_wanted (KprAgent *agent, const char *only, GError **error)
{
  g_autoptr (GPtrArray) wanted = g_ptr_array_new_with_free_func (wanted_free);
  g_auto (GStrv) names = kpr_store_list (agent->store, error);
  g_autoptr (GError) ctx_error = NULL;
  KprTokenCtx *ctx = NULL;

  if (!names)
    return NULL;
  for (char **n = names; *n; n++)
    {
      g_autoptr (KprIdentity) id = NULL;
      g_autoptr (GError) local = NULL;
      Wanted *w;

      if (only && !g_str_equal (only, *n))
        continue;
      id = kpr_store_load (agent->store, *n, NULL);
      if (!id || !id->cert || id->state == KPR_STATE_REVOKED || id->state == KPR_STATE_FAILED)
        continue;
      w = g_new0 (Wanted, 1);
      w->name = g_strdup (id->name);
      w->serial = kpr_ossl_serial_hex (id->cert);
      w->issuer = issuer_der (id->cert);
      g_ptr_array_add (wanted, w);
      /* Each identity's own module only (issue 13, item 11). */
      if (!ctx_error)
        ctx = kpr_agent_tokens_for (agent, id->token_uri, id->token_module, &ctx_error);
      if (ctx)
        {
          KprToken *token = kpr_token_ctx_find (ctx, id->token_uri, &local);
          if (token)
            {
              const KprTokenInfo *info = kpr_token_get_info (token);
              w->module = g_strdup (info->module_path);
              w->module_name = g_strdup_printf (KPR_BROWSER_MODULE_PREFIX "%s)", info->module_name);
            }
          else
            w->token_problem = g_strdup_printf ("its token is not here (%s)", local->message);
        }
      else
        w->token_problem = g_strdup_printf ("no token can be read (%s)", ctx_error->message);
    }
  return g_steal_pointer (&wanted);
}

static gboolean
db_shows (const KprNssDb *db, const Wanted *w, gboolean *ret_registered)
{
  gboolean visible = FALSE;

  *ret_registered = FALSE;
  for (guint m = 0; db && m < db->modules->len; m++)
    {
      KprNssModule *module = db->modules->pdata[m];
      if (module->internal)
        continue;
      if (w->module && kpr_browser_same_library (module->library, w->module))
        *ret_registered = TRUE;
      for (guint s = 0; s < module->slots->len; s++)
        {
          KprNssSlot *slot = module->slots->pdata[s];
          for (guint c = 0; c < slot->certs->len; c++)
            {
              KprNssCert *cert = slot->certs->pdata[c];
              if (g_str_equal (cert->serial, w->serial) && g_bytes_equal (cert->issuer, w->issuer))
                visible = TRUE;
            }
        }
    }
  return visible;
}

static char *
use_problem (const KprBrowserStore *store, const KprBrowserUse *use, const Wanted *w)
{
  if (store->damaged)
    return g_strdup (store->damaged);
  if (store->error && !use->visible)
    return g_strdup (store->error);
  if (use->visible)
    return store->restart_needed
             ? g_strdup_printf ("restart %s to use it: it was running before the module was "
                                "registered", store->title)
             : NULL;
  if (!use->module)
    return g_strdup (w->token_problem);
  if (!store->exists)
    return g_strdup_printf ("%s has no certificate database yet: run 'certkeeper browser "
                            "register'", store->title);
  if (use->registered)
    return g_strdup_printf ("its module is registered in %s but the certificate does not show "
                            "(registered without FRIENDLY by someone else, or the token is "
                            "absent): run 'certkeeper browser register'", store->title);
  return g_strdup_printf ("the module holding its key is not registered in %s: run "
                          "'certkeeper browser register'", store->title);
}

/* Fills @store's modules and uses from @db (NULL: not read). */
static void
describe_store (KprBrowserStore *store, const KprNssDb *db, GPtrArray *wanted)
{
  g_clear_pointer (&store->modules, g_ptr_array_unref);
  g_clear_pointer (&store->uses, g_ptr_array_unref);
  store->modules = g_ptr_array_new_with_free_func (module_free);
  store->uses = g_ptr_array_new_with_free_func (use_free);
  if (db)
    {
      store->exists = db->exists;
      if (db->damaged && !store->damaged)
        store->damaged = g_strdup_printf ("%s: %s/pkcs11.txt is damaged (%s); certkeeper "
                                          "leaves it as it is: move pkcs11.txt away and "
                                          "restart the browser, which writes a new one",
                                          store->title, store->db_dir, db->damaged);
      for (guint m = 0; m < db->modules->len; m++)
        {
          KprNssModule *nm = db->modules->pdata[m];
          KprBrowserModule *module;
          if (nm->internal)
            continue;
          module = g_new0 (KprBrowserModule, 1);
          module->name = g_strdup (nm->name);
          module->library = g_strdup (nm->library);
          module->ours = g_str_has_prefix (nm->name, KPR_BROWSER_MODULE_PREFIX);
          g_ptr_array_add (store->modules, module);
        }
    }
  if (!store->sandboxed)
    kpr_browser_store_update_running (store);
  for (guint i = 0; i < wanted->len; i++)
    {
      Wanted *w = wanted->pdata[i];
      KprBrowserUse *use = g_new0 (KprBrowserUse, 1);

      use->identity = g_strdup (w->name);
      use->serial = g_strdup (w->serial);
      use->module = g_strdup (w->module);
      use->visible = !store->damaged && db_shows (db, w, &use->registered);
      use->problem = use_problem (store, use, w);
      use->usable = use->visible && !use->problem;
      g_ptr_array_add (store->uses, use);
    }
}

typedef enum { SYNC_READ, SYNC_REGISTER, SYNC_UNREGISTER } SyncMode;

/* Reads (and changes, by @mode) one store.  FALSE when a change failed
 * (the store's ->damaged or ->error says why). */
static gboolean
sync_store (KprBrowserStore *store, GPtrArray *wanted, SyncMode mode)
{
  g_autoptr (KprNssDb) db = NULL;
  g_autoptr (GError) error = NULL;

  if (store->sandboxed)
    {
      describe_store (store, NULL, wanted);
      return TRUE;
    }
  if (store->exists && !(db = kpr_nss_list (store->db_dir, &error)))
    {
      store->error = g_strdup (error->message);
      describe_store (store, NULL, wanted);
      return FALSE;
    }
  if (db && db->damaged)
    {
      describe_store (store, db, wanted);
      return mode == SYNC_READ;
    }
  for (guint i = 0; mode == SYNC_REGISTER && i < wanted->len; i++)
    {
      Wanted *w = wanted->pdata[i];
      gboolean registered;
      KprNssDb *after;

      if (!w->module || (db && db_shows (db, w, &registered)))
        continue;
      if (!(after = kpr_nss_add (store->db_dir, w->module_name, w->module, &error)))
        break;
      kpr_nss_db_free (db);
      db = after;
    }
  for (guint m = 0; mode == SYNC_UNREGISTER && db && m < db->modules->len; m++)
    {
      KprNssModule *module = db->modules->pdata[m];
      g_autofree char *name = g_strdup (module->name);
      KprNssDb *after;

      if (!g_str_has_prefix (name, KPR_BROWSER_MODULE_PREFIX))
        continue;
      if (!(after = kpr_nss_remove (store->db_dir, name, &error)))
        break;
      kpr_nss_db_free (db);
      db = after;
      m = (guint) -1; /* the list changed: start again */
    }
  if (error)
    store->error = g_strdup_printf ("%s: %s", store->title, error->message);
  describe_store (store, db, wanted);
  return error == NULL;
}

static gboolean
sync_all (KprAgent *agent, KprBrowserKind kinds, const char *only, SyncMode mode,
          GPtrArray **ret_stores, GError **error)
{
  g_autoptr (GPtrArray) wanted = collect_wanted (agent, only, error);
  g_autoptr (GPtrArray) stores = NULL;
  g_autoptr (GString) failed = g_string_new (NULL);
  gboolean damaged = FALSE;

  if (ret_stores)
    *ret_stores = NULL;
  if (!wanted)
    return FALSE;
  stores = kpr_browser_find_stores (kinds);
  for (guint i = 0; i < stores->len; i++)
    {
      KprBrowserStore *store = stores->pdata[i];
      if (!sync_store (store, wanted, mode))
        {
          g_string_append_printf (failed, "%s%s", failed->len ? "; " : "",
                                  store->error ? store->error : store->damaged);
          damaged |= store->damaged != NULL;
        }
    }
  if (ret_stores)
    *ret_stores = g_ptr_array_ref (stores);
  if (failed->len)
    {
      g_set_error (error, KPR_ERROR, damaged ? KPR_ERROR_BAD_INPUT : KPR_ERROR_MODULE, "%s",
                   failed->str);
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
kpr_agent_browser_status (KprAgent *agent, KprBrowserKind kinds, GError **error)
{
  GPtrArray *stores = NULL;

  sync_all (agent, kinds, NULL, SYNC_READ, &stores, error);
  if (!stores)
    return NULL;
  /* A store that cannot be read is part of the report, not a failure. */
  g_clear_error (error);
  return stores;
}

gboolean
kpr_agent_browser_register (KprAgent *agent, KprBrowserKind kinds, GPtrArray **ret_stores,
                            GError **error)
{
  return sync_all (agent, kinds, NULL, SYNC_REGISTER, ret_stores, error);
}

gboolean
kpr_agent_browser_unregister (KprAgent *agent, KprBrowserKind kinds, GPtrArray **ret_stores,
                              GError **error)
{
  return sync_all (agent, kinds, NULL, SYNC_UNREGISTER, ret_stores, error);
}

gboolean
kpr_agent_browser_fix (KprAgent *agent, GError **error)
{
  return kpr_agent_browser_register (agent, KPR_BROWSER_ALL, NULL, error);
}

static KprBrowserUse *
use_of (KprBrowserStore *store, const char *name)
{
  for (guint i = 0; store->uses && i < store->uses->len; i++)
    if (g_str_equal (((KprBrowserUse *) store->uses->pdata[i])->identity, name))
      return store->uses->pdata[i];
  return NULL;
}

char *
kpr_agent_browser_where (KprAgent *agent, const char *name, gboolean *ret_restart_needed,
                         GError **error)
{
  g_autoptr (GPtrArray) stores = NULL;
  g_autoptr (GString) where = g_string_new (NULL);
  gboolean restart = FALSE;

  if (!sync_all (agent, KPR_BROWSER_ALL, name, SYNC_READ, &stores, error) && !stores)
    return NULL;
  g_clear_error (error); /* a damaged store is part of the answer */
  for (guint i = 0; i < stores->len; i++)
    {
      KprBrowserStore *store = stores->pdata[i];
      KprBrowserUse *use = use_of (store, name);

      if (!use || !(use->usable || (use->visible && store->restart_needed)))
        continue;
      g_string_append_printf (where, "%s%s%s", where->len ? " · " : "", store->title,
                              use->usable ? "" : ": restart needed");
      restart |= !use->usable;
    }
  if (ret_restart_needed)
    *ret_restart_needed = restart;
  return g_strdup (where->len ? where->str : "Not set up in a browser");
}

/* --- the step after enroll, import, install and renew ------------------------- */

void
kpr_agent_set_browsers (KprAgent *agent, gboolean automatic)
{
  agent->browsers = automatic ? 1 : 2;
}

const char *
kpr_agent_get_browser_note (KprAgent *agent)
{
  return agent->browser_note;
}

const char *
kpr_agent_get_browser_restart (KprAgent *agent)
{
  return agent->browser_restart;
}

static char *
config_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "certkeeper", "certkeeper.conf", NULL);
}

gboolean
kpr_browsers_get_automatic (void)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *path = config_path ();
  gboolean on;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL)
      || !g_key_file_has_key (kf, "browsers", "automatic", NULL))
    return TRUE;
  on = g_key_file_get_boolean (kf, "browsers", "automatic", &local);
  return local ? TRUE : on; /* not a boolean: the default (docs/browsers.md) */
}

gboolean
kpr_browsers_set_automatic (gboolean automatic, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *path = config_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *data = NULL;
  gsize len = 0;

  /* The file also holds the desktop agent's [agent] settings, written by
   * hand: they and their comments stay; a file that cannot be read is
   * not replaced. */
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, &local)
      && !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "Cannot read the config %s: %s", path,
                   local->message);
      return FALSE;
    }
  g_key_file_set_boolean (kf, "browsers", "automatic", automatic);
  data = g_key_file_to_data (kf, &len, NULL);
  g_clear_error (&local);
  if (g_mkdir_with_parents (dir, 0700) < 0
      || !g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write the config %s: %s", path,
                   local ? local->message : g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
browsers_automatic (KprAgent *agent)
{
  if (!agent->browsers)
    agent->browsers = kpr_browsers_get_automatic () ? 1 : 2;
  return agent->browsers == 1;
}

static void
append_list (GString *s, GPtrArray *titles)
{
  for (guint i = 0; i < titles->len; i++)
    g_string_append_printf (s, "%s%s", i == 0 ? "" : i + 1 == titles->len ? " and " : ", ",
                            (const char *) titles->pdata[i]);
}

void
kpr_agent_browser_after (KprAgent *agent, const KprIdentity *identity)
{
  g_autoptr (GPtrArray) stores = NULL;
  g_autoptr (GPtrArray) ready = g_ptr_array_new (), restart = g_ptr_array_new ();
  g_autoptr (GString) note = g_string_new (NULL);

  g_clear_pointer (&agent->browser_note, g_free);
  g_clear_pointer (&agent->browser_restart, g_free);
  if (!identity->cert || !browsers_automatic (agent))
    return;
  kpr_agent_progress (agent, "Making “%s” usable in the browsers", identity->name);
  sync_all (agent, KPR_BROWSER_ALL, identity->name, SYNC_REGISTER, &stores, NULL);
  for (guint i = 0; stores && i < stores->len; i++)
    {
      KprBrowserStore *store = stores->pdata[i];
      KprBrowserUse *use = use_of (store, identity->name);

      if (!use)
        continue;
      if (use->usable)
        g_ptr_array_add (ready, store->title);
      else if (use->visible && store->restart_needed)
        g_ptr_array_add (restart, store->title);
      else if (!store->sandboxed)
        g_string_append_printf (note, "%sNot usable in %s: %s.", note->len ? " " : "",
                                store->title, use->problem);
    }
  if (ready->len || restart->len)
    {
      g_autoptr (GString) head = g_string_new (NULL);
      if (ready->len)
        {
          g_string_append (head, "Ready in ");
          append_list (head, ready);
          g_string_append (head, ".");
        }
      if (restart->len)
        {
          g_autoptr (GString) sentence = g_string_new ("Restart ");
          append_list (sentence, restart);
          g_string_append (sentence, " to use it there.");
          g_string_append_printf (head, "%s%s", head->len ? " " : "", sentence->str);
          agent->browser_restart = g_string_free (g_steal_pointer (&sentence), FALSE);
        }
      g_string_prepend (note, note->len ? " " : "");
      g_string_prepend (note, head->str);
    }
  if (note->len)
    {
      agent->browser_note = g_string_free (g_steal_pointer (&note), FALSE);
      kpr_store_audit (agent->store, identity->name, "browsers: %s", agent->browser_note);
      kpr_store_record_event (agent->store, identity->name,
                              &(KprEvent) { .type = KPR_EVENT_BROWSERS,
                                            .detail = agent->browser_note });
    }
}
