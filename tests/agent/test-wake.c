/* test-wake.c — certkeeper-agent looks again after a resume from suspend
 * (run by test-wake.sh under dbus-run-session, with DBUS_SYSTEM_BUS_ADDRESS
 * pointing at a second private bus that plays the system bus).
 *
 * This program owns org.freedesktop.login1 on that "system" bus and emits
 * PrepareForSleep at /org/freedesktop/login1 as logind does.
 *
 *   test-wake desktop AGENT LOG IDENTITIES-DIR AWAY-DIR RENEW-AT OLD-SERIAL RESULT
 *     The shell moved the store's identities/ away (AWAY-DIR), so the agent
 *     starts with nothing to do and arms its timer hours ahead, as a
 *     process does before a long suspend.  The identity (a 60 s
 *     certificate, due at RENEW-AT) is put back behind the agent's back
 *     (it watches no directory that did not exist when it started) and
 *     becomes due while the agent "sleeps".  Checks: PrepareForSleep(false)
 *     from a connection that is not logind changes nothing;
 *     PrepareForSleep(true) then (false) from logind → the agent logs the
 *     resume and renews at once (Renewed with a new serial), hours before
 *     its old deadline; SIGTERM → exit 0.
 *
 *   test-wake headless AGENT LOG CONFIG
 *     The kiosk mode has the same hook: PrepareForSleep(false) → the
 *     resume is logged and a new round arms a new deadline.
 *
 *   test-wake network AGENT LOG CA-BIN CA-DIR PORT OUTBOX
 *     The network coming back.  Taking the network away for real needs
 *     root or a network namespace, which a test does not have: this
 *     program plays NetworkManager on the "system" bus instead (a mock,
 *     for that one fault), and GIO's own NetworkManager backend of
 *     GNetworkMonitor reads it, as on a desktop.  The identity (10 min,
 *     renew-at=0.1) is due at once and the server is down: the first
 *     attempt fails and the next waits 30 s (the backoff).  Checks: GIO
 *     uses the NetworkManager backend and sees no network; a change that
 *     leaves it unavailable (CONNECTED_LOCAL) re-checks nothing; the
 *     server back and NetworkManager saying "connected" (a burst: site,
 *     then global) → one re-check, and Renewed well before the backoff
 *     ends.  The netlink backend (no NetworkManager) is not driven: it
 *     needs routes to come and go.
 *
 * Prints TAP.
 */
#include <glib/gstdio.h>

#include "test-bus.h"

static GDBusConnection *bus, *system_bus;
static char *renewed_serial;
static gint64 renewed_at;

static gboolean
renewed (gpointer data)
{
  return renewed_serial != NULL;
}

static void
on_agent_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                 const char *signal, GVariant *params, gpointer data)
{
  g_autofree char *text = g_variant_print (params, FALSE);

  printf ("# signal %s%s\n", signal, text);
  if (g_str_equal (signal, "Renewed"))
    {
      g_clear_pointer (&renewed_serial, g_free);
      g_variant_get (params, "(&s&s)", NULL, &renewed_serial);
      renewed_serial = g_strdup (renewed_serial);
      renewed_at = g_get_monotonic_time ();
    }
}

