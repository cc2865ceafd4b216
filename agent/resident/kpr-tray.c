/* kpr-tray.c — the tray icon of the desktop agent: an
 * org.kde.StatusNotifierItem at /StatusNotifierItem and its menu as
 * com.canonical.dbusmenu at /MenuBar (kpr-tray-menu.c), answered with
 * plain GDBus so the resident agent links neither GTK nor libdbusmenu.
 * One introspection XML, inline, describes both.
 *
 * The icon follows what Status() counts (kpr-desktop.c calls
 * kpr_tray_update whenever it builds the List answer): all good, attention
 * (renewal due, backup missing, waiting for a secret), expired or failed.
 * The item registers with org.kde.StatusNotifierWatcher whenever one owns
 * that name — at start, later, or again after the panel restarted.  A
 * session without a watcher keeps the notifications and the D-Bus
 * signals; the objects stay exported for a panel that comes later.
 */
#include "config.h"

#include "kpr-log.h"
#include "kpr-agent.h"
#include "kpr-tray-private.h"

#define ITEM_PATH "/StatusNotifierItem"
#define ITEM_IFACE "org.kde.StatusNotifierItem"
#define WATCHER_NAME "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH "/StatusNotifierWatcher"

static const char tray_xml[] =
  "<node>"
  "<interface name='" ITEM_IFACE "'>"
  "<property name='Category' type='s' access='read'/>"
  "<property name='Id' type='s' access='read'/>"
  "<property name='Title' type='s' access='read'/>"
  "<property name='Status' type='s' access='read'/>"
  "<property name='WindowId' type='i' access='read'/>"
  "<property name='IconThemePath' type='s' access='read'/>"
  "<property name='IconName' type='s' access='read'/>"
  "<property name='IconPixmap' type='a(iiay)' access='read'/>"
  "<property name='OverlayIconName' type='s' access='read'/>"
  "<property name='OverlayIconPixmap' type='a(iiay)' access='read'/>"
  "<property name='AttentionIconName' type='s' access='read'/>"
  "<property name='AttentionIconPixmap' type='a(iiay)' access='read'/>"
  "<property name='AttentionMovieName' type='s' access='read'/>"
  "<property name='ToolTip' type='(sa(iiay)ss)' access='read'/>"
  "<property name='ItemIsMenu' type='b' access='read'/>"
  "<property name='Menu' type='o' access='read'/>"
  "<method name='ContextMenu'><arg name='x' type='i'/><arg name='y' type='i'/></method>"
  "<method name='Activate'><arg name='x' type='i'/><arg name='y' type='i'/></method>"
  "<method name='SecondaryActivate'><arg name='x' type='i'/><arg name='y' type='i'/></method>"
  "<method name='Scroll'><arg name='delta' type='i'/><arg name='orientation' type='s'/></method>"
  "<signal name='NewTitle'/><signal name='NewIcon'/><signal name='NewAttentionIcon'/>"
  "<signal name='NewOverlayIcon'/><signal name='NewToolTip'/>"
  "<signal name='NewStatus'><arg name='status' type='s'/></signal>"
  "</interface>"
  "<interface name='" MENU_IFACE "'>"
  "<property name='Version' type='u' access='read'/>"
  "<property name='TextDirection' type='s' access='read'/>"
  "<property name='Status' type='s' access='read'/>"
  "<property name='IconThemePath' type='as' access='read'/>"
  "<method name='GetLayout'><arg name='parentId' type='i' direction='in'/>"
  "<arg name='recursionDepth' type='i' direction='in'/>"
  "<arg name='propertyNames' type='as' direction='in'/>"
  "<arg name='revision' type='u' direction='out'/>"
  "<arg name='layout' type='(ia{sv}av)' direction='out'/></method>"
  "<method name='GetGroupProperties'><arg name='ids' type='ai' direction='in'/>"
  "<arg name='propertyNames' type='as' direction='in'/>"
  "<arg name='properties' type='a(ia{sv})' direction='out'/></method>"
  "<method name='GetProperty'><arg name='id' type='i' direction='in'/>"
  "<arg name='name' type='s' direction='in'/><arg name='value' type='v' direction='out'/></method>"
  "<method name='Event'><arg name='id' type='i' direction='in'/>"
  "<arg name='eventId' type='s' direction='in'/><arg name='data' type='v' direction='in'/>"
  "<arg name='timestamp' type='u' direction='in'/></method>"
  "<method name='EventGroup'><arg name='events' type='a(isvu)' direction='in'/>"
  "<arg name='idErrors' type='ai' direction='out'/></method>"
  "<method name='AboutToShow'><arg name='id' type='i' direction='in'/>"
  "<arg name='needUpdate' type='b' direction='out'/></method>"
  "<method name='AboutToShowGroup'><arg name='ids' type='ai' direction='in'/>"
  "<arg name='updatesNeeded' type='ai' direction='out'/>"
  "<arg name='idErrors' type='ai' direction='out'/></method>"
  "<signal name='ItemsPropertiesUpdated'><arg name='updatedProps' type='a(ia{sv})'/>"
  "<arg name='removedProps' type='a(ias)'/></signal>"
  "<signal name='LayoutUpdated'><arg name='revision' type='u'/><arg name='parent' type='i'/>"
  "</signal>"
  "<signal name='ItemActivationRequested'><arg name='id' type='i'/>"
  "<arg name='timestamp' type='u'/></signal>"
  "</interface>"
  "</node>";

