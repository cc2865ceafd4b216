/* kpr-requests.c — manual approval and the mailed .cer (seed 0: "if the
 * certificate did not get installed, the user can finish later with the
 * .cer file that the server mailed").
 *
 * With `init --approval manual` simpleenroll and serverkeygen record a
 * request (consuming the word) and answer 202 with its ID.  `approve DIR
 * ID` issues the certificate there and then (for a server-generated key,
 * when the client comes back, since the key must reach it), so that `cert
 * DIR ID --to FILE.cer` can write it and `serve --mail-command` can mail it
 * to the user; the client's next poll gets the same certificate.  `reject
 * DIR ID --reason TEXT` closes the request; the client is told the reason.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

void
kpr_pending_free (KprPending *p)
{
  if (!p)
    return;
  g_free (p->reason);
  g_free (p->serial);
  g_free (p);
}

gint64
kpr_pending_create (KprCaDb *db, const KprUser *user, const KprPubkey *pub, KprIssueKind kind,
                    const KprSecret *password, const char *peer, GError **error)
{
  g_autoptr (KprCaDbStmt) st = NULL;
  g_autofree char *detail = NULL;
  guint8 salt[KPR_SALT_LEN];
  guint8 hash[32];
  gint64 id;

  if (RAND_bytes (salt, sizeof salt) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "No randomness for a salt");
      return 0;
    }
  /* The word is spent; its hash lets the same client repeat the request
   * (RFC 7030 §4.2.3) and opens nothing else. */
  kpr_word_hash (password, salt, hash);
  st = kpr_ca_db_prepare (db, "INSERT INTO pending(user_id, kind, pubkey, salt, hash, created,"
                              " spki, key_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                          error);
  if (!st)
    return 0;
  kpr_ca_db_bind_int64 (st, 1, user->id);
  kpr_ca_db_bind_text (st, 2, kpr_issue_kind_name (kind));
  kpr_ca_db_bind_text (st, 3, pub->fingerprint);
  kpr_ca_db_bind_blob (st, 4, salt, sizeof salt);
  kpr_ca_db_bind_blob (st, 5, hash, sizeof hash);
  kpr_ca_db_bind_int64 (st, 6, kpr_now ());
  kpr_ca_db_bind_blob (st, 7, g_bytes_get_data (pub->spki, NULL), g_bytes_get_size (pub->spki));
  kpr_ca_db_bind_text (st, 8, pub->type);
  if (kpr_ca_db_step (st, "recording the request", error) != KPR_CA_DB_ROW)
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "The request got no ID");
      return 0;
    }
  id = kpr_ca_db_column_int64 (st, 0);
  if (!kpr_ca_db_run (st, "recording the request", error))
    return 0;
  detail = g_strdup_printf ("request %" G_GINT64_FORMAT " (%s, %s) waits for approval", id,
                            kpr_issue_kind_name (kind), pub->type);
  if (!kpr_audit (db, user->name, "pending", detail, peer, error))
    return 0;
  return id;
}

#define PENDING_COLUMNS "id, user_id, approved, done, rejected, reason, serial, salt, hash"

static KprPending *
pending_row (KprCaDbStmt *st)
{
  KprPending *p = g_new0 (KprPending, 1);

  p->id = kpr_ca_db_column_int64 (st, 0);
  p->user_id = kpr_ca_db_column_int64 (st, 1);
  p->approved = kpr_ca_db_column_int64 (st, 2) != 0;
  p->done = kpr_ca_db_column_int64 (st, 3) != 0;
  p->rejected = kpr_ca_db_column_int64 (st, 4) != 0;
  p->reason = g_strdup (kpr_ca_db_column_text (st, 5));
  p->serial = g_strdup (kpr_ca_db_column_text (st, 6));
  return p;
}

