/* test-cmp.c — the CMP client against OpenSSL's CMP mock server
 * (`openssl cmp -port 0 …`), a real peer nobody here wrote: IR with a
 * one-time reference + secret, KUR, a refused request, polling, RR, and
 * the hostile answers the mock can be told to give (a wrong signer, a
 * certificate for another key, a rogue chain, no protection).  Keys in
 * software and on both SoftHSM tokens.
 *
 * The mock returns the certificate given with -rsp_cert whatever was
 * asked, so each test issues that certificate for its key first, with a
 * CA made in-process. */
#include "config.h"

#include "protocols-fixture.h"
#include "responder.h"

#include <string.h>

#include <openssl/cmp.h>

#define REFERENCE "ref-4711"
#define SECRET "9mX-one-time"

typedef struct {
  EVP_PKEY *ca_key, *srv_key;
  X509 *ca, *srv;
  char *ca_path, *srv_path, *srv_key_path, *secret_path;
  KprX509Stack *anchors;
} Pki;

static Pki pki;

static void
pki_init (void)
{
  g_autofree char *line = g_strdup (SECRET "\n");

  pki.ca_key = kpr_test_key_ec ();
  pki.ca = pf_cert (pki.ca_key, "CMP Test CA", NULL, NULL, TRUE, "critical,keyCertSign,cRLSign");
  pki.srv_key = kpr_test_key_ec ();
  pki.srv = pf_cert (pki.srv_key, "CMP Test RA", pki.ca, pki.ca_key, FALSE,
                     "critical,digitalSignature");
  pki.ca_path = pf_write_cert (pki.ca, "cmp-ca.pem");
  pki.srv_path = pf_write_cert (pki.srv, "cmp-srv.pem");
  pki.srv_key_path = pf_write_key (pki.srv_key, "cmp-srv.key");
  /* The mock reads its secret from a 0600 file, not from argv. */
  pki.secret_path = fixture_write_file ("cmp-secret", line, strlen (line));
  pki.anchors = kpr_test_stack (pki.ca, NULL);
}

static void
pki_clear (void)
{
  g_clear_pointer (&pki.anchors, kpr_x509_stack_free);
  g_clear_pointer (&pki.ca, X509_free);
  g_clear_pointer (&pki.srv, X509_free);
  g_clear_pointer (&pki.ca_key, EVP_PKEY_free);
  g_clear_pointer (&pki.srv_key, EVP_PKEY_free);
  g_free (pki.ca_path);
  g_free (pki.srv_path);
  g_free (pki.srv_key_path);
  g_free (pki.secret_path);
}

/* The certificate the mock will hand out, for @key. */
static char *
issue_for (EVP_PKEY *key, const char *cn, X509 **ret_cert)
{
  X509 *cert = pf_cert (key, cn, pki.ca, pki.ca_key, FALSE, "critical,digitalSignature");
  char *path = pf_write_cert (cert, "rsp.pem");

  *ret_cert = cert;
  return path;
}

/* The mock answers a KUR only for the certificate it hands out itself
 * (-rsp_cert doubles as the one being renewed: it compares the request's
 * oldCertID with it).  So the renewed certificate here shares issuer and
 * serial with the current one; only its key differs.  A real CA issues a
 * new serial; nothing in the client depends on either. */
static char *
renewal_pair (EVP_PKEY *key, EVP_PKEY *next, const char *cn, X509 **ret_current, X509 **ret_new)
{
  X509 *current = pf_cert (key, cn, pki.ca, pki.ca_key, FALSE, "critical,digitalSignature");
  X509 *renewed = pf_cert (next, cn, pki.ca, pki.ca_key, FALSE, "critical,digitalSignature");

  g_assert_true (X509_set_serialNumber (renewed, X509_get_serialNumber (current)));
  g_assert_cmpint (X509_sign (renewed, pki.ca_key, EVP_sha256 ()), >, 0);
  *ret_current = current;
  *ret_new = renewed;
  return pf_write_cert (renewed, "renewed.pem");
}

static KprCmpClient *
new_client (PfPeer *mock, gboolean with_secret, const char *secret)
{
  g_autoptr (GError) error = NULL;
  KprCmpClient *c = kpr_cmp_client_new (mock->url, &error);

  g_assert_no_error (error);
  g_assert_true (kpr_cmp_client_set_trust_anchors (c, pki.anchors, &error));
  /* Short enough that a failing test does not hang the suite. */
  kpr_cmp_client_set_timeouts (c, 5, 20, 30);
  if (with_secret)
    {
      g_autoptr (KprSecret) s = kpr_secret_new (secret, strlen (secret));

      g_assert_true (kpr_cmp_client_set_secret (c, REFERENCE, s, &error));
    }
  return c;
}

