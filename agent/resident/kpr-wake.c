/* kpr-wake.c — the moments when both modes of certkeeper-agent look again
 * before their deadline: after a resume from suspend and when the network
 * comes back.
 *
 * The loops sleep with g_timeout_add_seconds, whose clock (monotonic)
 * stops during suspend while certificates age in real time: after a
 * night in suspend a renewal may be long due and the timer still hours
 * away.  logind says so with PrepareForSleep(false) on the system bus.
 * A renewal that failed because the network was gone is retried on the
 * scheduler's backoff; GNetworkMonitor says when it is worth trying at
 * once.
 *
 * Both are signals, not timers: nothing here wakes an idle process.  A
 * missing system bus (containers, some kiosks) only loses the resume
 * signal (logged at debug).  Bursts (a resume brings the network back
 * too; a network comes up in several steps) are gathered into one
 * re-check WAKE_SETTLE seconds after the first event, which also gives
 * DHCP and DNS a moment.
 */
#include "config.h"

#include <gio/gio.h>

#include "kpr-log.h"
#include "kpr-wake.h"

#define WAKE_SETTLE 2

#define LOGIN1_NAME "org.freedesktop.login1"
#define LOGIN1_PATH "/org/freedesktop/login1"
#define LOGIN1_MANAGER "org.freedesktop.login1.Manager"

struct _KprWake {
  KprWakeFunc func;
  gpointer data;
  GDBusConnection *system_bus;
  guint sleep_sub;
  GNetworkMonitor *monitor;
  gulong handlers[3];
  gboolean available;
  GNetworkConnectivity connectivity;
  guint settle;
  char *why;
};

static gboolean
on_settled (gpointer data)
{
  KprWake *wake = data;
  g_autofree char *why = g_steal_pointer (&wake->why);

  wake->settle = 0;
  wake->func (why, wake->data);
  return G_SOURCE_REMOVE;
}

/* The first reason of a burst is the one logged. */
static void
schedule (KprWake *wake, const char *why)
{
  kpr_log (KPR_LOG_INFO, "%s: checking again in %d s", why, WAKE_SETTLE);
  if (wake->settle)
    return;
  g_free (wake->why);
  wake->why = g_strdup (why);
  wake->settle = g_timeout_add_seconds (WAKE_SETTLE, on_settled, wake);
}

static void
on_prepare_for_sleep (GDBusConnection *bus, const char *sender, const char *path,
                      const char *interface, const char *signal, GVariant *params, gpointer data)
{
  KprWake *wake = data;
  gboolean going = FALSE;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (params, "(b)", &going);
  if (going)
    kpr_log (KPR_LOG_DEBUG, "the system is going to sleep");
  else
    schedule (wake, "resumed from suspend");
}

/* GIO tells in two ways, depending on its backend: "network-changed"
 * (netlink: routes came or went) and property notifications
 * (NetworkManager: its State and Connectivity).  Both end here, and only
 * a change for the better counts. */
static void
network_check (KprWake *wake)
{
  gboolean available = g_network_monitor_get_network_available (wake->monitor);
  GNetworkConnectivity connectivity = g_network_monitor_get_connectivity (wake->monitor);
  gboolean back = available && !wake->available;
  gboolean better = available && connectivity > wake->connectivity;

  wake->available = available;
  wake->connectivity = connectivity;
  if (back || better)
    schedule (wake, back ? "the network is back" : "the network got better");
}

static void
on_network_changed (GNetworkMonitor *monitor, gboolean available, gpointer data)
{
  network_check (data);
}

static void
on_network_notify (GObject *monitor, GParamSpec *pspec, gpointer data)
{
  network_check (data);
}

KprWake *
kpr_wake_new (KprWakeFunc func, gpointer data)
{
  g_autoptr (GError) error = NULL;
  KprWake *wake = g_new0 (KprWake, 1);

  wake->func = func;
  wake->data = data;
  wake->system_bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (!wake->system_bus)
    kpr_log (KPR_LOG_DEBUG, "no system bus (%s): no re-check after suspend", error->message);
  else
    {
      /* Do not leave when the system bus goes (a restart of dbus): the
       * certificates still need renewing. */
      g_dbus_connection_set_exit_on_close (wake->system_bus, FALSE);
      wake->sleep_sub = g_dbus_connection_signal_subscribe (
        wake->system_bus, LOGIN1_NAME, LOGIN1_MANAGER, "PrepareForSleep", LOGIN1_PATH, NULL,
        G_DBUS_SIGNAL_FLAGS_NONE, on_prepare_for_sleep, wake, NULL);
    }
  /* netlink (or NetworkManager's signals on the system bus): events, no
   * polling.  The default monitor is a singleton GIO keeps for the
   * process; we only hold a reference. */
  wake->monitor = g_object_ref (g_network_monitor_get_default ());
  wake->available = g_network_monitor_get_network_available (wake->monitor);
  wake->connectivity = g_network_monitor_get_connectivity (wake->monitor);
  wake->handlers[0] = g_signal_connect (wake->monitor, "network-changed",
                                        G_CALLBACK (on_network_changed), wake);
  wake->handlers[1] = g_signal_connect (wake->monitor, "notify::network-available",
                                        G_CALLBACK (on_network_notify), wake);
  wake->handlers[2] = g_signal_connect (wake->monitor, "notify::connectivity",
                                        G_CALLBACK (on_network_notify), wake);
  kpr_log (KPR_LOG_DEBUG, "watching %s and the network (%s, %s)",
           wake->system_bus ? "logind's PrepareForSleep" : "no suspend signal",
           G_OBJECT_TYPE_NAME (wake->monitor), wake->available ? "available" : "unavailable");
  return wake;
}

void
kpr_wake_free (KprWake *wake)
{
  if (!wake)
    return;
  if (wake->settle)
    g_source_remove (wake->settle);
  if (wake->sleep_sub)
    g_dbus_connection_signal_unsubscribe (wake->system_bus, wake->sleep_sub);
  g_clear_object (&wake->system_bus);
  for (gsize i = 0; wake->monitor && i < G_N_ELEMENTS (wake->handlers); i++)
    if (wake->handlers[i])
      g_signal_handler_disconnect (wake->monitor, wake->handlers[i]);
  g_clear_object (&wake->monitor);
  g_free (wake->why);
  g_free (wake);
}