KprPending *
kpr_pending_find (KprCaDb *db, gint64 user_id, const char *fingerprint, KprIssueKind kind,
                  const KprSecret *password, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT " PENDING_COLUMNS " FROM pending WHERE user_id = ? AND kind = ? AND pubkey = ?"
        " ORDER BY id DESC", error);
  KprPending *found = NULL;
  KprCaDbStep rc;

  if (!st)
    return NULL;
  kpr_ca_db_bind_int64 (st, 1, user_id);
  kpr_ca_db_bind_text (st, 2, kpr_issue_kind_name (kind));
  kpr_ca_db_bind_text (st, 3, fingerprint);
  while ((rc = kpr_ca_db_step (st, "looking up requests", error)) == KPR_CA_DB_ROW)
    {
      guint8 hash[32];
      gsize salt_len = 0, hash_len = 0;
      const guint8 *salt = kpr_ca_db_column_blob (st, 7, &salt_len);
      const guint8 *stored = kpr_ca_db_column_blob (st, 8, &hash_len);

      if (found || salt_len != KPR_SALT_LEN || hash_len != 32)
        continue;
      kpr_word_hash (password, salt, hash);
      if (CRYPTO_memcmp (hash, stored, 32) == 0)
        found = pending_row (st);
    }
  if (rc == KPR_CA_DB_FAILED)
    g_clear_pointer (&found, kpr_pending_free);
  return found;
}

KprPending *
kpr_pending_find_by_key (KprCaDb *db, const char *fingerprint, KprIssueKind kind,
                         GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT " PENDING_COLUMNS " FROM pending WHERE kind = ? AND pubkey = ?"
        " ORDER BY id DESC LIMIT 1", error);

  if (!st)
    return NULL;
  kpr_ca_db_bind_text (st, 1, kpr_issue_kind_name (kind));
  kpr_ca_db_bind_text (st, 2, fingerprint);
  if (kpr_ca_db_step (st, "looking up requests", error) != KPR_CA_DB_ROW)
    return NULL;
  return pending_row (st);
}

gboolean
kpr_pending_close (KprCaDb *db, gint64 id, const char *serial, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "UPDATE pending SET approved = 1, done = 1, serial = ? WHERE id = ? AND done = 0",
    error);

  if (!st)
    return FALSE;
  kpr_ca_db_bind_text (st, 1, serial);
  kpr_ca_db_bind_int64 (st, 2, id);
  if (!kpr_ca_db_run (st, "closing the request", error))
    return FALSE;
  if (kpr_ca_db_changes (st) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                   "Request %" G_GINT64_FORMAT " was already fetched; enroll again with a new "
                   "secret word", id);
      return FALSE;
    }
  return TRUE;
}

/* ---- the administrator's side --------------------------------------------- */

typedef struct {
  gint64 user_id;
  char *user;
  char *kind;
  GBytes *spki;
  gboolean approved, done, rejected;
} RequestRow;

static void
request_row_clear (RequestRow *r)
{
  g_free (r->user);
  g_free (r->kind);
  g_clear_pointer (&r->spki, g_bytes_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RequestRow, request_row_clear)

static gboolean
load_request (KprCaDb *db, gint64 id, RequestRow *ret, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT p.user_id, u.name, p.kind, p.spki, p.approved, p.done, p.rejected FROM pending p"
        " JOIN users u ON u.id = p.user_id WHERE p.id = ?", error);
  const guint8 *spki;
  gsize len = 0;

  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, id);
  switch (kpr_ca_db_step (st, "looking up the request", error))
    {
    case KPR_CA_DB_FAILED:
      return FALSE;
    case KPR_CA_DB_DONE:
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "No request %" G_GINT64_FORMAT "; 'certkeeper-ca requests DIR --pending' "
                   "lists the waiting ones", id);
      return FALSE;
    case KPR_CA_DB_ROW:
      break;
    }
  ret->user_id = kpr_ca_db_column_int64 (st, 0);
  ret->user = g_strdup (kpr_ca_db_column_text (st, 1));
  ret->kind = g_strdup (kpr_ca_db_column_text (st, 2));
  spki = kpr_ca_db_column_blob (st, 3, &len);
  ret->spki = spki ? g_bytes_new (spki, len) : NULL;
  ret->approved = kpr_ca_db_column_int64 (st, 4) != 0;
  ret->done = kpr_ca_db_column_int64 (st, 5) != 0;
  ret->rejected = kpr_ca_db_column_int64 (st, 6) != 0;
  return TRUE;
}

