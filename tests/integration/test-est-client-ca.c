/* test-est-client-ca.c — our EST client (protocol/) against the real
 * certkeeper-ca on 127.0.0.1: bootstrap, secret word through the outbox,
 * enroll, replay refused, reenroll with a new key over mutual TLS, the
 * previous certificate on the CRL (checked with `openssl crl`), subject swap
 * refused, revoke, lockout after 5 wrong words, serverkeygen, 202 flow.
 * Software keys only (generated in-process). */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/pem.h>

#include "kpr-est.h"

typedef struct {
  char *dir;     /* temp root */
  char *ca_dir;
  char *outbox;
  GSubprocess *server;
  char *url;
} Ca;

static const char *
ca_bin (void)
{
  const char *bin = g_getenv ("KPR_CERTKEEPER_CA");

  return bin && g_file_test (bin, G_FILE_TEST_IS_EXECUTABLE) ? bin : NULL;
}

/* Runs certkeeper-ca with @args; returns its stdout. */
static char *
run_ca (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GError) error = NULL;
  char *out = NULL;

  g_ptr_array_add (argv, (char *) ca_bin ());
  for (; *args; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);
  p = g_subprocess_newv ((const char *const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                         &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (p));
  return out;
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* @est_conf: lines for ca.conf's [est] group (NULL: none). */
static void
ca_start (Ca *ca, gboolean manual, const char *est_conf)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autofree char *line = NULL;
  g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL;

  ca->dir = g_dir_make_tmp ("kpr-it-XXXXXX", &error);
  g_assert_no_error (error);
  ca->ca_dir = g_build_filename (ca->dir, "ca", NULL);
  ca->outbox = g_build_filename (ca->dir, "outbox", NULL);
  {
    const char *init[] = { "init", ca->ca_dir, manual ? "--approval" : NULL, "manual", NULL };
    o1 = run_ca (init);
  }
  if (est_conf)
    {
      g_autofree char *conf = g_build_filename (ca->ca_dir, "ca.conf", NULL);
      g_autofree char *text = NULL;
      g_autofree char *more = NULL;

      g_assert_true (g_file_get_contents (conf, &text, NULL, NULL));
      more = g_strconcat (text, "\n[est]\n", est_conf, "\n", NULL);
      g_assert_true (g_file_set_contents (conf, more, -1, &error));
    }
  {
    const char *a[] = { "user", "add", ca->ca_dir, "alice", "--phone", "+15550100", NULL };
    const char *d[] = { "user", "add", ca->ca_dir, "dave", "--phone", "+15550111", NULL };
    const char *e[] = { "user", "add", ca->ca_dir, "erin", "--phone", "+15550177", NULL };
    o2 = run_ca (a);
    o3 = run_ca (d);
    o4 = run_ca (e);
  }
  {
    const char *argv[] = { ca_bin (), "serve", ca->ca_dir, "--listen", "127.0.0.1:0",
                           "--otp-outbox", ca->outbox, NULL };
    g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);

    /* The server dies with the test, even when an assertion aborts it. */
    g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
    ca->server = g_subprocess_launcher_spawnv (launcher, argv, &error);
    g_assert_no_error (error);
  }
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (ca->server));
  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, &error)))
    {
      if (g_str_has_prefix (line, "listening on "))
        break;
      g_clear_pointer (&line, g_free);
    }
  g_assert_nonnull (line);
  ca->url = g_strdup_printf ("https://%s", line + strlen ("listening on "));
}

static void
rm_rf (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *name;

  if (d)
    {
      while ((name = g_dir_read_name (d)))
        {
          g_autofree char *p = g_build_filename (path, name, NULL);
          rm_rf (p);
        }
      g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
ca_stop (Ca *ca)
{
  if (ca->server)
    {
      g_subprocess_send_signal (ca->server, SIGTERM);
      g_subprocess_wait (ca->server, NULL, NULL);
      g_clear_object (&ca->server);
    }
  if (ca->dir)
    rm_rf (ca->dir);
  g_free (ca->dir);
  g_free (ca->ca_dir);
  g_free (ca->outbox);
  g_free (ca->url);
}

/* The newest secret word the outbox holds for @user (last field). */
static KprSecret *
word_for (Ca *ca, const char *user)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  KprSecret *word = NULL;
  gsize i;

  g_assert_true (g_file_get_contents (ca->outbox, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (f);

      if (n >= 3 && g_str_equal (f[1], user))
        {
          kpr_secret_free (word);
          word = kpr_secret_new (f[n - 1], strlen (f[n - 1]));
        }
    }
  kpr_memory_erase (text, strlen (text));
  g_assert_nonnull (word);
  return word;
}

static KprSecret *
challenge (KprEstClient *client, Ca *ca, const char *user)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprEstChallenge) ch = kpr_est_client_challenge (client, user, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (ch->expires_in, >, 0);
  return word_for (ca, user);
}

static X509_NAME *
cn (const char *name)
{
  X509_NAME *n = X509_NAME_new ();

  X509_NAME_add_entry_by_txt (n, "CN", MBSTRING_UTF8, (const unsigned char *) name, -1, -1, 0);
  return n;
}

static char *
serial_hex (X509 *cert)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (cert), NULL);
  char *hex = BN_bn2hex (bn);
  char *out = g_strdup (hex);

  OPENSSL_free (hex);
  BN_free (bn);
  return out;
}

