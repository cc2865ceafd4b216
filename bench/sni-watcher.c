/* sni-watcher.c — a do-nothing org.kde.StatusNotifierWatcher for
 * idle-agent.sh: owns the name, accepts RegisterStatusNotifierItem and
 * prints "registered SERVICE" so the script knows the tray is live, then
 * sleeps in its main loop until SIGTERM.  It never calls the item, so it
 * causes no wake-ups in the agent it watches.
 *
 *   cc -O2 bench/sni-watcher.c -o /tmp/sni-watcher $(pkg-config --cflags --libs gio-2.0)
 */
#include <stdio.h>

#include <gio/gio.h>
#include <glib-unix.h>

static const char xml[] =
  "<node><interface name='org.kde.StatusNotifierWatcher'>"
  "<method name='RegisterStatusNotifierItem'><arg type='s' direction='in'/></method>"
  "<method name='RegisterStatusNotifierHost'><arg type='s' direction='in'/></method>"
  "<property name='RegisteredStatusNotifierItems' type='as' access='read'/>"
  "<property name='IsStatusNotifierHostRegistered' type='b' access='read'/>"
  "<property name='ProtocolVersion' type='i' access='read'/>"
  "<signal name='StatusNotifierItemRegistered'><arg type='s'/></signal>"
  "</interface></node>";

static void
on_method (GDBusConnection *c, const char *sender, const char *path, const char *iface,
           const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
  if (g_str_equal (method, "RegisterStatusNotifierItem"))
    {
      const char *service;

      g_variant_get (params, "(&s)", &service);
      printf ("registered %s from %s\n", service, sender);
      fflush (stdout);
    }
  g_dbus_method_invocation_return_value (inv, NULL);
}

static GVariant *
on_get (GDBusConnection *c, const char *sender, const char *path, const char *iface,
        const char *name, GError **error, gpointer data)
{
  if (g_str_equal (name, "RegisteredStatusNotifierItems"))
    return g_variant_new_strv (NULL, 0);
  if (g_str_equal (name, "IsStatusNotifierHostRegistered"))
    return g_variant_new_boolean (TRUE);
  return g_variant_new_int32 (0);
}

static gboolean
on_term (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (void)
{
  static const GDBusInterfaceVTable vtable = { on_method, on_get, NULL, { 0 } };
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_autoptr (GDBusNodeInfo) node = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GVariant) reply = NULL;

  if (!bus || !(node = g_dbus_node_info_new_for_xml (xml, &error))
      || !g_dbus_connection_register_object (bus, "/StatusNotifierWatcher", node->interfaces[0],
                                             &vtable, NULL, NULL, &error)
      || !(reply = g_dbus_connection_call_sync (
             bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
             "RequestName", g_variant_new ("(su)", "org.kde.StatusNotifierWatcher", 4u),
             G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error)))
    {
      fprintf (stderr, "sni-watcher: %s\n", error->message);
      return 1;
    }
  printf ("watching\n");
  fflush (stdout);
  g_unix_signal_add (SIGTERM, on_term, loop);
  g_main_loop_run (loop);
  return 0;
}
