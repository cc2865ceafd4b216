/* test-scep-hostile.c — the SCEP client against the scripted CA of
 * scep-fake.c, for what micromdm's scepserver cannot produce: a request
 * held for approval (PENDING, then CertPoll from a new client, as after a
 * restart), NDES's way (RA signing and encryption certificates separate
 * from the CA, no GetCACaps, GET, DES3/SHA-1), the message types and
 * signers the client uses, and hostile answers.  What the client accepted
 * is checked with openssl. */
#include "config.h"

#include "scep-fake.h"

#include <string.h>

#define CHALLENGE "pw-4242"

typedef struct {
  FakeScep *fake;
  Responder *r;
  char *url;
  char *ca_path;
} Stage;

static void
stage_start (Stage *st, gboolean ndes, FakeMode mode)
{
  st->fake = fake_scep_new (ndes);
  st->fake->mode = mode;
  st->r = responder_start (fake_scep_handle, st->fake);
  st->url = g_strconcat (responder_url (st->r), "/scep", NULL);
  st->ca_path = pf_write_cert (st->fake->ca, "fake-scep-ca.pem");
}

static void
stage_stop (Stage *st)
{
  g_clear_pointer (&st->r, responder_stop);
  g_clear_pointer (&st->fake, fake_scep_free);
  g_clear_pointer (&st->url, g_free);
  g_clear_pointer (&st->ca_path, g_free);
}

/* A client that trusts the fake CA, after the bootstrap a person does. */
static KprScepClient *
client_for (Stage *st)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprX509Stack) certs = NULL, cas = NULL;
  g_auto (GStrv) fps = NULL;
  g_autofree char *fp = kpr_est_cert_fingerprint (st->fake->ca);
  KprScepClient *c = kpr_scep_client_new (st->url, &error);

  g_assert_no_error (error);
  certs = kpr_scep_client_bootstrap (c, &fps, &error);
  g_assert_no_error (error);
  /* Only the CA is offered for confirmation, never an RA certificate. */
  g_assert_cmpint (g_strv_length (fps), ==, 1);
  g_assert_cmpstr (fps[0], ==, fp);
  cas = kpr_scep_ca_certs (certs);
  g_assert_true (kpr_scep_client_set_trust_anchors (c, cas, &error));
  return c;
}

static X509 *
enroll (KprScepClient *c, EVP_PKEY *key, const char *cn, GError **error)
{
  g_autoptr (X509_NAME) name = pf_name (cn);
  g_autoptr (KprSecret) secret = kpr_secret_new (CHALLENGE, strlen (CHALLENGE));
  KprScepRequest req = { .key = key, .subject = name, .challenge = secret };

  return kpr_scep_client_enroll (c, &req, error);
}

static void
test_pending (gconstpointer data)
{
  PfStore store = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (store, TRUE, TRUE);
  g_autoptr (X509_NAME) name = pf_name ("alice");
  g_autoptr (KprScepClient) first = NULL, later = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *tid = kpr_scep_transaction_id (key, NULL);
  KprScepRequest poll = { .key = key, .subject = name };
  Stage st = { 0 };

  stage_start (&st, FALSE, FAKE_PENDING);
  first = client_for (&st);
  cert = enroll (first, key, "alice", &error);
  g_assert_null (cert);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PENDING);
  g_clear_error (&error);

  /* A new client, as after a restart: the transaction is derived from
   * the key, nothing else had to be kept. */
  later = client_for (&st);
  cert = kpr_scep_client_poll (later, &poll, &error);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PENDING);
  g_clear_error (&error);
  st.fake->approved = TRUE;
  cert = kpr_scep_client_poll (later, &poll, &error);
  g_assert_no_error (error);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (cert), key), ==, 1);
  pf_assert_openssl_verifies (cert, st.ca_path);

  g_assert_cmpuint (fake_scep_count (st.fake), ==, 3);
  g_assert_cmpint (fake_scep_seen (st.fake, 0)->type, ==, 19);
  g_assert_cmpstr (fake_scep_seen (st.fake, 0)->challenge, ==, CHALLENGE);
  for (guint i = 1; i < 3; i++)
    {
      FakeSeen *s = fake_scep_seen (st.fake, i);

      g_assert_cmpint (s->type, ==, 20);
      g_assert_null (s->challenge);
      /* Signed by the key being certified (self-signed on the fly). */
      g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (s->signer), key), ==, 1);
    }
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (fake_scep_seen (st.fake, i)->tid, ==, tid);
  stage_stop (&st);
}

