/* kpr-prompt.h — asking a person for a secret on the command line.
 *
 * On a terminal the answer is read from /dev/tty without echo; when stdin
 * is not a terminal one line is read from stdin (so a script can answer
 * after, say, the server has sent the secret word).  Program code only:
 * library code never talks to the person.
 */
#pragma once

#include "kpr-common.h"
#include "kpr-token.h"

/* Ask @question; with @confirm (terminals only) ask twice and compare. */
KprSecret *kpr_prompt_secret (const char *question, gboolean confirm, GError **error);

/* The first line of @file when given ("-" = stdin), else the prompt. */
KprSecret *kpr_prompt_secret_from (const char *file, const char *question, gboolean confirm,
                                   GError **error);

/* A KprPinFunc: @user_data is the --pin-file path or NULL.  Warns about a
 * low PIN count or the final try before asking. */
KprSecret *kpr_prompt_pin (const KprTokenInfo *info, gpointer user_data, GError **error);

/* TRUE when stderr is a terminal (progress and warnings are shown). */
gboolean kpr_prompt_is_interactive (void);