static void
prepare_for_sleep (GDBusConnection *from, gboolean going)
{
  g_autoptr (GError) error = NULL;

  g_dbus_connection_emit_signal (from, NULL, "/org/freedesktop/login1",
                                 "org.freedesktop.login1.Manager", "PrepareForSleep",
                                 g_variant_new ("(b)", going), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (from, NULL, NULL);
}

static int
run_desktop (char **argv)
{
  const char *agent_path = argv[2], *ids = argv[4], *away = argv[5];
  gint64 renew_at = g_ascii_strtoll (argv[6], NULL, 10);
  const char *old_serial = argv[7], *result = argv[8];
  g_autoptr (GSubprocess) agent = NULL;
  g_autoptr (GDBusConnection) stranger = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *address = NULL;
  guint renewals;

  g_dbus_connection_signal_subscribe (bus, NULL, "org.certkeeper.Agent1", NULL,
                                      "/org/certkeeper/Agent1", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                      on_agent_signal, NULL, NULL);
  agent = start_agent (agent_path, NULL);
  check (wait_for (agent_on_bus, bus, 30), "the agent owns org.certkeeper.Agent1");
  check (wait_for (log_has, "(nothing scheduled)", 30),
         "with an empty store it arms its timer hours ahead (nothing scheduled)");
  check (log_has ("watching logind's PrepareForSleep"),
         "it subscribed to PrepareForSleep on the (private) system bus");

  /* The identity comes back behind the agent's back and becomes due
   * while it sleeps. */
  check (g_rmdir (ids) == 0 && g_rename (away, ids) == 0, "the identity is put back");
  while (g_get_real_time () / G_USEC_PER_SEC <= renew_at + 1)
    pause_for (1);
  pause_for (2);
  check (renewed_serial == NULL && log_count (": renewal") == 0,
         "the identity is due and the sleeping agent has not noticed");

  /* Anybody may send a signal that looks like logind's: only logind's
   * own counts. */
  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_assert_no_error (error);
  stranger = g_dbus_connection_new_for_address_sync (
    address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
               | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
    NULL, NULL, &error);
  g_assert_no_error (error);
  prepare_for_sleep (stranger, FALSE);
  pause_for (4);
  check (!log_has ("resumed from suspend") && renewed_serial == NULL,
         "PrepareForSleep(false) from a connection that is not logind changes nothing");

  prepare_for_sleep (system_bus, TRUE);
  prepare_for_sleep (system_bus, FALSE);
  check (wait_for (log_has, "resumed from suspend", 10), "the agent logs the resume");
  check (wait_for (renewed, NULL, 40), "PrepareForSleep(false) → Renewed, right after the signal");
  check (renewed_serial && g_ascii_strcasecmp (renewed_serial, old_serial) != 0,
         "Renewed carries a new serial");
  if (renewed_serial)
    g_file_set_contents (result, renewed_serial, -1, NULL);
  renewals = log_count (": renewal");
  check (renewals == 1, "exactly one renewal round came of the resume");

  stop_agent (agent, "SIGTERM: exit 0");
  return 0;
}

static int
run_headless (char **argv)
{
  const char *const extra[] = { "--headless", "--config", argv[4], NULL };
  g_autoptr (GSubprocess) agent = NULL;
  guint before;

  agent = start_agent (argv[2], extra);
  check (wait_for (log_has, "next wake-up in", 60), "the kiosk agent finished its first round");
  check (log_has ("watching logind's PrepareForSleep"),
         "the kiosk agent subscribed to PrepareForSleep");
  before = log_count ("next wake-up in");
  prepare_for_sleep (system_bus, FALSE);
  check (wait_for (log_has, "resumed from suspend", 10), "the kiosk agent logs the resume");
  pause_for (1);
  check (wait_for (log_has, "wake-up in 0 s (resumed from suspend)", 10),
         "it re-arms to now");
  {
    gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
    while (log_count ("next wake-up in") < before + 2 && g_get_monotonic_time () < end)
      pause_for (1);
  }
  check (log_count ("next wake-up in") >= before + 2,
         "a new round ran and armed the next deadline");
  stop_agent (agent, "SIGTERM (kiosk): exit 0");
  return 0;
}

/* --- a NetworkManager on the "system" bus (see the top) ------------------ */

static const char nm_xml[] =
  "<node><interface name='org.freedesktop.NetworkManager'>"
  "<property name='State' type='u' access='read'/>"
  "<property name='Connectivity' type='u' access='read'/>"
  "<property name='Metered' type='u' access='read'/>"
  "</interface></node>";
/* NMState and NMConnectivityState values */
static guint32 nm_state = 20 /* DISCONNECTED */, nm_connectivity = 1 /* NONE */;

static GVariant *
nm_get (GDBusConnection *c, const char *sender, const char *path, const char *iface,
        const char *prop, GError **error, gpointer data)
{
  if (g_str_equal (prop, "State"))
    return g_variant_new_uint32 (nm_state);
  if (g_str_equal (prop, "Connectivity"))
    return g_variant_new_uint32 (nm_connectivity);
  return g_variant_new_uint32 (4); /* Metered: guess-no */
}

static void
nm_set (guint32 state, guint32 connectivity)
{
  g_autoptr (GError) error = NULL;
  GVariantBuilder changed;

  nm_state = state;
  nm_connectivity = connectivity;
  g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&changed, "{sv}", "State", g_variant_new_uint32 (state));
  g_variant_builder_add (&changed, "{sv}", "Connectivity", g_variant_new_uint32 (connectivity));
  g_dbus_connection_emit_signal (system_bus, NULL, "/org/freedesktop/NetworkManager",
                                 "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                 g_variant_new ("(sa{sv}as)", "org.freedesktop.NetworkManager",
                                                &changed, NULL),
                                 &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (system_bus, NULL, NULL);
}