static void
test_ndes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_CARD, TRUE, TRUE);
  g_autoptr (KprScepClient) c = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *log = NULL;
  KprScepAlgorithms used;
  FakeSeen *s;
  Stage st = { 0 };

  stage_start (&st, TRUE, FAKE_ISSUE);
  st.fake->caps = NULL; /* GetCACaps answers 404, like NDES before 2012 */
  c = client_for (&st);
  /* Some servers want a CA identifier with GetCACert. */
  kpr_scep_client_set_ca_ident (c, "Fake CA");
  cert = enroll (c, key, "bob", &error);
  g_assert_no_error (error);
  pf_assert_openssl_verifies (cert, st.ca_path);
  /* Nothing better offered: DES3 and SHA-1 by GET, and the client says
   * they are weak so the person can be told. */
  kpr_scep_client_get_algorithms (c, &used);
  g_assert_cmpstr (used.cipher, ==, "DES-EDE3-CBC");
  g_assert_cmpstr (used.digest, ==, "SHA-1");
  g_assert_cmpstr (used.method, ==, "GET");
  g_assert_cmpstr (used.reply_cipher, ==, "DES-EDE3-CBC");
  g_assert_true (used.weak);
  s = fake_scep_seen (st.fake, 0);
  g_assert_cmpstr (s->method, ==, "GET");
  g_assert_cmpstr (s->cipher, ==, "DES-EDE3-CBC");
  g_assert_cmpstr (s->digest, ==, "SHA1");
  /* Encrypted to the RA encryption certificate, not the signing one. */
  g_assert_true (s->opened);
  log = responder_log (st.r);
  g_assert_nonnull (strstr (log, "GET /scep?operation=PKIOperation&message="));
  g_assert_nonnull (strstr (log, "GET /scep?operation=GetCACert&message=Fake%20CA"));
  stage_stop (&st);
}

static void
test_strong_algorithms (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, TRUE, TRUE);
  g_autoptr (KprScepClient) c = NULL;
  g_autoptr (X509) cert = NULL;
  FakeSeen *s;
  Stage st = { 0 };

  stage_start (&st, TRUE, FAKE_ISSUE);
  st.fake->caps = "SCEPStandard\n"; /* implies AES, SHA-256 and POST */
  c = client_for (&st);
  cert = enroll (c, key, "bob", &error);
  g_assert_no_error (error);
  s = fake_scep_seen (st.fake, 0);
  g_assert_cmpstr (s->method, ==, "POST");
  g_assert_cmpstr (s->cipher, ==, "AES-128-CBC");
  g_assert_cmpstr (s->digest, ==, "SHA256");
  stage_stop (&st);
}

static void
test_renewal (gconstpointer data)
{
  gboolean offers_renewal = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFT_TOKEN, TRUE, TRUE);
  g_autoptr (EVP_PKEY) next = pf_key (PF_SOFT_TOKEN, TRUE, TRUE);
  g_autoptr (KprScepClient) c = NULL;
  g_autoptr (X509) cert = NULL, renewed = NULL;
  KprScepRequest req = { 0 };
  FakeSeen *s;
  Stage st = { 0 };

  stage_start (&st, FALSE, FAKE_ISSUE);
  if (!offers_renewal)
    st.fake->caps = "AES\nSHA-256\nPOSTPKIOperation\n";
  c = client_for (&st);
  cert = enroll (c, key, "carol", &error);
  g_assert_no_error (error);
  req.key = next;
  req.current = cert;
  req.current_key = key;
  renewed = kpr_scep_client_enroll (c, &req, &error);
  g_assert_no_error (error);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (renewed), next), ==, 1);
  g_assert_cmpint (X509_NAME_cmp (X509_get_subject_name (renewed),
                                  X509_get_subject_name (cert)), ==, 0);
  s = fake_scep_seen (st.fake, 1);
  /* RenewalReq when offered, else a PKCSReq; signed with the current
   * certificate either way, and no challenge when none was given. */
  g_assert_cmpint (s->type, ==, offers_renewal ? 17 : 19);
  g_assert_cmpint (X509_cmp (s->signer, cert), ==, 0);
  g_assert_null (s->challenge);
  stage_stop (&st);
}

