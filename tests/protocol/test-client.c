/* test-client.c — the EST client against scripted, hostile servers on
 * 127.0.0.1 (est-hostile-server.py).  Every case checks the error code a
 * user would see, that nothing was accepted, and what reached the server
 * (no credentials where trust was not established). */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kpr-test-server.h"

/* Enrolls with credentials; returns the error code (0 on success). */
static int
enroll (Fixture *fx, KprEstClient *client, X509 **ret_cert, char **ret_message)
{
  g_autoptr (X509_REQ) req = kpr_test_new_csr (fx);
  g_autoptr (GError) error = NULL;
  X509 *cert = kpr_est_client_enroll (client, req, fx->key, FALSE, &fx->creds, &error);

  g_assert_true ((cert == NULL) == (error != NULL));
  if (ret_cert)
    *ret_cert = cert;
  else
    X509_free (cert);
  if (error)
    {
      g_assert_true (error->domain == KPR_ERROR);
      if (ret_message)
        *ret_message = g_strdup (error->message);
      /* The secret never appears in what a program would print. */
      g_assert_null (strstr (error->message, "word-1234"));
      return error->code;
    }
  return 0;
}

static void
test_enroll_ok (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509) issued = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *log = NULL;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  issued = kpr_test_cert (fx->key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  kpr_test_write_cert_resp (fx, "simpleenroll",
                   "200\nContent-Type: application/pkcs7-mime; smime-type=certs-only\n"
                   "X-Auth: basic", issued);
  client = kpr_test_new_client (fx, TRUE);
  g_assert_cmpint (enroll (fx, client, &cert, NULL), ==, 0);
  g_assert_cmpint (X509_cmp (cert, issued), ==, 0);
  /* RFC 7030 §3.2.3: credentials only once the server asked for them. */
  log = kpr_test_read_log (fx);
  g_assert_cmpuint (kpr_test_count_lines (log), ==, 2);
  g_assert_true (g_str_has_prefix (log, "POST /.well-known/est/simpleenroll auth=no"));
  g_assert_nonnull (strstr (log, "\nPOST /.well-known/est/simpleenroll auth=yes"));
}

/* A server that never asks never gets the secret. */
static void
test_enroll_unasked (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509) issued = NULL;
  g_autofree char *log = NULL;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  issued = kpr_test_cert (fx->key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  kpr_test_write_cert_resp (fx, "simpleenroll", "200\nContent-Type: application/pkcs7-mime",
                            issued);
  client = kpr_test_new_client (fx, TRUE);
  g_assert_cmpint (enroll (fx, client, NULL, NULL), ==, 0);
  log = kpr_test_read_log (fx);
  g_assert_cmpuint (kpr_test_count_lines (log), ==, 1);
  g_assert_null (strstr (log, "auth=yes"));
}

/* A 401 names what it refused: a one-time word (certkeeper-ca says so), a
 * password (other servers), or nothing given at all. */
