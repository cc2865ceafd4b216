/* gui-stall.c — the longest main-loop stall of certkeeper-gtk while a key
 * is generated (bench/gui-stall.sh).
 *
 * Runs certkeeper-gtk's own KprApplication and main window against the
 * identities the script prepared, opens the detail page of NAME and
 * presses its "Renew now" (the win.renew action: kpr_agent_renew with a
 * new key on the software token, in the window's KprWorker, the progress
 * spinner running, a toast and a reload after) RUNS times.  The PIN
 * dialog is answered by a handler on the window's worker, with the PIN
 * read from PIN-FILE.
 *
 * A 1 ms g_timeout on the main loop records the gap between its ticks
 * (g_get_monotonic_time).  A measurement covers the renewal and the
 * SETTLE ms after it (the window reloads the store after the job, and
 * again 300 ms after its file monitor saw the identities/ directory
 * change).  For the longest gap of each run it says what the main thread
 * did in it: its CPU time and its run-queue wait (/proc/thread-self/
 * schedstat: a gap with little CPU and a long run-queue wait is the
 * machine, not the program), and the main-loop work seen in it — frames
 * of the window's GdkFrameClock (update, layout, paint), the worker's
 * progress messages, the PIN question, the rebuild of the identity list
 * or of the history list, the job's end.  The same is measured first
 * with nothing running (IDLE ms, on the list page and on the detail
 * page), as the floor of this machine.
 *
 * Usage: gui-stall NAME PIN-FILE RUNS [IDLE-MS [SETTLE-MS]]
 * Exit status 0 when every renewal succeeded (whatever the gaps), 1
 * otherwise, 2 on a timeout.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gui-bench.h"
#include "kpr-gui.h"
#include "kpr-window-private.h"

/* A frame phase shorter than this is not worth a line. */
#define KPR_FRAME_NOTE_US 4000

typedef struct {
  gint64 at;
  char *text;
} Event;

typedef struct {
  gint64 cpu_ns;  /* on the CPU */
  gint64 wait_ns; /* runnable, waiting for a CPU */
} Sched;

static struct {
  const char *name;
  const char *pin_file;
  guint runs;
  guint idle_ms;
  guint settle_ms;

  KprApplication *app;
  KprWindow *window;
  GtkWidget *identity_list;
  GtkWidget *history_list;
  int schedstat_fd;
  int status;

  /* the measurement under way */
  gboolean measuring;
  gint64 started;
  gint64 stop_at;     /* 0: until the job is done, then settle_ms */
  gboolean job_running;
  gint64 job_done_at;
  gint64 last_tick;
  Sched last_sched;
  Sched start_sched;
  guint ticks;
  gint64 max_gap;
  gint64 max_gap_end;
  gint64 max_gap_job; /* while the job ran (the key generation itself) */
  Sched max_gap_sched;
  guint gaps_over_16ms;
  guint gaps_over_50ms;
  GArray *events; /* Event */
  guint frames;
  gint64 max_frame;

  /* the frame under way: when it began, when its last phase ended */
  gint64 frame_start, frame_phase;

  GtkWidget *first_row;
  GtkWidget *first_history;

  guint idle_step; /* 1: idle on the list, 2: on the detail page, 3: done */
  guint run;
  gint64 worst;
  gint64 worst_job;
  X509 *cert_before; /* the certificate shown before the renewal */
} B;

static void next_step (void);

static void
event_clear (gpointer data)
{
  g_free (((Event *) data)->text);
}

static void G_GNUC_PRINTF (2, 3)
note (gint64 at, const char *format, ...)
{
  Event e = { .at = at };
  va_list ap;

  if (!B.measuring)
    return;
  va_start (ap, format);
  e.text = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_array_append_val (B.events, e);
}

static Sched
read_sched (void)
{
  char buf[128];
  ssize_t n = pread (B.schedstat_fd, buf, sizeof buf - 1, 0);
  Sched s = { 0, 0 };

  if (n > 0)
    {
      buf[n] = '\0';
      if (sscanf (buf, "%" SCNd64 " %" SCNd64, &s.cpu_ns, &s.wait_ns) != 2)
        s.cpu_ns = s.wait_ns = 0;
    }
  return s;
}

