/* kpr-browser-policy.c — browser policies for kiosks (browser-url= in the
 * headless config, docs/headless.md and docs/browsers.md):
 *
 * - Chromium picks a certificate without asking only through the policy
 *   AutoSelectCertificateForUrls, read from ROOT/chromium/policies/managed/
 *   (DESIGN §3).  certkeeper owns ROOT/…/managed/certkeeper.json entirely:
 *   one file for all identities, because Chromium does not merge a list
 *   policy set in two files.  The filter names the issuer's CN, which a
 *   renewal keeps, so the policy outlives every renewal.
 * - Firefox takes modules from the SecurityDevices policy in
 *   ROOT/firefox/policies/policies.json, a file an administrator may
 *   already have: certkeeper adds and removes only its own entries (the
 *   modules named "certkeeper (…)", and security.default_personal_cert =
 *   "Select Automatically" when it put it there), keeps everything else,
 *   and removes the file only when nothing else is left in it.
 *
 * ROOT is /etc (the build option browser_policy_root); the environment
 * variable CERTKEEPER_BROWSER_POLICY_ROOT replaces it, so tests need no
 * root.  Writing under /etc needs root: otherwise this says so.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kpr-browser-private.h"

#define AUTO_SELECT "Select Automatically"

static const char *
policy_root (gboolean *ret_overridden)
{
  const char *env = g_getenv ("CERTKEEPER_BROWSER_POLICY_ROOT");

  *ret_overridden = env && *env;
  return *ret_overridden ? env : KPR_BROWSER_POLICY_ROOT;
}

/* "https://host[:port]": Chromium's patterns name an origin, not a path. */
static char *
origin_of (const char *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (!uri || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 || !g_uri_get_host (uri)
      || !*g_uri_get_host (uri))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "browser-url=%s is not an https:// address", url);
      return NULL;
    }
  if (g_uri_get_port (uri) > 0)
    return g_strdup_printf ("https://%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  return g_strdup_printf ("https://%s", g_uri_get_host (uri));
}

static char *
issuer_field (X509 *cert, const char **ret_key)
{
  X509_NAME *issuer = X509_get_issuer_name (cert);
  int nids[] = { NID_commonName, NID_organizationName };
  const char *keys[] = { "CN", "O" };

  for (gsize i = 0; i < G_N_ELEMENTS (nids); i++)
    {
      int at = X509_NAME_get_index_by_NID (issuer, nids[i], -1);
      unsigned char *utf8 = NULL;
      char *copy;

      if (at < 0 || ASN1_STRING_to_UTF8 (&utf8, X509_NAME_ENTRY_get_data (
                                                   X509_NAME_get_entry (issuer, at))) < 0)
        continue;
      copy = g_strdup ((char *) utf8);
      OPENSSL_free (utf8);
      *ret_key = keys[i];
      return copy;
    }
  return NULL;
}

/* Creates the missing directories of @dir as 0755 whatever the umask
 * (the kiosk agent runs with 0077): the browsers run as other users. */
static gboolean
make_dirs (const char *dir)
{
  g_autofree char *parent = NULL;

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return TRUE;
  parent = g_path_get_dirname (dir);
  if (!g_str_equal (parent, dir) && !make_dirs (parent))
    return FALSE;
  return (g_mkdir (dir, 0755) == 0 || errno == EEXIST) && g_chmod (dir, 0755) == 0;
}

/* Writes @text to @path (0644: every browser user reads it) unless it
 * holds that already; NULL @text removes the file. */
static gboolean
put_file (const char *path, const char *text, gboolean *changed, GError **error)
{
  g_autofree char *old = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) local = NULL;

  g_file_get_contents (path, &old, NULL, NULL);
  if (!text)
    {
      if (!old)
        return TRUE;
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot remove %s: %s", path,
                       g_strerror (errno));
          return FALSE;
        }
      *changed = TRUE;
      return TRUE;
    }
  if (old && g_str_equal (old, text))
    return TRUE;
  if (!make_dirs (dir)
      || !g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local)
      || g_chmod (path, 0644) != 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write %s: %s", path,
                   local ? local->message : g_strerror (errno));
      return FALSE;
    }
  *changed = TRUE;
  return TRUE;
}

