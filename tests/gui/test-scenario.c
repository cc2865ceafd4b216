/* test-scenario.c — one person's first day, through certkeeper-gtk only
 * (driven by test-scenario.sh against certkeeper-ca and SoftHSM2):
 *
 *   the main window (KprWindow) → app.add → the assistant: server,
 *   username, this computer, key type, fingerprint, secret word → done →
 *   "Make a backup now" → the backup dialog: a file, the passphrase twice,
 *   written and verified → "Lock the key" → the main window's win.renew.
 *
 * The script checks the outcome with independent readers: certkeeper show
 * (a new serial, not exportable), p11tool (the key is not extractable),
 * openssl pkcs12 (the backup opens with the passphrase).  The serial
 * before the renewal goes to RESULT-FILE for that comparison.
 *
 * Usage: test-scenario SERVER OUTBOX PIN-FILE PASSPHRASE-FILE BACKUP-FILE RESULT-FILE
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <openssl/bn.h>

#include "gui-fixture.h"
#include "kpr-ossl.h"

#define SLOW_MS 60000
#define NAME "gui-alice"

static const char *server, *outbox;
static KprSecret *pin;

/* --- helpers (the shared ones are in gui-fixture-steps.c) ----------------- */

static gboolean
outbox_grew (gpointer data)
{
  return kpr_gui_outbox_lines (outbox) > GPOINTER_TO_UINT (data);
}

/* The token's PIN, typed into the worker's PIN dialog whenever it shows. */
static gboolean
answer_pin (gpointer data)
{
  g_autoptr (GList) tops = gtk_window_list_toplevels ();

  for (GList *l = tops; l; l = l->next)
    {
      GtkWidget *dialog = l->data;
      const char *heading;
      GtkWidget *entry;

      if (!g_str_equal (gtk_widget_get_name (dialog), "kpr-secret-dialog")
          || !gtk_widget_get_mapped (dialog) || g_object_get_data (G_OBJECT (dialog), "kpr-answered"))
        continue;
      heading = adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog));
      entry = kpr_gui_find (dialog, "secret-entry");
      g_object_set_data (G_OBJECT (dialog), "kpr-answered", GINT_TO_POINTER (1));
      if (entry && heading && strstr (heading, "PIN"))
        {
          kpr_gui_set_text (entry, pin->data);
          adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "continue");
        }
      else
        {
          printf ("# unexpected question: %s\n", heading ? heading : "(none)");
          adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
        }
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
add_dialog_shown (gpointer data)
{
  GtkWidget *d = kpr_gui_toplevel_of_type (KPR_TYPE_ADD_DIALOG);

  return d && gtk_widget_get_mapped (d);
}

static gboolean
backup_dialog_shown (gpointer data)
{
  GtkWidget *d = kpr_gui_toplevel_of_type (KPR_TYPE_BACKUP_DIALOG);

  return d && gtk_widget_get_mapped (d);
}

static gboolean
window_lists (gpointer data)
{
  return kpr_gui_find_text (data, NAME) != NULL;
}

/* The identity's current serial (as "certkeeper show --json" prints it),
 * read from the store once no job holds its lock. */
static char *
current_serial (void)
{
  for (int i = 0; i < 100; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (KprStore) store = kpr_store_open (&error);
      g_autoptr (KprIdentity) id = NULL;

      if (!store)
        {
          kpr_gui_settle (100);
          continue;
        }
      id = kpr_store_load (store, NAME, &error);
      if (!id || !id->cert)
        return NULL;
      {
        g_autoptr (BIGNUM) bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (id->cert), NULL);
        char *hex = BN_bn2hex (bn);
        char *copy = g_strdup (hex);
        OPENSSL_free (hex);
        return copy;
      }
    }
  return NULL;
}

/* --- the steps ------------------------------------------------------------ */

