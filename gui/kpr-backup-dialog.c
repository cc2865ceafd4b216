/* kpr-backup-dialog.c — "Back up" and then "Lock the key".
 *
 * The identity is loaded in a worker first: only an exportable key gets
 * the form, anything else gets the reason and nothing to click.  The
 * passphrase is typed twice into rows whose buffers GTK erases
 * (GtkPasswordEntryBuffer), judged by kpr_passphrase_strength — the check
 * kpr_agent_export itself makes — and handed to the agent as a preset
 * KprSecret; both rows are emptied as the job starts.
 */
#include "config.h"

#include "kpr-a11y.h"

#include "kpr-backup-dialog.h"

#include "kpr-backup-common.h"
#include "kpr-worker.h"

struct _KprBackupDialog {
  AdwWindow parent_instance;

  GtkStack *stack;
  AdwStatusPage *refused_page;
  AdwPreferencesGroup *target_group;
  AdwActionRow *choose_row;
  GtkLabel *target_label;
  GtkLabel *not_removable_warning;
  AdwPasswordEntryRow *passphrase_row;
  AdwPasswordEntryRow *confirm_row;
  GtkLevelBar *strength_bar;
  GtkLabel *strength_label;
  GtkLabel *error_label;
  GtkSpinner *spinner;
  GtkLabel *progress_label;
  GtkButton *backup_button;
  GtkLabel *result_label;
  GtkLabel *result_path_label;
  GtkLabel *classic_label;
  GtkLabel *lock_error_label;
  GtkSpinner *lock_spinner;
  GtkLabel *lock_result_label;
  GtkButton *lock_button;

  char *name;
  GFile *target;
  GCancellable *cancellable; /* the enclosing-mount lookup */
  KprWorker *worker;
  gboolean strong_enough;
  gboolean running; /* a job: one at a time */
};

G_DEFINE_FINAL_TYPE (KprBackupDialog, kpr_backup_dialog, ADW_TYPE_WINDOW)

/* What a job reads and writes; freed in its callback. */
typedef struct {
  KprBackupDialog *self; /* a reference: the window may close meanwhile */
  char *name;
  char *path;
  KprIdentity *identity; /* the load job's result */
} BackupJob;

static BackupJob *
backup_job_new (KprBackupDialog *self, const char *path)
{
  BackupJob *job = g_new0 (BackupJob, 1);

  job->self = g_object_ref (self);
  job->name = g_strdup (self->name);
  job->path = g_strdup (path);
  return job;
}

static void
backup_job_free (BackupJob *job)
{
  g_object_unref (job->self);
  g_free (job->name);
  g_free (job->path);
  g_clear_pointer (&job->identity, kpr_identity_free);
  g_free (job);
}

static void
update_sensitivity (KprBackupDialog *self)
{
  const char *a = gtk_editable_get_text (GTK_EDITABLE (self->passphrase_row));
  const char *b = gtk_editable_get_text (GTK_EDITABLE (self->confirm_row));

  gtk_widget_set_sensitive (GTK_WIDGET (self->backup_button),
                            self->target && self->strong_enough && g_str_equal (a, b)
                              && !self->running);
}

static void
passphrase_changed_cb (KprBackupDialog *self)
{
  const char *a = gtk_editable_get_text (GTK_EDITABLE (self->passphrase_row));
  const char *b = gtk_editable_get_text (GTK_EDITABLE (self->confirm_row));
  g_autofree char *why = NULL;
  int score = 0;

  if (*a)
    {
      g_autoptr (KprSecret) secret = kpr_secret_new (a, strlen (a));
      score = kpr_passphrase_strength (secret, &why);
    }
  self->strong_enough = score > 0;
  gtk_level_bar_set_value (self->strength_bar, score);
  if (!*a)
    gtk_label_set_text (self->strength_label,
                        "Choose a long passphrase: several unrelated words work well.");
  else if (!self->strong_enough)
    gtk_label_set_text (self->strength_label, why);
  else if (*b && !g_str_equal (a, b))
    gtk_label_set_text (self->strength_label, "The two passphrases are not the same.");
  else if (!*b)
    gtk_label_set_text (self->strength_label, "Strong enough. Now type it again.");
  else
    gtk_label_set_text (self->strength_label, "Strong enough, and both are the same.");
  update_sensitivity (self);
}