static PfPeer *
mac_mock (const char *rsp_path, const char *extra1, const char *extra2)
{
  g_autofree char *secret_arg = g_strconcat ("file:", pki.secret_path, NULL);

  return pf_cmp_start ("-srv_ref", REFERENCE, "-srv_secret", secret_arg, "-rsp_cert", rsp_path,
                       "-rsp_extracerts", pki.ca_path, extra1, extra2, NULL);
}

static X509 *
ir (KprCmpClient *c, EVP_PKEY *key, const char *cn, GError **error)
{
  g_autoptr (X509_NAME) name = pf_name (cn);
  KprCmpRequest req = { .key = key, .subject = name };

  return kpr_cmp_client_enroll (c, &req, error);
}

static void
test_ir (gconstpointer data)
{
  PfStore store = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) want = NULL, got = NULL;
  g_autofree char *rsp = NULL, *log = NULL;
  g_autoptr (PfPeer) mock = NULL;
  g_autoptr (KprCmpClient) c = NULL;

  if (!pf_require ("openssl"))
    return;
  key = pf_key (store, FALSE, FALSE);
  rsp = issue_for (key, "alice", &want);
  mock = mac_mock (rsp, NULL, NULL);
  c = new_client (mock, TRUE, SECRET);
  got = ir (c, key, "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_cmp (got, want), ==, 0);
  pf_assert_openssl_verifies (got, pki.ca_path);
  /* The mock saw our certConf accept it (no rejection logged). */
  log = pf_peer_log (mock);
  g_assert_null (strstr (log, "rejected by client"));
  g_assert_null (strstr (log, SECRET));
}

static void
test_ir_wrong_secret (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (X509) want = NULL, got = NULL;
  g_autofree char *rsp = issue_for (key, "bob", &want);
  g_autoptr (PfPeer) mock = mac_mock (rsp, NULL, NULL);
  g_autoptr (KprCmpClient) c = new_client (mock, TRUE, "not-the-secret");

  got = ir (c, key, "bob", &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_assert_null (strstr (error->message, "not-the-secret"));
}

static void
test_ir_fingerprint (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (X509) want = NULL, got = NULL;
  g_autofree char *rsp = issue_for (key, "carol", &want);
  g_autofree char *fp = kpr_est_cert_fingerprint (pki.ca);
  g_autoptr (PfPeer) mock = mac_mock (rsp, "-rsp_capubs", pki.ca_path);
  g_autoptr (KprCmpClient) c = kpr_cmp_client_new (mock->url, &error);
  g_autoptr (KprSecret) s = kpr_secret_new (SECRET, strlen (SECRET));

  /* No CA file: the person confirmed the CA's fingerprint; the CA
   * certificate comes in the MAC-protected answer. */
  g_assert_true (kpr_cmp_client_set_secret (c, REFERENCE, s, &error));
  g_assert_true (kpr_cmp_client_set_anchor_fingerprint (c, fp, &error));
  got = ir (c, key, "carol", &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_cmp (got, want), ==, 0);
  g_assert_nonnull (kpr_cmp_client_get_anchor (c));
  g_assert_cmpint (X509_cmp (kpr_cmp_client_get_anchor (c), pki.ca), ==, 0);
}

static void
test_ir_wrong_fingerprint (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (X509) want = NULL, got = NULL;
  g_autofree char *rsp = issue_for (key, "carol", &want);
  g_autoptr (PfPeer) mock = mac_mock (rsp, "-rsp_capubs", pki.ca_path);
  g_autoptr (KprCmpClient) c = kpr_cmp_client_new (mock->url, &error);
  g_autoptr (KprSecret) s = kpr_secret_new (SECRET, strlen (SECRET));
  g_autofree char *log = NULL;

  g_assert_true (kpr_cmp_client_set_secret (c, REFERENCE, s, &error));
  g_assert_true (kpr_cmp_client_set_anchor_fingerprint (
    c, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"
       "DD:EE:FF", &error));
  got = ir (c, key, "carol", &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
  g_assert_null (kpr_cmp_client_get_anchor (c));
  /* The refusal went back to the CA in certConf. */
  log = pf_peer_log (mock);
  g_assert_nonnull (strstr (log, "rejected by client"));
}

static void
test_kur (gconstpointer data)
{
  PfStore store = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL, next = NULL;
  g_autoptr (X509) current = NULL, want = NULL, got = NULL;
  g_autofree char *rsp = NULL;
  g_autoptr (PfPeer) mock = NULL;
  g_autoptr (KprCmpClient) c = NULL;
  KprCmpRequest req = { 0 };

  key = pf_key (store, FALSE, FALSE);
  next = pf_key (store, FALSE, FALSE);
  rsp = renewal_pair (key, next, "dave", &current, &want);
  /* Signature-protected both ways: the mock checks our request against
   * the CA, we check its answer against the same CA. */
  mock = pf_cmp_start ("-srv_cert", pki.srv_path, "-srv_key", pki.srv_key_path, "-srv_trusted",
                       pki.ca_path, "-rsp_cert", rsp, "-rsp_extracerts", pki.ca_path, NULL);
  c = new_client (mock, FALSE, NULL);
  req.key = next;
  req.current = current;
  req.current_key = key;
  got = kpr_cmp_client_enroll (c, &req, &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_cmp (got, want), ==, 0);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (got), next), ==, 1);
}

