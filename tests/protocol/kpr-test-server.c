/* kpr-test-server.c — see kpr-test-server.h. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kpr-test-server.h"

/* The server dies with the test, even when an assertion aborts it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

void
kpr_test_fx_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->dir = g_dir_make_tmp ("kpr-est-XXXXXX", &error);
  g_assert_no_error (error);
  fx->ca_key = kpr_test_key_ec ();
  fx->ca2_key = kpr_test_key_ec ();
  fx->srv_key = kpr_test_key_ec ();
  fx->key = kpr_test_key_ec ();
  fx->ca = kpr_test_cert (fx->ca_key, "Test EST CA", NULL, NULL, TRUE, NULL, NULL, -3600, 86400);
  fx->ca2 = kpr_test_cert (fx->ca2_key, "Other CA", NULL, NULL, TRUE, NULL, NULL, -3600, 86400);
  fx->anchors = kpr_test_stack (fx->ca, NULL);
  /* Not a real secret: it only has to travel as a Basic password. */
  fx->secret = kpr_secret_new ("word-1234", 9);
  fx->creds.username = "alice";
  fx->creds.secret = fx->secret;
}

static void
rm_rf (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

static void
stop_server (Fixture *fx)
{
  if (fx->server)
    {
      g_subprocess_force_exit (fx->server);
      g_subprocess_wait (fx->server, NULL, NULL);
      g_clear_object (&fx->server);
    }
  g_clear_object (&fx->server_out);
}

void
kpr_test_fx_teardown (Fixture *fx, gconstpointer data)
{
  stop_server (fx);
  rm_rf (fx->dir);
  g_free (fx->dir);
  g_free (fx->url);
  EVP_PKEY_free (fx->ca_key);
  EVP_PKEY_free (fx->ca2_key);
  EVP_PKEY_free (fx->srv_key);
  EVP_PKEY_free (fx->key);
  X509_free (fx->ca);
  X509_free (fx->ca2);
  kpr_x509_stack_free (fx->anchors);
  kpr_secret_free (fx->secret);
}

static char *
fx_path (Fixture *fx, const char *name)
{
  return g_build_filename (fx->dir, name, NULL);
}

/* Starts the scripted server; FALSE (test skipped) without python3. */
gboolean
kpr_test_start_server (Fixture *fx, ServerCert kind, gboolean require_client_cert, const char *tls)
{
  const char *python = g_getenv ("KPR_PYTHON3");
  const char *script = g_getenv ("KPR_EST_HOSTILE_SERVER");
  g_autofree char *cert_path = fx_path (fx, "server.pem");
  g_autofree char *key_path = fx_path (fx, "server.key");
  g_autofree char *ca_path = fx_path (fx, "ca.pem");
  g_autofree char *ca_key_path = fx_path (fx, "ca.key");
  g_autoptr (X509) srv = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  if (!python || !script || !g_file_test (python, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("python3 is needed for the scripted EST server");
      return FALSE;
    }
  switch (kind)
    {
    case SRV_GOOD:
      srv = kpr_test_cert (fx->srv_key, "est.test", fx->ca, fx->ca_key, FALSE, "est.test",
                           "127.0.0.1", -3600, 86400);
      break;
    case SRV_WRONG_NAME:
      srv = kpr_test_cert (fx->srv_key, "wrong.example", fx->ca, fx->ca_key, FALSE,
                           "wrong.example", NULL, -3600, 86400);
      break;
    case SRV_OTHER_CA:
      srv = kpr_test_cert (fx->srv_key, "est.test", fx->ca2, fx->ca2_key, FALSE, "est.test",
                           "127.0.0.1", -3600, 86400);
      break;
    }
  g_assert_true (kpr_test_write_pem_cert (cert_path, srv));
  g_assert_true (kpr_test_write_pem_key (key_path, fx->srv_key));
  g_assert_true (kpr_test_write_pem_cert (ca_path, fx->ca));
  /* For a server that issues for real (tests/interop/est-responder.py). */
  g_assert_true (kpr_test_write_pem_key (ca_key_path, fx->ca_key));

  g_ptr_array_add (argv, (char *) python);
  g_ptr_array_add (argv, (char *) script);
  g_ptr_array_add (argv, "--dir");
  g_ptr_array_add (argv, fx->dir);
  g_ptr_array_add (argv, "--cert");
  g_ptr_array_add (argv, cert_path);
  g_ptr_array_add (argv, "--key");
  g_ptr_array_add (argv, key_path);
  g_ptr_array_add (argv, "--tls");
  g_ptr_array_add (argv, (char *) tls);
  if (require_client_cert)
    {
      g_ptr_array_add (argv, "--client-ca");
      g_ptr_array_add (argv, ca_path);
    }
  g_ptr_array_add (argv, NULL);
  {
    g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);

    g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
    fx->server = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                               &error);
  }
  g_assert_no_error (error);
  fx->server_out = g_object_ref (g_subprocess_get_stdout_pipe (fx->server));
  lines = g_data_input_stream_new (fx->server_out);
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "PORT "));
  fx->port = atoi (line + 5);
  g_assert_cmpint (fx->port, >, 0);
  fx->url = g_strdup_printf ("https://127.0.0.1:%d", fx->port);
  return TRUE;
}

void
kpr_test_write_resp (Fixture *fx, const char *op, const char *head, const void *body, gsize len)
{
  g_autofree char *path = g_strdup_printf ("%s/%s.resp", fx->dir, op);
  g_autoptr (GString) s = g_string_new (head);
  g_autoptr (GError) error = NULL;

  g_string_append (s, "\n\n");
  g_string_append_len (s, body, (gssize) len);
  g_assert_true (g_file_set_contents (path, s->str, (gssize) s->len, &error));
}

/* A certs-only answer, base64, holding @cert. */
void
kpr_test_write_cert_resp (Fixture *fx, const char *op, const char *head, X509 *cert)
{
  g_autoptr (KprX509Stack) certs = kpr_test_stack (cert, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) der = kpr_est_certs_only_build (certs, &error);
  g_autofree char *b64 = NULL;

  g_assert_no_error (error);
  b64 = kpr_est_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  kpr_test_write_resp (fx, op, head, b64, strlen (b64));
}

char *
kpr_test_read_log (Fixture *fx)
{
  g_autofree char *path = fx_path (fx, "log");
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

guint
kpr_test_count_lines (const char *text)
{
  guint n = 0;

  for (; *text; text++)
    n += *text == '\n';
  return n;
}

KprEstClient *
kpr_test_new_client (Fixture *fx, gboolean with_anchors)
{
  g_autoptr (GError) error = NULL;
  KprEstClient *client = kpr_est_client_new (fx->url, NULL, &error);

  g_assert_no_error (error);
  kpr_est_client_set_timeouts (client, 5, 10);
  if (with_anchors)
    {
      kpr_est_client_set_trust_anchors (client, fx->anchors, &error);
      g_assert_no_error (error);
    }
  return client;
}

X509_REQ *
kpr_test_new_csr (Fixture *fx)
{
  g_autoptr (X509_NAME) name = kpr_test_name ("alice");
  g_autoptr (GError) error = NULL;
  X509_REQ *req;

  req = kpr_est_csr_new (fx->key, name, NULL, NULL, &error);
  g_assert_no_error (error);
  return req;
}

