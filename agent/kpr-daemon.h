/* kpr-daemon.h — certkeeper-agent's headless mode (kiosks): identities
 * declared in a config file (DESIGN §8), enrolled with a one-time
 * enrollment code, renewed unattended.  Program code, not library code:
 * it logs to stderr with journald priority prefixes. */
#pragma once

#include "kpr-agent.h"

G_BEGIN_DECLS

/* sd-daemon(3) priorities, written as "<N>" before each line. */
typedef enum {
  KPR_LOG_ERR = 3,
  KPR_LOG_WARNING = 4,
  KPR_LOG_NOTICE = 5,
  KPR_LOG_INFO = 6,
  KPR_LOG_DEBUG = 7,
} KprLogPriority;

void kpr_log (KprLogPriority priority, const char *format, ...) G_GNUC_PRINTF (2, 3);

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

/* kpr-daemon-hook.c */
char *kpr_daemon_serial_hex (X509 *cert);
/* "2026-11-23T01:00:21Z" */
char *kpr_daemon_time_text (const ASN1_TIME *t);
/* Writes the certificate to STATE/certs/NAME.pem and starts @argv with
 * the identity's details in its environment; a failure is logged, the
 * renewal stands. */
void kpr_daemon_run_hook (const char *name, char **argv, KprStore *store,
                          const KprIdentity *identity, const char *event);

G_END_DECLS
