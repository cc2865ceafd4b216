/* test-desktop.c — certkeeper-agent's desktop mode on a private session
 * bus (run under dbus-run-session by test-desktop.sh, which enrolled the
 * identity "desk" with a 60 s certificate and stopped the server).
 *
 * This program plays the desktop around the agent: it owns
 * org.freedesktop.Notifications and records Notify calls, starts the
 * agent, and checks what a person (and a front end) would see:
 *   * List() shows desk, ACTIVE, with its notAfter;
 *   * Renew("nosuch") fails with org.certkeeper.Agent1.Error.NotFound;
 *   * when the renewal is due and the server is down, a notification
 *     with the actions "renew" and "later" arrives;
 *   * after the server is back, ActionInvoked(id, "renew") leads to a
 *     Renewed(desk, serial) signal with a new serial;
 *   * every renewal nobody watched (that one, then two by the scheduler
 *     alone) is told in a notification without actions, "Valid until …",
 *     with "Restart Chromium to use it there." while a Chromium (a fake
 *     process of that name) runs since before desk's module was
 *     registered, and without it once that Chromium has ended;
 *   * SIGTERM ends the agent with exit 0;
 *   * restarted without the PIN file (CONFIG removed), the due renewal
 *     cannot happen unattended: a notification says so, and its "Renew
 *     now" asks the GUI (played here on its bus name, the build's
 *     KPR_GUI_APP_ID) with ActivateAction("renew", ["desk"]) — the window
 *     has the PIN dialog; Renew("desk") over D-Bus fails with
 *     org.certkeeper.Agent1.Error.NeedsSecret naming "pin".
 *
 * Usage: test-desktop AGENT AGENT-LOG CA-BIN CA-DIR PORT OUTBOX OLD-SERIAL RESULT-FILE CONFIG
 *        FAKE-CHROMIUM
 * Prints TAP; writes the renewed serial to RESULT-FILE for the shell to
 * compare with 'certkeeper show --json'.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "test-bus.h"


static const char notify_xml[] =
  "<node><interface name='org.freedesktop.Notifications'>"
  "<method name='Notify'><arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "<arg type='as' direction='in'/><arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "<arg type='u' direction='out'/></method>"
  "<method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "<method name='GetServerInformation'><arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "<arg type='s' direction='out'/><arg type='s' direction='out'/></method>"
  "</interface></node>";

/* certkeeper-gtk as a GApplication sees it. */
static const char gui_xml[] =
  "<node><interface name='org.freedesktop.Application'>"
  "<method name='Activate'><arg type='a{sv}' direction='in'/></method>"
  "<method name='ActivateAction'><arg type='s' direction='in'/><arg type='av' direction='in'/>"
  "<arg type='a{sv}' direction='in'/></method>"
  "</interface></node>";

static char *gui_action, *gui_param;

static void
on_gui_method (GDBusConnection *c, const char *sender, const char *path, const char *iface,
               const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
  g_autofree char *text = g_variant_print (params, FALSE);

  printf ("# GUI %s%s\n", method, text);
  if (g_str_equal (method, "ActivateAction"))
    {
      g_autoptr (GVariant) args = NULL;
      g_autoptr (GVariant) first = NULL;

      g_clear_pointer (&gui_action, g_free);
      g_clear_pointer (&gui_param, g_free);
      g_variant_get (params, "(s@av@a{sv})", &gui_action, &args, NULL);
      if (g_variant_n_children (args) == 1)
        {
          first = g_variant_get_child_value (args, 0);
          {
            g_autoptr (GVariant) inner = g_variant_get_variant (first);
            if (g_variant_is_of_type (inner, G_VARIANT_TYPE_STRING))
              gui_param = g_variant_dup_string (inner, NULL);
          }
        }
    }
  g_dbus_method_invocation_return_value (inv, NULL);
}

static gboolean
gui_asked_to_renew (gpointer data)
{
  return g_strcmp0 (gui_action, "renew") == 0 && g_strcmp0 (gui_param, data) == 0;
}

static GDBusConnection *bus;
static guint32 last_id, notify_count;
static char *notify_summary, *notify_body;
static gboolean notify_has_actions;
static guint notify_n_actions;
static char *renewed_serial, *renewed_name;
static guint failed_count, expiring_count;

