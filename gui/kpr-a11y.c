/* kpr-a11y.c — GTK 4.8's GtkButton copies its label, mnemonic underscore
 * included, into the accessible name, so a screen reader (or an AT-SPI
 * client) meets "_Next" beside the label's own "Next" (issue 16, item 4).
 * Newer GTK strips it; until then the name is set here without it. */
#include "config.h"

#include "kpr-a11y.h"

/* "_Next" → "Next", "C_lose" → "Close", "a__b" → "a_b". */
static char *
without_mnemonic (const char *label)
{
  GString *out = g_string_new (NULL);

  for (const char *p = label; *p; p++)
    {
      if (*p == '_')
        {
          if (p[1] != '_')
            continue;
          p++;
        }
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static void
fix_name (GtkButton *button)
{
  const char *label = gtk_button_get_label (button);
  g_autofree char *name = NULL;

  if (!label || !*label || !gtk_button_get_use_underline (button))
    return;
  name = without_mnemonic (label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);
}

void
kpr_a11y_button_set_label (GtkButton *button, const char *label)
{
  gtk_button_set_label (button, label);
  fix_name (button);
}

void
kpr_a11y_fix_names (GtkWidget *root)
{
  if (GTK_IS_BUTTON (root))
    fix_name (GTK_BUTTON (root));
  for (GtkWidget *child = gtk_widget_get_first_child (root); child;
       child = gtk_widget_get_next_sibling (child))
    kpr_a11y_fix_names (child);
}
