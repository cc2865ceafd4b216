/* kpr-add-steps.c — the second half of "Add an identity": the
 * enrollment in a KprWorker and the pages it leads to.  Its questions (the
 * CA's fingerprint, the secret word) are answered on the assistant's own
 * pages; the PIN uses the worker's default dialog.  A person who cancels
 * an enrollment the assistant started gets nothing half-done: the key and
 * the record it left are taken away again (kpr_agent_delete).
 */
#include "config.h"

#include "kpr-a11y.h"

#include <string.h>

#include "kpr-add-dialog-private.h"
#include "kpr-identity-text.h"

static void
show_progress (KprAddDialog *self, const char *message)
{
  gtk_label_set_text (self->progress_label, message);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), TRUE);
  kpr_add_show_page (self, "progress");
}

/* --- the questions ---------------------------------------------------- */

void
kpr_add_answer_cancel (KprAddDialog *self)
{
  KprWorkerRequest *request = g_steal_pointer (&self->request);

  if (!request)
    return;
  if (self->request_what == KPR_WORKER_CONFIRM)
    kpr_worker_request_confirm (request, FALSE);
  else
    kpr_worker_request_reply (request, NULL);
}

static void
on_ask_confirm (KprWorkerRequest *request, gpointer user_data)
{
  KprAddDialog *self = user_data;
  g_autofree char *unused = NULL;
  const char *fingerprint;

  /* Taking a cancelled enrollment away asks "delete without a backup?":
   * the person already answered by cancelling. */
  if (self->removing)
    {
      kpr_worker_request_confirm (request, TRUE);
      return;
    }
  if (self->disposed || g_cancellable_is_cancelled (self->cancellable) || self->request)
    {
      kpr_worker_request_confirm (request, FALSE);
      return;
    }
  self->request = request;
  self->request_what = KPR_WORKER_CONFIRM;
  fingerprint = kpr_worker_request_get_fingerprint (request);
  if (fingerprint)
    {
      g_autofree char *server = kpr_add_check_server (
        gtk_editable_get_text (GTK_EDITABLE (self->server_row)), &unused);
      g_autofree char *text = g_strdup_printf (
        "%s presents the certificate authority “%s”. Its SHA-256 fingerprint is:",
        server ? server : "The server", kpr_worker_request_get_authority (request));
      g_autofree char *groups = kpr_fingerprint_groups_text (fingerprint);

      gtk_label_set_text (self->trust_label, text);
      gtk_label_set_text (self->trust_fingerprint, groups);
    }
  else
    {
      gtk_label_set_text (self->trust_label, kpr_worker_request_get_detail (request));
      gtk_label_set_text (self->trust_fingerprint, "");
    }
  kpr_add_show_page (self, "trust");
  /* No default: neither Enter nor a focused button answers by accident.
   * The focus starts on the fingerprint, what a person (or a screen
   * reader) must read first; selecting nothing keeps it legible. */
  gtk_window_set_default_widget (GTK_WINDOW (self), NULL);
  gtk_widget_grab_focus (GTK_WIDGET (self->trust_fingerprint));
  gtk_label_select_region (self->trust_fingerprint, 0, 0);
}

static void
on_trust (KprAddDialog *self, gboolean yes)
{
  KprWorkerRequest *request = g_steal_pointer (&self->request);

  if (!request)
    return;
  kpr_worker_request_confirm (request, yes);
  show_progress (self, yes ? "Making the key…" : "Stopping…");
}

static void
on_trust_clicked (KprAddDialog *self)
{
  on_trust (self, TRUE);
}

static void
on_trust_cancel_clicked (KprAddDialog *self)
{
  on_trust (self, FALSE);
}

