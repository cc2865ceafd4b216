/* kpr-add-dialog.c — placeholder until this part is written. */
#include "kpr-add-dialog.h"

struct _KprAddDialog {
  AdwWindow parent_instance;
};

G_DEFINE_FINAL_TYPE (KprAddDialog, kpr_add_dialog, ADW_TYPE_WINDOW)

static void
kpr_add_dialog_class_init (KprAddDialogClass *klass)
{
}

static void
kpr_add_dialog_init (KprAddDialog *self)
{
}

KprAddDialog *
kpr_add_dialog_new (GtkWindow *parent)
{
  return g_object_new (KPR_TYPE_ADD_DIALOG, "transient-for", parent, NULL);
}
