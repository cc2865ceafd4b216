/* test-agent-link.c — run by test-agent-link.sh on a private session bus
 * under Xvfb: the real certkeeper-agent (desktop mode, no PIN file) and
 * the window.  The agent finds "due" due, cannot renew without the PIN
 * and waits for the person; the window's row must say so ("Needs your
 * PIN", from org.certkeeper.Agent1.Waiting()), and go back to "Renewal
 * due" when the agent stops.
 *
 * Usage: test-agent-link AGENT AGENT-LOG */
#include "config.h"

#include <signal.h>
#include <stdio.h>

#include "gui-fixture.h"

static KprWindow *window;

static const char *
badge_of (const char *name)
{
  g_autofree char *row_id = g_strdup_printf ("row-%s", name);
  GtkWidget *row = kpr_gui_find (GTK_WIDGET (window), row_id);
  GtkWidget *badge = row ? kpr_gui_find (row, "badge") : NULL;

  return badge ? gtk_label_get_text (GTK_LABEL (badge)) : "";
}

static gboolean
badge_is (gpointer data)
{
  return g_strcmp0 (badge_of ("due"), data) == 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprApplication) app = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) agent = NULL;
  gboolean ok;

  kpr_gui_test_init (&argc, &argv);
  if (argc != 3)
    {
      fprintf (stderr, "usage: %s AGENT AGENT-LOG\n", argv[0]);
      return 2;
    }
  app = kpr_application_new ();
  kpr_gui_check (g_application_register (G_APPLICATION (app), NULL, &error),
                 "the application registers on the session bus");
  window = kpr_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  ok = kpr_gui_wait (badge_is, "Renewal due", 30000);
  kpr_gui_check (ok, "without an agent, due shows “Renewal due” (shown: “%s”)", badge_of ("due"));

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stderr_file_path (launcher, argv[2]);
  agent = g_subprocess_launcher_spawn (launcher, &error, argv[1], NULL);
  g_assert_no_error (error);
  ok = kpr_gui_wait (badge_is, "Needs your PIN", 60000);
  kpr_gui_check (ok,
                 "certkeeper-agent cannot renew without the PIN: the row says “Needs your PIN” "
                 "(shown: “%s”)", badge_of ("due"));
  kpr_gui_screenshot (GTK_WIDGET (window), "window-agent-needs-pin");

  g_subprocess_send_signal (agent, SIGTERM);
  kpr_gui_check (g_subprocess_wait (agent, NULL, NULL) && g_subprocess_get_if_exited (agent)
                   && g_subprocess_get_exit_status (agent) == 0,
                 "the agent ends on SIGTERM with exit 0");
  ok = kpr_gui_wait (badge_is, "Renewal due", 10000);
  kpr_gui_check (ok, "the agent gone, the row is “Renewal due” again (shown: “%s”)", badge_of ("due"));
  gtk_window_destroy (GTK_WINDOW (window));
  return kpr_gui_test_finish ();
}
