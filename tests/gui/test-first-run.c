/* test-first-run.c — "Add an identity" on a fresh account with no key
 * store on this computer (issue 10, item 5), against a real certkeeper-ca
 * and SoftHSM2 (driven by test-first-run.sh, which then checks the token
 * with the certkeeper command and pkcs11-tool).
 *
 *   "This computer" is offered and chosen, not greyed out, and names no
 *   terminal command; Next leads to the "pin" page, which says what the
 *   PIN protects and checks the two entries as they are typed (too short,
 *   not the same, nothing said while the second still agrees); Enter in
 *   the second entry creates the key store; the enrollment that follows
 *   asks no PIN again (the one just chosen is used) and ends Active.
 *   Then a backup through the window's worker with a wrong PIN: the
 *   error a person reads says "Wrong PIN", never the CKR_ constant.
 *
 * Usage: test-first-run SERVER OUTBOX PIN-FILE TMPDIR
 */
#include "config.h"

#include <string.h>

#include "gui-fixture.h"

#define SLOW_MS 60000

static KprSecret *pin;
static guint pins_given;

static gboolean
answer_pin (gpointer data)
{
  if (kpr_gui_answer_pin (pin->data))
    pins_given++;
  return G_SOURCE_CONTINUE;
}

static gboolean
outbox_grew (gpointer data)
{
  const char *const *a = data;

  return kpr_gui_outbox_lines (a[0]) > GPOINTER_TO_UINT (a[1]);
}

static gboolean
shown (GtkWidget *widget)
{
  return widget && gtk_widget_get_mapped (widget);
}

/* The PIN page's sentence after typing @first and @second. */
static const char *
pin_says (GtkWidget *dialog, const char *first, const char *second)
{
  GtkWidget *error = kpr_gui_need (dialog, "pin_error");

  kpr_gui_set_text (kpr_gui_need (dialog, "pin_again_row"), "");
  kpr_gui_set_text (kpr_gui_need (dialog, "pin_row"), first);
  kpr_gui_set_text (kpr_gui_need (dialog, "pin_again_row"), second);
  return shown (error) ? gtk_label_get_text (GTK_LABEL (error)) : "";
}

