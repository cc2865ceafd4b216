/* kpr-users.c — registered users, their secret words and enrollment codes,
 * and the checks that guard them (server/README.md, "Threat model").
 *
 * Words exist in the database only as SHA-256(salt || word) with a random
 * salt per word; they are single-use and expire after KPR_WORD_TTL.  Wrong
 * guesses never burn a word or a code and never lock the owner out: they
 * count only while a word is outstanding, against a decaying per-user
 * back-off (kpr-throttle.c) that does not apply to the addresses that
 * asked for the word.  Asking for a word again within the challenge gap
 * sends nothing and keeps the current word.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

/* No 0/O or 1/I: a word read off a phone screen is typed right.  Exactly
 * 32 characters, so 5 random bits pick one without bias. */
static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
G_STATIC_ASSERT (sizeof alphabet == 33);

void
kpr_user_free (KprUser *user)
{
  if (!user)
    return;
  g_free (user->name);
  g_free (user->phone);
  g_free (user->mail);
  g_free (user);
}

#define USER_COLUMNS "id, name, phone, mail, disabled, failed, failed_at"

static KprUser *
user_query (KprCaDb *db, const char *sql, const char *name, gint64 id, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (db, sql, error);
  KprUser *user;
  KprCaDbStep rc;

  if (!st)
    return NULL;
  if (name)
    kpr_ca_db_bind_text (st, 1, name);
  else
    kpr_ca_db_bind_int64 (st, 1, id);
  rc = kpr_ca_db_step (st, "looking up a user", error);
  if (rc != KPR_CA_DB_ROW)
    return NULL;
  user = g_new0 (KprUser, 1);
  user->id = kpr_ca_db_column_int64 (st, 0);
  user->name = g_strdup (kpr_ca_db_column_text (st, 1));
  user->phone = g_strdup (kpr_ca_db_column_text (st, 2));
  user->mail = g_strdup (kpr_ca_db_column_text (st, 3));
  user->disabled = kpr_ca_db_column_int64 (st, 4) != 0;
  user->failed = kpr_ca_db_column_int64 (st, 5);
  user->failed_at = kpr_ca_db_column_int64 (st, 6);
  /* Let the statement finish (RETURNING). */
  kpr_ca_db_run (st, "looking up a user", NULL);
  return user;
}

KprUser *
kpr_user_lookup (KprCaDb *db, const char *name, GError **error)
{
  return user_query (db, "SELECT " USER_COLUMNS " FROM users WHERE name = ?", name, 0, error);
}

KprUser *
kpr_user_lookup_id (KprCaDb *db, gint64 id, GError **error)
{
  return user_query (db, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", NULL, id, error);
}

KprUser *
kpr_user_lock (KprCaDb *db, const char *name, gint64 id, GError **error)
{
  /* A no-op update takes the row lock in PostgreSQL (SQLite's write lock
   * is already held), so whatever a transaction does for one user happens
   * after the previous one's, on every front end. */
  if (name)
    return user_query (db, "UPDATE users SET disabled = disabled WHERE name = ?"
                           " RETURNING " USER_COLUMNS, name, 0, error);
  return user_query (db, "UPDATE users SET disabled = disabled WHERE id = ?"
                         " RETURNING " USER_COLUMNS, NULL, id, error);
}

gboolean
kpr_audit (KprCaDb *db, const char *actor, const char *action, const char *detail,
           const char *peer, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "INSERT INTO audit(at, actor, action, detail, peer) VALUES (?, ?, ?, ?, ?)", error);

  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, kpr_now ());
  kpr_ca_db_bind_text (st, 2, actor ? actor : "-");
  kpr_ca_db_bind_text (st, 3, action);
  kpr_ca_db_bind_text (st, 4, detail);
  kpr_ca_db_bind_text (st, 5, peer);
  return kpr_ca_db_run (st, "writing the audit log", error);
}

