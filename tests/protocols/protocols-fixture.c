/* protocols-fixture.c — see protocols-fixture.h */
#include "config.h"

#include "protocols-fixture.h"

#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "kpr-token.h"

static KprTokenCtx *token_ctx;
static KprToken *tokens[PF_CARD + 1];
static guint path_counter;

void
pf_setup (void)
{
  fixture_global_setup ();
  /* Loopback only: a CI proxy setting must not capture our requests. */
  g_setenv ("no_proxy", "127.0.0.1,localhost", TRUE);
  g_setenv ("NO_PROXY", "127.0.0.1,localhost", TRUE);
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
}

void
pf_teardown (void)
{
  /* Token-backed EVP_PKEYs are gone by now (each test frees its own);
   * the context goes last. */
  g_clear_pointer (&token_ctx, kpr_token_ctx_free);
  fixture_global_teardown ();
}

char *
pf_path (const char *name)
{
  return g_strdup_printf ("%s/%s-%u", fixture_dir (), name, ++path_counter);
}

gboolean
pf_require (const char *program)
{
  if (fixture_have (program))
    return TRUE;
  g_test_skip_printf ("%s is not installed (tools/deps.sh installs it)", program);
  return FALSE;
}

const char *
pf_store_name (PfStore store)
{
  return store == PF_SOFTWARE ? "software" : store == PF_SOFT_TOKEN ? "soft-token" : "card";
}

EVP_PKEY *
pf_key (PfStore store, gboolean rsa, gboolean decrypt)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) id = NULL;
  EVP_PKEY *key;

  if (store == PF_SOFTWARE)
    return rsa ? kpr_test_key_rsa () : kpr_test_key_ec ();
  if (!token_ctx)
    token_ctx = fixture_ctx ();
  if (!tokens[store])
    tokens[store] = fixture_login (token_ctx, store == PF_CARD ? TEST_CARD_LABEL
                                                               : KPR_SOFTWARE_TOKEN_LABEL);
  id = kpr_token_new_id ();
  g_assert_true (kpr_token_generate_key_for (
    tokens[store], rsa ? KPR_KEY_RSA_2048 : KPR_KEY_EC_P256, KPR_PROTECTION_STANDARD,
    decrypt ? KPR_KEY_USAGE_SIGN_DECRYPT : KPR_KEY_USAGE_SIGN, "protocols", id, &error));
  g_assert_no_error (error);
  key = kpr_token_get_private_key (tokens[store], id, &error);
  g_assert_no_error (error);
  return key;
}

X509_NAME *
pf_name (const char *cn)
{
  X509_NAME *name = X509_NAME_new ();

  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  return name;
}

