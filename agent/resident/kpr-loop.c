/* kpr-loop.c — the skeleton both modes of certkeeper-agent share: a main
 * loop that sleeps until the scheduler's next deadline, a round of work
 * when it comes, SIGTERM/SIGINT to stop (and SIGHUP where a mode wants
 * it), a quick retry while the store is busy, and the re-checks after a
 * resume or when the network is back (kpr-wake.c).
 *
 * What a round does (which identities, how failures are counted, what
 * is told to whom) stays with each mode: kpr-daemon.c, kpr-desktop.c.
 */
#include "config.h"

#include <glib-unix.h>

#include "kpr-error.h"
#include "kpr-log.h"
#include "kpr-loop.h"
#include "kpr-wake.h"

/* Sleeping longer than this is not trusted: the monotonic clock of the
 * main loop stops during suspend while certificates age in real time
 * (a resume is also signalled, kpr-wake.c, where logind runs). */
#define MAX_SLEEP (6 * 3600)
/* The certkeeper command holds the store for seconds. */
#define BUSY_RETRY 5
#define BROKEN_RETRY 60

struct _KprLoop {
  KprLoopFuncs funcs;
  gpointer data;
  GMainLoop *main;
  guint timer;
  gint64 deadline;
  KprWake *wake;
};

KprLoop *
kpr_loop_new (const KprLoopFuncs *funcs, gpointer data)
{
  KprLoop *loop = g_new0 (KprLoop, 1);

  loop->funcs = *funcs;
  loop->data = data;
  loop->main = g_main_loop_new (NULL, FALSE);
  loop->deadline = G_MAXINT64;
  return loop;
}

void
kpr_loop_free (KprLoop *loop)
{
  if (!loop)
    return;
  if (loop->timer)
    g_source_remove (loop->timer);
  kpr_wake_free (loop->wake);
  g_main_loop_unref (loop->main);
  g_free (loop);
}

GMainLoop *
kpr_loop_get_main (KprLoop *loop)
{
  return loop->main;
}

gint64
kpr_loop_get_deadline (KprLoop *loop)
{
  return loop->deadline;
}

static gboolean
on_deadline (gpointer data)
{
  KprLoop *loop = data;

  loop->timer = 0;
  loop->funcs.work (loop->data);
  return G_SOURCE_REMOVE;
}

gint64
kpr_loop_arm (KprLoop *loop, gint64 deadline, const char *why)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 delay = deadline == G_MAXINT64 ? MAX_SLEEP : CLAMP (deadline - now, 0, MAX_SLEEP);

  if (loop->timer)
    g_source_remove (loop->timer);
  loop->deadline = deadline == G_MAXINT64 ? G_MAXINT64 : MAX (deadline, now);
  kpr_log (KPR_LOG_INFO, "next wake-up in %" G_GINT64_FORMAT " s (%s)", delay, why);
  loop->timer = g_timeout_add_seconds ((guint) delay, on_deadline, loop);
  return loop->deadline;
}

gint64
kpr_loop_retry (KprLoop *loop, const GError *error)
{
  /* Somebody runs certkeeper right now: come back in a moment.  A state
   * dir that cannot be opened at all is retried more slowly. */
  gboolean busy = g_error_matches (error, KPR_ERROR, KPR_ERROR_BUSY);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  kpr_log (busy ? KPR_LOG_NOTICE : KPR_LOG_ERR, "%s", error->message);
  return kpr_loop_arm (loop, now + (busy ? BUSY_RETRY : BROKEN_RETRY),
                       busy ? "the state is busy" : "the state cannot be opened");
}

static void
on_wake (const char *why, gpointer data)
{
  KprLoop *loop = data;

  if (loop->funcs.wake && !loop->funcs.wake (why, loop->data))
    return;
  kpr_loop_arm (loop, 0, why);
}

static gboolean
on_stop (gpointer data)
{
  KprLoop *loop = data;

  kpr_log (KPR_LOG_INFO, "stopping");
  g_main_loop_quit (loop->main);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_hangup (gpointer data)
{
  KprLoop *loop = data;

  loop->funcs.hangup (loop->data);
  return G_SOURCE_CONTINUE;
}

void
kpr_loop_run (KprLoop *loop, gboolean start_now)
{
  guint term = g_unix_signal_add (SIGTERM, on_stop, loop);
  guint intr = g_unix_signal_add (SIGINT, on_stop, loop);
  guint hup = loop->funcs.hangup ? g_unix_signal_add (SIGHUP, on_hangup, loop) : 0;

  loop->wake = kpr_wake_new (on_wake, loop);
  if (start_now)
    loop->timer = g_idle_add (on_deadline, loop);
  g_main_loop_run (loop->main);
  g_clear_pointer (&loop->wake, kpr_wake_free);
  g_source_remove (term);
  g_source_remove (intr);
  if (hup)
    g_source_remove (hup);
}
