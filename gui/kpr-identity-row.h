/* kpr-identity-row.h — the rows of the main window (kpr-identity-row.c). */
#pragma once

#include <adwaita.h>

#include "kpr-agent.h"

G_BEGIN_DECLS

/* An AdwActionRow named "row-NAME" with a "badge" label.  @lead: seconds
 * before notAfter from which an active certificate "Expires soon";
 * @needs: what certkeeper-agent waits for ("pin", …) or NULL. */
GtkWidget *kpr_identity_row_new (const KprIdentity *id, gint64 now, gint64 lead,
                                 const char *needs);
/* Sets what changed only (GTK then measures only that again). */
void kpr_identity_row_update (GtkWidget *row, const KprIdentity *id, gint64 now, gint64 lead,
                              const char *needs);
/* A record that cannot be read: "NAME: why". */
GtkWidget *kpr_damaged_row_new (const char *text);
/* One event of the history: a sentence, and the local date and time
 * under it (kpr_event_sentence). */
GtkWidget *kpr_history_row_new (const KprEvent *event);

G_END_DECLS