static void
on_ask_word (KprWorkerRequest *request, gpointer user_data)
{
  KprAddDialog *self = user_data;
  const char *detail = kpr_worker_request_get_detail (request);
  g_autofree char *text = NULL;

  if (self->disposed || g_cancellable_is_cancelled (self->cancellable) || self->request)
    {
      kpr_worker_request_reply (request, NULL);
      return;
    }
  self->request = request;
  self->request_what = kpr_worker_request_get_what (request);
  if (self->request_what == KPR_WORKER_SECRET_WORD)
    text = g_strdup_printf ("We sent a secret word (%s). Type it here to show it is you.",
                            detail ? detail : "to you");
  else
    text = g_strdup_printf ("The server asks for your password (%s).", detail ? detail : "");
  gtk_label_set_text (self->word_label, text);
  gtk_editable_set_text (GTK_EDITABLE (self->secret_entry), "");
  gtk_widget_set_sensitive (GTK_WIDGET (self->secret_entry), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->word_button), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->word_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->resend_button), FALSE);
  kpr_add_set_error (self->word_error, NULL);
  kpr_add_show_page (self, "word");
  gtk_widget_grab_focus (GTK_WIDGET (self->secret_entry));
}

static void
on_secret_changed (KprAddDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->secret_entry));

  gtk_widget_set_sensitive (GTK_WIDGET (self->word_button), self->request && *text);
}

static void
on_word_continue (KprAddDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->secret_entry));
  KprWorkerRequest *request;
  KprSecret *secret;

  if (!self->request || self->request_what == KPR_WORKER_CONFIRM || !*text)
    return;
  request = g_steal_pointer (&self->request);
  secret = kpr_secret_new (text, strlen (text));
  /* GtkPasswordEntry's buffer is erased when emptied: no copy stays in
   * the widget while the agent works. */
  gtk_editable_set_text (GTK_EDITABLE (self->secret_entry), "");
  kpr_worker_request_reply (request, secret);
  show_progress (self, "Sending the certificate request…");
}

static void
on_progress (KprWorker *worker, const char *message, KprAddDialog *self)
{
  if (!self->disposed && message && kpr_add_on_page (self, "progress"))
    gtk_label_set_text (self->progress_label, message);
}

static void
cancel_job (KprAddDialog *self)
{
  self->user_cancelled = TRUE;
  g_cancellable_cancel (self->cancellable);
  kpr_add_answer_cancel (self);
}

static void
on_cancel_clicked (KprAddDialog *self)
{
  cancel_job (self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
  /* A key being made or a request in flight ends by itself; the next
   * question is answered "cancelled". */
  gtk_label_set_text (self->progress_label, "Stopping after the current step…");
}

/* --- taking a cancelled enrollment away ------------------------------- */

static void
on_removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (KprAddDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  KprAddEnrollJob *job = g_object_steal_data (G_OBJECT (self), "kpr-remove-job");
  gboolean ok = kpr_worker_run_finish (KPR_WORKER (source), result, &error);

  self->removing = FALSE;
  if (ok)
    g_clear_pointer (&self->owned_name, g_free);
  if (!self->disposed)
    {
      g_autofree char *message = NULL;

      if (ok)
        message = g_strdup ("Cancelled: nothing was added.");
      else
        message = g_strdup_printf ("Cancelled, but what was started could not be taken away "
                                   "(%s). “certkeeper delete %s” finishes it.",
                                   error->message, job->name);
      kpr_add_set_error (self->key_error, message);
      kpr_add_show_page (self, "key");
    }
  kpr_add_enroll_job_free (job);
  kpr_add_refresh_app ();
}

/* Takes @job's identity away (kpr_agent_delete) in the worker. */
static void
remove_started (KprAddDialog *self, KprAddEnrollJob *job)
{
  self->removing = TRUE;
  g_object_set_data (G_OBJECT (self), "kpr-remove-job", job);
  if (!self->disposed)
    show_progress (self, "Taking away what was started…");
  if (!self->disposed)
    gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
  /* No cancellable: a removal stopped halfway would be worse than none. */
  kpr_worker_run (self->worker, kpr_add_remove, job, NULL, on_removed, g_object_ref (self));
}

/* --- the enrollment --------------------------------------------------- */

/* The last page leads on: with an exportable key, "Back up now" is the
 * default (Enter) and the backup dialog then offers the lock, so the
 * path a person takes by default ends backed up, locked and Active. */
static void
show_result (KprAddDialog *self, const char *name, gboolean exportable, const char *subject,
             const char *not_after, const char *browser_note)
{
  g_autofree char *text = g_strdup_printf (
    "“%s” is ready to use.\nSubject: %s\nValid until: %s%s%s%s", name, subject, not_after,
    browser_note ? "\nBrowsers: " : "", browser_note ? browser_note : "",
    exportable ? "\n\nNext, back up the key, then lock it: after that it can never be "
                 "copied, and the backup is the only way back if this computer is lost."
               : "");

  g_free (self->done_name);
  self->done_name = g_strdup (name);
  gtk_label_set_text (self->done_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->backup_button), exportable);
  kpr_a11y_button_set_label (self->backup_button, "_Back Up Now…");
  kpr_a11y_button_set_label (self->close_button, exportable ? "_Later" : "C_lose");
  kpr_add_show_page (self, "done");
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (exportable ? self->backup_button
                                                                           : self->close_button));
  gtk_widget_grab_focus (GTK_WIDGET (exportable ? self->backup_button : self->close_button));
}

