/* test-row-text.c — run by test-row-text.sh under Xvfb: the identity
 * list's rows show their title and subtitle with KprRowText (laid out
 * once, gui/kpr-row-text.c) instead of AdwActionRow's own labels; what
 * they show must not change.  For texts that fit, wrap at a space, break
 * inside a long word, or are empty, an AdwActionRow as libadwaita draws
 * it and one given KprRowText (with the same badge and chevron as the
 * identity list's rows) are put side by side in a window 720 px and then
 * 360 px wide: each pair must have the same size and the same pixels, in
 * the light and the dark style.  The row keeps its title, subtitle and
 * accessible texts.
 *
 * Usage: test-row-text */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gui-fixture.h"
#include "kpr-row-text.h"

static const char *const TEXTS[][2] = {
  { "id01", "This computer · exportable, generated here · expires in 13 days" },
  { "alice@example.org", "KINGSTON DataTraveler 3.0 (token 1234) · not exportable · expires in 2 years" },
  { "a-name-far-too-long-for-one-line-at-phone-width-without-any-space-in-it",
    "Renewal due · https://ca.example.org:8443/.well-known/est/certkeeper/simpleenroll" },
  { "Zoë Ñúñez 日本語", "" },
  { "browsers", "Could not read the NSS database:\nsecmod.db is locked by another program (Firefox?)" },
};

/* An AdwActionRow as kpr_identity_row_new() lays it out. */
static GtkWidget *
new_row (const char *title, const char *subtitle, gboolean row_text)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *badge = gtk_label_new ("Backup missing");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  /* No focus ring, no hover tint (the pointer rests somewhere in Xvfb). */
  gtk_widget_set_focusable (row, FALSE);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_add_css_class (badge, "caption-heading");
  gtk_widget_add_css_class (badge, "warning");
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), badge);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
  if (row_text && !kpr_row_text_adopt (row))
    return NULL;
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  kpr_row_text_sync (row);
  return row;
}

/* @row's pixels as drawn now (RGBA bytes), or NULL. */
static GBytes *
pixels_of (GtkWidget *row)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (row);
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  int w = gtk_widget_get_width (row), h = gtk_widget_get_height (row);
  gsize stride = (gsize) w * 4;
  guchar *data;

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (!node || w <= 0 || h <= 0)
    return NULL;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (row)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  data = g_malloc (stride * h);
  gdk_texture_download (texture, data, stride);
  return g_bytes_new_take (data, stride * h);
}

static void
compare (GtkWidget *theirs, GtkWidget *ours, const char *what)
{
  int tw = gtk_widget_get_width (theirs), th = gtk_widget_get_height (theirs);
  int ow = gtk_widget_get_width (ours), oh = gtk_widget_get_height (ours);
  g_autoptr (GBytes) a = NULL;
  g_autoptr (GBytes) b = NULL;

  if (!kpr_gui_check (tw == ow && th == oh, "%s: same size (AdwActionRow %d×%d, KprRowText %d×%d)", what,
                      tw, th, ow, oh))
    return;
  a = pixels_of (theirs);
  b = pixels_of (ours);
  if (!kpr_gui_check (a && b && g_bytes_equal (a, b), "%s: same pixels", what) && a && b)
    {
      const guchar *pa = g_bytes_get_data (a, NULL), *pb = g_bytes_get_data (b, NULL);
      gsize n = g_bytes_get_size (a), differ = 0, first = n;

      for (gsize i = 0; i < n; i++)
        if (pa[i] != pb[i] && differ++ == 0)
          first = i;
      /* Both images beside the screenshots, to see what differs. */
      if (g_getenv ("KPR_SCREENSHOT_DIR"))
        for (int k = 0; k < 2; k++)
          {
            g_autoptr (GdkTexture) t = gdk_memory_texture_new (tw, th, GDK_MEMORY_DEFAULT,
                                                               k ? b : a, (gsize) tw * 4);
            g_autofree char *path = g_strdup_printf ("%s/row-text-%s-%s.png", g_getenv ("KPR_SCREENSHOT_DIR"),
                                                     k ? "ours" : "theirs", what);

            gdk_texture_save_to_png (t, path);
          }
      printf ("# %zu of %zu bytes differ, the first at x %zu, y %zu\n", differ, n, (first / 4) % tw,
              first / 4 / tw);
    }
}

