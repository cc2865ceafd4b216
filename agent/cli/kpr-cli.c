/* kpr-cli.c — the certkeeper command: a table of subcommands. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "kpr-cli.h"
#include "kpr-common.h"

static int cli_help (int argc, char **argv);

static const KprCliCommand commands[] = {
  { "tokens", kpr_cli_tokens, "List the tokens that can hold keys" },
  { "token", kpr_cli_token, "Create the software token, make keys" },
  { "enroll", kpr_cli_enroll, "Get a certificate from an enrollment server" },
  { "list", kpr_cli_list, "List the identities" },
  { "show", kpr_cli_show, "Show one identity" },
  { "status", kpr_cli_status, "Report every identity (exit 26 when one needs attention)" },
  { "renew", kpr_cli_renew, "Renew a certificate, or poll a pending one" },
  { "install", kpr_cli_install, "Finish a pending identity with a mailed .cer" },
  { "export", kpr_cli_export, "Write a verified PKCS#12 backup" },
  { "lock", kpr_cli_lock, "Make a key non-exportable, for good" },
  { "import", kpr_cli_import, "Restore a backup, non-exportable" },
  { "delete", kpr_cli_delete, "Remove an identity's key and certificate" },
  { "revoke", kpr_cli_revoke, "Revoke a certificate (lost token)" },
  { "browser", kpr_cli_browser, "Where the identities work: Chromium, Firefox" },
  { "help", cli_help, "Show the commands, or one command's usage and options" },
};

gboolean
kpr_cli_parse (const char *command, const char *usage, const char *summary,
               const GOptionEntry *entries, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (usage);
  g_autoptr (GError) error = NULL;
  g_autofree char *prgname = g_strconcat ("certkeeper ", command, NULL);
  gboolean ok;

  g_option_context_set_summary (context, summary);
  if (entries)
    g_option_context_add_main_entries (context, entries, NULL);
  /* --help's usage line names the program: "certkeeper tokens [OPTION…]". */
  g_set_prgname (prgname);
  ok = g_option_context_parse (context, argc, argv, &error);
  g_set_prgname ("certkeeper");
  if (!ok)
    {
      fprintf (stderr, "certkeeper %s: %s\nTry 'certkeeper %s --help'.\n", command,
               error->message, command);
      return FALSE;
    }
  return TRUE;
}

int
kpr_cli_run (const KprCliSpec *spec, const GOptionEntry *entries, KprCliUi *ui, int argc,
             char **argv, KprCliAction action, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprAgent) agent = NULL;
  KprAgentUi agent_ui;
  int n_args;

  if (!kpr_cli_parse (spec->name, spec->usage, spec->summary, entries, &argc, &argv))
    return KPR_ERROR_USAGE;
  /* GOption left the positional arguments in argv[1..argc-1]; terminate
   * them so actions can take optional ones. */
  argv[argc] = NULL;
  n_args = argc - 1;
  if (n_args < spec->min_args || n_args > spec->max_args)
    {
      fprintf (stderr, "certkeeper %s: expected %s\nTry 'certkeeper %s --help'.\n", spec->name,
               spec->usage[0] ? spec->usage : "no arguments", spec->name);
      return KPR_ERROR_USAGE;
    }
  agent_ui = kpr_cli_agent_ui (ui);
  if (!(agent = kpr_cli_agent_open (&agent_ui, &error)))
    return kpr_cli_report (error);
  if (ui->no_browser)
    kpr_agent_set_browsers (agent, FALSE);
  if (!action (agent, argv + 1, data, &error))
    return kpr_cli_report (error);
  /* A renewal that became a new enrollment is said, not done silently. */
  if (kpr_agent_get_renewal_note (agent))
    printf ("%s\n", kpr_agent_get_renewal_note (agent));
  if (kpr_agent_get_browser_note (agent))
    printf ("%s\n", kpr_agent_get_browser_note (agent));
  return 0;
}

int
kpr_cli_report (const GError *error)
{
  int code = kpr_error_exit_code (error);

  fprintf (stderr, "certkeeper: %s\n", error->message);
  if (error->domain == KPR_ERROR)
    fprintf (stderr, "  %s\n", kpr_error_hint (error->code));
  return code;
}

static void
usage (FILE *out)
{
  fprintf (out, "Usage: certkeeper COMMAND [OPTIONS]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'certkeeper help COMMAND' (or 'certkeeper COMMAND --help') for a command's "
                "usage and options,\n'certkeeper --version' for the version.\n");
}

/* certkeeper help [COMMAND [SUBCOMMAND]]: the commands, or what
 * COMMAND --help prints. */
static int
cli_help (int argc, char **argv)
{
  g_autofree char **args = NULL;

  if (!kpr_cli_parse ("help", "[COMMAND [SUBCOMMAND]]",
                      "Show the commands, or one command's usage and options.", NULL, &argc, &argv))
    return KPR_ERROR_USAGE;
  if (argc < 2)
    {
      usage (stdout);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name) && commands[i].func != cli_help)
      {
        /* COMMAND [SUBCOMMAND] --help */
        int n = MIN (argc - 1, 2);
        args = g_new0 (char *, n + 2);
        for (int j = 0; j < n; j++)
          args[j] = argv[1 + j];
        args[n] = (char *) "--help";
        return commands[i].func (n + 1, args);
      }
  fprintf (stderr, "certkeeper help: unknown command “%s”; run 'certkeeper help'.\n", argv[1]);
  return KPR_ERROR_USAGE;
}

int
main (int argc, char **argv)
{
  /* This process handles PINs and keys: no core dumps, no ptrace by
   * other processes of the same user. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* The person's language and charset: GOption's "…", dates (%c). */
  setlocale (LC_ALL, "");
  g_set_prgname ("certkeeper");

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? KPR_ERROR_USAGE : 0;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      printf ("certkeeper %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      return commands[i].func (argc - 1, argv + 1);
  /* Hidden, test builds only: "FLOW POINT" per line, so that the crash
   * test exercises every fault point the binary has. */
  if (g_str_equal (argv[1], "--fault-points") && kpr_agent_fault_points ())
    {
      const char *const *p = kpr_agent_fault_points ();

      for (gsize i = 0; p[i]; i += 2)
        printf ("%s %s\n", p[i], p[i + 1]);
      return 0;
    }

  fprintf (stderr, "certkeeper: unknown command “%s”; run 'certkeeper --help'.\n", argv[1]);
  return KPR_ERROR_USAGE;
}
