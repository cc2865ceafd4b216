/* test-tray.c — certkeeper-agent's tray icon on a private session bus
 * (run under dbus-run-session by test-tray.sh, which enrolled the
 * identity "tray" with a 60 s certificate, wrote the PIN file into
 * certkeeper.conf and stopped the server).
 *
 * This program plays the panel: it starts the agent with no
 * StatusNotifierWatcher on the bus, then owns org.kde.StatusNotifierWatcher
 * itself (a late panel), and org.certkeeper.Certkeeper (the GUI, to see
 * "Open certkeeper" arrive).  It checks what a person would see:
 *   * without a watcher the agent runs on and logs that there is no tray;
 *   * a watcher that appears later gets RegisterStatusNotifierItem;
 *   * the item's Status, IconName, ToolTip (naming the identity) and Menu;
 *   * the dbusmenu layout: Open certkeeper, Renew now (disabled), a
 *     separator, Quit;
 *   * "Open certkeeper" and Activate call org.freedesktop.Application.Activate;
 *     with no GUI on the bus (nor a service file to start one), the agent
 *     starts certkeeper-gtk from PATH (test-tray.sh puts a stand-in there
 *     that records its arguments into GUI-MARK: the real GUI needs a
 *     display) with nothing on its argv;
 *   * the renewal due with the server down: NewStatus("NeedsAttention"),
 *     "Renew now" enabled (ItemsPropertiesUpdated);
 *   * the server back, Event(Renew now, "clicked") → Renewed on
 *     org.certkeeper.Agent1 and NewStatus("Active");
 *   * the watcher gone and back → registered again;
 *   * Event(Quit, "clicked") → the agent exits 0.
 *
 * Usage: test-tray AGENT AGENT-LOG CA-BIN CA-DIR PORT OUTBOX GUI-MARK
 * Prints TAP.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "test-bus.h"

#define WATCHER "org.kde.StatusNotifierWatcher"
#define ITEM_IFACE "org.kde.StatusNotifierItem"
#define MENU_IFACE "com.canonical.dbusmenu"

static const char watcher_xml[] =
  "<node><interface name='" WATCHER "'>"
  "<method name='RegisterStatusNotifierItem'><arg type='s' direction='in'/></method>"
  "<method name='RegisterStatusNotifierHost'><arg type='s' direction='in'/></method>"
  "<property name='RegisteredStatusNotifierItems' type='as' access='read'/>"
  "<property name='IsStatusNotifierHostRegistered' type='b' access='read'/>"
  "<property name='ProtocolVersion' type='i' access='read'/>"
  "<signal name='StatusNotifierItemRegistered'><arg type='s'/></signal>"
  "</interface>"
  "<interface name='org.freedesktop.Application'>"
  "<method name='Activate'><arg type='a{sv}' direction='in'/></method>"
  "</interface></node>";

static GDBusConnection *bus;
static char *registered_by, *registered_service;
static guint registrations, activations, menu_updates;
static char *last_new_status;
static char *renewed_serial;

static void
on_method (GDBusConnection *c, const char *sender, const char *path, const char *iface,
           const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
  if (g_str_equal (method, "RegisterStatusNotifierItem"))
    {
      g_free (registered_by);
      g_free (registered_service);
      registered_by = g_strdup (sender);
      g_variant_get (params, "(s)", &registered_service);
      registrations++;
      printf ("# RegisterStatusNotifierItem(%s) from %s\n", registered_service, sender);
      g_dbus_connection_emit_signal (c, NULL, path, iface, "StatusNotifierItemRegistered",
                                     g_variant_new ("(s)", registered_service), NULL);
    }
  else if (g_str_equal (method, "Activate"))
    {
      activations++;
      printf ("# org.freedesktop.Application.Activate from %s\n", sender);
    }
  g_dbus_method_invocation_return_value (inv, NULL);
}

static GVariant *
on_get (GDBusConnection *c, const char *sender, const char *path, const char *iface,
        const char *name, GError **error, gpointer data)
{
  if (g_str_equal (name, "RegisteredStatusNotifierItems"))
    {
      const char *items[] = { registered_service, NULL };
      return g_variant_new_strv (items, registered_service ? 1 : 0);
    }
  if (g_str_equal (name, "IsStatusNotifierHostRegistered"))
    return g_variant_new_boolean (TRUE);
  return g_variant_new_int32 (0);
}

static char *agent_name; /* the agent's unique name */
static void print_state (void);