/* Which page an enrollment error belongs to. */
static const char *
page_for_error (const GError *error)
{
  if (error->domain != KPR_ERROR)
    return "key";
  switch (error->code)
    {
    case KPR_ERROR_UNREACHABLE:
    case KPR_ERROR_UNTRUSTED:
    case KPR_ERROR_PROTOCOL:
    case KPR_ERROR_BAD_INPUT:
    case KPR_ERROR_CANCELLED: /* the fingerprint was declined */
      return "server";
    case KPR_ERROR_EXISTS:
    case KPR_ERROR_REJECTED:
    case KPR_ERROR_USAGE:
      return "account";
    case KPR_ERROR_NO_TOKEN:
    case KPR_ERROR_MODULE:
    case KPR_ERROR_TOKEN:
    case KPR_ERROR_PIN_INCORRECT:
    case KPR_ERROR_PIN_LOCKED:
    case KPR_ERROR_UNSUPPORTED:
      return "where";
    case KPR_ERROR_AUTH:
      return "word";
    default:
      return "key";
    }
}

static void
show_enroll_error (KprAddDialog *self, const GError *error)
{
  const char *where = page_for_error (error);
  GtkLabel *labels[] = { self->server_error, self->account_error, self->where_error,
                         self->key_error };

  if (g_str_equal (where, "word"))
    {
      /* The record waits for a word; a new one resumes the enrollment. */
      gtk_label_set_text (self->word_label, "The server did not accept the secret word.");
      gtk_widget_set_sensitive (GTK_WIDGET (self->secret_entry), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->word_button), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->resend_button), TRUE);
      kpr_add_set_error (self->word_error, error->message);
      kpr_add_show_page (self, "word");
      gtk_widget_set_visible (GTK_WIDGET (self->back_button), TRUE);
      return;
    }
  kpr_add_show_page (self, where);
  kpr_add_set_error (labels[kpr_add_input_index (where)], error->message);
  if (g_str_equal (where, "where"))
    kpr_add_list (self); /* a PIN may be locked now: show the tokens as they are */
}

