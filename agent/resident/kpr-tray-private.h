/* kpr-tray-private.h — shared by kpr-tray.c (the StatusNotifierItem, the
 * watcher, the state) and kpr-tray-menu.c (the dbusmenu). */
#pragma once

#include "kpr-tray.h"

#define MENU_PATH "/MenuBar"
#define MENU_IFACE "com.canonical.dbusmenu"
enum { MENU_ROOT, MENU_OPEN, MENU_RENEW, MENU_SEPARATOR, MENU_QUIT };

struct _KprTray {
  const KprTrayActions *actions;
  gpointer data;
  GDBusConnection *bus;
  GDBusNodeInfo *node;
  guint item_id, menu_id, watch_id;
  gboolean watcher_seen;   /* a watcher was there at some point */
  gboolean absence_logged;
  KprTrayState state;
  char *tooltip;
  GStrv due;               /* what "Renew now" renews */
  guint32 revision;        /* of the menu layout */
  guint renew_idle;
};

/* kpr-tray-menu.c */
/* An item's properties (all of them when @names is NULL or empty). */
GVariant *kpr_tray_menu_props (KprTray *tray, int id, const char *const *names);
void kpr_tray_menu_method (KprTray *tray, const char *method, GVariant *params,
                           GDBusMethodInvocation *invocation);
