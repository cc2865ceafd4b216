/* kpr-add-jobs.c — the "Add an identity" assistant's work on the worker
 * thread, and the checks of what a person typed (see kpr-add-jobs.h).
 * Everything here is a kpr-agent.h call the certkeeper command makes too. */
#include "config.h"

#include <string.h>

#include "kpr-add-jobs.h"
#include "kpr-identity-text.h"
#include "kpr-ossl.h"

gboolean
kpr_add_list_tokens (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  KprAddListJob *job = data;

  job->tokens = kpr_agent_list_tokens (agent, error);
  return job->tokens != NULL;
}

static void
describe (const KprIdentity *id, gboolean *ret_exportable, char **ret_subject, char **ret_not_after)
{
  *ret_exportable = id->protection == KPR_PROTECTION_EXPORTABLE;
  *ret_subject = id->cert ? kpr_ossl_name_text (X509_get_subject_name (id->cert)) : g_strdup ("");
  *ret_not_after = id->cert ? kpr_cert_time_text (X509_get0_notAfter (id->cert)) : g_strdup ("");
}

void
kpr_add_enroll_job_free (KprAddEnrollJob *job)
{
  if (!job)
    return;
  g_free (job->name);
  g_free (job->server);
  g_free (job->label);
  g_free (job->username);
  g_free (job->token_uri);
  g_free (job->subject);
  g_free (job->not_after);
  g_free (job->browser_note);
  g_free (job);
}

gboolean
kpr_add_enroll (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  KprAddEnrollJob *job = data;
  KprStore *store = kpr_agent_get_store (agent);
  KprEnrollOptions o = {
    .name = job->name,
    .server = job->server,
    .label = job->label,
    .username = job->username,
    .token_uri = job->token_uri,
    .key_type = job->key_type,
    .protection = job->protection,
    .no_backup = job->no_backup,
  };
  g_autoptr (KprIdentity) id = NULL;
  g_autoptr (GError) local = NULL;

  if (!kpr_store_exists (store, job->name))
    job->owned = TRUE;
  id = kpr_agent_enroll (agent, &o, &local);
  if (id)
    {
      describe (id, &job->exportable, &job->subject, &job->not_after);
      job->browser_note = g_strdup (kpr_agent_get_browser_note (agent));
      return TRUE;
    }
  /* Declined before anything was stored: nothing is ours to take away. */
  if (!kpr_store_exists (store, job->name))
    job->owned = FALSE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

gboolean
kpr_add_remove (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  KprAddEnrollJob *job = data;

  /* Nothing may have been stored yet (the fingerprint was declined). */
  if (!kpr_store_exists (kpr_agent_get_store (agent), job->name))
    return TRUE;
  return kpr_agent_delete (agent, job->name, error);
}

void
kpr_add_install_job_free (KprAddInstallJob *job)
{
  if (!job)
    return;
  g_free (job->name);
  g_free (job->path);
  g_free (job->subject);
  g_free (job->not_after);
  g_free (job->browser_note);
  g_free (job);
}

gboolean
kpr_add_install (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  KprAddInstallJob *job = data;
  g_autoptr (KprIdentity) id = kpr_agent_install (agent, job->name, job->path, error);

  if (!id)
    return FALSE;
  describe (id, &job->exportable, &job->subject, &job->not_after);
  job->browser_note = g_strdup (kpr_agent_get_browser_note (agent));
  return TRUE;
}

#define SERVER_EXAMPLE "https://ca.example.com or https://ca.example.com:8443"

char *
kpr_add_check_server (const char *text, char **ret_message)
{
  g_autofree char *typed = g_strstrip (g_strdup (text ? text : ""));
  g_autoptr (GUri) uri = NULL;
  const char *path;

  if (!*typed)
    {
      *ret_message = g_strdup ("Type the server's address, for example " SERVER_EXAMPLE ".");
      return NULL;
    }
  uri = g_uri_parse (typed, G_URI_FLAGS_NONE, NULL);
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri))
    {
      *ret_message = g_strdup_printf ("“%s” is not a server address: type it as "
                                      SERVER_EXAMPLE ".", typed);
      return NULL;
    }
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0)
    {
      *ret_message = g_strdup ("The address must start with https:// — certificates are only "
                               "requested over a protected connection.");
      return NULL;
    }
  path = g_uri_get_path (uri);
  if (g_uri_get_userinfo (uri) || g_uri_get_query (uri) || g_uri_get_fragment (uri)
      || (path && *path && !g_str_equal (path, "/")))
    {
      *ret_message = g_strdup ("Type only the server's address, " SERVER_EXAMPLE
                               ", without a path; a CA label goes in its own field.");
      return NULL;
    }
  return g_uri_join (G_URI_FLAGS_NONE, "https", NULL, g_uri_get_host (uri), g_uri_get_port (uri),
                     "", NULL, NULL);
}

char *
kpr_add_check_label (const char *label)
{
  static const char *const ops[] = { "cacerts", "simpleenroll", "simplereenroll", "fullcmc",
                                     "serverkeygen", "csrattrs", "challenge", "revoke",
                                     NULL };

  if (!label || !*label)
    return NULL;
  for (const char *p = label; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("-._~", *p))
      return g_strdup ("A CA label holds only letters, digits and - . _ ~ (leave it empty "
                       "unless your server's administrator gave you one).");
  if (g_strv_contains (ops, label) || g_str_equal (label, ".") || g_str_equal (label, ".."))
    return g_strdup_printf ("“%s” names an operation of the server, not a CA label.", label);
  return NULL;
}