static void
clear_passphrases (KprBackupDialog *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->passphrase_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->confirm_row), "");
}

/* --- the target file --- */

static void
enclosing_mount_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (KprBackupDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GMount) mount = g_file_find_enclosing_mount_finish (G_FILE (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  /* No mount found: a plain local disk (the volume monitor lists only
   * what a person could eject or unmount). */
  gtk_widget_set_visible (GTK_WIDGET (self->not_removable_warning), !kpr_backup_mount_is_removable (mount));
}

/* A file not on a removable drive gets a warning, not a refusal. */
void
kpr_backup_dialog_set_file (KprBackupDialog *self, GFile *file)
{
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *text = NULL;
  g_autoptr (GFile) parent = g_file_get_parent (file);

  g_return_if_fail (KPR_IS_BACKUP_DIALOG (self));
  if (!path)
    {
      gtk_label_set_text (self->target_label, "Choose a file on a local or mounted drive.");
      return;
    }
  g_set_object (&self->target, file);
  text = g_strdup_printf ("The backup will be saved as %s", path);
  gtk_label_set_text (self->target_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->not_removable_warning), FALSE);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_file_find_enclosing_mount_async (parent ? parent : file, G_PRIORITY_DEFAULT,
                                     self->cancellable, enclosing_mount_cb,
                                     g_object_ref (self));
  update_sensitivity (self);
}

static void
chooser_response_cb (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  KprBackupDialog *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      if (file)
        kpr_backup_dialog_set_file (self, file);
    }
  g_object_unref (chooser);
}

static void
choose_row_activated_cb (KprBackupDialog *self)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
    "Save the Backup", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
  g_autofree char *suggested = g_strdup_printf ("%s.p12", self->name);
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "PKCS#12 backups");
  gtk_file_filter_add_pattern (filter, "*.p12");
  gtk_file_filter_add_pattern (filter, "*.pfx");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (self->target)
    gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), self->target, NULL);
  else
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
drive_row_activated_cb (AdwActionRow *row, KprBackupDialog *self)
{
  GFile *root = g_object_get_data (G_OBJECT (row), "kpr-root");
  g_autofree char *base = g_strdup_printf ("%s.p12", self->name);
  g_autoptr (GFile) file = g_file_get_child (root, base);

  kpr_backup_dialog_set_file (self, file);
}

/* The removable drives mounted now, each one row, before "Choose a file…". */
static void
add_drive_rows (KprBackupDialog *self)
{
  GList *mounts = kpr_backup_removable_mounts ();

  g_object_ref (self->choose_row);
  adw_preferences_group_remove (self->target_group, GTK_WIDGET (self->choose_row));
  for (GList *l = mounts; l; l = l->next)
    {
      g_autofree char *mount_name = g_mount_get_name (l->data);
      g_autofree char *title = g_strdup_printf ("Save to %s", mount_name);
      GFile *root = g_mount_get_root (l->data);
      g_autofree char *root_path = g_file_get_path (root);
      AdwActionRow *row = ADW_ACTION_ROW (adw_action_row_new ());

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (row, root_path);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      adw_action_row_add_suffix (row, gtk_image_new_from_icon_name ("drive-removable-media-symbolic"));
      g_object_set_data_full (G_OBJECT (row), "kpr-root", root, g_object_unref);
      g_signal_connect (row, "activated", G_CALLBACK (drive_row_activated_cb), self);
      adw_preferences_group_add (self->target_group, GTK_WIDGET (row));
    }
  g_list_free_full (mounts, g_object_unref);
  adw_preferences_group_add (self->target_group, GTK_WIDGET (self->choose_row));
  g_object_unref (self->choose_row);
}

/* --- jobs --- */

