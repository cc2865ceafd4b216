/* kpr-daemon-code.h — the headless agent's enrollment code file
 * (kpr-daemon-code.c): read it, know a code that was already spent or
 * refused, and say what the administrator must put there. */
#pragma once

#include <gio/gio.h>

#include "kpr-agent.h"

G_BEGIN_DECLS

typedef struct {
  const char *name;        /* the identity ([identity NAME]) */
  const char *username;
  const char *code_file;   /* enrollment-code-file=, may be NULL */
  const char *config_path;
  KprProtocol protocol;
  const char *reference;   /* cmp-reference= */
} KprDaemonCode;

/* The code in @code->code_file, unless the server already had it (spent
 * by an enrollment or refused: recorded under @state_dir by
 * kpr_daemon_code_used) — then, or without a file, KPR_ERROR_AUTH with
 * kpr_daemon_code_wanted's words.  *ret_digest: what to record once the
 * server has seen it. */
KprSecret *kpr_daemon_code_read (const KprDaemonCode *code, const char *state_dir,
                                 char **ret_digest, GError **error);

/* The server has seen the code of @digest (it enrolled, or refused it):
 * never sent again.  Failures are logged. */
void kpr_daemon_code_used (const KprDaemonCode *code, const char *state_dir,
                           const char *digest);

/* The server refused the code of @digest (@error): recorded as used,
 * and kpr_daemon_code_wanted's words returned. */
char *kpr_daemon_code_refused (const KprDaemonCode *code, const char *state_dir,
                               const char *digest, const GError *error);

/* What the administrator must do, in one sentence: which file, what it
 * must hold, and that the agent picks it up by itself. */
char *kpr_daemon_code_wanted (const KprDaemonCode *code, const char *why);

/* Calls @func (@path, @data) when @path is written, replaced or made
 * readable; NULL (logged: SIGHUP then) when it cannot be watched or
 * @path is NULL. */
typedef void (*KprDaemonCodeChanged) (const char *path, gpointer data);
GFileMonitor *kpr_daemon_code_watch (const char *name, const char *path,
                                     KprDaemonCodeChanged func, gpointer data);

G_END_DECLS