static void
own_name (GDBusConnection *on, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) owned = g_dbus_connection_call_sync (
    on, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
    g_variant_new ("(su)", name, 4u), G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
    &error);
  g_assert_no_error (error);
}

static int
run_network (char **argv)
{
  static const GDBusInterfaceVTable vtable = { NULL, nm_get, NULL, { 0 } };
  g_autoptr (GDBusNodeInfo) node = NULL;
  g_autoptr (GSubprocess) agent = NULL, server = NULL;
  g_autoptr (GError) error = NULL;
  gint64 failed_at, up_at;

  node = g_dbus_node_info_new_for_xml (nm_xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (system_bus, "/org/freedesktop/NetworkManager",
                                     node->interfaces[0], &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  own_name (system_bus, "org.freedesktop.NetworkManager");
  g_dbus_connection_signal_subscribe (bus, NULL, "org.certkeeper.Agent1", NULL,
                                      "/org/certkeeper/Agent1", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                      on_agent_signal, NULL, NULL);

  agent = start_agent (argv[2], NULL);
  check (wait_for (agent_on_bus, bus, 30), "the agent owns org.certkeeper.Agent1");
  check (wait_for (log_has, "GNetworkMonitorNM, unavailable", 10),
         "GIO's NetworkManager backend is in use and sees no network");
  check (wait_for (log_has, "net: renewal failed (attempt 1)", 60),
         "the renewal fails while the server is unreachable");
  failed_at = g_get_monotonic_time ();

  nm_set (50 /* CONNECTED_LOCAL */, 1);
  pause_for (4);
  check (!log_has ("checking again"), "a change that leaves no network re-checks nothing");

  server = start_server (argv[4], argv[5], argv[6], argv[7]);
  /* A network comes up in steps: one re-check for the burst. */
  nm_set (60 /* CONNECTED_SITE */, 3 /* LIMITED */);
  nm_set (70 /* CONNECTED_GLOBAL */, 4 /* FULL */);
  up_at = g_get_monotonic_time ();
  check (wait_for (log_has, "the network is back: checking again", 5),
         "the agent logs that the network is back");
  check (wait_for (renewed, NULL, 30), "→ Renewed");
  printf ("# Renewed %" G_GINT64_FORMAT " ms after the network, %" G_GINT64_FORMAT
          " ms after the failure (backoff 30 s)\n",
          (renewed_at - up_at) / 1000, (renewed_at - failed_at) / 1000);
  check (renewed_serial && renewed_at - failed_at < 25 * G_USEC_PER_SEC,
         "renewed right after the network came back, before the backoff ended");
  check (log_count ("wake-up in 0 s (the network") == 1,
         "the burst (site, then global connectivity) made one re-check");

  stop_agent (agent, "SIGTERM: exit 0");
  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int rc;

  if (argc < 2 || (g_str_equal (argv[1], "desktop") && argc != 9)
      || (g_str_equal (argv[1], "headless") && argc != 5)
      || (g_str_equal (argv[1], "network") && argc != 8))
    {
      fprintf (stderr, "usage: %s desktop AGENT LOG IDS AWAY RENEW-AT OLD-SERIAL RESULT\n"
                       "       %s headless AGENT LOG CONFIG\n"
                       "       %s network AGENT LOG CA-BIN CA-DIR PORT OUTBOX\n",
               argv[0], argv[0], argv[0]);
      return 2;
    }
  agent_log = argv[3];
  printf ("TAP version 13\n");
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  system_bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  g_assert_no_error (error);
  own_name (system_bus, "org.freedesktop.login1");

  if (g_str_equal (argv[1], "desktop"))
    rc = run_desktop (argv);
  else if (g_str_equal (argv[1], "headless"))
    rc = run_headless (argv);
  else
    rc = run_network (argv);
  printf ("1..%d\n", tap_n);
  g_free (renewed_serial);
  g_object_unref (bus);
  g_object_unref (system_bus);
  return rc || tap_failed ? 1 : 0;
}
