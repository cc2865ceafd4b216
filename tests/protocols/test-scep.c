/* test-scep.c — the SCEP client against a real peer: Debian's `scep`
 * package (micromdm's scepserver) on a random port, with its own CA and a
 * challenge password, keys in software and on both SoftHSM tokens.
 * `openssl` checks independently what the client accepted.
 *
 * micromdm's scepserver 2.1 never answers PENDING (it signs or fails at
 * once), so the pending + CertPoll flow is tested against the scripted
 * responder in test-scep-hostile.c. */
#include "config.h"

#include "protocols-fixture.h"

#include <string.h>

#define CHALLENGE "one-time-7Q2x"

typedef struct {
  PfPeer *srv;
  KprScepClient *client;
  char *ca_path;
} Scep;

static void
scep_start (Scep *s, const char *challenge)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (KprX509Stack) cas = NULL;
  g_auto (GStrv) fps = NULL;
  g_autofree char *out = NULL;
  g_autofree char *want = NULL;

  s->srv = pf_scep_start (challenge);
  s->ca_path = g_build_filename (s->srv->dir, "ca.pem", NULL);
  s->client = kpr_scep_client_new (s->srv->url, &error);
  g_assert_no_error (error);
  /* Bootstrap: the fingerprint a person would compare is the one
   * openssl computes from the CA's own file. */
  certs = kpr_scep_client_bootstrap (s->client, &fps, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_strv_length (fps), ==, 1);
  g_assert_cmpint (fixture_run (&out, "openssl", "x509", "-in", s->ca_path, "-noout",
                                "-fingerprint", "-sha256", NULL), ==, 0);
  want = g_strdup (strchr (out, '=') + 1);
  g_assert_cmpstr (g_strstrip (want), ==, fps[0]);
  cas = kpr_scep_ca_certs (certs);
  g_assert_true (kpr_scep_client_set_trust_anchors (s->client, cas, &error));
}

static void
scep_stop (Scep *s)
{
  g_clear_pointer (&s->client, kpr_scep_client_free);
  g_clear_pointer (&s->srv, pf_peer_stop);
  g_clear_pointer (&s->ca_path, g_free);
}

static guint
count (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = haystack; (p = strstr (p, needle)); p += strlen (needle))
    n++;
  return n;
}

/* The line of the depot's index.txt for @cert, or NULL. */
static char *
index_line (Scep *s, X509 *cert)
{
  g_autofree char *path = g_build_filename (s->srv->dir, "index.txt", NULL);
  g_autofree char *text = NULL;
  g_autofree char *hex = NULL;
  g_auto (GStrv) lines = NULL;
  BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (cert), NULL);
  char *h = BN_bn2hex (bn);

  hex = g_strdup (h);
  OPENSSL_free (h);
  BN_free (bn);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, "\t", -1);

      if (g_strv_length (f) >= 4 && g_ascii_strcasecmp (f[3], hex) == 0)
        return g_strdup (*l);
    }
  return NULL;
}

static X509 *
enroll (Scep *s, EVP_PKEY *key, const char *cn, const char *challenge, GError **error)
{
  g_autoptr (X509_NAME) name = pf_name (cn);
  g_autoptr (KprSecret) secret = challenge ? kpr_secret_new (challenge, strlen (challenge))
                                           : NULL;
  KprScepRequest req = { .key = key, .subject = name, .challenge = secret };

  return kpr_scep_client_enroll (s->client, &req, error);
}

static void
assert_issued (Scep *s, X509 *cert, EVP_PKEY *key, const char *cn)
{
  char got[64];

  g_assert_nonnull (cert);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (cert), key), ==, 1);
  X509_NAME_get_text_by_NID (X509_get_subject_name (cert), NID_commonName, got, sizeof got);
  g_assert_cmpstr (got, ==, cn);
  pf_assert_openssl_verifies (cert, s->ca_path);
  /* The CA recorded it as valid. */
  {
    g_autofree char *line = index_line (s, cert);

    g_assert_nonnull (line);
    g_assert_true (g_str_has_prefix (line, "V\t"));
  }
}

/* A server, and a first certificate for a new key in @store. */
static X509 *
start_enrolled (Scep *s, PfStore store, const char *cn, EVP_PKEY **ret_key)
{
  g_autoptr (GError) error = NULL;
  X509 *cert;

  scep_start (s, CHALLENGE);
  *ret_key = pf_key (store, TRUE, TRUE);
  cert = enroll (s, *ret_key, cn, CHALLENGE, &error);
  g_assert_no_error (error);
  assert_issued (s, cert, *ret_key, cn);
  return cert;
}

static void
test_enroll (gconstpointer data)
{
  PfStore store = GPOINTER_TO_INT (data);
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *log = NULL;
  KprScepAlgorithms used;
  Scep s = { 0 };

  if (!pf_require ("scepserver"))
    return;
  cert = start_enrolled (&s, store, "alice", &key);
  /* micromdm offers AES, SHA-256 and POST: the strong choices are used. */
  kpr_scep_client_get_algorithms (s.client, &used);
  g_assert_cmpstr (used.cipher, ==, "AES-128-CBC");
  g_assert_cmpstr (used.digest, ==, "SHA-256");
  g_assert_cmpstr (used.method, ==, "POST");
  g_assert_false (used.weak);
  /* …and it answers in single DES (its PKCS#7 library's default), which
   * the client reads and reports. */
  g_assert_cmpstr (used.reply_cipher, ==, "DES-CBC");
  log = pf_peer_log (s.srv);
  g_assert_cmpuint (count (log, "PKCSReq (19)"), ==, 1);
  scep_stop (&s);
}

