/* test-backup.c — the backup, lock, import and delete dialogs, driven by
 * test-backup.sh against a real token and certkeeper-ca.
 *
 * Identities prepared by the script: "keep" (exportable, no backup),
 * "sealed" (non-exportable from the start), "spare" (exportable, no
 * backup; deleted here).  The token PIN is typed into the real secret
 * dialog whenever a job asks for it, as a person would.
 *
 * Usage: test-backup PIN-FILE PASSPHRASE-FILE BACKUP-FILE
 */
#include "config.h"

#include "gui-fixture.h"
#include "kpr-identity-text.h"

static KprSecret *pin;
static guint unexpected_questions;

/* The token PIN, typed into any PIN dialog that opens; anything else the
 * agent asks here would mean a preset passphrase or the delete dialog's
 * confirm handler did not do its work: counted, and refused. */
static gboolean
answer_questions (gpointer data)
{
  g_autoptr (GList) tops = gtk_window_list_toplevels ();

  for (GList *l = tops; l; l = l->next)
    {
      GtkWidget *w = l->data;
      const char *name = gtk_widget_get_name (w);

      if (!gtk_widget_get_visible (w) || g_object_get_data (G_OBJECT (w), "kpr-answered"))
        continue;
      if (g_str_equal (name, "kpr-secret-dialog"))
        {
          const char *heading = adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (w));
          GtkWidget *entry = kpr_gui_find (w, "secret-entry");

          g_object_set_data (G_OBJECT (w), "kpr-answered", GINT_TO_POINTER (1));
          if (heading && strstr (heading, "PIN") && entry)
            {
              kpr_gui_type (entry, pin->data);
              adw_message_dialog_response (ADW_MESSAGE_DIALOG (w), "continue");
            }
          else
            {
              printf ("# unexpected question: %s\n", heading ? heading : "(none)");
              unexpected_questions++;
              adw_message_dialog_response (ADW_MESSAGE_DIALOG (w), "cancel");
            }
        }
      else if (g_str_equal (name, "kpr-confirm-dialog"))
        {
          g_object_set_data (G_OBJECT (w), "kpr-answered", GINT_TO_POINTER (1));
          printf ("# unexpected confirmation: %s\n",
                  adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (w)));
          unexpected_questions++;
          adw_message_dialog_response (ADW_MESSAGE_DIALOG (w), "no");
        }
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
visible (gpointer widget)
{
  return widget && gtk_widget_get_visible (widget) && gtk_widget_get_mapped (widget);
}

static gboolean
label_has (GtkWidget *label, const char *text)
{
  return label && strstr (kpr_gui_text (label), text) != NULL;
}

/* Neither in an entry nor in any label of any window. */
static gboolean
passphrase_gone (GtkWidget *root, const KprSecret *passphrase)
{
  static const char *const rows[] = { "passphrase_row", "confirm_row" };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      GtkWidget *row = kpr_gui_find (root, rows[i]);
      if (row && *gtk_editable_get_text (GTK_EDITABLE (row)))
        return FALSE;
    }
  return kpr_gui_find_text (NULL, passphrase->data) == NULL;
}

static void
test_locked (void)
{
  GtkWidget *d = GTK_WIDGET (kpr_backup_dialog_new (NULL, "keep"));
  GtkWidget *refused;

  /* Closed before its first job ends: the job's end finds no widgets. */
  gtk_window_present (GTK_WINDOW (d));
  gtk_window_destroy (GTK_WINDOW (d));
  kpr_gui_settle (1500);
  kpr_gui_check (TRUE, "a backup dialog closed while loading does not crash");

  d = GTK_WIDGET (kpr_backup_dialog_new (NULL, "sealed"));
  gtk_window_present (GTK_WINDOW (d));
  kpr_gui_check (kpr_gui_wait_page (d, "refused", 20000), "locked identity: the backup dialog refuses");
  refused = kpr_gui_need (d, "refused_page");
  kpr_gui_check (refused && strstr (adw_status_page_get_description (ADW_STATUS_PAGE (refused)),
                                    "protected from export"),
                 "locked identity: the dialog says the key is protected from export");
  kpr_gui_check (!kpr_gui_can_click (kpr_gui_need (d, "backup_button")),
                 "locked identity: no “Back Up” to click");
  kpr_gui_check (kpr_gui_screenshot (d, "backup-0-locked"), "screenshot backup-0-locked");
  gtk_window_destroy (GTK_WINDOW (d));
}

