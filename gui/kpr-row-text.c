/* kpr-row-text.c — the title and subtitle of the identity list's rows,
 * laid out once.
 *
 * Why not AdwActionRow's own labels: a GtkLabel that wraps (as those do,
 * word-char, unlimited lines) is laid out by Pango once per question GTK
 * asks — its width unwrapped, its smallest width (a layout 0 px wide:
 * one line per character, the text shaped again for every line), a
 * binary search over widths when a box asks for its width at a given
 * height, its height at the width it gets — and Pango 1.50 shapes the
 * whole text again each time.  With 20 identities that was the largest
 * part of certkeeper-gtk's cold start above its floor (bench/RESULTS.md).
 * A KprRowText shapes its text once, unwrapped, and answers from that:
 * natural width = the line's width, smallest width = its widest
 * character (what the 0 px layout gives), height = the line's height
 * whenever the width given holds the line; only a text that does not fit
 * (a long subtitle at 360 px) is laid out again, once per width, and
 * that layout is kept for drawing.  What is shown is what the labels
 * showed: same text, same CSS nodes (box.title > label.title,
 * label.subtitle), same wrapping. */
#include "config.h"

#include "kpr-row-text.h"

struct _KprRowText
{
  GtkWidget parent_instance;

  char *text;
  /* The text on one line, and what was read from it (valid while its
   * serial is line_serial: a font change makes Pango lay it out again). */
  PangoLayout *line;
  guint line_serial;
  int nat_width;
  int min_width;
  int line_height; /* Pango units */
  gboolean one_line; /* no line break in the text itself */
  /* The line's characters (Cluster), where it may break. */
  GArray *clusters;
  /* The text wrapped at wrapped_width px, for a width that does not
   * hold the line; NULL until one is asked for. */
  PangoLayout *wrapped;
  int wrapped_width;
};

G_DEFINE_FINAL_TYPE (KprRowText, kpr_row_text, GTK_TYPE_WIDGET)

/* One character (grapheme cluster) of the line, in Pango units. */
typedef struct
{
  int x;
  int width;
  guint line_break : 1; /* a line may start here (after a space, …) */
  guint white : 1;
} Cluster;

/* The line's clusters, read once from the shaped line. */
static GArray *
read_clusters (PangoLayout *layout)
{
  const char *text = pango_layout_get_text (layout);
  int n_attrs;
  const PangoLogAttr *attrs = pango_layout_get_log_attrs_readonly (layout, &n_attrs);
  PangoLayoutIter *iter = pango_layout_get_iter (layout);
  GArray *clusters = g_array_new (FALSE, FALSE, sizeof (Cluster));

  do
    {
      PangoRectangle logical;
      glong at = g_utf8_pointer_to_offset (text, text + pango_layout_iter_get_index (iter));
      Cluster c = { 0 };

      if (at >= n_attrs)
        break;
      pango_layout_iter_get_cluster_extents (iter, NULL, &logical);
      c.x = logical.x;
      c.width = logical.width;
      c.line_break = attrs[at].is_line_break;
      c.white = attrs[at].is_white;
      g_array_append_val (clusters, c);
    }
  while (pango_layout_iter_next_cluster (iter));
  pango_layout_iter_free (iter);
  return clusters;
}

/* How many lines Pango's word-char wrapping makes of the line at @width
 * (Pango units), from the clusters alone: each line ends at its last
 * break that fits (trailing spaces hang), or inside a word too long
 * for a line.  Used to answer height-for-width queries without shaping
 * the text again; what is drawn is Pango's own layout (size_allocate
 * checks that they agree). */
static int
count_lines (GArray *clusters, int width)
{
  const Cluster *c = (const Cluster *) clusters->data;
  guint start = 0, last = 0;
  int lines = 1;

  for (guint i = 0; i < clusters->len; i++)
    {
      if (i > start && c[i].line_break)
        last = i;
      if (c[i].white || i == start || c[i].x + c[i].width - c[start].x <= width)
        continue;
      start = last > start ? last : i;
      last = start;
      i = start;
      lines++;
    }
  return lines;
}

/* The widest character: what a GtkLabel that wraps word-char reports as
 * its minimum width (its layout 0 px wide has one character a line). */
static int
widest_cluster (GArray *clusters)
{
  int widest = 0;

  for (guint i = 0; i < clusters->len; i++)
    widest = MAX (widest, g_array_index (clusters, Cluster, i).width);
  return PANGO_PIXELS_CEIL (widest);
}

