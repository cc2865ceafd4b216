/* test-secret.c — reading PINs and passphrases from files and descriptors.
 *
 * What a person relies on (DESIGN §7, §8): a --pin-file others can read is
 * refused, only its first line is the secret (a trailing CR from an editor
 * on another system is not part of it), empty and oversized input is
 * refused, and reading a line from stdin leaves the next line for the next
 * question.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kpr-error.h"
#include "kpr-secret.h"

typedef struct {
  char *dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("kpr-test-secret-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* Writes @len bytes to DIR/NAME with @mode (set with chmod, so the umask
 * cannot hide a test case) and returns the path. */
static char *
write_file (Fixture *f, const char *name, const char *data, gssize len, mode_t mode)
{
  char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
assert_secret (const KprSecret *secret, const char *expected)
{
  g_assert_nonnull (secret);
  g_assert_cmpuint (secret->len, ==, strlen (expected));
  g_assert_cmpmem (secret->data, secret->len, expected, strlen (expected));
  g_assert_cmpint (secret->data[secret->len], ==, '\0');
}

static void
test_file_insecure (Fixture *f, gconstpointer data)
{
  /* Readable or writable by group or others: refused before reading. */
  const mode_t modes[] = { 0640, 0604, 0620, 0602, 0644, 0666, 0660 };

  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autofree char *name = g_strdup_printf ("pin-%04o", (unsigned) modes[i]);
      g_autofree char *path = write_file (f, name, "1234\n", -1, modes[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (KprSecret) secret = kpr_secret_read_file (path, &error);

      g_test_message ("mode %04o", (unsigned) modes[i]);
      g_assert_error (error, KPR_ERROR, KPR_ERROR_INSECURE_FILE);
      g_assert_null (secret);
      /* The message names the file and the mode it must have. */
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, "0600"));
    }
}

static void
test_file_first_line (Fixture *f, gconstpointer data)
{
  g_autofree char *plain = write_file (f, "plain", "Pin-1234\nsecond line\n", -1, 0600);
  g_autofree char *crlf = write_file (f, "crlf", "Pin-1234\r\nsecond\r\n", -1, 0600);
  g_autofree char *no_newline = write_file (f, "nonl", "Pin-1234", -1, 0600);
  g_autofree char *owner_only = write_file (f, "ro", "Pin-1234\n", -1, 0400);
  g_autofree char *spaces = write_file (f, "spaces", " a b \n", -1, 0600);
  const char *paths[] = { plain, crlf, no_newline, owner_only };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (KprSecret) secret = kpr_secret_read_file (paths[i], &error);

      g_test_message ("%s", paths[i]);
      g_assert_no_error (error);
      assert_secret (secret, "Pin-1234");
    }

  /* Spaces are part of a passphrase: nothing but the line end is cut. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (KprSecret) secret = kpr_secret_read_file (spaces, &error);
    g_assert_no_error (error);
    assert_secret (secret, " a b ");
  }
}

static void
test_file_empty (Fixture *f, gconstpointer data)
{
  g_autofree char *empty = write_file (f, "empty", "", 0, 0600);
  g_autofree char *blank = write_file (f, "blank", "\n", -1, 0600);
  g_autofree char *cr = write_file (f, "cr", "\r\n", -1, 0600);
  const char *paths[] = { empty, blank, cr };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (KprSecret) secret = kpr_secret_read_file (paths[i], &error);

      g_test_message ("%s", paths[i]);
      g_assert_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT);
      g_assert_null (secret);
    }
}

static void
test_file_limits (Fixture *f, gconstpointer data)
{
  g_autofree char *longest = g_strnfill (KPR_SECRET_MAX, 'x');
  g_autofree char *too_long = g_strnfill (KPR_SECRET_MAX + 1, 'y');
  g_autofree char *longest_line = g_strconcat (longest, "\n", NULL);
  g_autofree char *too_long_line = g_strconcat (too_long, "\n", NULL);
  g_autofree char *ok_path = write_file (f, "max", longest_line, -1, 0600);
  g_autofree char *bad_path = write_file (f, "over", too_long_line, -1, 0600);
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) ok = kpr_secret_read_file (ok_path, &error);
  g_autoptr (KprSecret) bad = NULL;

  g_assert_no_error (error);
  assert_secret (ok, longest);

  bad = kpr_secret_read_file (bad_path, &error);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT);
  g_assert_null (bad);
}

static void
test_file_missing (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "does-not-exist", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) secret = kpr_secret_read_file (path, &error);

  g_assert_error (error, KPR_ERROR, KPR_ERROR_IO);
  g_assert_null (secret);
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_file_directory (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) secret = NULL;

  g_assert_cmpint (g_chmod (f->dir, 0700), ==, 0);
  secret = kpr_secret_read_file (f->dir, &error);
  g_assert_nonnull (error);
  g_assert_true (error->domain == KPR_ERROR);
  g_assert_null (secret);
}

static int
pipe_with (const char *text)
{
  int fds[2];

  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_cmpint (write (fds[1], text, strlen (text)), ==, (gssize) strlen (text));
  close (fds[1]);
  return fds[0];
}

static void
test_fd_lines (void)
{
  int fd = pipe_with ("one\ntwo\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) first = kpr_secret_read_fd (fd, &error);
  g_autoptr (KprSecret) second = NULL;
  g_autoptr (KprSecret) third = NULL;

  g_assert_no_error (error);
  assert_secret (first, "one");

  /* The first read took one line only: the second line is still there. */
  second = kpr_secret_read_fd (fd, &error);
  g_assert_no_error (error);
  assert_secret (second, "two");

  third = kpr_secret_read_fd (fd, &error);
  g_assert_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT);
  g_assert_null (third);
  close (fd);
}

