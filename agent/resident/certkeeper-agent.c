/* certkeeper-agent — the resident agent: the desktop mode (the person's
 * store, org.certkeeper.Agent1 on the session bus, notifications:
 * kpr-desktop.c, the tray icon: kpr-tray.c) or, with --headless, the kiosk
 * mode (a config file: kpr-daemon.c). */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <sys/prctl.h>

#include "kpr-daemon.h"
#include "kpr-desktop.h"
#include "kpr-log.h"

#define DEFAULT_CONFIG "/etc/certkeeper/agent.conf"

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (KprDaemon) daemon = NULL;
  g_autofree char *config = NULL;
  gboolean headless = FALSE, version = FALSE;
  const GOptionEntry entries[] = {
    { "headless", 0, 0, G_OPTION_ARG_NONE, &headless, "Run unattended from a config file (kiosks)", NULL },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config, "The config file (default " DEFAULT_CONFIG ")", "FILE" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
    { NULL },
  };

  /* This process reads PINs and enrollment codes: no core dumps, no
   * ptrace by other processes of the same user. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* The person's language and charset: GOption's "…", dates (%c). */
  setlocale (LC_ALL, "");

  g_option_context_set_summary (context, "Watches certkeeper's identities and renews them before "
                                         "they expire.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "certkeeper-agent: %s\nTry 'certkeeper-agent --help'.\n", error->message);
      return KPR_ERROR_USAGE;
    }
  if (version)
    {
      printf ("certkeeper-agent %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argc > 1)
    {
      fprintf (stderr, "certkeeper-agent: unexpected argument “%s”\n", argv[1]);
      return KPR_ERROR_USAGE;
    }
  if (!headless)
    {
      g_autoptr (KprDesktop) desktop = NULL;

      if (config)
        {
          fprintf (stderr, "certkeeper-agent: --config is for --headless; the desktop mode "
                           "reads ~/.config/certkeeper/certkeeper.conf\n");
          return KPR_ERROR_USAGE;
        }
      if (!(desktop = kpr_desktop_new (&error)))
        {
          kpr_log (KPR_LOG_ERR, "%s", error->message);
          return kpr_error_exit_code (error);
        }
      return kpr_desktop_run (desktop);
    }
  if (!(daemon = kpr_daemon_new (config ? config : DEFAULT_CONFIG, &error)))
    {
      kpr_log (KPR_LOG_ERR, "%s", error->message);
      return kpr_error_exit_code (error);
    }
  return kpr_daemon_run (daemon);
}
