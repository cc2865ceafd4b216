/* kpr-app-actions.c — the app.* actions: what the tray icon, the
 * notifications of certkeeper-agent (over D-Bus, org.freedesktop.Application
 * ActivateAction) and the window's menu can ask for.  Each one raises
 * the main window first, so a person always sees where they landed.
 */
#include "config.h"

#include "kpr-gui.h"

static GtkWindow *
raise_window (KprApplication *app)
{
  GtkWindow *window;

  g_application_activate (G_APPLICATION (app));
  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  /* An action shows its outcome at once, not when the list is ready. */
  if (window)
    gtk_window_present (window);
  return window;
}

static void
on_add (GSimpleAction *action, GVariant *param, gpointer data)
{
  GtkWindow *parent = raise_window (data);

  gtk_window_present (GTK_WINDOW (kpr_add_dialog_new (parent)));
}

static void
on_import (GSimpleAction *action, GVariant *param, gpointer data)
{
  GtkWindow *parent = raise_window (data);

  gtk_window_present (GTK_WINDOW (kpr_import_dialog_new (parent, NULL)));
}

static void
on_show (GSimpleAction *action, GVariant *param, gpointer data)
{
  GtkWindow *parent = raise_window (data);
  const char *name = g_variant_get_string (param, NULL);

  if (KPR_IS_WINDOW (parent))
    kpr_window_show_identity (KPR_WINDOW (parent), *name ? name : NULL);
}

/* app.renew and app.backup go through the window's own actions, so that
 * the detail page shows what happens. */
static void
show_and_activate (KprApplication *app, GVariant *param, const char *win_action)
{
  GtkWindow *parent = raise_window (app);
  const char *name = g_variant_get_string (param, NULL);

  if (!KPR_IS_WINDOW (parent))
    return;
  kpr_window_show_identity (KPR_WINDOW (parent), name);
  gtk_widget_activate_action (GTK_WIDGET (parent), win_action, "s", name);
}

static void
on_renew (GSimpleAction *action, GVariant *param, gpointer data)
{
  show_and_activate (data, param, "win.renew");
}

static void
on_backup (GSimpleAction *action, GVariant *param, gpointer data)
{
  show_and_activate (data, param, "win.backup");
}

static void
on_quit (GSimpleAction *action, GVariant *param, gpointer data)
{
  g_application_quit (data);
}

static void
on_preferences (GSimpleAction *action, GVariant *param, gpointer data)
{
  GSettings *settings = kpr_application_get_settings (data);

  if (settings)
    gtk_window_present (GTK_WINDOW (
      kpr_preferences_new (gtk_application_get_active_window (data), settings)));
}

static void
on_about (GSimpleAction *action, GVariant *param, gpointer data)
{
  GtkWindow *parent = gtk_application_get_active_window (data);
  const char *developers[] = { "The certkeeper authors", NULL };

  adw_show_about_window (parent,
                         "application-name", "Certificates",
                         "application-icon", KPR_APP_ID,
                         "developer-name", "The certkeeper authors",
                         "version", PACKAGE_VERSION,
                         "comments", "Keeps your client certificates renewed, "
                                     "with their keys on your token.",
                         "developers", developers,
                         "license-type", GTK_LICENSE_LGPL_2_1,
                         NULL);
}

void
kpr_application_add_actions (KprApplication *app)
{
  static const GActionEntry entries[] = {
    { "add", on_add, NULL, NULL, NULL },
    { "import", on_import, NULL, NULL, NULL },
    { "show", on_show, "s", NULL, NULL },
    { "renew", on_renew, "s", NULL, NULL },
    { "backup", on_backup, "s", NULL, NULL },
    { "quit", on_quit, NULL, NULL, NULL },
    { "about", on_about, NULL, NULL, NULL },
    { "preferences", on_preferences, NULL, NULL, NULL },
  };
  static const char *const preferences_accels[] = { "<Control>comma", NULL };
  static const char *const quit_accels[] = { "<Control>q", NULL };
  static const char *const add_accels[] = { "<Control>n", NULL };

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.add", add_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences",
                                         preferences_accels);
}