static gboolean
check_open (gint64 id, const RequestRow *r, GError **error)
{
  if (r->rejected)
    g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                 "Request %" G_GINT64_FORMAT " was rejected; the user enrolls again", id);
  else if (r->done)
    g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                 "Request %" G_GINT64_FORMAT " was already approved and issued; 'cert DIR %"
                 G_GINT64_FORMAT " --to FILE.cer' writes its certificate", id, id);
  else if (r->approved)
    g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                 "Request %" G_GINT64_FORMAT " was already approved; the client fetches it", id);
  else
    return TRUE;
  return FALSE;
}

gboolean
kpr_ca_approve (KprCa *ca, gint64 id, KprPinFunc pin_func, gpointer pin_data,
                KprApproved *ret, GError **error)
{
  g_auto (RequestRow) r = { 0 };
  g_autoptr (KprUser) user = NULL;
  g_autoptr (KprPubkey) pub = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprCaDbStmt) upd = NULL;
  g_autofree char *detail = NULL;
  gint64 generation = 0;

  memset (ret, 0, sizeof *ret);
  if (!kpr_ca_db_begin (ca->db, error))
    return FALSE;
  if (!load_request (ca->db, id, &r, error) || !check_open (id, &r, error))
    goto fail;
  if (!(user = kpr_user_lock (ca->db, NULL, r.user_id, error)))
    goto fail;
  ret->user = g_strdup (user->name);
  if (g_str_equal (r.kind, kpr_issue_kind_name (KPR_ISSUE_ENROLL)) && r.spki)
    {
      g_autofree char *serial = NULL;

      /* Issued here, so it can be written and mailed as the .cer. */
      if (!kpr_ca_unlock (ca, pin_func, pin_data, error)
          || !(pub = kpr_pubkey_from_spki (g_bytes_get_data (r.spki, NULL),
                                           g_bytes_get_size (r.spki), error))
          || !(cert = kpr_issue (ca, ca->db, user, pub, KPR_ISSUE_ENROLL, id, NULL, &generation,
                                 error))
          || !(serial = kpr_cert_serial_hex (cert)) || !kpr_pending_close (ca->db, id, serial, error))
        goto fail;
      ret->serial = g_steal_pointer (&serial);
    }
  else
    {
      /* A server-generated key is made when the client comes for it. */
      upd = kpr_ca_db_prepare (ca->db, "UPDATE pending SET approved = 1 WHERE id = ?", error);
      if (!upd)
        goto fail;
      kpr_ca_db_bind_int64 (upd, 1, id);
      if (!kpr_ca_db_run (upd, "approving", error))
        goto fail;
    }
  detail = ret->serial ? g_strdup_printf ("request %" G_GINT64_FORMAT " approved, serial %s", id,
                                          ret->serial)
                       : g_strdup_printf ("request %" G_GINT64_FORMAT " approved", id);
  if (!kpr_audit (ca->db, "admin", "approve", detail, NULL, error)
      || !kpr_ca_db_commit (ca->db, error))
    goto fail;
  ret->crl_generation = generation;
  return TRUE;

fail:
  kpr_ca_db_rollback (ca->db);
  return FALSE;
}

gboolean
kpr_ca_reject (KprCa *ca, gint64 id, const char *reason, char **ret_user, GError **error)
{
  g_auto (RequestRow) r = { 0 };
  g_autoptr (KprCaDbStmt) upd = NULL;
  g_autofree char *detail = NULL;

  if (reason && (strlen (reason) > 200 || !g_utf8_validate (reason, -1, NULL)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "--reason must be at most 200 characters of text");
      return FALSE;
    }
  if (!kpr_ca_db_begin (ca->db, error))
    return FALSE;
  if (!load_request (ca->db, id, &r, error) || !check_open (id, &r, error))
    goto fail;
  upd = kpr_ca_db_prepare (ca->db, "UPDATE pending SET rejected = 1, reason = ? WHERE id = ?",
                           error);
  if (!upd)
    goto fail;
  kpr_ca_db_bind_text (upd, 1, reason);
  kpr_ca_db_bind_int64 (upd, 2, id);
  detail = g_strdup_printf ("request %" G_GINT64_FORMAT " rejected%s%s", id,
                            reason ? ": " : "", reason ? reason : "");
  if (!kpr_ca_db_run (upd, "rejecting", error)
      || !kpr_audit (ca->db, "admin", "reject", detail, NULL, error)
      || !kpr_ca_db_commit (ca->db, error))
    goto fail;
  if (ret_user)
    *ret_user = g_steal_pointer (&r.user);
  return TRUE;

fail:
  kpr_ca_db_rollback (ca->db);
  return FALSE;
}

