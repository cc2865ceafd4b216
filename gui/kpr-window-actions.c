/* kpr-window-actions.c — the win.* actions of the main window, each on
 * one identity (the parameter is its name): renew, lock, revoke, delete,
 * backup, copy-uri.
 *
 * Token and network work runs in the window's KprWorker; the agent's
 * questions (PIN, yes/no) come up as dialogs over this window.  Every
 * outcome is told in one sentence (a toast), never as a bare code, and
 * the window reloads what it shows afterwards.
 */
#include "config.h"

#include "kpr-gui.h"
#include "kpr-window-private.h"

typedef struct {
  KprWindow *window;
  char *name;
  char *done; /* what to say on success */
  gboolean renewed;
} ActionJob;

static void
action_job_free (ActionJob *job)
{
  g_clear_object (&job->window);
  g_free (job->name);
  g_free (job->done);
  g_free (job);
}

static gboolean
renew_func (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  ActionJob *job = data;
  g_autoptr (KprIdentity) id = kpr_agent_renew (agent, job->name, TRUE, &job->renewed, error);

  return id != NULL;
}

static gboolean
lock_func (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  ActionJob *job = data;

  return kpr_agent_lock (agent, job->name, error);
}

static gboolean
revoke_func (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  ActionJob *job = data;

  return kpr_agent_revoke (agent, job->name, NULL, error);
}

static void
on_job_done (GObject *source, GAsyncResult *result, gpointer data)
{
  ActionJob *job = data;
  g_autoptr (GError) error = NULL;

  kpr_window_set_busy (job->window, NULL);
  if (kpr_worker_run_finish (KPR_WORKER (source), result, &error))
    kpr_window_toast (job->window, job->done);
  else if (g_error_matches (error, KPR_ERROR, KPR_ERROR_CANCELLED))
    kpr_window_toast (job->window, "Cancelled.");
  else
    kpr_window_toast (job->window, error->message);
  kpr_window_refresh (job->window);
  action_job_free (job);
}

static void
run_job (KprWindow *window, const char *name, KprWorkFunc func, const char *busy,
         char *done /* owned */)
{
  KprWorker *worker = kpr_window_get_worker (window);
  ActionJob *job;

  if (kpr_worker_is_busy (worker))
    {
      kpr_window_toast (window, "Another operation is still running; try again when it is done.");
      g_free (done);
      return;
    }
  job = g_new0 (ActionJob, 1);
  job->window = g_object_ref (window);
  job->name = g_strdup (name);
  job->done = done;
  kpr_window_set_busy (window, busy);
  kpr_worker_run (worker, func, job, NULL, on_job_done, job);
}

/* A question before something that cannot be undone. */
typedef struct {
  KprWindow *window;
  char *name;
  void (*run) (KprWindow *window, const char *name);
} Confirm;

static void
on_confirm_response (AdwMessageDialog *dialog, const char *response, gpointer data)
{
  Confirm *c = data;

  if (g_strcmp0 (response, "yes") == 0)
    c->run (c->window, c->name);
  g_object_unref (c->window);
  g_free (c->name);
  g_free (c);
}

static void
confirm (KprWindow *window, const char *name, char *heading /* owned */, const char *body,
         const char *yes_label, void (*run) (KprWindow *window, const char *name))
{
  Confirm *c = g_new0 (Confirm, 1);
  AdwMessageDialog *dialog;

  c->window = g_object_ref (window);
  c->name = g_strdup (name);
  c->run = run;
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (window), heading, body));
  g_free (heading);
  adw_message_dialog_add_responses (dialog, "cancel", "_Cancel", "yes", yes_label, NULL);
  adw_message_dialog_set_response_appearance (dialog, "yes", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  gtk_widget_set_name (GTK_WIDGET (dialog), "kpr-confirm-dialog");
  g_signal_connect (dialog, "response", G_CALLBACK (on_confirm_response), c);
  gtk_window_present (GTK_WINDOW (dialog));
}

static const KprIdentity *
lookup (KprWindow *window, GVariant *param)
{
  const char *name = g_variant_get_string (param, NULL);
  const KprIdentity *id = kpr_window_lookup (window, name);

  if (!id)
    {
      g_autofree char *message = g_strdup_printf ("There is no identity named “%s”.", name);
      kpr_window_toast (window, message);
    }
  return id;
}