static void
on_notify_method (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                  const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
  if (g_str_equal (method, "Notify"))
    {
      g_autofree const char **actions = NULL;
      const char *app, *icon, *summary, *body;
      guint32 replaces;

      g_variant_get (params, "(&su&s&s&s^a&s@a{sv}i)", &app, &replaces, &icon, &summary, &body,
                     &actions, NULL, NULL);
      notify_count++;
      last_id = replaces ? replaces : notify_count;
      g_free (notify_summary);
      g_free (notify_body);
      notify_summary = g_strdup (summary);
      notify_body = g_strdup (body);
      /* actions come as key, label pairs */
      notify_has_actions = FALSE;
      notify_n_actions = actions ? g_strv_length ((char **) actions) / 2 : 0;
      {
        gboolean renew = FALSE, later = FALSE;
        for (int i = 0; actions && actions[i] && actions[i + 1]; i += 2)
          {
            renew |= g_str_equal (actions[i], "renew");
            later |= g_str_equal (actions[i], "later");
          }
        notify_has_actions = renew && later;
      }
      printf ("# Notify #%u from %s: %s — %s\n", last_id, app, summary, body);
      g_dbus_method_invocation_return_value (inv, g_variant_new ("(u)", last_id));
    }
  else if (g_str_equal (method, "GetCapabilities"))
    {
      const char *caps[] = { "actions", "body", NULL };
      g_dbus_method_invocation_return_value (inv, g_variant_new ("(^as)", caps));
    }
  else if (g_str_equal (method, "GetServerInformation"))
    g_dbus_method_invocation_return_value (inv, g_variant_new ("(ssss)", "test", "certkeeper",
                                                               "1", "1.2"));
  else
    g_dbus_method_invocation_return_value (inv, NULL);
}

static void
on_agent_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                 const char *signal, GVariant *params, gpointer data)
{
  g_autofree char *text = g_variant_print (params, FALSE);

  printf ("# signal %s%s\n", signal, text);
  if (g_str_equal (signal, "Renewed"))
    {
      g_clear_pointer (&renewed_name, g_free);
      g_clear_pointer (&renewed_serial, g_free);
      g_variant_get (params, "(ss)", &renewed_name, &renewed_serial);
    }
  else if (g_str_equal (signal, "Failed"))
    failed_count++;
  else if (g_str_equal (signal, "ExpiringSoon"))
    expiring_count++;
}

static gboolean
notified (gpointer data)
{
  return notify_count > GPOINTER_TO_UINT (data) && notify_has_actions;
}

/* A Cond: a notification after the @data-th one that says a renewal
 * happened (the summary names it renewed). */
static gboolean
renewed_notified (gpointer data)
{
  return notify_count > GPOINTER_TO_UINT (data) && notify_summary
         && strstr (notify_summary, "renewed") != NULL;
}

/* The notification of a renewal nobody watched: it says so, with the
 * new validity, offers nothing to choose, and asks for a browser restart
 * only when @restart. */
static void
check_renewed_bubble (guint before, gboolean restart, const char *when)
{
  g_autofree char *what = NULL;

  what = g_strdup_printf ("%s: a notification says desk was renewed, until when", when);
  check (wait_for (renewed_notified, GUINT_TO_POINTER (before), 20) && notify_body
           && strstr (notify_summary, "desk") && g_str_has_prefix (notify_body, "Valid until "),
         what);
  g_free (what);
  what = g_strdup_printf ("%s: it has no actions (no Renew now, no Later)", when);
  check (notify_summary && notify_n_actions == 0, what);
  g_free (what);
  if (restart)
    what = g_strdup_printf ("%s: it asks to restart Chromium, which runs since before its module "
                            "was registered", when);
  else
    what = g_strdup_printf ("%s: no browser runs, so it asks for no restart", when);
  check (notify_body
           && (strstr (notify_body, "Restart Chromium to use it there.") != NULL) == restart
           && (restart || !strstr (notify_body, "Restart")),
         what);
}

/* A Cond: a Renewed signal with a serial other than @data's. */
static gboolean
renewed_again (gpointer data)
{
  return renewed_serial && g_ascii_strcasecmp (renewed_serial, data) != 0;
}

static gboolean
expiring_seen (gpointer data)
{
  return expiring_count > 0;
}

static gboolean
renewed (gpointer data)
{
  return renewed_serial != NULL;
}

