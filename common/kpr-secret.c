/* kpr-secret.c — erasing secret buffers and the file/fd readers. */
#include "config.h"

#include "kpr-secret.h"
#include "kpr-error.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

void
kpr_memory_erase (void *data, gsize len)
{
  if (data && len)
    OPENSSL_cleanse (data, len);
}

void
kpr_erasing_free (void *block)
{
  if (!block)
    return;
  OPENSSL_cleanse (block, malloc_usable_size (block));
  free (block);
}

/* realloc() itself would free the old block unerased. */
void *
kpr_erasing_realloc (void *block, size_t size)
{
  size_t old;
  void *moved;

  if (!block)
    return malloc (size);
  if (size == 0)
    {
      kpr_erasing_free (block);
      return NULL;
    }
  old = malloc_usable_size (block);
  if (size <= old)
    return block;
  if (!(moved = malloc (size)))
    return NULL;
  memcpy (moved, block, old);
  kpr_erasing_free (block);
  return moved;
}

/* Every secret owns a buffer of KPR_SECRET_MAX + 1 bytes so that reading a
 * line never reallocates (a realloc would leave an unerased copy behind). */
static KprSecret *
secret_alloc (void)
{
  KprSecret *secret = g_new0 (KprSecret, 1);

  secret->data = g_malloc0 (KPR_SECRET_MAX + 1);
  /* mlock may fail under RLIMIT_MEMLOCK; the secret is still erased on
   * free, so carry on and remember not to munlock. */
  secret->locked = mlock (secret->data, KPR_SECRET_MAX + 1) == 0;
  return secret;
}

void
kpr_secret_free (KprSecret *secret)
{
  if (!secret)
    return;
  kpr_memory_erase (secret->data, KPR_SECRET_MAX + 1);
  if (secret->locked)
    munlock (secret->data, KPR_SECRET_MAX + 1);
  g_free (secret->data);
  g_free (secret);
}

KprSecret *
kpr_secret_new (const char *data, gsize len)
{
  KprSecret *secret;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (len <= KPR_SECRET_MAX, NULL);

  secret = secret_alloc ();
  if (len > 0)
    memcpy (secret->data, data, len);
  secret->len = len;
  return secret;
}

gboolean
kpr_secret_equal (const KprSecret *a, const KprSecret *b)
{
  if (!a || !b || a->len != b->len)
    return FALSE;
  return CRYPTO_memcmp (a->data, b->data, a->len) == 0;
}

KprSecret *
kpr_secret_read_fd (int fd, GError **error)
{
  g_autoptr (KprSecret) secret = secret_alloc ();
  gboolean got_any = FALSE;

  for (;;)
    {
      char c;
      ssize_t n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                       "Cannot read the secret: %s", g_strerror (saved));
          return NULL;
        }
      if (n == 0 || c == '\n')
        {
          got_any = got_any || n == 1;
          break;
        }
      got_any = TRUE;
      if (secret->len == KPR_SECRET_MAX)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "The secret is longer than %d bytes", KPR_SECRET_MAX);
          return NULL;
        }
      secret->data[secret->len++] = c;
      c = 0;
    }

  if (secret->len > 0 && secret->data[secret->len - 1] == '\r')
    secret->data[--secret->len] = '\0';
  if (!got_any || secret->len == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "No secret was given (the input was empty)");
      return NULL;
    }
  return g_steal_pointer (&secret);
}

KprSecret *
kpr_secret_read_file (const char *path, GError **error)
{
  struct stat st;
  KprSecret *secret;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_str_equal (path, "-"))
    return kpr_secret_read_fd (STDIN_FILENO, error);

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                   "Cannot open secret file %s: %s", path, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) < 0)
    {
      int saved = errno;
      close (fd);
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                   "Cannot inspect secret file %s: %s", path, g_strerror (saved));
      return NULL;
    }
  /* Checked on the open descriptor, not the path, so nothing can swap
   * the file between the check and the read. */
  if (S_ISREG (st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      close (fd);
      g_set_error (error, KPR_ERROR, KPR_ERROR_INSECURE_FILE,
                   "Secret file %s can be read by others (mode %04o); it must be 0600",
                   path, (unsigned) (st.st_mode & 07777));
      return NULL;
    }
  secret = kpr_secret_read_fd (fd, error);
  close (fd);
  return secret;
}
