/* kpr-identity-row.c — the widgets of the main window's lists: one row
 * per identity (name, subtitle, badge), a row for a record that cannot
 * be read, an event of the history.  No KprWindow here: what a row
 * says comes from the identity, the clock and certkeeper-agent. */
#include "config.h"

#include <string.h>

#include "kpr-agent-bus.h"
#include "kpr-identity-row.h"
#include "kpr-identity-text.h"
#include "kpr-row-text.h"

/* What certkeeper-agent waits for, as a badge. */
static const char *
needs_badge (const char *needs)
{
  switch (kpr_agent_needs_from_string (needs))
    {
    case KPR_AGENT_NEEDS_PIN:
      return "Needs your PIN";
    case KPR_AGENT_NEEDS_SECRET_WORD:
      return "Needs a secret word";
    case KPR_AGENT_NEEDS_PASSPHRASE:
      return "Needs a passphrase";
    case KPR_AGENT_NEEDS_NOTHING:
      break;
    }
  return NULL;
}

/* What a row says: the subtitle and the badge (with its style class). */
static const char *
row_badge (const KprIdentity *id, gint64 now, gint64 lead, const char *needs, const char **ret_css)
{
  const char *badge_label = kpr_identity_badge_text (id, now, ret_css);

  /* Renewal is due at 2/3 of the lifetime; a certificate still "active"
   * within the reminder lead time of its end (a long renew-at, a server
   * that backdates) is worth a look all the same. */
  if (g_str_equal (badge_label, "Active") && id->cert
      && kpr_ossl_time_unix (X509_get0_notAfter (id->cert)) - now <= lead)
    {
      badge_label = "Expires soon";
      *ret_css = "warning";
    }
  /* certkeeper-agent stopped renewing it on its own: Renew now asks. */
  if (needs_badge (needs))
    {
      badge_label = needs_badge (needs);
      *ret_css = "warning";
    }
  return badge_label;
}

/* The row's subtitle and badge, set only where they changed: a label
 * given the text it has is left alone, and GTK measures again only what
 * changed (bench/RESULTS.md).  @css is a static string (the badge's
 * style class) or NULL. */
static void
set_texts (GtkWidget *row, const char *subtitle, const char *badge_label, const char *css)
{
  GtkWidget *badge = g_object_get_data (G_OBJECT (row), "kpr-badge");
  const char *was_css = g_object_get_data (G_OBJECT (row), "kpr-css");

  if (g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), subtitle) != 0)
    kpr_row_text_set_subtitle (row, subtitle);
  if (g_strcmp0 (gtk_label_get_text (GTK_LABEL (badge)), badge_label) != 0)
    gtk_label_set_text (GTK_LABEL (badge), badge_label);
  if (g_strcmp0 (was_css, css) != 0)
    {
      if (was_css)
        gtk_widget_remove_css_class (badge, was_css);
      if (css)
        gtk_widget_add_css_class (badge, css);
      g_object_set_data (G_OBJECT (row), "kpr-css", (gpointer) css);
    }
}

void
kpr_identity_row_update (GtkWidget *row, const KprIdentity *id, gint64 now, gint64 lead, const char *needs)
{
  g_autofree char *subtitle = kpr_identity_subtitle_text (id, now);
  const char *css = NULL;
  const char *badge_label = row_badge (id, now, lead, needs, &css);

  set_texts (row, subtitle, badge_label, css);
}

/* One widget for both kinds of row: the list view (kpr-window.c) binds
 * whatever item comes to a row it made earlier. */
GtkWidget *
kpr_identity_row_new (void)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *badge = gtk_label_new (NULL);
  GtkWidget *chevron = gtk_image_new_from_icon_name ("go-next-symbolic");

  /* Names and token labels are data, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  /* The list view's own row takes the focus, the activation and the
   * hover highlight. */
  gtk_widget_set_focusable (row, FALSE);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_name (badge, "badge");
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (badge, "caption-heading");
  g_object_set_data (G_OBJECT (row), "kpr-badge", badge);
  g_object_set_data (G_OBJECT (row), "kpr-chevron", chevron);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), badge);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), chevron);
  /* Title and subtitle laid out once (kpr-row-text.c: most of the cold
   * start's cost per row). */
  kpr_row_text_adopt (row);
  return row;
}

static void
set_title (GtkWidget *row, const char *widget_name, const char *title)
{
  if (g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), title) != 0)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      kpr_row_text_sync (row);
    }
  gtk_widget_set_name (row, widget_name);
}

void
kpr_identity_row_bind (GtkWidget *row, const KprIdentity *id, gint64 now, gint64 lead,
                       const char *needs)
{
  g_autofree char *widget_name = g_strdup_printf ("row-%s", id->name);

  set_title (row, widget_name, id->name);
  g_object_set_data_full (G_OBJECT (row), "kpr-name", g_strdup (id->name), g_free);
  gtk_widget_set_visible (g_object_get_data (G_OBJECT (row), "kpr-chevron"), TRUE);
  kpr_identity_row_update (row, id, now, lead, needs);
}

void
kpr_damaged_row_bind (GtkWidget *row, const char *text)
{
  const char *colon = strchr (text, ':');
  g_autofree char *name = colon ? g_strndup (text, colon - text) : g_strdup (text);
  g_autofree char *widget_name = g_strdup_printf ("damaged-%s", name);

  set_title (row, widget_name, name);
  /* Nothing to open: the record cannot be read. */
  g_object_set_data (G_OBJECT (row), "kpr-name", NULL);
  set_texts (row, colon ? colon + 2 : "", "Damaged", "error");
  gtk_widget_set_visible (g_object_get_data (G_OBJECT (row), "kpr-chevron"), FALSE);
}

GtkWidget *
kpr_history_row_new (const KprEvent *event)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *sentence = kpr_event_sentence (event);
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (event->time);
  g_autofree char *when = dt ? g_date_time_format (dt, "%x, %H:%M") : NULL;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), sentence);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), when ? when : "");
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
  /* Laid out once, not again for every size asked (kpr-row-text.c). */
  kpr_row_text_adopt (row);
  return row;
}