static void
test_fd_bad (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) secret = kpr_secret_read_fd (-1, &error);

  g_assert_error (error, KPR_ERROR, KPR_ERROR_IO);
  g_assert_null (secret);
}

static void
test_stdin_dash (void)
{
  int saved = dup (STDIN_FILENO);
  int fd = pipe_with ("from-stdin\nnext\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (KprSecret) a = NULL;
  g_autoptr (KprSecret) b = NULL;

  g_assert_cmpint (saved, >=, 0);
  g_assert_cmpint (dup2 (fd, STDIN_FILENO), ==, STDIN_FILENO);
  close (fd);

  /* "-" is stdin, twice: a PIN and an SO PIN from one pipe. */
  a = kpr_secret_read_file ("-", &error);
  g_assert_no_error (error);
  b = kpr_secret_read_file ("-", &error);
  g_assert_no_error (error);

  g_assert_cmpint (dup2 (saved, STDIN_FILENO), ==, STDIN_FILENO);
  close (saved);

  assert_secret (a, "from-stdin");
  assert_secret (b, "next");
}

static void
test_equal (void)
{
  g_autoptr (KprSecret) a = kpr_secret_new ("Pin-1234", 8);
  g_autoptr (KprSecret) same = kpr_secret_new ("Pin-1234", 8);
  g_autoptr (KprSecret) other = kpr_secret_new ("Pin-1235", 8);
  g_autoptr (KprSecret) prefix = kpr_secret_new ("Pin-123", 7);

  assert_secret (a, "Pin-1234");
  g_assert_true (kpr_secret_equal (a, same));
  g_assert_true (kpr_secret_equal (a, a));
  g_assert_false (kpr_secret_equal (a, other));
  g_assert_false (kpr_secret_equal (a, prefix));
  g_assert_false (kpr_secret_equal (prefix, a));
  g_assert_false (kpr_secret_equal (a, NULL));
  g_assert_false (kpr_secret_equal (NULL, a));
  g_assert_false (kpr_secret_equal (NULL, NULL));
}

/* kpr_secret_new() documents (data NULL, len 0) as valid: an empty secret.
 * (Under UBSan this catches memcpy from NULL in kpr_secret_new.) */
static void
test_new_empty (void)
{
  g_autoptr (KprSecret) a = kpr_secret_new ("x", 1);
  g_autoptr (KprSecret) empty = kpr_secret_new (NULL, 0);
  g_autoptr (KprSecret) empty_too = kpr_secret_new ("", 0);

  g_assert_nonnull (empty);
  g_assert_cmpuint (empty->len, ==, 0);
  g_assert_cmpint (empty->data[0], ==, '\0');
  g_assert_true (kpr_secret_equal (empty, empty_too));
  g_assert_false (kpr_secret_equal (a, empty));
}

static void
test_free_null (void)
{
  kpr_secret_free (NULL);
  kpr_memory_erase (NULL, 10);

  {
    char buffer[8] = "secret!";
    kpr_memory_erase (buffer, sizeof buffer);
    for (gsize i = 0; i < sizeof buffer; i++)
      g_assert_cmpint (buffer[i], ==, 0);
  }
  {
    g_autoptr (KprSecret) s = NULL; /* autoptr cleanup of NULL is fine too */
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/secret/file/insecure-mode", Fixture, NULL, setup, test_file_insecure, teardown);
  g_test_add ("/secret/file/first-line", Fixture, NULL, setup, test_file_first_line, teardown);
  g_test_add ("/secret/file/empty", Fixture, NULL, setup, test_file_empty, teardown);
  g_test_add ("/secret/file/limits", Fixture, NULL, setup, test_file_limits, teardown);
  g_test_add ("/secret/file/missing", Fixture, NULL, setup, test_file_missing, teardown);
  g_test_add ("/secret/file/directory", Fixture, NULL, setup, test_file_directory, teardown);
  g_test_add_func ("/secret/fd/line-by-line", test_fd_lines);
  g_test_add_func ("/secret/fd/bad-descriptor", test_fd_bad);
  g_test_add_func ("/secret/file/dash-is-stdin", test_stdin_dash);
  g_test_add_func ("/secret/equal", test_equal);
  g_test_add_func ("/secret/new-empty", test_new_empty);
  g_test_add_func ("/secret/free-null", test_free_null);
  return g_test_run ();
}
