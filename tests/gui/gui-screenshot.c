/* gui-screenshot.c — kpr_gui_screenshot() (see gui-fixture.h): the
 * screenshots of the gui suite (issue 16, item 8).
 *
 * Every screenshot is written as NAME.png at the window's size.  The
 * pages people look at (PAGES below) are also rendered in the light and
 * the dark style at 720×640 and at phone width, 360×640:
 * NAME-720-light.png, NAME-720-dark.png, NAME-360-light.png,
 * NAME-360-dark.png.  At 360 px the window must really be 360 px wide
 * (a minimum width above it would make GTK overflow the screen): that is
 * a check of its own.  All go to $KPR_SCREENSHOT_DIR (the build dir);
 * with KPR_UPDATE_SCREENSHOTS=1 the page variants are also copied to
 * $KPR_SOURCE_SCREENSHOT_DIR (the source tree's screenshots/, shown by
 * docs/gui.md) — never in CI, which must not write into the source tree.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "gui-fixture.h"

#define KPR_SHOT_HEIGHT 640

/* The pages docs/gui.md shows. */
static const char *const PAGES[] = {
  "first-run-where", "first-run-done",
  "add-1-server", "add-2-account", "add-3-where", "add-4-key", "add-5-trust", "add-5-word",
  "add-6-done",
  "window-empty", "window-list", "detail-fresh", "detail-history",
  "preferences", "pin-dialog",
  "backup-1-passphrase", "backup-2-done", "import", "delete-no-backup",
};

static gboolean
is_page (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (PAGES); i++)
    if (g_str_equal (PAGES[i], name))
      return TRUE;
  return FALSE;
}

/* Renders @top as it is now into @dir/@file; FALSE (and why on stderr)
 * when it could not. */
static gboolean
render (GtkWidget *top, const char *dir, const char *file)
{
  g_autofree char *path = NULL;
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GtkSnapshot) snapshot = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GdkPixbuf) pixbuf = NULL;
  g_autoptr (GError) error = NULL;
  GskRenderer *renderer;
  int w, h;

  /* Let a change just made reach the screen first. */
  kpr_gui_settle (150);
  w = gtk_widget_get_width (top);
  h = gtk_widget_get_height (top);
  if (w <= 0 || h <= 0)
    {
      g_printerr ("screenshot %s: the window has no size yet (not shown?)\n", file);
      return FALSE;
    }
  paintable = gtk_widget_paintable_new (top);
  /* A page just shown may not have been drawn yet on a loaded machine
   * (ASan, two cores): wait for a frame, up to 3 s, before giving up. */
  for (int tries = 0; !node && tries < 20; tries++)
    {
      if (tries > 0)
        kpr_gui_settle (150);
      snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
    }
  if (!node)
    {
      g_printerr ("screenshot %s: nothing was drawn\n", file);
      return FALSE;
    }
  renderer = gtk_native_get_renderer (GTK_NATIVE (top));
  if (!renderer)
    {
      g_printerr ("screenshot %s: the window has no renderer (not realized)\n", file);
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, file, NULL);
  /* Through GdkPixbuf for the highest PNG compression: the copies in
   * screenshots/ are reviewed and kept in git. */
  pixbuf = gdk_pixbuf_get_from_texture (texture);
  if (!pixbuf || !gdk_pixbuf_save (pixbuf, path, "png", &error, "compression", "9", NULL))
    {
      g_printerr ("screenshot %s: could not write %s: %s\n", file, path,
                  error ? error->message : "no pixels");
      return FALSE;
    }
  return TRUE;
}

/* Says which widgets make @w wider than @limit: the deepest ones whose
 * minimum width is above it (on "#" lines). */
