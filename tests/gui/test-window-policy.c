/* test-window-policy.c — test-window's checks of the window's policies
 * (issue 16, item 6): how messages are told (toasts never cut short) and
 * the Preferences switch for browser integration, which lives in
 * certkeeper.conf rather than GSettings. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "gui-fixture.h"
#include "test-window.h"

/* TRUE when a label under @w is cut short with "…". */
static gboolean
label_cut_short (GtkWidget *w)
{
  if (GTK_IS_LABEL (w) && gtk_widget_get_mapped (w)
      && pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (w))))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    if (label_cut_short (c))
      return TRUE;
  return FALSE;
}

/* The toasts shown (the overlay's children besides its content). */
static GtkWidget *
toast_showing (KprWindow *window, const char *text)
{
  GtkWidget *toasts = kpr_gui_find (GTK_WIDGET (window), "toasts");

  for (GtkWidget *c = toasts ? gtk_widget_get_first_child (toasts) : NULL; c;
       c = gtk_widget_get_next_sibling (c))
    if (!ADW_IS_LEAFLET (c) && kpr_gui_find_text (c, text))
      return c;
  return NULL;
}

/* TRUE when a toast shown is cut short. */
static gboolean
toast_cut_short (KprWindow *window)
{
  GtkWidget *toasts = kpr_gui_find (GTK_WIDGET (window), "toasts");

  for (GtkWidget *c = toasts ? gtk_widget_get_first_child (toasts) : NULL; c;
       c = gtk_widget_get_next_sibling (c))
    if (!ADW_IS_LEAFLET (c) && label_cut_short (c))
      return TRUE;
  return FALSE;
}

/* The toast policy (issue 16, item 6): at phone and desktop width a
 * message is either a toast shown whole, or — too long for a toast's one
 * line — a dialog with all of it; never a toast cut short.  Messages from
 * real actions: copying the key's URI (short), and an identity asked for
 * that does not exist (what the tray may ask; long with a long name). */
void
test_window_toast_policy (KprWindow *window)
{
  static const int widths[] = { 360, 720 };
  const char *long_name = "an-identity-whose-name-is-far-too-long-for-a-toast";

  for (guint i = 0; i < G_N_ELEMENTS (widths); i++)
    {
      GtkWidget *toast, *dialog;

      gtk_window_set_default_size (GTK_WINDOW (window), widths[i], 640);
      kpr_gui_settle (500);
      gtk_widget_activate_action (GTK_WIDGET (window), "win.copy-uri", "s", "locked");
      kpr_gui_settle (500);
      toast = toast_showing (window, "URI copied");
      kpr_gui_check (toast && !label_cut_short (toast),
                     "%d px: a short message is a toast, shown whole", widths[i]);
      gtk_widget_activate_action (GTK_WIDGET (window), "win.renew", "s", long_name);
      kpr_gui_settle (500);
      toast = toast_showing (window, long_name);
      dialog = kpr_gui_find (NULL, "kpr-message-dialog");
      kpr_gui_check ((toast && !label_cut_short (toast))
                       || (!toast && dialog && kpr_gui_find_text (dialog, long_name)),
                     "%d px: a long message is a whole toast or a dialog, never cut short "
                     "(%s)", widths[i], toast ? "toast" : dialog ? "dialog" : "neither");
      if (widths[i] == 360)
        kpr_gui_check (dialog != NULL && !toast,
                       "360 px: the long message is said in a dialog");
      if (dialog)
        {
          kpr_gui_click (kpr_gui_find_text (dialog, "Close"));
          kpr_gui_settle (300);
        }
      kpr_gui_check (!toast_cut_short (window), "%d px: no toast is cut short", widths[i]);
    }
  gtk_window_set_default_size (GTK_WINDOW (window), 720, 640);
  kpr_gui_settle (500);
}

/* [browsers] automatic= of certkeeper.conf as the file says it, read
 * here with a GKeyFile of our own: "true", "false", or "" when unset. */
static char *
conf_browsers (const char *path)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return g_strdup ("");
  return g_key_file_get_value (kf, "browsers", "automatic", NULL);
}

GtkWidget *
test_window_open_preferences (KprApplication *app)
{
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  kpr_gui_settle (300);
  return kpr_gui_toplevel_of_type (ADW_TYPE_PREFERENCES_WINDOW);
}

/* The browsers switch writes [browsers] automatic= into certkeeper.conf,
 * which the certkeeper command and the agent read (kpr_browsers_*), and
 * keeps what else the file holds; a new Preferences window shows the
 * file's value. */
void
test_window_browsers_switch (KprApplication *app)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "certkeeper",
                                            "certkeeper.conf", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *value = NULL, *text = NULL;
  GtkWidget *prefs, *toggle;

  g_mkdir_with_parents (dir, 0700);
  g_file_set_contents (path, "# the desktop agent's\n[agent]\nrenew-at=0.5\n", -1, NULL);
  prefs = test_window_open_preferences (app);
  toggle = prefs ? kpr_gui_find (prefs, "browsers-automatic") : NULL;
  if (!kpr_gui_check (toggle && GTK_IS_SWITCH (toggle),
                      "Preferences has the browser integration switch"))
    return;
  kpr_gui_check (gtk_switch_get_active (GTK_SWITCH (toggle)) && kpr_browsers_get_automatic (),
                 "browser integration is on when certkeeper.conf does not say");
  gtk_switch_set_active (GTK_SWITCH (toggle), FALSE);
  value = conf_browsers (path);
  kpr_gui_check (g_strcmp0 (value, "false") == 0 && !kpr_browsers_get_automatic (),
                 "switched off: certkeeper.conf says [browsers] automatic=false (“%s”), the agent "
                 "reads off", value ? value : "");
  g_file_get_contents (path, &text, NULL, NULL);
  kpr_gui_check (text && strstr (text, "renew-at=0.5") && strstr (text, "# the desktop agent's"),
                 "the file's other settings and comments stay");
  gtk_window_destroy (GTK_WINDOW (prefs));
  prefs = test_window_open_preferences (app);
  toggle = prefs ? kpr_gui_find (prefs, "browsers-automatic") : NULL;
  kpr_gui_check (toggle && !gtk_switch_get_active (GTK_SWITCH (toggle)),
                 "opened again, Preferences shows it off");
  if (toggle)
    gtk_switch_set_active (GTK_SWITCH (toggle), TRUE);
  g_free (value);
  value = conf_browsers (path);
  kpr_gui_check (g_strcmp0 (value, "true") == 0 && kpr_browsers_get_automatic (),
                 "switched on again: automatic=true (“%s”)", value ? value : "");
  if (prefs)
    gtk_window_destroy (GTK_WINDOW (prefs));
  g_unlink (path);
}