/* `openssl crl -text` of the server's CRL, fetched with curl; NULL (and
 * the check skipped) when either tool is missing. */
static char *
crl_text (Ca *ca)
{
  g_autofree char *curl = g_find_program_in_path ("curl");
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *ca_pem = g_build_filename (ca->ca_dir, "ca.pem", NULL);
  g_autofree char *der = g_build_filename (ca->dir, "crl.der", NULL);
  g_autofree char *url = g_strdup_printf ("%s/crl", ca->url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = NULL;
  char *out = NULL;

  if (!curl || !openssl)
    return NULL;
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, curl, "-sS", "--cacert", ca_pem,
                        "-o", der, url, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (p, NULL, &error));
  g_clear_object (&p);
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, openssl, "crl", "-inform", "DER",
                        "-in", der, "-noout", "-text", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static KprEstClient *
trusted_client (Ca *ca)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (KprX509Stack) roots = NULL;
  g_auto (GStrv) fps = NULL;
  g_autofree char *ca_pem = g_build_filename (ca->ca_dir, "ca.pem", NULL);
  g_autofree char *expected = NULL;
  KprEstClient *client = kpr_est_client_new (ca->url, NULL, &error);
  BIO *bio;
  X509 *ca_cert;

  g_assert_no_error (error);
  kpr_est_client_set_timeouts (client, 5, 20);
  /* Bootstrap, then "the person confirms" against DIR/ca.pem. */
  certs = kpr_est_client_bootstrap (client, &fps, &error);
  g_assert_no_error (error);
  bio = BIO_new_file (ca_pem, "r");
  ca_cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  g_assert_nonnull (ca_cert);
  expected = kpr_est_cert_fingerprint (ca_cert);
  X509_free (ca_cert);
  g_assert_cmpstr (fps[0], ==, expected);
  roots = kpr_est_roots (certs);
  g_assert_true (kpr_est_client_set_trust_anchors (client, roots, &error));
  g_assert_no_error (error);
  return client;
}

