/* test-window.c — certkeeper-gtk's main window, driven by test-window.sh.
 *
 *   test-window empty
 *     no identity yet: the "No certificates yet" page with its button.
 *   test-window full EXPECT PIN-FILE OUTBOX RESULT
 *     EXPECT has one line per identity,
 *       name|badge|subtitle part,part…|backup sensitive|lock sensitive|serial
 *     (what `certkeeper show --json` said); checks the rows, the badges,
 *     the detail pages, then renews "fresh" with Renew now, typing the PIN
 *     from PIN-FILE into the PIN dialog, and writes the serial the detail
 *     page shows afterwards to RESULT (the secret word, if the server asks
 *     for one, is read from the server's OUTBOX).
 */
#include "config.h"

#include <string.h>

#include "gui-fixture.h"
#include "test-window.h"

static KprWindow *window;

static gboolean
window_shown (gpointer data)
{
  return gtk_widget_get_mapped (GTK_WIDGET (window)) && gtk_widget_get_width (GTK_WIDGET (window)) > 0;
}

static gboolean
list_page_is (gpointer data)
{
  GtkWidget *stack = kpr_gui_find (GTK_WIDGET (window), "list-stack");

  return stack && g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (stack)), data) == 0;
}

static const char *
subtitle_of (const char *id)
{
  GtkWidget *row = kpr_gui_find (GTK_WIDGET (window), id);

  return row ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;
}

static guint
count_rows (void)
{
  GtkWidget *list = kpr_gui_find (GTK_WIDGET (window), "identity-list");
  guint n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (list); c; c = gtk_widget_get_next_sibling (c))
    n++;
  return n;
}

static void
open_window (KprApplication *app)
{
  window = kpr_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  kpr_gui_check (kpr_gui_wait (window_shown, NULL, 10000), "the window is shown");
}

static int
test_empty (KprApplication *app)
{
  GtkWidget *button;

  open_window (app);
  kpr_gui_check (kpr_gui_wait (list_page_is, "empty", 20000),
                 "without identities the window shows the empty page");
  kpr_gui_check (kpr_gui_find_text (GTK_WIDGET (window), "No certificates yet") != NULL,
                 "it says “No certificates yet”");
  button = kpr_gui_find (GTK_WIDGET (window), "empty-add-button");
  kpr_gui_check (kpr_gui_can_click (button), "the “Add an identity” button can be clicked");
  kpr_gui_check (g_action_group_has_action (G_ACTION_GROUP (app), "add"),
                 "its action app.add exists");
  kpr_gui_check (kpr_gui_screenshot (GTK_WIDGET (window), "window-empty"), "screenshot window-empty");
  gtk_window_destroy (GTK_WINDOW (window));
  return kpr_gui_test_finish ();
}

typedef struct {
  char *name;
  char *badge;
  char **parts;
  gboolean backup;
  gboolean lock;
  char *serial;
  char **facts; /* what the facts group must say: username, server, key type, valid until */
  gboolean primary_backup; /* the header's button is Back Up (a backup is missing) */
  gboolean software;       /* the key is on this computer: no "Revoke (lost token)" */
} Expect;

static void
expect_free (Expect *e)
{
  g_free (e->name);
  g_free (e->badge);
  g_strfreev (e->parts);
  g_free (e->serial);
  g_strfreev (e->facts);
  g_free (e);
}

static GPtrArray *
read_expect (const char *path)
{
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) expect_free);

  if (!g_file_get_contents (path, &data, NULL, NULL))
    g_error ("cannot read %s", path);
  lines = g_strsplit (data, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, "|", -1);
      Expect *e;

      if (g_strv_length (f) != 9)
        continue;
      e = g_new0 (Expect, 1);
      e->name = g_strdup (f[0]);
      e->badge = g_strdup (f[1]);
      e->parts = g_strsplit (f[2], ",", -1);
      e->backup = g_str_equal (f[3], "1");
      e->lock = g_str_equal (f[4], "1");
      e->serial = g_strdup (f[5]);
      e->facts = g_strsplit (f[6], ";", -1);
      e->primary_backup = g_str_equal (f[7], "1");
      e->software = g_str_equal (f[8], "1");
      g_ptr_array_add (all, e);
    }
  return all;
}

