/* kpr-cli.h — what the subcommands of the certkeeper program share. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

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

#include "kpr-agent.h"

/* What the command line knows for answering the agent's questions. */
typedef struct {
  char *pin_file;
  char *secret_file;
  char *passphrase_file;
  gboolean yes;
  /* Unattended runs (cron, the daemon) must not wait for a secret word on
   * stdin: only a terminal or --secret-file can answer. */
  gboolean secret_needs_terminal;
  gboolean no_browser; /* --no-browser: leave the browsers as they are */
} KprCliUi;

void kpr_cli_ui_clear (KprCliUi *ui);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KprCliUi, kpr_cli_ui_clear)

KprAgentUi kpr_cli_agent_ui (KprCliUi *ui);

/* A command "certkeeper NAME ARGS… [OPTIONS]": parses @entries, checks
 * the number of positional arguments, opens the agent with the command
 * line's questions (@ui), runs @action on the arguments and reports its
 * error once.  Returns the exit status. */
typedef gboolean (*KprCliAction) (KprAgent *agent, char **args, gpointer data, GError **error);

typedef struct {
  const char *name;    /* "renew" */
  const char *usage;   /* "NAME" */
  const char *summary; /* one sentence for --help */
  int min_args, max_args;
} KprCliSpec;

int kpr_cli_run (const KprCliSpec *spec, const GOptionEntry *entries, KprCliUi *ui, int argc,
                 char **argv, KprCliAction action, gpointer data);
void kpr_cli_print_identity_line (const KprIdentity *id);
/* Prints @b's document, pretty, on stdout (kpr-cli-identity.c). */
void kpr_cli_print_json (JsonBuilder *b);

/* kpr-cli-json.c: JSON written as it goes (what grows with the store).
 * @name is the member's name inside an object, NULL inside an array or
 * at the top; a NULL string value is written as null. */
typedef struct {
  GString *out;
  guint depth;
  gboolean first; /* nothing written yet at this depth */
} KprCliJson;

void kpr_cli_json_init (KprCliJson *j);
void kpr_cli_json_clear (KprCliJson *j);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KprCliJson, kpr_cli_json_clear)
void kpr_cli_json_begin_object (KprCliJson *j, const char *name);
void kpr_cli_json_end_object (KprCliJson *j);
void kpr_cli_json_begin_array (KprCliJson *j, const char *name);
void kpr_cli_json_end_array (KprCliJson *j);
void kpr_cli_json_string (KprCliJson *j, const char *name, const char *value);
void kpr_cli_json_bool (KprCliJson *j, const char *name, gboolean value);
void kpr_cli_json_int (KprCliJson *j, const char *name, gint64 value);
/* The document and a newline on stdout. */
void kpr_cli_json_print (KprCliJson *j);

/* kpr-cli-agent.c: a running certkeeper-agent (org.certkeeper.Agent1 on
 * the session bus). */

/* kpr_agent_new, but while an agent runs a busy store is waited for (up
 * to 30 s, said on a terminal) instead of failing with KPR_ERROR_BUSY. */
KprAgent *kpr_cli_agent_open (const KprAgentUi *ui, GError **error);

typedef struct {
  gboolean running;
  gint64 next_check; /* unix seconds; 0: nothing scheduled or unknown */
  GVariant *waiting; /* a(sss) from Waiting(), or NULL */
} KprCliAgentInfo;

/* Asks the agent, never starts one; no session bus: not running. */
void kpr_cli_agent_query (KprCliAgentInfo *info);
void kpr_cli_agent_info_clear (KprCliAgentInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KprCliAgentInfo, kpr_cli_agent_info_clear)
/* Whether the agent waits for the person on @name, and for what. */
gboolean kpr_cli_agent_waiting_for (const KprCliAgentInfo *info, const char *name,
                                    const char **ret_needs, const char **ret_message);

int kpr_cli_tokens (int argc, char **argv);
int kpr_cli_enroll (int argc, char **argv);
int kpr_cli_list (int argc, char **argv);
int kpr_cli_show (int argc, char **argv);
int kpr_cli_status (int argc, char **argv);
int kpr_cli_renew (int argc, char **argv);
int kpr_cli_install (int argc, char **argv);
int kpr_cli_export (int argc, char **argv);
int kpr_cli_lock (int argc, char **argv);
int kpr_cli_import (int argc, char **argv);
int kpr_cli_delete (int argc, char **argv);
int kpr_cli_revoke (int argc, char **argv);
int kpr_cli_token (int argc, char **argv);
int kpr_cli_browser (int argc, char **argv);
