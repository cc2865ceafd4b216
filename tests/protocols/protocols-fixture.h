/* protocols-fixture.h — what the `protocols` suite shares: a temp dir with
 * two SoftHSM tokens (the software token and "card", standing in for a
 * hardware token; tests/pkcs11/token-fixture.c), keys in software or on
 * either token, certificates made in-process, and the real peers
 * (micromdm's scepserver, `openssl cmp` as a mock CA) run as
 * subprocesses and always stopped.  Test-only code. */
#pragma once

#include <gio/gio.h>

#include "kpr-protocol.h"
#include "kpr-test-util.h"
#include "token-fixture.h"

G_BEGIN_DECLS

/* Temp dir + tokens; sets no_proxy so a CI proxy never sees our loopback
 * requests.  Returns what g_test_run() returns after teardown. */
void pf_setup (void);
void pf_teardown (void);
/* A new path in the temp dir ("NAME-N" so repeated names do not clash). */
char *pf_path (const char *name);

/* Where a test's key lives. */
typedef enum {
  PF_SOFTWARE = 0, /* a plain EVP_PKEY */
  PF_SOFT_TOKEN,   /* the certkeeper software token (SoftHSM) */
  PF_CARD,         /* the second SoftHSM token, standing in for hardware */
} PfStore;

/* A new key (RSA 2048 when @rsa, else EC P-256).  On a token it is made
 * there (RSA ones may decrypt when @decrypt) and returned as the libp11
 * EVP_PKEY that signs and decrypts on the token. */
EVP_PKEY *pf_key (PfStore store, gboolean rsa, gboolean decrypt);
const char *pf_store_name (PfStore store);

/* A certificate for @key signed by @issuer_key (self-signed without
 * @issuer).  @ku: an X.509 keyUsage value ("digitalSignature") or NULL. */
X509 *pf_cert (EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, gboolean ca,
               const char *ku);
X509_NAME *pf_name (const char *cn);
/* Writes PEM into the temp dir, returns the path. */
char *pf_write_cert (X509 *cert, const char *name);
char *pf_write_key (EVP_PKEY *key, const char *name);
X509 *pf_read_cert (const char *path);
EVP_PKEY *pf_pubkey_of (X509 *cert);

/* `openssl verify -partial_chain -CAfile @ca_path @cert`: an independent
 * check of what our code accepted. */
void pf_assert_openssl_verifies (X509 *cert, const char *ca_path);

/* A real peer as a subprocess; its stdout+stderr go to @log. */
typedef struct {
  GSubprocess *proc;
  char *log;
  char *url;
  char *dir;  /* scepserver: the depot */
  int port;
} PfPeer;

/* micromdm's scepserver with a fresh CA (RSA 2048) in its own depot and
 * @challenge (NULL: none) given through its environment, never argv.
 * Logs at debug level: the log names each message type it received. */
PfPeer *pf_scep_start (const char *challenge);
/* `openssl cmp -port 0` plus the arguments (NULL-terminated). */
PfPeer *pf_cmp_start (const char *first, ...) G_GNUC_NULL_TERMINATED;
char *pf_peer_log (PfPeer *peer);
void pf_peer_stop (PfPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PfPeer, pf_peer_stop)

/* The test is skipped (exit 77 under TAP) when @program is missing:
 * tools/deps.sh installs every one, and CI fails on a skip. */
gboolean pf_require (const char *program);

G_END_DECLS
