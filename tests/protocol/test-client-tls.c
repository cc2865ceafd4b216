/* test-client-tls.c — the client's TLS-level behaviour against the
 * scripted server: mutual TLS with an EVP_PKEY through the SSL_CTX, and
 * tls-unique channel binding (RFC 7030 §3.5) on TLS 1.2, the fallback from
 * TLS 1.3, and the clear failure against a TLS 1.3-only server. */
#include "config.h"

#include <string.h>

#include "kpr-test-server.h"

static void
test_mutual_tls (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) old_key = kpr_test_key_ec ();
  g_autoptr (X509) old_cert = NULL;
  g_autoptr (X509) issued = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;

  if (!kpr_test_start_server (fx, SRV_GOOD, TRUE, "any"))
    return;
  old_cert = kpr_test_cert (old_key, "alice-tls", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60,
                            3600);
  issued = kpr_test_cert (fx->key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  kpr_test_write_cert_resp (fx, "simplereenroll", "200\nContent-Type: application/pkcs7-mime", issued);
  client = kpr_test_new_client (fx, TRUE);
  req = kpr_test_new_csr (fx);

  /* Without a client certificate the server ends the handshake. */
  g_assert_null (kpr_est_client_enroll (client, req, fx->key, TRUE, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  kpr_est_client_set_client_cert (client, old_cert, old_key, NULL);
  cert = kpr_est_client_enroll (client, req, fx->key, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  log = kpr_test_read_log (fx);
  g_assert_nonnull (strstr (log, "POST /.well-known/est/simplereenroll auth=no cn=alice-tls"));
}

/* The challengePassword of @csr_b64 (the body as logged: base64 of our
 * base64 body). */
static char *
csr_challenge (const char *logged)
{
  g_autoptr (GBytes) outer = kpr_est_base64_decode (logged, strlen (logged), NULL);
  g_autoptr (GBytes) der = kpr_est_base64_decode (g_bytes_get_data (outer, NULL),
                                                  g_bytes_get_size (outer), NULL);
  g_autoptr (X509_REQ) req = kpr_est_csr_parse (g_bytes_get_data (der, NULL),
                                                g_bytes_get_size (der), NULL);
  X509_ATTRIBUTE *attr;
  ASN1_TYPE *value;
  int idx;

  g_assert_nonnull (req);
  idx = X509_REQ_get_attr_by_NID (req, NID_pkcs9_challengePassword, -1);
  if (idx < 0)
    return NULL;
  attr = X509_REQ_get_attr (req, idx);
  value = X509_ATTRIBUTE_get0_type (attr, 0);
  g_assert_nonnull (value);
  return g_strndup ((const char *) ASN1_STRING_get0_data (value->value.asn1_string),
                    (gsize) ASN1_STRING_length (value->value.asn1_string));
}

static const char *
log_field (char **fields, const char *name)
{
  gsize n = strlen (name);

  for (; *fields; fields++)
    if (strncmp (*fields, name, n) == 0 && (*fields)[n] == '=')
      return *fields + n + 1;
  return NULL;
}

static void
test_tls_unique (Fixture *fx, gconstpointer data)
{
  const char *tls = data;
  const char *const oids[] = { KPR_OID_CHALLENGE_PASSWORD, NULL };
  g_autoptr (GBytes) der = kpr_est_csrattrs_build (oids, NULL);
  g_autofree char *b64 = kpr_est_base64_encode (g_bytes_get_data (der, NULL),
                                                g_bytes_get_size (der));
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509) issued = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (X509_NAME) name = X509_NAME_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) get = NULL;
  g_auto (GStrv) post = NULL;
  g_autofree char *challenge = NULL;
  guint n;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, tls))
    return;
  kpr_test_write_resp (fx, "csrattrs", "200\nContent-Type: application/csrattrs", b64, strlen (b64));
  issued = kpr_test_cert (fx->key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  kpr_test_write_cert_resp (fx, "simpleenroll", "200\nContent-Type: application/pkcs7-mime", issued);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) "alice", -1, -1,
                              0);
  client = kpr_test_new_client (fx, TRUE);
  cert = kpr_est_client_enroll_linked (client, fx->key, name, NULL, FALSE, &fx->creds, NULL,
                                       &error);
  if (g_str_equal (tls, "1.3"))
    {
      /* A TLS 1.3-only server cannot give a tls-unique: clear failure. */
      g_assert_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED);
      g_assert_null (cert);
      log = kpr_test_read_log (fx);
      g_assert_null (strstr (log, "POST"));
      return;
    }
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  g_assert_cmpstr (kpr_est_client_get_tls_version (client), ==, "TLSv1.2");

  log = kpr_test_read_log (fx);
  lines = g_strsplit (log, "\n", -1);
  n = g_strv_length (lines);
  g_assert_cmpuint (n, >=, 3);
  get = g_strsplit (lines[n - 3], " ", -1);
  post = g_strsplit (lines[n - 2], " ", -1);
  g_assert_cmpstr (get[0], ==, "GET");
  g_assert_cmpstr (post[0], ==, "POST");
  g_assert_cmpstr (log_field (get, "tls"), ==, "TLSv1.2");
  /* Same connection for both, and the CSR carries its tls-unique. */
  g_assert_cmpstr (log_field (get, "unique"), ==, log_field (post, "unique"));
  challenge = csr_challenge (log_field (post, "body"));
  g_assert_cmpstr (challenge, ==, log_field (post, "unique"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn, data) \
  g_test_add ("/client/" path, Fixture, data, kpr_test_fx_setup, fn, kpr_test_fx_teardown)
  ADD ("mutual-tls", test_mutual_tls, NULL);
  ADD ("tls-unique/tls12", test_tls_unique, "1.2");
  ADD ("tls-unique/fallback-from-tls13", test_tls_unique, "any");
  ADD ("tls-unique/tls13-only", test_tls_unique, "1.3");
#undef ADD
  return g_test_run ();
}