static gboolean
detail_is (gpointer data)
{
  GtkWidget *title = kpr_gui_find (GTK_WIDGET (window), "detail-title");
  GtkWidget *page = kpr_gui_find (GTK_WIDGET (window), "detail-page");

  return gtk_widget_get_mapped (page)
         && g_strcmp0 (adw_window_title_get_title (ADW_WINDOW_TITLE (title)), data) == 0;
}

/* The title of the history's @i-th row (newest first), or NULL. */
static const char *
history_title (guint i)
{
  GtkWidget *history = kpr_gui_find (GTK_WIDGET (window), "history-list");
  GtkWidget *row = history ? gtk_widget_get_first_child (history) : NULL;

  for (; row && i > 0; i--)
    row = gtk_widget_get_next_sibling (row);
  return row && ADW_IS_ACTION_ROW (row) ? adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row))
                                        : NULL;
}

static gboolean
history_starts (gpointer data)
{
  return g_str_has_prefix (history_title (0) ? history_title (0) : "", data);
}

static gboolean
history_has_renewal (gpointer data)
{
  for (guint i = 0; i < 2 && history_title (i); i++)
    if (g_str_has_prefix (history_title (i), "Renewed — new certificate valid until "))
      return TRUE;
  return FALSE;
}

static gboolean
browsers_say (gpointer data)
{
  const char *text = subtitle_of ("detail-browsers");

  return text && strstr (text, data) != NULL;
}

static gboolean
browsers_checked (gpointer data)
{
  const char *text = subtitle_of ("detail-browsers");

  return text && !g_str_equal (text, "Checking…");
}

/* "fresh" (test-window.sh unregistered every browser module first): the
 * Browsers row says so and offers the fix; one click registers it, and
 * the row then names Chromium (the script checks with `certkeeper
 * browser status --json`). */
static void
check_browsers (const char *name)
{
  GtkWidget *fix = kpr_gui_find (GTK_WIDGET (window), "browsers-fix-button");

  gboolean ok;

  /* Waited for first: the row's text changes while waiting. */
  ok = kpr_gui_wait (browsers_checked, NULL, 30000);
  kpr_gui_check (ok, "%s: the Browsers row is filled in (“%s”)", name,
                 subtitle_of ("detail-browsers"));
  kpr_gui_check (g_str_equal (subtitle_of ("detail-browsers"), "Not set up in a browser")
                   && kpr_gui_can_click (fix),
                 "%s: not set up in a browser, and “Set up” is offered (“%s”)", name,
                 subtitle_of ("detail-browsers"));
  kpr_gui_click (fix);
  ok = kpr_gui_wait (browsers_say, "Chromium", 30000);
  kpr_gui_check (ok, "%s: after “Set up” the row names Chromium (“%s”)", name,
                 subtitle_of ("detail-browsers"));
  kpr_gui_check (!gtk_widget_get_visible (fix), "%s: nothing is left to set up", name);
}

