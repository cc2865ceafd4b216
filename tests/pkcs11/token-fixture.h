/* token-fixture.h — SoftHSM2 tokens in a temp dir, certificates made
 * in-process, and the independent checkers (pkcs11-tool, p11tool, openssl,
 * NSS tools) run as subprocesses.  Test-only code. */
#pragma once

#include <glib.h>

#include "kpr-token.h"

#define TEST_PIN "1234"
#define TEST_SO_PIN "5678"
#define TEST_CARD_LABEL "card"

/* Creates the temp dir, writes SOFTHSM2_CONF, makes the software token
 * (through kpr_token_init_software) and a second token "card" (through
 * softhsm2-util) that stands in for a hardware token. */
void fixture_global_setup (void);
void fixture_global_teardown (void);
const char *fixture_dir (void);
const char *fixture_module (void);

/* A PIN callback: user_data is the PIN; counts its calls in
 * fixture_pin_calls. */
extern guint fixture_pin_calls;
extern gboolean fixture_saw_final_try;
KprSecret *fixture_pin (const KprTokenInfo *info, gpointer user_data, GError **error);

KprTokenCtx *fixture_ctx (void);
KprToken *fixture_login (KprTokenCtx *ctx, const char *label);

/* Runs argv; returns exit status, stdout+stderr in *ret_output. */
int fixture_run (char **ret_output, const char *first, ...) G_GNUC_NULL_TERMINATED;
gboolean fixture_have (const char *program);

/* Certificates */
EVP_PKEY *fixture_software_key (const char *kind); /* "ec-p256", "rsa-2048", "ed25519", "rsa-1024" */
X509 *fixture_ca (EVP_PKEY **ret_ca_key);
X509 *fixture_issue (X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *subject_key, const char *cn);
char *fixture_write_pem_cert (X509 *cert, const char *name);
char *fixture_write_file (const char *name, const void *data, gsize len);
char *fixture_id_hex (GBytes *id);

/* p11tool's description (Type:, Flags:, ...) of the private key with @id
 * on token @label. */
char *fixture_p11tool_privkey (const char *label, GBytes *id);

/* Number of objects on the token, of every class. */
guint fixture_count_all (KprToken *token);
