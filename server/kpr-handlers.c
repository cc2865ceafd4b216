/* kpr-handlers.c — the EST operations (RFC 7030 + RFC 8951) and the two
 * certkeeper extensions, challenge and revoke (protocol/EXTENSIONS.md), on
 * the event loop's side.
 *
 * Each handler parses the request with the shared codecs
 * (protocol/kpr-est-codec.h), checks what needs no database (the key
 * policy, the per-address back-off), hands a job to the writer thread
 * (kpr-enroll.c decides there) and answers once the job is back — after
 * its transaction is durable.
 */
#include "config.h"

#include "kpr-http-private.h"

#include <string.h>

#include <event2/http.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "kpr-est-codec.h"

#define PKCS7_TYPE "application/pkcs7-mime; smime-type=certs-only"
/* How long an answer waits for a CRL that includes a revocation. */
#define CRL_WAIT 10

/* base64 certs-only, the way every EST answer carries certificates. */
static void
reply_certs (KprRequest *rq, X509 *cert)
{
  g_autoptr (KprX509Stack) stack = sk_X509_new_null ();
  g_autoptr (GBytes) der = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *b64 = NULL;

  if (!stack || !X509_up_ref (cert) || !sk_X509_push (stack, cert))
    {
      g_set_error (&error, KPR_ERROR, KPR_ERROR_INTERNAL, "Out of memory");
      kpr_reply_error (rq, error);
      return;
    }
  der = kpr_est_certs_only_build (stack, &error);
  if (!der)
    {
      kpr_reply_error (rq, error);
      return;
    }
  /* No line breaks: RFC 8951 §3 allows them, but strongSwan's decoder
   * (and others) do not skip them. */
  b64 = kpr_est_base64_encode_flat (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  evhttp_add_header (evhttp_request_get_output_headers (rq->req), "Content-Transfer-Encoding",
                     "base64");
  kpr_reply_bytes (rq, 200, PKCS7_TYPE, b64, strlen (b64));
}

void
kpr_handle_cacerts (KprRequest *rq)
{
  reply_certs (rq, rq->server->ca->cert);
}

void
kpr_handle_csrattrs (KprRequest *rq)
{
  GBytes *attrs = rq->server->ca->csrattrs;
  g_autofree char *b64 = NULL;

  /* Nothing configured: the subject comes from the username and any
   * allowed key type is fine.  RFC 8951 §4 allows 204 for "nothing". */
  if (!attrs)
    {
      kpr_reply_bytes (rq, 204, NULL, NULL, 0);
      return;
    }
  b64 = kpr_est_base64_encode_flat (g_bytes_get_data (attrs, NULL), g_bytes_get_size (attrs));
  evhttp_add_header (evhttp_request_get_output_headers (rq->req), "Content-Transfer-Encoding",
                     "base64");
  kpr_reply_bytes (rq, 200, "application/csrattrs", b64, strlen (b64));
}

/* RFC 7030 §3.5: a challengePassword is the tls-unique of the connection
 * the request came on, and is checked whenever it is there; with
 * require-binding it must be there.  Checked before anything is spent. */
static gboolean
binding_ok (KprRequest *rq, const KprCsr *csr, GError **error)
{
  guint8 unique[64];
  gsize n = 0;
  g_autofree char *expected = NULL;

  if (!csr->challenge_password && !rq->server->ca->require_binding)
    return TRUE;
  if (!csr->challenge_password)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "This CA requires the request to be linked to the TLS connection: put the "
                   "connection's tls-unique in the challengePassword (RFC 7030 §3.5; see "
                   "/csrattrs)");
      return FALSE;
    }
  if (!kpr_request_tls_unique (rq, unique, sizeof unique, &n))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The request is linked to the TLS connection (challengePassword), which "
                   "needs TLS 1.2: this connection has no tls-unique; connect with TLS 1.2");
      return FALSE;
    }
  expected = kpr_est_base64_encode_flat (unique, n);
  if (strlen (expected) != strlen (csr->challenge_password)
      || CRYPTO_memcmp (expected, csr->challenge_password, strlen (expected)) != 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "Proof-of-possession mismatch: the request's challengePassword is not the "
                   "tls-unique of this TLS connection (RFC 7030 §3.5); send the request on "
                   "the connection it was made for");
      return FALSE;
    }
  return TRUE;
}