static void
first_run (const char *server, const char *outbox)
{
  GtkWidget *dialog = GTK_WIDGET (kpr_add_dialog_new (NULL));
  GtkWidget *next = kpr_gui_need (dialog, "next_button");
  GtkWidget *row, *description;
  g_autofree char *word = NULL;
  const char *said;
  guint before;
  gpointer wait[2];

  gtk_window_present (GTK_WINDOW (dialog));
  kpr_gui_wait (kpr_gui_window_drawn, dialog, 5000);
  kpr_gui_set_text (kpr_gui_need (dialog, "server_row"), server);
  kpr_gui_click (next);
  kpr_gui_set_text (kpr_gui_need (dialog, "username_row"), "alice");
  kpr_gui_set_text (kpr_gui_need (dialog, "name_row"), "gui-first");
  kpr_gui_click (next);
  kpr_gui_check (kpr_gui_wait_page (dialog, "where", 2000), "the key's place is asked");
  kpr_gui_check (kpr_gui_wait (kpr_gui_clickable, next, 20000),
                 "with no key store yet, a place is still chosen and Next can be clicked");
  row = kpr_gui_need (dialog, "software_row");
  kpr_gui_check (row && kpr_gui_can_click (row), "“This computer” can be picked");
  kpr_gui_check (row && !strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "certkeeper token")
                   && strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "PIN"),
                 "it names no terminal command and says a PIN is chosen next (“%s”)",
                 row ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : "");
  kpr_gui_screenshot (dialog, "first-run-where");
  kpr_gui_click (next);

  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "pin", 2000), "Next leads to the PIN page"))
    return;
  description = kpr_gui_find_text (dialog, "This PIN protects");
  kpr_gui_check (description != NULL, "the page says what the PIN protects");
  kpr_gui_check (gtk_widget_has_focus (kpr_gui_need (dialog, "pin_row"))
                   || gtk_widget_is_focus (kpr_gui_need (dialog, "pin_row"))
                   || gtk_widget_get_focus_child (kpr_gui_need (dialog, "pin_row")) != NULL,
                 "the focus is in the first PIN entry");
  kpr_gui_check (!kpr_gui_can_click (next) && !shown (kpr_gui_need (dialog, "pin_error")),
                 "nothing typed: Next greyed, no red sentence yet");
  said = pin_says (dialog, "12", "");
  kpr_gui_check (strstr (said, "Too short") && strstr (said, "4"),
                 "two characters: “too short, at least 4” at once (“%s”)", said);
  kpr_gui_check (!kpr_gui_can_click (next), "too short: Next greyed");
  said = pin_says (dialog, (const char *) pin->data, "");
  kpr_gui_check (!*said && !kpr_gui_can_click (next),
                 "a good PIN, second entry empty: no complaint, Next still greyed");
  {
    g_autofree char *prefix = g_strndup (pin->data, 3);
    said = pin_says (dialog, (const char *) pin->data, prefix);
    kpr_gui_check (!*said, "the second entry still agreeing as it is typed: no complaint (“%s”)", said);
  }
  said = pin_says (dialog, (const char *) pin->data, "Other-Pin-1234");
  kpr_gui_check (strstr (said, "not the same") && !kpr_gui_can_click (next),
                 "a different second PIN: “not the same”, Next greyed (“%s”)", said);
  kpr_gui_screenshot (dialog, "first-run-pin-mismatch");
  said = pin_says (dialog, (const char *) pin->data, (const char *) pin->data);
  kpr_gui_check (!*said && kpr_gui_can_click (next), "the same PIN twice: Next can be clicked");
  /* Enter in the second entry goes on, as a person expects. */
  g_signal_emit_by_name (kpr_gui_need (dialog, "pin_again_row"), "entry-activated");

  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "key", SLOW_MS),
                      "the key store is created and the key page follows (%s)",
                      kpr_gui_text (kpr_gui_need (dialog, "pin_error"))))
    return;
  kpr_gui_check (*kpr_gui_text (kpr_gui_need (dialog, "pin_row")) == '\0'
                   && *kpr_gui_text (kpr_gui_need (dialog, "pin_again_row")) == '\0',
                 "the PIN is gone from both entries");
  kpr_gui_check (shown (kpr_gui_need (dialog, "backup_row")),
                 "the key goes on this computer: the backup choice is offered");

  before = kpr_gui_outbox_lines (outbox);
  kpr_gui_click (next);
  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "trust", SLOW_MS), "the CA's fingerprint is asked"))
    return;
  kpr_gui_click (kpr_gui_need (dialog, "trust_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "word", SLOW_MS), "the secret word is asked"))
    return;
  wait[0] = (gpointer) outbox;
  wait[1] = GUINT_TO_POINTER (before);
  kpr_gui_wait (outbox_grew, wait, 10000);
  word = kpr_gui_outbox_last_word (outbox);
  kpr_gui_set_text (kpr_gui_need (dialog, "secret_entry"), word ? word : "");
  kpr_gui_click (kpr_gui_need (dialog, "word_button"));
  kpr_gui_check (kpr_gui_wait_page (dialog, "done", SLOW_MS), "the identity is ready (%s)",
                 kpr_gui_text (kpr_gui_need (dialog, "key_error")));
  kpr_gui_check (pins_given == 0, "the PIN was not asked again for the enrollment (%u dialogs)",
                 pins_given);
  {
    GtkWidget *backup = kpr_gui_need (dialog, "backup_button");
    const char *done = kpr_gui_text (kpr_gui_need (dialog, "done_label"));
    GtkWidget *next_dialog = NULL;

    kpr_gui_check (kpr_gui_can_click (backup)
                     && gtk_window_get_default_widget (GTK_WINDOW (dialog)) == backup
                     && gtk_widget_has_focus (backup),
                   "the last page leads on: “Back Up Now” is the default action and has the focus");
    kpr_gui_check (strstr (done, "back up the key, then lock it") != NULL,
                   "it says what comes next: the backup, then the lock (“%s”)", done);
    kpr_gui_check (strstr (done, "Browsers: ") != NULL,
                   "it says where the certificate is usable in browsers (“%s”)", done);
    kpr_gui_screenshot (dialog, "first-run-done");
    kpr_gui_click (backup);
    kpr_gui_settle (300);
    next_dialog = kpr_gui_toplevel_of_type (KPR_TYPE_BACKUP_DIALOG);
    kpr_gui_check (next_dialog != NULL, "“Back Up Now” opens the backup dialog (which offers the lock)");
    if (next_dialog)
      gtk_window_destroy (GTK_WINDOW (next_dialog));
    kpr_gui_settle (200);
  }
}

static gboolean
export_job (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  return kpr_agent_export (agent, "gui-first", data, KPR_P12_MODERN, FALSE, error);
}

static void
on_export_done (GObject *source, GAsyncResult *result, gpointer data)
{
  GError **error = data;

  if (kpr_worker_run_finish (KPR_WORKER (source), result, error))
    g_set_error (error, KPR_ERROR, 0, "(the export worked)");
}

static gboolean
have_error (gpointer data)
{
  return *(GError **) data != NULL;
}

static void
wrong_pin (const char *dir)
{
  g_autoptr (KprWorker) worker = kpr_worker_new (NULL);
  g_autofree char *path = g_build_filename (dir, "wrong-pin.p12", NULL);
  const char *passphrase = "Correct-Horse-Battery-Staple-91";
  GError *error = NULL;

  kpr_worker_preset (worker, KPR_WORKER_PIN, kpr_secret_new ("Not-The-Pin-0", 13));
  kpr_worker_preset (worker, KPR_WORKER_NEW_PASSPHRASE,
                     kpr_secret_new (passphrase, strlen (passphrase)));
  kpr_worker_run (worker, export_job, path, NULL, on_export_done, &error);
  kpr_gui_wait (have_error, &error, SLOW_MS);
  kpr_gui_check (g_error_matches (error, KPR_ERROR, KPR_ERROR_PIN_INCORRECT),
                 "a backup with a wrong PIN fails as a wrong PIN (%s)",
                 error ? error->message : "no answer");
  kpr_gui_check (error && g_str_has_prefix (error->message, "Wrong PIN")
                   && !strstr (error->message, "CKR_"),
                 "the sentence starts with “Wrong PIN” and names no CKR_ constant (“%s”)",
                 error ? error->message : "");
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  guint watcher;

  kpr_gui_test_init (&argc, &argv);
  if (argc != 5)
    {
      g_printerr ("usage: test-first-run SERVER OUTBOX PIN-FILE TMPDIR\n");
      return 2;
    }
  pin = kpr_secret_read_file (argv[3], &error);
  if (!kpr_gui_check (pin != NULL, "the PIN file is read (%s)", error ? error->message : "ok"))
    return kpr_gui_test_finish ();
  watcher = g_timeout_add (100, answer_pin, NULL);
  first_run (argv[1], argv[2]);
  wrong_pin (argv[4]);
  g_source_remove (watcher);
  kpr_secret_free (pin);
  return kpr_gui_test_finish ();
}
