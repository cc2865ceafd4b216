/* kpr-delete-dialog.c — "Delete": one AdwMessageDialog that names what
 * will be lost, with a louder warning when the key could still be backed
 * up and no verified backup exists; then kpr_agent_delete in a worker.
 *
 * The agent asks ui->confirm again when there is no backup; the person
 * has just answered that very question in this dialog, so the worker's
 * confirm handler says yes instead of asking twice.
 */
#include "config.h"

#include "kpr-delete-dialog.h"

#include "kpr-backup-common.h"
#include "kpr-worker.h"

typedef struct {
  GtkWindow *parent; /* a reference */
  char *name;
  KprWorker *worker;
  void (*done) (gboolean deleted, gpointer user_data);
  gpointer user_data;
} DeleteJob;

static void
delete_job_free (DeleteJob *job)
{
  g_clear_object (&job->parent);
  g_clear_object (&job->worker);
  g_free (job->name);
  g_free (job);
}

/* "this computer" for the software token, else the token's label (gui/
 * reads no token itself: the agent reads the URI). */
static char *
where_text (const KprIdentity *identity)
{
  gboolean software;
  g_autofree char *label = kpr_identity_token_label (identity, &software);

  if (!label || software)
    return g_strdup ("this computer");
  return g_strdup_printf ("the token “%s”", label);
}

static char *
certificate_text (X509 *cert)
{
  g_autofree char *serial = NULL, *date = NULL;

  if (!cert)
    return g_strdup ("its certificate request");
  serial = kpr_ossl_serial_hex (cert);
  date = kpr_ossl_time_text (X509_get0_notAfter (cert), "%-d %B %Y");
  if (!date)
    date = g_strdup ("an unknown date");
  return g_strdup_printf ("its certificate (serial %s, valid until %s)", serial, date);
}

static void
confirm_yes (KprWorkerRequest *request, gpointer user_data)
{
  kpr_worker_request_confirm (request, TRUE);
}

static gboolean
delete_job (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  DeleteJob *job = data;

  return kpr_agent_delete (agent, job->name, error);
}

static void
delete_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DeleteJob *job = user_data;
  g_autoptr (GError) error = NULL;
  gboolean deleted = kpr_worker_run_finish (KPR_WORKER (source), result, &error);

  if (deleted)
    kpr_backup_refresh_application ();
  else if (!g_error_matches (error, KPR_ERROR, KPR_ERROR_CANCELLED))
    {
      AdwMessageDialog *failed = ADW_MESSAGE_DIALOG (
        adw_message_dialog_new (job->parent, "Not deleted", error->message));
      gtk_widget_set_name (GTK_WIDGET (failed), "delete_error_dialog");
      adw_message_dialog_add_response (failed, "close", "_Close");
      gtk_window_present (GTK_WINDOW (failed));
    }
  if (job->done)
    job->done (deleted, job->user_data);
  delete_job_free (job);
}

static void
response_cb (AdwMessageDialog *dialog, const char *response, DeleteJob *job)
{
  if (!g_str_equal (response, "delete"))
    {
      if (job->done)
        job->done (FALSE, job->user_data);
      delete_job_free (job);
      return;
    }
  job->worker = kpr_worker_new (job->parent ? GTK_WIDGET (job->parent) : NULL);
  kpr_worker_set_handler (job->worker, KPR_WORKER_CONFIRM, confirm_yes, NULL);
  kpr_worker_run (job->worker, delete_job, job, NULL, delete_done_cb, job);
}

void
kpr_delete_dialog_run (GtkWindow *parent, const KprIdentity *identity,
                       void (*done) (gboolean deleted, gpointer user_data), gpointer user_data)
{
  DeleteJob *job = g_new0 (DeleteJob, 1);
  g_autofree char *heading = g_strdup_printf ("Delete “%s”?", identity->name);
  g_autofree char *where = where_text (identity);
  g_autofree char *certificate = certificate_text (identity->cert);
  g_autofree char *body = g_strdup_printf ("The key of “%s” on %s and %s will be deleted.",
                                           identity->name, where, certificate);
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (parent, heading, body));

  job->parent = parent ? g_object_ref (parent) : NULL;
  job->name = g_strdup (identity->name);
  job->done = done;
  job->user_data = user_data;
  gtk_widget_set_name (GTK_WIDGET (dialog), "delete_dialog");
  if (kpr_identity_backup_missing (identity))
    {
      GtkWidget *warning = gtk_label_new (
        "There is no backup of this key. Once it is deleted, nothing can bring it back: "
        "back it up first if you may need it again.");
      gtk_widget_set_name (warning, "no_backup_warning");
      gtk_label_set_wrap (GTK_LABEL (warning), TRUE);
      gtk_label_set_justify (GTK_LABEL (warning), GTK_JUSTIFY_CENTER);
      gtk_widget_add_css_class (warning, "error");
      adw_message_dialog_set_extra_child (dialog, warning);
    }
  adw_message_dialog_add_responses (dialog, "cancel", "_Cancel", "delete", "_Delete", NULL);
  adw_message_dialog_set_response_appearance (dialog, "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (response_cb), job);
  gtk_window_present (GTK_WINDOW (dialog));
}
