/* kpr-backup-file.c — a backup on disk.  Written beside its target under
 * a name of our own, fsynced, read back and verified, then moved into
 * place without replacing anything (a regular file only with --force):
 * whatever was at the target before is never truncated, and a crash
 * leaves it whole.  Nothing at a path certkeeper did not create is ever
 * opened for writing or removed.  Before lock or delete rely on a
 * backup, kpr_backup_file_problem checks that it is still what export
 * wrote (issue 13, items 1 and 2). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpr-agent-private.h"

/* What @st is, for a sentence ("is a directory"); NULL for a regular file. */
static const char *
not_a_file (const struct stat *st)
{
  if (S_ISREG (st->st_mode))
    return NULL;
  if (S_ISLNK (st->st_mode))
    return "a symbolic link (certkeeper writes no backup through a link)";
  if (S_ISDIR (st->st_mode))
    return "a directory";
  if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
    return "a device";
  if (S_ISFIFO (st->st_mode))
    return "a FIFO";
  return "not a regular file";
}

/* What is at @path may be given the backup's place: nothing, or with
 * @force a regular file. */
static gboolean
target_is_free (const char *path, gboolean force, GError **error)
{
  struct stat st;
  const char *what;

  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write the backup %s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  if ((what = not_a_file (&st)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                   "%s is %s; nothing was written (give a new file name with --to)", path, what);
      return FALSE;
    }
  if (!force)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                   "A file exists at %s; nothing was written (give a new file name, or pass "
                   "--force to replace that file)", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_all (int fd, GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = ENOSPC;
          return FALSE;
        }
      data += n, len -= n;
    }
  return fsync (fd) == 0;
}

/* A new file of ours in @dirfd, ".BASE.XXXXXX": O_EXCL and O_NOFOLLOW, so
 * it is never something that was there. */
static int
create_temp (int dirfd, const char *base, char **ret_name)
{
  for (int tries = 0; tries < 100; tries++)
    {
      g_autofree char *name = g_strdup_printf (".%s.%06x", base, g_random_int () & 0xffffff);
      int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

      if (fd >= 0 || errno != EEXIST)
        {
          if (fd >= 0)
            *ret_name = g_steal_pointer (&name);
          return fd;
        }
    }
  return -1;
}

/* The file as the disk has it, not as memory had it. */
static GBytes *
read_back (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GByteArray) data = NULL;
  struct stat st;
  guint8 buf[16384];
  ssize_t n;

  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return NULL;
    }
  data = g_byte_array_new ();
  while ((n = read (fd, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          close (fd);
          return NULL;
        }
      g_byte_array_append (data, buf, n);
    }
  close (fd);
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/* The temporary file takes the target's name: never over anything unless
 * @force (and then target_is_free saw a regular file).  File systems
 * without RENAME_NOREPLACE get link() + unlink(), which never replaces
 * either. */
static gboolean
put_in_place (int dirfd, const char *temp, const char *base, gboolean force)
{
  if (force)
    return renameat (dirfd, temp, dirfd, base) == 0;
  if (renameat2 (dirfd, temp, dirfd, base, RENAME_NOREPLACE) == 0)
    return TRUE;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return FALSE;
  if (linkat (dirfd, temp, dirfd, base, 0) < 0)
    return FALSE;
  unlinkat (dirfd, temp, 0);
  return TRUE;
}

gboolean
kpr_backup_file_write (const char *path, GBytes *bytes, gboolean force, KprBackupVerify verify,
                       gpointer data, char **ret_sha256, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *temp = NULL;
  g_autoptr (GBytes) on_disk = NULL;
  int dirfd, fd, saved;
  gboolean ok;

  if (!target_is_free (path, force, error))
    return FALSE;
  if ((dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write the backup %s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  fd = create_temp (dirfd, base, &temp);
  ok = fd >= 0 && fchmod (fd, 0600) == 0 && write_all (fd, bytes);
  saved = errno;
  if (fd >= 0 && close (fd) < 0 && ok)
    ok = FALSE, saved = errno;
  if (!ok)
    {
      if (temp)
        unlinkat (dirfd, temp, 0);
      close (dirfd);
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write the backup %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  kpr_fault_point ("after:backup-written");

  /* Success only for a file that opens and holds the identity. */
  if (!(on_disk = read_back (dirfd, temp)))
    g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "The backup written beside %s cannot be read back",
                 path);
  if (!on_disk || !verify (on_disk, data, error))
    {
      unlinkat (dirfd, temp, 0);
      close (dirfd);
      g_prefix_error (error, "Nothing was written at %s: ", path);
      return FALSE;
    }
  if (!put_in_place (dirfd, temp, base, force))
    {
      saved = errno;
      unlinkat (dirfd, temp, 0);
      close (dirfd);
      if (saved == EEXIST || saved == EISDIR || saved == ENOTEMPTY)
        g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                     "Something appeared at %s meanwhile; nothing was written there", path);
      else
        g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write the backup %s: %s", path,
                     g_strerror (saved));
      return FALSE;
    }
  fsync (dirfd);
  close (dirfd);
  *ret_sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, on_disk);
  return TRUE;
}

char *
kpr_backup_file_problem (const KprIdentity *id)
{
  g_autoptr (GBytes) now = NULL;
  g_autofree char *dir = NULL, *base = NULL, *sum = NULL;
  g_autofree char *cert_fp = NULL;
  int dirfd;

  if (!id->backup_where || !id->backup_sha256)
    return g_strdup ("no file was recorded for it");
  dir = g_path_get_dirname (id->backup_where);
  base = g_path_get_basename (id->backup_where);
  if ((dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
    {
      now = read_back (dirfd, base);
      close (dirfd);
    }
  if (!now)
    return g_strdup_printf ("%s is no longer there (or cannot be read)", id->backup_where);
  sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, now);
  if (g_ascii_strcasecmp (sum, id->backup_sha256) != 0)
    return g_strdup_printf ("%s has changed since the backup was written there",
                            id->backup_where);
  /* Records from before backup-cert was kept say nothing about it; a
   * renewal forgets the backup (kpr-renew.c), so it is of this key. */
  if (id->backup_cert && id->cert)
    {
      cert_fp = kpr_ossl_fingerprint (id->cert, EVP_sha256 ());
      if (g_ascii_strcasecmp (cert_fp, id->backup_cert) != 0)
        return g_strdup_printf ("%s holds an earlier certificate, not the current one",
                                id->backup_where);
    }
  return NULL;
}
