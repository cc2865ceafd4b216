/* kpr-enroll.c — what the writer thread does for each EST request
 * (kpr-writer.c runs these jobs; kpr-handlers.c makes them and answers).
 *
 * Everything a request decides — who the user is, whether the word is
 * right, whether a request waits for approval, which certificate to issue
 * or return — is decided here, in the transaction that also records it,
 * with the user's row locked: two front ends, or two requests on one, see
 * each other's effects in order.
 *
 * Lost answers (the client crashed, the network dropped) are recovered
 * without a second certificate or a second secret word: a repeated
 * simpleenroll of the same user for the same key within KPR_RECOVERY_WINDOW
 * of the issuance gets the same certificate; after that it is a new
 * enrollment (a new word, a new certificate that supersedes the old).  A
 * key certified for another user is refused before any word is spent.
 * simplereenroll always issues a new certificate, also for the same key
 * (RFC 7030 §4.2.2); only when the presented certificate was already
 * superseded by the one asked for is that one returned.
 */
#include "config.h"

#include "kpr-server-private.h"
#include "kpr-est-codec.h"

static void
enroll_clear (KprEnrollJob *j)
{
  g_clear_pointer (&j->cert, X509_free);
  g_clear_pointer (&j->server_key, EVP_PKEY_free);
  if (j->server_body)
    kpr_memory_erase (j->server_body, j->server_body_len);
  g_clear_pointer (&j->server_body, g_free);
  g_clear_pointer (&j->server_body_type, g_free);
  j->server_body_len = 0;
  g_clear_pointer (&j->log, g_free);
  j->pending_id = 0;
  j->auth_failed = FALSE;
  j->retry_after = 0;
}

/* A failure to report; TRUE keeps what the step wrote (failure counts). */
static gboolean
refuse (KprEnrollJob *j, GError *error)
{
  if (g_error_matches (error, KPR_ERROR, KPR_ERROR_AUTH))
    j->auth_failed = TRUE;
  g_propagate_error (&j->job.error, error);
  return TRUE;
}

