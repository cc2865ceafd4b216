/* kpr-store.c — where identities live (DESIGN §6).
 *
 *   $XDG_STATE_HOME/certkeeper/           0700, locked with flock()
 *     identities/NAME.ini                 the record, atomic + durable, 0600
 *     identities/NAME.log                 audit lines, never a secret
 *     list-cache                          what `list` shows (kpr-store-cache.c)
 *     trust/NAME.pem                      the identity's explicit trust anchors
 *     archive/NAME-YYYYmmddTHHMMSS.*      deleted identities
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/pem.h>

#include "kpr-agent-private.h"

struct _KprStore {
  char *dir;
  int lock_fd;
  int ids_fd; /* identities/, for reading records without a path walk each */
  KprStoreCache *cache; /* brief loads */
};

static gboolean
make_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot create %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

KprStore *
kpr_store_open (GError **error)
{
  g_autoptr (KprStore) store = g_new0 (KprStore, 1);
  g_autofree char *lock = NULL, *ids = NULL, *trust = NULL;

  store->lock_fd = store->ids_fd = -1;
  store->dir = g_build_filename (g_get_user_state_dir (), "certkeeper", NULL);
  ids = g_build_filename (store->dir, "identities", NULL);
  trust = g_build_filename (store->dir, "trust", NULL);
  if (!make_dir (ids, error) || !make_dir (trust, error))
    return NULL;

  lock = g_build_filename (store->dir, ".lock", NULL);
  store->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (store->lock_fd < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot open %s: %s", lock, g_strerror (saved));
      return NULL;
    }
  /* One certkeeper per state directory: a second one would race on the
   * same records and token objects. */
  if (flock (store->lock_fd, LOCK_EX | LOCK_NB) < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BUSY,
                   "Another certkeeper is working on %s right now", store->dir);
      return NULL;
    }
  store->ids_fd = open (ids, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (store->ids_fd < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot open %s: %s", ids, g_strerror (saved));
      return NULL;
    }
  store->cache = kpr_store_cache_new (store->dir, store->ids_fd);
  return g_steal_pointer (&store);
}

void
kpr_store_free (KprStore *store)
{
  if (!store)
    return;
  /* Written while the lock is still held: one writer at a time. */
  kpr_store_cache_free (store->cache);
  if (store->lock_fd >= 0)
    close (store->lock_fd);
  if (store->ids_fd >= 0)
    close (store->ids_fd);
  g_free (store->dir);
  g_free (store);
}

const char *
kpr_store_get_dir (KprStore *store)
{
  return store->dir;
}

static char *
path_of (KprStore *store, const char *sub, const char *name, const char *ext)
{
  g_autofree char *file = g_strconcat (name, ext, NULL);
  return g_build_filename (store->dir, sub, file, NULL);
}

gboolean
kpr_store_exists (KprStore *store, const char *name)
{
  g_autofree char *path = path_of (store, "identities", name, ".ini");
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

GStrv
kpr_store_list (KprStore *store, GError **error)
{
  g_autofree char *ids = g_build_filename (store->dir, "identities", NULL);
  g_autoptr (GDir) dir = g_dir_open (ids, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *file;

  if (!dir)
    return NULL;
  while ((file = g_dir_read_name (dir)))
    if (g_str_has_suffix (file, ".ini"))
      g_ptr_array_add (names, g_strndup (file, strlen (file) - 4));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* Write a temp file, rename it over @path: atomic, not durable.  GLib's
 * CONSISTENT alone still fsyncs when it replaces an existing file, and a
 * state whose loss a re-run repairs is not worth a disk flush. */
gboolean
kpr_store_replace_quickly (const char *path, const char *data, gsize len, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  gsize done = 0;

  if (fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", tmp,
                   g_strerror (errno));
      return FALSE;
    }
  while (done < len)
    {
      gssize n = write (fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;
          close (fd);
          unlink (tmp);
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", tmp,
                       g_strerror (saved));
          return FALSE;
        }
      done += n;
    }
  if (close (fd) < 0 || rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* NAME.ini's bytes, read relative to identities/ (a listing reads 1 000
 * of them); NULL with errno set when it cannot be read. */
static char *
read_record (KprStore *store, const char *name, gsize *ret_len, struct stat *st_out)
{
  g_autofree char *file = g_strconcat (name, ".ini", NULL);
  g_autofree char *data = NULL;
  int fd = openat (store->ids_fd, file, O_RDONLY | O_CLOEXEC);
  struct stat st;
  gsize len = 0, size;

  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      int saved = errno;
      close (fd);
      errno = saved;
      return NULL;
    }
  /* One more byte than the size: a record that grew meanwhile is read
   * to its end all the same. */
  size = st.st_size + 1;
  data = g_malloc (size + 1);
  for (;;)
    {
      gssize n = read (fd, data + len, size - len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          errno = saved;
          return NULL;
        }
      if (n == 0)
        break;
      len += n;
      if (len == size)
        data = g_realloc (data, (size *= 2) + 1);
    }
  close (fd);
  data[len] = '\0';
  *ret_len = len;
  *st_out = st;
  return g_steal_pointer (&data);
}

static KprIdentity *
load (KprStore *store, const char *name, gboolean brief, GError **error)
{
  g_autofree char *data = NULL;
  g_autoptr (GVariant) values = NULL;
  KprIdentity *id;
  struct stat st;
  gsize len;

  if (!kpr_identity_name_is_valid (name))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "“%s” is not a valid identity name (letters, digits, . _ -)", name);
      return NULL;
    }
  if (brief && (id = kpr_store_cache_get (store->cache, name)))
    return id;
  if (!(data = read_record (store, name, &len, &st)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "There is no identity named “%s”", name);
      return NULL;
    }
  id = kpr_identity_from_data (name, data, len, brief, brief ? &values : NULL, error);
  if (values)
    kpr_store_cache_put (store->cache, name, &st, values);
  return id;
}

