/* kpr-import-dialog.c — "Import a backup".
 *
 * The passphrase row lives in the dialog (not the secret dialog) so a
 * wrong passphrase is one error line under it and another try, with the
 * file, destination and name still filled in.  The text goes to the agent
 * as a preset KprSecret and the row is emptied as the job starts.
 */
#include "config.h"

#include "kpr-a11y.h"

#include "kpr-import-dialog.h"

#include "kpr-backup-common.h"
#include "kpr-worker.h"

struct _KprImportDialog {
  AdwWindow parent_instance;

  GtkStack *stack;
  GtkStringList *destinations;
  AdwActionRow *file_row;
  AdwPasswordEntryRow *passphrase_row;
  AdwComboRow *destination_row;
  AdwEntryRow *name_row;
  GtkSwitch *allow_export_switch;
  GtkLabel *error_label;
  GtkSpinner *spinner;
  GtkLabel *progress_label;
  GtkButton *import_button;
  AdwStatusPage *done_page;
  GtkLabel *result_label;

  GFile *file;
  GPtrArray *token_uris; /* after "This computer" in destinations, in order */
  KprWorker *worker;
  gboolean running; /* a job: one at a time */
};

G_DEFINE_FINAL_TYPE (KprImportDialog, kpr_import_dialog, ADW_TYPE_WINDOW)

typedef struct {
  KprImportDialog *self; /* a reference */
  char *path;
  char *name;
  char *token_uri;
  gboolean exportable;
  GPtrArray *uris, *labels; /* the token job's results */
  KprIdentity *identity;    /* the import job's result */
} ImportJob;

static ImportJob *
import_job_new (KprImportDialog *self)
{
  ImportJob *job = g_new0 (ImportJob, 1);

  job->self = g_object_ref (self);
  return job;
}

static void
import_job_free (ImportJob *job)
{
  g_object_unref (job->self);
  g_free (job->path);
  g_free (job->name);
  g_free (job->token_uri);
  g_clear_pointer (&job->uris, g_ptr_array_unref);
  g_clear_pointer (&job->labels, g_ptr_array_unref);
  g_clear_pointer (&job->identity, kpr_identity_free);
  g_free (job);
}

/* NULL: the software token ("This computer"). */
static const char *
chosen_token_uri (KprImportDialog *self)
{
  guint i = adw_combo_row_get_selected (self->destination_row);

  return i >= 1 && i - 1 < self->token_uris->len ? g_ptr_array_index (self->token_uris, i - 1)
                                                 : NULL;
}

static void
form_changed_cb (KprImportDialog *self)
{
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
  const char *passphrase = gtk_editable_get_text (GTK_EDITABLE (self->passphrase_row));
  gboolean name_ok = !*name || kpr_identity_name_is_valid (name);
  gboolean software = chosen_token_uri (self) == NULL;

  /* Only the software token can keep an imported key exportable. */
  if (!software)
    gtk_switch_set_active (self->allow_export_switch, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->allow_export_switch), software);
  if (name_ok)
    gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
  gtk_widget_set_sensitive (GTK_WIDGET (self->import_button),
                            self->file && *passphrase && name_ok
                              && !self->running);
}

void
kpr_import_dialog_set_file (KprImportDialog *self, GFile *file)
{
  g_autofree char *path = g_file_get_path (file);

  g_return_if_fail (KPR_IS_IMPORT_DIALOG (self));
  if (!path)
    {
      adw_action_row_set_subtitle (self->file_row, "Choose a file on a local or mounted drive.");
      return;
    }
  g_set_object (&self->file, file);
  adw_action_row_set_subtitle (self->file_row, path);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  form_changed_cb (self);
}

static void
chooser_response_cb (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  KprImportDialog *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      if (file)
        kpr_import_dialog_set_file (self, file);
    }
  g_object_unref (chooser);
}

static void
choose_clicked_cb (KprImportDialog *self)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
    "Choose a Backup", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "PKCS#12 backups (.p12, .pfx)");
  gtk_file_filter_add_pattern (filter, "*.p12");
  gtk_file_filter_add_pattern (filter, "*.pfx");
  gtk_file_filter_add_pattern (filter, "*.P12");
  gtk_file_filter_add_pattern (filter, "*.PFX");
  gtk_file_filter_add_mime_type (filter, "application/x-pkcs12");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* --- jobs --- */

static void
progress_cb (KprWorker *worker, const char *message, KprImportDialog *self)
{
  gtk_label_set_text (self->progress_label, message);
}

static gboolean
tokens_job (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  ImportJob *job = data;
  g_autoptr (GPtrArray) tokens = kpr_agent_list_tokens (agent, error);

  if (!tokens)
    return FALSE;
  job->uris = g_ptr_array_new_with_free_func (g_free);
  job->labels = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < tokens->len; i++)
    {
      const KprAgentToken *info = g_ptr_array_index (tokens, i);

      if (info->software || !info->initialized)
        continue;
      g_ptr_array_add (job->uris, g_strdup (info->uri));
      g_ptr_array_add (job->labels, g_strdup_printf ("The token “%s”", info->label));
    }
  return TRUE;
}

