/* kpr-users.c — registered users, their secret words and enrollment codes,
 * and the text-message delivery of words.
 *
 * Words exist in the database only as SHA-256(salt || word) with a random
 * salt per word; they are single-use, expire after KPR_WORD_TTL, and
 * KPR_MAX_TRIES wrong guesses lock the user out for KPR_LOCK_SECONDS.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

/* No 0/O or 1/I: a word read off a phone screen is typed right.  Exactly
 * 32 characters, so 5 random bits pick one without bias. */
static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
G_STATIC_ASSERT (sizeof alphabet == 33);

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

void
kpr_user_free (KprUser *user)
{
  if (!user)
    return;
  g_free (user->name);
  g_free (user->phone);
  g_free (user);
}

static KprUser *
user_query (KprCa *ca, const char *sql, const char *name, gint64 id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (ca->db, sql, error);
  KprUser *user;
  int rc;

  if (!stmt)
    return NULL;
  if (name)
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return NULL;
  if (rc != SQLITE_ROW)
    {
      kpr_store_fail (ca->db, "looking up a user", error);
      return NULL;
    }
  user = g_new0 (KprUser, 1);
  user->id = sqlite3_column_int64 (stmt, 0);
  user->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  user->phone = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  user->disabled = sqlite3_column_int (stmt, 3) != 0;
  user->failed = sqlite3_column_int (stmt, 4);
  user->locked_until = sqlite3_column_int64 (stmt, 5);
  return user;
}

#define USER_COLUMNS "SELECT id, name, phone, disabled, failed, locked_until FROM users "

KprUser *
kpr_user_lookup (KprCa *ca, const char *name, GError **error)
{
  return user_query (ca, USER_COLUMNS "WHERE name = ?", name, 0, error);
}

KprUser *
kpr_user_lookup_id (KprCa *ca, gint64 id, GError **error)
{
  return user_query (ca, USER_COLUMNS "WHERE id = ?", NULL, id, error);
}

gboolean
kpr_ca_user_add (KprCa *ca, const char *name, const char *phone, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *detail = NULL;

  if (!kpr_valid_username (name))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "'%s' is not a valid username: 1-%d letters, digits, '.', '_', '-', '@', "
                   "starting with a letter or digit", name, KPR_NAME_MAX);
      return FALSE;
    }
  if (!kpr_valid_phone (phone))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "'%s' is not a phone number: write it as + and 4-19 digits, e.g. +15550100",
                   phone);
      return FALSE;
    }
  if (!kpr_store_begin (ca->db, error))
    return FALSE;
  stmt = kpr_store_prepare (ca->db,
                            "INSERT INTO users(name, phone, created) VALUES (?, ?, ?)", error);
  if (!stmt)
    goto fail;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, phone, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, now_s ());
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (ca->db) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                     "User '%s' already exists; nothing was changed", name);
      else
        kpr_store_fail (ca->db, "adding the user", error);
      goto fail;
    }
  detail = g_strdup_printf ("user %s added", name);
  if (!kpr_store_audit (ca->db, "admin", "user-add", detail, NULL, error))
    goto fail;
  return kpr_store_commit (ca->db, error);

fail:
  kpr_store_rollback (ca->db);
  return FALSE;
}

char *
kpr_ca_user_list (KprCa *ca, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (
    ca->db,
    "SELECT u.name, u.phone, u.disabled, u.locked_until > ?1,"
    " (SELECT serial FROM certs c WHERE c.user_id = u.id AND c.revoked IS NULL"
    "  AND c.not_after > ?1 ORDER BY issued DESC LIMIT 1)"
    " FROM users u ORDER BY u.name", error);
  g_autoptr (GString) out = g_string_new (NULL);
  int rc;

  if (!stmt)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, now_s ());
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *serial = (const char *) sqlite3_column_text (stmt, 4);
      g_string_append_printf (out, "%s %s %s %s\n", sqlite3_column_text (stmt, 0),
                              sqlite3_column_text (stmt, 1),
                              sqlite3_column_int (stmt, 2) ? "disabled"
                              : sqlite3_column_int (stmt, 3) ? "locked" : "active",
                              serial ? serial : "-");
    }
  if (rc != SQLITE_DONE)
    {
      kpr_store_fail (ca->db, "listing users", error);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
burn_words (KprCa *ca, gint64 user_id, const char *kind, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (
    ca->db, kind ? "UPDATE words SET used = 1 WHERE user_id = ? AND used = 0 AND kind = ?"
                 : "UPDATE words SET used = 1 WHERE user_id = ? AND used = 0", error);

  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user_id);
  if (kind)
    sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return kpr_store_fail (ca->db, "retiring secret words", error);
  return TRUE;
}

