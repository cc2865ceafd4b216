/* test-remind.c — the desktop agent's reminders (run by test-remind.sh
 * under dbus-run-session; the identity "desk" has a 60 s certificate, the
 * PIN file is in certkeeper.conf, and the server is down, so every
 * renewal fails and the agent reminds).
 *
 *   test-remind quiet AGENT LOG
 *     No notification server on the bus: the agent logs the reminder and
 *     that no notification was shown, still emits ExpiringSoon on
 *     org.certkeeper.Agent1, keeps answering List(), and ends with 0 on
 *     SIGTERM.
 *
 *   test-remind later AGENT LOG INTERVAL
 *     This program owns org.freedesktop.Notifications.  After the first
 *     reminder it waits LATER_AFTER seconds and sends
 *     ActionInvoked(id, "later"): the agent logs the postponement, makes
 *     no renewal attempt because of it (no forced renewal), and the next
 *     reminder comes INTERVAL seconds (kpr_sched_reminder_interval) after
 *     the "later", not INTERVAL after the first reminder.
 *
 * Prints TAP.
 */
#include "test-bus.h"

/* Late enough that "INTERVAL after the first reminder" and "INTERVAL
 * after later" are told apart, and early enough not to meet the
 * scheduler's own retry (its backoff is lifetime/20 = 6 s here, counted
 * from the failure that preceded the first reminder by about 1 s). */
#define LATER_AFTER 3

static const char notify_xml[] =
  "<node><interface name='org.freedesktop.Notifications'>"
  "<method name='Notify'><arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "<arg type='as' direction='in'/><arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "<arg type='u' direction='out'/></method>"
  "<method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "</interface></node>";

static GDBusConnection *bus;
static guint32 last_id;
static guint notify_count, expiring_count, failed_count;
static gint64 notify_time[64];

static gboolean
notified (gpointer data)
{
  return notify_count >= GPOINTER_TO_UINT (data);
}

static gboolean
expiring (gpointer data)
{
  return expiring_count > 0;
}

static gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static void
on_notify_method (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                  const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
  if (g_str_equal (method, "Notify"))
    {
      const char *summary;
      guint32 replaces;

      g_variant_get (params, "(&su&s&s&s^a&s@a{sv}i)", NULL, &replaces, NULL, &summary, NULL,
                     NULL, NULL, NULL);
      if (notify_count < G_N_ELEMENTS (notify_time))
        notify_time[notify_count] = now_ms ();
      notify_count++;
      last_id = replaces ? replaces : 7;
      printf ("# Notify #%u (%u): %s\n", last_id, notify_count, summary);
      g_dbus_method_invocation_return_value (inv, g_variant_new ("(u)", last_id));
    }
  else if (g_str_equal (method, "GetCapabilities"))
    {
      const char *caps[] = { "actions", "body", NULL };
      g_dbus_method_invocation_return_value (inv, g_variant_new ("(^as)", caps));
    }
  else
    g_dbus_method_invocation_return_value (inv, NULL);
}

static void
on_agent_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                 const char *signal, GVariant *params, gpointer data)
{
  g_autofree char *text = g_variant_print (params, FALSE);

  printf ("# signal %s%s\n", signal, text);
  if (g_str_equal (signal, "ExpiringSoon"))
    expiring_count++;
  else if (g_str_equal (signal, "Failed"))
    failed_count++;
}

static int
run_quiet (const char *agent_path)
{
  g_autoptr (GSubprocess) agent = start_agent (agent_path, NULL);
  g_autoptr (GVariant) list = NULL;
  g_autoptr (GError) error = NULL;

  /* Due ~20 s after issue; the failed attempt comes first. */
  check (wait_for (expiring, NULL, 90), "no notification server: ExpiringSoon is still emitted");
  check (wait_for (log_has, "is not renewed yet", 5), "the reminder is in the log");
  check (wait_for (log_has, "no desktop notification shown", 10),
         "the log says that no notification could be shown");
  list = g_dbus_connection_call_sync (bus, "org.certkeeper.Agent1", "/org/certkeeper/Agent1",
                                      "org.certkeeper.Agent1", "List", NULL,
                                      G_VARIANT_TYPE ("(a(sssx))"), G_DBUS_CALL_FLAGS_NONE, 30000,
                                      NULL, &error);
  check (list != NULL && !agent_done, "the agent runs on and answers List()");
  stop_agent (agent, "SIGTERM: exit 0");
  return 0;
}

