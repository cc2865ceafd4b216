/* kpr-preferences.h — the Preferences window (kpr-preferences.c). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* An AdwPreferencesWindow over @settings (org.certkeeper.Certkeeper),
 * transient for @parent; every row is bound to its key, so a change is
 * saved as it is made. */
GtkWidget *kpr_preferences_new (GtkWindow *parent, GSettings *settings);

G_END_DECLS