static double
ms (gint64 us)
{
  return us / 1000.0;
}

/* --- watching the window --- */

/* A frame's phases run in one main-loop dispatch: flush-events (only
 * when events are pending), before-paint, update, layout, paint (each of
 * the last three only when requested; none after the layout when the
 * surface froze its clock, e.g. while X11 resizes the window),
 * after-paint.  Our handlers run after GTK's, so each time is the end of
 * that phase; a phase that took long is noted on its own, so that a frame
 * which never reaches after-paint is still seen. */
static void
phase_end (const char *phase)
{
  gint64 now = g_get_monotonic_time ();

  if (!B.frame_start)
    {
      /* flush-events or before-paint: a new frame */
      B.frame_start = B.frame_phase = now;
      B.frames++;
      return;
    }
  if (now - B.frame_phase >= KPR_FRAME_NOTE_US)
    note (B.frame_phase, "frame (began %.1f ms before): %s %.1f ms", ms (B.frame_phase - B.frame_start),
          phase, ms (now - B.frame_phase));
  B.max_frame = MAX (B.max_frame, now - B.frame_start);
  B.frame_phase = now;
}

static void
on_phase (GdkFrameClock *clock, gpointer phase)
{
  phase_end (phase);
}

static void
on_after_paint (GdkFrameClock *clock, gpointer data)
{
  phase_end ("after-paint");
  B.frame_start = 0;
}

static void
on_realize (GtkWidget *window, gpointer data)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);

  g_signal_connect (clock, "flush-events", G_CALLBACK (on_phase), "flush-events");
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_phase), "before-paint");
  g_signal_connect (clock, "update", G_CALLBACK (on_phase), "update");
  g_signal_connect (clock, "layout", G_CALLBACK (on_phase), "layout");
  g_signal_connect (clock, "paint", G_CALLBACK (on_phase), "paint");
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
}

/* A list's rows are all removed and made again when it is rebuilt: the
 * old first row's "destroy" marks the start of a rebuild. */
static void
on_row_destroyed (GtkWidget *row, gpointer what)
{
  note (g_get_monotonic_time (), "%s: old rows removed (a rebuild starts)", (const char *) what);
}

static void
watch_first (GtkWidget *list, GtkWidget **first, const char *what, gint64 now)
{
  GtkWidget *child = list ? gtk_widget_get_first_child (list) : NULL;

  if (child == *first)
    return;
  if (*first)
    note (now, "%s: rebuilt (new rows seen)", what);
  *first = child;
  if (child)
    g_signal_connect (child, "destroy", G_CALLBACK (on_row_destroyed), (gpointer) what);
}

static void
on_progress (KprWorker *worker, const char *message, gpointer data)
{
  note (g_get_monotonic_time (), "worker progress: %s", message);
}

static void
on_pin (KprWorkerRequest *request, gpointer data)
{
  g_autoptr (GError) error = NULL;
  KprSecret *pin = kpr_secret_read_file (B.pin_file, &error);

  note (g_get_monotonic_time (), "PIN asked (answered from the PIN file)");
  if (!pin)
    g_printerr ("gui-stall: %s\n", error->message);
  kpr_worker_request_reply (request, pin);
}

/* --- measuring --- */

static void
measure_start (gint64 duration_ms)
{
  B.measuring = TRUE;
  B.started = g_get_monotonic_time ();
  B.stop_at = duration_ms ? B.started + duration_ms * 1000 : 0;
  B.job_done_at = 0;
  B.last_tick = B.started;
  B.last_sched = B.start_sched = read_sched ();
  B.ticks = 0;
  B.max_gap = 0;
  B.max_gap_end = 0;
  B.max_gap_job = 0;
  B.gaps_over_16ms = B.gaps_over_50ms = 0;
  g_array_set_size (B.events, 0);
  B.frames = 0;
  B.max_frame = 0;
}