static void
tokens_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ImportJob *job = user_data;
  KprImportDialog *self = job->self;

  self->running = FALSE;
  if (kpr_backup_job_orphaned (self->worker, source, result))
    {
      import_job_free (job);
      return;
    }
  /* Without a token list the software token is still there to choose. */
  if (kpr_worker_run_finish (KPR_WORKER (source), result, NULL))
    for (guint i = 0; i < job->uris->len; i++)
      {
        g_ptr_array_add (self->token_uris, g_strdup (g_ptr_array_index (job->uris, i)));
        gtk_string_list_append (self->destinations, g_ptr_array_index (job->labels, i));
      }
  form_changed_cb (self);
  import_job_free (job);
}

static gboolean
import_job (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  ImportJob *job = data;

  job->identity = kpr_agent_import (agent, job->path, job->name, job->token_uri,
                                    job->exportable, error);
  return job->identity != NULL;
}

static void
import_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ImportJob *job = user_data;
  KprImportDialog *self = job->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  self->running = FALSE;
  if (kpr_backup_job_orphaned (self->worker, source, result))
    {
      import_job_free (job);
      return;
    }
  gtk_spinner_stop (self->spinner);
  gtk_label_set_text (self->progress_label, "");
  gtk_editable_set_text (GTK_EDITABLE (self->passphrase_row), "");
  if (!kpr_worker_run_finish (KPR_WORKER (source), result, &error))
    {
      gtk_label_set_text (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      form_changed_cb (self);
      gtk_widget_grab_focus (GTK_WIDGET (self->passphrase_row));
      import_job_free (job);
      return;
    }
  text = g_strdup_printf (
    "“%s” is restored%s. %s", job->identity->name,
    job->token_uri ? " to the token" : " on this computer",
    job->identity->protection == KPR_PROTECTION_EXPORTABLE
      ? "Its key can still be exported: lock it once you have a backup you trust."
      : "Its key cannot be copied again: keep the backup file safe.");
  gtk_label_set_text (self->result_label, text);
  gtk_stack_set_visible_child_name (self->stack, "done");
  kpr_backup_refresh_application ();
  import_job_free (job);
}

static void
import_clicked_cb (KprImportDialog *self)
{
  const char *passphrase = gtk_editable_get_text (GTK_EDITABLE (self->passphrase_row));
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
  ImportJob *job;

  form_changed_cb (self);
  if (!gtk_widget_get_sensitive (GTK_WIDGET (self->import_button)))
    return;
  job = import_job_new (self);
  job->path = g_file_get_path (self->file);
  job->name = *name ? g_strdup (name) : NULL;
  job->token_uri = g_strdup (chosen_token_uri (self));
  job->exportable = gtk_switch_get_active (self->allow_export_switch);
  kpr_worker_preset (self->worker, KPR_WORKER_PASSPHRASE,
                     kpr_secret_new (passphrase, strlen (passphrase)));
  gtk_editable_set_text (GTK_EDITABLE (self->passphrase_row), "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_label_set_text (self->progress_label, "Opening the backup…");
  gtk_spinner_start (self->spinner);
  self->running = TRUE;
  kpr_worker_run (self->worker, import_job, job, NULL, import_done_cb, job);
  form_changed_cb (self);
}

/* --- the object --- */

static void
kpr_import_dialog_dispose (GObject *object)
{
  KprImportDialog *self = KPR_IMPORT_DIALOG (object);

  g_clear_object (&self->worker);
  g_clear_object (&self->file);
  g_clear_pointer (&self->token_uris, g_ptr_array_unref);
  G_OBJECT_CLASS (kpr_import_dialog_parent_class)->dispose (object);
}

static void
kpr_import_dialog_class_init (KprImportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kpr_import_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/certkeeper/Certkeeper/kpr-import-dialog.ui");
#define BIND(member) gtk_widget_class_bind_template_child (widget_class, KprImportDialog, member)
  BIND (stack);
  BIND (destinations);
  BIND (file_row);
  BIND (passphrase_row);
  BIND (destination_row);
  BIND (name_row);
  BIND (allow_export_switch);
  BIND (error_label);
  BIND (spinner);
  BIND (progress_label);
  BIND (import_button);
  BIND (done_page);
  BIND (result_label);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, form_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, choose_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, import_clicked_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kpr_import_dialog_init (KprImportDialog *self)
{
  self->token_uris = g_ptr_array_new_with_free_func (g_free);
  /* The worker exists before the template's "changed" signals can fire. */
  self->worker = kpr_worker_new (GTK_WIDGET (self));
  gtk_widget_init_template (GTK_WIDGET (self));
  kpr_a11y_fix_names (GTK_WIDGET (self));
  kpr_backup_secure_row (self->passphrase_row);
  g_signal_connect (self->worker, "progress", G_CALLBACK (progress_cb), self);
}

KprImportDialog *
kpr_import_dialog_new (GtkWindow *parent, const char *path)
{
  KprImportDialog *self = g_object_new (KPR_TYPE_IMPORT_DIALOG, "transient-for", parent, NULL);
  ImportJob *job = import_job_new (self);

  if (path)
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);
      kpr_import_dialog_set_file (self, file);
    }
  self->running = TRUE;
  form_changed_cb (self);
  kpr_worker_run (self->worker, tokens_job, job, NULL, tokens_done_cb, job);
  return self;
}