static void
on_enroll_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (KprAddDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = kpr_worker_run_finish (KPR_WORKER (source), result, &error);
  KprAddEnrollJob *job = g_steal_pointer (&self->job);

  /* The worker waited for every answer it asked for, unless cancelled:
   * a question still shown is void now. */
  kpr_add_answer_cancel (self);
  if (job->owned)
    {
      g_free (self->owned_name);
      self->owned_name = g_strdup (job->name);
    }
  if (!ok && job->owned && self->user_cancelled)
    {
      remove_started (self, job);
      return;
    }
  if (ok || g_error_matches (error, KPR_ERROR, KPR_ERROR_PENDING))
    g_clear_pointer (&self->owned_name, g_free); /* the person has it now: never taken away */
  if (!self->disposed)
    {
      if (ok)
        show_result (self, job->name, job->exportable, job->subject, job->not_after,
                     job->browser_note);
      else if (g_error_matches (error, KPR_ERROR, KPR_ERROR_PENDING))
        {
          g_free (self->done_name);
          self->done_name = g_strdup (job->name);
          kpr_add_set_error (self->pending_error, NULL);
          kpr_add_show_page (self, "pending");
        }
      else if (self->user_cancelled)
        {
          kpr_add_set_error (self->key_error, "Cancelled: nothing was added.");
          kpr_add_show_page (self, "key");
        }
      else
        show_enroll_error (self, error);
    }
  kpr_add_enroll_job_free (job);
  kpr_add_refresh_app ();
}

void
kpr_add_run_enroll (KprAddDialog *self)
{
  const KprAgentToken *t = kpr_add_selected_token (self);
  guint type = adw_combo_row_get_selected (self->key_type_row);
  g_autofree char *unused = NULL;
  g_autofree char *label = kpr_add_row_text (self->label_row);
  KprAddEnrollJob *job;

  if (!t || kpr_worker_is_busy (self->worker) || type >= self->key_types->len)
    return;
  job = g_new0 (KprAddEnrollJob, 1);
  job->server = kpr_add_check_server (gtk_editable_get_text (GTK_EDITABLE (self->server_row)),
                                      &unused);
  job->label = *label ? g_steal_pointer (&label) : NULL;
  job->username = kpr_add_row_text (self->username_row);
  job->name = kpr_add_row_text (self->name_row);
  /* The software token is the agent's default: no URI, so that the agent
   * finds it the same way as "certkeeper enroll" does. */
  job->token_uri = t->software ? NULL : g_strdup (t->uri);
  job->key_type = g_array_index (self->key_types, KprKeyType, type);
  job->protection = adw_combo_row_get_selected (self->protection_row) == 1
                      ? KPR_PROTECTION_STRONG
                      : KPR_PROTECTION_STANDARD;
  job->no_backup = t->software && !gtk_switch_get_active (self->backup_switch);
  job->owned = g_strcmp0 (self->owned_name, job->name) == 0;
  self->job = job;
  self->user_cancelled = FALSE;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  kpr_add_set_error (self->server_error, NULL);
  kpr_add_set_error (self->account_error, NULL);
  kpr_add_set_error (self->where_error, NULL);
  kpr_add_set_error (self->key_error, NULL);
  show_progress (self, "Contacting the server…");
  kpr_worker_run (self->worker, kpr_add_enroll, job, self->cancellable, on_enroll_done,
                  g_object_ref (self));
}

static void
on_resend (KprAddDialog *self)
{
  kpr_add_run_enroll (self);
}

void
kpr_add_steps_close (KprAddDialog *self)
{
  if (kpr_worker_is_busy (self->worker))
    {
      /* on_enroll_done takes away what was started. */
      if (self->job)
        cancel_job (self);
      return;
    }
  /* Closed after a refused secret word: the record waits for a word
   * nobody will type. */
  if (self->owned_name && !self->removing)
    {
      KprAddEnrollJob *job = g_new0 (KprAddEnrollJob, 1);

      job->name = g_strdup (self->owned_name);
      remove_started (self, job);
    }
}

/* --- done, pending ---------------------------------------------------- */