static void
progress_cb (KprWorker *worker, const char *message, KprBackupDialog *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->stack);

  gtk_label_set_text (g_strcmp0 (page, "done") == 0 ? self->lock_result_label
                                                     : self->progress_label, message);
}

static gboolean
load_job (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  BackupJob *job = data;

  job->identity = kpr_store_load (kpr_agent_get_store (agent), job->name, error);
  return job->identity != NULL;
}

static void
load_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BackupJob *job = user_data;
  KprBackupDialog *self = job->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *why = NULL;

  self->running = FALSE;
  if (kpr_backup_job_orphaned (self->worker, source, result))
    {
      backup_job_free (job);
      return;
    }
  if (!kpr_worker_run_finish (KPR_WORKER (source), result, &error))
    why = g_strdup (error->message);
  else if (job->identity->protection != KPR_PROTECTION_EXPORTABLE)
    why = g_strdup_printf (
      "The key of “%s” is protected from export (%s): no copy of it can be made, not even a "
      "backup. If it is lost, enroll again for a new certificate.", self->name,
      job->identity->imported ? "it was imported without “Allow export”"
                              : "it was locked, or made non-exportable");
  else if (job->identity->state != KPR_STATE_ACTIVE)
    why = g_strdup_printf ("“%s” has no certificate in use yet (%s): back it up once it is "
                           "active.", self->name, kpr_state_to_string (job->identity->state));
  if (why)
    {
      adw_status_page_set_description (self->refused_page, why);
      gtk_stack_set_visible_child_name (self->stack, "refused");
    }
  else
    {
      gtk_stack_set_visible_child_name (self->stack, "form");
      gtk_widget_grab_focus (GTK_WIDGET (self->passphrase_row));
    }
  backup_job_free (job);
}

static gboolean
export_job (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  BackupJob *job = data;

  /* Never over an existing file: the window offers another name. */
  return kpr_agent_export (agent, job->name, job->path, KPR_P12_MODERN, FALSE, error);
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BackupJob *job = user_data;
  KprBackupDialog *self = job->self;
  g_autoptr (GError) error = NULL;
  g_autofree char *where = NULL;

  self->running = FALSE;
  if (kpr_backup_job_orphaned (self->worker, source, result))
    {
      backup_job_free (job);
      return;
    }
  gtk_spinner_stop (self->spinner);
  gtk_label_set_text (self->progress_label, "");
  /* Emptied when the job started; again in case a person typed meanwhile. */
  clear_passphrases (self);
  if (!kpr_worker_run_finish (KPR_WORKER (source), result, &error))
    {
      gtk_label_set_text (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      update_sensitivity (self);
      backup_job_free (job);
      return;
    }
  where = g_strdup_printf ("The backup of “%s” is the file %s", self->name, job->path);
  gtk_label_set_text (self->result_path_label, where);
  gtk_stack_set_visible_child_name (self->stack, "done");
  /* Not on "Lock the Key": Enter must not do a one-way thing by habit.
   * The path stays selectable by mouse without showing up all selected. */
  gtk_widget_set_focusable (GTK_WIDGET (self->result_path_label), FALSE);
  gtk_label_select_region (self->result_path_label, 0, 0);
  kpr_backup_refresh_application ();
  backup_job_free (job);
}

static void
backup_clicked_cb (KprBackupDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->passphrase_row));
  g_autofree char *path = NULL;
  BackupJob *job;

  update_sensitivity (self);
  if (!gtk_widget_get_sensitive (GTK_WIDGET (self->backup_button)))
    return;
  path = g_file_get_path (self->target);
  job = backup_job_new (self, path);
  kpr_worker_preset (self->worker, KPR_WORKER_NEW_PASSPHRASE, kpr_secret_new (text, strlen (text)));
  clear_passphrases (self);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_label_set_text (self->progress_label,
                      "Writing the backup, then reading it back to verify it…");
  gtk_spinner_start (self->spinner);
  self->running = TRUE;
  kpr_worker_run (self->worker, export_job, job, NULL, export_done_cb, job);
  update_sensitivity (self);
}

static gboolean
lock_job (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  BackupJob *job = data;

  return kpr_agent_lock (agent, job->name, error);
}