static void
test_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (X509) want = NULL, got = NULL;
  g_autofree char *rsp = issue_for (key, "erin", &want);
  g_autofree char *secret_arg = g_strconcat ("file:", pki.secret_path, NULL);
  g_autoptr (PfPeer) mock = NULL;
  g_autoptr (KprCmpClient) c = NULL;

  /* PKIStatus rejection, failInfo badCertTemplate (19), with a text. */
  mock = pf_cmp_start ("-srv_ref", REFERENCE, "-srv_secret", secret_arg, "-rsp_cert", rsp,
                       "-pkistatus", "2", "-failure", "19", "-statusstring",
                       "no enrollment for this name", NULL);
  c = new_client (mock, TRUE, SECRET);
  got = ir (c, key, "erin", &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "badCertTemplate"));
  g_assert_nonnull (strstr (error->message, "no enrollment for this name"));
  g_clear_error (&error);
  g_clear_pointer (&mock, pf_peer_stop);
  g_clear_pointer (&c, kpr_cmp_client_free);

  /* An error message instead of a response. */
  mock = pf_cmp_start ("-srv_ref", REFERENCE, "-srv_secret", secret_arg, "-rsp_cert", rsp,
                       "-send_error", NULL);
  c = new_client (mock, TRUE, SECRET);
  got = ir (c, key, "erin", &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
}

static guint
count_requests (const char *log)
{
  guint n = 0;

  for (const char *p = log; (p = strstr (p, "Received request")); p++)
    n++;
  return n;
}

static void
test_polling (void)
{
  g_autofree char *log = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (X509) want = NULL, got = NULL;
  g_autofree char *rsp = issue_for (key, "frank", &want);
  g_autofree char *secret_arg = g_strconcat ("file:", pki.secret_path, NULL);
  g_autoptr (PfPeer) mock = NULL;
  g_autoptr (KprCmpClient) c = NULL;
  gint64 start = g_get_monotonic_time ();

  /* "waiting" twice, 1 s apart, then the certificate. */
  mock = pf_cmp_start ("-srv_ref", REFERENCE, "-srv_secret", secret_arg, "-rsp_cert", rsp,
                       "-poll_count", "2", "-check_after", "1", NULL);
  c = new_client (mock, TRUE, SECRET);
  got = ir (c, key, "frank", &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_cmp (got, want), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1 * G_USEC_PER_SEC);
  /* ir, two pollReq (the first answered "check after 1 s"), certConf */
  log = pf_peer_log (mock);
  g_assert_cmpuint (count_requests (log), ==, 4);
  g_clear_pointer (&mock, pf_peer_stop);
  g_clear_pointer (&c, kpr_cmp_client_free);

  /* Slower than the poll limit: pending, said plainly, in about the
   * limit rather than the CA's 60 s. */
  mock = pf_cmp_start ("-srv_ref", REFERENCE, "-srv_secret", secret_arg, "-rsp_cert", rsp,
                       "-poll_count", "3", "-check_after", "60", NULL);
  c = new_client (mock, TRUE, SECRET);
  kpr_cmp_client_set_timeouts (c, 0, 0, 2);
  start = g_get_monotonic_time ();
  g_clear_pointer (&got, X509_free);
  got = ir (c, key, "frank", &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PENDING);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
}

