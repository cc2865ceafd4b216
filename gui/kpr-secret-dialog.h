/* kpr-secret-dialog.h — the one dialog that asks for a PIN, a secret
 * word or a passphrase: no echo (GtkPasswordEntry, whose buffer is erased
 * by GTK), tries left shown for PINs, a new passphrase asked twice with a
 * strength meter (libpwquality through agent/).  The text is taken out of
 * the entry into a KprSecret and the entry emptied before the answer is
 * handed on. */
#pragma once

#include <adwaita.h>

#include "kpr-worker.h"

G_BEGIN_DECLS

/* Shows the dialog for @request (transient for @parent) and answers it. */
void kpr_secret_dialog_ask (GtkWindow *parent, KprWorkerRequest *request);

G_END_DECLS
