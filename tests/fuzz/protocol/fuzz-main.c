/* fuzz-main.c — a main for the fuzz targets when they are built without
 * libFuzzer (gcc): feeds each file named on the command line (directories
 * are walked, one level) or, with no argument, standard input through
 * LLVMFuzzerTestOneInput.  This is how the `fuzz` suite replays the
 * corpus and the regression inputs. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
run_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  g_free (data);
  return 0;
}

int
main (int argc, char **argv)
{
  int i, failed = 0, n = 0;

  if (argc < 2)
    {
      GByteArray *in = g_byte_array_new ();
      guint8 buf[4096];
      size_t got;

      while ((got = fread (buf, 1, sizeof buf, stdin)) > 0)
        g_byte_array_append (in, buf, (guint) got);
      LLVMFuzzerTestOneInput (in->data, in->len);
      g_byte_array_unref (in);
      return 0;
    }
  for (i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          GDir *dir = g_dir_open (argv[i], 0, NULL);
          const char *name;

          while (dir && (name = g_dir_read_name (dir)))
            {
              g_autofree char *path = g_build_filename (argv[i], name, NULL);

              failed |= run_file (path);
              n++;
            }
          if (dir)
            g_dir_close (dir);
        }
      else
        {
          failed |= run_file (argv[i]);
          n++;
        }
    }
  printf ("%d inputs replayed\n", n);
  return failed || n == 0;
}
