/* kpr-secret.h — the one type that holds a PIN, a secret word or a
 * passphrase.
 *
 * A KprSecret lives in locked memory where the system allows it, is always
 * NUL-terminated for the libraries that want C strings, and is erased
 * (OPENSSL_cleanse) before it is freed.  Secrets come from a file that only
 * its owner can read, from a file descriptor, or from a prompt — never from
 * argv or the environment, so there is no constructor taking either.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest secret accepted, in bytes.  PKCS#11 PINs stop far below this. */
#define KPR_SECRET_MAX 1024

typedef struct {
  char *data;      /* NUL-terminated, never logged */
  gsize len;
  gboolean locked; /* mlock() succeeded */
} KprSecret;

/* Copy @len bytes of @data into a new secret.  The caller erases its copy. */
KprSecret *kpr_secret_new (const char *data, gsize len);

/* Read the first line of @fd (without its line ending), one byte at a time
 * so that what follows the line stays unread for the next prompt.
 * An empty stream is KPR_ERROR_BAD_INPUT. */
KprSecret *kpr_secret_read_fd (int fd, GError **error);

/* Read the first line of @path; "-" reads standard input.  A regular file
 * must not be readable or writable by group or others
 * (KPR_ERROR_INSECURE_FILE otherwise); pipes and /dev/fd/N are accepted so
 * that a secret can come from a file descriptor. */
KprSecret *kpr_secret_read_file (const char *path, GError **error);

/* Constant-time comparison (for "type it again" confirmations). */
gboolean kpr_secret_equal (const KprSecret *a, const KprSecret *b);

void kpr_secret_free (KprSecret *secret);

/* Erase and free a plain buffer that held a secret. */
void kpr_memory_erase (void *data, gsize len);

/* free() and realloc() that erase the block they let go of, for libraries
 * that take an allocator and keep credentials in their heap: libcurl
 * (its Basic header, Digest response, password copy) and libevent (the
 * server's request headers and buffers).  Blocks come from malloc(). */
void kpr_erasing_free (void *block);
void *kpr_erasing_realloc (void *block, size_t size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprSecret, kpr_secret_free)

G_END_DECLS
