/* certkeeper-ca.h — what the two files of the certkeeper-ca program share
 * (certkeeper-ca.c: main, init, users, codes, serve; certkeeper-ca-admin.c:
 * requests, approve, reject, cert, revoke). */
#pragma once

#include <glib.h>

#include "kpr-server.h"

G_BEGIN_DECLS

/* One line "certkeeper-ca CMD: MESSAGE (see …)"; returns KPR_ERROR_USAGE. */
int kpr_cli_usage_error (const char *cmd, const char *message);
/* What happened and what to do; returns the exit code. */
int kpr_cli_report (const char *cmd, const GError *error);
/* Parses options; on a bad option prints one line, sets *@ret, FALSE. */
gboolean kpr_cli_parse (const char *cmd, const char *params, const char *summary,
                        const GOptionEntry *entries, int *argc, char ***argv, int want_args,
                        int *ret);
/* KprPinFunc: --pin-file (@data) or a no-echo prompt on a terminal. */
KprSecret *kpr_cli_token_pin (const KprTokenInfo *info, gpointer data, GError **error);
KprCa *kpr_cli_open (const char *cmd, const char *dir, int *ret);
/* After a revocation: the CRL published here or by the running server. */
int kpr_cli_publish (const char *cmd, KprCa *ca, const char *pin_file, gint64 generation,
                     const char *done_text);

int kpr_cmd_requests (int argc, char **argv);
int kpr_cmd_approve (int argc, char **argv);
int kpr_cmd_reject (int argc, char **argv);
int kpr_cmd_cert (int argc, char **argv);
int kpr_cmd_revoke (int argc, char **argv);

G_END_DECLS