static void
reply_crl (gpointer data)
{
  KprRequest *rq = data;
  g_autoptr (GBytes) crl = kpr_crl_publisher_current (rq->server->crl);

  if (!crl)
    {
      kpr_reply_later (rq, 503, 5, "The CRL is not published yet; try again in a moment");
      return;
    }
  kpr_reply_bytes (rq, 200, "application/pkix-crl", g_bytes_get_data (crl, NULL),
                   g_bytes_get_size (crl));
}

void
kpr_handle_crl (KprRequest *rq)
{
  /* What the database says now — another front end or a command may have
   * revoked something a moment ago — and if that is not published yet,
   * the answer waits for the CRL that has it (a few seconds at most). */
  kpr_crl_publisher_wait (rq->server->crl, 0, TRUE, CRL_WAIT, reply_crl, rq);
}

/* The CSR of an EST body; Content-Transfer-Encoding is ignored (RFC 8951).
 * NULL with @error, or NULL and *@replied when the body was refused. */
static KprCsr *
request_csr (KprRequest *rq, gboolean *replied, GError **error)
{
  g_autofree char *body = NULL;
  g_autoptr (GBytes) der = NULL;
  gsize len = 0;

  *replied = FALSE;
  body = kpr_request_body (rq, &len);
  if (!body)
    {
      *replied = TRUE;
      return NULL;
    }
  der = kpr_est_base64_decode (body, len, error);
  if (!der)
    return NULL;
  return kpr_csr_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), error);
}

static gboolean
basic_auth (KprRequest *rq, char **ret_user, KprSecret **ret_password, GError **error)
{
  const char *header = kpr_request_header (rq, "Authorization");

  if (!header)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "This operation needs HTTP Basic authentication: your username and the "
                   "secret word (or an enrollment code)");
      return FALSE;
    }
  return kpr_parse_basic_auth (header, strlen (header), ret_user, ret_password, error);
}

/* The per-address back-off: tries inside it are not even looked at. */
static gboolean
source_allowed (KprRequest *rq)
{
  gint64 now = kpr_now ();
  gint64 wait = kpr_source_wait (rq->server->fails, rq->source, now);

  if (wait <= 0)
    return TRUE;
  /* Knocking during the wait makes it longer: only the knocker's own
   * address pays. */
  kpr_source_count (rq->server->fails, rq->source, now);
  wait = kpr_source_wait (rq->server->fails, rq->source, now);
  kpr_server_log (rq->server, "%s: credentials refused unchecked, %" G_GINT64_FORMAT
                  " s of back-off left", rq->peer, wait);
  kpr_reply_later (rq, 429, wait,
                   "Too many wrong secret words or codes from your address lately; try again "
                   "later");
  return FALSE;
}

static void
reply_pending (KprRequest *rq, gint64 id)
{
  struct evkeyvalq *headers = evhttp_request_get_output_headers (rq->req);
  g_autofree char *text = g_strdup_printf (
    "Request %" G_GINT64_FORMAT " waits for the administrator's approval; send the same "
    "request again after %d seconds", id, KPR_RETRY_AFTER);
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, id);

  /* The ID a person quotes to the administrator (EXTENSIONS.md §3). */
  evhttp_add_header (headers, KPR_EST_REQUEST_ID_HEADER, number);
  kpr_reply_later (rq, 202, KPR_RETRY_AFTER, text);
}

static void
enroll_done (KprJob *job)
{
  KprEnrollJob *j = (KprEnrollJob *) job;
  KprRequest *rq = j->request;
  KprServer *server = rq->server;

  if (job->crl_generation > 0)
    kpr_crl_publisher_poke (server->crl, job->crl_generation);
  if (j->auth_failed && !job->failed)
    {
      kpr_source_count (server->fails, rq->source, kpr_now ());
      if (j->name)
        rq->note = g_strdup_printf ("refused credentials for %s", j->name);
    }
  if (j->log && !job->failed)
    rq->note = g_steal_pointer (&j->log);
  if (job->error)
    {
      if (j->retry_after > 0 && !job->failed)
        kpr_reply_later (rq, 429, j->retry_after, job->error->message);
      else
        kpr_reply_error (rq, job->error);
    }
  else if (j->pending_id > 0)
    reply_pending (rq, j->pending_id);
  else if (j->cert && j->server_body)
    /* Built in the transaction that issued it (kpr-enroll.c): an answer
     * that could not be built spent nothing. */
    kpr_reply_bytes (rq, 200, j->server_body_type, j->server_body, j->server_body_len);
  else if (j->cert)
    reply_certs (rq, j->cert);
  else
    kpr_reply_text (rq, 500, "The CA had an internal problem; try again later");
}