static void
on_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface,
           const char *signal, GVariant *params, gpointer data)
{
  g_autofree char *text = g_variant_print (params, FALSE);

  printf ("# signal %s.%s%s\n", iface, signal, text);
  if (g_str_equal (signal, "NewStatus"))
    {
      g_free (last_new_status);
      g_variant_get (params, "(s)", &last_new_status);
    }
  else if (g_str_equal (signal, "ItemsPropertiesUpdated"))
    menu_updates++;
  else if (g_str_equal (signal, "NewToolTip") || g_str_equal (signal, "Changed"))
    print_state ();
  else if (g_str_equal (signal, "Renewed"))
    {
      g_free (renewed_serial);
      g_variant_get (params, "(&ss)", NULL, &renewed_serial);
    }
}

static char *
name_owner (const char *name)
{
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
    bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
    g_variant_new ("(s)", name), G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  char *owner = NULL;

  if (r)
    g_variant_get (r, "(s)", &owner);
  return owner;
}

static gboolean
bus_name (const char *method, const char *name)
{
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
    bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", method,
    g_str_equal (method, "RequestName") ? g_variant_new ("(su)", name, 4u)
                                        : g_variant_new ("(s)", name),
    G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  guint32 code = 0;

  if (r)
    g_variant_get (r, "(u)", &code);
  return code == 1; /* PRIMARY_OWNER / RELEASED */
}

static GVariant *
item_call (const char *path, const char *iface, const char *method, GVariant *args,
           const char *type, GError **error)
{
  return g_dbus_connection_call_sync (bus, agent_name, path, iface, method, args,
                                      type ? G_VARIANT_TYPE (type) : NULL, G_DBUS_CALL_FLAGS_NONE,
                                      30000, NULL, error);
}

/* A property of the item, as a panel reads it. */
static GVariant *
item_prop (const char *name)
{
  g_autoptr (GVariant) r = item_call ("/StatusNotifierItem", "org.freedesktop.DBus.Properties",
                                      "Get", g_variant_new ("(ss)", ITEM_IFACE, name), "(v)",
                                      NULL);
  GVariant *v = NULL;

  if (r)
    g_variant_get (r, "(v)", &v);
  return v;
}

static char *
item_string (const char *name)
{
  g_autoptr (GVariant) v = item_prop (name);
  return v && g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) ? g_variant_dup_string (v, NULL)
                                                               : g_strdup ("");
}

/* For the log: what the panel shows and what the agent lists. */
static void
print_state (void)
{
  g_autoptr (GVariant) tip = item_prop ("ToolTip");
  g_autoptr (GVariant) list = g_dbus_connection_call_sync (
    bus, "org.certkeeper.Agent1", "/org/certkeeper/Agent1", "org.certkeeper.Agent1", "List", NULL,
    NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, NULL);
  g_autofree char *tip_text = tip ? g_variant_print (tip, FALSE) : g_strdup ("-");
  g_autofree char *list_text = list ? g_variant_print (list, FALSE) : g_strdup ("-");

  printf ("# ToolTip %s; List %s\n", tip_text, list_text);
}

static gboolean
status_is (gpointer data)
{
  g_autofree char *status = item_string ("Status");
  return g_str_equal (status, data);
}

static gboolean
new_status_is (gpointer data)
{
  return g_strcmp0 (last_new_status, data) == 0;
}

static gboolean
registered (gpointer data)
{
  return registrations >= GPOINTER_TO_UINT (data);
}

static gboolean
counter_reached (gpointer data)
{
  return activations >= GPOINTER_TO_UINT (data);
}

static gboolean
menu_updated (gpointer data)
{
  return menu_updates > 0;
}

static gboolean
renewed (gpointer data)
{
  return renewed_serial != NULL;
}

static gboolean
renew_enabled (void)
{
  g_autoptr (GVariant) r = item_call ("/MenuBar", MENU_IFACE, "GetProperty",
                                      g_variant_new ("(is)", 2, "enabled"), "(v)", NULL);
  g_autoptr (GVariant) v = NULL;

  if (!r)
    return FALSE;
  g_variant_get (r, "(v)", &v);
  return g_variant_get_boolean (v);
}