static void
test_backup_and_lock (const char *target, const KprSecret *passphrase)
{
  KprBackupDialog *dialog = kpr_backup_dialog_new (NULL, "keep");
  GtkWidget *d = GTK_WIDGET (dialog);
  GtkWidget *row, *again, *button, *bar, *hint, *warning, *lock;
  g_autoptr (GFile) file = g_file_new_for_path (target);
  g_autofree char *different = g_strconcat (passphrase->data, "x", NULL);

  gtk_window_present (GTK_WINDOW (d));
  kpr_gui_check (kpr_gui_wait_page (d, "form", 20000), "exportable identity: the backup form is shown");
  row = kpr_gui_need (d, "passphrase_row");
  again = kpr_gui_need (d, "confirm_row");
  button = kpr_gui_need (d, "backup_button");
  bar = kpr_gui_need (d, "strength_bar");
  hint = kpr_gui_need (d, "strength_label");
  warning = kpr_gui_need (d, "not_removable_warning");
  if (!row || !again || !button || !bar || !hint || !warning)
    {
      kpr_gui_check (FALSE, "the backup dialog has its widgets");
      return;
    }
  kpr_gui_check (!kpr_gui_can_click (button), "nothing typed: “Back Up” is insensitive");
  kpr_gui_check (!gtk_widget_get_visible (warning), "no target yet: no disk warning");

  kpr_backup_dialog_set_file (dialog, file);
  kpr_gui_check (kpr_gui_wait (visible, warning, 5000) && label_has (warning, "A USB drive is safer"),
                 "a file on this computer's disk: the not-removable warning is shown");

  kpr_gui_set_text (row, "password");
  kpr_gui_set_text (again, "password");
  kpr_gui_check (!kpr_gui_can_click (button), "weak passphrase: “Back Up” is insensitive");
  kpr_gui_check (label_has (hint, "too weak"), "weak passphrase: the sentence says why (%s)",
                 kpr_gui_text (hint));
  kpr_gui_check (gtk_level_bar_get_value (GTK_LEVEL_BAR (bar)) == 0,
                 "weak passphrase: the strength bar is empty");

  kpr_gui_set_text (row, passphrase->data);
  kpr_gui_set_text (again, different);
  kpr_gui_check (!kpr_gui_can_click (button), "different passphrases: “Back Up” is insensitive");
  kpr_gui_check (label_has (hint, "not the same"), "different passphrases: the sentence says so");
  kpr_gui_check (gtk_level_bar_get_value (GTK_LEVEL_BAR (bar)) > 0,
                 "strong passphrase: the strength bar fills (%g)",
                 gtk_level_bar_get_value (GTK_LEVEL_BAR (bar)));

  kpr_gui_set_text (again, passphrase->data);
  kpr_gui_check (kpr_gui_can_click (button), "same strong passphrase twice: “Back Up” can be clicked");
  kpr_gui_check (kpr_gui_screenshot (d, "backup-1-passphrase"), "screenshot backup-1-passphrase");

  kpr_gui_click (button);
  kpr_gui_check (!*kpr_gui_text (row) && !*kpr_gui_text (again), "the passphrase rows are emptied at once");
  kpr_gui_check (!kpr_gui_can_click (button), "while it works: “Back Up” is insensitive");
  kpr_gui_check (kpr_gui_wait_page (d, "done", 60000), "the backup finishes");
  kpr_gui_check (label_has (kpr_gui_need (d, "result_label"), "Backup written and verified"),
                 "the result: “Backup written and verified”");
  kpr_gui_check (label_has (kpr_gui_need (d, "result_path_label"), target),
                 "the result names the file %s", target);
  kpr_gui_check (passphrase_gone (d, passphrase), "after the job the passphrase is in no widget");
  kpr_gui_check (kpr_gui_find_text (d, "no longer be copied") != NULL,
                 "the lock offer explains it is one way");
  kpr_gui_check (kpr_gui_screenshot (d, "backup-2-done"), "screenshot backup-2-done");

  lock = kpr_gui_need (d, "lock_button");
  kpr_gui_check (kpr_gui_can_click (lock), "“Lock the Key” can be clicked");
  kpr_gui_click (lock);
  kpr_gui_check (!kpr_gui_can_click (lock), "while locking: “Lock the Key” is insensitive");
  {
    GtkWidget *result = kpr_gui_need (d, "lock_result_label");
    gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
    while (!label_has (result, "Key locked") && !visible (kpr_gui_need (d, "lock_error_label"))
           && g_get_monotonic_time () < deadline)
      kpr_gui_settle (100);
    kpr_gui_check (label_has (result, "Key locked"), "the result: “Key locked” (%s)",
                   kpr_gui_text (result));
    if (visible (kpr_gui_need (d, "lock_error_label")))
      printf ("# lock failed: %s\n", kpr_gui_text (kpr_gui_need (d, "lock_error_label")));
  }
  kpr_gui_check (!kpr_gui_clickable (lock), "after locking there is nothing more to lock");
  kpr_gui_check (kpr_gui_screenshot (d, "backup-3-locked"), "screenshot backup-3-locked");
  gtk_window_destroy (GTK_WINDOW (d));
}

