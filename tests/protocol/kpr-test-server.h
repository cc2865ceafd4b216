/* kpr-test-server.h — the fixture of the client tests: two CAs, keys, and
 * the scripted server (est-hostile-server.py) on 127.0.0.1, stopped at
 * teardown. */
#pragma once

#include <gio/gio.h>

#include "kpr-test-util.h"

G_BEGIN_DECLS

typedef struct {
  char *dir;
  EVP_PKEY *ca_key, *ca2_key, *srv_key, *key;
  X509 *ca, *ca2;
  KprX509Stack *anchors;
  GSubprocess *server;
  GInputStream *server_out;
  int port;
  char *url;
  KprSecret *secret;
  KprEstCredentials creds;
} Fixture;

typedef enum { SRV_GOOD, SRV_WRONG_NAME, SRV_OTHER_CA } ServerCert;

void kpr_test_fx_setup (Fixture *fx, gconstpointer data);
void kpr_test_fx_teardown (Fixture *fx, gconstpointer data);
/* FALSE (and the test skipped) without python3.  @tls: any, 1.2 or 1.3. */
gboolean kpr_test_start_server (Fixture *fx, ServerCert kind, gboolean require_client_cert,
                       const char *tls);
/* The answer to OP: "STATUS\nHeader: v…" then the body. */
void kpr_test_write_resp (Fixture *fx, const char *op, const char *head, const void *body, gsize len);
void kpr_test_write_cert_resp (Fixture *fx, const char *op, const char *head, X509 *cert);
/* What reached the server, one line per request. */
char *kpr_test_read_log (Fixture *fx);
guint kpr_test_count_lines (const char *text);
KprEstClient *kpr_test_new_client (Fixture *fx, gboolean with_anchors);
X509_REQ *kpr_test_new_csr (Fixture *fx);

G_END_DECLS