static void
test_revoke (gconstpointer data)
{
  gboolean with_key = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_CARD, FALSE, FALSE);
  g_autoptr (EVP_PKEY) other_key = kpr_test_key_ec ();
  g_autoptr (X509) cert = NULL, other = NULL;
  g_autofree char *rsp = issue_for (key, "gina", &cert);
  g_autofree char *secret_arg = g_strconcat ("file:", pki.secret_path, NULL);
  g_autoptr (PfPeer) mock = NULL;
  g_autoptr (KprCmpClient) c = NULL;

  other = pf_cert (other_key, "gina", pki.ca, pki.ca_key, FALSE, NULL);
  if (with_key)
    mock = pf_cmp_start ("-srv_cert", pki.srv_path, "-srv_key", pki.srv_key_path,
                         "-srv_trusted", pki.ca_path, "-rsp_cert", rsp, NULL);
  else
    mock = pf_cmp_start ("-srv_ref", REFERENCE, "-srv_secret", secret_arg, "-rsp_cert", rsp,
                         NULL);
  c = new_client (mock, !with_key, SECRET);
  /* "I lost my token": without the key, the secret authenticates. */
  g_assert_true (kpr_cmp_client_revoke (c, cert, with_key ? key : NULL,
                                        CRL_REASON_KEY_COMPROMISE, &error));
  g_assert_no_error (error);
  /* The mock knows only the certificate it issued. */
  g_assert_false (kpr_cmp_client_revoke (c, other, with_key ? other_key : NULL,
                                         CRL_REASON_SUPERSEDED, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
}

static void
test_wrong_signer (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) rogue_key = kpr_test_key_ec ();
  g_autoptr (EVP_PKEY) rogue_srv_key = kpr_test_key_ec ();
  g_autoptr (X509) rogue = pf_cert (rogue_key, "CMP Test CA", NULL, NULL, TRUE, NULL);
  g_autoptr (X509) rogue_srv = pf_cert (rogue_srv_key, "CMP Test RA", rogue, rogue_key, FALSE,
                                        "critical,digitalSignature");
  g_autofree char *rogue_srv_path = pf_write_cert (rogue_srv, "rogue-srv.pem");
  g_autofree char *rogue_key_path = pf_write_key (rogue_srv_key, "rogue-srv.key");
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (EVP_PKEY) next = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (X509) current = NULL, want = NULL, got = NULL;
  g_autofree char *rsp = renewal_pair (key, next, "hank", &current, &want);
  g_autoptr (PfPeer) mock = NULL;
  g_autoptr (KprCmpClient) c = NULL;
  KprCmpRequest req = { .key = next, .current = current, .current_key = key };

  /* Same names as the real CA, another key: a server pretending. */
  mock = pf_cmp_start ("-srv_cert", rogue_srv_path, "-srv_key", rogue_key_path, "-srv_trusted",
                       pki.ca_path, "-rsp_cert", rsp, NULL);
  c = new_client (mock, FALSE, NULL);
  got = kpr_cmp_client_enroll (c, &req, &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
}

static void
test_other_key (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFT_TOKEN, FALSE, FALSE);
  g_autoptr (EVP_PKEY) stranger = kpr_test_key_ec ();
  g_autoptr (X509) theirs = NULL, got = NULL;
  g_autofree char *rsp = issue_for (stranger, "ivy", &theirs);
  g_autoptr (PfPeer) mock = mac_mock (rsp, NULL, NULL);
  g_autoptr (KprCmpClient) c = new_client (mock, TRUE, SECRET);
  g_autofree char *log = NULL;

  got = ir (c, key, "ivy", &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH);
  log = pf_peer_log (mock);
  g_assert_nonnull (strstr (log, "rejected by client"));
}

static void
test_rogue_chain (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) rogue_key = kpr_test_key_ec ();
  g_autoptr (X509) rogue = pf_cert (rogue_key, "Rogue CA", NULL, NULL, TRUE, NULL);
  g_autofree char *rogue_path = pf_write_cert (rogue, "rogue-ca.pem");
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (X509) theirs = pf_cert (key, "jo", rogue, rogue_key, FALSE, NULL);
  g_autofree char *rsp = pf_write_cert (theirs, "rogue-rsp.pem");
  g_autofree char *secret_arg = g_strconcat ("file:", pki.secret_path, NULL);
  g_autoptr (PfPeer) mock = NULL;
  g_autoptr (KprCmpClient) c = NULL;
  g_autoptr (X509) got = NULL;

  /* Our key, but chained to a CA offered in caPubs, not to ours. */
  mock = pf_cmp_start ("-srv_ref", REFERENCE, "-srv_secret", secret_arg, "-rsp_cert", rsp,
                       "-rsp_capubs", rogue_path, "-rsp_extracerts", rogue_path, NULL);
  c = new_client (mock, TRUE, SECRET);
  got = ir (c, key, "jo", &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
}

