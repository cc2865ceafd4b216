/* kpr-add-dialog.h — "Add an identity": the assistant from the server
 * address to a certificate on this computer or a token (kpr_agent_enroll
 * in a KprWorker), ending with the next step offered ("Make a backup
 * now").  A pending answer says what happens next. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KPR_TYPE_ADD_DIALOG (kpr_add_dialog_get_type ())
G_DECLARE_FINAL_TYPE (KprAddDialog, kpr_add_dialog, KPR, ADD_DIALOG, AdwWindow)

KprAddDialog *kpr_add_dialog_new (GtkWindow *parent);
/* On the pending page: installs the certificate in @file (what "Import
 * certificate file…" does with the file chosen; tests call it, as they
 * cannot drive a native file chooser). */
void kpr_add_dialog_install_file (KprAddDialog *self, GFile *file);

G_END_DECLS
