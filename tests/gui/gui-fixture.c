/* gui-fixture.c — the certkeeper-gtk tests' helpers (see gui-fixture.h).
 *
 * The widgets are driven the way a person would: only what is mapped and
 * sensitive can be clicked, text arrives through GtkEditable, and the
 * main loop runs between steps so that workers and dialogs answer.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gui-fixture.h"

static guint checks;
static guint failed;

void
kpr_gui_test_init (int *argc, char ***argv)
{
  /* Output goes to a pipe (meson), and a crash must not eat the last
   * lines that say how far the test got. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  gtk_init ();
  adw_init ();
  /* The same look on every machine: screenshots stay comparable. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  printf ("TAP version 13\n");
}

gboolean
kpr_gui_check (gboolean cond, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  checks++;
  if (!cond)
    failed++;
  printf ("%s %u - %s\n", cond ? "ok" : "not ok", checks, what);
  return cond;
}

int
kpr_gui_test_finish (void)
{
  printf ("1..%u\n", checks);
  if (failed)
    printf ("# %u of %u checks failed\n", failed, checks);
  return failed ? 1 : 0;
}

static gboolean
on_tick (gpointer data)
{
  gboolean *fired = data;

  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
kpr_gui_wait (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!cond (data))
    {
      gboolean fired = FALSE;
      guint tick;

      if (g_get_monotonic_time () >= deadline)
        return cond (data);
      /* Wakes the blocking iteration when nothing else happens. */
      tick = g_timeout_add (20, on_tick, &fired);
      g_main_context_iteration (NULL, TRUE);
      if (!fired)
        g_source_remove (tick);
    }
  return TRUE;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

void
kpr_gui_settle (guint ms)
{
  kpr_gui_wait (never, NULL, ms);
}

/* @root NULL: every toplevel (dialogs are windows of their own). */
static GtkWidget *
find_in_toplevels (GtkWidget *(*find) (GtkWidget *, const char *), const char *what)
{
  g_autoptr (GList) tops = gtk_window_list_toplevels ();

  for (GList *l = tops; l; l = l->next)
    {
      GtkWidget *found;

      if (!gtk_widget_get_visible (l->data))
        continue;
      found = find (l->data, what);
      if (found)
        return found;
    }
  return NULL;
}

GtkWidget *
kpr_gui_toplevel_of_type (GType type)
{
  g_autoptr (GList) tops = gtk_window_list_toplevels ();

  for (GList *l = tops; l; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type) && gtk_widget_get_visible (l->data))
      return l->data;
  return NULL;
}

GtkWidget *
kpr_gui_find (GtkWidget *root, const char *id)
{
  const char *bid;

  if (!root)
    return find_in_toplevels (kpr_gui_find, id);
  bid = gtk_buildable_get_buildable_id (GTK_BUILDABLE (root));
  if (g_strcmp0 (bid, id) == 0 || g_strcmp0 (gtk_widget_get_name (root), id) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = kpr_gui_find (c, id);
      if (found)
        return found;
    }
  return NULL;
}

/* Button labels carry mnemonics ("_Continue"): compared without them. */
static gboolean
text_has (const char *shown, const char *text)
{
  g_autoptr (GString) plain = NULL;

  if (!shown || !*shown)
    return FALSE;
  if (strstr (shown, text))
    return TRUE;
  plain = g_string_new (shown);
  g_string_replace (plain, "_", "", 0);
  return strstr (plain->str, text) != NULL;
}

static gboolean
widget_shows (GtkWidget *w, const char *text)
{
  if (GTK_IS_LABEL (w))
    return text_has (gtk_label_get_text (GTK_LABEL (w)), text);
  if (ADW_IS_ACTION_ROW (w)
      && text_has (adw_action_row_get_subtitle (ADW_ACTION_ROW (w)), text))
    return TRUE;
  if (ADW_IS_PREFERENCES_ROW (w))
    return text_has (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (w)), text);
  if (GTK_IS_BUTTON (w))
    return text_has (gtk_button_get_label (GTK_BUTTON (w)), text);
  if (ADW_IS_STATUS_PAGE (w))
    return text_has (adw_status_page_get_title (ADW_STATUS_PAGE (w)), text)
           || text_has (adw_status_page_get_description (ADW_STATUS_PAGE (w)), text);
  return FALSE;
}

GtkWidget *
kpr_gui_find_text (GtkWidget *root, const char *text)
{
  if (!root)
    return find_in_toplevels (kpr_gui_find_text, text);
  if (widget_shows (root, text))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = kpr_gui_find_text (c, text);
      if (found)
        return found;
    }
  return NULL;
}

gboolean
kpr_gui_can_click (GtkWidget *widget)
{
  /* Mapped means the widget and all its parents are shown on screen;
   * is_sensitive looks at the parents too. */
  return widget && gtk_widget_get_mapped (widget) && gtk_widget_is_sensitive (widget);
}

void
kpr_gui_click (GtkWidget *widget)
{
  /* A person cannot click what is hidden or greyed out: neither can a
   * test, or it would pass where the person is stuck. */
  if (!kpr_gui_can_click (widget))
    {
      printf ("# cannot click %s “%s”: not mapped or not sensitive\n",
              widget ? G_OBJECT_TYPE_NAME (widget) : "(nothing)",
              widget ? gtk_widget_get_name (widget) : "");
      return;
    }
  if (GTK_IS_BUTTON (widget))
    g_signal_emit_by_name (widget, "clicked");
  else
    gtk_widget_activate (widget);
}

void
kpr_gui_type (GtkWidget *editable, const char *text)
{
  int pos;

  g_return_if_fail (GTK_IS_EDITABLE (editable));
  gtk_widget_grab_focus (editable);
  /* Inserted at the cursor like keystrokes, so "changed" and the
   * dialog's checks run as they would for a person. */
  pos = gtk_editable_get_position (GTK_EDITABLE (editable));
  gtk_editable_insert_text (GTK_EDITABLE (editable), text, -1, &pos);
  gtk_editable_set_position (GTK_EDITABLE (editable), pos);
}