static void
test_auth_refusals (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (GError) error = NULL;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  client = kpr_test_new_client (fx, TRUE);
  req = kpr_test_new_csr (fx);

  kpr_test_write_resp (fx, "simpleenroll",
                       "401\nWWW-Authenticate: Basic realm=\"est\"\n"
                       "Certkeeper-Secret-Word: one-time", "wrong word", 10);
  g_assert_null (kpr_est_client_enroll (client, req, fx->key, FALSE, &fx->creds, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_assert_cmpint (kpr_est_client_get_refusal (client), ==, KPR_EST_REFUSAL_SECRET_WORD);
  g_assert_nonnull (strstr (error->message, "new secret word"));
  g_clear_error (&error);

  kpr_test_write_resp (fx, "simpleenroll", "401\nWWW-Authenticate: Digest realm=\"est\", "
                       "nonce=\"abc\", qop=\"auth\"", "no", 2);
  g_assert_null (kpr_est_client_enroll (client, req, fx->key, FALSE, &fx->creds, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_assert_cmpint (kpr_est_client_get_refusal (client), ==, KPR_EST_REFUSAL_PASSWORD);
  g_assert_cmpstr (kpr_est_client_get_auth_offered (client), ==, "Digest");
  /* A password of a server without the extension is not one-time. */
  g_assert_null (strstr (error->message, "secret word"));
  g_clear_error (&error);

  g_assert_null (kpr_est_client_enroll (client, req, fx->key, FALSE, NULL, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_assert_cmpint (kpr_est_client_get_refusal (client), ==, KPR_EST_REFUSAL_NEEDS_CREDENTIALS);
  g_clear_error (&error);

  kpr_test_write_resp (fx, "simpleenroll", "401\nWWW-Authenticate: Bearer realm=\"est\"",
                       "", 0);
  g_assert_null (kpr_est_client_enroll (client, req, fx->key, FALSE, &fx->creds, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_assert_cmpint (kpr_est_client_get_refusal (client), ==, KPR_EST_REFUSAL_SCHEME);
  g_assert_nonnull (strstr (error->message, "Bearer"));
}

static void
test_bootstrap (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) fps = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *log = NULL;
  g_autoptr (X509_REQ) req = NULL;
  X509 *cert;

  /* Bootstrap works even though the server's name is wrong: nothing is
   * verified, a person compares the fingerprint. */
  if (!kpr_test_start_server (fx, SRV_WRONG_NAME, FALSE, "any"))
    return;
  kpr_test_write_cert_resp (fx, "cacerts", "200\nContent-Type: application/pkcs7-mime", fx->ca);
  client = kpr_test_new_client (fx, FALSE);
  certs = kpr_est_client_bootstrap (client, &fps, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sk_X509_num (certs), ==, 1);
  expected = kpr_est_cert_fingerprint (fx->ca);
  g_assert_cmpstr (fps[0], ==, expected);
  g_assert_null (fps[1]);

  /* Still no anchor: an enrollment with credentials sends nothing. */
  req = kpr_test_new_csr (fx);
  cert = kpr_est_client_enroll (client, req, fx->key, FALSE, &fx->creds, &error);
  g_assert_null (cert);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
  g_clear_error (&error);
  g_assert_null (kpr_est_client_cacerts (client, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
  log = kpr_test_read_log (fx);
  g_assert_cmpuint (kpr_test_count_lines (log), ==, 1);
  g_assert_true (g_str_has_prefix (log, "GET /.well-known/est/cacerts auth=no"));
}

static void
test_untrusted_server (Fixture *fx, gconstpointer data)
{
  ServerCert kind = GPOINTER_TO_INT (data);
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  g_autofree char *ca2_path = NULL;
  g_autoptr (X509) issued = NULL;

  if (!kpr_test_start_server (fx, kind, FALSE, "any"))
    return;
  issued = kpr_test_cert (fx->key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  kpr_test_write_cert_resp (fx, "simpleenroll", "200\nContent-Type: application/pkcs7-mime", issued);
  kpr_test_write_cert_resp (fx, "cacerts", "200\nContent-Type: application/pkcs7-mime", fx->ca);
  if (kind == SRV_OTHER_CA)
    {
      /* Even with the server's CA in OpenSSL's implicit store, only the
       * explicit anchor counts (RFC 7030 §3.1, §4.1.3). */
      ca2_path = g_build_filename (fx->dir, "ca2.pem", NULL);
      g_assert_true (kpr_test_write_pem_cert (ca2_path, fx->ca2));
      g_setenv ("SSL_CERT_FILE", ca2_path, TRUE);
      g_setenv ("SSL_CERT_DIR", fx->dir, TRUE);
    }
  client = kpr_test_new_client (fx, TRUE);
  g_assert_cmpint (enroll (fx, client, NULL, NULL), ==, KPR_ERROR_UNTRUSTED);
  g_assert_null (kpr_est_client_cacerts (client, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
  /* The handshake was abandoned: no HTTP request, no credentials. */
  log = kpr_test_read_log (fx);
  g_assert_cmpstr (log, ==, "");
  g_unsetenv ("SSL_CERT_FILE");
  g_unsetenv ("SSL_CERT_DIR");
}

typedef struct {
  const char *head;
  const char *body; /* NULL: a large body of 'A's */
  int expected;
  guint retry_after;
  const char *message_part;
} StatusCase;

static void
test_status (Fixture *fx, gconstpointer data)
{
  const StatusCase *c = data;
  g_autoptr (KprEstClient) client = NULL;
  g_autofree char *big = NULL;
  g_autofree char *message = NULL;
  g_autofree char *log = NULL;
  gint64 start;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  if (c->body)
    kpr_test_write_resp (fx, "simpleenroll", c->head, c->body, strlen (c->body));
  else
    {
      big = g_strnfill (KPR_EST_BODY_MAX + 4096, 'A');
      kpr_test_write_resp (fx, "simpleenroll", c->head, big, KPR_EST_BODY_MAX + 4096);
    }
  client = kpr_test_new_client (fx, TRUE);
  start = g_get_monotonic_time ();
  g_assert_cmpint (enroll (fx, client, NULL, &message), ==, c->expected);
  /* Pending returns at once: the caller schedules the retry. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 8 * G_USEC_PER_SEC);
  if (c->retry_after == G_MAXUINT)
    {
      g_assert_cmpuint (kpr_est_client_get_retry_after (client), >=, KPR_EST_RETRY_MIN);
      g_assert_cmpuint (kpr_est_client_get_retry_after (client), <=, KPR_EST_RETRY_MAX);
    }
  else
    g_assert_cmpuint (kpr_est_client_get_retry_after (client), ==, c->retry_after);
  if (c->message_part)
    g_assert_nonnull (strstr (message, c->message_part));
  log = kpr_test_read_log (fx);
  /* A 401 is answered once, with the credentials it asked for; the secret
   * is never sent a second time. */
  g_assert_cmpuint (kpr_test_count_lines (log), ==, c->expected == KPR_ERROR_AUTH ? 2 : 1);
  if (c->expected == KPR_ERROR_AUTH)
    g_assert_cmpuint (kpr_test_count_lines (strstr (log, "auth=yes")), ==, 1);
}

static const StatusCase status_cases[] = {
  { "500\nContent-Type: text/plain", "boom", KPR_ERROR_UNREACHABLE, 0, "boom" },
  /* Overloaded or locked out: the server's wait reaches the scheduler. */
  { "503\nRetry-After: 10", "", KPR_ERROR_UNREACHABLE, 10, "try again in 10 s" },
  { "503", "", KPR_ERROR_UNREACHABLE, 0, NULL },
  { "429\nRetry-After: 120", "locked", KPR_ERROR_REJECTED, 120, "locked" },
  { "429\nRetry-After: 999999", "", KPR_ERROR_REJECTED, KPR_EST_RETRY_MAX, NULL },
  { "202\nRetry-After: 7", "", KPR_ERROR_PENDING, 7, NULL },
  /* curl 7.88 turns a past date into a negative delay. */
  { "202\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT", "", KPR_ERROR_PENDING, KPR_EST_RETRY_MIN,
    NULL },
  { "202\nRetry-After: -5", "", KPR_ERROR_PENDING, G_MAXUINT, NULL },
  { "202\nRetry-After: 999999", "", KPR_ERROR_PENDING, KPR_EST_RETRY_MAX, NULL },
  { "202", "", KPR_ERROR_PENDING, KPR_EST_RETRY_DEFAULT, NULL },
  { "401\nWWW-Authenticate: Basic realm=\"est\"", "bad word", KPR_ERROR_AUTH, 0, NULL },
  { "403\nContent-Type: text/plain", "not\x01 allowed\n\x1b[31mred", KPR_ERROR_REJECTED, 0,
    "not? allowed ?[31mred" },
  { "200\nContent-Type: application/pkcs7-mime", "<html>not base64</html>", KPR_ERROR_PROTOCOL,
    0, NULL },
  { "200\nContent-Type: text/html", "TWFu", KPR_ERROR_PROTOCOL, 0, "text/html" },
  { "200\nContent-Type: application/pkcs7-mime", "TWFu", KPR_ERROR_PROTOCOL, 0, NULL },
  { "200\nContent-Type: application/pkcs7-mime", NULL, KPR_ERROR_PROTOCOL, 0, "larger" },
  { "200\nContent-Type: application/pkcs7-mime\nX-No-Length: 1", NULL, KPR_ERROR_PROTOCOL, 0,
    "larger" },
  { "302\nLocation: https://localhost:1/.well-known/est/simpleenroll", "", KPR_ERROR_UNTRUSTED,
    0, "another server" },
  { "302\nLocation: http://127.0.0.1/.well-known/est/simpleenroll", "", KPR_ERROR_UNTRUSTED, 0,
    NULL },
};

static void
test_timeout (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  gint64 start;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  kpr_test_write_resp (fx, "simpleenroll", "200\nX-Sleep: 20", "", 0);
  client = kpr_test_new_client (fx, TRUE);
  kpr_est_client_set_timeouts (client, 2, 2);
  start = g_get_monotonic_time ();
  g_assert_cmpint (enroll (fx, client, NULL, NULL), ==, KPR_ERROR_UNREACHABLE);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
}

static void
test_wrong_certificate (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) other = kpr_test_key_ec ();
  g_autoptr (X509) for_other = NULL;
  g_autoptr (X509) by_other_ca = NULL;
  g_autoptr (X509) expired = NULL;
  const char *head = "200\nContent-Type: application/pkcs7-mime";

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  client = kpr_test_new_client (fx, TRUE);

  for_other = kpr_test_cert (other, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  kpr_test_write_cert_resp (fx, "simpleenroll", head, for_other);
  g_assert_cmpint (enroll (fx, client, NULL, NULL), ==, KPR_ERROR_KEY_MISMATCH);

  by_other_ca = kpr_test_cert (fx->key, "alice", fx->ca2, fx->ca2_key, FALSE, NULL, NULL, -60,
                               3600);
  kpr_test_write_cert_resp (fx, "simpleenroll", head, by_other_ca);
  g_assert_cmpint (enroll (fx, client, NULL, NULL), ==, KPR_ERROR_UNTRUSTED);

  expired = kpr_test_cert (fx->key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -7200, 3600);
  kpr_test_write_cert_resp (fx, "simpleenroll", head, expired);
  g_assert_cmpint (enroll (fx, client, NULL, NULL), ==, KPR_ERROR_UNTRUSTED);
}

static void
test_redirect_same_origin (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509) issued = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *log = NULL;
  g_autofree char *message = NULL;
  int rc;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  kpr_test_write_resp (fx, "simpleenroll", "307\nLocation: /.well-known/est/moved", "", 0);
  issued = kpr_test_cert (fx->key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  kpr_test_write_cert_resp (fx, "moved", "200\nContent-Type: application/pkcs7-mime\n"
                            "X-Auth: basic", issued);
  client = kpr_test_new_client (fx, TRUE);
  rc = enroll (fx, client, &cert, &message);
  g_assert_cmpstr (message, ==, NULL);
  g_assert_cmpint (rc, ==, 0);
  log = kpr_test_read_log (fx);
  g_assert_cmpuint (kpr_test_count_lines (log), ==, 3);
  g_assert_nonnull (strstr (log, "POST /.well-known/est/simpleenroll auth=no"));
  g_assert_nonnull (strstr (log, "POST /.well-known/est/moved auth=yes"));

  /* A loop of redirects ends. */
  kpr_test_write_resp (fx, "moved", "307\nLocation: /.well-known/est/simpleenroll", "", 0);
  g_assert_cmpint (enroll (fx, client, NULL, NULL), ==, KPR_ERROR_PROTOCOL);
}

static void
test_cacerts_and_csrattrs (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (KprEstCsrAttrs) attrs = NULL;
  g_autoptr (GError) error = NULL;
  const char *const oids[] = { "1.2.840.10045.4.3.2", NULL };
  g_autoptr (GBytes) der = kpr_est_csrattrs_build (oids, NULL);
  g_autofree char *b64 = kpr_est_base64_encode (g_bytes_get_data (der, NULL),
                                                g_bytes_get_size (der));

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  client = kpr_test_new_client (fx, TRUE);
  kpr_test_write_cert_resp (fx, "cacerts", "200\nContent-Type: application/pkcs7-mime", fx->ca);
  certs = kpr_est_client_cacerts (client, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sk_X509_num (certs), ==, 1);
  g_clear_pointer (&certs, kpr_x509_stack_free);

  /* §4.1.3: anything but 200 is a failure for /cacerts. */
  kpr_test_write_cert_resp (fx, "cacerts", "202\nContent-Type: application/pkcs7-mime", fx->ca);
  g_assert_null (kpr_est_client_cacerts (client, &error));
  g_assert_nonnull (error);
  g_assert_true (error->code != KPR_ERROR_PENDING);
  g_clear_error (&error);

  kpr_test_write_resp (fx, "csrattrs", "200\nContent-Type: application/csrattrs", b64, strlen (b64));
  attrs = kpr_est_client_csrattrs (client, &error);
  g_assert_no_error (error);
  g_assert_true (kpr_est_csrattrs_has (attrs, "1.2.840.10045.4.3.2"));
  g_assert_false (attrs->challenge_password);
  g_clear_pointer (&attrs, kpr_est_csrattrs_free);

  kpr_test_write_resp (fx, "csrattrs", "204", "", 0);
  attrs = kpr_est_client_csrattrs (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (attrs->attrs->len, ==, 0);
}

static void
test_serverkeygen (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) gen = kpr_test_key_ec ();
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (EVP_PKEY) got_key = NULL;
  g_autoptr (X509) got_cert = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ct = NULL, *body = NULL, *head = NULL;
  gsize len = 0;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  cert = kpr_test_cert (gen, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  certs = kpr_test_stack (cert, NULL);
  body = kpr_est_serverkeygen_build (gen, certs, &ct, &len, &error);
  g_assert_no_error (error);
  head = g_strdup_printf ("200\nContent-Type: %s", ct);
  kpr_test_write_resp (fx, "serverkeygen", head, body, len);
  client = kpr_test_new_client (fx, TRUE);
  req = kpr_test_new_csr (fx);
  g_assert_true (kpr_est_client_serverkeygen (client, req, &fx->creds, &got_key, &got_cert,
                                              &error));
  g_assert_no_error (error);
  g_assert_cmpint (EVP_PKEY_eq (got_key, gen), ==, 1);
  g_assert_cmpint (X509_cmp (got_cert, cert), ==, 0);
}

static void
test_extensions (Fixture *fx, gconstpointer data)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (KprEstChallenge) ch = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *serial = NULL, *log = NULL;
  const char *answer = "{\"channel\":\"sms\",\"destination\":\"+1***0100\",\"expires_in\":300}";
  const char *revoked = "{\"revoked\":\"0a1b\",\"reason\":\"unspecified\"}";

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  client = kpr_test_new_client (fx, TRUE);
  kpr_test_write_resp (fx, "challenge", "202\nContent-Type: application/json", answer, strlen (answer));
  ch = kpr_est_client_challenge (client, "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ch->destination, ==, "+1***0100");
  g_assert_null (kpr_est_client_challenge (client, "al\"ice", &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT);
  g_clear_error (&error);

  kpr_test_write_resp (fx, "revoke", "200\nContent-Type: application/json\nX-Auth: basic",
                       revoked, strlen (revoked));
  g_assert_true (kpr_est_client_revoke (client, "0A1B", &fx->creds, &serial, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (serial, ==, "0A1B");
  kpr_test_write_resp (fx, "revoke", "403\nContent-Type: text/plain", "not yours", 9);
  g_assert_false (kpr_est_client_revoke (client, NULL, &fx->creds, NULL, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
  log = kpr_test_read_log (fx);
  g_assert_nonnull (strstr (log, "POST /.well-known/est/challenge auth=no"));
  g_assert_nonnull (strstr (log, "POST /.well-known/est/revoke auth=yes"));
}

int
main (int argc, char **argv)
{
  gsize i;

  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn, data) \
  g_test_add ("/client/" path, Fixture, data, kpr_test_fx_setup, fn, kpr_test_fx_teardown)
  ADD ("enroll-ok", test_enroll_ok, NULL);
  ADD ("enroll-unasked", test_enroll_unasked, NULL);
  ADD ("auth-refusals", test_auth_refusals, NULL);
  ADD ("bootstrap", test_bootstrap, NULL);
  ADD ("untrusted/wrong-hostname", test_untrusted_server, GINT_TO_POINTER (SRV_WRONG_NAME));
  ADD ("untrusted/unknown-ca", test_untrusted_server, GINT_TO_POINTER (SRV_OTHER_CA));
  for (i = 0; i < G_N_ELEMENTS (status_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/client/status/%" G_GSIZE_FORMAT, i);
      g_test_add (path, Fixture, &status_cases[i], kpr_test_fx_setup, test_status, kpr_test_fx_teardown);
    }
  ADD ("wrong-certificate", test_wrong_certificate, NULL);
  ADD ("timeout", test_timeout, NULL);
  ADD ("redirect/same-origin", test_redirect_same_origin, NULL);
  ADD ("cacerts-csrattrs", test_cacerts_and_csrattrs, NULL);
  ADD ("serverkeygen", test_serverkeygen, NULL);
  ADD ("extensions", test_extensions, NULL);
#undef ADD
  return g_test_run ();
}
