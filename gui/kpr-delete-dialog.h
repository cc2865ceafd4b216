/* kpr-delete-dialog.h — "Delete": a confirmation that names what will be
 * lost (the key, where it lives, the certificate) and warns when no
 * verified backup exists; then kpr_agent_delete in a KprWorker. */
#pragma once

#include <adwaita.h>

#include "kpr-agent.h"

G_BEGIN_DECLS

/* Asks, deletes, and calls @done (on the main thread) with TRUE once the
 * identity is gone. */
void kpr_delete_dialog_run (GtkWindow *parent, const KprIdentity *identity,
                            void (*done) (gboolean deleted, gpointer user_data),
                            gpointer user_data);

G_END_DECLS
