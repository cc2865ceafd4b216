/* test-add.c — the "Add an identity" assistant against a real
 * certkeeper-ca and SoftHSM2 token (driven by test-add.sh, which checks
 * the results afterwards with the certkeeper command and pkcs11-tool).
 *
 *   1. gui-alice: a bad server address is refused with a sentence and Next
 *      stays greyed out; then the whole walk: "This computer" offered, the
 *      key types of the token with the settings' default chosen, the CA's
 *      fingerprint shown and trusted, the secret word from the server's
 *      outbox, the done page offering a backup.
 *   2. gui-bob: a wrong secret word shows the server's refusal on the word
 *      page; "Send me a new secret word" resumes and finishes.
 *   3. gui-cancel: Cancel while the key is being made; the assistant says
 *      nothing was added (the shell checks that nothing was).
 *
 * The PIN is asked by the worker's own dialog (kpr-secret-dialog.c); a
 * watcher answers it whenever it shows up, as a person would.
 *
 *   3b. gui-closed: the window closed while the word is asked; the
 *      enrollment it started is taken away too.
 *   4. (run as "test-add pending …" against a manual-approval server)
 *      gui-wait: the pending page says what happens next; a certificate
 *      file that is not the one for the waiting key is refused on that
 *      page; the one the server issued (approved and fetched by the
 *      script meanwhile) finishes the identity.
 *
 * Usage: test-add SERVER OUTBOX PIN-FILE CA-FINGERPRINT
 *        test-add pending SERVER OUTBOX PIN-FILE CA-FINGERPRINT WORD-FILE CERT-FILE WRONG-CERT
 * WORD-FILE receives the secret word used (the script needs it to fetch
 * the approved certificate as the server would have mailed it); the
 * driver then waits for CERT-FILE to appear.
 */
#include "config.h"

#include <string.h>

#include "gui-fixture.h"

#define SLOW_MS 60000 /* a key on SoftHSM and a round trip to the CA */

static const char *server, *outbox, *ca_fp;
static KprSecret *pin;
static guint pins_given;

/* --- helpers ------------------------------------------------------------ */

static const char *
label_text (GtkWidget *dialog, const char *id)
{
  GtkWidget *label = kpr_gui_need (dialog, id);

  return label && GTK_IS_LABEL (label) ? gtk_label_get_text (GTK_LABEL (label)) : "";
}

static gboolean
shown (GtkWidget *widget)
{
  return widget && gtk_widget_get_mapped (widget);
}

static gboolean
outbox_grew (gpointer data)
{
  return kpr_gui_outbox_lines (outbox) > GPOINTER_TO_UINT (data);
}

/* Answers the worker's PIN dialog whenever one is shown. */
static gboolean
answer_pin (gpointer data)
{
  if (kpr_gui_answer_pin (pin->data))
    pins_given++;
  return G_SOURCE_CONTINUE;
}

static GtkWidget *
open_assistant (void)
{
  GtkWidget *dialog = GTK_WIDGET (kpr_add_dialog_new (NULL));

  gtk_window_present (GTK_WINDOW (dialog));
  kpr_gui_wait (kpr_gui_window_drawn, dialog, 5000);
  return dialog;
}

/* Server, person, "This computer", default key: up to the key page. */
static gboolean
fill_in (GtkWidget *dialog, const char *user, const char *name)
{
  kpr_gui_set_text (kpr_gui_need (dialog, "server_row"), server);
  kpr_gui_click (kpr_gui_need (dialog, "next_button"));
  kpr_gui_set_text (kpr_gui_need (dialog, "username_row"), user);
  kpr_gui_set_text (kpr_gui_need (dialog, "name_row"), name);
  kpr_gui_click (kpr_gui_need (dialog, "next_button"));
  if (!kpr_gui_wait_page (dialog, "where", 2000))
    return FALSE;
  kpr_gui_wait ((gboolean (*) (gpointer)) kpr_gui_can_click, kpr_gui_need (dialog, "next_button"), 20000);
  kpr_gui_click (kpr_gui_need (dialog, "next_button"));
  return kpr_gui_wait_page (dialog, "key", 2000);
}