static int
run_later (const char *agent_path, gint64 interval)
{
  g_autoptr (GDBusNodeInfo) node = NULL;
  g_autoptr (GVariant) owned = NULL;
  g_autoptr (GSubprocess) agent = NULL;
  g_autoptr (GError) error = NULL;
  static const GDBusInterfaceVTable vtable = { on_notify_method, NULL, NULL, { 0 } };
  gint64 later_ms, gap_ms;
  guint failed_before, attempts_before;

  node = g_dbus_node_info_new_for_xml (notify_xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications", node->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  owned = g_dbus_connection_call_sync (
    bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
    g_variant_new ("(su)", "org.freedesktop.Notifications", 4u), G_VARIANT_TYPE ("(u)"),
    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);

  agent = start_agent (agent_path, NULL);
  check (wait_for (notified, GUINT_TO_POINTER (1), 90), "a reminder arrives");
  /* Wait LATER_AFTER s after that reminder, then "Later". */
  while (now_ms () < notify_time[0] + LATER_AFTER * 1000)
    wait_for (never, NULL, 0), g_usleep (20000);
  check (notify_count == 1, "no second reminder before Later");
  failed_before = failed_count;
  attempts_before = log_count ("desk: renewal");
  later_ms = now_ms ();
  g_dbus_connection_emit_signal (bus, NULL, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "ActionInvoked",
                                 g_variant_new ("(us)", last_id, "later"), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (bus, NULL, NULL);
  check (wait_for (log_has, "desk: reminder postponed", 10), "Later is logged");
  wait_for (never, NULL, 1);
  check (log_count ("desk: renewal") == attempts_before && failed_count == failed_before
           && !log_has ("chosen in the notification"),
         "Later makes no renewal attempt of its own");
  printf ("# Failed signals before/after Later: %u/%u (the scheduler's retries go on)\n",
          failed_before, failed_count);

  check (wait_for (notified, GUINT_TO_POINTER (2), (int) interval * 3 + 10),
         "the next reminder comes");
  gap_ms = notify_time[1] - later_ms;
  printf ("# next reminder %" G_GINT64_FORMAT " ms after Later (interval %" G_GINT64_FORMAT
          " s), %" G_GINT64_FORMAT " ms after the first\n",
          gap_ms, interval, notify_time[1] - notify_time[0]);
  /* Whole seconds on both sides (the loop wakes on second boundaries). */
  check (gap_ms >= (interval - 1) * 1000,
         "it comes one reminder interval after Later, not after the first reminder");
  stop_agent (agent, "SIGTERM: exit 0");
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int rc;

  if (argc < 4 || (g_str_equal (argv[1], "later") && argc != 5))
    {
      fprintf (stderr, "usage: %s quiet AGENT LOG\n       %s later AGENT LOG INTERVAL\n",
               argv[0], argv[0]);
      return 2;
    }
  agent_log = argv[3];
  printf ("TAP version 13\n");
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_signal_subscribe (bus, NULL, "org.certkeeper.Agent1", NULL,
                                      "/org/certkeeper/Agent1", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                      on_agent_signal, NULL, NULL);
  if (g_str_equal (argv[1], "quiet"))
    rc = run_quiet (argv[2]);
  else
    rc = run_later (argv[2], g_ascii_strtoll (argv[4], NULL, 10));
  printf ("1..%d\n", tap_n);
  g_object_unref (bus);
  return rc || tap_failed ? 1 : 0;
}
