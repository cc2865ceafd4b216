/* gui-floor.c — the floor for certkeeper-gtk's start-up time (bench/
 * gui-startup.sh): the least a GTK4 + libadwaita program does to show a
 * window.  An AdwApplication (registered on the session bus, like
 * certkeeper-gtk) opens an AdwApplicationWindow holding one label and
 * exits at the end of its first frame (the window's GdkFrameClock
 * "after-paint").
 *
 * Prints one line, times in ms on CLOCK_MONOTONIC:
 *   floor exec-to-main E main-to-frame F total T cpu C
 * where "exec" is KPR_BENCH_T0 (µs, CLOCK_MONOTONIC), taken by the script
 * just before it exec()s this program; without it E and T are -1.
 */
#include "config.h"

#include <adwaita.h>
#include <stdio.h>
#include <stdlib.h>

#include "gui-bench.h"

static gint64 main_at;

static void
on_after_paint (GdkFrameClock *clock, gpointer data)
{
  GApplication *app = data;

  g_signal_handlers_disconnect_by_func (clock, on_after_paint, data);
  kpr_bench_print_start ("floor", main_at, g_get_monotonic_time (), NULL);
  kpr_bench_marks_print (main_at);
  g_application_quit (app);
}

static void
on_realize (GtkWidget *window, gpointer app)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);

  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), app);
}

static void
on_activate (GApplication *app, gpointer data)
{
  GtkWidget *window = adw_application_window_new (GTK_APPLICATION (app));
  GtkWidget *label = gtk_label_new ("Certificates");

  gtk_window_set_title (GTK_WINDOW (window), "Certificates");
  /* The size certkeeper-gtk's window asks for (kpr-window.ui). */
  gtk_window_set_default_size (GTK_WINDOW (window), 720, 640);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), label);
  g_signal_connect_after (window, "realize", G_CALLBACK (on_realize), app);
  kpr_bench_mark ("window made");
  kpr_bench_mark_frames (window);
  gtk_window_present (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  g_autoptr (AdwApplication) app = NULL;

  main_at = g_get_monotonic_time ();
  app = adw_application_new ("org.certkeeper.BenchFloor", G_APPLICATION_DEFAULT_FLAGS);
  kpr_bench_mark_app (G_APPLICATION (app));
  g_signal_connect (app, "activate", G_CALLBACK (on_activate), NULL);
  kpr_bench_watchdog (30);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
