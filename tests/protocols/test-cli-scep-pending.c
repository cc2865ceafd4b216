/* test-cli-scep-pending.c — `certkeeper enroll --protocol scep` against a
 * CA that holds the request for an administrator.  micromdm's scepserver
 * signs or refuses at once, so the CA here is the scripted one of
 * scep-fake.c (it says so), run in this process while the real
 * `certkeeper` command runs as a child: enroll ends PENDING (exit 22) with
 * the transaction ID shown and kept; `renew` polls with CertPoll (still
 * pending, no challenge sent again); after approval `renew` finishes it
 * and the identity is ACTIVE with the certificate for its key. */
#include "config.h"

#include "scep-fake.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define CHALLENGE "pw-4242"
#define PIN "Pin-Test-2468"

static char *home;

static char *
secret_file (const char *name, const char *value)
{
  char *path = pf_path (name);
  g_autofree char *line = g_strconcat (value, "\n", NULL);

  g_assert_true (g_file_set_contents_full (path, line, -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  return path;
}

/* Runs certkeeper with a private HOME; returns its exit status. */
static int
certkeeper (char **ret_out, char **ret_err, const char *first, ...)
{
  g_autoptr (GSubprocessLauncher) l =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  va_list ap;

  g_ptr_array_add (argv, g_build_filename (g_getenv ("KPR_BUILD_DIR"), "agent", "cli",
                                           "certkeeper", NULL));
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_stdin_file_path (l, "/dev/null");
  g_subprocess_launcher_setenv (l, "HOME", home, TRUE);
  g_subprocess_launcher_unsetenv (l, "XDG_DATA_HOME");
  g_subprocess_launcher_unsetenv (l, "XDG_CONFIG_HOME");
  g_subprocess_launcher_unsetenv (l, "XDG_STATE_HOME");
  g_subprocess_launcher_unsetenv (l, "SOFTHSM2_CONF");
  p = g_subprocess_launcher_spawnv (l, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_test_message ("certkeeper %s: exit %d\n%s%s", first, g_subprocess_get_exit_status (p), out,
                  err);
  if (ret_out)
    *ret_out = g_steal_pointer (&out);
  if (ret_err)
    *ret_err = g_steal_pointer (&err);
  return g_subprocess_get_exit_status (p);
}

static JsonObject *
show (const char *name)
{
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (certkeeper (&out, NULL, "show", name, "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
test_pending (void)
{
  g_autofree char *pin = secret_file ("pin", PIN), *so = secret_file ("so-pin", "So-Pin-1357");
  g_autofree char *challenge = secret_file ("challenge", CHALLENGE);
  g_autofree char *err = NULL, *url = NULL, *ca_path = NULL, *shown = NULL;
  g_autoptr (FakeScep) fake = fake_scep_new (FALSE);
  g_autoptr (Responder) r = NULL;
  g_autoptr (JsonObject) id = NULL;
  const char *tid;

  home = pf_path ("home");
  g_assert_cmpint (g_mkdir (home, 0700), ==, 0);
  g_assert_cmpint (certkeeper (NULL, NULL, "token", "init-software", "--pin-file", pin,
                               "--so-pin-file", so, NULL), ==, 0);
  fake->mode = FAKE_PENDING;
  r = responder_start (fake_scep_handle, fake);
  url = g_strconcat (responder_url (r), "/scep", NULL);
  ca_path = pf_write_cert (fake->ca, "fake-scep-ca.pem");

  /* enroll: PENDING, the transaction ID shown and kept */
  g_assert_cmpint (certkeeper (NULL, &err, "enroll", "p", "--protocol", "scep", "--server", url,
                               "--user", "alice", "--ca-file", ca_path, "--pin-file", pin,
                               "--secret-file", challenge, NULL), ==, KPR_ERROR_PENDING);
  id = show ("p");
  g_assert_cmpstr (json_object_get_string_member (id, "state"), ==, "PENDING");
  g_assert_cmpstr (json_object_get_string_member (id, "protocol"), ==, "scep");
  tid = json_object_get_string_member (id, "request_id");
  g_assert_nonnull (tid);
  g_assert_cmpstr (tid, ==, fake_scep_seen (fake, 0)->tid);
  shown = g_strdup_printf ("It is request %s at the server", tid);
  g_assert_nonnull (strstr (err, shown));
  g_assert_cmpint (fake_scep_seen (fake, 0)->type, ==, 19); /* PKCSReq */
  g_assert_cmpstr (fake_scep_seen (fake, 0)->challenge, ==, CHALLENGE);

  /* renew before approval: CertPoll, no challenge, still pending */
  g_assert_cmpint (certkeeper (NULL, NULL, "renew", "p", "--pin-file", pin, NULL), ==,
                   KPR_ERROR_PENDING);
  g_assert_cmpuint (fake_scep_count (fake), ==, 2);
  g_assert_cmpint (fake_scep_seen (fake, 1)->type, ==, 20); /* CertPoll */
  g_assert_null (fake_scep_seen (fake, 1)->challenge);
  g_clear_pointer (&id, json_object_unref);
  id = show ("p");
  g_assert_cmpstr (json_object_get_string_member (id, "state"), ==, "PENDING");

  /* approved: the next poll finishes it */
  fake->approved = TRUE;
  g_assert_cmpint (certkeeper (NULL, NULL, "renew", "p", "--pin-file", pin, NULL), ==, 0);
  g_assert_cmpint (fake_scep_seen (fake, 2)->type, ==, 20);
  g_clear_pointer (&id, json_object_unref);
  id = show ("p");
  g_assert_cmpstr (json_object_get_string_member (id, "state"), ==, "ACTIVE");
  g_assert_cmpstr (json_object_get_string_member (id, "subject"), ==, "CN=alice");
  g_assert_true (json_object_get_null_member (id, "request_id"));
  g_assert_true (json_object_has_member (id, "serial"));
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  pf_setup ();
  g_test_add_func ("/cli/scep/pending", test_pending);
  rc = g_test_run ();
  pf_teardown ();
  g_free (home);
  return rc;
}
