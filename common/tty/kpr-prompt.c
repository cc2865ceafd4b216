/* kpr-prompt.c — no-echo prompts for PINs, secret words, passphrases. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "kpr-prompt.h"

gboolean
kpr_prompt_is_interactive (void)
{
  return isatty (STDERR_FILENO);
}

static KprSecret *
read_tty (const char *question, GError **error)
{
  struct termios saved, quiet;
  KprSecret *secret;
  int fd = open ("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  gboolean restore;

  if (fd < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED,
                   "A secret is needed but there is no terminal to ask on; "
                   "use the --*-file option");
      return NULL;
    }
  if (write (fd, question, strlen (question)) < 0)
    { /* the question is a courtesy; reading still works */ }
  restore = tcgetattr (fd, &saved) == 0;
  if (restore)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      quiet.c_lflag |= ECHONL;
      tcsetattr (fd, TCSAFLUSH, &quiet);
    }
  secret = kpr_secret_read_fd (fd, error);
  if (restore)
    tcsetattr (fd, TCSAFLUSH, &saved);
  close (fd);
  return secret;
}

KprSecret *
kpr_prompt_secret (const char *question, gboolean confirm, GError **error)
{
  g_autoptr (KprSecret) first = NULL;
  g_autoptr (KprSecret) again = NULL;
  g_autofree char *repeat = NULL;

  if (!isatty (STDIN_FILENO))
    return kpr_secret_read_fd (STDIN_FILENO, error);

  first = read_tty (question, error);
  if (!first || !confirm)
    return g_steal_pointer (&first);
  repeat = g_strdup_printf ("Again, to be sure: ");
  again = read_tty (repeat, error);
  if (!again)
    return NULL;
  if (!kpr_secret_equal (first, again))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The two entries differ");
      return NULL;
    }
  return g_steal_pointer (&first);
}

KprSecret *
kpr_prompt_secret_from (const char *file, const char *question, gboolean confirm,
                        GError **error)
{
  if (file)
    return kpr_secret_read_file (file, error);
  return kpr_prompt_secret (question, confirm, error);
}

KprSecret *
kpr_prompt_token_pin (const char *pin_file, const char *label, gboolean count_low,
                      gboolean final_try, GError **error)
{
  g_autofree char *question = NULL;

  if (pin_file)
    return kpr_secret_read_file (pin_file, error);
  if (final_try)
    fprintf (stderr, "Warning: this is the LAST try before the PIN of “%s” is blocked.\n", label);
  else if (count_low)
    fprintf (stderr, "Warning: the PIN of “%s” was mistyped before; few tries are left.\n", label);
  question = g_strdup_printf ("PIN for token “%s”: ", label);
  return kpr_prompt_secret (question, FALSE, error);
}
