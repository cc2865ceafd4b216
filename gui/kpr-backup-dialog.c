/* kpr-backup-dialog.c — placeholder until this part is written. */
#include "kpr-backup-dialog.h"

struct _KprBackupDialog {
  AdwWindow parent_instance;
};

G_DEFINE_FINAL_TYPE (KprBackupDialog, kpr_backup_dialog, ADW_TYPE_WINDOW)

static void
kpr_backup_dialog_class_init (KprBackupDialogClass *klass)
{
}

static void
kpr_backup_dialog_init (KprBackupDialog *self)
{
}

KprBackupDialog *
kpr_backup_dialog_new (GtkWindow *parent, const char *name)
{
  return g_object_new (KPR_TYPE_BACKUP_DIALOG, "transient-for", parent, NULL);
}