static char *
to_text (JsonNode *root)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  return g_strconcat (text, "\n", NULL);
}

typedef struct {
  char *pattern;      /* https://host[:port] */
  char *issuer_key;   /* "CN" or "O" */
  char *issuer_value;
  char *module_name;  /* certkeeper (softhsm2) */
  char *library;
} Entry;

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->pattern), g_free (e->issuer_value), g_free (e->module_name), g_free (e->library);
  g_free (e);
}

static gboolean
write_chromium (const char *root, GPtrArray *entries, gboolean *changed, GError **error)
{
  g_autofree char *path = g_build_filename (root, "chromium", "policies", "managed",
                                            "certkeeper.json", NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *text = NULL;

  if (entries->len == 0)
    return put_file (path, NULL, changed, error);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "AutoSelectCertificateForUrls");
  json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];
      g_autoptr (JsonBuilder) rule = json_builder_new ();
      g_autoptr (JsonNode) rule_node = NULL;
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autofree char *rule_text = NULL;

      /* Each element is itself a JSON document, as a string. */
      json_builder_begin_object (rule);
      json_builder_set_member_name (rule, "pattern");
      json_builder_add_string_value (rule, e->pattern);
      json_builder_set_member_name (rule, "filter");
      json_builder_begin_object (rule);
      json_builder_set_member_name (rule, "ISSUER");
      json_builder_begin_object (rule);
      json_builder_set_member_name (rule, e->issuer_key);
      json_builder_add_string_value (rule, e->issuer_value);
      json_builder_end_object (rule);
      json_builder_end_object (rule);
      json_builder_end_object (rule);
      rule_node = json_builder_get_root (rule);
      json_generator_set_root (gen, rule_node);
      rule_text = json_generator_to_data (gen, NULL);
      json_builder_add_string_value (b, rule_text);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  text = to_text (node);
  return put_file (path, text, changed, error);
}

static JsonObject *
child_object (JsonObject *parent, const char *name)
{
  JsonNode *node = json_object_get_member (parent, name);

  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    {
      json_object_set_object_member (parent, name, json_object_new ());
      node = json_object_get_member (parent, name);
    }
  return json_node_get_object (node);
}

/* Drops @name from @parent when it is an empty object. */
static void
drop_if_empty (JsonObject *parent, const char *name)
{
  JsonNode *node = json_object_get_member (parent, name);

  if (node && JSON_NODE_HOLDS_OBJECT (node) && json_object_get_size (json_node_get_object (node)) == 0)
    json_object_remove_member (parent, name);
}

static void
remove_ours (JsonObject *devices)
{
  GList *names = json_object_get_members (devices);

  for (GList *l = names; l; l = l->next)
    if (g_str_has_prefix (l->data, KPR_BROWSER_MODULE_PREFIX))
      json_object_remove_member (devices, l->data);
  g_list_free (names);
}

