/* kpr-cli-ui.c — the KprAgentUi of the command line: prompts on the
 * terminal (or one line of stdin for scripts), secret files, progress on
 * stderr when it is a terminal. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kpr-cli.h"
#include "kpr-prompt.h"

static KprSecret *
cli_pin (const KprAgentToken *info, gpointer data, GError **error)
{
  KprCliUi *ui = data;
  return kpr_prompt_token_pin (ui->pin_file, info->label, info->pin_count_low, info->pin_final_try,
                               error);
}

static KprSecret *
cli_ask (KprAsk what, const char *detail, gpointer data, GError **error)
{
  KprCliUi *ui = data;

  switch (what)
    {
    case KPR_ASK_SECRET_WORD:
      if (ui->secret_file)
        return kpr_secret_read_file (ui->secret_file, error);
      fprintf (stderr, "A secret word was %s.\n", detail);
      return kpr_prompt_secret ("Secret word: ", FALSE, error);
    case KPR_ASK_PASSWORD:
      if (ui->secret_file)
        return kpr_secret_read_file (ui->secret_file, error);
      /* SCEP's challenge password and CMP's secret come this way too:
       * @detail says which. */
      if (detail && !g_str_has_prefix (detail, "for "))
        fprintf (stderr, "The server asks for the %s.\n", detail);
      return kpr_prompt_secret ("Password: ", FALSE, error);
    case KPR_ASK_NEW_PASSPHRASE:
      if (ui->passphrase_file)
        return kpr_secret_read_file (ui->passphrase_file, error);
      fprintf (stderr, "Choose a passphrase for the backup %s.\n", detail);
      return kpr_prompt_secret ("Passphrase: ", TRUE, error);
    case KPR_ASK_PASSPHRASE:
      if (ui->passphrase_file)
        return kpr_secret_read_file (ui->passphrase_file, error);
      return kpr_prompt_secret ("Passphrase of the backup: ", FALSE, error);
    }
  g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Unknown question");
  return NULL;
}

static gboolean
cli_confirm (const char *question, gpointer data)
{
  KprCliUi *ui = data;
  g_autoptr (KprSecret) answer = NULL;

  if (ui->yes)
    return TRUE;
  fprintf (stderr, "%s [y/N] ", question);
  fflush (stderr);
  answer = kpr_secret_read_fd (STDIN_FILENO, NULL);
  return answer && (g_ascii_strcasecmp (answer->data, "y") == 0
                    || g_ascii_strcasecmp (answer->data, "yes") == 0);
}

static void
cli_warn (const char *message, gpointer data)
{
  fprintf (stderr, "certkeeper: warning: %s\n", message);
}

static void
cli_progress (const char *message, gpointer data)
{
  fprintf (stderr, "%s\n", message);
}

void
kpr_cli_ui_clear (KprCliUi *ui)
{
  g_clear_pointer (&ui->pin_file, g_free);
  g_clear_pointer (&ui->secret_file, g_free);
  g_clear_pointer (&ui->passphrase_file, g_free);
}

KprAgentUi
kpr_cli_agent_ui (KprCliUi *ui)
{
  KprAgentUi agent_ui = {
    .pin = cli_pin,
    /* A script (stdin not a terminal) cannot be asked yes/no: the flows
     * then say which option to pass instead. */
    .ask = ui->secret_needs_terminal && !ui->secret_file && !isatty (STDIN_FILENO) ? NULL : cli_ask,
    .confirm = ui->yes || isatty (STDIN_FILENO) ? cli_confirm : NULL,
    .progress = kpr_prompt_is_interactive () ? cli_progress : NULL,
    .warn = cli_warn,
    .data = ui,
    /* --secret-file F holds a word the person already has: requesting
     * another would text one for nothing (and void this one).  With "-"
     * a script answers on stdin once the server has sent the word. */
    .secret_known = ui->secret_file && strcmp (ui->secret_file, "-") != 0,
    .roll_back_unspent = TRUE,
  };
  return agent_ui;
}