static void
test_lifecycle (void)
{
  Ca ca = { 0 };
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key1 = EVP_EC_gen ("P-256");
  g_autoptr (EVP_PKEY) key2 = EVP_EC_gen ("P-384");
  g_autoptr (EVP_PKEY) key3 = EVP_EC_gen ("P-256");
  g_autoptr (X509_NAME) alice = cn ("alice");
  g_autoptr (X509_NAME) mallory = cn ("mallory");
  g_autoptr (X509) cert1 = NULL, cert2 = NULL, swapped = NULL;
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (KprSecret) word = NULL;
  g_autofree char *serial1 = NULL, *serial2 = NULL, *revoked = NULL, *crl = NULL;
  g_autofree char *line1 = NULL, *line2 = NULL;
  KprEstCredentials creds = { "alice", NULL };

  if (!ca_bin ())
    {
      g_test_skip ("certkeeper-ca is not built");
      return;
    }
  ca_start (&ca, FALSE, NULL);
  client = trusted_client (&ca);

  /* Enroll with a secret word (csrattrs first, on the same connection). */
  word = challenge (client, &ca, "alice");
  creds.secret = word;
  cert1 = kpr_est_client_enroll_linked (client, key1, alice, NULL, FALSE, &creds, &req, &error);
  g_assert_no_error (error);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (cert1), key1), ==, 1);

  /* The same request again (its answer lost) gets the same certificate:
   * nothing new is issued and no new word is needed. */
  {
    g_autoptr (X509) again = kpr_est_client_enroll (client, req, key1, FALSE, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (X509_cmp (again, cert1), ==, 0);
  }
  g_clear_pointer (&req, X509_REQ_free);

  /* The used word is refused for any other key, and not retried. */
  {
    g_autoptr (EVP_PKEY) other = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
    g_autoptr (X509_REQ) other_req = kpr_est_csr_new (other, alice, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (kpr_est_client_enroll (client, other_req, other, FALSE, &creds, &error));
    g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
    g_clear_error (&error);
  }

  /* Reenroll with a new key over mutual TLS (no word). */
  kpr_est_client_set_client_cert (client, cert1, key1, NULL);
  req = kpr_est_csr_new_renewal (key2, cert1, NULL, &error);
  g_assert_no_error (error);
  cert2 = kpr_est_client_enroll (client, req, key2, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_NAME_cmp (X509_get_subject_name (cert2), X509_get_subject_name (cert1)),
                   ==, 0);
  g_clear_pointer (&req, X509_REQ_free);

  /* The previous certificate is on the CRL. */
  serial1 = serial_hex (cert1);
  serial2 = serial_hex (cert2);
  crl = crl_text (&ca);
  if (crl)
    {
      line1 = g_strdup_printf ("Serial Number: %s", serial1);
      g_assert_nonnull (strstr (crl, line1));
      g_clear_pointer (&crl, g_free);
    }

  /* A subject swap on reenroll is refused (RFC 7030 §4.2.2). */
  kpr_est_client_set_client_cert (client, cert2, key2, NULL);
  req = kpr_est_csr_new (key3, mallory, NULL, NULL, &error);
  g_assert_no_error (error);
  swapped = kpr_est_client_enroll (client, req, key3, TRUE, NULL, &error);
  if (swapped)
    {
      /* A server may also ignore the CSR's subject; never with another name. */
      g_test_message ("subject swap: issued with the old subject");
      g_assert_cmpint (X509_NAME_cmp (X509_get_subject_name (swapped),
                                      X509_get_subject_name (cert2)), ==, 0);
      g_clear_pointer (&swapped, X509_free);
      g_clear_pointer (&cert2, X509_free);
    }
  else
    {
      g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
      g_test_message ("subject swap refused: %s", error->message);
      g_clear_error (&error);
      /* Revoke our current certificate over mutual TLS; it lands on the CRL. */
      g_assert_true (kpr_est_client_revoke (client, NULL, NULL, &revoked, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (revoked, ==, serial2);
      crl = crl_text (&ca);
      if (crl)
        {
          line2 = g_strdup_printf ("Serial Number: %s", serial2);
          g_assert_nonnull (strstr (crl, line2));
        }
    }
  ca_stop (&ca);
}

/* Wrong words never lock the owner out (server/README.md, "Threat
 * model"): five wrong ones from this address are answered 401, the next
 * try within the back-off 429 with Retry-After (KPR_ERROR_REJECTED and
 * kpr_est_client_get_retry_after), and after that wait the right word
 * still enrolls. */
static void
test_backoff (void)
{
  Ca ca = { 0 };
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509_NAME) dave = cn ("dave");
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprSecret) right = NULL;
  g_autoptr (KprSecret) wrong = kpr_secret_new ("WRONGWRD", 8);
  g_autoptr (GError) error = NULL;
  KprEstCredentials creds = { "dave", wrong };
  guint wait;
  int i;

  if (!ca_bin ())
    {
      g_test_skip ("certkeeper-ca is not built");
      return;
    }
  ca_start (&ca, FALSE, NULL);
  client = trusted_client (&ca);
  right = challenge (client, &ca, "dave");
  req = kpr_est_csr_new (key, dave, NULL, NULL, &error);
  g_assert_no_error (error);
  for (i = 0; i < 5; i++)
    {
      g_assert_null (kpr_est_client_enroll (client, req, key, FALSE, &creds, &error));
      g_assert_error (error, KPR_ERROR, KPR_ERROR_AUTH);
      /* certkeeper-ca says its password is a one-time word. */
      g_assert_cmpint (kpr_est_client_get_refusal (client), ==, KPR_EST_REFUSAL_SECRET_WORD);
      g_test_message ("wrong word %d: %s", i + 1, error->message);
      g_clear_error (&error);
    }
  /* Backed off: not even looked at, with a wait that says so. */
  creds.secret = right;
  g_assert_null (kpr_est_client_enroll (client, req, key, FALSE, &creds, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "Too many wrong"));
  wait = kpr_est_client_get_retry_after (client);
  g_assert_cmpuint (wait, >=, 1);
  g_assert_cmpuint (wait, <=, 60);
  g_test_message ("right word during the back-off: %s (wait %u s)", error->message, wait);
  g_clear_error (&error);
  /* The owner is not locked out: after the wait the right word works. */
  g_usleep ((wait + 1) * G_USEC_PER_SEC);
  cert = kpr_est_client_enroll (client, req, key, FALSE, &creds, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  ca_stop (&ca);
}

static void
test_serverkeygen (void)
{
  Ca ca = { 0 };
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509_NAME) alice = cn ("alice");
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (KprSecret) word = NULL;
  g_autoptr (EVP_PKEY) got_key = NULL;
  g_autoptr (X509) got = NULL;
  g_autoptr (GError) error = NULL;
  KprEstCredentials creds = { "alice", NULL };

  if (!ca_bin ())
    {
      g_test_skip ("certkeeper-ca is not built");
      return;
    }
  ca_start (&ca, FALSE, NULL);
  client = trusted_client (&ca);
  word = challenge (client, &ca, "alice");
  creds.secret = word;
  req = kpr_est_csr_new (key, alice, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kpr_est_client_serverkeygen (client, req, &creds, &got_key, &got, &error));
  g_assert_no_error (error);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (got), got_key), ==, 1);
  g_assert_cmpint (EVP_PKEY_eq (got_key, key), !=, 1);
  ca_stop (&ca);
}