/* --- what the icon shows --------------------------------------------------- */

/* List() carries kpr_status_to_string's words. */
static gboolean
is_status (const char *status, KprStatus which)
{
  return g_str_equal (status, kpr_status_to_string (which));
}

static const char *
status_name (KprTrayState state)
{
  /* Not "Passive" for all good: some panels hide passive items, and the
   * person should see that the agent is there. */
  return state == KPR_TRAY_ALL_GOOD ? "Active" : "NeedsAttention";
}

static const char *
icon_name (KprTrayState state)
{
  switch (state)
    {
    case KPR_TRAY_ATTENTION:
      return "dialog-warning";
    case KPR_TRAY_EXPIRED:
      return "dialog-error";
    case KPR_TRAY_ALL_GOOD:
    default:
      return "security-high";
    }
}

static const char *
attention_icon_name (KprTrayState state)
{
  return state == KPR_TRAY_ALL_GOOD ? "dialog-warning" : icon_name (state);
}

KprTrayState
kpr_tray_state_of (GVariant *list, guint attention)
{
  GVariantIter iter;
  const char *status;

  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(&s&s&sx)", NULL, &status, NULL, NULL))
    if (is_status (status, KPR_STATUS_EXPIRED) || is_status (status, KPR_STATUS_FAILED))
      return KPR_TRAY_EXPIRED;
  return attention ? KPR_TRAY_ATTENTION : KPR_TRAY_ALL_GOOD;
}

/* What "Renew now" should try again besides due, expired and failed:
 * what waits for a person, and a renewal whose new key waits while its
 * request keeps failing (status "in progress"; counted by Status() too). */
static gboolean
stuck (KprTray *tray, const char *name, const char *status)
{
  return tray->actions->stuck (tray->data, name, is_status (status, KPR_STATUS_IN_PROGRESS));
}

static char *
tooltip_of (GVariant *list, guint attention)
{
  GVariantIter iter;
  const char *name, *status, *nearest = NULL;
  gint64 not_after, soonest = G_MAXINT64;
  g_autofree char *when = NULL;

  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(&s&s&sx)", &name, &status, NULL, &not_after))
    if (not_after > 0 && not_after < soonest && !is_status (status, KPR_STATUS_REVOKED))
      {
        soonest = not_after;
        nearest = name;
      }
  if (!nearest)
    return g_strdup ("No certificates");
  when = kpr_time_for_people (soonest);
  if (attention)
    return g_strdup_printf ("Nearest expiry: %s on %s\n%u need%s attention", nearest, when,
                            attention, attention == 1 ? "s" : "");
  return g_strdup_printf ("Nearest expiry: %s on %s", nearest, when);
}

/* The identities "Renew now" is for: due, expired, failed, or stopped
 * waiting for a person (the click is the person). */
static GStrv
due_of (KprTray *tray, GVariant *list)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  GVariantIter iter;
  const char *name, *status, *state;

  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(&s&s&sx)", &name, &status, &state, NULL))
    {
      if (g_str_equal (state, "damaged"))
        continue; /* nothing a renewal can do */
      if (is_status (status, KPR_STATUS_RENEW_DUE) || is_status (status, KPR_STATUS_EXPIRED)
          || is_status (status, KPR_STATUS_FAILED) || stuck (tray, name, status))
        g_strv_builder_add (b, name);
    }
  return g_strv_builder_end (b);
}

static void
emit (KprTray *tray, const char *path, const char *iface, const char *signal, GVariant *args)
{
  g_autoptr (GError) error = NULL;

  if (!g_dbus_connection_emit_signal (tray->bus, NULL, path, iface, signal, args, &error))
    kpr_log (KPR_LOG_WARNING, "tray: cannot emit %s: %s", signal, error->message);
}