static gboolean
menu_event (int id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = item_call ("/MenuBar", MENU_IFACE, "Event",
                                      g_variant_new ("(isvu)", id, "clicked",
                                                     g_variant_new_string (""), 0u),
                                      "()", &error);
  if (error)
    printf ("# Event(%d): %s\n", id, error->message);
  return r != NULL;
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean
log_says_no_tray (gpointer data)
{
  return log_has ((gpointer) "no org.kde.StatusNotifierWatcher on the session bus");
}

/* The layout's items below the root: id → label (or "-" for a separator). */
static void
check_layout (void)
{
  g_autoptr (GError) error = NULL;
  const char *names[] = { NULL };
  g_autoptr (GVariant) r = item_call ("/MenuBar", MENU_IFACE, "GetLayout",
                                      g_variant_new ("(ii^as)", 0, -1, names), "(u(ia{sv}av))",
                                      &error);
  g_autoptr (GVariant) children = NULL, root = NULL;
  g_autoptr (GString) seen = g_string_new ("");
  GVariantIter iter;
  GVariant *child;
  guint32 revision;

  check (r != NULL, "the menu answers GetLayout");
  if (!r)
    {
      printf ("# %s\n", error->message);
      return;
    }
  g_variant_get (r, "(u@(ia{sv}av))", &revision, &root);
  children = g_variant_get_child_value (root, 2);
  g_variant_iter_init (&iter, children);
  while (g_variant_iter_next (&iter, "v", &child))
    {
      g_autoptr (GVariant) props = g_variant_get_child_value (child, 1);
      const char *label = NULL, *type = NULL;

      g_variant_lookup (props, "label", "&s", &label);
      g_variant_lookup (props, "type", "&s", &type);
      g_string_append_printf (seen, "%s|", label ? label : type ? type : "?");
      g_variant_unref (child);
    }
  printf ("# layout revision %u: %s\n", revision, seen->str);
  check (g_str_equal (seen->str, "Open certkeeper|Renew now|separator|Quit|"),
         "GetLayout: Open certkeeper, Renew now, a separator, Quit");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusNodeInfo) node = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) agent = NULL, server = NULL;
  static const GDBusInterfaceVTable vtable = { on_method, on_get, NULL, { 0 } };
  const char *agent_path, *ca_bin, *ca_dir, *port, *outbox, *gui_mark;
  /* The GUI's id of this build (a development build's ends in .Devel). */
  const char *gui_id = g_getenv ("KPR_GUI_APP_ID") ? g_getenv ("KPR_GUI_APP_ID")
                                                   : "org.certkeeper.Certkeeper";
  g_autofree char *gui_path = g_strdelimit (g_strconcat ("/", gui_id, NULL), ".", '/');

  if (argc != 8)
    {
      fprintf (stderr, "usage: %s AGENT AGENT-LOG CA-BIN CA-DIR PORT OUTBOX GUI-MARK\n", argv[0]);
      return 2;
    }
  agent_path = argv[1], agent_log = argv[2], ca_bin = argv[3], ca_dir = argv[4];
  port = argv[5], outbox = argv[6], gui_mark = argv[7];
  printf ("TAP version 13\n");

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  node = g_dbus_node_info_new_for_xml (watcher_xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (bus, "/StatusNotifierWatcher", node->interfaces[0], &vtable,
                                     NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (bus, gui_path, node->interfaces[1],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  check (bus_name ("RequestName", gui_id), "plays the GUI's bus name");
  g_dbus_connection_signal_subscribe (bus, NULL, NULL, NULL, NULL, NULL,
                                      G_DBUS_SIGNAL_FLAGS_NONE, on_signal, NULL, NULL);

  /* 1. No watcher: the agent runs on, notifications only. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_set_stderr_file_path (launcher, agent_log);
  agent = g_subprocess_launcher_spawn (launcher, &error, agent_path, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (agent, NULL, on_agent_exit, NULL);
  check (wait_for (agent_on_bus, bus, 30), "the agent owns org.certkeeper.Agent1");
  agent_name = name_owner ("org.certkeeper.Agent1");
  check (wait_for (log_says_no_tray, (gpointer) agent_log, 10),
         "without a watcher the agent logs that there is no tray");
  pause_for (1);
  check (!agent_done && agent_on_bus (bus), "without a watcher the agent keeps running");
  check (registrations == 0, "nothing registered while there is no watcher");

  /* 2. The panel comes after the agent. */
  check (bus_name ("RequestName", WATCHER), "owns org.kde.StatusNotifierWatcher");
  check (wait_for (registered, GUINT_TO_POINTER (1), 15),
         "a watcher that appears later gets RegisterStatusNotifierItem");
  check (g_strcmp0 (registered_by, agent_name) == 0
           && (g_strcmp0 (registered_service, agent_name) == 0
               || g_strcmp0 (registered_service, "/StatusNotifierItem") == 0),
         "the agent registered itself (its unique name or /StatusNotifierItem)");

  /* 3. What the panel shows while all is well. */
  {
    g_autofree char *status = item_string ("Status");
    g_autofree char *icon = item_string ("IconName");
    g_autofree char *category = item_string ("Category");
    g_autofree char *id = item_string ("Id");
    g_autoptr (GVariant) menu = item_prop ("Menu");
    g_autoptr (GVariant) tip = item_prop ("ToolTip");
    const char *title = "", *text = "";

    printf ("# Status=%s IconName=%s Category=%s Id=%s\n", status, icon, category, id);
    check (g_str_equal (status, "Active") && g_str_equal (icon, "security-high"),
           "all good: Status Active, IconName security-high");
    check (g_str_equal (category, "ApplicationStatus") && g_str_equal (id, "certkeeper"),
           "Category ApplicationStatus, Id certkeeper");
    check (menu && g_variant_is_of_type (menu, G_VARIANT_TYPE_OBJECT_PATH)
             && g_str_equal (g_variant_get_string (menu, NULL), "/MenuBar"),
           "Menu is /MenuBar");
    if (tip && g_variant_is_of_type (tip, G_VARIANT_TYPE ("(sa(iiay)ss)")))
      g_variant_get (tip, "(&s@a(iiay)&s&s)", NULL, NULL, &title, &text);
    printf ("# ToolTip: %s — %s\n", title, text);
    check (strstr (text, "Nearest expiry: tray on ") != NULL,
           "the tooltip names the identity with the nearest expiry");
  }
  check_layout ();
  check (!renew_enabled (), "Renew now is disabled while nothing is due");

  /* 4. Open certkeeper: the GUI is activated over D-Bus. */
  check (menu_event (1), "Event(Open certkeeper, clicked) answers");
  check (wait_for (counter_reached, GUINT_TO_POINTER (1), 10),
         "Open certkeeper → org.freedesktop.Application.Activate");
  {
    g_autoptr (GVariant) r = item_call ("/StatusNotifierItem", ITEM_IFACE, "Activate",
                                        g_variant_new ("(ii)", 0, 0), "()", NULL);
    check (r && wait_for (counter_reached, GUINT_TO_POINTER (2), 10),
           "Activate on the icon → the GUI too");
  }
  check (bus_name ("ReleaseName", gui_id), "the GUI leaves the bus");
  check (menu_event (1), "Event(Open certkeeper, clicked) with no GUI on the bus answers");
  {
    g_autofree char *mark = NULL;

    check (wait_for (file_exists, (gpointer) gui_mark, 10)
             && g_file_get_contents (gui_mark, &mark, NULL, NULL)
             && g_str_equal (g_strstrip (mark), "args=0"),
           "no GUI on the bus: certkeeper-gtk started, nothing on its argv");
    printf ("# %s: %s\n", gui_mark, mark ? mark : "missing");
  }

  /* 5. The renewal falls due while the server is down. */
  check (wait_for (new_status_is, "NeedsAttention", 60),
         "renewal due and failing: NewStatus(NeedsAttention)");
  {
    g_autofree char *status = item_string ("Status");
    g_autofree char *icon = item_string ("IconName");
    printf ("# Status=%s IconName=%s\n", status, icon);
    check (g_str_equal (status, "NeedsAttention")
             && (g_str_equal (icon, "dialog-warning") || g_str_equal (icon, "dialog-error")),
           "Status NeedsAttention with a warning or error icon");
  }
  /* NewStatus comes first; the menu's signal follows in the same round. */
  check (wait_for (menu_updated, NULL, 10) && renew_enabled (),
         "Renew now enabled, announced with ItemsPropertiesUpdated");

  /* 6. The server is back; the person clicks Renew now. */
  server = start_server (ca_bin, ca_dir, port, outbox);
  g_clear_pointer (&last_new_status, g_free);
  check (menu_event (2), "Event(Renew now, clicked) answers at once");
  check (wait_for (renewed, NULL, 40), "Renew now → Renewed on org.certkeeper.Agent1");
  /* The signal, then the property: a reply to a Get overtakes signals
   * still waiting in this program's main context. */
  check (wait_for (new_status_is, "Active", 15) && status_is ("Active"),
         "after the renewal: NewStatus(Active), Status Active");

  /* 7. The panel restarts: the icon registers again. */
  check (bus_name ("ReleaseName", WATCHER), "the watcher leaves the bus");
  pause_for (1);
  check (bus_name ("RequestName", WATCHER), "the watcher comes back");
  check (wait_for (registered, GUINT_TO_POINTER (2), 15), "the agent registers again");

  /* 8. Quit. */
  check (menu_event (4), "Event(Quit, clicked) answers");
  check (wait_for (exited, NULL, 20), "Quit ends the agent");
  if (!agent_done)
    {
      g_subprocess_force_exit (agent);
      g_subprocess_wait (agent, NULL, NULL);
    }
  check (g_subprocess_get_if_exited (agent) && g_subprocess_get_exit_status (agent) == 0,
         "Quit: exit 0");

  if (server)
    {
      g_subprocess_send_signal (server, SIGTERM);
      g_subprocess_wait (server, NULL, NULL);
    }
  printf ("1..%d\n", tap_n);
  g_free (registered_by);
  g_free (registered_service);
  g_free (last_new_status);
  g_free (renewed_serial);
  g_free (agent_name);
  g_object_unref (bus);
  return tap_failed ? 1 : 0;
}
