/* kpr-desktop-bus.c — the desktop agent on the session bus: the
 * org.certkeeper.Agent1 service (introspection in org.certkeeper.Agent1.xml,
 * compiled in as a resource) and reminders through
 * org.freedesktop.Notifications.
 *
 * Notifications are plain GDBus calls, not libnotify: the resident agent
 * stays small and links no GTK.  A session without a notification server
 * only loses the pop-ups (logged); the D-Bus signals still go out for
 * front ends (the future tray) to show.
 *
 * Method calls are answered from the main loop, which also runs the
 * renewals: a Renew replies when its attempt is over, and a List during a
 * renewal waits for it (seconds).
 */
#include "config.h"

#include "kpr-agent-bus.h"
#include "kpr-desktop.h"
#include "kpr-log.h"

#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"

void
kpr_desktop_emit (KprDesktop *desktop, const char *signal, GVariant *args)
{
  g_autoptr (GError) error = NULL;

  g_variant_ref_sink (args);
  if (desktop->bus
      && !g_dbus_connection_emit_signal (desktop->bus, NULL, KPR_AGENT_BUS_PATH, KPR_AGENT_BUS_INTERFACE, signal, args,
                                         &error))
    kpr_log (KPR_LOG_WARNING, "cannot emit %s: %s", signal, error->message);
  g_variant_unref (args);
}

/* --- certkeeper-gtk ------------------------------------------------------- */

/* certkeeper-gtk is a GApplication of this build's id (config.h):
 * Activate raises its window, ActivateAction("renew", ["NAME"]) renews
 * there with its PIN and secret-word dialogs; the bus starts it through
 * D-Bus activation when it does not run. */
#define GUI_PROGRAM "certkeeper-gtk"

static void
on_gui_activated (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                              &error);
  g_autofree char *what = data;
  char *argv[] = { (char *) GUI_PROGRAM, NULL };

  if (reply)
    {
      kpr_log (KPR_LOG_INFO, "certkeeper-gtk: %s", what);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return;
  kpr_log (KPR_LOG_NOTICE, "%s cannot be activated (%s); starting %s", KPR_GUI_APP_ID,
           error->message, GUI_PROGRAM);
  g_clear_error (&error);
  /* No shell and nothing but the program's name on its argv; without
   * DO_NOT_REAP_CHILD GLib's intermediate child leaves no zombie. */
  if (!g_spawn_async (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &error))
    kpr_log (KPR_LOG_WARNING, "cannot start %s: %s", GUI_PROGRAM, error->message);
  else
    kpr_log (KPR_LOG_INFO, "started %s", GUI_PROGRAM);
}