/* --- the item ------------------------------------------------------------- */

static void
on_item_method (KprTray *tray, const char *method, GDBusMethodInvocation *invocation)
{
  if (g_str_equal (method, "Activate"))
    {
      kpr_log (KPR_LOG_INFO, "tray: icon activated");
      tray->actions->open_gui (tray->data, NULL, NULL);
    }
  /* SecondaryActivate, ContextMenu (the panel shows Menu), Scroll: nothing
   * they could mean here. */
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
on_method (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
           const char *method, GVariant *params, GDBusMethodInvocation *invocation,
           gpointer data)
{
  if (g_str_equal (iface, MENU_IFACE))
    kpr_tray_menu_method (data, method, params, invocation);
  else
    on_item_method (data, method, invocation);
}

static GVariant *
no_pixmaps (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0);
}

static GVariant *
get_property (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
              const char *name, GError **error, gpointer data)
{
  KprTray *tray = data;

  if (g_str_equal (iface, MENU_IFACE))
    {
      if (g_str_equal (name, "Version"))
        return g_variant_new_uint32 (3);
      if (g_str_equal (name, "TextDirection"))
        return g_variant_new_string ("ltr");
      if (g_str_equal (name, "Status"))
        return g_variant_new_string ("normal");
      if (g_str_equal (name, "IconThemePath"))
        return g_variant_new_strv (NULL, 0);
    }
  else if (g_str_equal (name, "Category"))
    return g_variant_new_string ("ApplicationStatus");
  else if (g_str_equal (name, "Id"))
    return g_variant_new_string ("certkeeper");
  else if (g_str_equal (name, "Title"))
    return g_variant_new_string ("certkeeper");
  else if (g_str_equal (name, "Status"))
    return g_variant_new_string (status_name (tray->state));
  else if (g_str_equal (name, "WindowId"))
    return g_variant_new_int32 (0);
  else if (g_str_equal (name, "IconName"))
    return g_variant_new_string (icon_name (tray->state));
  else if (g_str_equal (name, "AttentionIconName"))
    return g_variant_new_string (attention_icon_name (tray->state));
  else if (g_str_equal (name, "IconThemePath") || g_str_equal (name, "OverlayIconName")
           || g_str_equal (name, "AttentionMovieName"))
    return g_variant_new_string ("");
  else if (g_str_has_suffix (name, "Pixmap"))
    return no_pixmaps ();
  else if (g_str_equal (name, "ToolTip"))
    return g_variant_new ("(s@a(iiay)ss)", icon_name (tray->state), no_pixmaps (), "certkeeper",
                          tray->tooltip);
  else if (g_str_equal (name, "ItemIsMenu"))
    return g_variant_new_boolean (FALSE); /* a click opens certkeeper */
  else if (g_str_equal (name, "Menu"))
    return g_variant_new_object_path (MENU_PATH);
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No property %s", name);
  return NULL;
}

static const GDBusInterfaceVTable vtable = { on_method, get_property, NULL, { 0 } };

/* --- the watcher ------------------------------------------------------------- */

static void
on_registered (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                              &error);

  if (reply)
    kpr_log (KPR_LOG_INFO, "tray: icon registered with %s", WATCHER_NAME);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    kpr_log (KPR_LOG_WARNING, "tray: %s refused the icon (%s); notifications only", WATCHER_NAME,
             error->message);
}

static void
on_watcher_appeared (GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
  KprTray *tray = data;

  tray->watcher_seen = TRUE;
  /* The spec takes a bus name or an object path; the unique name with
   * the default path /StatusNotifierItem is what every watcher knows. */
  g_dbus_connection_call (bus, owner, WATCHER_PATH, WATCHER_NAME, "RegisterStatusNotifierItem",
                          g_variant_new ("(s)", g_dbus_connection_get_unique_name (bus)), NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, on_registered, NULL);
}

static void
on_watcher_vanished (GDBusConnection *bus, const char *name, gpointer data)
{
  KprTray *tray = data;

  if (tray->watcher_seen)
    kpr_log (KPR_LOG_INFO, "tray: %s left the session bus; the icon comes back with it",
             WATCHER_NAME);
  else if (!tray->absence_logged)
    kpr_log (KPR_LOG_INFO, "tray: no %s on the session bus: no tray icon, reminders as "
                           "notifications only", WATCHER_NAME);
  tray->absence_logged = TRUE;
}