static gboolean
refusal (KprEnrollJob *j, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
refusal (KprEnrollJob *j, int code, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  return refuse (j, g_error_new_literal (KPR_ERROR, code, text));
}

/* For simpleenroll: someone else's key is refused; the same user's fresh
 * certificate for this key is the lost answer.  TRUE when decided. */
static gboolean
known_key (KprEnrollJob *j, KprCaDb *db, const KprUser *user, gint64 now, gboolean *ret_decided)
{
  g_autoptr (KprCertRow) row = NULL;
  g_autoptr (GError) error = NULL;

  *ret_decided = FALSE;
  row = kpr_cert_current_by_key (db, j->pub->fingerprint, now, &error);
  if (error)
    {
      g_propagate_error (&j->job.error, g_steal_pointer (&error));
      return FALSE;
    }
  if (!row)
    return TRUE;
  *ret_decided = TRUE;
  if (row->user_id != user->id)
    return refusal (j, KPR_ERROR_REJECTED,
                    "This public key is already certified for another user; make a new key "
                    "and a new request");
  if (row->issued >= now - KPR_RECOVERY_WINDOW && row->cert)
    {
      j->cert = X509_dup (row->cert);
      j->log = g_strdup_printf ("%s: returned %s's certificate %s already issued for this key",
                                kpr_issue_kind_name (j->kind), user->name, row->serial);
      return TRUE;
    }
  *ret_decided = FALSE;
  return TRUE;
}

/* Without credentials: the lost answer of the user the CSR names, for
 * its key, recently issued.  FALSE with @error on a database failure. */
static gboolean
recovered (KprEnrollJob *j, KprCaDb *db, gint64 now, GError **error)
{
  g_autoptr (KprCertRow) row = kpr_cert_current_by_key (db, j->pub->fingerprint, now, error);
  g_autoptr (KprUser) owner = NULL;

  if (!row || !row->cert || row->issued < now - KPR_RECOVERY_WINDOW || !j->csr_name)
    return FALSE;
  if (!(owner = kpr_user_lookup_id (db, row->user_id, error)) || owner->disabled
      || !g_str_equal (owner->name, j->csr_name))
    return FALSE;
  j->cert = X509_dup (row->cert);
  j->log = g_strdup_printf ("%s: returned %s's certificate %s already issued for this key",
                            kpr_issue_kind_name (j->kind), owner->name, row->serial);
  return TRUE;
}

static gboolean
serverkeygen_answer (KprEnrollJob *j, GError **error)
{
  g_autoptr (KprX509Stack) stack = sk_X509_new_null ();

  if (!stack || !X509_up_ref (j->cert))
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Out of memory");
  if (!sk_X509_push (stack, j->cert))
    {
      X509_free (j->cert);
      return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Out of memory");
    }
  j->server_body = kpr_est_serverkeygen_build (j->server_key, stack, &j->server_body_type,
                                               &j->server_body_len, error);
  return j->server_body != NULL;
}

static gboolean
issue (KprEnrollJob *j, KprCa *ca, KprCaDb *db, const KprUser *user, gint64 request_id)
{
  g_autoptr (KprPubkey) server_pub = NULL;
  g_autoptr (GError) error = NULL;
  const KprPubkey *pub = j->pub;
  g_autofree char *serial = NULL;

  if (j->kind == KPR_ISSUE_SERVERKEYGEN)
    {
      EVP_PKEY *csr_key = j->pub->key;

      /* A key like the one the CSR holds, when that type is allowed;
       * P-256 otherwise (RFC 7030 §4.4.1: the CSR's key itself is
       * ignored). */
      if (csr_key && kpr_policy_check_key (csr_key, NULL) && EVP_PKEY_is_a (csr_key, "RSA"))
        j->server_key = kpr_key_generate ("RSA", MIN (EVP_PKEY_get_bits (csr_key), 4096), &error);
      else if (csr_key && kpr_policy_check_key (csr_key, NULL) && EVP_PKEY_get_bits (csr_key) > 256)
        j->server_key = kpr_key_generate ("P-384", 0, &error);
      else
        j->server_key = kpr_key_generate ("P-256", 0, &error);
      if (!j->server_key || !(server_pub = kpr_pubkey_from_key (j->server_key, &error)))
        goto fail;
      pub = server_pub;
    }
  if (!(j->cert = kpr_issue (ca, db, user, pub, j->kind, request_id, j->peer,
                             &j->job.crl_generation, &error)))
    goto fail;
  /* The answer is built before the transaction commits: if it cannot be
   * made, the word stays unspent and nothing is issued or superseded. */
  if (j->kind == KPR_ISSUE_SERVERKEYGEN && !serverkeygen_answer (j, &error))
    goto fail;
  serial = kpr_cert_serial_hex (j->cert);
  if (request_id > 0 && !kpr_pending_close (db, request_id, serial, &error))
    goto fail;
  j->log = g_strdup_printf ("%s: certificate %s issued to %s", kpr_issue_kind_name (j->kind),
                            serial, user->name);
  return TRUE;

fail:
  g_clear_pointer (&j->cert, X509_free);
  g_clear_pointer (&j->server_key, EVP_PKEY_free);
  g_propagate_error (&j->job.error, g_steal_pointer (&error));
  /* Nothing of it stays, the word included. */
  return FALSE;
}

/* A recorded request, found by the word that opened it or by its key. */
static gboolean
pending_state (KprEnrollJob *j, KprCa *ca, KprCaDb *db, const KprPending *p, gint64 now)
{
  g_autoptr (KprUser) user = NULL;
  g_autoptr (KprCertRow) row = NULL;
  g_autoptr (GError) error = NULL;

  if (p->rejected)
    return refusal (j, KPR_ERROR_REJECTED, "Request %" G_GINT64_FORMAT " was rejected%s%s",
                    p->id, p->reason ? ": " : "", p->reason ? p->reason : "");
  if (p->serial)
    {
      if (j->kind == KPR_ISSUE_SERVERKEYGEN)
        return refusal (j, KPR_ERROR_REJECTED,
                        "The key and certificate of request %" G_GINT64_FORMAT " were already "
                        "fetched; enroll again with a new secret word", p->id);
      if (!(row = kpr_cert_by_serial (db, p->serial, &error)))
        goto fail;
      if (row->revoked || row->not_after <= now || !row->cert)
        return refusal (j, KPR_ERROR_REJECTED,
                        "The certificate of request %" G_GINT64_FORMAT " was revoked or has "
                        "expired; enroll again with a new secret word", p->id);
      j->cert = X509_dup (row->cert);
      j->log = g_strdup_printf ("%s: request %" G_GINT64_FORMAT " fetched", kpr_issue_kind_name (j->kind),
                                p->id);
      return TRUE;
    }
  if (!p->approved)
    {
      j->pending_id = p->id;
      return TRUE;
    }
  /* Approved and not issued yet: a server-generated key, made now. */
  if (!(user = kpr_user_lock (db, NULL, p->user_id, &error)))
    goto fail;
  return issue (j, ca, db, user, p->id);

fail:
  if (!error)
    g_set_error (&error, KPR_ERROR, KPR_ERROR_INTERNAL, "The request's records are inconsistent");
  g_propagate_error (&j->job.error, g_steal_pointer (&error));
  return FALSE;
}

static gboolean
check_word (KprEnrollJob *j, KprCaDb *db, const KprUser *user, gint64 now, gint64 *ret_word)
{
  KprWordCheck check;
  GError *error = NULL;

  if (kpr_word_check (db, user, j->password, j->source, now, &check, &error))
    {
      *ret_word = check.word_id;
      return TRUE;
    }
  /* Refused: the caller keeps the failure count the check wrote. */
  j->retry_after = check.retry_after;
  refuse (j, error);
  return FALSE;
}

static gboolean
enroll (KprEnrollJob *j, KprCa *ca, KprCaDb *db, gint64 now)
{
  g_autoptr (KprUser) user = NULL;
  g_autoptr (KprPending) p = NULL;
  g_autoptr (GError) error = NULL;
  gboolean decided = FALSE;
  gint64 word_id = 0;
  gint64 id;

  /* Repeated without credentials: a poll of a recorded request (manual
   * approval), or a request whose answer was lost.  The word that opened
   * it is spent, and the certificate is useless to anyone without the
   * CSR's private key, which signed the CSR. */
  if (!j->name)
    {
      if (j->manual && (p = kpr_pending_find_by_key (db, j->pub->fingerprint, j->kind, &error)))
        return pending_state (j, ca, db, p, now);
      if (error)
        return g_propagate_error (&j->job.error, g_steal_pointer (&error)), FALSE;
      if (j->kind == KPR_ISSUE_ENROLL && !recovered (j, db, now, &error) && error)
        return g_propagate_error (&j->job.error, g_steal_pointer (&error)), FALSE;
      if (!j->cert)
        g_set_error (&j->job.error, KPR_ERROR, KPR_ERROR_AUTH,
                     "This operation needs HTTP Basic authentication: your username and the "
                     "secret word (or an enrollment code)");
      return TRUE;
    }
  if (!(user = kpr_user_lock (db, j->name, 0, &error)))
    {
      if (error)
        return g_propagate_error (&j->job.error, g_steal_pointer (&error)), FALSE;
      /* Same text as a wrong word: the answer must not tell whether the
       * name exists. */
      return refusal (j, KPR_ERROR_AUTH, "Wrong username or secret word");
    }
  if (j->kind == KPR_ISSUE_ENROLL)
    {
      if (!known_key (j, db, user, now, &decided))
        return FALSE;
      if (decided)
        return TRUE;
    }

  if (j->manual)
    {
      /* A re-POST of a recorded request authenticates with the word that
       * opened it (already consumed, so it opens nothing else). */
      p = kpr_pending_find (db, user->id, j->pub->fingerprint, j->kind, j->password, &error);
      if (error)
        return g_propagate_error (&j->job.error, g_steal_pointer (&error)), FALSE;
      if (p)
        return pending_state (j, ca, db, p, now);
      if (!check_word (j, db, user, now, &word_id))
        return j->auth_failed || j->retry_after > 0;
      if (!kpr_word_consume (db, word_id, now, &error)
          || !(id = kpr_pending_create (db, user, j->pub, j->kind, j->password, j->peer, &error)))
        return refuse (j, g_steal_pointer (&error)), FALSE;
      j->pending_id = id;
      j->log = g_strdup_printf ("request %" G_GINT64_FORMAT " from %s waits for approval", id,
                                user->name);
      return TRUE;
    }
  if (!check_word (j, db, user, now, &word_id))
    return j->auth_failed || j->retry_after > 0;
  if (!kpr_word_consume (db, word_id, now, &error))
    return refuse (j, g_steal_pointer (&error)), FALSE;
  return issue (j, ca, db, user, 0);
}

static gboolean
reenroll (KprEnrollJob *j, KprCa *ca, KprCaDb *db, gint64 now)
{
  g_autoptr (KprUser) owner = NULL;
  g_autoptr (KprCertRow) row = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *serial = NULL;
  gboolean current = FALSE;

  if (!(owner = kpr_cert_owner (db, j->presented, &serial, &current, &error)))
    return refuse (j, g_steal_pointer (&error));
  row = kpr_cert_current_by_key (db, j->pub->fingerprint, now, &error);
  if (error)
    return g_propagate_error (&j->job.error, g_steal_pointer (&error)), FALSE;
  if (!current && j->mismatch)
    return refusal (j, KPR_ERROR_REJECTED,
                    "The client certificate %s is revoked or has expired; enroll again with a "
                    "secret word", serial);
  if (j->mismatch)
    return refuse (j, g_error_copy (j->mismatch));
  if (row && row->user_id != owner->id)
    return refusal (j, KPR_ERROR_REJECTED,
                    "This public key is already certified for another user; make a new key");
  if (!current)
    {
      /* The renewal whose answer was lost superseded the certificate the
       * client still presents: the new one is the answer. */
      if (row && row->cert && row->issued >= now - KPR_RECOVERY_WINDOW)
        {
          j->cert = X509_dup (row->cert);
          j->log = g_strdup_printf ("simplereenroll: returned %s's certificate %s that already "
                                    "superseded %s", owner->name, row->serial, serial);
          return TRUE;
        }
      return refusal (j, KPR_ERROR_REJECTED,
                      "The client certificate %s is revoked or has expired; enroll again with a "
                      "secret word", serial);
    }
  if (!issue (j, ca, db, owner, 0))
    return FALSE;
  g_free (j->log);
  j->log = g_strdup_printf ("simplereenroll: %s renewed %s", owner->name, serial);
  return TRUE;
}

gboolean
kpr_enroll_job_run (KprJob *job, KprCa *ca, KprCaDb *db)
{
  KprEnrollJob *j = (KprEnrollJob *) job;
  gint64 now = kpr_now ();

  enroll_clear (j);
  return j->kind == KPR_ISSUE_REENROLL ? reenroll (j, ca, db, now) : enroll (j, ca, db, now);
}

void
kpr_enroll_job_free (KprJob *job)
{
  KprEnrollJob *j = (KprEnrollJob *) job;

  enroll_clear (j);
  g_free (j->name);
  g_free (j->csr_name);
  kpr_secret_free (j->password);
  X509_free (j->presented);
  g_clear_error (&j->mismatch);
  kpr_pubkey_free (j->pub);
  g_free (j->source);
  g_free (j->peer);
  g_free (j);
}

/* ---- challenge, revoke, mail ---------------------------------------------- */

gboolean
kpr_challenge_job_run (KprJob *job, KprCa *ca, KprCaDb *db)
{
  KprChallengeJob *j = (KprChallengeJob *) job;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&j->user, kpr_user_free);
  g_clear_pointer (&j->word, kpr_secret_free);
  if (!(j->user = kpr_user_lock (db, j->name, 0, &error)))
    {
      /* Unknown names get the same answer, and nothing is sent. */
      if (error)
        g_propagate_error (&job->error, g_steal_pointer (&error));
      return !job->error;
    }
  if (!kpr_word_challenge (db, j->user, j->source, kpr_now (), &j->word, &error))
    {
      g_propagate_error (&job->error, g_steal_pointer (&error));
      return FALSE;
    }
  return TRUE;
}