static void
measure_report (const char *what)
{
  gint64 gap_start = B.max_gap_end - B.max_gap;
  guint shown = 0;
  Sched end = read_sched ();

  B.measuring = FALSE;
  printf ("%s: %.0f ms measured (main thread cpu %.0f ms), %u ticks; longest gap %.1f ms at +%.0f ms "
          "(main thread in it: cpu %.1f ms, run-queue wait %.1f ms, neither %.1f ms); "
          "gaps > 16 ms: %u, > 50 ms: %u; %u frames, longest %.1f ms\n",
          what, ms (g_get_monotonic_time () - B.started), (end.cpu_ns - B.start_sched.cpu_ns) / 1e6,
          B.ticks, ms (B.max_gap),
          ms (gap_start - B.started), B.max_gap_sched.cpu_ns / 1e6, B.max_gap_sched.wait_ns / 1e6,
          ms (B.max_gap) - B.max_gap_sched.cpu_ns / 1e6 - B.max_gap_sched.wait_ns / 1e6,
          B.gaps_over_16ms, B.gaps_over_50ms, B.frames, ms (B.max_frame));
  for (guint i = 0; i < B.events->len; i++)
    {
      Event *e = &g_array_index (B.events, Event, i);

      if (e->at >= gap_start && e->at <= B.max_gap_end)
        {
          printf ("  in the longest gap, +%.1f ms: %s\n", ms (e->at - gap_start), e->text);
          shown++;
        }
    }
  if (!shown)
    printf ("  in the longest gap: no frame, progress message, question or list rebuild\n");
  if (g_getenv ("KPR_BENCH_VERBOSE"))
    printf ("  (measurement started at CLOCK_MONOTONIC %.6f s)\n", B.started / 1e6);
  if (g_getenv ("KPR_BENCH_VERBOSE"))
    for (guint i = 0; i < B.events->len; i++)
      {
        Event *e = &g_array_index (B.events, Event, i);
        printf ("  event +%.1f ms: %s\n", ms (e->at - B.started), e->text);
      }
  fflush (stdout);
}

static gboolean
on_tick (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  gint64 gap;
  Sched s;

  if (!B.measuring)
    return G_SOURCE_CONTINUE;
  s = read_sched ();
  gap = now - B.last_tick;
  B.ticks++;
  if (gap > 16000)
    B.gaps_over_16ms++;
  if (gap > 50000)
    B.gaps_over_50ms++;
  if (B.job_running)
    B.max_gap_job = MAX (B.max_gap_job, gap);
  if (gap > B.max_gap)
    {
      B.max_gap = gap;
      B.max_gap_end = now;
      B.max_gap_sched.cpu_ns = s.cpu_ns - B.last_sched.cpu_ns;
      B.max_gap_sched.wait_ns = s.wait_ns - B.last_sched.wait_ns;
    }
  watch_first (B.identity_list, &B.first_row, "identity list", now);
  watch_first (B.history_list, &B.first_history, "history list", now);
  if (B.job_running && !kpr_worker_is_busy (kpr_window_get_worker (B.window)))
    {
      B.job_running = FALSE;
      B.job_done_at = now;
      note (now, "renewal job finished (seen at this tick)");
      B.stop_at = now + (gint64) B.settle_ms * 1000;
    }
  B.last_tick = g_get_monotonic_time ();
  B.last_sched = s;
  /* Frames never span a tick: one that stopped after its layout is over. */
  B.frame_start = 0;
  if (B.stop_at && now >= B.stop_at)
    next_step ();
  return G_SOURCE_CONTINUE;
}

static gboolean start_idle (gpointer data);