gboolean
kpr_ca_user_disable (KprCa *ca, const char *name, guint *ret_revoked, GError **error)
{
  g_autoptr (KprUser) user = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *detail = NULL;
  guint count = 0;

  if (!kpr_store_begin (ca->db, error))
    return FALSE;
  user = kpr_user_lookup (ca, name, error);
  if (!user)
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                     "No user '%s'; 'certkeeper-ca user list DIR' shows the users", name);
      goto fail;
    }
  stmt = kpr_store_prepare (ca->db, "UPDATE users SET disabled = 1 WHERE id = ?", error);
  if (!stmt)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, user->id);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      kpr_store_fail (ca->db, "disabling the user", error);
      goto fail;
    }
  /* A disabled user keeps nothing that still opens a door. */
  if (!burn_words (ca, user->id, NULL, error)
      || !kpr_revoke_user_certs (ca, user->id, 5 /* cessationOfOperation */, &count, error)
      || (count > 0 && !kpr_ca_write_crl (ca, error)))
    goto fail;
  detail = g_strdup_printf ("user %s disabled, %u certificate(s) revoked", name, count);
  if (!kpr_store_audit (ca->db, "admin", "user-disable", detail, NULL, error))
    goto fail;
  if (ret_revoked)
    *ret_revoked = count;
  return kpr_store_commit (ca->db, error);

fail:
  kpr_store_rollback (ca->db);
  return FALSE;
}

/* ---- secret words ------------------------------------------------------ */

void
kpr_word_hash (const KprSecret *password, const guint8 *salt, guint8 ret_hash[32])
{
  g_autoptr (KprSecret) norm = kpr_secret_new ("", 0);
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  unsigned int len = 32;

  for (gsize i = 0; i < password->len; i++)
    if (password->data[i] != '-' && password->data[i] != ' ')
      norm->data[norm->len++] = g_ascii_toupper (password->data[i]);
  if (!ctx || !EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL)
      || !EVP_DigestUpdate (ctx, salt, KPR_SALT_LEN)
      || !EVP_DigestUpdate (ctx, norm->data, norm->len)
      || !EVP_DigestFinal_ex (ctx, ret_hash, &len))
    /* Never matches a real hash: a failing digest must not let anyone in. */
    RAND_bytes (ret_hash, 32);
}

static KprSecret *
random_word (gsize len, gboolean grouped, GError **error)
{
  guint8 raw[KPR_CODE_LEN];
  g_autoptr (KprSecret) word = kpr_secret_new ("", 0);

  g_assert (len <= sizeof raw);
  if (RAND_bytes (raw, (int) len) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "No randomness for a secret word");
      return NULL;
    }
  for (gsize i = 0; i < len; i++)
    {
      if (grouped && i > 0 && i % 4 == 0)
        word->data[word->len++] = '-';
      word->data[word->len++] = alphabet[raw[i] & 31];
    }
  kpr_memory_erase (raw, sizeof raw);
  return g_steal_pointer (&word);
}

static gboolean
store_word (KprCa *ca, gint64 user_id, const char *kind, const KprSecret *word,
            gint64 expires, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  guint8 salt[KPR_SALT_LEN];
  guint8 hash[32];

  if (RAND_bytes (salt, sizeof salt) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "No randomness for a salt");
      return FALSE;
    }
  kpr_word_hash (word, salt, hash);
  stmt = kpr_store_prepare (ca->db,
                            "INSERT INTO words(user_id, kind, salt, hash, created, expires)"
                            " VALUES (?, ?, ?, ?, ?, ?)", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user_id);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 3, salt, sizeof salt, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, 4, hash, sizeof hash, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, now_s ());
  sqlite3_bind_int64 (stmt, 6, expires);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return kpr_store_fail (ca->db, "storing a secret word", error);
  return TRUE;
}

gboolean
kpr_word_create (KprCa *ca, const KprUser *user, KprSecret **ret_word, GError **error)
{
  g_autoptr (sqlite3_stmt) count = NULL;
  g_autoptr (KprSecret) word = NULL;
  g_autoptr (KprUser) fresh = NULL;
  gint64 now = now_s ();

  *ret_word = NULL;
  if (!kpr_store_begin (ca->db, error))
    return FALSE;
  fresh = kpr_user_lookup_id (ca, user->id, error);
  if (!fresh)
    goto fail;
  count = kpr_store_prepare (ca->db,
                             "SELECT COUNT(*) FROM words WHERE user_id = ? AND kind = 'word'"
                             " AND created > ?", error);
  if (!count)
    goto fail;
  sqlite3_bind_int64 (count, 1, user->id);
  sqlite3_bind_int64 (count, 2, now - 3600);
  if (sqlite3_step (count) != SQLITE_ROW)
    {
      kpr_store_fail (ca->db, "counting secret words", error);
      goto fail;
    }
  /* Rate limit, lockout and disabled users: no message, and no sign of
   * it in the answer either. */
  if (fresh->disabled || fresh->locked_until > now
      || sqlite3_column_int (count, 0) >= KPR_WORDS_PER_HOUR)
    {
      kpr_store_audit (ca->db, user->name, "challenge-refused",
                       fresh->disabled ? "disabled" : fresh->locked_until > now ? "locked"
                                                                               : "rate limit",
                       NULL, NULL);
      return kpr_store_commit (ca->db, error);
    }
  /* Only the newest word is valid: asking again retires the old one. */
  if (!burn_words (ca, user->id, "word", error)
      || !(word = random_word (KPR_WORD_LEN, FALSE, error))
      || !store_word (ca, user->id, "word", word, now + KPR_WORD_TTL, error)
      || !kpr_store_audit (ca->db, user->name, "challenge", "secret word created", NULL, error)
      || !kpr_store_commit (ca->db, error))
    goto fail;
  *ret_word = g_steal_pointer (&word);
  return TRUE;

fail:
  kpr_store_rollback (ca->db);
  return FALSE;
}

