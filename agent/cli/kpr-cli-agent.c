/* kpr-cli-agent.c — the certkeeper command and a running certkeeper-agent
 * (org.certkeeper.Agent1 on the session bus, docs/desktop.md).
 *
 * The agent holds the store's lock only while it works, so the command
 * normally works on the store directly.  Two things change when an agent
 * runs: a command that finds the store busy waits for the agent's round
 * to end instead of failing, and `certkeeper status` reports the agent,
 * its next check and what it waits for from the person.
 *
 * The command never starts the agent (no D-Bus activation): it only asks
 * one that runs.  Without a session bus (ssh, cron, a kiosk) the agent is
 * "not running" and nothing else changes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "kpr-agent-bus.h"
#include "kpr-cli.h"

/* How long a command waits for the agent's round (a renewal takes
 * seconds; a server that does not answer, up to its timeout). */
#define BUSY_WAIT_S 30
#define BUSY_POLL_MS 200
#define CALL_TIMEOUT_MS 10000

/* The session bus, when this process has one: GLib would otherwise try
 * to autolaunch a bus (X11) for nothing. */
static GDBusConnection *
session_bus (void)
{
  static GDBusConnection *bus;
  static gboolean tried;
  g_autofree char *socket = NULL;

  if (tried)
    return bus;
  tried = TRUE;
  socket = g_build_filename (g_get_user_runtime_dir (), "bus", NULL);
  if (!g_getenv ("DBUS_SESSION_BUS_ADDRESS") && !g_file_test (socket, G_FILE_TEST_EXISTS))
    return NULL;
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  return bus;
}

static gboolean
agent_has_owner (GDBusConnection *bus)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean has = FALSE;

  if (!bus)
    return FALSE;
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", KPR_AGENT_BUS_NAME), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, NULL);
  if (reply)
    g_variant_get (reply, "(b)", &has);
  return has;
}

KprAgent *
kpr_cli_agent_open (const KprAgentUi *ui, GError **error)
{
  gint64 end = g_get_monotonic_time () + BUSY_WAIT_S * G_USEC_PER_SEC;
  gboolean told = FALSE;

  for (;;)
    {
      g_autoptr (GError) local = NULL;
      KprAgent *agent = kpr_agent_new (ui, &local);

      if (agent)
        {
          if (told)
            fprintf (stderr, "\n");
          return agent;
        }
      /* Waited for only while an agent runs, whose rounds are short;
       * without one the holder is another certkeeper command, which may
       * wait for its person for minutes: failing at once says so. */
      if (!g_error_matches (local, KPR_ERROR, KPR_ERROR_BUSY)
          || g_get_monotonic_time () > end || !agent_has_owner (session_bus ()))
        {
          if (told)
            fprintf (stderr, "\n");
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (!told && isatty (STDERR_FILENO))
        {
          fprintf (stderr, "certkeeper-agent is renewing; waiting…");
          fflush (stderr);
          told = TRUE;
        }
      g_usleep (BUSY_POLL_MS * 1000);
    }
}

void
kpr_cli_agent_info_clear (KprCliAgentInfo *info)
{
  g_clear_pointer (&info->waiting, g_variant_unref);
}

void
kpr_cli_agent_query (KprCliAgentInfo *info)
{
  GDBusConnection *bus = session_bus ();
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) waiting = NULL;

  memset (info, 0, sizeof *info);
  if (!(info->running = agent_has_owner (bus)))
    return;
  /* NO_AUTO_START: a name that went away meanwhile is "not running",
   * not a reason to start an agent. */
  status = g_dbus_connection_call_sync (bus, KPR_AGENT_BUS_NAME, KPR_AGENT_BUS_PATH, KPR_AGENT_BUS_INTERFACE, "Status", NULL,
                                        G_VARIANT_TYPE ("(ux)"),
                                        G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL,
                                        NULL);
  if (status)
    g_variant_get (status, "(ux)", NULL, &info->next_check);
  waiting = g_dbus_connection_call_sync (bus, KPR_AGENT_BUS_NAME, KPR_AGENT_BUS_PATH, KPR_AGENT_BUS_INTERFACE, "Waiting",
                                         NULL, G_VARIANT_TYPE ("(a(sss))"),
                                         G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL,
                                         NULL);
  if (waiting)
    info->waiting = g_variant_get_child_value (waiting, 0);
}

gboolean
kpr_cli_agent_waiting_for (const KprCliAgentInfo *info, const char *name, const char **ret_needs,
                           const char **ret_message)
{
  GVariantIter iter;
  const char *n, *needs, *message;

  if (!info->waiting)
    return FALSE;
  g_variant_iter_init (&iter, info->waiting);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &n, &needs, &message))
    if (g_str_equal (n, name))
      {
        if (ret_needs)
          *ret_needs = needs;
        if (ret_message)
          *ret_message = message;
        return TRUE;
      }
  return FALSE;
}
