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

/* kpr-wake.c: calls @func (from the main loop, WAKE_SETTLE seconds after
 * the first event of a burst) when the system resumed from suspend
 * (logind's PrepareForSleep(false) on the system bus) or the network
 * came back (GNetworkMonitor); @why says which, for the log.  No system
 * bus: only the network is watched. */
typedef struct _KprWake KprWake;
typedef void (*KprWakeFunc) (const char *why, gpointer data);
KprWake *kpr_wake_new (KprWakeFunc func, gpointer data);
void kpr_wake_free (KprWake *wake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprWake, kpr_wake_free)

/* kpr-loop.c: the skeleton of both modes — sleep until a deadline (at
 * most 6 h), a round of work, signals, re-checks from kpr-wake.c. */
typedef struct _KprLoop KprLoop;
typedef struct {
  /* A round; it ends by arming the next deadline (kpr_loop_arm). */
  void (*work) (gpointer data);
  /* Resumed or the network is back, before the re-check: forget the
   * backoffs; FALSE: no re-check now.  May be NULL. */
  gboolean (*wake) (const char *why, gpointer data);
  /* SIGHUP; NULL leaves the signal alone. */
  void (*hangup) (gpointer data);
} KprLoopFuncs;

KprLoop *kpr_loop_new (const KprLoopFuncs *funcs, gpointer data);
void kpr_loop_free (KprLoop *loop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprLoop, kpr_loop_free)
/* Quit it to stop (SIGTERM and SIGINT do). */
GMainLoop *kpr_loop_get_main (KprLoop *loop);
/* Wakes at @deadline (unix seconds; 0 or the past: now; G_MAXINT64:
 * nothing scheduled), logging "next wake-up in N s (@why)".  Returns the
 * deadline as kpr_loop_get_deadline will say it (now for the past). */
gint64 kpr_loop_arm (KprLoop *loop, gint64 deadline, const char *why);
gint64 kpr_loop_get_deadline (KprLoop *loop);
/* The store could not be opened (@error): logged, retried in 5 s when
 * another certkeeper holds it, else in a minute. */
gint64 kpr_loop_retry (KprLoop *loop, const GError *error);
/* Runs until the main loop is quit; @start_now: the first round at once
 * (else the first kpr_loop_arm starts it). */
void kpr_loop_run (KprLoop *loop, gboolean start_now);

G_END_DECLS