gboolean
kpr_ca_user_add (KprCa *ca, const char *name, const char *phone, const char *mail,
                 GError **error)
{
  g_autoptr (KprCaDbStmt) st = NULL;
  g_autoptr (GError) local = NULL;
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
  if (mail && !kpr_valid_mail (mail))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "'%s' is not a mail address: write it as name@example.org", mail);
      return FALSE;
    }
  if (!kpr_ca_db_begin (ca->db, error))
    return FALSE;
  st = kpr_ca_db_prepare (ca->db, "INSERT INTO users(name, phone, mail, created)"
                                  " VALUES (?, ?, ?, ?)", error);
  if (!st)
    goto fail;
  kpr_ca_db_bind_text (st, 1, name);
  kpr_ca_db_bind_text (st, 2, phone);
  kpr_ca_db_bind_text (st, 3, mail);
  kpr_ca_db_bind_int64 (st, 4, kpr_now ());
  if (!kpr_ca_db_run (st, "adding the user", &local))
    {
      if (g_error_matches (local, KPR_ERROR, KPR_ERROR_EXISTS))
        g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                     "User '%s' already exists; nothing was changed", name);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      goto fail;
    }
  detail = g_strdup_printf ("user %s added", name);
  if (!kpr_audit (ca->db, "admin", "user-add", detail, NULL, error))
    goto fail;
  return kpr_ca_db_commit (ca->db, error);

fail:
  kpr_ca_db_rollback (ca->db);
  return FALSE;
}

char *
kpr_ca_user_list (KprCa *ca, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    ca->db,
    "SELECT u.name, u.phone, u.disabled, u.failed, u.failed_at,"
    " (SELECT serial FROM certs c WHERE c.user_id = u.id AND c.revoked IS NULL"
    "  AND c.not_after > ?1 ORDER BY issued DESC LIMIT 1)"
    " FROM users u ORDER BY u.name", error);
  g_autoptr (GString) out = g_string_new (NULL);
  gint64 now = kpr_now ();
  KprCaDbStep rc;

  if (!st)
    return NULL;
  kpr_ca_db_bind_int64 (st, 1, now);
  while ((rc = kpr_ca_db_step (st, "listing users", error)) == KPR_CA_DB_ROW)
    {
      const char *serial = kpr_ca_db_column_text (st, 5);
      gint64 score = kpr_backoff_score (&kpr_backoff_user, kpr_ca_db_column_int64 (st, 3),
                                        kpr_ca_db_column_int64 (st, 4), now);

      /* "throttled": enough wrong words lately that guesses must wait; the
       * owner is not kept out. */
      g_string_append_printf (out, "%s %s %s %s\n", kpr_ca_db_column_text (st, 0),
                              kpr_ca_db_column_text (st, 1),
                              kpr_ca_db_column_int64 (st, 2) ? "disabled"
                              : score >= KPR_USER_FREE       ? "throttled"
                                                             : "active",
                              serial ? serial : "-");
    }
  if (rc == KPR_CA_DB_FAILED)
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
burn_words (KprCaDb *db, gint64 user_id, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "UPDATE words SET used = 1 WHERE user_id = ? AND used = 0", error);

  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, user_id);
  return kpr_ca_db_run (st, "retiring secret words", error);
}

gboolean
kpr_ca_user_disable (KprCa *ca, const char *name, guint *ret_revoked, gint64 *ret_generation,
                     GError **error)
{
  g_autoptr (KprUser) user = NULL;
  g_autoptr (KprCaDbStmt) st = NULL;
  g_autofree char *detail = NULL;
  guint count = 0;

  if (!kpr_ca_db_begin (ca->db, error))
    return FALSE;
  user = kpr_user_lock (ca->db, name, 0, error);
  if (!user)
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                     "No user '%s'; 'certkeeper-ca user list DIR' shows the users", name);
      goto fail;
    }
  st = kpr_ca_db_prepare (ca->db, "UPDATE users SET disabled = 1 WHERE id = ?", error);
  if (!st)
    goto fail;
  kpr_ca_db_bind_int64 (st, 1, user->id);
  /* A disabled user keeps nothing that still opens a door. */
  if (!kpr_ca_db_run (st, "disabling the user", error) || !burn_words (ca->db, user->id, error)
      || !kpr_revoke_user_certs (ca->db, user->id, KPR_REASON_CESSATION, &count, error)
      || (count > 0 && !kpr_crl_mark (ca->db, TRUE, ret_generation, error)))
    goto fail;
  detail = g_strdup_printf ("user %s disabled, %u certificate(s) revoked", name, count);
  if (!kpr_audit (ca->db, "admin", "user-disable", detail, NULL, error))
    goto fail;
  if (ret_revoked)
    *ret_revoked = count;
  return kpr_ca_db_commit (ca->db, error);

