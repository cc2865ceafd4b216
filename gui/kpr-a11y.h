/* kpr-a11y.h — accessible names that GTK 4.8 gets wrong (kpr-a11y.c). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* gtk_button_set_label, and an accessible name without the mnemonic's
 * underscore ("Next", not "_Next"). */
void kpr_a11y_button_set_label (GtkButton *button, const char *label);
/* The same for every button with a mnemonic under @root (a template just
 * initialized). */
void kpr_a11y_fix_names (GtkWidget *root);

G_END_DECLS
