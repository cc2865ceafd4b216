/* kpr-daemon-hook.h — the headless agent's post-renew hook (kpr-daemon-hook.c). */
#pragma once

#include <openssl/x509.h>

#include "kpr-agent.h"

G_BEGIN_DECLS

/* Writes the certificate to STATE/certs/NAME.pem and starts @argv with
 * the identity's details in its environment; a failure is logged, the
 * renewal stands. */
void kpr_daemon_run_hook (const char *name, char **argv, KprStore *store,
                          const KprIdentity *identity, const char *event);

G_END_DECLS
