/* kpr-import-dialog.c — placeholder until this part is written. */
#include "kpr-import-dialog.h"

struct _KprImportDialog {
  AdwWindow parent_instance;
};

G_DEFINE_FINAL_TYPE (KprImportDialog, kpr_import_dialog, ADW_TYPE_WINDOW)

static void
kpr_import_dialog_class_init (KprImportDialogClass *klass)
{
}

static void
kpr_import_dialog_init (KprImportDialog *self)
{
}

KprImportDialog *
kpr_import_dialog_new (GtkWindow *parent, const char *path)
{
  return g_object_new (KPR_TYPE_IMPORT_DIALOG, "transient-for", parent, NULL);
}