static void
test_renew (gconstpointer data)
{
  PfStore store = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL, next = NULL;
  g_autoptr (X509) cert = NULL, renewed = NULL;
  g_autoptr (KprSecret) secret = kpr_secret_new (CHALLENGE, strlen (CHALLENGE));
  g_autofree char *log = NULL;
  KprScepRequest req = { 0 };
  Scep s = { 0 };

  if (!pf_require ("scepserver"))
    return;
  cert = start_enrolled (&s, store, "bob", &key);
  next = pf_key (store, TRUE, TRUE);
  req.key = next;
  req.current = cert;
  req.current_key = key;
  /* micromdm checks its challenge on every request, renewals included
   * (its ChallengeMiddleware); RFC 8894 does not need it there, and the
   * client sends it only because it is given. */
  req.challenge = secret;
  renewed = kpr_scep_client_enroll (s.client, &req, &error);
  g_assert_no_error (error);
  assert_issued (&s, renewed, next, "bob");
  g_assert_cmpint (ASN1_INTEGER_cmp (X509_get0_serialNumber (cert),
                                     X509_get0_serialNumber (renewed)), !=, 0);
  log = pf_peer_log (s.srv);
  g_assert_cmpuint (count (log, "RenewalReq (17)"), ==, 1);
  scep_stop (&s);
}

static void
test_wrong_challenge (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL, good = NULL;
  Scep s = { 0 };

  if (!pf_require ("scepserver"))
    return;
  scep_start (&s, CHALLENGE);
  key = pf_key (PF_SOFTWARE, TRUE, FALSE);
  cert = enroll (&s, key, "carol", "guessed", &error);
  g_assert_null (cert);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "challenge password"));
  g_assert_null (strstr (error->message, "guessed"));
  g_clear_error (&error);
  /* Nothing was issued, and the right challenge still works after. */
  good = enroll (&s, key, "carol", CHALLENGE, &error);
  g_assert_no_error (error);
  assert_issued (&s, good, key, "carol");
  scep_stop (&s);
}

static void
test_untrusted_ca (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, TRUE, FALSE);
  g_autoptr (EVP_PKEY) other_key = kpr_test_key_ec ();
  g_autoptr (X509) other = pf_cert (other_key, "Someone else's CA", NULL, NULL, TRUE, NULL);
  g_autoptr (KprX509Stack) anchors = kpr_test_stack (other, NULL);
  g_autoptr (X509) cert = NULL;
  g_autofree char *log = NULL;
  Scep s = { 0 };

  if (!pf_require ("scepserver"))
    return;
  scep_start (&s, CHALLENGE);
  /* The person confirmed another CA: the server's certificate does not
   * chain to it, and the challenge is never sent. */
  g_assert_true (kpr_scep_client_set_trust_anchors (s.client, anchors, &error));
  cert = enroll (&s, key, "dave", CHALLENGE, &error);
  g_assert_null (cert);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
  log = pf_peer_log (s.srv);
  g_assert_null (strstr (log, "PKIOperation"));
  scep_stop (&s);
}

static void
test_unusable_keys (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) ec = pf_key (PF_SOFTWARE, FALSE, FALSE);
  g_autoptr (EVP_PKEY) sign_only = pf_key (PF_SOFT_TOKEN, TRUE, FALSE);
  g_autoptr (X509) cert = NULL;
  g_autofree char *log = NULL;
  Scep s = { 0 };

  if (!pf_require ("scepserver"))
    return;
  scep_start (&s, CHALLENGE);
  /* SCEP answers are encrypted to the key: EC cannot be used, and the
   * client says so before contacting anyone. */
  cert = enroll (&s, ec, "erin", CHALLENGE, &error);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "RSA"));
  g_clear_error (&error);
  log = pf_peer_log (s.srv);
  g_assert_null (strstr (log, "PKIOperation"));
  /* A token key made for signing only cannot open the answer: a clear
   * token error, nothing returned. */
  cert = enroll (&s, sign_only, "erin", CHALLENGE, &error);
  g_assert_null (cert);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_TOKEN);
  g_assert_nonnull (strstr (error->message, "decrypt"));
  scep_stop (&s);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  pf_setup ();
  for (PfStore st = PF_SOFTWARE; st <= PF_CARD; st++)
    {
      g_autofree char *e = g_strdup_printf ("/scep/micromdm/enroll/%s", pf_store_name (st));
      g_autofree char *r = g_strdup_printf ("/scep/micromdm/renew/%s", pf_store_name (st));

      g_test_add_data_func (e, GINT_TO_POINTER (st), test_enroll);
      g_test_add_data_func (r, GINT_TO_POINTER (st), test_renew);
    }
  g_test_add_func ("/scep/micromdm/wrong-challenge", test_wrong_challenge);
  g_test_add_func ("/scep/micromdm/untrusted-ca", test_untrusted_ca);
  g_test_add_func ("/scep/micromdm/unusable-keys", test_unusable_keys);
  rc = g_test_run ();
  pf_teardown ();
  return rc;
}