static gboolean
write_firefox (const char *root, GPtrArray *entries, gboolean *changed, GError **error)
{
  g_autofree char *path = g_build_filename (root, "firefox", "policies", "policies.json", NULL);
  g_autoptr (JsonNode) before = NULL, doc = NULL;
  g_autofree char *old = NULL, *text = NULL;
  JsonObject *top, *policies, *devices, *add, *prefs;
  JsonNode *pref;

  if (g_file_get_contents (path, &old, NULL, NULL))
    {
      /* Two trees: json_node_copy() shares the objects it copies. */
      before = json_from_string (old, NULL);
      doc = json_from_string (old, NULL);
      if (!before || !doc || !JSON_NODE_HOLDS_OBJECT (doc))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "%s is not a JSON object: certkeeper leaves it as it is; fix it, then "
                       "send certkeeper-agent SIGHUP", path);
          return FALSE;
        }
    }
  else if (entries->len == 0)
    return TRUE;
  else
    doc = json_node_init_object (json_node_alloc (), json_object_new ());
  top = json_node_get_object (doc);
  policies = child_object (top, "policies");
  devices = child_object (policies, "SecurityDevices");
  add = child_object (devices, "Add");
  prefs = child_object (policies, "Preferences");

  /* Ours go, whatever form they were written in; then today's come. */
  remove_ours (devices);
  remove_ours (add);
  pref = json_object_get_member (prefs, "security.default_personal_cert");
  if (pref && JSON_NODE_HOLDS_OBJECT (pref)
      && g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (pref), "Value", NULL), AUTO_SELECT) == 0)
    json_object_remove_member (prefs, "security.default_personal_cert");
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];
      json_object_set_string_member (add, e->module_name, e->library);
    }
  if (entries->len && !json_object_has_member (prefs, "security.default_personal_cert"))
    {
      JsonObject *value = json_object_new ();
      json_object_set_string_member (value, "Value", AUTO_SELECT);
      json_object_set_string_member (value, "Status", "default");
      json_object_set_object_member (prefs, "security.default_personal_cert", value);
    }
  drop_if_empty (devices, "Add");
  drop_if_empty (policies, "SecurityDevices");
  drop_if_empty (policies, "Preferences");
  drop_if_empty (top, "policies");
  if (json_object_get_size (top) == 0)
    return put_file (path, NULL, changed, error);
  if (before && json_node_equal (before, doc))
    return TRUE; /* the administrator's formatting stays */
  text = to_text (doc);
  return put_file (path, text, changed, error);
}

static Entry *
entry_for (KprAgent *agent, const KprBrowserPolicy *wanted, GError **error)
{
  g_autoptr (KprIdentity) id = kpr_store_load (agent->store, wanted->name, error);
  g_autofree char *pattern = NULL, *issuer = NULL;
  const char *issuer_key = NULL;
  KprToken *token;
  Entry *e;

  if (!id || !(pattern = origin_of (wanted->url, error)))
    return NULL;
  if (!id->cert)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "“%s” has no certificate yet",
                   wanted->name);
      return NULL;
    }
  if (!(issuer = issuer_field (id->cert, &issuer_key)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "The issuer of “%s” has neither CN nor O for Chromium's filter", wanted->name);
      return NULL;
    }
  if (!(token = kpr_agent_token_for (agent, id, FALSE, error)))
    return NULL;
  e = g_new0 (Entry, 1);
  e->pattern = g_steal_pointer (&pattern);
  e->issuer_key = (char *) issuer_key;
  e->issuer_value = g_steal_pointer (&issuer);
  e->library = g_strdup (kpr_token_get_info (token)->module_path);
  e->module_name = g_strdup_printf (KPR_BROWSER_MODULE_PREFIX "%s)",
                                    kpr_token_get_info (token)->module_name);
  return e;
}

gboolean
kpr_agent_browser_policies (KprAgent *agent, const KprBrowserPolicy *wanted, gsize n,
                            gboolean *ret_changed, GError **error)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (entry_free);
  gboolean overridden, changed = FALSE;
  const char *root = policy_root (&overridden);
  gboolean ok;

  if (ret_changed)
    *ret_changed = FALSE;
  if (!overridden && geteuid () != 0)
    {
      if (n == 0)
        return TRUE; /* nothing to install, nothing of ours can be there */
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "browser-url= needs certkeeper-agent to run as root: the browser policies go "
                   "under %s (the identities work; the browsers will ask which certificate)",
                   root);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      Entry *e = entry_for (agent, &wanted[i], error);
      if (!e)
        {
          g_prefix_error (error, "Browser policy for “%s”: ", wanted[i].name);
          return FALSE;
        }
      g_ptr_array_add (entries, e);
    }
  ok = write_chromium (root, entries, &changed, error) && write_firefox (root, entries, &changed, error);
  if (ret_changed)
    *ret_changed = changed;
  return ok;
}