static const char *
state_name (gboolean approved, gboolean done, gboolean rejected)
{
  return rejected ? "rejected" : done ? "issued" : approved ? "approved" : "pending";
}

char *
kpr_ca_requests (KprCa *ca, gboolean pending_only, gboolean json, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    ca->db, pending_only
              ? "SELECT p.id, u.name, p.key_type, p.created, p.approved, p.done, p.rejected,"
                " p.serial, p.reason, p.kind FROM pending p JOIN users u ON u.id = p.user_id"
                " WHERE p.approved = 0 AND p.rejected = 0 ORDER BY p.id"
              : "SELECT p.id, u.name, p.key_type, p.created, p.approved, p.done, p.rejected,"
                " p.serial, p.reason, p.kind FROM pending p JOIN users u ON u.id = p.user_id"
                " ORDER BY p.id", error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GString) text = g_string_new (NULL);
  KprCaDbStep rc;

  if (!st)
    return NULL;
  json_builder_begin_array (b);
  g_string_append_printf (text, "%-6s %-16s %-20s %-10s %-20s %s\n", "ID", "USER", "SUBJECT",
                          "KEY", "SUBMITTED", "STATE");
  while ((rc = kpr_ca_db_step (st, "listing requests", error)) == KPR_CA_DB_ROW)
    {
      const char *user = kpr_ca_db_column_text (st, 1);
      const char *key = kpr_ca_db_column_text (st, 2);
      const char *serial = kpr_ca_db_column_text (st, 7);
      const char *reason = kpr_ca_db_column_text (st, 8);
      const char *state = state_name (kpr_ca_db_column_int64 (st, 4),
                                      kpr_ca_db_column_int64 (st, 5),
                                      kpr_ca_db_column_int64 (st, 6));
      g_autofree char *subject = g_strdup_printf ("CN=%s", user);
      g_autofree char *when = kpr_time_iso (kpr_ca_db_column_int64 (st, 3));

      g_string_append_printf (text, "%-6" G_GINT64_FORMAT " %-16s %-20s %-10s %-20s %s\n",
                              kpr_ca_db_column_int64 (st, 0), user, subject, key ? key : "-",
                              when, state);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, kpr_ca_db_column_int64 (st, 0));
      json_builder_set_member_name (b, "user");
      json_builder_add_string_value (b, user);
      json_builder_set_member_name (b, "subject");
      json_builder_add_string_value (b, subject);
      json_builder_set_member_name (b, "key_type");
      key ? json_builder_add_string_value (b, key) : json_builder_add_null_value (b);
      json_builder_set_member_name (b, "operation");
      json_builder_add_string_value (b, kpr_ca_db_column_text (st, 9));
      json_builder_set_member_name (b, "submitted");
      json_builder_add_string_value (b, when);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, state);
      json_builder_set_member_name (b, "serial");
      serial ? json_builder_add_string_value (b, serial) : json_builder_add_null_value (b);
      json_builder_set_member_name (b, "reason");
      reason ? json_builder_add_string_value (b, reason) : json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  if (rc == KPR_CA_DB_FAILED)
    return NULL;
  json_builder_end_array (b);
  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autoptr (JsonGenerator) gen = json_generator_new ();

      g_autofree char *data = NULL;

      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, TRUE);
      data = json_generator_to_data (gen, NULL);
      return g_strconcat (data, "\n", NULL);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