/* Types the newest word once the server has sent one after @before lines. */
static gboolean
type_word (GtkWidget *dialog, guint before, const char *override)
{
  g_autofree char *word = NULL;

  if (!kpr_gui_wait (outbox_grew, GUINT_TO_POINTER (before), 10000))
    {
      printf ("# no new secret word in the outbox\n");
      return FALSE;
    }
  word = override ? g_strdup (override) : kpr_gui_outbox_last_word (outbox);
  kpr_gui_set_text (kpr_gui_need (dialog, "secret_entry"), word);
  kpr_gui_click (kpr_gui_need (dialog, "word_button"));
  return TRUE;
}

/* @text's hex digits only (a fingerprint without ':', ' ' or lines). */
static char *
hex_only (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    if (g_ascii_isxdigit (*p))
      g_string_append_c (out, g_ascii_toupper (*p));
  return g_string_free (out, FALSE);
}

/* The keyboard focus is in widget @id (or one of its children). */
static gboolean
focus_in (GtkWidget *dialog, const char *id)
{
  GtkWidget *want = kpr_gui_need (dialog, id);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (dialog));

  return want && focus && (focus == want || gtk_widget_is_ancestor (focus, want));
}

static gboolean
error_shown (gpointer data)
{
  return shown (data) && *gtk_label_get_text (GTK_LABEL (data));
}

/* --- 1. the whole walk ---------------------------------------------------- */

