/* kpr-cli.h — what the subcommands of the certkeeper program share. */
#pragma once

#include <glib.h>

typedef int (*KprCliFunc) (int argc, char **argv);

typedef struct {
  const char *name;
  KprCliFunc func;
  const char *summary;
} KprCliCommand;

/* Parses @argv with @entries; on a bad option prints one specific line and
 * returns FALSE.  @usage is the parameter string shown by --help. */
gboolean kpr_cli_parse (const char *command, const char *usage, const char *summary,
                        const GOptionEntry *entries, int *argc, char ***argv);

/* Prints "certkeeper: MESSAGE" and the hint for its code on stderr;
 * returns the exit status for @error. */
int kpr_cli_report (const GError *error);

int kpr_cli_tokens (int argc, char **argv);
int kpr_cli_token (int argc, char **argv);
