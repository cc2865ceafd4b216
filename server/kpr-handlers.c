/* kpr-handlers.c — the EST operations (RFC 7030 + RFC 8951) and the two
 * certkeeper extensions, challenge and revoke (protocol/EXTENSIONS.md).
 *
 * Each handler authenticates, parses the body with the shared codecs
 * (protocol/kpr-est-codec.h), applies the policy, and answers once.
 */
#include "config.h"

#include "kpr-http-private.h"

#include <string.h>
#include <sys/stat.h>

#include <event2/http.h>
#include <json-glib/json-glib.h>
#include <openssl/x509v3.h>

#include "kpr-est-codec.h"

#define PKCS7_TYPE "application/pkcs7-mime; smime-type=certs-only"

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

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
  b64 = kpr_est_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
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
  /* No attributes required: the subject comes from the username and any
   * allowed key type is fine.  RFC 8951 allows 204 for "nothing". */
  kpr_reply_bytes (rq, 204, NULL, NULL, 0);
}

void
kpr_handle_crl (KprRequest *rq)
{
  KprCa *ca = rq->server->ca;
  g_autofree char *path = g_build_filename (ca->dir, "crl.der", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) crl = NULL;
  struct stat st;

  /* The CRL is rewritten on every revocation; when none happened for a
   * day, refresh it here so nextUpdate never lapses. */
  if (stat (path, &st) < 0 || st.st_mtime < now_s () - 86400)
    {
      if (!kpr_store_begin (ca->db, &error) || !kpr_ca_write_crl (ca, &error)
          || !kpr_store_commit (ca->db, &error))
        {
          kpr_store_rollback (ca->db);
          kpr_reply_error (rq, error);
          return;
        }
    }
  crl = kpr_ca_read_crl (ca, &error);
  if (!crl)
    {
      kpr_reply_error (rq, error);
      return;
    }
  kpr_reply_bytes (rq, 200, "application/pkix-crl", g_bytes_get_data (crl, NULL),
                   g_bytes_get_size (crl));
}

/* The CSR of an EST body; Content-Transfer-Encoding is ignored (RFC 8951). */
static X509_REQ *
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
  return kpr_est_csr_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), error);
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

/* A key like the one the CSR holds, when that type is allowed; P-256
 * otherwise (RFC 7030 §4.4.1: the CSR's key itself is ignored). */
static EVP_PKEY *
serverkeygen_key (EVP_PKEY *csr_key, GError **error)
{
  if (csr_key && kpr_policy_check_key (csr_key, NULL))
    {
      if (EVP_PKEY_is_a (csr_key, "RSA"))
        return kpr_key_generate ("RSA", MIN (EVP_PKEY_get_bits (csr_key), 4096), error);
      if (EVP_PKEY_get_bits (csr_key) > 256)
        return kpr_key_generate ("P-384", 0, error);
    }
  return kpr_key_generate ("P-256", 0, error);
}

static void
reply_serverkeygen (KprRequest *rq, EVP_PKEY *key, X509 *cert)
{
  g_autoptr (KprX509Stack) stack = sk_X509_new_null ();
  g_autoptr (GError) error = NULL;
  g_autofree char *content_type = NULL;
  char *body;
  gsize len = 0;

  if (!stack || !X509_up_ref (cert) || !sk_X509_push (stack, cert))
    {
      g_set_error (&error, KPR_ERROR, KPR_ERROR_INTERNAL, "Out of memory");
      kpr_reply_error (rq, error);
      return;
    }
  body = kpr_est_serverkeygen_build (key, stack, &content_type, &len, &error);
  if (!body)
    {
      kpr_reply_error (rq, error);
      return;
    }
  kpr_reply_bytes (rq, 200, content_type, body, len);
  /* The body held the private key. */
  kpr_memory_erase (body, len);
  g_free (body);
}