static PangoLayout *
new_layout (KprRowText *self)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), self->text);

  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  return layout;
}

/* The unwrapped line and its sizes, laid out again only when the text
 * or the font changed. */
static void
ensure_line (KprRowText *self)
{
  PangoRectangle logical;

  if (!self->line)
    self->line = new_layout (self);
  else if (pango_layout_get_serial (self->line) == self->line_serial)
    return;
  pango_layout_get_extents (self->line, NULL, &logical);
  self->nat_width = PANGO_PIXELS_CEIL (logical.width);
  self->line_height = logical.height;
  self->one_line = pango_layout_get_line_count (self->line) == 1;
  g_clear_pointer (&self->clusters, g_array_unref);
  self->clusters = read_clusters (self->line);
  self->min_width = MIN (widest_cluster (self->clusters), self->nat_width);
  self->line_serial = pango_layout_get_serial (self->line);
  g_clear_object (&self->wrapped);
}

/* The layout to show at @width px: the line when it fits, else the text
 * wrapped at @width (kept until another width is asked for). */
static PangoLayout *
layout_at (KprRowText *self, int width)
{
  ensure_line (self);
  if (width < 0 || width >= self->nat_width)
    return self->line;
  if (!self->wrapped || self->wrapped_width != width)
    {
      if (!self->wrapped)
        self->wrapped = new_layout (self);
      pango_layout_set_width (self->wrapped, width * PANGO_SCALE);
      self->wrapped_width = width;
    }
  return self->wrapped;
}

/* The height at @width px (-1: unlimited): the line's when it fits;
 * the wrapped layout's when one is kept at that width; else the line's
 * height times count_lines() — a box looking for a width for its height
 * asks at a dozen widths, and each Pango layout would shape the text
 * again. */
static int
height_at (KprRowText *self, int width)
{
  int height;

  ensure_line (self);
  if (width < 0 || width >= self->nat_width)
    return PANGO_PIXELS_CEIL (self->line_height);
  if (self->one_line && (!self->wrapped || self->wrapped_width != width))
    return PANGO_PIXELS_CEIL (self->line_height * count_lines (self->clusters, width * PANGO_SCALE));
  /* A text of several lines (an error message) is laid out for real. */
  pango_layout_get_size (layout_at (self, width), NULL, &height);
  return PANGO_PIXELS_CEIL (height);
}

static GtkSizeRequestMode
kpr_row_text_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
kpr_row_text_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                      int *natural, int *minimum_baseline, int *natural_baseline)
{
  KprRowText *self = KPR_ROW_TEXT (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* Whatever the height: a wrapping row text is asked for its height
       * at a width, never the other way round, by the row. */
      ensure_line (self);
      *minimum = self->min_width;
      *natural = self->nat_width;
    }
  else
    *minimum = *natural = height_at (self, for_size);
}

/* Draws Pango's wrapping of the text at the width given; if it has
 * another number of lines than count_lines() said, the row is measured
 * again (height_at() then reads that layout). */
static void
kpr_row_text_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  KprRowText *self = KPR_ROW_TEXT (widget);
  int shown;

  pango_layout_get_size (layout_at (self, width), NULL, &shown);
  if (PANGO_PIXELS_CEIL (shown) > height)
    gtk_widget_queue_resize (widget);
}

static void
kpr_row_text_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  KprRowText *self = KPR_ROW_TEXT (widget);
  int width = gtk_widget_get_width (widget);
  PangoLayout *layout;
  PangoRectangle logical;
  GdkRGBA color;
  float x = 0;
  int spare;

  if (!self->text || !*self->text)
    return;
  layout = layout_at (self, width);
  pango_layout_get_extents (layout, NULL, &logical);
  /* xalign 0: the start of the line, the right in a right-to-left UI. */
  if (gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL)
    x = width - PANGO_PIXELS_CEIL (logical.width);
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  gtk_snapshot_save (snapshot);
  /* Centred as GtkLabel centres (yalign 0.5, rounded down). */
  spare = gtk_widget_get_height (widget) - PANGO_PIXELS_CEIL (logical.height);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, spare >= 0 ? spare / 2 : (spare - 1) / 2));
  gtk_snapshot_append_layout (snapshot, layout, &color);
  gtk_snapshot_restore (snapshot);
}

