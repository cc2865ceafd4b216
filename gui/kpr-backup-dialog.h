/* kpr-backup-dialog.h — "Back up": a PKCS#12 file (removable drives
 * suggested, a warning when the target is not removable), the passphrase
 * twice with a strength meter, the backup verified by the agent before
 * "done", then the offer to lock the key (non-exportable, one way). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KPR_TYPE_BACKUP_DIALOG (kpr_backup_dialog_get_type ())
G_DECLARE_FINAL_TYPE (KprBackupDialog, kpr_backup_dialog, KPR, BACKUP_DIALOG, AdwWindow)

KprBackupDialog *kpr_backup_dialog_new (GtkWindow *parent, const char *name);
/* Where the backup goes: what the drive rows and "Choose a file…" call
 * (and tests, which cannot drive a native file chooser). */
void kpr_backup_dialog_set_file (KprBackupDialog *self, GFile *file);

G_END_DECLS
