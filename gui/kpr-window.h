/* kpr-window.h — the main window: every identity at a glance (name, where
 * the key lives, protection, "expires in N days", state) and a detail
 * page (subject, issuer, serial, fingerprints, the PKCS#11 URI, the audit
 * history) with the actions of kpr-window-actions.c. */
#pragma once

#include <adwaita.h>

#include "kpr-application.h"

G_BEGIN_DECLS

#define KPR_TYPE_WINDOW (kpr_window_get_type ())
G_DECLARE_FINAL_TYPE (KprWindow, kpr_window, KPR, WINDOW, AdwApplicationWindow)

KprWindow *kpr_window_new (KprApplication *app);
/* Reloads the identities (in a KprWorker); the list keeps what it showed
 * until the new one is ready. */
void kpr_window_refresh (KprWindow *window);
/* Presents the window once its identities are loaded (at most a moment
 * later), so that the first frame already shows them. */
void kpr_window_present_loaded (KprWindow *window);
/* Shows the detail page of @name (NULL: back to the list). */
void kpr_window_show_identity (KprWindow *window, const char *name);

/* kpr-window-actions.c: win.renew, win.lock, win.revoke, win.delete,
 * win.backup, win.copy-uri (each takes the identity name, "s"). */
void kpr_window_add_actions (KprWindow *window);

G_END_DECLS
