/* kpr-tray.h — the desktop agent's tray icon: a StatusNotifierItem with a
 * com.canonical.dbusmenu menu, plain GDBus (no GTK, no libdbusmenu).
 * Without a StatusNotifierWatcher on the bus it waits for one and the
 * agent runs on with notifications only (docs/desktop.md, "Tray"). */
#pragma once

#include "kpr-desktop.h"

G_BEGIN_DECLS

typedef struct _KprTray KprTray;

typedef enum {
  KPR_TRAY_ALL_GOOD,
  KPR_TRAY_ATTENTION, /* renewal due, backup missing, waiting for a secret */
  KPR_TRAY_EXPIRED,   /* expired, failed or a damaged record */
} KprTrayState;

/* Exports the item and its menu on @desktop->bus and registers with the
 * watcher whenever one is (or comes) on the bus. */
KprTray *kpr_tray_new (KprDesktop *desktop, GError **error);
void kpr_tray_free (KprTray *tray);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprTray, kpr_tray_free)

/* @list: the List() answer a(sssx); @attention: its attention count.
 * Emits NewStatus/NewIcon/NewToolTip and the menu's signals only for
 * what changed.  @tray may be NULL. */
void kpr_tray_update (KprTray *tray, GVariant *list, guint attention);

/* For tests of the rules: the state a list shows. */
KprTrayState kpr_tray_state_of (GVariant *list, guint attention);

G_END_DECLS