/* RFC 7030 §4.2.2: Subject and SubjectAltName identical to the
 * certificate being renewed. */
static gboolean
same_identity (const KprCsr *csr, X509 *cert, GError **error)
{
  int ci = X509_get_ext_by_NID (cert, NID_subject_alt_name, -1);
  ASN1_OCTET_STRING *cs = ci >= 0 ? X509_EXTENSION_get_data (X509_get_ext (cert, ci)) : NULL;
  gboolean same_san = (!csr->san && !cs)
                      || (csr->san && cs && g_bytes_get_size (csr->san) == (gsize) ASN1_STRING_length (cs)
                          && memcmp (g_bytes_get_data (csr->san, NULL), ASN1_STRING_get0_data (cs),
                                     g_bytes_get_size (csr->san)) == 0);

  if (X509_NAME_cmp (csr->subject, X509_get_subject_name (cert)) != 0 || !same_san)
    {
      g_autofree char *want = X509_NAME_oneline (X509_get_subject_name (cert), NULL, 0);
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "A re-enrollment request must carry the Subject (%s) and subjectAltName of "
                   "the current certificate", want ? want : "?");
      return FALSE;
    }
  return TRUE;
}

void
kpr_handle_enroll (KprRequest *rq, KprIssueKind kind)
{
  KprServer *server = rq->server;
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCsr) csr = NULL;
  KprEnrollJob *j;
  gboolean replied = FALSE;

  if (!(csr = request_csr (rq, &replied, &error)))
    {
      if (!replied)
        kpr_reply_error (rq, error);
      return;
    }
  j = g_new0 (KprEnrollJob, 1);
  j->job.run = kpr_enroll_job_run;
  j->job.done = enroll_done;
  j->job.free = kpr_enroll_job_free;
  j->kind = kind;
  j->manual = server->ca->approval == KPR_APPROVAL_MANUAL && kind != KPR_ISSUE_REENROLL;
  j->request = rq;
  j->source = g_strdup (rq->source);
  j->peer = g_strdup (rq->peer);
  /* The key, encoded once for everything that follows. */
  j->pub = g_steal_pointer (&csr->pub);
  if (kind != KPR_ISSUE_SERVERKEYGEN && !kpr_policy_check_key (j->pub->key, &error))
    goto fail;
  if (kind == KPR_ISSUE_SERVERKEYGEN && csr->key_encryption)
    {
      /* Answering with the key in the clear would ignore what the client
       * asked for: refused before any word is spent. */
      g_set_error (&error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "This CA cannot encrypt the generated key (RFC 7030 §4.4.1.1/2, CMS "
                   "EnvelopedData); ask without DecryptKeyIdentifier or "
                   "AsymmetricDecryptKeyIdentifier: the key then travels inside TLS");
      goto fail;
    }
  if (!binding_ok (rq, csr, &error))
    goto fail;
  if (kind == KPR_ISSUE_REENROLL)
    {
      X509 *current = kpr_request_peer_cert (rq);

      if (!current)
        {
          g_set_error (&error, KPR_ERROR, KPR_ERROR_REJECTED,
                       "simplereenroll needs the current certificate of this CA presented in "
                       "TLS (mutual TLS); enroll with simpleenroll and a secret word instead");
          goto fail;
        }
      /* Told after the certificate's own state (kpr-enroll.c): a revoked
       * certificate is the news, not the subject. */
      same_identity (csr, current, &j->mismatch);
      X509_up_ref (current);
      j->presented = current;
    }
  else if (kpr_request_header (rq, "Authorization")
           || (!j->manual && kind != KPR_ISSUE_ENROLL))
    {
      if (!basic_auth (rq, &j->name, &j->password, &error))
        goto fail;
      if (!source_allowed (rq))
        {
          kpr_job_free (&j->job);
          return;
        }
    }
  else
    /* Without credentials only a repeated request goes on: a poll of a
     * recorded one (manual approval), or a lost answer (kpr-enroll.c). */
    j->csr_name = g_strdup (csr->common_name);
  kpr_writer_submit (server->writer, &j->job);
  return;