fail:
  kpr_ca_db_rollback (ca->db);
  return FALSE;
}

/* ---- secret words ------------------------------------------------------ */

/* Upper case, '-' and spaces dropped: "abcd-efgh" typed from a text
 * message still matches.  The result is erased with the secret. */
static KprSecret *
normalize (const KprSecret *password)
{
  KprSecret *norm = kpr_secret_new ("", 0);

  for (gsize i = 0; i < password->len && norm->len < KPR_SECRET_MAX - 1; i++)
    if (password->data[i] != '-' && password->data[i] != ' ')
      norm->data[norm->len++] = g_ascii_toupper (password->data[i]);
  norm->data[norm->len] = '\0';
  return norm;
}

static void
hash_normalized (const KprSecret *norm, const guint8 *salt, guint8 ret_hash[32])
{
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  unsigned int len = 32;

  if (!ctx || !EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL)
      || !EVP_DigestUpdate (ctx, salt, KPR_SALT_LEN)
      || !EVP_DigestUpdate (ctx, norm->data, norm->len)
      || !EVP_DigestFinal_ex (ctx, ret_hash, &len))
    /* Never matches a real hash: a failing digest must not let anyone in. */
    RAND_bytes (ret_hash, 32);
}

void
kpr_word_hash (const KprSecret *password, const guint8 *salt, guint8 ret_hash[32])
{
  g_autoptr (KprSecret) norm = normalize (password);

  hash_normalized (norm, salt, ret_hash);
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
store_word (KprCaDb *db, gint64 user_id, const char *kind, const KprSecret *word,
            gint64 expires, const char *requesters, GError **error)
{
  g_autoptr (KprCaDbStmt) st = NULL;
  guint8 salt[KPR_SALT_LEN];
  guint8 hash[32];

  if (RAND_bytes (salt, sizeof salt) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "No randomness for a salt");
      return FALSE;
    }
  kpr_word_hash (word, salt, hash);
  st = kpr_ca_db_prepare (db, "INSERT INTO words(user_id, kind, salt, hash, created, expires,"
                              " requesters) VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, user_id);
  kpr_ca_db_bind_text (st, 2, kind);
  kpr_ca_db_bind_blob (st, 3, salt, sizeof salt);
  kpr_ca_db_bind_blob (st, 4, hash, sizeof hash);
  kpr_ca_db_bind_int64 (st, 5, kpr_now ());
  kpr_ca_db_bind_int64 (st, 6, expires);
  kpr_ca_db_bind_text (st, 7, requesters ? requesters : "");
  return kpr_ca_db_run (st, "storing a secret word", error);
}

/* Seconds that must pass after the newest unused word before another is
 * made, when @count words were made in the last hour: none for the first
 * few, then a minute, doubling, never longer than a word lives — so the
 * newest word a person received is always still valid. */
static gint64
challenge_gap (gint64 count)
{
  if (count < KPR_CHALLENGE_FREE_WORDS)
    return 0;
  return MIN (KPR_CHALLENGE_GAP << MIN (count - KPR_CHALLENGE_FREE_WORDS, 10), KPR_WORD_TTL);
}

gboolean
kpr_word_challenge (KprCaDb *db, const KprUser *user, const char *source, gint64 now,
                    KprSecret **ret_word, GError **error)
{
  g_autoptr (KprCaDbStmt) recent = NULL;
  g_autoptr (KprCaDbStmt) live = NULL;
  g_autoptr (KprCaDbStmt) upd = NULL;
  g_autoptr (KprSecret) word = NULL;
  g_autofree char *list = NULL;
  gint64 count = 0, id = 0, created = 0;
  KprCaDbStep rc;

  *ret_word = NULL;
  if (user->disabled)
    return kpr_audit (db, user->name, "challenge-refused", "disabled", source, error);
  recent = kpr_ca_db_prepare (db, "SELECT COUNT(*) FROM words WHERE user_id = ?"
                                  " AND kind = 'word' AND created > ?", error);
  live = kpr_ca_db_prepare (db, "SELECT id, created, requesters FROM words WHERE user_id = ?"
                                " AND kind = 'word' AND used = 0 AND expires > ?"
                                " ORDER BY created DESC, id DESC LIMIT 1", error);
  if (!recent || !live)
    return FALSE;
  kpr_ca_db_bind_int64 (recent, 1, user->id);
  kpr_ca_db_bind_int64 (recent, 2, now - 3600);
  if (kpr_ca_db_step (recent, "counting secret words", error) != KPR_CA_DB_ROW)
    return FALSE;
  count = kpr_ca_db_column_int64 (recent, 0);
  kpr_ca_db_bind_int64 (live, 1, user->id);
  kpr_ca_db_bind_int64 (live, 2, now);
  if ((rc = kpr_ca_db_step (live, "looking up secret words", error)) == KPR_CA_DB_FAILED)
    return FALSE;
  if (rc == KPR_CA_DB_ROW)
    {
      id = kpr_ca_db_column_int64 (live, 0);
      created = kpr_ca_db_column_int64 (live, 1);
      list = kpr_requesters_add (kpr_ca_db_column_text (live, 2), source);
    }

  /* An unused word was sent moments ago: nothing is sent and it stays
   * valid; the caller may use it from here too (its address joins the
   * word's requesters).  A word the owner has just used does not hold
   * the next one up. */
  if (id && now - created < challenge_gap (count))
    {
      if (g_str_equal (list, kpr_ca_db_column_text (live, 2)))
        return TRUE;
      upd = kpr_ca_db_prepare (db, "UPDATE words SET requesters = ? WHERE id = ?", error);
      if (!upd)
        return FALSE;
      kpr_ca_db_bind_text (upd, 1, list);
      kpr_ca_db_bind_int64 (upd, 2, id);
      return kpr_ca_db_run (upd, "recording who asked for a word", error);
    }
  /* Older words stay valid until they expire: asking again never takes
   * away the word a person is about to type. */
  if (!(word = random_word (KPR_WORD_LEN, FALSE, error))
      || !store_word (db, user->id, "word", word, now + KPR_WORD_TTL, source, error)
      || !kpr_audit (db, user->name, "challenge", "secret word created", source, error))
    return FALSE;
  *ret_word = g_steal_pointer (&word);
  return TRUE;
}

KprSecret *
kpr_ca_code_new (KprCa *ca, const char *name, gint64 ttl, GError **error)
{
  g_autoptr (KprUser) user = NULL;
  g_autoptr (KprSecret) code = NULL;
  g_autofree char *detail = NULL;

  if (!kpr_ca_db_begin (ca->db, error))
    return NULL;
  user = kpr_user_lookup (ca->db, name, error);
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
      || !store_word (ca->db, user->id, "code", code, kpr_now () + ttl, NULL, error)
      || !kpr_audit (ca->db, name, "code", detail, NULL, error)
      || !kpr_ca_db_commit (ca->db, error))
    goto fail;
  return g_steal_pointer (&code);

fail:
  kpr_ca_db_rollback (ca->db);
  return NULL;
}