static void
check_identity (Expect *e)
{
  g_autofree char *row_id = g_strdup_printf ("row-%s", e->name);
  GtkWidget *row = kpr_gui_find (GTK_WIDGET (window), row_id);
  GtkWidget *badge = row ? kpr_gui_find (row, "badge") : NULL;
  const char *subtitle = row ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;
  GtkWidget *backup, *lock, *primary;

  if (!kpr_gui_check (row != NULL, "%s: a row", e->name))
    return;
  kpr_gui_check (g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), e->name) == 0,
                 "%s: the row's title is the name", e->name);
  kpr_gui_check (badge && g_strcmp0 (gtk_label_get_text (GTK_LABEL (badge)), e->badge) == 0,
                 "%s: badge “%s” (shown: “%s”)", e->name, e->badge,
                 badge ? gtk_label_get_text (GTK_LABEL (badge)) : "none");
  for (char **p = e->parts; *p; p++)
    if (**p)
      kpr_gui_check (subtitle && strstr (subtitle, *p), "%s: the subtitle says “%s” (“%s”)",
                     e->name, *p, subtitle ? subtitle : "");

  /* The detail page, opened the way a person does: clicking the row. */
  kpr_gui_click (row);
  if (!kpr_gui_check (kpr_gui_wait (detail_is, e->name, 5000), "%s: clicking the row opens its detail page",
                      e->name))
    return;
  backup = kpr_gui_find (GTK_WIDGET (window), "backup-button");
  lock = kpr_gui_find (GTK_WIDGET (window), "lock-button");
  primary = kpr_gui_find (GTK_WIDGET (window), "primary-button");
  kpr_gui_check ((kpr_gui_can_click (primary)
                  && g_str_has_prefix (gtk_button_get_label (GTK_BUTTON (primary)), "Back Up"))
                   == e->primary_backup,
                 "%s: the header's action is %s", e->name,
                 e->primary_backup ? "Back Up (no backup yet)" : "not Back Up");
  kpr_gui_check ((kpr_gui_can_click (backup) || e->primary_backup) == e->backup,
                 "%s: Back up is %s", e->name, e->backup ? "offered" : "not shown");
  kpr_gui_check (!(kpr_gui_can_click (backup) && e->primary_backup),
                 "%s: the header's action is not repeated on the page", e->name);
  kpr_gui_check (kpr_gui_can_click (lock) == e->lock, "%s: Lock is %s", e->name,
                 e->lock ? "offered" : "not shown");
  if (!e->backup)
    {
      const char *why = adw_preferences_group_get_description (
        ADW_PREFERENCES_GROUP (kpr_gui_find (GTK_WIDGET (window), "actions-group")));
      kpr_gui_check (why && strstr (why, "cannot be copied"),
                     "%s: a sentence says why there is no Back up or Lock (“%s”)", e->name,
                     why ? why : "");
    }
  kpr_gui_check (kpr_gui_can_click (kpr_gui_find (GTK_WIDGET (window), "revoke-button"))
                   == (!e->software && *e->serial),
                 "%s: “Revoke (lost token)” %s", e->name,
                 e->software ? "is not offered for a key on this computer" : "is offered");
  kpr_gui_check (kpr_gui_can_click (kpr_gui_find (GTK_WIDGET (window), "delete-button")),
                 "%s: Delete is offered, in the last group", e->name);
  {
    /* The destructive actions come last on the page. */
    GtkWidget *remove = kpr_gui_find (GTK_WIDGET (window), "remove-group");
    kpr_gui_check (remove && gtk_widget_get_next_sibling (remove) == NULL,
                   "%s: the destructive group is the page's last", e->name);
  }
  {
    const char *ids[] = { "detail-account", "detail-account", "detail-key-type", "detail-until" };
    for (guint i = 0; i < G_N_ELEMENTS (ids) && e->facts[i]; i++)
      if (*e->facts[i])
        kpr_gui_check (strstr (subtitle_of (ids[i]), e->facts[i]) != NULL,
                       "%s: %s says “%s” as `certkeeper show --json` does (“%s”)", e->name,
                       ids[i], e->facts[i], subtitle_of (ids[i]));
    kpr_gui_check (strstr (subtitle_of ("detail-where"), e->software ? "This computer" : "token") != NULL
                     && strstr (subtitle_of ("detail-where"), " — ") != NULL,
                   "%s: where the key is and how it is protected (“%s”)", e->name,
                   subtitle_of ("detail-where"));
  }
  if (*e->serial)
    {
      const char *uri = subtitle_of ("detail-uri");

      kpr_gui_check (g_ascii_strcasecmp (subtitle_of ("detail-serial"), e->serial) == 0,
                     "%s: the serial is %s as `certkeeper show --json` says (shown: %s)",
                     e->name, e->serial, subtitle_of ("detail-serial"));
      kpr_gui_check (strlen (subtitle_of ("detail-sha256")) == 95,
                     "%s: a SHA-256 fingerprint", e->name);
      kpr_gui_check (g_str_has_prefix (uri, "pkcs11:") && strstr (uri, ";id=%")
                       && strstr (uri, "type=private") && !strstr (uri, "library-"),
                     "%s: the key's PKCS#11 URI (%s)", e->name, uri);
    }
  if (g_str_equal (e->badge, "Failed"))
    {
      kpr_gui_check (strstr (subtitle_of ("detail-state"), "account disabled") != NULL,
                     "%s: the detail page says why it failed (“%s”)", e->name,
                     subtitle_of ("detail-state"));
      kpr_gui_check (!kpr_gui_can_click (kpr_gui_find (GTK_WIDGET (window), "renew-button")),
                     "%s: Renew now is insensitive (a failed identity is added again)", e->name);
    }
  else
    {
      /* The history: sentences with local dates, newest first, from the
       * events the agent recorded — no raw audit line. */
      g_autofree char *installed = g_strdup_printf ("Certificate installed — valid until %s",
                                                    e->facts[3] ? e->facts[3] : "?");
      gboolean raw = FALSE, found = FALSE;
      const char *title;

      for (guint i = 0; (title = history_title (i)); i++)
        {
          raw |= g_ascii_isdigit (title[0]) || strstr (title, "->") || strstr (title, "state ");
          found |= g_str_equal (title, installed);
        }
      kpr_gui_check (!raw, "%s: the history has no raw audit line (first: “%s”)", e->name,
                     history_title (0) ? history_title (0) : "none");
      if (*e->serial)
        kpr_gui_check (found, "%s: the history says “%s”", e->name, installed);
      if (g_str_equal (e->name, "locked"))
        kpr_gui_check (history_starts ("Key locked"),
                       "locked: the newest event is the lock (“%s”)", history_title (0));
    }
  kpr_gui_check (kpr_gui_mnemonic_names (GTK_WIDGET (window)) == 0,
                 "%s: no button has the mnemonic's underscore in its accessible name", e->name);
  if (g_str_equal (e->name, "fresh"))
    check_browsers (e->name);
  if (g_str_equal (e->name, "fresh") || g_str_equal (e->name, "locked"))
    {
      g_autofree char *shot = g_strdup_printf ("detail-%s", e->name);
      kpr_gui_check (kpr_gui_screenshot (GTK_WIDGET (window), shot), "screenshot %s", shot);
    }
  if (g_str_equal (e->name, "fresh"))
    {
      /* The history, scrolled to as a person does (docs/gui.md). */
      GtkWidget *scroll = kpr_gui_find (GTK_WIDGET (window), "detail-scroll");
      GtkWidget *group = kpr_gui_find (GTK_WIDGET (window), "history-group");
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroll));
      graphene_point_t at;

      if (gtk_widget_compute_point (group, gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scroll)),
                                    &GRAPHENE_POINT_INIT (0, 0), &at))
        gtk_adjustment_set_value (adj, at.y - 12);
      kpr_gui_check (kpr_gui_screenshot (GTK_WIDGET (window), "detail-history"),
                     "screenshot detail-history");
      gtk_adjustment_set_value (adj, 0);
    }
  kpr_gui_click (kpr_gui_find (GTK_WIDGET (window), "back-button"));
  kpr_gui_check (kpr_gui_wait (list_page_is, "list", 2000) && !detail_is (e->name),
                 "%s: Back returns to the list", e->name);
}