/* idle on the list, idle on the detail page, then RUNS renewals, quit */
static void
next_step (void)
{
  g_autofree char *what = NULL;

  if (B.measuring && B.idle_step == 1)
    {
      measure_report ("idle on the list page (nothing running)");
      B.idle_step = 2;
      kpr_window_show_identity (B.window, B.name);
      /* Let the detail page slide in, lay out and draw first. */
      g_timeout_add (1000, start_idle, NULL);
      return;
    }
  if (B.measuring && B.idle_step == 2)
    {
      what = g_strdup_printf ("idle on the detail page of %s (nothing running)", B.name);
      measure_report (what);
      B.idle_step = 3;
    }
  else if (B.measuring)
    {
      const KprIdentity *id = kpr_window_lookup (B.window, B.name);
      gboolean renewed = id && id->cert && B.cert_before && X509_cmp (id->cert, B.cert_before) != 0;

      what = g_strdup_printf ("renewal %u/%u (job %.0f ms, longest gap while it ran %.1f ms; %s)",
                              B.run, B.runs, ms (B.job_done_at - B.started), ms (B.max_gap_job),
                              renewed ? "the window shows a new certificate"
                                      : "FAILED: the window shows no new certificate");
      measure_report (what);
      B.worst = MAX (B.worst, B.max_gap);
      B.worst_job = MAX (B.worst_job, B.max_gap_job);
      if (!renewed)
        B.status = 1;
    }
  if (B.run == B.runs)
    {
      printf ("longest gap over %u renewals: %.1f ms while the key was made and the certificate "
              "fetched (job); %.1f ms with the %u ms after it (target < 50 ms)\n",
              B.runs, ms (B.worst_job), ms (B.worst), B.settle_ms);
      fflush (stdout);
      g_application_quit (G_APPLICATION (B.app));
      return;
    }
  B.run++;
  {
    const KprIdentity *id = kpr_window_lookup (B.window, B.name);

    g_clear_pointer (&B.cert_before, X509_free);
    B.cert_before = id && id->cert ? X509_dup (id->cert) : NULL;
  }
  measure_start (0);
  B.job_running = TRUE;
  note (B.started, "Renew now pressed");
  gtk_widget_activate_action (GTK_WIDGET (B.window), "win.renew", "s", B.name);
}

static gboolean
start_idle (gpointer data)
{
  if (!B.history_list)
    B.history_list = kpr_bench_find (GTK_WIDGET (B.window), "history-list");
  if (!B.idle_step)
    B.idle_step = 1;
  measure_start (B.idle_ms);
  return G_SOURCE_REMOVE;
}

static gboolean
wait_loaded (gpointer data)
{
  if (!kpr_window_lookup (B.window, B.name))
    return G_SOURCE_CONTINUE;
  /* Let the list lay out and draw before the clock starts. */
  g_timeout_add (1000, start_idle, NULL);
  return G_SOURCE_REMOVE;
}

static void
on_window_added (GtkApplication *app, GtkWindow *window, gpointer data)
{
  if (!KPR_IS_WINDOW (window) || B.window)
    return;
  B.window = KPR_WINDOW (window);
  g_signal_connect_after (window, "realize", G_CALLBACK (on_realize), NULL);
  B.identity_list = kpr_bench_find (GTK_WIDGET (window), "identity-list");
  kpr_worker_set_handler (kpr_window_get_worker (B.window), KPR_WORKER_PIN, on_pin, NULL);
  g_signal_connect (kpr_window_get_worker (B.window), "progress", G_CALLBACK (on_progress), NULL);
  g_timeout_add (50, wait_loaded, NULL);
  g_timeout_add (1, on_tick, NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr (KprApplication) app = NULL;
  int ret;

  if (argc < 4 || argc > 6)
    {
      g_printerr ("usage: %s NAME PIN-FILE RUNS [IDLE-MS [SETTLE-MS]]\n", argv[0]);
      return 2;
    }
  B.name = argv[1];
  B.pin_file = argv[2];
  B.runs = (guint) strtoul (argv[3], NULL, 10);
  B.idle_ms = argc > 4 ? (guint) strtoul (argv[4], NULL, 10) : 3000;
  B.settle_ms = argc > 5 ? (guint) strtoul (argv[5], NULL, 10) : 1500;
  B.schedstat_fd = open ("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (B.runs == 0 || B.idle_ms == 0 || B.schedstat_fd < 0)
    {
      g_printerr ("gui-stall: RUNS and IDLE-MS must be > 0, and /proc/thread-self/schedstat "
                  "readable\n");
      return 2;
    }
  B.events = g_array_new (FALSE, FALSE, sizeof (Event));
  g_array_set_clear_func (B.events, event_clear);

  app = kpr_application_new ();
  B.app = app;
  g_signal_connect (app, "window-added", G_CALLBACK (on_window_added), NULL);
  kpr_bench_watchdog (60 + B.runs * 60);
  ret = g_application_run (G_APPLICATION (app), 1, argv);
  g_array_unref (B.events);
  g_clear_pointer (&B.cert_before, X509_free);
  close (B.schedstat_fd);
  return ret ? ret : B.status;
}