static void
walk_alice (void)
{
  GtkWidget *dialog = open_assistant ();
  GtkWidget *next = kpr_gui_need (dialog, "next_button");
  GtkWidget *error, *combo, *row;
  GListModel *types;
  guint before;
  gboolean ok;

  kpr_gui_check (g_strcmp0 (kpr_gui_stack_page (dialog), "server") == 0, "the assistant opens on the server page");
  kpr_gui_check (focus_in (dialog, "server_row"), "the focus starts in the server address");
  {
    GtkWidget *add = kpr_gui_need (dialog, "next_button");
    char *why = gtk_test_accessible_check_property (GTK_ACCESSIBLE (add),
                                                   GTK_ACCESSIBLE_PROPERTY_LABEL, "Next");
    /* Labelled buttons take their name from the label; none carries an
     * explicit name with the mnemonic's underscore. */
    kpr_gui_check (!gtk_test_accessible_has_property (GTK_ACCESSIBLE (add),
                                                      GTK_ACCESSIBLE_PROPERTY_LABEL)
                     || why == NULL,
                   "Next has no accessible name with an underscore (%s)", why ? why : "ok");
    g_free (why);
  }
  kpr_gui_screenshot (dialog, "add-1-server");

  kpr_gui_set_text (kpr_gui_need (dialog, "server_row"), "ftp://ca.example.com");
  error = kpr_gui_need (dialog, "server_error");
  kpr_gui_check (shown (error) && strstr (gtk_label_get_text (GTK_LABEL (error)), "https://"),
                 "ftp:// address: a sentence asks for https:// (“%s”)",
                 label_text (dialog, "server_error"));
  kpr_gui_check (!kpr_gui_can_click (next), "ftp:// address: Next cannot be clicked");
  kpr_gui_set_text (kpr_gui_need (dialog, "server_row"), "https://ca.example.com/some/path");
  kpr_gui_check (shown (error) && strstr (gtk_label_get_text (GTK_LABEL (error)), "path"),
                 "address with a path: the sentence says so (“%s”)",
                 label_text (dialog, "server_error"));
  kpr_gui_set_text (kpr_gui_need (dialog, "server_row"), "https://");
  kpr_gui_check (shown (error) && !kpr_gui_can_click (next),
                 "address without a host: refused (“%s”)", label_text (dialog, "server_error"));
  kpr_gui_screenshot (dialog, "add-1-server-error");
  kpr_gui_click (next);
  kpr_gui_check (g_strcmp0 (kpr_gui_stack_page (dialog), "server") == 0,
                 "a bad address does not get past the server page");

  kpr_gui_set_text (kpr_gui_need (dialog, "server_row"), server);
  kpr_gui_check (!shown (error) && kpr_gui_can_click (next), "the test server's address is accepted");
  kpr_gui_click (next);
  kpr_gui_check (kpr_gui_wait_page (dialog, "account", 2000), "Next leads to the username page");
  kpr_gui_check (focus_in (dialog, "username_row"), "the focus starts in Username");

  kpr_gui_set_text (kpr_gui_need (dialog, "username_row"), "alice");
  kpr_gui_check (g_str_equal (gtk_editable_get_text (GTK_EDITABLE (kpr_gui_need (dialog, "name_row"))), "alice"),
                 "the identity's name defaults to the username");
  kpr_gui_set_text (kpr_gui_need (dialog, "name_row"), ".hidden");
  kpr_gui_check (shown (kpr_gui_need (dialog, "account_error")) && !kpr_gui_can_click (next),
                 "a name starting with a dot is refused (“%s”)",
                 label_text (dialog, "account_error"));
  kpr_gui_set_text (kpr_gui_need (dialog, "name_row"), "gui-alice");
  kpr_gui_check (kpr_gui_can_click (next), "a valid name lets Next be clicked");
  kpr_gui_screenshot (dialog, "add-2-account");
  /* Enter in Username goes on, as a person expects. */
  g_signal_emit_by_name (kpr_gui_need (dialog, "username_row"), "entry-activated");

  kpr_gui_check (kpr_gui_wait_page (dialog, "where", 2000), "Enter in Username leads to the key's place");
  kpr_gui_check (kpr_gui_wait ((gboolean (*) (gpointer)) kpr_gui_can_click, next, 20000),
                 "the tokens are listed and one is chosen");
  row = kpr_gui_find_text (dialog, "This computer");
  kpr_gui_check (row != NULL && kpr_gui_can_click (row),
                 "“This computer” is offered and can be picked");
  kpr_gui_screenshot (dialog, "add-3-where");
  kpr_gui_click (next);

  kpr_gui_check (kpr_gui_wait_page (dialog, "key", 2000), "Next leads to the key type");
  kpr_gui_check (focus_in (dialog, "key_type_row"), "the focus starts on the key type");
  combo = kpr_gui_need (dialog, "key_type_row");
  types = combo ? adw_combo_row_get_model (ADW_COMBO_ROW (combo)) : NULL;
  kpr_gui_check (types && g_list_model_get_n_items (types) >= 2,
                 "the key type list offers the token's types (%u)",
                 types ? g_list_model_get_n_items (types) : 0);
  if (types && g_list_model_get_n_items (types) > 0)
    {
      guint selected = adw_combo_row_get_selected (ADW_COMBO_ROW (combo));
      GtkStringObject *item = g_list_model_get_item (types, selected);
      kpr_gui_check (strstr (gtk_string_object_get_string (item), "P-256") != NULL,
                     "the settings' default key type is chosen (%s)",
                     gtk_string_object_get_string (item));
      g_object_unref (item);
    }
  kpr_gui_check (kpr_gui_can_click (kpr_gui_need (dialog, "backup_switch"))
                   && gtk_switch_get_active (GTK_SWITCH (kpr_gui_need (dialog, "backup_switch"))),
                 "on this computer a backup is allowed by default");
  kpr_gui_check (!gtk_widget_is_sensitive (kpr_gui_need (dialog, "protection_row")),
                 "with a backup allowed the protection is decided when the key is locked");
  kpr_gui_check (strstr (gtk_button_get_label (GTK_BUTTON (next)), "secret word") != NULL,
                 "the last step's button says “Send me the secret word”");
  kpr_gui_screenshot (dialog, "add-4-key");

  before = kpr_gui_outbox_lines (outbox);
  kpr_gui_click (next);
  kpr_gui_check (kpr_gui_wait_page (dialog, "trust", SLOW_MS), "the CA's fingerprint is asked about");
  {
    /* The fingerprint as openssl prints it, compared group by group on
     * four fixed-width lines of four groups. */
    const char *shown_fp = label_text (dialog, "trust_fingerprint");
    g_auto (GStrv) lines = g_strsplit (shown_fp, "\n", -1);
    g_autofree char *joined = NULL;
    g_autofree char *want = NULL;
    gboolean four = g_strv_length (lines) == 4;
    GtkWidget *fp = kpr_gui_need (dialog, "trust_fingerprint");
    GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (dialog));

    for (guint i = 0; lines[i]; i++)
      four = four && strlen (lines[i]) == 19 && lines[i][4] == ' ' && lines[i][9] == ' '
             && lines[i][14] == ' ';
    kpr_gui_check (four, "the fingerprint shows as 4 lines of 4 groups of 4 (“%s”)", shown_fp);
    joined = hex_only (shown_fp);
    want = hex_only (ca_fp);
    kpr_gui_check (g_str_equal (joined, want), "those groups are the CA's SHA-256 fingerprint");
    kpr_gui_check (fp && gtk_widget_has_css_class (fp, "monospace"), "in a fixed-width font");
    kpr_gui_check (kpr_gui_find_text (dialog, "group by group") != NULL,
                   "the page says how to compare it");
    kpr_gui_check (gtk_window_get_default_widget (GTK_WINDOW (dialog)) == NULL
                     && !gtk_widget_has_css_class (kpr_gui_need (dialog, "trust_button"),
                                                   "suggested-action"),
                   "no default button: Enter trusts nothing");
    kpr_gui_check (focus && !GTK_IS_BUTTON (focus) && (focus == fp || gtk_widget_is_ancestor (focus, fp)),
                   "the focus starts on the fingerprint, not on a button (%s)",
                   focus ? G_OBJECT_TYPE_NAME (focus) : "none");
  }
  kpr_gui_check (kpr_gui_outbox_lines (outbox) == before, "no secret word was requested before the CA was trusted");
  kpr_gui_screenshot (dialog, "add-5-trust");
  kpr_gui_click (kpr_gui_need (dialog, "trust_button"));

  kpr_gui_check (kpr_gui_wait_page (dialog, "word", SLOW_MS), "the secret word page follows");
  kpr_gui_check (strstr (label_text (dialog, "word_label"), "secret word") != NULL,
                 "it says where the secret word went (“%s”)", label_text (dialog, "word_label"));
  kpr_gui_screenshot (dialog, "add-5-word");
  kpr_gui_check (type_word (dialog, before, NULL), "the word from the outbox is typed and sent");
  kpr_gui_check (*gtk_editable_get_text (GTK_EDITABLE (kpr_gui_need (dialog, "secret_entry"))) == '\0',
                 "the word is gone from the entry once sent");

  ok = kpr_gui_wait_page (dialog, "done", SLOW_MS);
  kpr_gui_check (ok, "the done page follows (%s)", label_text (dialog, "key_error"));
  kpr_gui_check (strstr (label_text (dialog, "done_label"), "CN=alice") != NULL
                   && strstr (label_text (dialog, "done_label"), "Valid until") != NULL,
                 "it shows the subject and expiry (“%s”)", label_text (dialog, "done_label"));
  kpr_gui_check (kpr_gui_can_click (kpr_gui_need (dialog, "backup_button")),
                 "“Make a backup now” is offered for the exportable key");
  kpr_gui_check (pins_given >= 1, "the token's PIN was asked in the PIN dialog");
  kpr_gui_check (kpr_gui_mnemonic_names (dialog) == 0,
                 "no button of the assistant has the mnemonic's underscore in its accessible name");
  kpr_gui_screenshot (dialog, "add-6-done");
  kpr_gui_click (kpr_gui_need (dialog, "close_button"));
}

