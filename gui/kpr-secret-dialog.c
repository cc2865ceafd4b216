/* kpr-secret-dialog.c — placeholder until the core is written. */
#include "kpr-secret-dialog.h"

void
kpr_secret_dialog_ask (GtkWindow *parent, KprWorkerRequest *request)
{
  kpr_worker_request_reply (request, NULL);
}