static void
print_labels (GtkWidget *root)
{
  if (GTK_IS_LABEL (root))
    printf ("# label: %s\n", gtk_label_get_text (GTK_LABEL (root)));
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    print_labels (c);
}

static gboolean
secret_dialog_or_done (gpointer data)
{
  return kpr_gui_find (NULL, "kpr-secret-dialog") != NULL
         || g_strcmp0 (subtitle_of ("detail-serial"), data) != 0;
}

static gboolean
serial_changed (gpointer data)
{
  const char *now = subtitle_of ("detail-serial");

  return now && g_strcmp0 (now, data) != 0 && g_strcmp0 (now, "—") != 0;
}

/* Types @text into @dialog's entry and clicks Continue; checks that the
 * entry is emptied once the answer is handed on. */
static void
answer (GtkWidget *dialog, const char *text, const char *what, gboolean first)
{
  GtkWidget *entry = kpr_gui_find (dialog, "secret-entry");
  GtkWidget *go = kpr_gui_find_text (dialog, "Continue");

  if (!kpr_gui_check (GTK_IS_PASSWORD_ENTRY (entry) && go != NULL,
                      "the %s goes into a password entry (no echo)", what))
    return;
  kpr_gui_check (!kpr_gui_can_click (go), "Continue is insensitive while the %s entry is empty",
                 what);
  if (first)
    kpr_gui_check (kpr_gui_screenshot (dialog, "pin-dialog"), "screenshot pin-dialog");
  g_object_ref (entry);
  kpr_gui_type (entry, text);
  kpr_gui_check (kpr_gui_can_click (go), "Continue is clickable once the %s is typed", what);
  kpr_gui_click (go);
  kpr_gui_check (*gtk_editable_get_text (GTK_EDITABLE (entry)) == '\0',
                 "the %s entry is empty once it is handed on", what);
  g_object_unref (entry);
}

