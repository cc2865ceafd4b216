/* kpr-window-browsers.c — the detail page's "Browsers" row (issue 12,
 * item 6): where the identity is usable ("Firefox (work) · Chromium",
 * "Chromium: restart needed"), and one button that registers it wherever
 * that can be done (kpr_agent_browser_fix).
 *
 * Both run certkeeper-nss once or more per store, so they run in a worker
 * of their own: a slow browser database never holds up Renew or Back up
 * (their jobs only wait for the store's lock, as with the CLI).
 */
#include "config.h"

#include "kpr-row-text.h"
#include "kpr-window-private.h"

typedef struct {
  KprWindow *window;
  char *name;
  gboolean fix;      /* in: register first */
  char *where;       /* out */
  gboolean restart;  /* out: a browser must restart */
  gboolean fixable;  /* out: a store could take the identity and does not have it */
} BrowserJob;

static void
browser_job_free (BrowserJob *job)
{
  g_clear_object (&job->window);
  g_free (job->name);
  g_free (job->where);
  g_free (job);
}

static gboolean
browser_func (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  BrowserJob *job = data;
  g_autoptr (GPtrArray) stores = NULL;

  if (job->fix && !kpr_agent_browser_fix (agent, error))
    return FALSE;
  job->where = kpr_agent_browser_where (agent, job->name, &job->restart, error);
  if (!job->where)
    return FALSE;
  stores = kpr_agent_browser_status (agent, KPR_BROWSER_ALL, NULL);
  for (guint i = 0; stores && i < stores->len && !job->fixable; i++)
    {
      KprBrowserStore *store = stores->pdata[i];
      gboolean registered = FALSE;

      if (store->sandboxed || store->damaged)
        continue;
      for (guint j = 0; store->uses && j < store->uses->len; j++)
        {
          KprBrowserUse *use = store->uses->pdata[j];
          if (g_str_equal (use->identity, job->name))
            registered = use->registered || !use->module; /* no token: nothing to register */
        }
      job->fixable = !registered;
    }
  return TRUE;
}

static void
on_browser_done (GObject *source, GAsyncResult *result, gpointer data)
{
  BrowserJob *job = data;
  KprWindow *self = job->window;
  g_autoptr (GError) error = NULL;
  gboolean ok = kpr_worker_run_finish (KPR_WORKER (source), result, &error);

  /* The page may show another identity by now, or the window be gone
   * (its template children cleared). */
  if (self->detail_browsers && g_strcmp0 (self->shown, job->name) == 0)
    {
      const char *text = ok ? job->where : error->message;

      kpr_row_text_set_subtitle (GTK_WIDGET (self->detail_browsers), text);
      gtk_widget_set_visible (self->browsers_fix_button, ok && job->fixable);
      gtk_widget_set_sensitive (self->browsers_fix_button, TRUE);
      if (job->fix)
        kpr_window_toast (self, !ok ? error->message
                                : job->restart ? "Restart the browser to use the certificate there."
                                               : "The certificate is ready in your browsers.");
    }
  browser_job_free (job);
}

static void
run (KprWindow *self, const char *name, gboolean fix)
{
  BrowserJob *job;

  if (!self->browser_worker)
    self->browser_worker = kpr_worker_new (GTK_WIDGET (self));
  if (kpr_worker_is_busy (self->browser_worker))
    return;
  job = g_new0 (BrowserJob, 1);
  job->window = g_object_ref (self);
  job->name = g_strdup (name);
  job->fix = fix;
  if (fix)
    gtk_widget_set_sensitive (self->browsers_fix_button, FALSE);
  else
    {
      kpr_row_text_set_subtitle (GTK_WIDGET (self->detail_browsers), "Checking…");
      gtk_widget_set_visible (self->browsers_fix_button, FALSE);
    }
  kpr_worker_run (self->browser_worker, browser_func, job, NULL, on_browser_done, job);
}

void
kpr_window_check_browsers (KprWindow *self, const char *name)
{
  run (self, name, FALSE);
}

void
kpr_window_fix_browsers (KprWindow *self, const char *name)
{
  run (self, name, TRUE);
}
