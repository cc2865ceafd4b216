/* kpr-tray.h — the desktop agent's tray icon: a StatusNotifierItem with a
 * com.canonical.dbusmenu menu, plain GDBus (no GTK, no libdbusmenu).
 * Without a StatusNotifierWatcher on the bus it waits for one and the
 * agent runs on with notifications only (docs/desktop.md, "Tray"). */
#pragma once

#include <gio/gio.h>

#include "kpr-agent-bus.h"

G_BEGIN_DECLS

typedef struct _KprTray KprTray;

typedef enum {
  KPR_TRAY_ALL_GOOD,
  KPR_TRAY_ATTENTION, /* renewal due, backup missing, waiting for a secret */
  KPR_TRAY_EXPIRED,   /* expired, failed or a damaged record */
} KprTrayState;

/* What the tray asks of the program that shows it (the desktop agent):
 * callbacks, so that the tray knows nothing of that program's insides. */
typedef struct {
  /* "Renew now" on @name; FALSE with *@needs set when a person must
   * answer (the window is then opened for it). */
  gboolean (*renew) (gpointer data, const char *name, KprAgentNeeds *needs, GError **error);
  /* Opens the window, on @action ("renew") for @name when non-NULL. */
  void (*open_gui) (gpointer data, const char *action, const char *name);
  /* Whether "Renew now" should try @name again besides due, expired and
   * failed ones: it waits for a person, or (@in_progress) its renewal
   * keeps failing. */
  gboolean (*stuck) (gpointer data, const char *name, gboolean in_progress);
  /* "Quit". */
  void (*quit) (gpointer data);
} KprTrayActions;

/* Exports the item and its menu on @bus and registers with the watcher
 * whenever one is (or comes) on the bus; @actions (static) are called
 * with @data. */
KprTray *kpr_tray_new (GDBusConnection *bus, const KprTrayActions *actions, gpointer data,
                       GError **error);
void kpr_tray_free (KprTray *tray);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprTray, kpr_tray_free)

/* @list: the List() answer a(sssx); @attention: its attention count.
 * Emits NewStatus/NewIcon/NewToolTip and the menu's signals only for
 * what changed.  @tray may be NULL. */
void kpr_tray_update (KprTray *tray, GVariant *list, guint attention);

/* For tests of the rules: the state a list shows. */
KprTrayState kpr_tray_state_of (GVariant *list, guint attention);

G_END_DECLS