/* --- life ------------------------------------------------------------------ */

KprTray *
kpr_tray_new (GDBusConnection *bus, const KprTrayActions *actions, gpointer data,
              GError **error)
{
  g_autoptr (KprTray) tray = g_new0 (KprTray, 1);
  g_autoptr (GError) local = NULL;

  tray->actions = actions;
  tray->data = data;
  tray->bus = g_object_ref (bus);
  tray->tooltip = g_strdup ("Looking at the certificates…");
  tray->revision = 1;
  if (!(tray->node = g_dbus_node_info_new_for_xml (tray_xml, &local)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "The tray's D-Bus interface is broken: %s",
                   local->message);
      return NULL;
    }
  tray->item_id = g_dbus_connection_register_object (
    tray->bus, ITEM_PATH, g_dbus_node_info_lookup_interface (tray->node, ITEM_IFACE), &vtable,
    tray, NULL, &local);
  if (tray->item_id)
    tray->menu_id = g_dbus_connection_register_object (
      tray->bus, MENU_PATH, g_dbus_node_info_lookup_interface (tray->node, MENU_IFACE), &vtable,
      tray, NULL, &local);
  if (!tray->menu_id)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot export the tray icon: %s",
                   local->message);
      return NULL;
    }
  tray->watch_id = g_bus_watch_name_on_connection (tray->bus, WATCHER_NAME,
                                                   G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   on_watcher_appeared, on_watcher_vanished, tray,
                                                   NULL);
  return g_steal_pointer (&tray);
}

void
kpr_tray_free (KprTray *tray)
{
  if (!tray)
    return;
  if (tray->watch_id)
    g_bus_unwatch_name (tray->watch_id);
  if (tray->menu_id)
    g_dbus_connection_unregister_object (tray->bus, tray->menu_id);
  if (tray->item_id)
    g_dbus_connection_unregister_object (tray->bus, tray->item_id);
  if (tray->renew_idle)
    g_source_remove (tray->renew_idle);
  g_clear_pointer (&tray->node, g_dbus_node_info_unref);
  g_clear_object (&tray->bus);
  g_strfreev (tray->due);
  g_free (tray->tooltip);
  g_free (tray);
}

void
kpr_tray_update (KprTray *tray, GVariant *list, guint attention)
{
  KprTrayState state;
  g_autofree char *tooltip = NULL;
  g_auto (GStrv) due = NULL;
  gboolean could, can;

  if (!tray || !list)
    return;
  state = kpr_tray_state_of (list, attention);
  tooltip = tooltip_of (list, attention);
  due = due_of (tray, list);
  if (state != tray->state)
    {
      KprTrayState was = tray->state;

      tray->state = state;
      kpr_log (KPR_LOG_INFO, "tray: %s (%s)", status_name (state), icon_name (state));
      if (g_strcmp0 (status_name (was), status_name (state)) != 0)
        emit (tray, ITEM_PATH, ITEM_IFACE, "NewStatus",
              g_variant_new ("(s)", status_name (state)));
      emit (tray, ITEM_PATH, ITEM_IFACE, "NewIcon", NULL);
      if (g_strcmp0 (attention_icon_name (was), attention_icon_name (state)) != 0)
        emit (tray, ITEM_PATH, ITEM_IFACE, "NewAttentionIcon", NULL);
    }
  if (g_strcmp0 (tooltip, tray->tooltip) != 0)
    {
      g_free (tray->tooltip);
      tray->tooltip = g_steal_pointer (&tooltip);
      emit (tray, ITEM_PATH, ITEM_IFACE, "NewToolTip", NULL);
    }
  could = tray->due && tray->due[0];
  can = due[0] != NULL;
  g_strfreev (tray->due);
  tray->due = g_steal_pointer (&due);
  if (could != can)
    {
      GVariantBuilder updated;

      g_variant_builder_init (&updated, G_VARIANT_TYPE ("a(ia{sv})"));
      g_variant_builder_add (&updated, "(i@a{sv})", MENU_RENEW,
                             kpr_tray_menu_props (tray, MENU_RENEW, NULL));
      emit (tray, MENU_PATH, MENU_IFACE, "ItemsPropertiesUpdated",
            g_variant_new ("(a(ia{sv})a(ias))", &updated, NULL));
      /* Some panels only re-read the menu on a new revision. */
      tray->revision++;
      emit (tray, MENU_PATH, MENU_IFACE, "LayoutUpdated",
            g_variant_new ("(ui)", tray->revision, MENU_ROOT));
    }
}