static void
kpr_row_text_finalize (GObject *object)
{
  KprRowText *self = KPR_ROW_TEXT (object);

  g_clear_object (&self->line);
  g_clear_object (&self->wrapped);
  g_clear_pointer (&self->clusters, g_array_unref);
  g_free (self->text);
  G_OBJECT_CLASS (kpr_row_text_parent_class)->finalize (object);
}

static void
kpr_row_text_class_init (KprRowTextClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = kpr_row_text_finalize;
  widget_class->get_request_mode = kpr_row_text_get_request_mode;
  widget_class->measure = kpr_row_text_measure;
  widget_class->snapshot = kpr_row_text_snapshot;
  widget_class->size_allocate = kpr_row_text_size_allocate;
  /* libadwaita's row style (font size, dimming of the subtitle) selects
   * label.title and label.subtitle. */
  gtk_widget_class_set_css_name (widget_class, "label");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_LABEL);
}

static void
kpr_row_text_init (KprRowText *self)
{
  self->text = g_strdup ("");
}

GtkWidget *
kpr_row_text_new (const char *css_class)
{
  GtkWidget *self = g_object_new (KPR_TYPE_ROW_TEXT, NULL);

  gtk_widget_add_css_class (self, css_class);
  return self;
}

void
kpr_row_text_set_text (KprRowText *self, const char *text)
{
  g_return_if_fail (KPR_IS_ROW_TEXT (self));

  if (!text)
    text = "";
  if (g_str_equal (self->text, text))
    return;
  g_free (self->text);
  self->text = g_strdup (text);
  g_clear_object (&self->line);
  g_clear_object (&self->wrapped);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
  gtk_widget_set_visible (GTK_WIDGET (self), *text != '\0');
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

const char *
kpr_row_text_get_text (KprRowText *self)
{
  g_return_val_if_fail (KPR_IS_ROW_TEXT (self), NULL);

  return self->text;
}

/* AdwActionRow 1.2: row > box.header > [box.prefixes, image, box.title
 * (label.title, label.subtitle), box.suffixes]. */
static GtkWidget *
title_box_of (GtkWidget *row)
{
  GtkWidget *header = ADW_IS_ACTION_ROW (row) ? gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row))
                                              : NULL;

  if (!header || !GTK_IS_BOX (header))
    return NULL;
  for (GtkWidget *c = gtk_widget_get_first_child (header); c; c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_BOX (c) && gtk_widget_has_css_class (c, "title"))
      return c;
  return NULL;
}

gboolean
kpr_row_text_adopt (GtkWidget *row)
{
  GtkWidget *theirs = title_box_of (row);
  GtkWidget *box, *title, *subtitle;

  if (!theirs)
    return FALSE;
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (box, TRUE);
  gtk_widget_add_css_class (box, "title");
  title = kpr_row_text_new ("title");
  subtitle = kpr_row_text_new ("subtitle");
  gtk_widget_set_visible (title, FALSE);
  gtk_widget_set_visible (subtitle, FALSE);
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), subtitle);
  /* The row's labels keep their texts (AdwActionRow's getters, and its
   * accessible name and description, which name them) but are neither
   * measured nor drawn. */
  gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (theirs)), box, theirs);
  gtk_widget_set_visible (theirs, FALSE);
  g_object_set_data (G_OBJECT (row), "kpr-row-title", title);
  g_object_set_data (G_OBJECT (row), "kpr-row-subtitle", subtitle);
  kpr_row_text_sync (row);
  return TRUE;
}

void
kpr_row_text_sync (GtkWidget *row)
{
  GtkWidget *title = g_object_get_data (G_OBJECT (row), "kpr-row-title");
  GtkWidget *subtitle = g_object_get_data (G_OBJECT (row), "kpr-row-subtitle");

  if (!title || !subtitle)
    return;
  kpr_row_text_set_text (KPR_ROW_TEXT (title), adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
  kpr_row_text_set_text (KPR_ROW_TEXT (subtitle), adw_action_row_get_subtitle (ADW_ACTION_ROW (row)));
}

void
kpr_row_text_set_subtitle (GtkWidget *row, const char *subtitle)
{
  if (!g_object_get_data (G_OBJECT (row), "kpr-row-title"))
    kpr_row_text_adopt (row);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  kpr_row_text_sync (row);
}