KprSecret *
kpr_ca_code_new (KprCa *ca, const char *name, gint64 ttl, GError **error)
{
  g_autoptr (KprUser) user = NULL;
  g_autoptr (KprSecret) code = NULL;
  g_autofree char *detail = NULL;

  if (!kpr_store_begin (ca->db, error))
    return NULL;
  user = kpr_user_lookup (ca, name, error);
  if (!user || user->disabled)
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                     user ? "User '%s' is disabled" : "No user '%s'; add it with 'user add'",
                     name);
      goto fail;
    }
  detail = g_strdup_printf ("enrollment code valid for %" G_GINT64_FORMAT " s", ttl);
  if (!(code = random_word (KPR_CODE_LEN, TRUE, error))
      || !store_word (ca, user->id, "code", code, now_s () + ttl, error)
      || !kpr_store_audit (ca->db, name, "code", detail, NULL, error)
      || !kpr_store_commit (ca->db, error))
    goto fail;
  return g_steal_pointer (&code);

fail:
  kpr_store_rollback (ca->db);
  return NULL;
}

static gboolean
set_failures (KprCa *ca, gint64 user_id, int failed, gint64 locked_until, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (
    ca->db, "UPDATE users SET failed = ?, locked_until = ? WHERE id = ?", error);

  if (!stmt)
    return FALSE;
  sqlite3_bind_int (stmt, 1, failed);
  sqlite3_bind_int64 (stmt, 2, locked_until);
  sqlite3_bind_int64 (stmt, 3, user_id);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return kpr_store_fail (ca->db, "counting failures", error);
  return TRUE;
}

gboolean
kpr_word_verify (KprCa *ca, const char *name, const KprSecret *password,
                 KprUser **ret_user, gint64 *ret_word_id, GError **error)
{
  g_autoptr (KprUser) user = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 now = now_s ();
  gint64 match = 0;
  int rc;

  if (!kpr_store_begin (ca->db, error))
    return FALSE;
  user = kpr_user_lookup (ca, name, error);
  if (!user || user->disabled)
    {
      if (error && *error)
        goto fail;
      kpr_store_rollback (ca->db);
      /* Same text as a wrong word: the answer must not tell whether the
       * name exists. */
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "Wrong username or secret word");
      return FALSE;
    }
  if (user->locked_until > now)
    {
      kpr_store_rollback (ca->db);
      g_set_error (error, KPR_ERROR, KPR_ERROR_BUSY,
                   "Too many wrong secret words for %s: locked for %" G_GINT64_FORMAT
                   " more minute(s); then request a new secret word",
                   name, (user->locked_until - now + 59) / 60);
      return FALSE;
    }
  stmt = kpr_store_prepare (ca->db,
                            "SELECT id, salt, hash FROM words WHERE user_id = ? AND used = 0"
                            " AND expires > ?", error);
  if (!stmt)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, user->id);
  sqlite3_bind_int64 (stmt, 2, now);
  /* Compare against every live word without stopping at a match. */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint8 hash[32];
      const void *salt = sqlite3_column_blob (stmt, 1);
      const void *stored = sqlite3_column_blob (stmt, 2);

      if (sqlite3_column_bytes (stmt, 1) != KPR_SALT_LEN || sqlite3_column_bytes (stmt, 2) != 32)
        continue;
      kpr_word_hash (password, salt, hash);
      if (CRYPTO_memcmp (hash, stored, 32) == 0)
        match = sqlite3_column_int64 (stmt, 0);
    }
  if (rc != SQLITE_DONE)
    {
      kpr_store_fail (ca->db, "checking the secret word", error);
      goto fail;
    }
  if (match)
    {
      if (!set_failures (ca, user->id, 0, 0, error) || !kpr_store_commit (ca->db, error))
        goto fail;
      *ret_word_id = match;
      if (ret_user)
        *ret_user = g_steal_pointer (&user);
      return TRUE;
    }

  if (user->failed + 1 >= KPR_MAX_TRIES)
    {
      /* Locked: the outstanding words die too, so the right word is
       * refused afterwards and a new one must be requested. */
      if (!set_failures (ca, user->id, 0, now + KPR_LOCK_SECONDS, error)
          || !burn_words (ca, user->id, NULL, error)
          || !kpr_store_audit (ca->db, name, "lockout", "too many wrong secret words", NULL,
                               error)
          || !kpr_store_commit (ca->db, error))
        goto fail;
      g_set_error (error, KPR_ERROR, KPR_ERROR_BUSY,
                   "Too many wrong secret words for %s: locked for %d minutes; then request a "
                   "new secret word", name, KPR_LOCK_SECONDS / 60);
      return FALSE;
    }
  if (!set_failures (ca, user->id, user->failed + 1, 0, error)
      || !kpr_store_audit (ca->db, name, "auth-fail", "wrong secret word", NULL, error)
      || !kpr_store_commit (ca->db, error))
    goto fail;
  g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "Wrong username or secret word");
  return FALSE;

