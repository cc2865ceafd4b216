/* gui-bench.h — shared by the certkeeper-gtk benchmark drivers (bench/
 * gui-floor.c, gui-startup.c, gui-stall.c).  Benchmarks, not tests: run
 * by hand through bench/gui-startup.sh and bench/gui-stall.sh. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Prints "WHAT exec-to-main E main-to-frame F total T cpu C[ EXTRA]" (ms)
 * on stdout: E and T from KPR_BENCH_T0, the CLOCK_MONOTONIC time in µs the
 * script took just before exec() (-1 when it is not set); C the process's
 * CPU time (user + system, all threads) so far. */
void kpr_bench_print_start (const char *what, gint64 main_at, gint64 frame_at,
                            const char *extra);
/* Ends the process with status 2 and a line on stderr after @seconds: a
 * benchmark that hangs must not hold the script forever. */
void kpr_bench_watchdog (guint seconds);
/* The first widget under @root (depth first) whose buildable id (the .ui
 * "id" of a template child) is @id. */
GtkWidget *kpr_bench_find (GtkWidget *root, const char *id);

/* With KPR_BENCH_VERBOSE set: remembers "@what happened now", and
 * prints the list (ms from @origin) on stderr. */
void kpr_bench_mark (const char *what);
void kpr_bench_marks_print (gint64 origin);
/* Marks the phases of every frame of @widget's frame clock (verbose only). */
void kpr_bench_mark_frames (GtkWidget *widget);
/* Marks the start and end of @app's "startup" and "activate". */
void kpr_bench_mark_app (GApplication *app);

G_END_DECLS
