/* kpr-preferences.c — the settings that exist (the GSettings schema), in
 * an AdwPreferencesWindow (issue 16, item 6): the reminder lead time,
 * the defaults the assistant offers for a new identity, and whether
 * certificates are set up in the browsers (certkeeper.conf).  Each row is
 * bound to its key (g_settings_bind), so the window has no Apply button
 * and other windows see a change at once. */
#include "config.h"

#include "kpr-agent.h"
#include "kpr-preferences.h"

/* The schema's choices, in the combo rows' order. */
static const char *const key_types[] = { "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", NULL };
static const char *const protections[] = { "standard", "strong", NULL };

static gboolean
choice_to_index (GValue *value, GVariant *variant, gpointer choices)
{
  const char *const *c = choices;
  const char *text = g_variant_get_string (variant, NULL);

  for (guint i = 0; c[i]; i++)
    if (g_str_equal (c[i], text))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
index_to_choice (const GValue *value, const GVariantType *type, gpointer choices)
{
  const char *const *c = choices;
  guint i = g_value_get_uint (value);

  return i < g_strv_length ((char **) c) ? g_variant_new_string (c[i]) : NULL;
}

static GtkWidget *
choice_row (GSettings *settings, const char *key, const char *title, const char *subtitle,
            const char *const *choices, const char *const *titles, const char *id)
{
  GtkWidget *row = adw_combo_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (gtk_string_list_new (titles)));
  gtk_widget_set_name (row, id);
  g_settings_bind_with_mapping (settings, key, row, "selected", G_SETTINGS_BIND_DEFAULT,
                                choice_to_index, index_to_choice, (gpointer) choices, NULL);
  return row;
}

/* [browsers] automatic= lives in certkeeper.conf, not in GSettings: the
 * certkeeper command and the agent read it too (kpr_browsers_*). */
static void
on_browsers_switched (GtkSwitch *toggle, GParamSpec *pspec, gpointer data)
{
  g_autoptr (GError) error = NULL;
  gboolean on = gtk_switch_get_active (toggle);

  if (kpr_browsers_set_automatic (on, &error))
    return;
  g_signal_handlers_block_by_func (toggle, on_browsers_switched, data);
  gtk_switch_set_active (toggle, !on);
  g_signal_handlers_unblock_by_func (toggle, on_browsers_switched, data);
  /* The reason is long (a path): the toast stays short. */
  gtk_widget_set_tooltip_text (GTK_WIDGET (toggle), error->message);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (data),
                                    adw_toast_new ("The setting could not be saved."));
}

/* A row with @control at its end: the row activates it, and a screen
 * reader names it by the row's title. */
static GtkWidget *
control_row (const char *title, const char *subtitle, GtkWidget *control, const char *id)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (control, GTK_ALIGN_CENTER);
  gtk_widget_set_name (control, id);
  gtk_accessible_update_property (GTK_ACCESSIBLE (control), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), control);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), control);
  return row;
}

static GtkWidget *
browsers_group (GtkWidget *window)
{
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *toggle = gtk_switch_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), "Browsers");
  gtk_switch_set_active (GTK_SWITCH (toggle), kpr_browsers_get_automatic ());
  g_signal_connect (toggle, "notify::active", G_CALLBACK (on_browsers_switched), window);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             control_row ("Set up in browsers",
                                          "After adding, importing or renewing, make the "
                                          "certificate usable in Chromium and Firefox",
                                          toggle, "browsers-automatic"));
  return group;
}

GtkWidget *
kpr_preferences_new (GtkWindow *parent, GSettings *settings)
{
  GtkWidget *window = adw_preferences_window_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *reminders = adw_preferences_group_new ();
  GtkWidget *defaults = adw_preferences_group_new ();
  GtkWidget *lead = gtk_spin_button_new_with_range (1, 90, 1);
  const char *key_titles[G_N_ELEMENTS (key_types)] = { NULL };
  static const char *const protection_titles[] = { "Standard", "Strong", NULL };

  for (guint i = 0; key_types[i]; i++)
    {
      KprKeyType type = KPR_KEY_EC_P256;
      kpr_key_type_from_string (key_types[i], &type);
      key_titles[i] = kpr_key_type_title (type);
    }
  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_widget_set_name (window, "preferences");
  /* Four rows need no search. */
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (window), FALSE);

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (reminders), "Reminders");
  g_settings_bind (settings, "reminder-lead-days", lead, "value", G_SETTINGS_BIND_DEFAULT);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (reminders),
                             control_row ("Days before expiry",
                                          "From then on an active certificate is marked “Expires "
                                          "soon”, even before its renewal is due",
                                          lead, "lead-days"));

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (defaults), "New identities");
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (defaults),
                                         "What “Add an identity” offers first");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (defaults),
                             choice_row (settings, "default-key-type", "Key type",
                                         "Used when the token can make it", key_types,
                                         key_titles, "default-key-type"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (defaults),
                             choice_row (settings, "default-protection", "Protection",
                                         "Strong: the PIN is needed each time the key is used",
                                         protections, protection_titles,
                                         "default-protection"));

  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (reminders));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (defaults));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page),
                            ADW_PREFERENCES_GROUP (browsers_group (window)));
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window), ADW_PREFERENCES_PAGE (page));
  return window;
}