static void
answer_pin (GtkWidget *dialog, const char *pin_file, gboolean first)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) pin = kpr_secret_read_file (pin_file, &error);

  if (kpr_gui_check (pin != NULL, "the PIN file is readable"))
    answer (dialog, pin->data, "PIN", first);
}

/* The word certkeeper-ca "sent by SMS": the last field of its outbox's
 * last line (as lib.sh's last_word). */
static void
answer_word (GtkWidget *dialog, const char *outbox)
{
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  const char *word = NULL;

  if (g_file_get_contents (outbox, &data, NULL, NULL))
    {
      g_strchomp (data);
      lines = g_strsplit (data, "\n", -1);
      if (lines[0])
        word = strrchr (lines[g_strv_length (lines) - 1], ' ');
    }
  if (kpr_gui_check (word != NULL, "the server sent a secret word"))
    answer (dialog, word + 1, "secret word", FALSE);
}

static gboolean
not_busy (gpointer data)
{
  return kpr_gui_can_click (kpr_gui_find (GTK_WIDGET (window), "renew-button"));
}

/* Cancel in the PIN dialog: the job ends with "Cancelled." and nothing
 * changes. */
static void
renew_cancelled (const char *name)
{
  g_autofree char *old = NULL;
  GtkWidget *dialog;

  kpr_window_show_identity (window, name);
  kpr_gui_wait (detail_is, (gpointer) name, 5000);
  old = g_strdup (subtitle_of ("detail-serial"));
  kpr_gui_click (kpr_gui_find (GTK_WIDGET (window), "renew-button"));
  kpr_gui_check (!not_busy (NULL), "%s: Renew now is insensitive while the renewal runs", name);
  kpr_gui_check (kpr_gui_wait (secret_dialog_or_done, old, 60000)
                   && (dialog = kpr_gui_find (NULL, "kpr-secret-dialog")) != NULL,
                 "%s: Renew now asks for the PIN", name);
  if (!dialog)
    return;
  /* The renewal holds the store's lock while its PIN dialog waits: a
   * reload meanwhile (the store changed) waits for the window's own work
   * and says nothing of "another certkeeper" — not even after the 10 s a
   * job waits for another program (kpr-worker.c). */
  kpr_window_refresh (window);
  kpr_gui_settle (12000);
  kpr_gui_check (kpr_gui_find_text (NULL, "Another certkeeper") == NULL
                   && kpr_gui_find (NULL, "kpr-message-dialog") == NULL,
                 "%s: no “Another certkeeper is working” for the window's own renewal", name);
  kpr_gui_click (kpr_gui_find_text (dialog, "Cancel"));
  kpr_gui_check (kpr_gui_wait (not_busy, NULL, 30000), "%s: Cancel ends the job", name);
  kpr_gui_check (kpr_gui_find_text (GTK_WIDGET (window), "Cancelled") != NULL,
                 "%s: a toast says it was cancelled", name);
  kpr_gui_settle (1000);
  kpr_gui_check (g_strcmp0 (subtitle_of ("detail-serial"), old) == 0,
                 "%s: the certificate is unchanged", name);
}