static gboolean
set_failures (KprCaDb *db, gint64 user_id, gint64 failed, gint64 at, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "UPDATE users SET failed = ?, failed_at = ? WHERE id = ?", error);

  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, failed);
  kpr_ca_db_bind_int64 (st, 2, at);
  kpr_ca_db_bind_int64 (st, 3, user_id);
  return kpr_ca_db_run (st, "counting failures", error);
}

gboolean
kpr_word_check (KprCaDb *db, const KprUser *user, const KprSecret *password,
                const char *source, gint64 now, KprWordCheck *ret, GError **error)
{
  g_autoptr (KprCaDbStmt) st = NULL;
  g_autoptr (KprSecret) norm = normalize (password);
  /* Codes are twice as long as words: the length says which to look at,
   * so a guess at a word never touches a code and vice versa. */
  const char *kind = norm->len == KPR_CODE_LEN ? "code" : "word";
  gboolean outstanding = FALSE, exempt = FALSE;
  gint64 match = 0;
  KprCaDbStep rc;

  memset (ret, 0, sizeof *ret);
  if (user->disabled || (norm->len != KPR_CODE_LEN && norm->len != KPR_WORD_LEN))
    goto wrong;
  st = kpr_ca_db_prepare (db, "SELECT id, salt, hash, requesters FROM words WHERE user_id = ?"
                              " AND kind = ? AND used = 0 AND expires > ?", error);
  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, user->id);
  kpr_ca_db_bind_text (st, 2, kind);
  kpr_ca_db_bind_int64 (st, 3, now);
  /* Compare against every live one without stopping at a match. */
  while ((rc = kpr_ca_db_step (st, "checking the secret word", error)) == KPR_CA_DB_ROW)
    {
      guint8 hash[32];
      gsize salt_len = 0, hash_len = 0;
      const guint8 *salt = kpr_ca_db_column_blob (st, 1, &salt_len);
      const guint8 *stored = kpr_ca_db_column_blob (st, 2, &hash_len);

      outstanding = TRUE;
      exempt |= kpr_requesters_contain (kpr_ca_db_column_text (st, 3), source);
      if (salt_len != KPR_SALT_LEN || hash_len != 32)
        continue;
      /* Normalized once: no locked buffer per stored word. */
      hash_normalized (norm, salt, hash);
      if (CRYPTO_memcmp (hash, stored, 32) == 0)
        match = kpr_ca_db_column_int64 (st, 0);
    }
  if (rc == KPR_CA_DB_FAILED)
    return FALSE;

  /* Codes are long random strings: only the per-address back-off guards
   * them, and no one else's guesses can hold them up. */
  if (g_str_equal (kind, "code"))
    {
      if (!match)
        goto wrong;
      ret->word_id = match;
      return TRUE;
    }
  /* No word outstanding: nothing to guess, nothing counted. */
  if (!outstanding)
    goto wrong;
  /* The owner asked for the word from this address: other people's
   * guesses do not hold them up (the per-address back-off still counts). */
  if (!exempt)
    {
      ret->retry_after = kpr_backoff_wait (&kpr_backoff_user, user->failed, user->failed_at, now);
      if (ret->retry_after > 0)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BUSY,
                       "Too many wrong secret words for %s lately: try again in %" G_GINT64_FORMAT
                       " s", user->name, ret->retry_after);
          return FALSE;
        }
    }
  if (match)
    {
      if (user->failed > 0 && !set_failures (db, user->id, 0, 0, error))
        return FALSE;
      ret->word_id = match;
      return TRUE;
    }
  ret->counted = TRUE;
  if (!set_failures (db, user->id,
                     kpr_backoff_score (&kpr_backoff_user, user->failed, user->failed_at, now) + 1,
                     now, error)
      || !kpr_audit (db, user->name, "auth-fail", "wrong secret word", source, error))
    return FALSE;

wrong:
  /* Same text whether the name exists or not. */
  g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "Wrong username or secret word");
  return FALSE;
}

gboolean
kpr_word_consume (KprCaDb *db, gint64 word_id, gint64 now, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "UPDATE words SET used = 1 WHERE id = ? AND used = 0 AND expires > ?", error);

  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, word_id);
  kpr_ca_db_bind_int64 (st, 2, now);
  if (!kpr_ca_db_run (st, "using the secret word", error))
    return FALSE;
  /* Someone else used it between the check and now (another front end:
   * the row lock made us wait, and the update found it used). */
  if (kpr_ca_db_changes (st) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "This secret word was already used; request a new one");
      return FALSE;
    }
  return TRUE;
}