static void
test_unprotected (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (X509) want = NULL, got = NULL;
  g_autofree char *rsp = issue_for (key, "kim", &want);
  g_autoptr (PfPeer) mock = mac_mock (rsp, "-send_unprotected", NULL);
  g_autoptr (KprCmpClient) c = new_client (mock, TRUE, SECRET);

  got = ir (c, key, "kim", &error);
  g_assert_null (got);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
}

/* Answers no real CMP server gives: not CMP at all (with 200, or with
 * 400 as an error message may come, RFC 6712), too large, a server
 * error.  The scripted responder stands in. */
static RespAnswer
junk_answer (const char *method, const char *target, GBytes *body, gpointer data)
{
  const char *kind = data;
  RespAnswer a = { 200, "application/pkixcmp", NULL };

  if (g_str_equal (kind, "garbage"))
    a.body = g_bytes_new_static ("\x30\x03\x02\x01\x00garbage", 12);
  else if (g_str_equal (kind, "garbage-400"))
    a.status = 400, a.body = g_bytes_new_static ("\x30\x01\x00", 3);
  else if (g_str_equal (kind, "huge"))
    a.body = g_bytes_new_take (g_malloc0 (KPR_CMP_BODY_MAX + 1), KPR_CMP_BODY_MAX + 1);
  else
    a.status = 500, a.content_type = "text/plain", a.body = g_bytes_new_static ("boom", 4);
  return a;
}

static void
test_junk (gconstpointer data)
{
  const char *kind = data;
  g_autoptr (Responder) r = responder_start (junk_answer, (gpointer) kind);
  g_autofree char *url = g_strconcat (responder_url (r), "/pkix/", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (KprCmpClient) c = kpr_cmp_client_new (url, &error);
  g_autoptr (KprSecret) s = kpr_secret_new (SECRET, strlen (SECRET));
  g_autoptr (X509) got = NULL;

  g_assert_true (kpr_cmp_client_set_trust_anchors (c, pki.anchors, &error));
  g_assert_true (kpr_cmp_client_set_secret (c, REFERENCE, s, &error));
  got = ir (c, key, "lee", &error);
  g_assert_null (got);
  if (g_str_equal (kind, "error"))
    g_assert_error (error, KPR_ERROR, KPR_ERROR_UNREACHABLE);
  else
    g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  pf_setup ();
  pki_init ();
  for (PfStore st = PF_SOFTWARE; st <= PF_CARD; st++)
    {
      g_autofree char *i = g_strdup_printf ("/cmp/mock/ir/%s", pf_store_name (st));
      g_autofree char *k = g_strdup_printf ("/cmp/mock/kur/%s", pf_store_name (st));

      g_test_add_data_func (i, GINT_TO_POINTER (st), test_ir);
      g_test_add_data_func (k, GINT_TO_POINTER (st), test_kur);
    }
  g_test_add_func ("/cmp/mock/ir-wrong-secret", test_ir_wrong_secret);
  g_test_add_func ("/cmp/mock/ir-fingerprint", test_ir_fingerprint);
  g_test_add_func ("/cmp/mock/ir-wrong-fingerprint", test_ir_wrong_fingerprint);
  g_test_add_func ("/cmp/mock/refused", test_refused);
  g_test_add_func ("/cmp/mock/polling", test_polling);
  g_test_add_data_func ("/cmp/mock/revoke/with-key", GINT_TO_POINTER (TRUE), test_revoke);
  g_test_add_data_func ("/cmp/mock/revoke/lost-token", GINT_TO_POINTER (FALSE), test_revoke);
  g_test_add_func ("/cmp/hostile/wrong-signer", test_wrong_signer);
  g_test_add_func ("/cmp/hostile/other-key", test_other_key);
  g_test_add_func ("/cmp/hostile/rogue-chain", test_rogue_chain);
  g_test_add_func ("/cmp/hostile/unprotected", test_unprotected);
  g_test_add_data_func ("/cmp/hostile/garbage", "garbage", test_junk);
  g_test_add_data_func ("/cmp/hostile/garbage-400", "garbage-400", test_junk);
  g_test_add_data_func ("/cmp/hostile/huge", "huge", test_junk);
  g_test_add_data_func ("/cmp/hostile/server-error", "error", test_junk);
  rc = g_test_run ();
  pki_clear ();
  pf_teardown ();
  return rc;
}
