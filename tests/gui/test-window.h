/* test-window.h — what test-window.c takes from test-window-policy.c. */
#pragma once

#include "gui-fixture.h"

G_BEGIN_DECLS

/* app.preferences, then the Preferences window shown (NULL: none). */
GtkWidget *test_window_open_preferences (KprApplication *app);
/* The browser integration switch against certkeeper.conf. */
void test_window_browsers_switch (KprApplication *app);
/* At 360 and 720 pixels: short messages as whole toasts, long ones in a
 * dialog, no toast cut short.  Leaves the window at 720 pixels. */
void test_window_toast_policy (KprWindow *window);

G_END_DECLS