GBytes *
kpr_ca_cert_der (KprCa *ca, const char *which, GError **error)
{
  g_autoptr (KprCertRow) row = NULL;
  g_autofree char *serial = NULL;
  guint64 id = 0;
  unsigned char *der = NULL;
  GBytes *bytes;
  int len;

  /* A request ID is a small decimal number; a serial is 32 hex digits. */
  if (strlen (which) <= 18 && g_ascii_string_to_unsigned (which, 10, 1, G_MAXINT64, &id, NULL))
    {
      g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
        ca->db, "SELECT serial, approved, done, rejected FROM pending WHERE id = ?", error);

      if (!st)
        return NULL;
      kpr_ca_db_bind_int64 (st, 1, (gint64) id);
      switch (kpr_ca_db_step (st, "looking up the request", error))
        {
        case KPR_CA_DB_FAILED:
          return NULL;
        case KPR_CA_DB_DONE:
          g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                       "No request %s; 'certkeeper-ca requests DIR' lists them", which);
          return NULL;
        case KPR_CA_DB_ROW:
          break;
        }
      if (kpr_ca_db_column_null (st, 0))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                       "Request %s has no certificate: it is %s%s", which,
                       state_name (kpr_ca_db_column_int64 (st, 1), kpr_ca_db_column_int64 (st, 2),
                                   kpr_ca_db_column_int64 (st, 3)),
                       kpr_ca_db_column_int64 (st, 1) ? " (a server-generated key is issued when "
                                                        "the client fetches it)"
                                                      : "; approve it first");
          return NULL;
        }
      serial = g_strdup (kpr_ca_db_column_text (st, 0));
    }
  else if (!(serial = kpr_serial_normalize (which, error)))
    {
      g_prefix_error (error, "Give a request ID or a certificate serial: ");
      return NULL;
    }
  if (!(row = kpr_cert_by_serial (ca->db, serial, error)))
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "No certificate with serial %s",
                     serial);
      return NULL;
    }
  if (!row->cert || (len = i2d_X509 (row->cert, &der)) <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "The stored certificate is damaged");
      return NULL;
    }
  bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

GPtrArray *
kpr_mail_claim (KprCaDb *db, gint64 now, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT p.id, p.serial, u.name, u.mail, c.der FROM pending p"
        " JOIN users u ON u.id = p.user_id JOIN certs c ON c.serial = p.serial"
        " WHERE p.done = 1 AND p.mailed = 0 AND u.mail IS NOT NULL AND c.revoked IS NULL"
        " AND c.not_after > ? ORDER BY p.id LIMIT 16", error);
  g_autoptr (GPtrArray) mails = g_ptr_array_new_with_free_func (
    (GDestroyNotify) kpr_issued_mail_free);
  KprCaDbStep rc;

  if (!st)
    return NULL;
  kpr_ca_db_bind_int64 (st, 1, now);
  while ((rc = kpr_ca_db_step (st, "looking for certificates to mail", error)) == KPR_CA_DB_ROW)
    {
      KprIssuedMail *m = g_new0 (KprIssuedMail, 1);
      gsize len = 0;
      const guint8 *der = kpr_ca_db_column_blob (st, 4, &len);

      m->request_id = kpr_ca_db_column_int64 (st, 0);
      m->serial = g_strdup (kpr_ca_db_column_text (st, 1));
      m->user = g_strdup (kpr_ca_db_column_text (st, 2));
      m->address = g_strdup (kpr_ca_db_column_text (st, 3));
      m->der = g_bytes_new (der, len);
      g_ptr_array_add (mails, m);
    }
  if (rc == KPR_CA_DB_FAILED)
    return NULL;
  g_clear_pointer (&st, kpr_ca_db_stmt_release);
  /* Claimed by exactly one front end: the one whose update changed it. */
  for (guint i = 0; i < mails->len;)
    {
      KprIssuedMail *m = mails->pdata[i];
      g_autoptr (KprCaDbStmt) upd = kpr_ca_db_prepare (
        db, "UPDATE pending SET mailed = 1 WHERE id = ? AND mailed = 0", error);

      if (!upd)
        return NULL;
      kpr_ca_db_bind_int64 (upd, 1, m->request_id);
      if (!kpr_ca_db_run (upd, "claiming a mail", error))
        return NULL;
      if (kpr_ca_db_changes (upd) == 1)
        i++;
      else
        g_ptr_array_remove_index (mails, i);
    }
  return g_steal_pointer (&mails);
}

void
kpr_approved_clear (KprApproved *a)
{
  g_clear_pointer (&a->user, g_free);
  g_clear_pointer (&a->serial, g_free);
}