static void
renew_fresh (const char *pin_file, const char *outbox, const char *result)
{
  g_autofree char *old = NULL;
  GtkWidget *renew, *dialog;
  gboolean pin_asked = FALSE;

  kpr_window_show_identity (window, "fresh");
  kpr_gui_wait (detail_is, "fresh", 5000);
  old = g_strdup (subtitle_of ("detail-serial"));
  renew = kpr_gui_find (GTK_WIDGET (window), "renew-button");
  kpr_gui_check (kpr_gui_can_click (renew), "fresh: Renew now can be clicked");
  kpr_gui_click (renew);
  /* The agent asks for the PIN (the new key is made after a login) and,
   * when the server wants one, for a secret word: each in the secret
   * dialog, answered as a person would. */
  for (guint asked = 0; asked < 4; asked++)
    {
      if (!kpr_gui_wait (secret_dialog_or_done, old, 60000))
        break;
      dialog = kpr_gui_find (NULL, "kpr-secret-dialog");
      if (!dialog)
        break;
      if (kpr_gui_find_text (dialog, "PIN"))
        {
          answer_pin (dialog, pin_file, !pin_asked);
          pin_asked = TRUE;
        }
      else if (kpr_gui_find_text (dialog, "secret word"))
        answer_word (dialog, outbox);
      else
        {
          print_labels (dialog);
          kpr_gui_check (FALSE, "an unexpected question during Renew now");
          kpr_gui_click (kpr_gui_find_text (dialog, "Cancel"));
        }
      kpr_gui_settle (200);
    }
  kpr_gui_check (pin_asked, "Renew now asked for the software token's PIN");
  kpr_gui_check (kpr_gui_wait (serial_changed, old, 120000),
                 "after Renew now the detail page shows a new serial (%s → %s)", old,
                 subtitle_of ("detail-serial"));
  if (!kpr_gui_check (kpr_gui_find_text (GTK_WIDGET (window), "is renewed") != NULL,
                      "a toast says the identity is renewed"))
    {
      GtkWidget *toasts = kpr_gui_find (GTK_WIDGET (window), "toasts");
      for (GtkWidget *c = gtk_widget_get_first_child (toasts); c; c = gtk_widget_get_next_sibling (c))
        if (!ADW_IS_LEAFLET (c))
          print_labels (c);
    }
  kpr_gui_check (kpr_gui_find (NULL, "kpr-secret-dialog") == NULL, "no secret dialog is left open");
  {
    /* The renewal, then what the browser step after it did. */
    gboolean ok = kpr_gui_wait (history_has_renewal, NULL, 10000);
    kpr_gui_check (ok, "the history's newest events include the renewal, as a sentence (“%s”)",
                   history_title (0) ? history_title (0) : "none");
  }
  if (serial_changed (old))
    g_file_set_contents (result, subtitle_of ("detail-serial"), -1, NULL);
  kpr_gui_screenshot (GTK_WIDGET (window), "detail-fresh-renewed");
}

/* app.preferences: the Preferences window's rows change the settings,
 * and a setting changed elsewhere shows in its row. */
