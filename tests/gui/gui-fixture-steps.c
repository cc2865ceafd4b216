/* gui-fixture-steps.c — the steps several certkeeper-gtk tests take the
 * same way (see gui-fixture.h): pages of a dialog's "stack", text in and
 * out of widgets, the secret words certkeeper-ca "texted" to its outbox,
 * and the token's PIN typed into the worker's dialog.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gui-fixture.h"

GtkWidget *
kpr_gui_need (GtkWidget *root, const char *id)
{
  GtkWidget *found = kpr_gui_find (root, id);

  if (!found)
    printf ("# no widget “%s”\n", id);
  return found;
}

const char *
kpr_gui_stack_page (GtkWidget *root)
{
  GtkWidget *stack = kpr_gui_find (root, "stack");

  return stack ? gtk_stack_get_visible_child_name (GTK_STACK (stack)) : NULL;
}

typedef struct {
  GtkWidget *root;
  const char *page;
} PageWait;

static gboolean
on_page (gpointer data)
{
  PageWait *p = data;

  return g_strcmp0 (kpr_gui_stack_page (p->root), p->page) == 0;
}

gboolean
kpr_gui_wait_page (GtkWidget *root, const char *page, guint timeout_ms)
{
  PageWait p = { root, page };

  if (kpr_gui_wait (on_page, &p, timeout_ms))
    return TRUE;
  printf ("# waited for page “%s”, still on “%s”\n", page, kpr_gui_stack_page (root));
  return FALSE;
}

gboolean
kpr_gui_window_drawn (gpointer window)
{
  return gtk_widget_get_mapped (window) && gtk_widget_get_width (window) > 0;
}

gboolean
kpr_gui_clickable (gpointer widget)
{
  return kpr_gui_can_click (widget);
}

const char *
kpr_gui_text (GtkWidget *widget)
{
  if (widget && GTK_IS_LABEL (widget))
    return gtk_label_get_text (GTK_LABEL (widget));
  if (widget && GTK_IS_EDITABLE (widget))
    return gtk_editable_get_text (GTK_EDITABLE (widget));
  return "";
}

void
kpr_gui_set_text (GtkWidget *editable, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (editable), "");
  kpr_gui_type (editable, text);
}

guint
kpr_gui_outbox_lines (const char *outbox)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (outbox, &text, NULL, NULL))
    return 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

char *
kpr_gui_outbox_last_word (const char *outbox)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  const char *space;
  guint n;

  if (!g_file_get_contents (outbox, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (g_strstrip (text), "\n", -1);
  n = g_strv_length (lines);
  if (n == 0)
    return NULL;
  space = strrchr (lines[n - 1], ' ');
  return g_strdup (space ? space + 1 : lines[n - 1]);
}

gboolean
kpr_gui_answer_pin (const char *pin)
{
  g_autoptr (GList) tops = gtk_window_list_toplevels ();

  for (GList *l = tops; l; l = l->next)
    {
      GtkWidget *dialog = l->data;
      const char *heading;
      GtkWidget *entry;

      if (!g_str_equal (gtk_widget_get_name (dialog), "kpr-secret-dialog")
          || !gtk_widget_get_mapped (dialog)
          || g_object_get_data (G_OBJECT (dialog), "kpr-answered"))
        continue;
      heading = adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog));
      entry = kpr_gui_find (dialog, "secret-entry");
      if (!entry || !heading || !strstr (heading, "PIN"))
        continue;
      /* Answered once: the dialog may stay mapped for a frame. */
      g_object_set_data (G_OBJECT (dialog), "kpr-answered", GINT_TO_POINTER (1));
      kpr_gui_set_text (entry, pin);
      adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "continue");
      return TRUE;
    }
  return FALSE;
}

guint
kpr_gui_mnemonic_names (GtkWidget *root)
{
  guint bad = 0;

  if (GTK_IS_BUTTON (root) && gtk_button_get_use_underline (GTK_BUTTON (root))
      && gtk_button_get_label (GTK_BUTTON (root)) && *gtk_button_get_label (GTK_BUTTON (root)))
    {
      const char *label = gtk_button_get_label (GTK_BUTTON (root));
      GString *want = g_string_new (NULL);
      char *why;

      for (const char *p = label; *p; p++)
        if (*p != '_' || (p[1] == '_' && p++))
          g_string_append_c (want, *p);
      why = gtk_test_accessible_check_property (GTK_ACCESSIBLE (root),
                                                GTK_ACCESSIBLE_PROPERTY_LABEL, want->str);
      if (why)
        {
          printf ("# button “%s” is named “%s”, not “%s”\n", label, why, want->str);
          bad++;
        }
      g_free (why);
      g_string_free (want, TRUE);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    bad += kpr_gui_mnemonic_names (c);
  return bad;
}
