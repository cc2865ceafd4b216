/* kpr-loop.h — the sleep-until-deadline loop both modes of certkeeper-agent
 * run in (kpr-loop.c). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The skeleton of both modes — sleep until a deadline (at
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
