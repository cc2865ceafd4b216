/* kpr-prompt.h — asking a person for a secret on the command line.
 *
 * On a terminal the answer is read from /dev/tty without echo; when stdin
 * is not a terminal one line is read from stdin (so a script can answer
 * after, say, the server has sent the secret word).  For programs
 * (certkeeper, certkeeper-ca) only: library code never talks to the person.
 */
#pragma once

#include "kpr-error.h"
#include "kpr-secret.h"

/* Ask @question; with @confirm (terminals only) ask twice and compare. */
KprSecret *kpr_prompt_secret (const char *question, gboolean confirm, GError **error);

/* The first line of @file when given ("-" = stdin), else the prompt. */
KprSecret *kpr_prompt_secret_from (const char *file, const char *question, gboolean confirm,
                                   GError **error);

/* A token's PIN: from @pin_file when given, else asked on the terminal
 * after a warning about a low PIN count or the final try. */
KprSecret *kpr_prompt_token_pin (const char *pin_file, const char *label, gboolean count_low,
                                 gboolean final_try, GError **error);

/* TRUE when stderr is a terminal (progress and warnings are shown). */
gboolean kpr_prompt_is_interactive (void);