KprIdentity *
kpr_store_load (KprStore *store, const char *name, GError **error)
{
  return load (store, name, FALSE, error);
}

KprIdentity *
kpr_store_load_brief (KprStore *store, const char *name, GError **error)
{
  return load (store, name, TRUE, error);
}

gboolean
kpr_store_save (KprStore *store, const KprIdentity *identity, GError **error)
{
  return kpr_store_save_full (store, identity, TRUE, error);
}

gboolean
kpr_store_save_full (KprStore *store, const KprIdentity *identity, gboolean durable,
                     GError **error)
{
  g_autofree char *path = path_of (store, "identities", identity->name, ".ini");
  g_autofree char *data = NULL;
  g_autoptr (GError) local = NULL;
  gsize len;

  data = kpr_identity_to_data (identity, &len);
  /* A temp file renamed over the record (fsynced, and its directory, when
   * @durable).  A crash leaves the old record or the new one, never half
   * of each; a full disk leaves the old one. */
  if (!(durable ? g_file_set_contents_full (path, data, len,
                                            G_FILE_SET_CONTENTS_CONSISTENT
                                              | G_FILE_SET_CONTENTS_DURABLE,
                                            0600, &local)
                : kpr_store_replace_quickly (path, data, len, &local)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                   "Cannot save the record of “%s” (nothing was lost; the previous record "
                   "is intact): %s", identity->name, local->message);
      return FALSE;
    }
  return TRUE;
}

void
kpr_store_audit (KprStore *store, const char *name, const char *format, ...)
{
  g_autofree char *path = path_of (store, "identities", name, ".log");
  g_autofree char *what = NULL, *line = NULL, *stamp = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  va_list ap;
  int fd;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  stamp = g_date_time_format_iso8601 (now);
  line = g_strdup_printf ("%s %s\n", stamp, what);
  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return; /* the audit log is a courtesy; the record is the truth */
  /* No fsync: the lines follow the record's durable writes to disk, and
   * a line lost with a crash loses history, never state. */
  if (write (fd, line, strlen (line)) < 0)
    { /* same */ }
  close (fd);
}

GStrv
kpr_store_read_audit (KprStore *store, const char *name, GError **error)
{
  g_autofree char *path = path_of (store, "identities", name, ".log");
  g_autofree char *data = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GStrvBuilder) lines = g_strv_builder_new ();

  if (!g_file_get_contents (path, &data, NULL, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_strv_builder_end (lines);
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Could not read the history of “%s”: %s",
                   name, local->message);
      return NULL;
    }
  for (char *line = data, *next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (*line)
        g_strv_builder_add (lines, line);
    }
  return g_strv_builder_end (lines);
}

/* Here rather than in the CLI so that `certkeeper show --json` and the
 * GUI's Copy button give the same URI. */
char *
kpr_identity_key_uri (const KprIdentity *identity)
{
  g_autoptr (GString) uri = g_string_new ("pkcs11:");
  g_auto (GStrv) parts = NULL;
  const guint8 *d;
  gsize len = 0;

  if (!identity->token_uri || !g_str_has_prefix (identity->token_uri, "pkcs11:")
      || !identity->key_id)
    return NULL;
  parts = g_strsplit (identity->token_uri + strlen ("pkcs11:"), ";", -1);
  for (char **p = parts; *p; p++)
    if (**p && !g_str_has_prefix (*p, "library-"))
      g_string_append_printf (uri, "%s%s", uri->len > 7 ? ";" : "", *p);
  g_string_append_printf (uri, "%sid=", uri->len > 7 ? ";" : "");
  d = g_bytes_get_data (identity->key_id, &len);
  kpr_hex_append (uri, d, len, "%", TRUE);
  g_string_append (uri, ";type=private");
  return g_string_free (g_steal_pointer (&uri), FALSE);
}

gboolean
kpr_store_save_trust (KprStore *store, const char *name, KprX509Stack *anchors, GError **error)
{
  g_autofree char *path = path_of (store, "trust", name, ".pem");
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  g_autoptr (GError) local = NULL;
  char *data;
  long len;

  for (int i = 0; i < sk_X509_num (anchors); i++)
    PEM_write_bio_X509 (bio, sk_X509_value (anchors, i));
  len = BIO_get_mem_data (bio, &data);
  if (!g_file_set_contents_full (path, data, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot save the trust anchors of “%s”: %s",
                   name, local->message);
      return FALSE;
    }
  return TRUE;
}