static void
reply_pending (KprRequest *rq, gint64 id)
{
  g_autofree char *text = g_strdup_printf (
    "Request %" G_GINT64_FORMAT " waits for the administrator's approval; send the same "
    "request again after %d seconds", id, KPR_RETRY_AFTER);
  g_autofree char *retry = g_strdup_printf ("%d", KPR_RETRY_AFTER);

  evhttp_add_header (evhttp_request_get_output_headers (rq->req), "Retry-After", retry);
  kpr_reply_text (rq, 202, text);
}

/* A repeated request (the answer to the first was lost: the client
 * crashed, the network dropped) must neither issue a second certificate
 * nor need credentials that were spent on the first.  A current
 * certificate for the CSR's key is public and useless without that key,
 * so it is simply returned. */
static gboolean
reply_if_issued (KprRequest *rq, X509_REQ *csr)
{
  g_autoptr (X509) cert = kpr_cert_find_by_key (rq->server->ca, X509_REQ_get0_pubkey (csr), NULL);

  if (!cert)
    return FALSE;
  kpr_server_log (rq->server, "%s: returned the certificate already issued for this key",
                  rq->peer);
  reply_certs (rq, cert);
  return TRUE;
}

void
kpr_handle_enroll (KprRequest *rq, KprIssueKind kind)
{
  KprServer *server = rq->server;
  KprCa *ca = server->ca;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  g_autoptr (KprSecret) password = NULL;
  g_autoptr (X509_REQ) csr = NULL;
  g_autoptr (KprUser) user = NULL;
  g_autoptr (EVP_PKEY) new_key = NULL;
  g_autoptr (X509) cert = NULL;
  EVP_PKEY *csr_key;
  EVP_PKEY *cert_key;
  gint64 word_id = 0;
  gint64 pending_id = 0;
  gboolean replied = FALSE;

  if (!(csr = request_csr (rq, &replied, &error)))
    goto fail;
  if (kind == KPR_ISSUE_ENROLL && reply_if_issued (rq, csr))
    return;

  /* A poll of a recorded request repeats the CSR without credentials: the
   * word that opened it is spent, and the certificate is useless to anyone
   * without the CSR's private key.  Anything else needs Basic auth. */
  if (!kpr_request_header (rq, "Authorization") && ca->approval == KPR_APPROVAL_MANUAL)
    {
      gboolean approved = FALSE;

      csr_key = X509_REQ_get0_pubkey (csr);
      if (!csr_key
          || !kpr_pending_find_by_key (ca, csr_key, kind, &pending_id, &approved, &user, &error))
        {
          if (!error)
            g_set_error (&error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The request carries no public key");
          goto fail;
        }
      if (!pending_id)
        {
          basic_auth (rq, &name, &password, &error);
          goto fail;
        }
      if (!approved)
        {
          reply_pending (rq, pending_id);
          return;
        }
      name = g_strdup (user->name);
      goto issue;
    }

  if (!basic_auth (rq, &name, &password, &error))
    goto fail;
  csr_key = X509_REQ_get0_pubkey (csr);
  if (kind == KPR_ISSUE_ENROLL && !kpr_policy_check_key (csr_key, &error))
    goto fail;
  if (!csr_key)
    {
      g_set_error (&error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The request carries no public key");
      goto fail;
    }

  if (ca->approval == KPR_APPROVAL_MANUAL)
    {
      gboolean approved = FALSE;

      /* A re-POST of a recorded request authenticates with the word that
       * opened it (already consumed, so it opens nothing else). */
      if (!kpr_pending_find (ca, name, csr_key, kind, password, &pending_id, &approved, &user,
                             &error))
        goto fail;
      if (pending_id && !approved)
        {
          reply_pending (rq, pending_id);
          return;
        }
      if (!pending_id)
        {
          gint64 id;
          if (!kpr_word_verify (ca, name, password, &user, &word_id, &error))
            goto fail;
          id = kpr_pending_create (ca, user, csr_key, kind, word_id, password, rq->peer, &error);
          if (!id)
            goto fail;
          kpr_server_log (server, "request %" G_GINT64_FORMAT " from %s waits for approval", id,
                          name);
          reply_pending (rq, id);
          return;
        }
    }
  else if (!kpr_word_verify (ca, name, password, &user, &word_id, &error))
    goto fail;

issue:
  cert_key = csr_key;
  if (kind == KPR_ISSUE_SERVERKEYGEN)
    {
      if (!(new_key = serverkeygen_key (csr_key, &error)))
        goto fail;
      cert_key = new_key;
    }
  cert = kpr_issue (ca, user, cert_key, kind, word_id, pending_id, rq->peer, &error);
  if (!cert)
    goto fail;
  kpr_server_log (server, "%s: certificate issued to %s", kpr_issue_kind_name (kind), name);
  if (kind == KPR_ISSUE_SERVERKEYGEN)
    reply_serverkeygen (rq, new_key, cert);
  else
    reply_certs (rq, cert);
  return;

fail:
  if (!replied)
    {
      if (error->domain == KPR_ERROR && error->code == KPR_ERROR_AUTH && name)
        kpr_server_log (server, "%s: refused credentials for %s", rq->peer, name);
      kpr_reply_error (rq, error);
    }
}

/* GENERAL_NAMES of the subjectAltName in @exts, as DER (NULL if absent). */
static GBytes *
san_der (const STACK_OF (X509_EXTENSION) *exts)
{
  int idx = X509v3_get_ext_by_NID (exts, NID_subject_alt_name, -1);
  ASN1_OCTET_STRING *data;

  if (idx < 0)
    return NULL;
  data = X509_EXTENSION_get_data (X509v3_get_ext (exts, idx));
  return g_bytes_new (ASN1_STRING_get0_data (data), (gsize) ASN1_STRING_length (data));
}

static gboolean
same_identity (X509_REQ *csr, X509 *cert, GError **error)
{
  STACK_OF (X509_EXTENSION) *req_exts = X509_REQ_get_extensions (csr);
  g_autoptr (GBytes) req_san = san_der (req_exts);
  g_autoptr (GBytes) cert_san = san_der (X509_get0_extensions (cert));
  gboolean same_san = (!req_san && !cert_san)
                      || (req_san && cert_san && g_bytes_equal (req_san, cert_san));

  sk_X509_EXTENSION_pop_free (req_exts, X509_EXTENSION_free);
  /* RFC 7030 §4.2.2: Subject and SubjectAltName identical to the
   * certificate being renewed. */
  if (X509_NAME_cmp (X509_REQ_get_subject_name (csr), X509_get_subject_name (cert)) != 0
      || !same_san)
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
kpr_handle_reenroll (KprRequest *rq)
{
  KprCa *ca = rq->server->ca;
  g_autoptr (GError) error = NULL;
  g_autoptr (KprUser) user = NULL;
  g_autoptr (X509_REQ) csr = NULL;
  g_autoptr (X509) cert = NULL;
  g_autofree char *old_serial = NULL;
  X509 *current = kpr_request_peer_cert (rq);
  gboolean replied = FALSE;

  /* Before the certificate check: a renewal whose answer was lost left the
   * presented certificate superseded (revoked) by the one asked for. */
  if (!(csr = request_csr (rq, &replied, &error)))
    goto fail;
  if (reply_if_issued (rq, csr))
    return;
  if (!current)
    {
      g_set_error (&error, KPR_ERROR, KPR_ERROR_REJECTED,
                   "simplereenroll needs the current certificate of this CA presented in TLS "
                   "(mutual TLS); enroll with simpleenroll and a secret word instead");
      goto fail;
    }
  if (!(user = kpr_cert_owner (ca, current, &old_serial, &error))
      || !kpr_policy_check_key (X509_REQ_get0_pubkey (csr), &error)
      || !same_identity (csr, current, &error)
      || !(cert = kpr_issue (ca, user, X509_REQ_get0_pubkey (csr), KPR_ISSUE_REENROLL, 0, 0,
                             rq->peer, &error)))
    goto fail;
  kpr_server_log (rq->server, "simplereenroll: %s renewed %s", user->name, old_serial);
  reply_certs (rq, cert);
  return;

fail:
  if (!replied)
    kpr_reply_error (rq, error);
}

/* ---- challenge ------------------------------------------------------------ */

typedef struct {
  gint64 start;
  guint count;
} ChallengeWindow;

/* Counted per name whether or not it exists, so a 429 says nothing about
 * who is registered. */
static gboolean
challenge_allowed (KprServer *server, const char *name)
{
  ChallengeWindow *w = g_hash_table_lookup (server->challenges, name);
  gint64 now = now_s ();

  if (!w)
    {
      if (g_hash_table_size (server->challenges) > 10000)
        g_hash_table_remove_all (server->challenges);
      w = g_new0 (ChallengeWindow, 1);
      g_hash_table_insert (server->challenges, g_strdup (name), w);
    }
  if (now - w->start >= 3600)
    {
      w->start = now;
      w->count = 0;
    }
  return ++w->count <= KPR_WORDS_PER_HOUR;
}

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

void
kpr_handle_challenge (KprRequest *rq)
{
  KprServer *server = rq->server;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (KprUser) user = NULL;
  g_autoptr (KprSecret) word = NULL;
  g_autofree char *body = NULL;
  g_autofree char *name = NULL;
  g_autofree char *destination = NULL;
  gsize len = 0;

  if (!(body = kpr_request_body (rq, &len)))
    return;
  if (!(name = kpr_parse_challenge_json (body, len, &error)))
    {
      kpr_reply_error (rq, error);
      return;
    }
  if (!challenge_allowed (server, name))
    {
      g_set_error (&error, KPR_ERROR, KPR_ERROR_BUSY,
                   "Too many secret words requested for this name; try again in an hour");
      kpr_reply_error (rq, error);
      return;
    }
  user = kpr_user_lookup (server->ca, name, &error);
  if (error)
    {
      kpr_reply_error (rq, error);
      return;
    }
  if (user && !kpr_word_create (server->ca, user, &word, &error))
    {
      kpr_reply_error (rq, error);
      return;
    }
  if (word)
    {
      if (kpr_otp_send (server->otp, user, word, &error))
        kpr_server_log (server, "secret word sent to %s", name);
      else
        /* Still the same answer: the person retries, the operator reads
         * the log. */
        kpr_server_log (server, "secret word for %s NOT sent: %s", name, error->message);
    }
  else
    kpr_server_log (server, "%s: no secret word sent for '%s'", rq->peer, name);

  /* Unknown, disabled and locked users get an answer of the same shape. */
  destination = user ? kpr_mask_phone (user->phone) : fake_destination (server, name);
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

/* ---- revoke ------------------------------------------------------------- */

void
kpr_handle_revoke (KprRequest *rq)
{
  KprServer *server = rq->server;
  KprCa *ca = server->ca;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (KprUser) user = NULL;
  g_autoptr (KprSecret) password = NULL;
  g_autofree char *body = NULL;
  g_autofree char *name = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *own_serial = NULL;
  X509 *current = kpr_request_peer_cert (rq);
  gint64 word_id = 0;
  gboolean already = FALSE;
  gsize len = 0;

  if (!(body = kpr_request_body (rq, &len)))
    return;
  /* The client certificate wins over a Basic header (EXTENSIONS.md §2). */
  if (current)
    {
      if (!(user = kpr_cert_owner (ca, current, &own_serial, &error)))
        goto fail;
    }
  else if (!basic_auth (rq, &name, &password, &error)
           || !kpr_word_verify (ca, name, password, &user, &word_id, &error))
    goto fail;

  if (len > 0)
    serial = kpr_parse_revoke_json (body, len, &error);
  else if (own_serial)
    serial = g_strdup (own_serial);
  else
    serial = kpr_user_current_serial (ca, user->id, &error);
  if (!serial
      || !kpr_revoke (ca, serial, user->id, 0, word_id, user->name, rq->peer, &already, &error))
    goto fail;
  kpr_server_log (server, "revoke: %s revoked %s%s", user->name, serial,
                  already ? " (already revoked)" : "");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "revoked");
  json_builder_add_string_value (builder, serial);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, "unspecified");
  json_builder_end_object (builder);
  reply_json (rq, 200, builder);
  return;

fail:
  kpr_reply_error (rq, error);
}