fail:
  kpr_store_rollback (ca->db);
  return FALSE;
}

gboolean
kpr_word_consume (KprCa *ca, gint64 word_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = kpr_store_prepare (
    ca->db, "UPDATE words SET used = 1 WHERE id = ? AND used = 0 AND expires > ?", error);

  if (!stmt)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, word_id);
  sqlite3_bind_int64 (stmt, 2, now_s ());
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return kpr_store_fail (ca->db, "using the secret word", error);
  /* Someone else used it between the check and now. */
  if (sqlite3_changes (ca->db) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "This secret word was already used; request a new one");
      return FALSE;
    }
  return TRUE;
}

/* ---- delivery ------------------------------------------------------------ */

struct _KprOtpSender {
  char *outbox;
  char **argv;
};

KprOtpSender *
kpr_otp_sender_new (const char *outbox, const char *command, GError **error)
{
  g_autoptr (KprOtpSender) sender = g_new0 (KprOtpSender, 1);
  g_autoptr (GError) local = NULL;

  if (outbox && command)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "Give either --otp-outbox or --otp-command, not both");
      return NULL;
    }
  sender->outbox = g_strdup (outbox);
  if (command && !g_shell_parse_argv (command, NULL, &sender->argv, &local))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "Cannot parse --otp-command: %s",
                   local->message);
      return NULL;
    }
  return g_steal_pointer (&sender);
}

void
kpr_otp_sender_free (KprOtpSender *sender)
{
  if (!sender)
    return;
  g_free (sender->outbox);
  g_strfreev (sender->argv);
  g_free (sender);
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
kpr_otp_send (KprOtpSender *sender, const KprUser *user, const KprSecret *word, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autoptr (KprSecret) line = kpr_secret_new ("", 0);
  int written;
  int fd = -1;
  gboolean ok;

  if (!sender->outbox && !sender->argv)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "No text-message sender configured (--otp-outbox or --otp-command)");
      return FALSE;
    }
  /* The line is built in the erasing buffer; it holds the word. */
  if (sender->outbox)
    written = g_snprintf (line->data, KPR_SECRET_MAX, "%s %s %s %s\n", stamp, user->name,
                          user->phone, word->data);
  else
    written = g_snprintf (line->data, KPR_SECRET_MAX, "%s %s\n", user->phone, word->data);
  if (written <= 0 || written >= KPR_SECRET_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Text message too long");
      return FALSE;
    }
  line->len = (gsize) written;

  if (sender->outbox)
    {
      g_autofree char *path = g_strdup (sender->outbox);
      /* O_APPEND + one write per line: concurrent writers never interleave. */
      fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0)
        {
          int saved = errno;
          g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot open the outbox %s: %s", path,
                       g_strerror (saved));
          return FALSE;
        }
      ok = write_all (fd, line->data, line->len);
      ok = close (fd) == 0 && ok;
      if (!ok)
        g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write the outbox %s", path);
      return ok;
    }

  /* No shell, and the word goes through a pipe: argv and environment
   * are visible to every user of the machine. */
  {
    g_autoptr (GError) local = NULL;
    if (!g_spawn_async_with_pipes (NULL, sender->argv, NULL,
                                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                                   NULL, NULL, NULL, &fd, NULL, NULL, &local))
      {
        g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot run the --otp-command: %s",
                     local->message);
        return FALSE;
      }
    ok = write_all (fd, line->data, line->len);
    ok = close (fd) == 0 && ok;
    if (!ok)
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                   "The --otp-command did not read the message from its standard input");
    return ok;
  }
}