static void
test_pending (void)
{
  Ca ca = { 0 };
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509_NAME) erin = cn ("erin");
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (KprSecret) word = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRegex) re = g_regex_new ("Request ([0-9]+) waits", 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  g_autofree char *id = NULL, *out = NULL;
  KprEstCredentials creds = { "erin", NULL };

  if (!ca_bin ())
    {
      g_test_skip ("certkeeper-ca is not built");
      return;
    }
  ca_start (&ca, TRUE, NULL);
  client = trusted_client (&ca);
  word = challenge (client, &ca, "erin");
  creds.secret = word;
  cert = kpr_est_client_enroll_linked (client, key, erin, NULL, FALSE, &creds, &req, &error);
  g_assert_null (cert);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PENDING);
  g_assert_cmpuint (kpr_est_client_get_retry_after (client), >=, KPR_EST_RETRY_MIN);
  g_assert_cmpuint (kpr_est_client_get_retry_after (client), <=, KPR_EST_RETRY_MAX);
  g_assert_nonnull (req);
  g_assert_true (g_regex_match (re, error->message, 0, &m));
  id = g_match_info_fetch (m, 1);
  g_clear_error (&error);
  {
    const char *approve[] = { "approve", ca.ca_dir, id, NULL };
    out = run_ca (approve);
  }
  /* The same request again, now approved. */
  cert = kpr_est_client_enroll (client, req, key, FALSE, &creds, &error);
  g_assert_no_error (error);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (cert), key), ==, 1);
  ca_stop (&ca);
}

/* ca.conf [est]: CSR attributes published, tls-unique required and
 * verified (RFC 7030 §3.5); a request without it spends nothing. */
static void
test_binding (void)
{
  Ca ca = { 0 };
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509_NAME) alice = cn ("alice");
  g_autoptr (X509_REQ) plain = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprSecret) word = NULL;
  g_autoptr (KprEstCsrAttrs) attrs = NULL;
  g_autoptr (GError) error = NULL;
  KprEstCredentials creds = { "alice", NULL };

  if (!ca_bin ())
    {
      g_test_skip ("certkeeper-ca is not built");
      return;
    }
  ca_start (&ca, FALSE, "csrattrs=extendedKeyUsage\nrequire-binding=true");
  client = trusted_client (&ca);
  attrs = kpr_est_client_csrattrs (client, &error);
  g_assert_no_error (error);
  g_assert_true (attrs->challenge_password);
  g_assert_true (kpr_est_csrattrs_has (attrs, "2.5.29.37"));

  word = challenge (client, &ca, "alice");
  creds.secret = word;
  /* Not bound: refused before the word is looked at. */
  plain = kpr_est_csr_new (key, alice, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (kpr_est_client_enroll (client, plain, key, FALSE, &creds, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "tls-unique"));
  g_clear_error (&error);
  g_clear_pointer (&plain, X509_REQ_free);

  /* Bound (TLS 1.3 first, then TLS 1.2): issued, with the same word. */
  cert = kpr_est_client_enroll_linked (client, key, alice, NULL, FALSE, &creds, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  g_assert_cmpstr (kpr_est_client_get_tls_version (client), ==, "TLSv1.2");

  /* Bound to another connection (the client now speaks TLS 1.2): a
   * mismatch, told before the (spent) word is looked at. */
  plain = kpr_est_csr_new (key, alice, NULL, "AAAAAAAAAAAAAAAA", &error);
  g_assert_no_error (error);
  g_assert_null (kpr_est_client_enroll (client, plain, key, FALSE, &creds, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "mismatch"));
  ca_stop (&ca);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/est-client-ca/lifecycle", test_lifecycle);
  g_test_add_func ("/est-client-ca/backoff", test_backoff);
  g_test_add_func ("/est-client-ca/serverkeygen", test_serverkeygen);
  g_test_add_func ("/est-client-ca/pending", test_pending);
  g_test_add_func ("/est-client-ca/binding", test_binding);
  return g_test_run ();
}