static gboolean
error_or_done (gpointer data)
{
  return visible (kpr_gui_find (data, "error_label")) || g_strcmp0 (kpr_gui_stack_page (data), "done") == 0;
}

static void
test_import (const char *path, const KprSecret *passphrase)
{
  GtkWidget *d = GTK_WIDGET (kpr_import_dialog_new (NULL, path));
  GtkWidget *row, *name, *button, *allow, *error;
  gboolean shown;
  g_autofree char *wrong = g_strconcat ("Not-", passphrase->data, NULL);

  gtk_window_present (GTK_WINDOW (d));
  row = kpr_gui_need (d, "passphrase_row");
  name = kpr_gui_need (d, "name_row");
  button = kpr_gui_need (d, "import_button");
  allow = kpr_gui_need (d, "allow_export_switch");
  error = kpr_gui_need (d, "error_label");
  if (!row || !name || !button || !allow || !error)
    {
      kpr_gui_check (FALSE, "the import dialog has its widgets");
      return;
    }
  kpr_gui_check (kpr_gui_find_text (d, path) != NULL, "the import dialog shows the chosen file");
  kpr_gui_check (!gtk_switch_get_active (GTK_SWITCH (allow)), "“Allow export” is off by default");
  kpr_gui_check (!kpr_gui_can_click (button), "no passphrase yet: “Import” is insensitive");
  kpr_gui_set_text (name, "restored");
  kpr_gui_set_text (row, wrong);
  kpr_gui_check (kpr_gui_wait (kpr_gui_clickable, button, 20000), "file and passphrase: “Import” can be clicked");
  kpr_gui_click (button);
  kpr_gui_check (!*kpr_gui_text (row), "the passphrase row is emptied at once");
  /* The label's text is read after the wait: its old string is freed. */
  shown = kpr_gui_wait (error_or_done, d, 60000) && visible (error);
  kpr_gui_check (shown && label_has (error, "Wrong passphrase"),
                 "a wrong passphrase: the error sentence is in the dialog (%s)", kpr_gui_text (error));
  kpr_gui_check (g_strcmp0 (kpr_gui_stack_page (d), "form") == 0, "a wrong passphrase: the form stays to try again");
  kpr_gui_check (kpr_gui_screenshot (d, "import-wrong-passphrase"), "screenshot import-wrong-passphrase");

  kpr_gui_set_text (row, passphrase->data);
  kpr_gui_check (kpr_gui_wait (kpr_gui_clickable, button, 5000), "the second try can be clicked");
  kpr_gui_click (button);
  kpr_gui_check (kpr_gui_wait_page (d, "done", 60000), "the import finishes");
  kpr_gui_check (label_has (kpr_gui_need (d, "result_label"), "“restored”")
                   && label_has (kpr_gui_need (d, "result_label"), "cannot be copied"),
                 "the result names “restored” and says it cannot be copied (%s)",
                 kpr_gui_text (kpr_gui_need (d, "result_label")));
  kpr_gui_check (passphrase_gone (d, passphrase), "after the import the passphrase is in no widget");
  kpr_gui_check (kpr_gui_screenshot (d, "import"), "screenshot import");
  gtk_window_destroy (GTK_WINDOW (d));
}

typedef struct {
  gboolean called;
  gboolean deleted;
} DeleteResult;

static void
delete_done (gboolean deleted, gpointer data)
{
  DeleteResult *r = data;

  r->called = TRUE;
  r->deleted = deleted;
}

static gboolean
delete_finished (gpointer data)
{
  return ((DeleteResult *) data)->called;
}

static KprIdentity *
load (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprStore) store = kpr_store_open (&error);
  KprIdentity *id = store ? kpr_store_load (store, name, &error) : NULL;

  if (!id)
    printf ("# cannot load %s: %s\n", name, error->message);
  return id;
}