static void
on_backup (KprAddDialog *self)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  KprBackupDialog *backup = kpr_backup_dialog_new (parent, self->done_name);

  gtk_window_present (GTK_WINDOW (backup));
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_close (KprAddDialog *self)
{
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_install_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (KprAddDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  KprAddInstallJob *job = g_object_steal_data (G_OBJECT (self), "kpr-install-job");
  gboolean ok = kpr_worker_run_finish (KPR_WORKER (source), result, &error);

  if (!self->disposed)
    {
      if (ok)
        show_result (self, job->name, job->exportable, job->subject, job->not_after,
                     job->browser_note);
      else
        {
          /* The agent's sentence names the file and the identity. */
          kpr_add_set_error (self->pending_error, error->message);
          kpr_add_show_page (self, "pending");
        }
    }
  kpr_add_install_job_free (job);
  kpr_add_refresh_app ();
}

void
kpr_add_dialog_install_file (KprAddDialog *self, GFile *file)
{
  KprAddInstallJob *job;

  g_return_if_fail (KPR_IS_ADD_DIALOG (self) && G_IS_FILE (file));
  if (!self->done_name || !g_file_peek_path (file) || kpr_worker_is_busy (self->worker))
    return;
  job = g_new0 (KprAddInstallJob, 1);
  job->name = g_strdup (self->done_name);
  job->path = g_file_get_path (file);
  g_object_set_data (G_OBJECT (self), "kpr-install-job", job);
  kpr_add_set_error (self->pending_error, NULL);
  show_progress (self, "Installing the certificate…");
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
  kpr_worker_run (self->worker, kpr_add_install, job, NULL, on_install_done, g_object_ref (self));
}

static void
on_chooser_response (GtkNativeDialog *chooser, int response, KprAddDialog *self)
{
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_clear_object (&self->chooser);
  if (file)
    kpr_add_dialog_install_file (self, file);
}

static void
on_import (KprAddDialog *self)
{
  static const char *const patterns[] = { "*.cer", "*.crt", "*.pem", "*.der", NULL };
  GtkFileFilter *filter;

  if (self->chooser)
    return;
  self->chooser = gtk_file_chooser_native_new ("Import the certificate", GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, "_Import", "_Cancel");
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "Certificates (.cer, .crt, .pem, .der)");
  for (const char *const *p = patterns; *p; p++)
    gtk_file_filter_add_pattern (filter, *p);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  g_object_unref (filter);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

void
kpr_add_steps_init (KprAddDialog *self)
{
  kpr_worker_set_handler (self->worker, KPR_WORKER_CONFIRM, on_ask_confirm, self);
  kpr_worker_set_handler (self->worker, KPR_WORKER_SECRET_WORD, on_ask_word, self);
  kpr_worker_set_handler (self->worker, KPR_WORKER_PASSWORD, on_ask_word, self);
  g_signal_connect (self->worker, "progress", G_CALLBACK (on_progress), self);
  gtk_label_set_text (self->pending_label,
                      "The server's operator decides on your request. certkeeper-agent asks "
                      "the server again by itself and installs the certificate as soon as it "
                      "is issued; you need not keep this window open. If you receive the "
                      "certificate as a file (.cer), import it here.");
  g_signal_connect_swapped (self->trust_button, "clicked", G_CALLBACK (on_trust_clicked), self);
  g_signal_connect_swapped (self->trust_cancel_button, "clicked",
                            G_CALLBACK (on_trust_cancel_clicked), self);
  g_signal_connect_swapped (self->secret_entry, "changed", G_CALLBACK (on_secret_changed), self);
  g_signal_connect_swapped (self->secret_entry, "activate", G_CALLBACK (on_word_continue), self);
  g_signal_connect_swapped (self->word_button, "clicked", G_CALLBACK (on_word_continue), self);
  g_signal_connect_swapped (self->resend_button, "clicked", G_CALLBACK (on_resend), self);
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (on_cancel_clicked), self);
  g_signal_connect_swapped (self->backup_button, "clicked", G_CALLBACK (on_backup), self);
  g_signal_connect_swapped (self->close_button, "clicked", G_CALLBACK (on_close), self);
  g_signal_connect_swapped (self->pending_close_button, "clicked", G_CALLBACK (on_close), self);
  g_signal_connect_swapped (self->import_button, "clicked", G_CALLBACK (on_import), self);
}
