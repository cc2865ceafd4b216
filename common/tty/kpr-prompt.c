/* kpr-prompt.c — no-echo prompts for PINs, secret words, passphrases. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* Ctrl-C or SIGTERM at a no-echo prompt: the terminal gets its echo
 * back at once (tcsetattr and dup2 are async-signal-safe), the read ends
 * (the terminal's descriptor now reads /dev/null) and the caller learns
 * it was cancelled, so that what it started can be rolled back. */
static volatile sig_atomic_t prompt_interrupted;
static int prompt_fd = -1;
static int prompt_null = -1;
static struct termios prompt_saved;
static volatile sig_atomic_t prompt_restore;

static void
on_prompt_signal (int sig)
{
  (void) sig;
  prompt_interrupted = 1;
  if (prompt_restore)
    tcsetattr (prompt_fd, TCSAFLUSH, &prompt_saved);
  if (prompt_null >= 0)
    dup2 (prompt_null, prompt_fd);
}

static KprSecret *
read_tty (const char *question, GError **error)
{
  struct termios saved, quiet;
  struct sigaction act = { 0 }, old_int, old_term;
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
  prompt_fd = fd;
  prompt_saved = saved;
  prompt_restore = restore;
  prompt_interrupted = 0;
  prompt_null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  act.sa_handler = on_prompt_signal;
  sigemptyset (&act.sa_mask);
  sigaction (SIGINT, &act, &old_int);
  sigaction (SIGTERM, &act, &old_term);
  if (restore)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      quiet.c_lflag |= ECHONL;
      tcsetattr (fd, TCSAFLUSH, &quiet);
    }
  secret = prompt_interrupted ? NULL : kpr_secret_read_fd (fd, error);
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  if (restore && !prompt_interrupted)
    tcsetattr (fd, TCSAFLUSH, &saved);
  if (prompt_interrupted)
    {
      if (write (fd, "\n", 1) < 0)
        { /* cosmetic */ }
      kpr_secret_free (secret);
      secret = NULL;
      g_clear_error (error);
      g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED, "Interrupted at the prompt");
    }
  close (fd);
  if (prompt_null >= 0)
    close (prompt_null);
  prompt_null = prompt_fd = -1;
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