fail:
  kpr_job_free (&j->job);
  kpr_reply_error (rq, error);
}

/* ---- challenge ------------------------------------------------------------ */

static char *
fake_destination (KprServer *server, const char *name)
{
  g_autofree char *mac = g_compute_hmac_for_string (G_CHECKSUM_SHA256,
                                                    (const guchar *) server->probe_key,
                                                    strlen (server->probe_key), name, -1);
  guint64 n = g_ascii_strtoull (mac + 56, NULL, 16);

  return g_strdup_printf ("+1•••••%04u", (unsigned) (n % 10000));
}

static void
reply_json (KprRequest *rq, int code, JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  gsize len = 0;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  kpr_reply_bytes (rq, code, "application/json", text, len);
}

static void
challenge_done (KprJob *job)
{
  KprChallengeJob *j = (KprChallengeJob *) job;
  KprRequest *rq = j->request;
  KprServer *server = rq->server;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *destination = NULL;

  if (job->error)
    {
      kpr_reply_error (rq, job->error);
      return;
    }
  if (j->word && !job->failed)
    {
      if (kpr_otp_send (server->otp, j->user, j->word, &error))
        kpr_server_log (server, "secret word sent to %s", j->name);
      else
        /* Still the same answer: the person retries, the operator reads
         * the log. */
        kpr_server_log (server, "secret word for %s NOT sent: %s", j->name, error->message);
    }
  else
    kpr_server_log (server, "%s: no new secret word sent for '%s'", rq->peer, j->name);

  /* Unknown, disabled and rate-limited users get an answer of the same
   * shape: the answer never tells who is registered. */
  destination = j->user ? kpr_mask_phone (j->user->phone) : fake_destination (server, j->name);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "channel");
  json_builder_add_string_value (builder, "sms");
  json_builder_set_member_name (builder, "destination");
  json_builder_add_string_value (builder, destination);
  json_builder_set_member_name (builder, "expires_in");
  json_builder_add_int_value (builder, KPR_WORD_TTL);
  json_builder_end_object (builder);
  reply_json (rq, 202, builder);
}

void
kpr_handle_challenge (KprRequest *rq)
{
  KprServer *server = rq->server;
  g_autoptr (GError) error = NULL;
  g_autofree char *body = NULL;
  g_autofree char *name = NULL;
  KprChallengeJob *j;
  gint64 now = kpr_now ();
  gint64 wait;
  gsize len = 0;

  if (!(body = kpr_request_body (rq, &len)))
    return;
  if (!(name = kpr_parse_challenge_json (body, len, &error)))
    {
      kpr_reply_error (rq, error);
      return;
    }
  /* Per address, whatever the name: a 429 here says nothing about who is
   * registered.  Per user the words themselves are spaced (kpr-users.c). */
  if ((wait = kpr_source_wait (server->challenges, rq->source, now)) > 0)
    {
      kpr_reply_later (rq, 429, wait, "Too many secret words requested from your address; "
                                      "try again later");
      return;
    }
  kpr_source_count (server->challenges, rq->source, now);
  j = g_new0 (KprChallengeJob, 1);
  j->job.run = kpr_challenge_job_run;
  j->job.done = challenge_done;
  j->job.free = kpr_challenge_job_free;
  j->name = g_steal_pointer (&name);
  j->source = g_strdup (rq->source);
  j->request = rq;
  kpr_writer_submit (server->writer, &j->job);
}

/* ---- revoke ------------------------------------------------------------- */

static void
reply_revoked (gpointer data)
{
  KprRevokeJob *j = data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "revoked");
  json_builder_add_string_value (builder, j->revoked);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, "unspecified");
  json_builder_end_object (builder);
  reply_json (j->request, 200, builder);
  kpr_job_free (&j->job);
}

