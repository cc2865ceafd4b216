/* kpr-delete-dialog.c — placeholder until this part is written. */
#include "kpr-delete-dialog.h"

void
kpr_delete_dialog_run (GtkWindow *parent, const KprIdentity *identity,
                       void (*done) (gboolean deleted, gpointer user_data), gpointer user_data)
{
  done (FALSE, user_data);
}