static void
lock_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BackupJob *job = user_data;
  KprBackupDialog *self = job->self;
  g_autoptr (GError) error = NULL;

  self->running = FALSE;
  if (kpr_backup_job_orphaned (self->worker, source, result))
    {
      backup_job_free (job);
      return;
    }
  gtk_spinner_stop (self->lock_spinner);
  if (!kpr_worker_run_finish (KPR_WORKER (source), result, &error))
    {
      gtk_label_set_text (self->lock_result_label, "");
      gtk_label_set_text (self->lock_error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->lock_error_label), TRUE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->lock_button), TRUE);
    }
  else
    {
      gtk_label_set_text (self->lock_result_label,
                          "Key locked: it can no longer be copied. Keep the backup safe.");
      gtk_widget_set_visible (GTK_WIDGET (self->lock_button), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->classic_label), FALSE);
      kpr_backup_refresh_application ();
    }
  backup_job_free (job);
}

static void
lock_clicked_cb (KprBackupDialog *self)
{
  BackupJob *job;

  if (self->running)
    return;
  job = backup_job_new (self, NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->lock_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->lock_error_label), FALSE);
  gtk_label_set_text (self->lock_result_label, "Locking the key…");
  gtk_spinner_start (self->lock_spinner);
  self->running = TRUE;
  kpr_worker_run (self->worker, lock_job, job, NULL, lock_done_cb, job);
}

/* --- the object --- */

static void
kpr_backup_dialog_dispose (GObject *object)
{
  KprBackupDialog *self = KPR_BACKUP_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->worker);
  g_clear_object (&self->target);
  G_OBJECT_CLASS (kpr_backup_dialog_parent_class)->dispose (object);
}

static void
kpr_backup_dialog_finalize (GObject *object)
{
  KprBackupDialog *self = KPR_BACKUP_DIALOG (object);

  g_free (self->name);
  G_OBJECT_CLASS (kpr_backup_dialog_parent_class)->finalize (object);
}

static void
kpr_backup_dialog_class_init (KprBackupDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kpr_backup_dialog_dispose;
  object_class->finalize = kpr_backup_dialog_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/certkeeper/Certkeeper/kpr-backup-dialog.ui");
#define BIND(member) gtk_widget_class_bind_template_child (widget_class, KprBackupDialog, member)
  BIND (stack);
  BIND (refused_page);
  BIND (target_group);
  BIND (choose_row);
  BIND (target_label);
  BIND (not_removable_warning);
  BIND (passphrase_row);
  BIND (confirm_row);
  BIND (strength_bar);
  BIND (strength_label);
  BIND (error_label);
  BIND (spinner);
  BIND (progress_label);
  BIND (backup_button);
  BIND (result_label);
  BIND (result_path_label);
  BIND (classic_label);
  BIND (lock_error_label);
  BIND (lock_spinner);
  BIND (lock_result_label);
  BIND (lock_button);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, passphrase_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, choose_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, backup_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, lock_clicked_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kpr_backup_dialog_init (KprBackupDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  kpr_a11y_fix_names (GTK_WIDGET (self));
  kpr_backup_secure_row (self->passphrase_row);
  kpr_backup_secure_row (self->confirm_row);
  passphrase_changed_cb (self);
}

KprBackupDialog *
kpr_backup_dialog_new (GtkWindow *parent, const char *name)
{
  KprBackupDialog *self = g_object_new (KPR_TYPE_BACKUP_DIALOG, "transient-for", parent, NULL);
  g_autofree char *title = g_strdup_printf ("Back Up “%s”", name);
  BackupJob *job;

  self->name = g_strdup (name);
  gtk_window_set_title (GTK_WINDOW (self), title);
  self->worker = kpr_worker_new (GTK_WIDGET (self));
  g_signal_connect (self->worker, "progress", G_CALLBACK (progress_cb), self);
  add_drive_rows (self);
  job = backup_job_new (self, NULL);
  self->running = TRUE;
  kpr_worker_run (self->worker, load_job, job, NULL, load_done_cb, job);
  return self;
}
