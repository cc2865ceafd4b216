/* kpr-cli-browser.c — certkeeper browser status | register | unregister |
 * check.  The JSON of "status --json" is a stable shape, documented in
 * docs/browsers.md. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "kpr-cli.h"

typedef struct {
  char *browser;
  gboolean json;
  char *url;
  char *ca_file;
} BrowserArgs;

static gboolean
parse_kinds (const char *text, KprBrowserKind *ret_kinds, GError **error)
{
  if (!text || g_str_equal (text, "all"))
    *ret_kinds = KPR_BROWSER_ALL;
  else if (g_str_equal (text, "chromium") || g_str_equal (text, "chrome"))
    *ret_kinds = KPR_BROWSER_CHROMIUM;
  else if (g_str_equal (text, "firefox"))
    *ret_kinds = KPR_BROWSER_FIREFOX;
  else
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "--browser is chromium, firefox or all");
      return FALSE;
    }
  return TRUE;
}

#define STR(b, k, v)                                                                           \
  (json_builder_set_member_name (b, k),                                                        \
   (v) ? json_builder_add_string_value (b, v) : json_builder_add_null_value (b))
#define BOOL(b, k, v) (json_builder_set_member_name (b, k), json_builder_add_boolean_value (b, v))

static void
store_json (JsonBuilder *b, const KprBrowserStore *s)
{
  json_builder_begin_object (b);
  STR (b, "browser", kpr_browser_kind_to_string (s->kind));
  STR (b, "title", s->title);
  STR (b, "profile", s->profile);
  BOOL (b, "default", s->is_default);
  STR (b, "path", s->db_dir);
  BOOL (b, "exists", s->exists);
  BOOL (b, "sandboxed", s->sandboxed);
  STR (b, "damaged", s->damaged);
  STR (b, "error", s->error);
  BOOL (b, "running", s->running);
  BOOL (b, "restart_needed", s->restart_needed);
  json_builder_set_member_name (b, "modules");
  json_builder_begin_array (b);
  for (guint i = 0; s->modules && i < s->modules->len; i++)
    {
      KprBrowserModule *m = s->modules->pdata[i];
      json_builder_begin_object (b);
      STR (b, "name", m->name);
      STR (b, "library", m->library);
      BOOL (b, "ours", m->ours);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "identities");
  json_builder_begin_array (b);
  for (guint i = 0; s->uses && i < s->uses->len; i++)
    {
      KprBrowserUse *u = s->uses->pdata[i];
      json_builder_begin_object (b);
      STR (b, "name", u->identity);
      STR (b, "serial", u->serial);
      STR (b, "module", u->module);
      BOOL (b, "registered", u->registered);
      BOOL (b, "visible", u->visible);
      BOOL (b, "usable", u->usable);
      STR (b, "problem", u->problem);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
print_stores (GPtrArray *stores, gboolean json)
{
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "stores");
      json_builder_begin_array (b);
      for (guint i = 0; i < stores->len; i++)
        store_json (b, stores->pdata[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      kpr_cli_print_json (b);
      return;
    }
  if (stores->len == 0)
    printf ("No browser found for this user (Chromium, Google Chrome, Firefox).\n");
  for (guint i = 0; i < stores->len; i++)
    {
      KprBrowserStore *s = stores->pdata[i];
      printf ("%s%s%s\n  %s\n", s->title, s->is_default ? " (default profile)" : "",
              s->restart_needed ? " — running: restart it to see changes"
              : s->running      ? " — running"
                                : "",
              s->db_dir);
      if (s->damaged || s->error)
        printf ("  %s\n", s->damaged ? s->damaged : s->error);
      for (guint j = 0; s->uses && j < s->uses->len; j++)
        {
          KprBrowserUse *u = s->uses->pdata[j];
          printf ("  %-20s %s\n", u->identity, u->usable ? "usable" : u->problem);
        }
      if (s->uses && s->uses->len == 0 && !s->damaged)
        printf ("  (no identity with a certificate yet)\n");
    }
}

static gboolean
run_status (KprAgent *agent, char **args, gpointer data, GError **error)
{
  BrowserArgs *a = data;
  g_autoptr (GPtrArray) stores = NULL;
  KprBrowserKind kinds;

  if (!parse_kinds (a->browser, &kinds, error)
      || !(stores = kpr_agent_browser_status (agent, kinds, error)))
    return FALSE;
  print_stores (stores, a->json);
  return TRUE;
}

static gboolean
run_change (KprAgent *agent, char **args, gpointer data, GError **error, gboolean add)
{
  BrowserArgs *a = data;
  g_autoptr (GPtrArray) stores = NULL;
  KprBrowserKind kinds;
  gboolean ok;

  if (!parse_kinds (a->browser, &kinds, error))
    return FALSE;
  ok = add ? kpr_agent_browser_register (agent, kinds, &stores, error)
           : kpr_agent_browser_unregister (agent, kinds, &stores, error);
  if (stores)
    print_stores (stores, a->json);
  return ok;
}

static gboolean
run_register (KprAgent *agent, char **args, gpointer data, GError **error)
{
  return run_change (agent, args, data, error, TRUE);
}

static gboolean
run_unregister (KprAgent *agent, char **args, gpointer data, GError **error)
{
  return run_change (agent, args, data, error, FALSE);
}

static void
check_json (const KprBrowserCheck *c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  BOOL (b, "asked", c->asked);
  json_builder_set_member_name (b, "asked_cas");
  json_builder_begin_array (b);
  for (char **ca = c->asked_cas; ca && *ca; ca++)
    json_builder_add_string_value (b, *ca);
  json_builder_end_array (b);
  BOOL (b, "issuer_asked", c->issuer_asked);
  BOOL (b, "accepted", c->accepted);
  json_builder_set_member_name (b, "http_status");
  json_builder_add_int_value (b, c->http_status);
  STR (b, "tls_version", c->tls_version);
  STR (b, "refusal", c->refusal);
  STR (b, "why_not", c->why_not);
  json_builder_end_object (b);
  kpr_cli_print_json (b);
}

static gboolean
run_check (KprAgent *agent, char **args, gpointer data, GError **error)
{
  BrowserArgs *a = data;
  g_autoptr (KprBrowserCheck) c = NULL;

  if (!a->url)
    {
      g_set_error_literal (error, KPR_ERROR, KPR_ERROR_USAGE, "check needs --url https://…");
      return FALSE;
    }
  if (!(c = kpr_agent_browser_check (agent, args[0], a->url, a->ca_file, error)))
    return FALSE;
  if (a->json)
    check_json (c);
  else
    {
      if (!c->asked)
        printf ("%s did not ask for a client certificate.\n", a->url);
      else if (!c->asked_cas[0])
        printf ("%s asks for a client certificate from any CA.\n", a->url);
      else
        for (char **ca = c->asked_cas; *ca; ca++)
          printf ("%s asks for a client certificate issued by %s\n", a->url, *ca);
      if (c->accepted)
        printf ("It accepted the certificate of “%s” (%s, HTTP %d).\n", args[0],
                c->tls_version ? c->tls_version : "TLS", c->http_status);
      else
        printf ("It refused the certificate of “%s”: %s.\n", args[0],
                c->refusal ? c->refusal : "no reason given");
      if (c->why_not)
        printf ("A browser would not log in with it: %s.\n", c->why_not);
      else if (c->accepted)
        printf ("Browsers offer it there: Chromium and Firefox can log in with it.\n");
    }
  if (!c->accepted)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED, "%s refused the certificate of “%s”",
                   a->url, args[0]);
      return FALSE;
    }
  return TRUE;
}

int
kpr_cli_browser (int argc, char **argv)
{
  static const KprCliSpec specs[] = {
    { "browser status", "", "Where the identities are usable: each browser, each Firefox profile.", 0, 0 },
    { "browser register", "", "Register the modules holding the identities' keys in the browsers.", 0, 0 },
    { "browser unregister", "", "Remove what certkeeper registered in the browsers.", 0, 0 },
    { "browser check", "NAME", "Log in to a site with the identity, as a browser would, and say what stands in the way.", 1, 1 },
  };
  static const KprCliAction actions[] = { run_status, run_register, run_unregister, run_check };
  static const char *const names[] = { "status", "register", "unregister", "check" };
  g_auto (KprCliUi) ui = { 0 };
  BrowserArgs a = { 0 };
  const GOptionEntry status_entries[] = {
    { "browser", 0, 0, G_OPTION_ARG_STRING, &a.browser, "chromium, firefox or all (default)", "B" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &a.json, "Print JSON", NULL },
    { NULL },
  };
  const GOptionEntry check_entries[] = {
    { "url", 0, 0, G_OPTION_ARG_STRING, &a.url, "The site (https://host[:port]/path)", "URL" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &a.ca_file, "Trust the site's CA in FILE (else the system's)", "FILE" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &a.json, "Print JSON", NULL },
    { NULL },
  };
  int status = KPR_ERROR_USAGE;
  gsize i;

  for (i = 0; argc >= 2 && i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (argv[1], names[i]))
      break;
  if (argc < 2 || i == G_N_ELEMENTS (names))
    {
      gboolean help = argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"));
      fprintf (help ? stdout : stderr,
               "Usage: certkeeper browser status [--json] | register [--browser B] | "
               "unregister [--browser B] | check NAME --url URL\n"
               "Run 'certkeeper browser SUBCOMMAND --help' for its options.\n");
      return help ? 0 : KPR_ERROR_USAGE;
    }
  status = kpr_cli_run (&specs[i], i == 3 ? check_entries : status_entries, &ui, argc - 1,
                        argv + 1, actions[i], &a);
  g_free (a.browser), g_free (a.url), g_free (a.ca_file);
  return status;
}