X509 *
pf_cert (EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, gboolean ca,
         const char *ku)
{
  X509 *cert = X509_new ();
  g_autoptr (X509_NAME) name = pf_name (cn);

  g_assert_true (X509_set_version (cert, X509_VERSION_3));
  ASN1_INTEGER_set_int64 (X509_get_serialNumber (cert), g_random_int_range (1000, G_MAXINT));
  X509_set_subject_name (cert, name);
  X509_set_issuer_name (cert, issuer ? X509_get_subject_name (issuer) : name);
  X509_gmtime_adj (X509_getm_notBefore (cert), -600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 30 * 24 * 3600);
  X509_set_pubkey (cert, key);
  kpr_test_add_ext (cert, issuer ? issuer : cert, NID_basic_constraints,
           ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  kpr_test_add_ext (cert, issuer ? issuer : cert, NID_subject_key_identifier, "hash");
  if (issuer)
    kpr_test_add_ext (cert, issuer, NID_authority_key_identifier, "keyid:always");
  if (ku)
    kpr_test_add_ext (cert, issuer ? issuer : cert, NID_key_usage, ku);
  g_assert_cmpint (X509_sign (cert, issuer_key ? issuer_key : key, EVP_sha256 ()), >, 0);
  return cert;
}

char *
pf_write_cert (X509 *cert, const char *name)
{
  char *path = pf_path (name);

  g_assert_true (kpr_test_write_pem_cert (path, cert));
  return path;
}

char *
pf_write_key (EVP_PKEY *key, const char *name)
{
  char *path = pf_path (name);

  g_assert_true (kpr_test_write_pem_key (path, key));
  return path;
}

X509 *
pf_read_cert (const char *path)
{
  BIO *bio = BIO_new_file (path, "r");
  X509 *cert = bio ? PEM_read_bio_X509 (bio, NULL, NULL, NULL) : NULL;

  BIO_free (bio);
  g_assert_nonnull (cert);
  return cert;
}

EVP_PKEY *
pf_pubkey_of (X509 *cert)
{
  return X509_get_pubkey (cert);
}

void
pf_assert_openssl_verifies (X509 *cert, const char *ca_path)
{
  g_autofree char *path = pf_write_cert (cert, "verify.pem");
  g_autofree char *out = NULL;

  if (fixture_run (&out, "openssl", "verify", "-partial_chain", "-CAfile", ca_path, path, NULL)
      != 0)
    g_error ("openssl verify refused what certkeeper accepted: %s", out);
}

static int
free_port (void)
{
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (sock, addr, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
port_open (int port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;

  g_socket_client_set_timeout (client, 1);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return conn != NULL;
}

/* In the child: die with the test.  A failed assertion aborts the test
 * before any cleanup runs, and a peer must not outlive it. */
static void
die_with_parent (gpointer parent_pid)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != GPOINTER_TO_INT (parent_pid))
    _exit (1);
}

static PfPeer *
spawn (const char *log, char **env_extra, const char *const *argv, GError **error)
{
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  PfPeer *peer;
  GSubprocess *proc;

  g_subprocess_launcher_set_child_setup (l, die_with_parent, GINT_TO_POINTER (getpid ()), NULL);
  g_subprocess_launcher_set_stdout_file_path (l, log);
  for (char **e = env_extra; e && *e; e += 2)
    g_subprocess_launcher_setenv (l, e[0], e[1], TRUE);
  proc = g_subprocess_launcher_spawnv (l, argv, error);
  if (!proc)
    return NULL;
  peer = g_new0 (PfPeer, 1);
  peer->proc = proc;
  peer->log = g_strdup (log);
  return peer;
}

char *
pf_peer_log (PfPeer *peer)
{
  char *text = NULL;

  g_file_get_contents (peer->log, &text, NULL, NULL);
  return text ? text : g_strdup ("");
}

void
pf_peer_stop (PfPeer *peer)
{
  if (!peer)
    return;
  if (peer->proc)
    {
      g_subprocess_force_exit (peer->proc);
      g_subprocess_wait (peer->proc, NULL, NULL);
      g_object_unref (peer->proc);
    }
  g_free (peer->log);
  g_free (peer->url);
  g_free (peer->dir);
  g_free (peer);
}

PfPeer *
pf_scep_start (const char *challenge)
{
  g_autofree char *depot = pf_path ("scep-depot");
  g_autofree char *log = pf_path ("scepserver.log");
  g_autofree char *out = NULL;

  /* A CA of its own for every server: tests cannot see each other's
   * certificates.  2048-bit keeps the start fast. */
  if (fixture_run (&out, "scepserver", "ca", "-init", "-depot", depot, "-keySize", "2048",
                   "-organization", "certkeeper test", "-years", "1", NULL) != 0)
    g_error ("scepserver ca -init failed: %s", out);
  for (int attempt = 0; attempt < 5; attempt++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *port_s = g_strdup_printf ("%d", free_port ());
      /* scepserver has no listen-address option: it binds ":PORT" (every
       * interface).  The port is random and the server lives only for
       * this test; the client speaks to it on 127.0.0.1. */
      const char *argv[] = { "scepserver", "-depot", depot, "-port", port_s, "-allowrenew", "0",
                             "-debug", NULL };
      /* The challenge goes by environment, as scepserver allows: argv is
       * readable by every user of the machine. */
      char *env[] = { "SCEP_CHALLENGE_PASSWORD", (char *) (challenge ? challenge : ""), NULL };
      PfPeer *peer = spawn (log, env, argv, &error);

      g_assert_no_error (error);
      peer->port = atoi (port_s);
      peer->dir = g_strdup (depot);
      for (int i = 0; i < 100; i++)
        {
          if (port_open (peer->port))
            {
              peer->url = g_strdup_printf ("http://127.0.0.1:%d/scep", peer->port);
              return peer;
            }
          if (!g_subprocess_get_identifier (peer->proc)) /* exited */
            break;
          g_usleep (50 * 1000);
        }
      pf_peer_stop (peer); /* the port was taken meanwhile: try another */
    }
  g_error ("scepserver did not start");
  return NULL;
}

PfPeer *
pf_cmp_start (const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *log = pf_path ("cmp-mock.log");
  PfPeer *peer;
  va_list ap;

  g_ptr_array_add (argv, "openssl");
  g_ptr_array_add (argv, "cmp");
  /* Port 0: the mock picks a free one and prints "ACCEPT [::]:PORT"; it
   * binds every interface (no address option in OpenSSL 3.0) and lives
   * only for this test. */
  g_ptr_array_add (argv, "-port");
  g_ptr_array_add (argv, "0");
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  peer = spawn (log, NULL, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 200 && !peer->port; i++)
    {
      g_autofree char *text = pf_peer_log (peer);
      const char *at = strstr (text, "ACCEPT ");
      const char *colon = at ? strstr (at, "]:") : NULL;

      if (colon)
        peer->port = atoi (colon + 2);
      else if (!g_subprocess_get_identifier (peer->proc)) /* exited */
        g_error ("openssl cmp did not start: %s", text);
      else
        g_usleep (25 * 1000);
    }
  g_assert_cmpint (peer->port, >, 0);
  peer->url = g_strdup_printf ("http://127.0.0.1:%d/pkix/", peer->port);
  return peer;
}