static void
check_preferences (KprApplication *app, GSettings *settings)
{
  GtkWidget *prefs = test_window_open_preferences (app), *lead, *key, *protection;

  if (!kpr_gui_check (prefs != NULL, "app.preferences opens the Preferences window"))
    return;
  lead = kpr_gui_find (prefs, "lead-days");
  key = kpr_gui_find (prefs, "default-key-type");
  protection = kpr_gui_find (prefs, "default-protection");
  kpr_gui_check (lead && key && protection, "it has the reminder lead time, key type and protection");
  if (!lead || !key || !protection)
    return;
  kpr_gui_screenshot (prefs, "preferences");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (lead), 7);
  kpr_gui_check (g_settings_get_uint (settings, "reminder-lead-days") == 7,
                 "the spin button sets reminder-lead-days (%u)",
                 g_settings_get_uint (settings, "reminder-lead-days"));
  adw_combo_row_set_selected (ADW_COMBO_ROW (key), 1);
  {
    g_autofree char *type = g_settings_get_string (settings, "default-key-type");
    kpr_gui_check (g_str_equal (type, "ec-p384"), "the key type row sets default-key-type (%s)", type);
  }
  g_settings_set_string (settings, "default-protection", "strong");
  kpr_gui_check (adw_combo_row_get_selected (ADW_COMBO_ROW (protection)) == 1,
                 "a setting changed elsewhere shows in its row");
  g_settings_reset (settings, "reminder-lead-days");
  g_settings_reset (settings, "default-key-type");
  g_settings_reset (settings, "default-protection");
  gtk_window_destroy (GTK_WINDOW (prefs));
  test_window_browsers_switch (app);
}

