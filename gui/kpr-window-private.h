/* kpr-window-private.h — what kpr-window.c shares with
 * kpr-window-actions.c. */
#pragma once

#include "kpr-window.h"
#include "kpr-worker.h"

G_BEGIN_DECLS

/* The identity as last loaded; NULL when it is not (or no longer) there. */
const KprIdentity *kpr_window_lookup (KprWindow *window, const char *name);
/* The worker for the actions (one at a time per window). */
KprWorker *kpr_window_get_worker (KprWindow *window);
/* A short sentence at the bottom of the window. */
void kpr_window_toast (KprWindow *window, const char *message);
/* While an action runs: its progress on the detail page, and the action
 * buttons insensitive.  @message NULL ends it. */
void kpr_window_set_busy (KprWindow *window, const char *message);

G_END_DECLS