static void
test_hostile (gconstpointer data)
{
  FakeMode mode = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, TRUE, TRUE);
  g_autoptr (KprScepClient) c = NULL;
  g_autoptr (X509) cert = NULL;
  Stage st = { 0 };
  int want = KPR_ERROR_PROTOCOL;

  stage_start (&st, mode == FAKE_WRONG_SIGNER, mode);
  c = client_for (&st);
  cert = enroll (c, key, "mallory", &error);
  g_assert_null (cert);
  if (mode == FAKE_WRONG_SIGNER || mode == FAKE_OTHER_CA)
    want = KPR_ERROR_UNTRUSTED;
  else if (mode == FAKE_OTHER_KEY)
    want = KPR_ERROR_KEY_MISMATCH;
  else if (mode == FAKE_FAIL)
    want = KPR_ERROR_REJECTED;
  g_assert_error (error, KPR_ERROR, want);
  g_assert_null (strstr (error->message, CHALLENGE));
  stage_stop (&st);
}

static void
test_ra_not_chained (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = pf_key (PF_SOFTWARE, TRUE, TRUE);
  g_autoptr (EVP_PKEY) other_key = kpr_test_key_rsa ();
  g_autoptr (X509) other = pf_cert (other_key, "Fake SCEP CA", NULL, NULL, TRUE, NULL);
  g_autoptr (KprX509Stack) anchors = kpr_test_stack (other, NULL);
  g_autoptr (KprScepClient) c = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *log = NULL;
  Stage st = { 0 };

  stage_start (&st, TRUE, FAKE_ISSUE);
  c = kpr_scep_client_new (st.url, &error);
  /* The person confirmed a CA of the same name with another key. */
  g_assert_true (kpr_scep_client_set_trust_anchors (c, anchors, &error));
  cert = enroll (c, key, "nina", &error);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
  log = responder_log (st.r);
  g_assert_null (strstr (log, "PKIOperation"));
  g_assert_cmpuint (fake_scep_count (st.fake), ==, 0);
  stage_stop (&st);
}

int
main (int argc, char **argv)
{
  static const struct {
    const char *name;
    FakeMode mode;
  } hostile[] = {
    { "garbage", FAKE_GARBAGE },         { "huge", FAKE_HUGE },
    { "wrong-signer", FAKE_WRONG_SIGNER }, { "other-key", FAKE_OTHER_KEY },
    { "other-ca", FAKE_OTHER_CA },       { "wrong-nonce", FAKE_WRONG_NONCE },
    { "failure", FAKE_FAIL },
  };
  int rc;

  g_test_init (&argc, &argv, NULL);
  pf_setup ();
  g_test_add_data_func ("/scep/fake/pending/software", GINT_TO_POINTER (PF_SOFTWARE),
                        test_pending);
  g_test_add_data_func ("/scep/fake/pending/card", GINT_TO_POINTER (PF_CARD), test_pending);
  g_test_add_func ("/scep/fake/ndes", test_ndes);
  g_test_add_func ("/scep/fake/strong-algorithms", test_strong_algorithms);
  g_test_add_data_func ("/scep/fake/renewal/renewal-req", GINT_TO_POINTER (TRUE), test_renewal);
  g_test_add_data_func ("/scep/fake/renewal/pkcs-req", GINT_TO_POINTER (FALSE), test_renewal);
  g_test_add_func ("/scep/fake/ra-not-chained", test_ra_not_chained);
  for (gsize i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autofree char *path = g_strdup_printf ("/scep/hostile/%s", hostile[i].name);

      g_test_add_data_func (path, GINT_TO_POINTER (hostile[i].mode), test_hostile);
    }
  rc = g_test_run ();
  pf_teardown ();
  return rc;
}