static GVariant *
agent_call (const char *method, GVariant *args, const char *type, GError **error)
{
  return g_dbus_connection_call_sync (bus, "org.certkeeper.Agent1", "/org/certkeeper/Agent1",
                                      "org.certkeeper.Agent1", method, args,
                                      type ? G_VARIANT_TYPE (type) : NULL, G_DBUS_CALL_FLAGS_NONE,
                                      60000, NULL, error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusNodeInfo) node = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) agent = NULL, server = NULL, chromium = NULL;
  g_autoptr (GVariant) list = NULL, status = NULL;
  static const GDBusInterfaceVTable vtable = { on_notify_method, NULL, NULL, { 0 } };
  const char *agent_path, *ca_bin, *ca_dir, *port, *outbox, *old_serial, *result, *fake_chromium;
  guint before;

  if (argc != 11)
    {
      fprintf (stderr, "usage: %s AGENT AGENT-LOG CA-BIN CA-DIR PORT OUTBOX OLD-SERIAL RESULT "
                       "CONFIG FAKE-CHROMIUM\n",
               argv[0]);
      return 2;
    }
  agent_path = argv[1], agent_log = argv[2], ca_bin = argv[3], ca_dir = argv[4];
  port = argv[5], outbox = argv[6], old_serial = argv[7], result = argv[8];
  fake_chromium = argv[10];
  printf ("TAP version 13\n");

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  node = g_dbus_node_info_new_for_xml (notify_xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications", node->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GVariant) r = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", "org.freedesktop.Notifications", 4u),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
    g_assert_no_error (error);
  }
  {
    static const GDBusInterfaceVTable gui_vtable = { on_gui_method, NULL, NULL, { 0 } };
    g_autoptr (GDBusNodeInfo) gui_node = g_dbus_node_info_new_for_xml (gui_xml, &error);
    const char *gui_id = g_getenv ("KPR_GUI_APP_ID") ? g_getenv ("KPR_GUI_APP_ID")
                                                     : "org.certkeeper.Certkeeper";
    g_autofree char *gui_path = g_strdelimit (g_strconcat ("/", gui_id, NULL), ".", '/');
    g_autoptr (GVariant) r = NULL;

    g_assert_no_error (error);
    g_dbus_connection_register_object (bus, gui_path, gui_node->interfaces[0], &gui_vtable, NULL,
                                       NULL, &error);
    g_assert_no_error (error);
    r = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", gui_id, 4u), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
    g_assert_no_error (error);
  }
  g_dbus_connection_signal_subscribe (bus, NULL, "org.certkeeper.Agent1", NULL,
                                      "/org/certkeeper/Agent1", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                      on_agent_signal, NULL, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_set_stderr_file_path (launcher, agent_log);
  agent = g_subprocess_launcher_spawn (launcher, &error, agent_path, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (agent, NULL, on_agent_exit, NULL);
  check (wait_for (agent_on_bus, bus, 30), "the agent owns org.certkeeper.Agent1");

  list = agent_call ("List", NULL, "(a(sssx))", &error);
  check (list != NULL, "List() answers");
  if (list)
    {
      g_autofree char *text = g_variant_print (list, FALSE);
      g_autoptr (GVariantIter) it = NULL;
      const char *name, *st, *state;
      gint64 not_after;
      gboolean seen = FALSE;

      printf ("# List() = %s\n", text);
      g_variant_get (list, "(a(sssx))", &it);
      while (g_variant_iter_next (it, "(&s&s&sx)", &name, &st, &state, &not_after))
        if (g_str_equal (name, "desk") && g_str_equal (state, "ACTIVE") && not_after > 0)
          seen = TRUE;
      check (seen, "List() shows desk, ACTIVE, with its notAfter");
    }
  g_clear_error (&error);

  {
    g_autoptr (GVariant) r = agent_call ("Renew", g_variant_new ("(s)", "nosuch"), NULL, &error);
    g_autofree char *remote = error ? g_dbus_error_get_remote_error (error) : NULL;
    check (!r && g_strcmp0 (remote, "org.certkeeper.Agent1.Error.NotFound") == 0,
           "Renew(\"nosuch\") fails with org.certkeeper.Agent1.Error.NotFound");
    printf ("# %s\n", error ? error->message : "no error");
    g_clear_error (&error);
  }

  /* The renewal is due ~20 s after issue; the server is down, so it
   * fails and the agent reminds. */
  check (wait_for (notified, GUINT_TO_POINTER (0), 60),
         "a notification with actions renew and later arrives");
  check (failed_count > 0, "a Failed signal was emitted for the failed attempt");
  /* Emitted right after the notification: it may arrive a moment later. */
  check (wait_for (expiring_seen, NULL, 10), "an ExpiringSoon signal went with the reminder");

  server = start_server (ca_bin, ca_dir, port, outbox);

  /* A browser of this person runs from here on (test-desktop.sh made a
   * "chromium" that only sleeps: what kpr-browser-stores.c looks for is
   * a process of that name with this HOME).  desk was enrolled with
   * --no-browser: this renewal registers its module in Chromium's
   * database while that browser runs, so a restart is needed. */
  chromium = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, fake_chromium, "600", NULL);
  g_assert_no_error (error);
  before = notify_count;
  g_dbus_connection_emit_signal (bus, NULL, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "ActionInvoked",
                                 g_variant_new ("(us)", last_id, "renew"), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (bus, NULL, NULL);
  check (wait_for (renewed, NULL, 40), "ActionInvoked(renew) → a Renewed signal");
  check (renewed_serial && g_strcmp0 (renewed_name, "desk") == 0
           && g_ascii_strcasecmp (renewed_serial, old_serial) != 0,
         "Renewed(desk, serial) carries a new serial");
  check_renewed_bubble (before, TRUE, "“Renew now” chosen in a bubble, Chromium running");

  /* The next renewals come from the scheduler alone (the certificate
   * lives 120 s and is due after about 20 s): nobody asked. */
  {
    g_autofree char *previous = g_strdup (renewed_serial);
    before = notify_count;
    check (wait_for (renewed_again, previous, 90),
           "unattended: the scheduler renews desk again (Renewed with a new serial)");
    check_renewed_bubble (before, TRUE, "unattended, Chromium running");
  }
  g_subprocess_force_exit (chromium);
  g_subprocess_wait (chromium, NULL, NULL);
  {
    g_autofree char *previous = g_strdup (renewed_serial);
    before = notify_count;
    check (wait_for (renewed_again, previous, 90),
           "unattended: renewed once more after Chromium ended");
    check_renewed_bubble (before, FALSE, "unattended, no browser running");
  }
  if (renewed_serial)
    g_file_set_contents (result, renewed_serial, -1, NULL);

  status = agent_call ("Status", NULL, "(ux)", &error);
  check (status != NULL, "Status() answers");
  if (status)
    {
      g_autofree char *text = g_variant_print (status, FALSE);
      printf ("# Status() = %s\n", text);
    }
  g_clear_error (&error);

  g_subprocess_send_signal (agent, SIGTERM);
  check (wait_for (exited, NULL, 30), "the agent ends after SIGTERM");
  if (!agent_done)
    {
      g_subprocess_force_exit (agent);
      g_subprocess_wait (agent, NULL, NULL);
    }
  check (agent_done && g_subprocess_get_if_exited (agent)
           && g_subprocess_get_exit_status (agent) == 0,
         "SIGTERM: exit 0");

  /* Without the PIN file the agent cannot renew on its own: a front end
   * is told what to ask for. */
  g_unlink (argv[9]);
  g_clear_object (&agent);
  agent_done = FALSE;
  agent = g_subprocess_launcher_spawn (launcher, &error, agent_path, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (agent, NULL, on_agent_exit, NULL);
  check (wait_for (agent_on_bus, bus, 30), "restarted without a PIN file: on the bus again");
  {
    before = notify_count;
    check (wait_for (notified, GUINT_TO_POINTER (before), 60),
           "the due renewal needs the PIN: a notification says so");
    g_dbus_connection_emit_signal (bus, NULL, "/org/freedesktop/Notifications",
                                   "org.freedesktop.Notifications", "ActionInvoked",
                                   g_variant_new ("(us)", last_id, "renew"), &error);
    g_assert_no_error (error);
    g_dbus_connection_flush_sync (bus, NULL, NULL);
    check (wait_for (gui_asked_to_renew, (gpointer) "desk", 30),
           "its “Renew now” asks the GUI: ActivateAction(\"renew\", [\"desk\"])");
  }
  {
    g_autoptr (GVariant) r = agent_call ("Renew", g_variant_new ("(s)", "desk"), NULL, &error);
    g_autofree char *remote = error ? g_dbus_error_get_remote_error (error) : NULL;
    check (!r && g_strcmp0 (remote, "org.certkeeper.Agent1.Error.NeedsSecret") == 0
             && strstr (error->message, "NeedsSecret: pin:") != NULL,
           "Renew(desk) without the PIN: Error.NeedsSecret \"pin: …\"");
    printf ("# %s\n", error ? error->message : "no error");
    g_clear_error (&error);
  }
  g_subprocess_send_signal (agent, SIGTERM);
  check (wait_for (exited, NULL, 30) && g_subprocess_get_if_exited (agent)
           && g_subprocess_get_exit_status (agent) == 0,
         "SIGTERM again: exit 0");
  if (!agent_done)
    {
      g_subprocess_force_exit (agent);
      g_subprocess_wait (agent, NULL, NULL);
    }

  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);

  printf ("1..%d\n", tap_n);
  g_free (notify_summary);
  g_free (notify_body);
  g_free (gui_action);
  g_free (gui_param);
  g_free (renewed_serial);
  g_free (renewed_name);
  g_object_unref (bus);
  return tap_failed ? 1 : 0;
}
