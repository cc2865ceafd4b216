/* kpr-import-dialog.h — "Import a backup": a .p12/.pfx file, its
 * passphrase, the destination (this computer or a token), "allow export"
 * off by default (kpr_agent_import in a KprWorker). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KPR_TYPE_IMPORT_DIALOG (kpr_import_dialog_get_type ())
G_DECLARE_FINAL_TYPE (KprImportDialog, kpr_import_dialog, KPR, IMPORT_DIALOG, AdwWindow)

/* @path: a file already chosen (opened from the file manager), or NULL. */
KprImportDialog *kpr_import_dialog_new (GtkWindow *parent, const char *path);
/* The backup to import: what "Choose…" calls (and tests, which cannot
 * drive a native file chooser). */
void kpr_import_dialog_set_file (KprImportDialog *self, GFile *file);

G_END_DECLS