static void
on_renew (GSimpleAction *action, GVariant *param, gpointer data)
{
  KprWindow *window = KPR_WINDOW (data);
  const KprIdentity *id = lookup (window, param);

  if (id)
    run_job (window, id->name, renew_func, "Renewing: a new key and certificate…",
             g_strdup_printf ("“%s” is renewed: the new certificate is installed.", id->name));
}

static void
run_lock (KprWindow *window, const char *name)
{
  run_job (window, name, lock_func, "Locking the key…",
           g_strdup_printf ("The key of “%s” is locked: it never leaves its token now.", name));
}

static void
on_lock (GSimpleAction *action, GVariant *param, gpointer data)
{
  KprWindow *window = KPR_WINDOW (data);
  const KprIdentity *id = lookup (window, param);

  if (!id)
    return;
  if (id->protection != KPR_PROTECTION_EXPORTABLE)
    {
      kpr_window_toast (window, "This key is already locked.");
      return;
    }
  confirm (window, id->name, g_strdup_printf ("Lock the key of “%s”?", id->name),
           kpr_identity_backup_missing (id)
             ? "There is no backup yet. Once locked, the key can never be copied again: "
               "if this computer is lost, so is the key."
             : "Once locked, the key can never be copied again, not even to a new backup.",
           "_Lock", run_lock);
}

static void
run_revoke (KprWindow *window, const char *name)
{
  run_job (window, name, revoke_func, "Revoking the certificate at the server…",
           g_strdup_printf ("“%s” is revoked: nobody can use the lost key any more.", name));
}

static void
on_revoke (GSimpleAction *action, GVariant *param, gpointer data)
{
  KprWindow *window = KPR_WINDOW (data);
  const KprIdentity *id = lookup (window, param);

  if (id)
    confirm (window, id->name, g_strdup_printf ("Revoke “%s”?", id->name),
             "Do this when the token or computer with the key is lost or stolen: the server "
             "revokes the certificate so that nobody can use it, and certkeeper forgets the "
             "key. This cannot be undone; you can add the identity again afterwards.",
             "_Revoke", run_revoke);
}

static void
on_deleted (gboolean deleted, gpointer data)
{
  KprWindow *window = data;

  if (deleted)
    kpr_window_show_identity (window, NULL);
  kpr_window_refresh (window);
  g_object_unref (window);
}

static void
on_delete (GSimpleAction *action, GVariant *param, gpointer data)
{
  KprWindow *window = KPR_WINDOW (data);
  const KprIdentity *id = lookup (window, param);

  if (id)
    kpr_delete_dialog_run (GTK_WINDOW (window), id, on_deleted, g_object_ref (window));
}

static void
on_backup (GSimpleAction *action, GVariant *param, gpointer data)
{
  KprWindow *window = KPR_WINDOW (data);
  const KprIdentity *id = lookup (window, param);

  if (!id)
    return;
  if (id->protection != KPR_PROTECTION_EXPORTABLE)
    {
      kpr_window_toast (window, "This key is locked on its token: it cannot be backed up.");
      return;
    }
  gtk_window_present (GTK_WINDOW (kpr_backup_dialog_new (GTK_WINDOW (window), id->name)));
}

static void
on_browsers_fix (GSimpleAction *action, GVariant *param, gpointer data)
{
  KprWindow *window = KPR_WINDOW (data);
  const KprIdentity *id = lookup (window, param);

  if (id)
    kpr_window_fix_browsers (window, id->name);
}

static void
on_copy_uri (GSimpleAction *action, GVariant *param, gpointer data)
{
  KprWindow *window = KPR_WINDOW (data);
  const KprIdentity *id = lookup (window, param);
  g_autofree char *uri = NULL;

  if (!id)
    return;
  uri = kpr_identity_key_uri (id);
  if (!uri)
    {
      kpr_window_toast (window, "This identity has no key yet.");
      return;
    }
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (window)), uri);
  kpr_window_toast (window, "PKCS#11 URI copied.");
}

void
kpr_window_add_actions (KprWindow *window)
{
  static const GActionEntry entries[] = {
    { "renew", on_renew, "s", NULL, NULL },
    { "lock", on_lock, "s", NULL, NULL },
    { "revoke", on_revoke, "s", NULL, NULL },
    { "delete", on_delete, "s", NULL, NULL },
    { "backup", on_backup, "s", NULL, NULL },
    { "copy-uri", on_copy_uri, "s", NULL, NULL },
    { "browsers-fix", on_browsers_fix, "s", NULL, NULL },
  };

  g_action_map_add_action_entries (G_ACTION_MAP (window), entries, G_N_ELEMENTS (entries),
                                   window);
}
