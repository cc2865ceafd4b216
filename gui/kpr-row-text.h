/* kpr-row-text.h — a wrapping text that lays itself out once
 * (kpr-row-text.c), for the main window's rows: the identity list, the
 * detail page's facts, the history. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KPR_TYPE_ROW_TEXT (kpr_row_text_get_type ())
G_DECLARE_FINAL_TYPE (KprRowText, kpr_row_text, KPR, ROW_TEXT, GtkWidget)

/* A text shown as a GtkLabel with wrap = TRUE, wrap-mode = word-char,
 * xalign = 0 shows it (CSS node "label", style class @css_class). */
GtkWidget *kpr_row_text_new (const char *css_class);
/* Plain text, not markup; NULL is "". */
void kpr_row_text_set_text (KprRowText *self, const char *text);
const char *kpr_row_text_get_text (KprRowText *self);

/* Gives the AdwActionRow @row KprRowText title and subtitle in place of
 * its own labels: AdwActionRow's title and subtitle stay set (its getters
 * and its accessible name and description read them), and the texts
 * shown follow them through kpr_row_text_sync().  Returns FALSE (and
 * leaves @row as it was) when @row is not laid out as in libadwaita 1.2. */
gboolean kpr_row_text_adopt (GtkWidget *row);
/* Shows @row's current title and subtitle (after adw_*_set_title/subtitle). */
void kpr_row_text_sync (GtkWidget *row);
/* adw_action_row_set_subtitle() on an AdwActionRow given KprRowText on
 * first use (kpr_row_text_adopt), shown at once. */
void kpr_row_text_set_subtitle (GtkWidget *row, const char *subtitle);

G_END_DECLS