static void
revoke_done (KprJob *job)
{
  KprRevokeJob *j = (KprRevokeJob *) job;
  KprRequest *rq = j->request;
  KprServer *server = rq->server;
  KprRevokeJob *copy;

  if (j->auth_failed && !job->failed)
    kpr_source_count (server->fails, rq->source, kpr_now ());
  if (job->error)
    {
      if (j->retry_after > 0 && !job->failed)
        kpr_reply_later (rq, 429, j->retry_after, job->error->message);
      else
        kpr_reply_error (rq, job->error);
      return;
    }
  kpr_server_log (server, "revoke: %s revoked %s%s", j->actor, j->revoked,
                  j->already ? " (already revoked)" : "");
  /* The job is freed when this returns; the answer may wait for the CRL
   * (EXTENSIONS.md §2: it is published before the answer). */
  copy = g_new0 (KprRevokeJob, 1);
  copy->job.free = kpr_revoke_job_free;
  copy->request = rq;
  copy->revoked = g_steal_pointer (&j->revoked);
  if (job->crl_generation > 0)
    {
      kpr_crl_publisher_poke (server->crl, job->crl_generation);
      kpr_crl_publisher_wait (server->crl, job->crl_generation, FALSE, CRL_WAIT, reply_revoked,
                              copy);
    }
  else
    reply_revoked (copy);
}

void
kpr_handle_revoke (KprRequest *rq)
{
  KprServer *server = rq->server;
  g_autoptr (GError) error = NULL;
  g_autofree char *body = NULL;
  X509 *current = kpr_request_peer_cert (rq);
  KprRevokeJob *j;
  gsize len = 0;

  if (!(body = kpr_request_body (rq, &len)))
    return;
  j = g_new0 (KprRevokeJob, 1);
  j->job.run = kpr_revoke_job_run;
  j->job.done = revoke_done;
  j->job.free = kpr_revoke_job_free;
  j->request = rq;
  j->source = g_strdup (rq->source);
  j->peer = g_strdup (rq->peer);
  if (len > 0 && !(j->serial = kpr_parse_revoke_json (body, len, &error)))
    goto fail;
  /* The client certificate wins over a Basic header (EXTENSIONS.md §2). */
  if (current)
    {
      X509_up_ref (current);
      j->presented = current;
    }
  else
    {
      if (!basic_auth (rq, &j->name, &j->password, &error))
        goto fail;
      if (!source_allowed (rq))
        {
          kpr_job_free (&j->job);
          return;
        }
    }
  kpr_writer_submit (server->writer, &j->job);
  return;

fail:
  kpr_job_free (&j->job);
  kpr_reply_error (rq, error);
}

/* ---- the mailed .cer ------------------------------------------------------- */

static void
mail_done (KprJob *job)
{
  KprMailJob *j = (KprMailJob *) job;
  KprServer *server = j->server;

  server->mail_busy = FALSE;
  if (job->error || !j->mails)
    {
      kpr_server_log (server, "cannot look for certificates to mail: %s",
                      job->error ? job->error->message : "unknown");
      return;
    }
  for (guint i = 0; i < j->mails->len; i++)
    {
      KprIssuedMail *m = j->mails->pdata[i];
      g_autoptr (GError) error = NULL;

      /* Claimed before it is sent: mailed at most once, by one front end;
       * `certkeeper-ca cert DIR ID --to FILE` is there when it fails. */
      if (kpr_mail_send (server->mailer, m, &error))
        kpr_server_log (server, "certificate %s of request %" G_GINT64_FORMAT " mailed to %s",
                        m->serial, m->request_id, m->user);
      else
        kpr_server_log (server, "certificate of request %" G_GINT64_FORMAT " NOT mailed: %s",
                        m->request_id, error->message);
    }
}

void
kpr_mail_round (KprServer *server)
{
  KprMailJob *j;

  if (server->mail_busy)
    return;
  server->mail_busy = TRUE;
  j = g_new0 (KprMailJob, 1);
  j->job.run = kpr_mail_job_run;
  j->job.done = mail_done;
  j->job.free = kpr_mail_job_free;
  j->server = server;
  kpr_writer_submit (server->writer, &j->job);
}