static void
report_wide (GtkWidget *w, int limit, int depth)
{
  gboolean deeper = FALSE;
  int min = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    {
      if (!gtk_widget_get_visible (c))
        continue;
      gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
      if (min > limit)
        {
          deeper = TRUE;
          report_wide (c, limit, depth + 1);
        }
    }
  if (!deeper)
    {
      gtk_widget_measure (w, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
      printf ("#   too wide at depth %d: %s “%s” (minimum %d px)\n", depth, G_OBJECT_TYPE_NAME (w),
              GTK_IS_LABEL (w) ? gtk_label_get_text (GTK_LABEL (w)) : gtk_widget_get_name (w), min);
    }
}

/* Sets @top's size, waiting until the window manager-less Xvfb and GTK
 * have applied it. */
static void
resize (GtkWidget *top, int width, int height)
{
  int def_w = 0, def_h = 0;

  /* The default size counts the client-side decorations' margins, the
   * widget's size does not: the difference is added. */
  gtk_window_get_default_size (GTK_WINDOW (top), &def_w, &def_h);
  if (def_w > 0 && def_h > 0)
    {
      width += MAX (0, def_w - gtk_widget_get_width (top));
      height += MAX (0, def_h - gtk_widget_get_height (top));
    }
  gtk_window_set_default_size (GTK_WINDOW (top), width, height);
  for (int tries = 0; tries < 20 && (gtk_window_get_default_size (GTK_WINDOW (top), &def_w, &def_h),
                                     def_w != width || def_h != height); tries++)
    kpr_gui_settle (50);
  kpr_gui_settle (100);
}

/* The four variants of page @name; FALSE when one could not be made. */
static gboolean
page_variants (GtkWidget *top, const char *name, const char *dir)
{
  static const struct {
    AdwColorScheme scheme;
    const char *name;
  } schemes[] = { { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
                  { ADW_COLOR_SCHEME_FORCE_DARK, "dark" } };
  static const int widths[] = { 720, 360 };
  AdwStyleManager *style = adw_style_manager_get_default ();
  AdwColorScheme was_scheme = adw_style_manager_get_color_scheme (style);
  const char *source = g_getenv ("KPR_SOURCE_SCREENSHOT_DIR");
  gboolean update = g_strcmp0 (g_getenv ("KPR_UPDATE_SCREENSHOTS"), "1") == 0;
  int was_w = gtk_widget_get_width (top), was_h = gtk_widget_get_height (top);
  /* The main window is shown at 720×640 and 360×640; a dialog keeps its
   * own height and is narrowed to phone width only. */
  gboolean dialog = gtk_window_get_transient_for (GTK_WINDOW (top)) != NULL;
  gboolean ok = TRUE, resized = FALSE;

  if (update && (!source || !*source))
    {
      g_printerr ("screenshot %s: KPR_UPDATE_SCREENSHOTS=1 but KPR_SOURCE_SCREENSHOT_DIR is not set\n",
                  name);
      return FALSE;
    }
  for (guint w = 0; w < G_N_ELEMENTS (widths); w++)
    {
      int width = dialog ? MIN (widths[w], was_w) : widths[w];
      GtkWidget *content = gtk_window_get_child (GTK_WINDOW (top));
      int min_w = 0, nat_w = 0;

      if (!dialog || was_w > widths[w])
        {
          resize (top, width, dialog ? was_h : KPR_SHOT_HEIGHT);
          resized = TRUE;
        }
      /* The content's: the window's own counts its decorations. */
      gtk_widget_measure (content ? content : top, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w,
                          NULL, NULL);
      printf ("# %s at %d: asked %d×%d, shown %d×%d, minimum width %d, natural %d\n", name,
              widths[w], width, dialog ? was_h : KPR_SHOT_HEIGHT, gtk_widget_get_width (top),
              gtk_widget_get_height (top), min_w, nat_w);
      if (widths[w] == 360
          && !kpr_gui_check (min_w <= 360 && gtk_widget_get_width (top) <= 360,
                             "%s fits a 360 px wide screen (minimum width %d px, shown %d px wide)",
                             name, min_w, gtk_widget_get_width (top)))
        report_wide (content ? content : top, 300, 0);
      for (guint s = 0; s < G_N_ELEMENTS (schemes); s++)
        {
          g_autofree char *file = g_strdup_printf ("%s-%d-%s.png", name, widths[w], schemes[s].name);

          g_autofree char *path = g_build_filename (dir, file, NULL);
          GStatBuf st;

          adw_style_manager_set_color_scheme (style, schemes[s].scheme);
          ok = render (top, dir, file) && ok;
          kpr_gui_check (g_stat (path, &st) == 0 && st.st_size > 0, "screenshot %s is not empty",
                         file);
          if (update)
            ok = render (top, source, file) && ok;
        }
    }
  adw_style_manager_set_color_scheme (style, was_scheme);
  if (resized)
    resize (top, was_w, was_h);
  return ok;
}

gboolean
kpr_gui_screenshot (GtkWidget *widget, const char *name)
{
  const char *dir = g_getenv ("KPR_SCREENSHOT_DIR");
  g_autofree char *file = g_strdup_printf ("%s.png", name);
  GtkWidget *top;

  if (!dir || !*dir)
    {
      g_printerr ("screenshot %s: KPR_SCREENSHOT_DIR is not set\n", name);
      return FALSE;
    }
  top = GTK_WIDGET (gtk_widget_get_native (widget));
  if (!top)
    {
      g_printerr ("screenshot %s: the widget is not in a window\n", name);
      return FALSE;
    }
  if (!render (top, dir, file))
    return FALSE;
  return is_page (name) ? page_variants (top, name, dir) : TRUE;
}
