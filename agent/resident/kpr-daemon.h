/* kpr-daemon.h — certkeeper-agent's headless mode (kiosks): identities
 * declared in a config file (DESIGN §8), enrolled with a one-time
 * enrollment code, renewed unattended.  Program code, not library code:
 * it logs to stderr with journald priority prefixes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KprDaemon KprDaemon;

/* Reads and checks the config (KPR_ERROR_BAD_INPUT / KPR_ERROR_USAGE,
 * naming the group and key at fault). */
KprDaemon *kpr_daemon_new (const char *config_path, GError **error);
void kpr_daemon_free (KprDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprDaemon, kpr_daemon_free)

/* Enrolls what is missing, then sleeps until the scheduler's next
 * deadline, over and over, until SIGTERM or SIGINT.  SIGHUP retries the
 * identities that were given up on (a new code or PIN file in place).
 * Returns the exit status. */
int kpr_daemon_run (KprDaemon *daemon);

G_END_DECLS