static gboolean
add_identity (KprApplication *app, GtkWidget *window)
{
  GtkWidget *d;
  g_autofree char *word = NULL;
  guint before;
  gboolean ok;

  g_action_group_activate_action (G_ACTION_GROUP (app), "add", NULL);
  if (!kpr_gui_check (kpr_gui_wait (add_dialog_shown, NULL, 5000), "app.add opens the assistant"))
    return FALSE;
  d = kpr_gui_toplevel_of_type (KPR_TYPE_ADD_DIALOG);
  kpr_gui_check (gtk_window_get_transient_for (GTK_WINDOW (d)) == GTK_WINDOW (window),
                 "the assistant belongs to the main window");
  kpr_gui_set_text (kpr_gui_need (d, "server_row"), server);
  kpr_gui_click (kpr_gui_need (d, "next_button"));
  kpr_gui_set_text (kpr_gui_need (d, "username_row"), "alice");
  kpr_gui_set_text (kpr_gui_need (d, "name_row"), NAME);
  kpr_gui_click (kpr_gui_need (d, "next_button"));
  kpr_gui_wait (kpr_gui_clickable, kpr_gui_need (d, "next_button"), 20000);
  kpr_gui_check (kpr_gui_find_text (d, "This computer") != NULL, "“This computer” is offered");
  kpr_gui_click (kpr_gui_need (d, "next_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (d, "key", 2000), "the key type page"))
    return FALSE;
  before = kpr_gui_outbox_lines (outbox);
  kpr_gui_click (kpr_gui_need (d, "next_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (d, "trust", SLOW_MS), "the CA fingerprint is asked"))
    return FALSE;
  kpr_gui_click (kpr_gui_need (d, "trust_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (d, "word", SLOW_MS), "the secret word is asked"))
    return FALSE;
  if (!kpr_gui_check (kpr_gui_wait (outbox_grew, GUINT_TO_POINTER (before), 10000),
                      "the server sent a secret word"))
    return FALSE;
  word = kpr_gui_outbox_last_word (outbox);
  kpr_gui_set_text (kpr_gui_need (d, "secret_entry"), word);
  kpr_gui_click (kpr_gui_need (d, "word_button"));
  ok = kpr_gui_wait_page (d, "done", SLOW_MS);
  kpr_gui_check (ok, "the identity is added (%s)", kpr_gui_text (kpr_gui_need (d, "key_error")));
  kpr_gui_screenshot (d, "scenario-1-added");
  kpr_gui_check (kpr_gui_wait (window_lists, window, 20000),
                 "the main window lists “" NAME "” after the assistant");
  if (!ok || !kpr_gui_check (kpr_gui_clickable (kpr_gui_need (d, "backup_button")), "“Make a backup now” is offered"))
    return FALSE;
  kpr_gui_click (kpr_gui_need (d, "backup_button"));
  return TRUE;
}

static gboolean
lock_done (gpointer data)
{
  GtkWidget *d = data;

  return strstr (kpr_gui_text (kpr_gui_find (d, "lock_result_label")), "Key locked")
         || (kpr_gui_find (d, "lock_error_label")
             && gtk_widget_get_mapped (kpr_gui_find (d, "lock_error_label")));
}

static gboolean
back_up_and_lock (const char *target, const KprSecret *passphrase)
{
  g_autoptr (GFile) file = g_file_new_for_path (target);
  GtkWidget *d, *button;
  gboolean ok;

  if (!kpr_gui_check (kpr_gui_wait (backup_dialog_shown, NULL, 5000),
                      "“Make a backup now” opens the backup dialog"))
    return FALSE;
  d = kpr_gui_toplevel_of_type (KPR_TYPE_BACKUP_DIALOG);
  kpr_gui_check (kpr_gui_toplevel_of_type (KPR_TYPE_ADD_DIALOG) == NULL, "the assistant has closed");
  if (!kpr_gui_check (kpr_gui_wait_page (d, "form", 20000), "the backup form is shown"))
    return FALSE;
  /* A native file chooser cannot be driven: the path goes in through the
   * call "Choose a file…" makes. */
  kpr_backup_dialog_set_file (KPR_BACKUP_DIALOG (d), file);
  kpr_gui_set_text (kpr_gui_need (d, "passphrase_row"), passphrase->data);
  kpr_gui_set_text (kpr_gui_need (d, "confirm_row"), passphrase->data);
  button = kpr_gui_need (d, "backup_button");
  if (!kpr_gui_check (kpr_gui_wait (kpr_gui_clickable, button, 5000),
                      "the passphrase twice: “Back Up” can be clicked"))
    return FALSE;
  kpr_gui_screenshot (d, "scenario-2-backup");
  kpr_gui_click (button);
  ok = kpr_gui_wait_page (d, "done", SLOW_MS);
  kpr_gui_check (ok && strstr (kpr_gui_text (kpr_gui_need (d, "result_label")), "verified"),
                 "the backup is written and verified (%s)", kpr_gui_text (kpr_gui_need (d, "result_label")));
  if (!ok)
    return FALSE;
  kpr_gui_click (kpr_gui_need (d, "lock_button"));
  ok = kpr_gui_wait (lock_done, d, SLOW_MS);
  kpr_gui_check (ok && strstr (kpr_gui_text (kpr_gui_need (d, "lock_result_label")), "Key locked"),
                 "the key is locked (%s)", kpr_gui_text (kpr_gui_need (d, "lock_error_label")));
  kpr_gui_screenshot (d, "scenario-3-locked");
  gtk_window_destroy (GTK_WINDOW (d));
  return ok;
}

static gboolean
renewed (gpointer data)
{
  return kpr_gui_find_text (data, "is renewed") != NULL;
}

static void
renew (GtkWidget *window)
{
  gboolean ok;

  kpr_window_show_identity (KPR_WINDOW (window), NAME);
  kpr_gui_settle (300);
  kpr_gui_screenshot (window, "scenario-4-detail");
  gtk_widget_activate_action (window, "win.renew", "s", NAME);
  ok = kpr_gui_wait (renewed, window, SLOW_MS);
  kpr_gui_check (ok, "win.renew: the window says “%s” is renewed", NAME);
  kpr_gui_screenshot (window, "scenario-5-renewed");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprApplication) app = NULL;
  g_autoptr (KprSecret) passphrase = NULL;
  g_autofree char *serial = NULL;
  GtkWidget *window;
  guint watcher;

  kpr_gui_test_init (&argc, &argv);
  if (argc != 7)
    {
      g_printerr ("usage: test-scenario SERVER OUTBOX PIN-FILE PASSPHRASE-FILE BACKUP-FILE "
                  "RESULT-FILE\n");
      return 2;
    }
  server = argv[1];
  outbox = argv[2];
  if (!(pin = kpr_secret_read_file (argv[3], &error))
      || !(passphrase = kpr_secret_read_file (argv[4], &error)))
    {
      kpr_gui_check (FALSE, "the PIN and passphrase files are read: %s", error->message);
      return kpr_gui_test_finish ();
    }
  watcher = g_timeout_add (100, answer_pin, NULL);

  app = kpr_application_new ();
  kpr_gui_check (g_application_register (G_APPLICATION (app), NULL, &error),
                 "the application registers");
  window = GTK_WIDGET (kpr_window_new (app));
  gtk_window_present (GTK_WINDOW (window));
  kpr_gui_check (kpr_gui_wait (kpr_gui_window_drawn, window, 5000), "the main window is shown");

  if (add_identity (app, window) && back_up_and_lock (argv[5], passphrase))
    {
      serial = current_serial ();
      kpr_gui_check (serial != NULL, "the serial before the renewal is known (%s)", serial);
      if (serial)
        g_file_set_contents (argv[6], serial, -1, NULL);
      renew (window);
    }

  g_source_remove (watcher);
  gtk_window_destroy (GTK_WINDOW (window));
  kpr_gui_settle (200);
  kpr_secret_free (pin);
  return kpr_gui_test_finish ();
}
