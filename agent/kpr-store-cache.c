/* kpr-store-cache.c — what `list` shows of every identity, kept in one
 * file beside the records so that a listing does not read and parse
 * each record (issue 11: `list --json` over 1 000 identities).
 *
 *   $XDG_STATE_HOME/certkeeper/list-cache   GVariant, 0600, not durable
 *
 * The records stay the truth.  An entry is used only while its record
 * is the very file it was made from: same inode, size, mtime and ctime
 * (certkeeper replaces records by rename; an edit in place changes the
 * ctime).  An entry made from a record changed less than a second
 * before is never kept: a second edit within the file system's clock
 * tick could leave the times unchanged (git's "racily clean" entries).
 * A cache that is missing, damaged, or of another format is ignored and
 * written again; losing it costs one slower listing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpr-agent-private.h"

/* Changes with the record keys the entries hold (kpr-identity.c). */
#define FORMAT "certkeeper list cache 1"
#define ENTRY_TYPE "(sttxxay)"
#define CACHE_TYPE "(sxa" ENTRY_TYPE ")"
#define ENTRY_FORMAT "(sttxx@ay)" /* ENTRY_TYPE, the values as a GVariant */
/* Older than this when cached: no later change can keep its times. */
#define SETTLED_NS G_GINT64_CONSTANT (1000000000)

typedef struct {
  guint64 ino, size;
  gint64 mtime_ns, ctime_ns;
  GVariant *values; /* ay, kpr_identity_from_cache_values() */
} Entry;

struct _KprStoreCache {
  char *path;
  int ids_fd;
  gboolean loaded, dirty;
  GHashTable *entries; /* name → Entry */
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_variant_unref (e->values);
  g_free (e);
}

static gint64
ns_of (const struct timespec *t)
{
  return (gint64) t->tv_sec * G_GINT64_CONSTANT (1000000000) + t->tv_nsec;
}

KprStoreCache *
kpr_store_cache_new (const char *store_dir, int ids_fd)
{
  KprStoreCache *cache = g_new0 (KprStoreCache, 1);

  cache->path = g_build_filename (store_dir, "list-cache", NULL);
  cache->ids_fd = ids_fd;
  cache->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  return cache;
}

/* The entries of the file; whatever is not a cache of this format is
 * nothing. */
static void
load (KprStoreCache *cache)
{
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GVariant) all = NULL, entries = NULL;
  g_autoptr (GVariant) format = NULL;
  GVariantIter iter;
  GVariant *child;
  gint64 written;

  cache->loaded = TRUE;
  if (!(file = g_mapped_file_new (cache->path, FALSE, NULL)))
    return;
  bytes = g_mapped_file_get_bytes (file);
  all = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (CACHE_TYPE), bytes, FALSE));
  format = g_variant_get_child_value (all, 0);
  if (g_strcmp0 (g_variant_get_string (format, NULL), FORMAT) != 0)
    return;
  g_variant_get_child (all, 1, "x", &written);
  entries = g_variant_get_child_value (all, 2);
  g_variant_iter_init (&iter, entries);
  while ((child = g_variant_iter_next_value (&iter)))
    {
      Entry *e = g_new0 (Entry, 1);
      const char *name;

      g_variant_get (child, "(&sttxx@ay)", &name, &e->ino, &e->size, &e->mtime_ns,
                     &e->ctime_ns, &e->values);
      /* Made too close to the writing to be trusted (see above). */
      if (e->ctime_ns > written - SETTLED_NS || !kpr_identity_name_is_valid (name))
        entry_free (e);
      else
        g_hash_table_replace (cache->entries, g_strdup (name), e);
      g_variant_unref (child);
    }
}

static gboolean
same_file (const Entry *e, const struct stat *st)
{
  return e->ino == (guint64) st->st_ino && e->size == (guint64) st->st_size
         && e->mtime_ns == ns_of (&st->st_mtim) && e->ctime_ns == ns_of (&st->st_ctim);
}

KprIdentity *
kpr_store_cache_get (KprStoreCache *cache, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".ini", NULL);
  struct stat st;
  Entry *e;

  if (!cache->loaded)
    load (cache);
  if (!(e = g_hash_table_lookup (cache->entries, name)))
    return NULL;
  if (fstatat (cache->ids_fd, file, &st, AT_SYMLINK_NOFOLLOW) < 0 || !same_file (e, &st))
    return NULL;
  return kpr_identity_from_cache_values (name, e->values, NULL);
}

void
kpr_store_cache_put (KprStoreCache *cache, const char *name, const struct stat *st,
                     GVariant *values)
{
  Entry *e;

  if (ns_of (&st->st_ctim) > g_get_real_time () * 1000 - SETTLED_NS)
    return;
  e = g_new0 (Entry, 1);
  e->ino = st->st_ino;
  e->size = st->st_size;
  e->mtime_ns = ns_of (&st->st_mtim);
  e->ctime_ns = ns_of (&st->st_ctim);
  e->values = g_variant_ref (values);
  g_hash_table_replace (cache->entries, g_strdup (name), e);
  cache->dirty = TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Entries whose record is gone are left out. */
static GBytes *
serialize (KprStoreCache *cache)
{
  guint n = 0;
  g_autofree gpointer *names = g_hash_table_get_keys_as_array (cache->entries, &n);
  g_autoptr (GVariant) all = NULL;
  GVariantBuilder b;

  qsort (names, n, sizeof *names, compare_names);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a" ENTRY_TYPE));
  for (guint i = 0; i < n; i++)
    {
      const char *name = names[i];
      g_autofree char *file = g_strconcat (name, ".ini", NULL);
      Entry *e = g_hash_table_lookup (cache->entries, name);

      if (faccessat (cache->ids_fd, file, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      g_variant_builder_add (&b, ENTRY_FORMAT, name, e->ino, e->size, e->mtime_ns, e->ctime_ns,
                             e->values);
    }
  all = g_variant_ref_sink (g_variant_new (CACHE_TYPE, FORMAT,
                                           g_get_real_time () * 1000, &b));
  return g_variant_get_data_as_bytes (all);
}

void
kpr_store_cache_free (KprStoreCache *cache)
{
  if (!cache)
    return;
  if (cache->dirty)
    {
      g_autoptr (GBytes) bytes = serialize (cache);
      gsize len;
      const char *data = g_bytes_get_data (bytes, &len);

      /* Best effort: a cache that cannot be written is not an error. */
      kpr_store_replace_quickly (cache->path, data, len, NULL);
    }
  g_hash_table_unref (cache->entries);
  g_free (cache->path);
  g_free (cache);
}
