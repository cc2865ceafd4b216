/* kpr-browser-nss.c — runs certkeeper-nss (agent/nss/certkeeper-nss.c) and
 * reads what it prints.  That program is the only one that opens a
 * browser's NSS database; why it is a separate process is said there.
 *
 * It is found in the build tree when the running program is one of the
 * build tree's (tests, development), else in LIBEXECDIR.  A module that
 * hangs (a smart-card stack waiting for its reader) cannot hang
 * certkeeper: the child is killed after KPR_NSS_TIMEOUT seconds.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kpr-browser-private.h"

#define KPR_NSS_TIMEOUT 30

static void
cert_free (gpointer data)
{
  KprNssCert *cert = data;

  g_free (cert->serial);
  g_clear_pointer (&cert->issuer, g_bytes_unref);
  g_free (cert);
}

static void
slot_free (gpointer data)
{
  KprNssSlot *slot = data;

  g_free (slot->token);
  g_clear_pointer (&slot->certs, g_ptr_array_unref);
  g_free (slot);
}

static void
module_free (gpointer data)
{
  KprNssModule *module = data;

  g_free (module->name);
  g_free (module->library);
  g_clear_pointer (&module->slots, g_ptr_array_unref);
  g_free (module);
}

void
kpr_nss_db_free (KprNssDb *db)
{
  if (!db)
    return;
  g_free (db->damaged);
  g_clear_pointer (&db->modules, g_ptr_array_unref);
  g_free (db);
}

static const char *
helper_path (void)
{
#ifdef KPR_NSS_HELPER_UNINSTALLED
  static char *path;

  if (!path)
    {
      g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
      path = self && g_str_has_prefix (self, KPR_BUILD_ROOT "/") ? KPR_NSS_HELPER_UNINSTALLED
                                                                  : KPR_NSS_HELPER;
    }
  return path;
#else
  return KPR_NSS_HELPER;
#endif
}

typedef struct {
  gboolean done, timed_out;
  char *out, *err;
  GError *error;
} Run;

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->out, &run->err,
                                        &run->error);
  run->done = TRUE;
}

static gboolean
on_timeout (gpointer data)
{
  GSubprocess *process = data;

  g_object_set_data (G_OBJECT (process), "kpr-timed-out", GINT_TO_POINTER (1));
  g_subprocess_force_exit (process);
  return G_SOURCE_REMOVE;
}

/* Runs the helper with @argv (after its path) on a private main context,
 * so that it works the same from the CLI, the daemon and a GUI thread. */
static char *
run_helper (const char *const *args, const char *db_dir, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GSource) timeout = NULL;
  Run run = { 0 };
  char *out = NULL;

  g_ptr_array_add (argv, (gpointer) helper_path ());
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &run.error);
  if (!process)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL,
                   "certkeeper-nss cannot be started (%s): reinstall certkeeper",
                   run.error->message);
      g_clear_error (&run.error);
      return NULL;
    }
  g_main_context_push_thread_default (context);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_communicated, &run);
  timeout = g_timeout_source_new_seconds (KPR_NSS_TIMEOUT);
  g_source_set_callback (timeout, on_timeout, process, NULL);
  g_source_attach (timeout, context);
  while (!run.done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  g_subprocess_wait (process, NULL, NULL);
  g_main_context_pop_thread_default (context);

  if (g_object_get_data (G_OBJECT (process), "kpr-timed-out"))
    g_set_error (error, KPR_ERROR, KPR_ERROR_MODULE,
                 "A module registered in %s did not answer within %d s; nothing was changed",
                 db_dir, KPR_NSS_TIMEOUT);
  else if (run.error)
    g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "certkeeper-nss failed: %s",
                 run.error->message);
  else if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    {
      int code = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : 0;
      g_autofree char *line = g_strndup (run.err ? run.err : "", strcspn (run.err ? run.err : "", "\n"));
      if (code < KPR_ERROR_INTERNAL || code > KPR_ERROR_LAST)
        code = KPR_ERROR_INTERNAL;
      g_set_error (error, KPR_ERROR, code, "%s",
                   *line ? line : "certkeeper-nss stopped without saying why");
    }
  else
    out = g_steal_pointer (&run.out);
  g_clear_error (&run.error);
  g_free (run.out);
  g_free (run.err);
  return out;
}

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);
  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
           ? json_node_get_string (node) : NULL;
}