/* --- 2. a wrong secret word ----------------------------------------------- */

static void
wrong_word_bob (void)
{
  GtkWidget *dialog = open_assistant ();
  guint before;
  gboolean ok;

  if (!kpr_gui_check (fill_in (dialog, "bob", "gui-bob"), "bob: the assistant is filled in"))
    return;
  /* bob wants no backup: the key is never exportable. */
  kpr_gui_click (kpr_gui_need (dialog, "backup_switch"));
  kpr_gui_check (!gtk_switch_get_active (GTK_SWITCH (kpr_gui_need (dialog, "backup_switch")))
                   && gtk_widget_is_sensitive (kpr_gui_need (dialog, "protection_row")),
                 "bob: no backup; the protection can be chosen");
  before = kpr_gui_outbox_lines (outbox);
  kpr_gui_click (kpr_gui_need (dialog, "next_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "trust", SLOW_MS), "bob: the fingerprint question"))
    return;
  kpr_gui_click (kpr_gui_need (dialog, "trust_button"));
  kpr_gui_check (kpr_gui_wait_page (dialog, "word", SLOW_MS), "bob: the secret word page");
  type_word (dialog, before, "WRONGWORD1");
  ok = kpr_gui_wait (error_shown, kpr_gui_need (dialog, "word_error"), SLOW_MS);
  kpr_gui_check (ok && g_strcmp0 (kpr_gui_stack_page (dialog), "word") == 0,
                 "a wrong word: the server's refusal is shown on the word page (“%s”)",
                 label_text (dialog, "word_error"));
  kpr_gui_check (!g_str_has_prefix (label_text (dialog, "word_error"), "KPR_")
                   && strlen (label_text (dialog, "word_error")) > 20,
                 "the refusal is a sentence, not a code");
  kpr_gui_check (kpr_gui_can_click (kpr_gui_need (dialog, "resend_button")), "a new word can be asked for");
  kpr_gui_screenshot (dialog, "add-5-word-wrong");

  before = kpr_gui_outbox_lines (outbox);
  kpr_gui_click (kpr_gui_need (dialog, "resend_button"));
  ok = kpr_gui_wait ((gboolean (*) (gpointer)) kpr_gui_can_click, kpr_gui_need (dialog, "secret_entry"), SLOW_MS);
  kpr_gui_check (ok && g_strcmp0 (kpr_gui_stack_page (dialog), "word") == 0, "bob: asked for the new word");
  kpr_gui_check (type_word (dialog, before, NULL), "bob: the new word is sent");
  ok = kpr_gui_wait_page (dialog, "done", SLOW_MS);
  kpr_gui_check (ok, "bob: done after the new word (%s)", label_text (dialog, "word_error"));
  kpr_gui_check (!shown (kpr_gui_need (dialog, "backup_button")),
                 "bob: no backup to offer for a key that cannot leave");
  kpr_gui_click (kpr_gui_need (dialog, "close_button"));
}

/* --- 3. cancel while working ---------------------------------------------- */

static void
cancel_carol (void)
{
  GtkWidget *dialog = open_assistant ();
  gboolean ok;

  if (!kpr_gui_check (fill_in (dialog, "carol", "gui-cancel"), "cancel: the assistant is filled in"))
    return;
  kpr_gui_click (kpr_gui_need (dialog, "next_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "trust", SLOW_MS), "cancel: the fingerprint question"))
    return;
  kpr_gui_click (kpr_gui_need (dialog, "trust_button"));
  /* The progress page is up while the key is made: Cancel there, before
   * the main loop runs again (the key is made in a blink on SoftHSM). */
  kpr_gui_check (g_strcmp0 (kpr_gui_stack_page (dialog), "progress") == 0
                   && kpr_gui_can_click (kpr_gui_need (dialog, "cancel_button")),
                 "cancel: the progress page with Cancel is shown while working");
  kpr_gui_click (kpr_gui_need (dialog, "cancel_button"));
  kpr_gui_screenshot (dialog, "add-5-progress-cancelled");
  kpr_gui_check (kpr_gui_wait_page (dialog, "key", SLOW_MS), "cancel: back on the key page");
  ok = kpr_gui_wait (error_shown, kpr_gui_need (dialog, "key_error"), SLOW_MS);
  kpr_gui_check (ok && strstr (label_text (dialog, "key_error"), "nothing was added"),
                 "cancel: it says nothing was added (“%s”)", label_text (dialog, "key_error"));
  kpr_gui_screenshot (dialog, "add-5-cancelled");
  gtk_window_close (GTK_WINDOW (dialog));
  kpr_gui_settle (300);
}

/* Closing the window while the word is asked is cancelling too. */
static gboolean
gone_from_store (gpointer name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprStore) store = kpr_store_open (&error);

  /* Busy while the assistant's job runs: ask again later. */
  return store && !kpr_store_exists (store, name);
}

static void
close_on_word (void)
{
  GtkWidget *dialog = open_assistant ();

  if (!kpr_gui_check (fill_in (dialog, "carol", "gui-closed"), "close: the assistant is filled in"))
    return;
  kpr_gui_click (kpr_gui_need (dialog, "next_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "trust", SLOW_MS), "close: the fingerprint question"))
    return;
  kpr_gui_click (kpr_gui_need (dialog, "trust_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "word", SLOW_MS), "close: the secret word page"))
    return;
  gtk_window_close (GTK_WINDOW (dialog));
  kpr_gui_settle (500);
  kpr_gui_check (kpr_gui_wait (gone_from_store, "gui-closed", SLOW_MS),
                 "closed while the word was asked: the started enrollment is taken away");
}

/* --- 4. pending ------------------------------------------------------------ */

static gboolean
file_exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
pending_then_install (const char *word_file, const char *cert_file, const char *wrong_cert)
{
  GtkWidget *dialog = open_assistant ();
  g_autoptr (GFile) wrong = g_file_new_for_path (wrong_cert);
  g_autoptr (GFile) cert = g_file_new_for_path (cert_file);
  g_autofree char *word = NULL;
  const char *text;
  guint before;
  gboolean ok;

  if (!kpr_gui_check (fill_in (dialog, "alice", "gui-wait"), "pending: the assistant is filled in"))
    return;
  before = kpr_gui_outbox_lines (outbox);
  kpr_gui_click (kpr_gui_need (dialog, "next_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "trust", SLOW_MS), "pending: the fingerprint question"))
    return;
  kpr_gui_click (kpr_gui_need (dialog, "trust_button"));
  if (!kpr_gui_check (kpr_gui_wait_page (dialog, "word", SLOW_MS), "pending: the secret word page"))
    return;
  kpr_gui_wait (outbox_grew, GUINT_TO_POINTER (before), 10000);
  word = kpr_gui_outbox_last_word (outbox);
  kpr_gui_set_text (kpr_gui_need (dialog, "secret_entry"), word);
  kpr_gui_click (kpr_gui_need (dialog, "word_button"));
  ok = kpr_gui_wait_page (dialog, "pending", SLOW_MS);
  kpr_gui_check (ok, "a manual-approval server: the pending page (%s)",
                 label_text (dialog, "key_error"));
  if (!ok)
    return;
  text = label_text (dialog, "pending_label");
  kpr_gui_check (strstr (text, "operator") && strstr (text, "certkeeper-agent") && strstr (text,
                                                                                           ".cer"),
                 "it says what happens next: the operator decides, certkeeper-agent picks it up, "
                 "or import the .cer");
  kpr_gui_check (kpr_gui_can_click (kpr_gui_need (dialog, "import_button")),
                 "“Import certificate file…” can be clicked");
  kpr_gui_screenshot (dialog, "add-6-pending");

  /* The CA's own certificate is not the one for the waiting key. */
  kpr_add_dialog_install_file (KPR_ADD_DIALOG (dialog), wrong);
  ok = kpr_gui_wait (error_shown, kpr_gui_need (dialog, "pending_error"), SLOW_MS);
  kpr_gui_check (ok && g_strcmp0 (kpr_gui_stack_page (dialog), "pending") == 0,
                 "a certificate for another key: refused on the pending page (“%s”)",
                 label_text (dialog, "pending_error"));
  kpr_gui_screenshot (dialog, "add-6-pending-wrong-file");

  /* The script approves the request and fetches the certificate now. */
  g_file_set_contents (word_file, word, -1, NULL);
  ok = kpr_gui_wait (file_exists, (gpointer) cert_file, SLOW_MS);
  if (!kpr_gui_check (ok, "the script fetched the approved certificate"))
    return;
  kpr_add_dialog_install_file (KPR_ADD_DIALOG (dialog), cert);
  ok = kpr_gui_wait_page (dialog, "done", SLOW_MS);
  kpr_gui_check (ok && strstr (label_text (dialog, "done_label"), "CN=alice"),
                 "the approved certificate is installed: the done page (%s)",
                 label_text (dialog, "pending_error"));
  kpr_gui_screenshot (dialog, "add-6-installed");
  gtk_window_close (GTK_WINDOW (dialog));
  kpr_gui_settle (300);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gboolean pending;
  guint watcher;

  kpr_gui_test_init (&argc, &argv);
  pending = argc > 1 && g_str_equal (argv[1], "pending");
  if (pending)
    {
      argc--;
      argv++;
    }
  if (argc != (pending ? 8 : 5))
    {
      g_printerr ("usage: test-add SERVER OUTBOX PIN-FILE CA-FINGERPRINT\n"
                  "       test-add pending SERVER OUTBOX PIN-FILE CA-FINGERPRINT WORD-FILE "
                  "CERT-FILE WRONG-CERT\n");
      return 2;
    }
  server = argv[1];
  outbox = argv[2];
  ca_fp = argv[4];
  pin = kpr_secret_read_file (argv[3], &error);
  if (!kpr_gui_check (pin != NULL, "the PIN file is read (%s)", error ? error->message : "ok"))
    return kpr_gui_test_finish ();
  watcher = g_timeout_add (100, answer_pin, NULL);

  if (pending)
    pending_then_install (argv[5], argv[6], argv[7]);
  else
    {
      walk_alice ();
      wrong_word_bob ();
      cancel_carol ();
      close_on_word ();
    }

  g_source_remove (watcher);
  kpr_secret_free (pin);
  return kpr_gui_test_finish ();
}
