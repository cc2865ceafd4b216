/* test-bus.h — what the D-Bus drivers of certkeeper-agent's tests
 * (test-desktop.c, test-tray.c, test-wake.c, test-remind.c) share: TAP
 * lines, waiting while the main context runs (signals come in
 * meanwhile), the agent's log, starting and stopping the agent, bringing
 * certkeeper-ca back.  Header-only: each driver is one program. */
#pragma once

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

static int tap_n, tap_failed;
static const char *agent_log;
static gboolean agent_done;

static inline void
check (gboolean cond, const char *what)
{
  tap_n++;
  if (!cond)
    tap_failed++;
  printf ("%s %d - %s\n", cond ? "ok" : "not ok", tap_n, what);
  fflush (stdout);
}

typedef gboolean (*Cond) (gpointer data);

static inline gboolean
wait_for (Cond cond, gpointer data, int seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (20000);
    }
  return TRUE;
}

static inline gboolean
never (gpointer data)
{
  return FALSE;
}

static inline void
pause_for (int seconds)
{
  wait_for (never, NULL, seconds);
}

/* A Cond: the agent's log contains @data (a string). */
static inline gboolean
log_has (gpointer data)
{
  g_autofree char *text = NULL;

  return g_file_get_contents (agent_log, &text, NULL, NULL) && strstr (text, data);
}

static inline guint
log_count (const char *needle)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (agent_log, &text, NULL, NULL))
    return 0;
  for (const char *p = text; (p = strstr (p, needle)); p++)
    n++;
  return n;
}

/* A Cond: org.certkeeper.Agent1 has an owner on @data (the bus). */
static inline gboolean
agent_on_bus (gpointer data)
{
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
    data, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
    g_variant_new ("(s)", "org.certkeeper.Agent1"), G_VARIANT_TYPE ("(b)"),
    G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean has = FALSE;

  if (r)
    g_variant_get (r, "(b)", &has);
  return has;
}

static inline gboolean
exited (gpointer data)
{
  return agent_done;
}

static inline void
on_agent_exit (GObject *source, GAsyncResult *res, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  agent_done = TRUE;
}

/* The agent at @path with @extra arguments (NULL-terminated, or NULL),
 * its stderr in agent_log. */
static inline GSubprocess *
start_agent (const char *path, const char *const *extra)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GSubprocess *agent;

  g_ptr_array_add (argv, (gpointer) path);
  for (int i = 0; extra && extra[i]; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_stderr_file_path (launcher, agent_log);
  agent = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  agent_done = FALSE;
  g_subprocess_wait_async (agent, NULL, on_agent_exit, NULL);
  return agent;
}

/* SIGTERM: the agent must end with exit 0 (checked as @what). */
static inline void
stop_agent (GSubprocess *agent, const char *what)
{
  g_subprocess_send_signal (agent, SIGTERM);
  check (wait_for (exited, NULL, 30) && g_subprocess_get_if_exited (agent)
           && g_subprocess_get_exit_status (agent) == 0,
         what);
  if (!agent_done)
    {
      g_subprocess_force_exit (agent);
      g_subprocess_wait (agent, NULL, NULL);
    }
}

/* certkeeper-ca (@ca_bin) serving @ca_dir again on the same @port. */
static inline GSubprocess *
start_server (const char *ca_bin, const char *ca_dir, const char *port, const char *outbox)
{
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%s", port);
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  GSubprocess *server;

  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, ca_bin, "serve", ca_dir,
                             "--listen", listen, "--otp-outbox", outbox, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  while ((line = g_data_input_stream_read_line (out, NULL, NULL, NULL)))
    {
      if (g_str_has_prefix (line, "listening on "))
        break;
      g_clear_pointer (&line, g_free);
    }
  check (line != NULL, "certkeeper-ca is back on the same port");
  return server;
}