static gboolean
member_bool (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);
  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN
           && json_node_get_boolean (node);
}

static JsonArray *
member_array (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);
  return node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static KprNssSlot *
parse_slot (JsonObject *o)
{
  KprNssSlot *slot = g_new0 (KprNssSlot, 1);
  JsonArray *certs = member_array (o, "certs");

  slot->token = g_strdup (member_string (o, "token"));
  slot->present = member_bool (o, "present");
  slot->friendly = member_bool (o, "friendly");
  slot->certs = g_ptr_array_new_with_free_func (cert_free);
  for (guint i = 0; certs && i < json_array_get_length (certs); i++)
    {
      JsonObject *c = json_array_get_object_element (certs, i);
      const char *issuer = c ? member_string (c, "issuer_der") : NULL;
      KprNssCert *cert;
      gsize len = 0;
      guchar *der;

      if (!c || !member_string (c, "serial") || !issuer)
        continue;
      cert = g_new0 (KprNssCert, 1);
      cert->serial = g_strdup (member_string (c, "serial"));
      der = g_base64_decode (issuer, &len);
      cert->issuer = g_bytes_new_take (der, len);
      g_ptr_array_add (slot->certs, cert);
    }
  return slot;
}

static KprNssDb *
parse_listing (const char *text, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (KprNssDb) db = g_new0 (KprNssDb, 1);
  JsonObject *root;
  JsonArray *modules;

  if (!json_parser_load_from_data (parser, text, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL,
                   "certkeeper-nss printed something else than its listing");
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  db->exists = member_bool (root, "exists");
  db->damaged = g_strdup (member_string (root, "damaged"));
  db->modules = g_ptr_array_new_with_free_func (module_free);
  modules = member_array (root, "modules");
  for (guint i = 0; modules && i < json_array_get_length (modules); i++)
    {
      JsonObject *m = json_array_get_object_element (modules, i);
      JsonArray *slots = m ? member_array (m, "slots") : NULL;
      KprNssModule *module;

      if (!m)
        continue;
      module = g_new0 (KprNssModule, 1);
      module->name = g_strdup (member_string (m, "name"));
      module->library = g_strdup (member_string (m, "library"));
      module->internal = member_bool (m, "internal");
      module->slots = g_ptr_array_new_with_free_func (slot_free);
      for (guint j = 0; slots && j < json_array_get_length (slots); j++)
        if (json_array_get_object_element (slots, j))
          g_ptr_array_add (module->slots, parse_slot (json_array_get_object_element (slots, j)));
      g_ptr_array_add (db->modules, module);
    }
  return g_steal_pointer (&db);
}

static KprNssDb *
run_and_parse (const char *const *args, const char *db_dir, GError **error)
{
  g_autofree char *out = run_helper (args, db_dir, error);

  return out ? parse_listing (out, error) : NULL;
}

KprNssDb *
kpr_nss_list (const char *db_dir, GError **error)
{
  const char *args[] = { "list", db_dir, NULL };
  return run_and_parse (args, db_dir, error);
}

KprNssDb *
kpr_nss_add (const char *db_dir, const char *name, const char *library, GError **error)
{
  const char *args[] = { "add", db_dir, name, library, NULL };
  return run_and_parse (args, db_dir, error);
}

KprNssDb *
kpr_nss_remove (const char *db_dir, const char *name, GError **error)
{
  const char *args[] = { "remove", db_dir, name, NULL };
  return run_and_parse (args, db_dir, error);
}