static gboolean
delete_dialog_shown (gpointer data)
{
  return visible (kpr_gui_find (NULL, "delete_dialog"));
}

static void
test_delete (void)
{
  g_autoptr (KprIdentity) keep = load ("keep");
  g_autoptr (KprIdentity) spare = load ("spare");
  DeleteResult r = { FALSE, FALSE };
  GtkWidget *dialog;
  const char *body;

  if (!keep || !spare)
    {
      kpr_gui_check (FALSE, "keep and spare can be loaded");
      return;
    }
  /* Backed up (and locked): no warning; cancel keeps it. */
  kpr_delete_dialog_run (NULL, keep, delete_done, &r);
  kpr_gui_check (kpr_gui_wait (delete_dialog_shown, NULL, 5000), "delete dialog for “keep”");
  dialog = kpr_gui_find (NULL, "delete_dialog");
  kpr_gui_check (dialog && !kpr_gui_find (dialog, "no_backup_warning"),
                 "“keep” has a verified backup: no no-backup warning");
  if (dialog)
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  kpr_gui_check (kpr_gui_wait (delete_finished, &r, 5000) && !r.deleted,
                 "cancel: done(FALSE)");
  kpr_gui_settle (300);

  r = (DeleteResult) { FALSE, FALSE };
  kpr_delete_dialog_run (NULL, spare, delete_done, &r);
  kpr_gui_check (kpr_gui_wait (delete_dialog_shown, NULL, 5000), "delete dialog for “spare”");
  dialog = kpr_gui_find (NULL, "delete_dialog");
  if (!dialog)
    return;
  body = adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog));
  kpr_gui_check (strstr (body, "The key of “spare” on this computer") && strstr (body, "serial ")
                   && strstr (body, "valid until"),
                 "the dialog names the key, where it is and the certificate (%s)", body);
  kpr_gui_check (label_has (kpr_gui_find (dialog, "no_backup_warning"), "no backup"),
                 "exportable without backup: the no-backup warning is shown");
  kpr_gui_check (kpr_gui_screenshot (dialog, "delete-no-backup"), "screenshot delete-no-backup");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "delete");
  kpr_gui_check (kpr_gui_wait (delete_finished, &r, 60000) && r.deleted,
                 "delete: done(TRUE) without a second question");
}

/* The history the window shows for what the dialogs did: the agent's
 * recorded events in the window's sentences. */
static gboolean
history_has (const char *name, const char *sentence)
{
  g_autoptr (KprStore) store = kpr_store_open (NULL);
  g_autoptr (GPtrArray) events = store ? kpr_store_read_events (store, name, NULL) : NULL;

  for (guint i = 0; events && i < events->len; i++)
    {
      g_autofree char *text = kpr_event_sentence (events->pdata[i]);
      if (g_str_equal (text, sentence))
        return TRUE;
      printf ("#   %s: “%s”\n", name, text);
    }
  return FALSE;
}

static void
test_history (const char *backup)
{
  g_autofree char *dir = g_path_get_dirname (backup);
  g_autofree char *folder = g_path_get_basename (dir);
  g_autofree char *backed = g_strdup_printf ("Backed up to %s/keep.p12", folder);
  g_autofree char *imported = g_strdup_printf ("Imported from %s/keep.p12 as non-exportable", folder);

  kpr_gui_check (history_has ("keep", backed), "keep's history says “%s”", backed);
  kpr_gui_check (history_has ("keep", "Key locked — it can no longer be copied"),
                 "keep's history says the key was locked");
  kpr_gui_check (history_has ("restored", imported), "restored's history says “%s”", imported);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) passphrase = NULL;

  kpr_gui_test_init (&argc, &argv);
  if (argc != 4)
    {
      g_printerr ("usage: %s PIN-FILE PASSPHRASE-FILE BACKUP-FILE\n", argv[0]);
      return 2;
    }
  if (!(pin = kpr_secret_read_file (argv[1], &error))
      || !(passphrase = kpr_secret_read_file (argv[2], &error)))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  g_timeout_add (100, answer_questions, NULL);

  test_locked ();
  test_backup_and_lock (argv[3], passphrase);
  test_import (argv[3], passphrase);
  test_delete ();
  test_history (argv[3]);
  kpr_gui_check (unexpected_questions == 0, "the agent asked nothing but the PIN");
  kpr_gui_settle (200);
  g_clear_pointer (&pin, kpr_secret_free);
  return kpr_gui_test_finish ();
}