void
kpr_challenge_job_free (KprJob *job)
{
  KprChallengeJob *j = (KprChallengeJob *) job;

  kpr_user_free (j->user);
  kpr_secret_free (j->word);
  g_free (j->name);
  g_free (j->source);
  g_free (j);
}

gboolean
kpr_revoke_job_run (KprJob *job, KprCa *ca, KprCaDb *db)
{
  KprRevokeJob *j = (KprRevokeJob *) job;
  g_autoptr (KprUser) user = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *own = NULL;
  gint64 word_id = 0;
  gboolean current = FALSE;
  KprWordCheck check;

  g_clear_pointer (&j->revoked, g_free);
  g_clear_pointer (&j->actor, g_free);
  j->auth_failed = FALSE;
  j->retry_after = 0;
  /* The client certificate wins over a Basic header (EXTENSIONS.md §2). */
  if (j->presented)
    {
      if (!(user = kpr_cert_owner (db, j->presented, &own, &current, &error)))
        goto refused;
      if (!current)
        {
          g_set_error (&error, KPR_ERROR, KPR_ERROR_REJECTED,
                       "The client certificate %s is revoked or has expired", own);
          goto refused;
        }
    }
  else
    {
      if (!(user = kpr_user_lock (db, j->name, 0, &error)))
        {
          if (!error)
            g_set_error (&error, KPR_ERROR, KPR_ERROR_AUTH, "Wrong username or secret word");
          goto refused;
        }
      if (!kpr_word_check (db, user, j->password, j->source, kpr_now (), &check, &error))
        {
          j->retry_after = check.retry_after;
          goto refused;
        }
      word_id = check.word_id;
    }
  if (j->serial)
    j->revoked = g_strdup (j->serial);
  else if (own)
    j->revoked = g_strdup (own);
  else if (!(j->revoked = kpr_user_current_serial (db, user->id, &error)))
    goto refused;
  if (!kpr_revoke (db, j->revoked, user->id, 0, word_id, user->name, j->peer, &j->already,
                   &job->crl_generation, &error))
    {
      g_propagate_error (&job->error, g_steal_pointer (&error));
      return FALSE;
    }
  j->actor = g_strdup (user->name);
  return TRUE;

refused:
  j->auth_failed = g_error_matches (error, KPR_ERROR, KPR_ERROR_AUTH);
  g_propagate_error (&job->error, g_steal_pointer (&error));
  /* Keep the failure count. */
  return TRUE;
}

void
kpr_revoke_job_free (KprJob *job)
{
  KprRevokeJob *j = (KprRevokeJob *) job;

  X509_free (j->presented);
  g_free (j->name);
  kpr_secret_free (j->password);
  g_free (j->serial);
  g_free (j->revoked);
  g_free (j->actor);
  g_free (j->source);
  g_free (j->peer);
  g_free (j);
}

gboolean
kpr_mail_job_run (KprJob *job, KprCa *ca, KprCaDb *db)
{
  KprMailJob *j = (KprMailJob *) job;

  g_clear_pointer (&j->mails, g_ptr_array_unref);
  j->mails = kpr_mail_claim (db, kpr_now (), &job->error);
  return j->mails != NULL;
}

void
kpr_mail_job_free (KprJob *job)
{
  KprMailJob *j = (KprMailJob *) job;

  g_clear_pointer (&j->mails, g_ptr_array_unref);
  g_free (j);
}
