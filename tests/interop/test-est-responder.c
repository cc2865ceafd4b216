/* test-est-responder.c — the EST client (protocol/) against servers that
 * behave unlike certkeeper-ca: HTTP Digest, enforced CSR attributes, a
 * required tls-unique binding, HTTP authentication on top of the client
 * certificate on simplereenroll.
 *
 * No EST server packaged in Debian 12 does these (certkeeper-ca is the only
 * one, and it is ours), so a small responder stands in
 * (est-responder.py): it issues real certificates and checks what such
 * servers check (Digest response, CSR key/hash/extensions, tls-unique). */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <openssl/ec.h>

#include "kpr-test-server.h"

/* RFC 8951 §4's shape: id-ecPublicKey { secp384r1 }, extensionRequest
 * { keyUsage, extKeyUsage }, ecdsa-with-SHA384. */
static const guint8 p384_attrs[] = {
  0x30, 0x37,
  0x30, 0x12, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x31, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
  0x30, 0x17, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e,
  0x31, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x25,
  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
};

static void
write_config (Fixture *fx, const char *json_fmt, ...)
{
  g_autofree char *path = g_build_filename (fx->dir, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  va_list args;

  va_start (args, json_fmt);
  text = g_strdup_vprintf (json_fmt, args);
  va_end (args);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
}

static gboolean
start (Fixture *fx, const char *tls)
{
  /* The fixture starts whatever $KPR_EST_HOSTILE_SERVER names: here the
   * responder (tests/interop/meson.build). */
  if (!g_getenv ("KPR_EST_RESPONDER_OK"))
    {
      g_test_skip ("python3-cryptography is needed for the EST responder");
      return FALSE;
    }
  return kpr_test_start_server (fx, SRV_GOOD, FALSE, tls);
}

static void
test_digest (Fixture *fx, gconstpointer data)
{
  const char *algorithm = data;
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) wrong = kpr_secret_new ("word-9999", 9);
  KprEstCredentials bad = { "alice", wrong };
  g_autofree char *log = NULL;

  if (!start (fx, "any"))
    return;
  write_config (fx, "{\"auth\": \"digest\", \"digest_algorithm\": \"%s\", \"user\": \"alice\", "
                "\"password\": \"word-1234\"}", algorithm);
  client = kpr_test_new_client (fx, TRUE);
  req = kpr_test_new_csr (fx);
  cert = kpr_est_client_enroll (client, req, fx->key, FALSE, &fx->creds, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  log = kpr_test_read_log (fx);
  /* Asked first without credentials, then answered with Digest only: the
   * password never travelled as Basic. */
  g_assert_cmpuint (kpr_test_count_lines (log), ==, 2);
  g_assert_true (g_str_has_prefix (log, "POST simpleenroll auth=- "));
  g_assert_nonnull (strstr (log, "status=401 Authentication required\nPOST simpleenroll "
                                 "auth=digest "));
  g_assert_true (g_str_has_suffix (log, "status=200 issued\n"));
  g_assert_null (strstr (log, "auth=basic"));

  /* A wrong password: refused as a password (this server has no one-time
   * words), and sent only once. */
  g_assert_null (kpr_est_client_enroll (client, req, fx->key, FALSE, &bad, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_assert_cmpint (kpr_est_client_get_refusal (client), ==, KPR_EST_REFUSAL_PASSWORD);
  g_assert_cmpstr (kpr_est_client_get_auth_offered (client), ==, "Digest");
  g_assert_null (strstr (error->message, "secret word"));
}

static void
test_csrattrs_enforced (Fixture *fx, gconstpointer data)
{
  g_autofree char *attrs_b64 = g_base64_encode (p384_attrs, sizeof p384_attrs);
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) p384 = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-384");
  g_autoptr (X509_NAME) name = kpr_test_name ("alice");
  g_autoptr (X509_REQ) plain = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  g_autoptr (KprEstCsrAttrs) parsed = kpr_est_csrattrs_parse (p384_attrs, sizeof p384_attrs,
                                                              &error);

  g_assert_no_error (error);
  g_assert_cmpstr (parsed->curve, ==, "secp384r1");
  if (!start (fx, "any"))
    return;
  write_config (fx, "{\"auth\": \"basic\", \"user\": \"alice\", \"password\": \"word-1234\", "
                "\"csrattrs\": \"%s\", \"enforce\": {\"curve\": \"secp384r1\", \"hash\": "
                "\"sha384\", \"extensions\": [\"2.5.29.15\", \"2.5.29.37\"]}}", attrs_b64);
  client = kpr_test_new_client (fx, TRUE);

  /* The server enforces what it publishes: a request that ignores it is
   * refused ... */
  plain = kpr_est_csr_new (p384, name, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (kpr_est_client_enroll (client, plain, p384, FALSE, &fx->creds, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "CSR Attributes missing"));
  g_clear_error (&error);

  /* ... a P-256 key is refused here, before anything is posted ... */
  g_free (log);
  log = g_build_filename (fx->dir, "log", NULL);
  g_unlink (log);
  g_clear_pointer (&log, g_free);
  g_assert_null (kpr_est_client_enroll_linked (client, fx->key, name, NULL, FALSE, &fx->creds,
                                               NULL, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "ec-p384"));
  g_clear_error (&error);
  log = kpr_test_read_log (fx);
  g_assert_null (strstr (log, "POST"));

  /* ... and the request built from /csrattrs is accepted. */
  cert = kpr_est_client_enroll_linked (client, p384, name, NULL, FALSE, &fx->creds, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (cert), p384), ==, 1);
  g_assert_cmpuint (g_strv_length ((GStrv) kpr_est_client_get_unmet_attributes (client)), ==, 0);
}

static void
test_binding_required (Fixture *fx, gconstpointer data)
{
  const guint8 cp_only[] = { 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                             0x09, 0x07 };
  g_autofree char *attrs_b64 = g_base64_encode (cp_only, sizeof cp_only);
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509_NAME) name = kpr_test_name ("alice");
  g_autoptr (X509_REQ) plain = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;

  if (!start (fx, "any"))
    return;
  write_config (fx, "{\"auth\": \"basic\", \"user\": \"alice\", \"password\": \"word-1234\", "
                "\"csrattrs\": \"%s\", \"binding\": true}", attrs_b64);
  client = kpr_test_new_client (fx, TRUE);
  plain = kpr_test_new_csr (fx);
  g_assert_null (kpr_est_client_enroll (client, plain, fx->key, FALSE, &fx->creds, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "Proof of Possession"));
  g_clear_error (&error);

  /* TLS 1.3 first (no tls-unique there), then TLS 1.2 with the binding. */
  cert = kpr_est_client_enroll_linked (client, fx->key, name, NULL, FALSE, &fx->creds, NULL,
                                       &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  log = kpr_test_read_log (fx);
  g_assert_nonnull (strstr (log, "POST simpleenroll auth=basic cn=- tls=TLSv1.2 status=200"));
}

static void
test_reenroll_auth (Fixture *fx, gconstpointer data)
{
  g_autoptr (EVP_PKEY) old_key = kpr_test_key_ec ();
  g_autoptr (X509) old_cert = NULL;
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;

  if (!start (fx, "any"))
    return;
  write_config (fx, "{\"auth\": \"basic\", \"user\": \"alice\", \"password\": \"word-1234\", "
                "\"reenroll_auth\": true}");
  old_cert = kpr_test_cert (old_key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  client = kpr_test_new_client (fx, TRUE);
  kpr_est_client_set_client_cert (client, old_cert, old_key, NULL);
  req = kpr_est_csr_new_renewal (fx->key, old_cert, NULL, &error);
  g_assert_no_error (error);

  /* The certificate alone is not enough for this server: said so. */
  g_assert_null (kpr_est_client_enroll (client, req, fx->key, TRUE, NULL, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_assert_cmpint (kpr_est_client_get_refusal (client), ==, KPR_EST_REFUSAL_CERTIFICATE);
  g_assert_cmpstr (kpr_est_client_get_auth_offered (client), ==, "Basic");
  g_clear_error (&error);

  /* The same simplereenroll with the certificate and HTTP authentication. */
  cert = kpr_est_client_enroll (client, req, fx->key, TRUE, &fx->creds, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  log = kpr_test_read_log (fx);
  g_assert_nonnull (strstr (log, "POST simplereenroll auth=basic cn=alice "));
  g_assert_null (strstr (log, "POST simpleenroll"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn, data) \
  g_test_add ("/responder/" path, Fixture, data, kpr_test_fx_setup, fn, kpr_test_fx_teardown)
  ADD ("digest/md5", test_digest, "MD5");
  ADD ("digest/sha-256", test_digest, "SHA-256");
  ADD ("csrattrs-enforced", test_csrattrs_enforced, NULL);
  ADD ("binding-required", test_binding_required, NULL);
  ADD ("reenroll-auth", test_reenroll_auth, NULL);
#undef ADD
  return g_test_run ();
}