static int
test_full (KprApplication *app, const char *expect_path, const char *pin_file,
           const char *outbox, const char *result)
{
  g_autoptr (GPtrArray) expect = read_expect (expect_path);

  open_window (app);
  kpr_gui_check (kpr_gui_wait (list_page_is, "list", 30000), "the window shows the list");
  kpr_gui_check (count_rows () == expect->len, "one row per identity (%u rows, %u identities)",
                 count_rows (), expect->len);
  kpr_gui_check (kpr_gui_screenshot (GTK_WIDGET (window), "window-list"), "screenshot window-list");
  {
    /* Icon-only buttons carry a name a screen reader can say.  The
     * detail page is built when first opened: one is opened for it. */
    kpr_window_show_identity (window, ((Expect *) expect->pdata[0])->name);
    static const char *const named[][2] = { { "add-button", "Add an identity" },
                                            { "back-button", "Back to the list" },
                                            { "copy-uri-button", "Copy the PKCS#11 URI" } };
    for (guint i = 0; i < G_N_ELEMENTS (named); i++)
      {
        GtkWidget *w = kpr_gui_find (GTK_WIDGET (window), named[i][0]);
        char *why = w ? gtk_test_accessible_check_property (GTK_ACCESSIBLE (w),
                                                            GTK_ACCESSIBLE_PROPERTY_LABEL,
                                                            named[i][1])
                      : g_strdup ("no widget");
        kpr_gui_check (why == NULL, "the icon button %s is named “%s” (%s)", named[i][0],
                       named[i][1], why ? why : "ok");
        g_free (why);
      }
    kpr_window_show_identity (window, NULL);
  }
  for (guint i = 0; i < expect->len && !g_getenv ("KPR_GUI_ONLY_RENEW"); i++)
    check_identity (expect->pdata[i]);

  /* The reminder lead time (settings): "locked" expires in about two
   * weeks, so 90 days of lead make it "Expires soon"; back to 1 day, it
   * is "Active" again. */
  if (!g_getenv ("KPR_GUI_ONLY_RENEW"))
    {
      GSettings *settings = kpr_application_get_settings (app);
      GtkWidget *row, *badge;

      g_settings_set_uint (settings, "reminder-lead-days", 90);
      kpr_gui_settle (200);
      row = kpr_gui_find (GTK_WIDGET (window), "row-locked");
      badge = row ? kpr_gui_find (row, "badge") : NULL;
      kpr_gui_check (badge && g_str_equal (gtk_label_get_text (GTK_LABEL (badge)), "Expires soon"),
                     "reminder-lead-days=90: locked shows “Expires soon” (shown: “%s”)",
                     badge ? gtk_label_get_text (GTK_LABEL (badge)) : "none");
      g_settings_set_uint (settings, "reminder-lead-days", 1);
      kpr_gui_settle (200);
      row = kpr_gui_find (GTK_WIDGET (window), "row-locked");
      badge = row ? kpr_gui_find (row, "badge") : NULL;
      kpr_gui_check (badge && g_str_equal (gtk_label_get_text (GTK_LABEL (badge)), "Active"),
                     "reminder-lead-days=1: locked is “Active” again (shown: “%s”)",
                     badge ? gtk_label_get_text (GTK_LABEL (badge)) : "none");
      g_settings_reset (settings, "reminder-lead-days");
      check_preferences (app, settings);
    }

  /* What certkeeper-agent's tray and notifications do: ActivateAction
   * over the session bus (the private one of gui_run). */
  kpr_window_show_identity (window, NULL);
  g_dbus_connection_call (g_application_get_dbus_connection (G_APPLICATION (app)),
                          g_application_get_application_id (G_APPLICATION (app)),
                          g_application_get_dbus_object_path (G_APPLICATION (app)),
                          "org.freedesktop.Application", "ActivateAction",
                          g_variant_new_parsed ("('show', [<'locked'>], @a{sv} {})"), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL, NULL);
  kpr_gui_check (kpr_gui_wait (detail_is, "locked", 5000),
                 "app.show('locked') over D-Bus opens its detail page");

  {
    /* Scrolled to the end of "locked", then "strong" opens at its top. */
    GtkScrolledWindow *scroll = GTK_SCROLLED_WINDOW (kpr_gui_find (GTK_WIDGET (window), "detail-scroll"));
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (scroll);

    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
    kpr_gui_settle (100);
    kpr_gui_check (gtk_adjustment_get_value (adj) > 0, "locked: the page scrolls down (%.0f)",
                   gtk_adjustment_get_value (adj));
    kpr_window_show_identity (window, "strong");
    kpr_gui_wait (detail_is, "strong", 5000);
    kpr_gui_check (gtk_adjustment_get_value (adj) == 0,
                   "another identity's page opens at its top, not at the last scroll position");
    /* The same page again, by way of the list (Back): at its top too. */
    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
    kpr_gui_settle (100);
    kpr_window_show_identity (window, NULL);
    kpr_gui_settle (300);
    kpr_window_show_identity (window, "strong");
    kpr_gui_wait (detail_is, "strong", 5000);
    kpr_gui_check (gtk_adjustment_get_value (adj) == 0,
                   "back to the list and into the same page again: it opens at its top");
    kpr_window_show_identity (window, "locked");
    kpr_gui_wait (detail_is, "locked", 5000);
  }
  test_window_toast_policy (window);
  renew_cancelled ("locked");
  renew_fresh (pin_file, outbox, result);
  gtk_window_destroy (GTK_WINDOW (window));
  return kpr_gui_test_finish ();
}

int
main (int argc, char **argv)
{
  g_autoptr (KprApplication) app = NULL;
  g_autoptr (GError) error = NULL;

  kpr_gui_test_init (&argc, &argv);
  app = kpr_application_new ();
  if (!kpr_gui_check (g_application_register (G_APPLICATION (app), NULL, &error),
                      "the application registers"))
    return kpr_gui_test_finish ();
  if (argc > 1 && g_str_equal (argv[1], "empty"))
    return test_empty (app);
  if (argc == 6 && g_str_equal (argv[1], "full"))
    return test_full (app, argv[2], argv[3], argv[4], argv[5]);
  g_error ("usage: test-window empty | full EXPECT PIN-FILE OUTBOX RESULT");
}