static gboolean
laid_out_at (gpointer data)
{
  GtkWidget *box = data;

  return gtk_widget_get_width (box) == GPOINTER_TO_INT (g_object_get_data (G_OBJECT (box), "want"));
}

int
main (int argc, char **argv)
{
  static const int widths[] = { 720, 360 };
  static const struct {
    AdwColorScheme scheme;
    const char *name;
  } schemes[] = { { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
                  { ADW_COLOR_SCHEME_FORCE_DARK, "dark" } };
  GtkWidget *window, *box, *theirs[G_N_ELEMENTS (TEXTS)], *ours[G_N_ELEMENTS (TEXTS)];

  kpr_gui_test_init (&argc, &argv);
  window = gtk_window_new ();
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  for (guint i = 0; i < G_N_ELEMENTS (TEXTS); i++)
    {
      theirs[i] = new_row (TEXTS[i][0], TEXTS[i][1], FALSE);
      ours[i] = new_row (TEXTS[i][0], TEXTS[i][1], TRUE);
      if (!kpr_gui_check (ours[i] != NULL, "KprRowText finds AdwActionRow's title box"))
        return kpr_gui_test_finish ();
      /* Each in a list of its own: a boxed list rounds its first and
       * last rows' corners. */
      for (guint k = 0; k < 2; k++)
        {
          GtkWidget *list = gtk_list_box_new ();

          gtk_list_box_append (GTK_LIST_BOX (list), k ? ours[i] : theirs[i]);
          gtk_widget_add_css_class (list, "boxed-list");
          gtk_box_append (GTK_BOX (box), list);
        }
    }
  /* Xvfb's pointer rests in the middle of the screen: no row may take
   * the hover tint (and keep it when the window narrows under it). */
  gtk_widget_set_can_target (box, FALSE);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), widths[0], 900);
  gtk_window_present (GTK_WINDOW (window));

  for (guint s = 0; s < G_N_ELEMENTS (schemes); s++)
    {
      adw_style_manager_set_color_scheme (adw_style_manager_get_default (), schemes[s].scheme);
      for (guint w = 0; w < G_N_ELEMENTS (widths); w++)
        {
          g_object_set_data (G_OBJECT (box), "want", GINT_TO_POINTER (widths[w]));
          gtk_window_set_default_size (GTK_WINDOW (window), widths[w], 900);
          kpr_gui_check (kpr_gui_wait (laid_out_at, box, 5000), "the window is %d px wide", widths[w]);
          kpr_gui_settle (200);
          for (guint i = 0; i < G_N_ELEMENTS (TEXTS); i++)
            {
              g_autofree char *what = g_strdup_printf ("“%s” at %d px, %s", TEXTS[i][0], widths[w],
                                                       schemes[s].name);

              compare (theirs[i], ours[i], what);
            }
        }
    }

  /* What the row says to its getters and to a screen reader is the
   * row's own (AdwActionRow names it by its labels, which keep the
   * texts); the texts shown are labels too. */
  kpr_gui_check (g_str_equal (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (ours[0])), TEXTS[0][0])
                   && g_str_equal (adw_action_row_get_subtitle (ADW_ACTION_ROW (ours[0])), TEXTS[0][1]),
                 "the row's title and subtitle are kept");
  {
    GtkWidget *title = g_object_get_data (G_OBJECT (ours[1]), "kpr-row-title");
    char *why = title ? gtk_test_accessible_check_property (GTK_ACCESSIBLE (title),
                                                            GTK_ACCESSIBLE_PROPERTY_LABEL, TEXTS[1][0])
                      : g_strdup ("no title");

    kpr_gui_check (why == NULL && gtk_test_accessible_has_role (GTK_ACCESSIBLE (title),
                                                                GTK_ACCESSIBLE_ROLE_LABEL)
                     && g_str_equal (kpr_row_text_get_text (KPR_ROW_TEXT (title)), TEXTS[1][0]),
                   "the title shown is a label named “%s” (%s)", TEXTS[1][0], why ? why : "ok");
    g_free (why);
  }
  /* A changed subtitle is shown (and an emptied one hidden). */
  adw_action_row_set_subtitle (ADW_ACTION_ROW (ours[0]), "");
  kpr_row_text_sync (ours[0]);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (theirs[0]), "");
  kpr_gui_settle (200);
  compare (theirs[0], ours[0], "subtitle emptied");
  gtk_window_destroy (GTK_WINDOW (window));
  return kpr_gui_test_finish ();
}