void
kpr_desktop_open_gui (KprDesktop *desktop, const char *action, const char *name)
{
  GVariant *args;
  char *what;

  if (!desktop->bus)
    return;
  if (action)
    {
      GVariant *param = g_variant_new_string (name ? name : "");
      args = g_variant_new ("(s@av@a{sv})", action,
                            g_variant_new_array (G_VARIANT_TYPE_VARIANT,
                                                 (GVariant *[]) { g_variant_new_variant (param) }, 1),
                            g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
      what = g_strdup_printf ("asked to %s “%s”", action, name ? name : "");
    }
  else
    {
      args = g_variant_new ("(@a{sv})", g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
      what = g_strdup ("activated");
    }
  g_dbus_connection_call (desktop->bus, KPR_GUI_APP_ID, KPR_GUI_APP_PATH,
                          "org.freedesktop.Application", action ? "ActivateAction" : "Activate",
                          args, NULL, G_DBUS_CALL_FLAGS_NONE, 25000, NULL, on_gui_activated, what);
}

/* --- org.certkeeper.Agent1 ------------------------------------------------ */

static void
return_error (GDBusMethodInvocation *invocation, const GError *error, KprAgentNeeds needs)
{
  const char *name = "Failed";

  if (needs)
    {
      /* "pin: The token … needs its PIN": a front end reads the kind
       * before the colon and asks for it. */
      g_autofree char *message = g_strdup_printf ("%s: %s", kpr_agent_needs_to_string (needs),
                                                  error->message);
      g_dbus_method_invocation_return_dbus_error (invocation, KPR_AGENT_BUS_ERROR "NeedsSecret", message);
      return;
    }
  if (g_error_matches (error, KPR_ERROR, KPR_ERROR_NOT_FOUND))
    name = "NotFound";
  else if (g_error_matches (error, KPR_ERROR, KPR_ERROR_BUSY))
    name = "Busy";
  {
    g_autofree char *full = g_strconcat (KPR_AGENT_BUS_ERROR, name, NULL);
    g_dbus_method_invocation_return_dbus_error (invocation, full, error->message);
  }
}

static void
on_method (GDBusConnection *bus, const char *sender, const char *path, const char *interface,
           const char *method, GVariant *params, GDBusMethodInvocation *invocation,
           gpointer data)
{
  KprDesktop *desktop = data;
  g_autoptr (GError) error = NULL;

  if (g_str_equal (method, "List") || g_str_equal (method, "Status"))
    {
      guint attention = 0;
      g_autoptr (GVariant) list = kpr_desktop_list (desktop, &attention, &error);

      if (!list)
        return_error (invocation, error, KPR_AGENT_NEEDS_NOTHING);
      else if (g_str_equal (method, "List"))
        g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a(sssx))", list));
      else
        g_dbus_method_invocation_return_value (
          invocation, g_variant_new ("(ux)", attention,
                                     desktop->deadline == G_MAXINT64 ? (gint64) 0
                                                                     : desktop->deadline));
    }
  else if (g_str_equal (method, "Waiting"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(@a(sss))", kpr_desktop_waiting (desktop)));
  else if (g_str_equal (method, "Renew"))
    {
      const char *name;
      KprAgentNeeds needs = KPR_AGENT_NEEDS_NOTHING;

      g_variant_get (params, "(&s)", &name);
      kpr_log (KPR_LOG_INFO, "%s: renewal asked for by %s", name, sender);
      if (kpr_desktop_renew_now (desktop, name, TRUE, &needs, &error))
        g_dbus_method_invocation_return_value (invocation, NULL);
      else
        return_error (invocation, error, needs);
    }
  else
    g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.UnknownMethod",
                                                method);
}

static const GDBusInterfaceVTable vtable = { on_method, NULL, NULL, { 0 } };

/* --- notifications --------------------------------------------------------- */

typedef struct {
  KprDesktop *desktop;
  char *name;
} NotifyCall;

static void
on_notified (GObject *source, GAsyncResult *result, gpointer data)
{
  NotifyCall *call = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                              &error);

  if (!reply)
    {
      /* No notification server (a bare session, a kiosk-like desktop):
       * the log and the D-Bus signals carry the reminder. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
        kpr_log (KPR_LOG_NOTICE, "%s: no desktop notification shown (%s)", call->name,
                 error->message);
    }
  else if (call->desktop)
    {
      KprDesktopIdentity *id = g_hash_table_lookup (call->desktop->identities, call->name);
      if (id)
        g_variant_get (reply, "(u)", &id->notification);
    }
  g_free (call->name);
  g_free (call);
}

/* @actions: NULL-terminated key, label pairs; @urgency: 0 low, 1 normal,
 * 2 critical. */
static void
notify (KprDesktop *desktop, KprDesktopIdentity *id, const char *icon, const char *summary,
        const char *body, const char *const *actions, guchar urgency)
{
  GVariantBuilder hints;
  NotifyCall *call;

  if (!desktop->bus)
    return;
  g_variant_builder_init (&hints, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&hints, "{sv}", "desktop-entry", g_variant_new_string ("certkeeper"));
  g_variant_builder_add (&hints, "{sv}", "urgency", g_variant_new_byte (urgency));
  call = g_new0 (NotifyCall, 1);
  call->desktop = desktop;
  call->name = g_strdup (id->name);
  /* replaces_id: one bubble per identity, updated rather than stacked. */
  g_dbus_connection_call (desktop->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME, "Notify",
                          g_variant_new ("(susss^as@a{sv}i)", "certkeeper", id->notification,
                                         icon, summary, body, actions,
                                         g_variant_builder_end (&hints), -1),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 10000, NULL,
                          on_notified, call);
}

void
kpr_desktop_notify (KprDesktop *desktop, KprDesktopIdentity *id, const char *summary,
                    const char *body)
{
  static const char *const actions[] = { "renew", "Renew now", "later", "Later", NULL };

  notify (desktop, id, "security-medium", summary, body, actions, 2);
}

void
kpr_desktop_inform (KprDesktop *desktop, KprDesktopIdentity *id, const char *summary,
                    const char *body)
{
  static const char *const none[] = { NULL };

  /* It replaces the identity's reminder, whose "Renew now" is moot now. */
  notify (desktop, id, "security-high", summary, body, none, 1);
}

static KprDesktopIdentity *
identity_for_notification (KprDesktop *desktop, guint32 nid)
{
  GHashTableIter iter;
  gpointer value;

  if (nid == 0)
    return NULL;
  g_hash_table_iter_init (&iter, desktop->identities);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((KprDesktopIdentity *) value)->notification == nid)
      return value;
  return NULL;
}

static void
on_action (GDBusConnection *bus, const char *sender, const char *path, const char *interface,
           const char *signal, GVariant *params, gpointer data)
{
  KprDesktop *desktop = data;
  KprDesktopIdentity *id;
  guint32 nid;
  const char *action = NULL;

  if (g_str_equal (signal, "NotificationClosed"))
    {
      g_variant_get (params, "(uu)", &nid, NULL);
      if ((id = identity_for_notification (desktop, nid)))
        id->notification = 0;
      return;
    }
  g_variant_get (params, "(u&s)", &nid, &action);
  if (!(id = identity_for_notification (desktop, nid)))
    return; /* another program's notification */
  if (g_str_equal (action, "renew"))
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup (id->name);
      KprAgentNeeds needs = KPR_AGENT_NEEDS_NOTHING;

      kpr_log (KPR_LOG_INFO, "%s: “Renew now” chosen in the notification", name);
      if (!kpr_desktop_renew_now (desktop, name, FALSE, &needs, &error))
        {
          kpr_log (KPR_LOG_WARNING, "%s: renewal failed: %s", name, error->message);
          /* The person is right there: the window asks for what the
           * agent cannot read from a file. */
          if (needs)
            kpr_desktop_open_gui (desktop, "renew", name);
        }
    }
  else if (g_str_equal (action, "later"))
    {
      /* The scheduler reminds again one reminder interval after this. */
      kpr_log (KPR_LOG_INFO, "%s: reminder postponed", id->name);
      id->last_reminder = g_get_real_time () / G_USEC_PER_SEC;
      kpr_desktop_rearm (desktop, 0, "reminder postponed");
    }
}

/* --- owning the name ----------------------------------------------------- */

static void
on_name_acquired (GDBusConnection *bus, const char *name, gpointer data)
{
  KprDesktop *desktop = data;

  desktop->name_owned = TRUE;
  kpr_log (KPR_LOG_INFO, "serving %s on the session bus", name);
  kpr_desktop_rearm (desktop, 0, "started");
}

static void
on_name_lost (GDBusConnection *bus, const char *name, gpointer data)
{
  KprDesktop *desktop = data;

  /* Two agents over one store would only take turns at its lock; the
   * one that came second leaves. */
  kpr_log (KPR_LOG_ERR, "%s: %s", name,
           desktop->name_owned ? "lost the name on the session bus"
                               : "another certkeeper-agent already runs in this session");
  desktop->status = KPR_ERROR_BUSY;
  if (desktop->loop)
    g_main_loop_quit (desktop->loop);
}

gboolean
kpr_desktop_bus_start (KprDesktop *desktop, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) xml = NULL;
  g_autoptr (GDBusNodeInfo) node = NULL;

  if (!(desktop->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &local)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "No session bus (%s): the desktop mode needs one; on a kiosk run "
                   "certkeeper-agent --headless", local->message);
      return FALSE;
    }
  xml = g_resources_lookup_data ("/org/certkeeper/agent/org.certkeeper.Agent1.xml",
                                 G_RESOURCE_LOOKUP_FLAGS_NONE, &local);
  if (!xml || !(node = g_dbus_node_info_new_for_xml (g_bytes_get_data (xml, NULL), &local)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "The D-Bus interface is broken: %s",
                   local->message);
      return FALSE;
    }
  desktop->object_id = g_dbus_connection_register_object (desktop->bus, KPR_AGENT_BUS_PATH,
                                                          node->interfaces[0], &vtable, desktop,
                                                          NULL, &local);
  if (!desktop->object_id)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot export %s: %s", KPR_AGENT_BUS_PATH,
                   local->message);
      return FALSE;
    }
  desktop->action_sub = g_dbus_connection_signal_subscribe (
    desktop->bus, NOTIFY_NAME, NOTIFY_NAME, "ActionInvoked", NOTIFY_PATH, NULL,
    G_DBUS_SIGNAL_FLAGS_NONE, on_action, desktop, NULL);
  desktop->closed_sub = g_dbus_connection_signal_subscribe (
    desktop->bus, NOTIFY_NAME, NOTIFY_NAME, "NotificationClosed", NOTIFY_PATH, NULL,
    G_DBUS_SIGNAL_FLAGS_NONE, on_action, desktop, NULL);
  desktop->owner_id = g_bus_own_name_on_connection (desktop->bus, KPR_AGENT_BUS_NAME,
                                                    G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                    on_name_acquired, on_name_lost, desktop,
                                                    NULL);
  return TRUE;
}

void
kpr_desktop_bus_stop (KprDesktop *desktop)
{
  if (!desktop->bus)
    return;
  if (desktop->owner_id)
    g_bus_unown_name (desktop->owner_id);
  if (desktop->action_sub)
    g_dbus_connection_signal_unsubscribe (desktop->bus, desktop->action_sub);
  if (desktop->closed_sub)
    g_dbus_connection_signal_unsubscribe (desktop->bus, desktop->closed_sub);
  if (desktop->object_id)
    g_dbus_connection_unregister_object (desktop->bus, desktop->object_id);
  desktop->owner_id = desktop->action_sub = desktop->closed_sub = desktop->object_id = 0;
  /* Let queued signals and replies go out before the process ends. */
  g_dbus_connection_flush_sync (desktop->bus, NULL, NULL);
  g_clear_object (&desktop->bus);
}
