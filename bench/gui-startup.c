/* gui-startup.c — certkeeper-gtk's start-up time to the first frame that
 * shows the identities (bench/gui-startup.sh).
 *
 * This is certkeeper-gtk's own main() (gui/certkeeper-gtk.c: a
 * KprApplication, run) plus an observer: it watches the main window's
 * GdkFrameClock and exits at the end ("after-paint") of the first frame
 * painted while the identity list was on screen holding the N
 * identities, its rows filling the list's height (or all N rows mapped)
 * — the list filled, not the "loading" spinner or the empty placeholder.
 * The list is a GtkListView: it maps (lays out fully and draws) only
 * the rows on screen, 10 of 20 in a 640 px window; GTK 4.8 builds and
 * measures a row widget for every item up to 200 all the same.  Widget
 * changes are made between frames, never inside one, so the rows seen at
 * after-paint are the rows that frame laid out and painted.
 *
 * Usage: gui-startup N
 * Prints (ms, CLOCK_MONOTONIC; see gui-bench.h):
 *   app exec-to-main E main-to-frame F total T cpu C first-frame A rows R built B items I
 * where A is the first frame of any content (from main()), R the rows
 * shown, B the row widgets made and I the identities in the list.
 */
#include "config.h"

#include <stdlib.h>

#include "gui-bench.h"
#include "kpr-gui.h"

static gint64 main_at;
static gint64 first_frame_at;
static guint expected;

/* The rows mapped in the identity list; *@items: the identities it
 * holds; *@built: the row widgets it made (GTK 4.8's list view makes up
 * to 200 around its anchor, on screen or not); *@filled: whether the
 * mapped rows reach the bottom of the list (the list view shows no gap
 * where a row is still missing). */
static guint
rows_shown (GtkWidget *window, guint *items, guint *built, gboolean *filled)
{
  GtkWidget *list = kpr_bench_find (window, "identity-list");
  GtkSelectionModel *model;
  float bottom = 0;
  guint n = 0;

  *items = 0;
  *built = 0;
  *filled = FALSE;
  if (!list || !gtk_widget_get_mapped (list))
    return 0;
  model = gtk_list_view_get_model (GTK_LIST_VIEW (list));
  *items = model ? g_list_model_get_n_items (G_LIST_MODEL (model)) : 0;
  /* Each row of the list view holds one AdwActionRow. */
  for (GtkWidget *c = gtk_widget_get_first_child (list); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *row = gtk_widget_get_first_child (c);
      graphene_rect_t bounds;

      if (!row || !ADW_IS_ACTION_ROW (row))
        continue;
      (*built)++;
      if (!gtk_widget_get_mapped (row))
        continue;
      n++;
      if (gtk_widget_compute_bounds (c, list, &bounds))
        bottom = MAX (bottom, bounds.origin.y + bounds.size.height);
    }
  *filled = n > 0 && (n >= *items || bottom >= gtk_widget_get_height (list) - 1);
  return n;
}

static void
on_after_paint (GdkFrameClock *clock, GtkWidget *window)
{
  gint64 now = g_get_monotonic_time ();
  guint rows, items, built;
  gboolean filled;
  g_autofree char *extra = NULL;

  if (!first_frame_at)
    first_frame_at = now;
  rows = rows_shown (window, &items, &built, &filled);
  if (items < expected || !filled)
    return;
  g_signal_handlers_disconnect_by_func (clock, on_after_paint, window);
  extra = g_strdup_printf ("first-frame %.1f rows %u built %u items %u",
                           (first_frame_at - main_at) / 1000.0, rows, built, items);
  kpr_bench_print_start ("app", main_at, now, extra);
  kpr_bench_marks_print (main_at);
  g_application_quit (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (window))));
}

static void
on_realize (GtkWidget *window, gpointer data)
{
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (on_after_paint), window);
}

static void
on_stack_changed (GtkStack *stack, GParamSpec *pspec, gpointer data)
{
  /* kpr-window.c's update_list() has filled the list (or not). */
  if (g_strcmp0 (gtk_stack_get_visible_child_name (stack), "list") == 0)
    kpr_bench_mark ("list stack shows the list");
  else
    kpr_bench_mark ("list stack shows something else");
}

static void
on_window_added (GtkApplication *app, GtkWindow *window, gpointer data)
{
  GtkWidget *stack;

  if (!KPR_IS_WINDOW (window))
    return;
  kpr_bench_mark ("KprWindow made");
  g_signal_connect_after (window, "realize", G_CALLBACK (on_realize), NULL);
  kpr_bench_mark_frames (GTK_WIDGET (window));
  stack = kpr_bench_find (GTK_WIDGET (window), "list-stack");
  if (stack)
    g_signal_connect (stack, "notify::visible-child-name", G_CALLBACK (on_stack_changed), NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr (KprApplication) app = NULL;

  main_at = g_get_monotonic_time ();
  if (argc != 2 || (expected = (guint) strtoul (argv[1], NULL, 10)) == 0)
    {
      g_printerr ("usage: %s ROWS (the identities the window must show)\n", argv[0]);
      return 2;
    }
  app = kpr_application_new ();
  g_signal_connect (app, "window-added", G_CALLBACK (on_window_added), NULL);
  kpr_bench_mark_app (G_APPLICATION (app));
  kpr_bench_watchdog (60);
  /* No arguments for GApplication: certkeeper-gtk is started without. */
  return g_application_run (G_APPLICATION (app), 1, argv);
}
