/* test-erasure.c — no copy of the credentials stays in the process's
 * memory after an enrollment (issue 13, item 15).  libcurl builds the
 * Basic header (base64 of user:word) and the Digest response in its own
 * heap and frees them without erasing; the protocol layer gives libcurl an
 * allocator that erases every block it frees (kpr-http.c).  After an
 * enrollment with Basic credentials against the scripted server, the
 * test reads its own writable memory through /proc/self/mem (a read the
 * sanitizers do not see as touching freed blocks) and looks for the
 * base64 credentials.
 *
 * glibc's MALLOC_PERTURB_, which meson sets by default, would fill freed
 * blocks anyway and hide a missing erasure: meson.build runs this test
 * with MALLOC_PERTURB_=0. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kpr-test-server.h"

/* base64 ("alice:word-1234"), the fixture's credentials. */
#define NEEDLE "YWxpY2U6d29yZC0xMjM0"

/* Whether NEEDLE is in a writable anonymous mapping or the heap. */
static gboolean
memory_holds_needle (void)
{
  g_autofree char *maps = NULL;
  g_auto (GStrv) lines = NULL;
  const gsize chunk = 1 << 20, overlap = sizeof NEEDLE;
  g_autofree char *buf = g_malloc (chunk + overlap);
  gboolean found = FALSE;
  int fd = open ("/proc/self/mem", O_RDONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  lines = g_strsplit (maps, "\n", -1);
  for (char **l = lines; *l && !found; l++)
    {
      guint64 start, end;
      char perms[8] = "", path[512] = "";

      if (sscanf (*l, "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %7s %*s %*s %*s %511s",
                  &start, &end, perms, path) < 3)
        continue;
      /* Writable data only; skip sanitizer shadow and reserved ranges. */
      if (perms[0] != 'r' || perms[1] != 'w' || end - start > (G_GUINT64_CONSTANT (1) << 30)
          || (path[0] && !g_str_equal (path, "[heap]")))
        continue;
      for (guint64 at = start; at < end && !found; at += chunk)
        {
          gsize want = MIN (chunk + overlap, end - at);
          ssize_t n = pread (fd, buf, want, (off_t) at);

          /* The scan buffer itself holds what it just read: only a
           * match in memory that is not the buffer counts. */
          if (n > 0 && memmem (buf, (gsize) n, NEEDLE, strlen (NEEDLE))
              && !((guint64) (guintptr) buf >= at && (guint64) (guintptr) buf < at + want))
            found = TRUE;
        }
    }
  memset (buf, 0, chunk + overlap);
  close (fd);
  return found;
}

static void
test_basic_erased (Fixture *fx, gconstpointer data)
{
  g_autoptr (X509) issued = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;

  if (!kpr_test_start_server (fx, SRV_GOOD, FALSE, "any"))
    return;
  g_assert_false (memory_holds_needle ());
  issued = kpr_test_cert (fx->key, "alice", fx->ca, fx->ca_key, FALSE, NULL, NULL, -60, 3600);
  kpr_test_write_cert_resp (fx, "simpleenroll",
                            "200\nContent-Type: application/pkcs7-mime; smime-type=certs-only\n"
                            "X-Auth: basic", issued);
  {
    g_autoptr (KprEstClient) client = kpr_test_new_client (fx, TRUE);
    g_autoptr (X509_REQ) req = kpr_test_new_csr (fx);
    g_autoptr (X509) cert = kpr_est_client_enroll (client, req, fx->key, FALSE, &fx->creds,
                                                   &error);

    g_assert_no_error (error);
    g_assert_nonnull (cert);
  }
  /* The server saw the credentials: the search would find them. */
  log = kpr_test_read_log (fx);
  g_assert_nonnull (strstr (log, "auth=yes"));
  g_assert_false (memory_holds_needle ());
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/erasure/basic", Fixture, NULL, kpr_test_fx_setup, test_basic_erased,
              kpr_test_fx_teardown);
  return g_test_run ();
}
