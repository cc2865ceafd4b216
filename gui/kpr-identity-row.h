/* kpr-identity-row.h — the rows of the main window (kpr-identity-row.c). */
#pragma once

#include <adwaita.h>

#include "kpr-agent.h"

G_BEGIN_DECLS

/* An empty row of the identity list: an AdwActionRow with a "badge"
 * label and a chevron, filled in by one of the _bind() below. */
GtkWidget *kpr_identity_row_new (void);
/* Shows identity @id: the row is named "row-NAME" (object data
 * "kpr-name": NAME).  @lead: seconds before notAfter from which an
 * active certificate "Expires soon"; @needs: what certkeeper-agent
 * waits for ("pin", …) or NULL. */
void kpr_identity_row_bind (GtkWidget *row, const KprIdentity *id, gint64 now, gint64 lead,
                            const char *needs);
/* Sets what changed only (GTK then measures only that again). */
void kpr_identity_row_update (GtkWidget *row, const KprIdentity *id, gint64 now, gint64 lead,
                              const char *needs);
/* Shows a record that cannot be read: "NAME: why" (named "damaged-NAME",
 * no "kpr-name": nothing to open). */
void kpr_damaged_row_bind (GtkWidget *row, const char *text);
/* One event of the history: a sentence, and the local date and time
 * under it (kpr_event_sentence). */
GtkWidget *kpr_history_row_new (const KprEvent *event);

G_END_DECLS
