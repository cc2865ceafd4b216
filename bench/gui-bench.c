/* gui-bench.c — see gui-bench.h. */
#include "config.h"

#include "gui-bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

void
kpr_bench_print_start (const char *what, gint64 main_at, gint64 frame_at, const char *extra)
{
  const char *t0_text = g_getenv ("KPR_BENCH_T0");
  gint64 t0 = t0_text ? g_ascii_strtoll (t0_text, NULL, 10) : 0;
  double exec_ms = t0 > 0 ? (main_at - t0) / 1000.0 : -1;
  double total_ms = t0 > 0 ? (frame_at - t0) / 1000.0 : -1;
  struct rusage ru;
  double cpu_ms = -1;

  /* CPU time since the exec, every thread: steadier than wall time on a
   * shared machine, where the wall clock also counts run-queue waits. */
  if (getrusage (RUSAGE_SELF, &ru) == 0)
    cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0
             + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
  printf ("%s exec-to-main %.1f main-to-frame %.1f total %.1f cpu %.1f%s%s\n", what, exec_ms,
          (frame_at - main_at) / 1000.0, total_ms, cpu_ms, extra ? " " : "", extra ? extra : "");
  fflush (stdout);
}

static gboolean
on_watchdog (gpointer data)
{
  fprintf (stderr, "gui bench: no result after %u s; giving up\n", GPOINTER_TO_UINT (data));
  exit (2);
  return G_SOURCE_REMOVE;
}

void
kpr_bench_watchdog (guint seconds)
{
  g_timeout_add_seconds (seconds, on_watchdog, GUINT_TO_POINTER (seconds));
}

GtkWidget *
kpr_bench_find (GtkWidget *root, const char *id)
{
  if (g_strcmp0 (gtk_buildable_get_buildable_id (GTK_BUILDABLE (root)), id) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = kpr_bench_find (c, id);
      if (found)
        return found;
    }
  return NULL;
}

typedef struct {
  gint64 at;
  const char *what;
} Mark;

static GArray *marks;

void
kpr_bench_mark (const char *what)
{
  Mark m = { g_get_monotonic_time (), what };

  if (!g_getenv ("KPR_BENCH_VERBOSE"))
    return;
  if (!marks)
    marks = g_array_new (FALSE, FALSE, sizeof (Mark));
  g_array_append_val (marks, m);
}

void
kpr_bench_marks_print (gint64 origin)
{
  if (!marks)
    return;
  fprintf (stderr, "  (0 ms = CLOCK_MONOTONIC %.6f s)\n", origin / 1e6);
  for (guint i = 0; i < marks->len; i++)
    {
      Mark *m = &g_array_index (marks, Mark, i);
      fprintf (stderr, "  %8.1f ms  %s\n", (m->at - origin) / 1000.0, m->what);
    }
  g_clear_pointer (&marks, g_array_unref);
}

static void
on_phase (GdkFrameClock *clock, gpointer what)
{
  kpr_bench_mark (what);
}

static void
on_realize_marks (GtkWidget *widget, gpointer data)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);

  kpr_bench_mark ("window realized");
  g_signal_connect (clock, "flush-events", G_CALLBACK (on_phase), "frame: flush-events done");
  g_signal_connect (clock, "update", G_CALLBACK (on_phase), "frame: before-paint+update done");
  g_signal_connect (clock, "layout", G_CALLBACK (on_phase), "frame: layout done");
  g_signal_connect (clock, "paint", G_CALLBACK (on_phase), "frame: paint done");
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_phase), "frame: after-paint");
}

static void
on_map_marks (GtkWidget *widget, gpointer data)
{
  kpr_bench_mark ("window mapped");
}

void
kpr_bench_mark_frames (GtkWidget *widget)
{
  if (!g_getenv ("KPR_BENCH_VERBOSE"))
    return;
  g_signal_connect_after (widget, "realize", G_CALLBACK (on_realize_marks), NULL);
  g_signal_connect_after (widget, "map", G_CALLBACK (on_map_marks), NULL);
}

static void
on_app_signal (GApplication *app, gpointer what)
{
  kpr_bench_mark (what);
}

void
kpr_bench_mark_app (GApplication *app)
{
  if (!g_getenv ("KPR_BENCH_VERBOSE"))
    return;
  g_signal_connect (app, "startup", G_CALLBACK (on_app_signal), "startup begins");
  g_signal_connect_after (app, "startup", G_CALLBACK (on_app_signal), "startup done");
  g_signal_connect (app, "activate", G_CALLBACK (on_app_signal), "activate begins");
  g_signal_connect_after (app, "activate", G_CALLBACK (on_app_signal), "activate done");
}