KprX509Stack *
kpr_store_load_trust (KprStore *store, const char *name, GError **error)
{
  g_autofree char *path = path_of (store, "trust", name, ".pem");
  return kpr_load_pem_certs (path, error);
}

/* PKCS#7 certs-only (.p7b/.p7c), PEM or DER: the certificates it holds
 * are pushed onto @out. */
static void
certs_of_pkcs7 (const char *data, gsize len, KprX509Stack *out)
{
  g_autoptr (BIO) bio = BIO_new_mem_buf (data, (int) MIN (len, (gsize) G_MAXINT));
  PKCS7 *p7 = PEM_read_bio_PKCS7 (bio, NULL, NULL, NULL);
  STACK_OF (X509) *inner = NULL;

  if (!p7)
    {
      const unsigned char *p = (const unsigned char *) data;
      p7 = len < G_MAXLONG ? d2i_PKCS7 (NULL, &p, (long) len) : NULL;
    }
  if (p7 && PKCS7_type_is_signed (p7) && p7->d.sign)
    inner = p7->d.sign->cert;
  for (int i = 0; inner && i < sk_X509_num (inner); i++)
    {
      X509_up_ref (sk_X509_value (inner, i));
      sk_X509_push (out, sk_X509_value (inner, i));
    }
  PKCS7_free (p7);
}

KprX509Stack *
kpr_load_pem_certs (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  g_autoptr (BIO) bio = NULL;
  g_autoptr (KprX509Stack) certs = sk_X509_new_null ();
  gsize len;
  X509 *cert;

  if (!g_file_get_contents (path, &data, &len, NULL))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot read the certificates in %s", path);
      return NULL;
    }
  bio = BIO_new_mem_buf (data, len);
  while ((cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL)))
    sk_X509_push (certs, cert);
  ERR_clear_error ();
  if (sk_X509_num (certs) == 0)
    {
      /* DER, as a .cer from a mail often is */
      const unsigned char *p = (const unsigned char *) data;
      cert = len < G_MAXLONG ? d2i_X509 (NULL, &p, (long) len) : NULL;
      if (cert && p == (const unsigned char *) data + len)
        sk_X509_push (certs, cert);
      else
        X509_free (cert);
    }
  if (sk_X509_num (certs) == 0)
    certs_of_pkcs7 (data, len, certs);
  ERR_clear_error ();
  if (sk_X509_num (certs) == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "%s holds no certificate (PEM, DER or PKCS#7 .p7b/.p7c were expected)", path);
      return NULL;
    }
  return g_steal_pointer (&certs);
}

/* The certificate of @certs that carries @key (a PKCS#7 file holds the
 * chain too, in any order); else the first that is no CA, else the
 * first, for the caller's check to refuse with the right reason. */
X509 *
kpr_pick_issued (KprX509Stack *certs, EVP_PKEY *key)
{
  for (int i = 0; i < sk_X509_num (certs); i++)
    if (EVP_PKEY_eq (X509_get0_pubkey (sk_X509_value (certs, i)), key) == 1)
      return sk_X509_value (certs, i);
  ERR_clear_error ();
  for (int i = 0; i < sk_X509_num (certs); i++)
    if (!X509_check_ca (sk_X509_value (certs, i)))
      return sk_X509_value (certs, i);
  return sk_X509_value (certs, 0);
}

gboolean
kpr_store_forget (KprStore *store, const char *name, GError **error)
{
  static const struct {
    const char *sub, *ext;
  } files[] = { { "identities", ".ini" }, { "identities", ".log" }, { "trust", ".pem" } };

  /* The record goes first: without it nothing refers to the others, and
   * a new enrollment under the name writes them again. */
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = path_of (store, files[i].sub, name, files[i].ext);
      if (g_unlink (path) < 0 && errno != ENOENT)
        {
          int saved = errno;
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot remove %s: %s", path,
                       g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
kpr_store_archive (KprStore *store, const char *name, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
  g_autofree char *archive = g_build_filename (store->dir, "archive", NULL);
  static const struct {
    const char *sub, *ext;
  } files[] = { { "identities", ".ini" }, { "identities", ".log" },
                  { "identities", ".events" }, { "trust", ".pem" } };

  if (!make_dir (archive, error))
    return FALSE;
  /* The record goes last: until it is gone the identity still exists and
   * a re-run can finish the job. */
  for (int i = G_N_ELEMENTS (files) - 1; i >= 0; i--)
    {
      g_autofree char *from = path_of (store, files[i].sub, name, files[i].ext);
      g_autofree char *base = g_strdup_printf ("%s-%s%s", name, stamp, files[i].ext);
      g_autofree char *to = g_build_filename (archive, base, NULL);
      if (g_file_test (from, G_FILE_TEST_EXISTS) && g_rename (from, to) < 0)
        {
          int saved = errno;
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot archive %s: %s", from,
                       g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}
