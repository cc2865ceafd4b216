/* kpr-identity.c — an identity record: GKeyFile in and out, status. */
#include "config.h"

#include <string.h>

#include <openssl/x509.h>

#include "kpr-agent-private.h"
#include "kpr-lifecycle.h"

const char *
kpr_state_to_string (KprState state)
{
  const KprStateInfo *info = kpr_lifecycle_info (state);

  return info ? info->name : "UNKNOWN";
}

gboolean
kpr_state_from_string (const char *text, KprState *ret_state)
{
  for (KprState s = KPR_STATE_NEW; kpr_lifecycle_info (s); s++)
    if (g_strcmp0 (kpr_lifecycle_info (s)->name, text) == 0)
      {
        *ret_state = s;
        return TRUE;
      }
  return FALSE;
}

const char *
kpr_status_to_string (KprStatus status)
{
  static const char *const names[] = {
    "active", "renewal due", "expired", "pending", "in progress", "revoked", "failed",
  };
  return (int) status >= 0 && status <= KPR_STATUS_FAILED ? names[status] : "unknown";
}

static void
clear_shown (KprCertShown *shown)
{
  g_clear_pointer (&shown->serial, g_free);
  g_clear_pointer (&shown->subject, g_free);
  g_clear_pointer (&shown->issuer, g_free);
  g_clear_pointer (&shown->sha256, g_free);
  shown->not_before = shown->not_after = 0;
}

static void
shown_of (X509 *cert, KprCertShown *shown)
{
  clear_shown (shown);
  shown->serial = kpr_ossl_serial_hex (cert);
  shown->subject = kpr_ossl_name_text (X509_get_subject_name (cert));
  shown->issuer = kpr_ossl_name_text (X509_get_issuer_name (cert));
  shown->sha256 = kpr_ossl_fingerprint (cert, EVP_sha256 ());
  shown->not_before = kpr_ossl_time_unix (X509_get0_notBefore (cert));
  shown->not_after = kpr_ossl_time_unix (X509_get0_notAfter (cert));
}

void
kpr_identity_free (KprIdentity *identity)
{
  if (!identity)
    return;
  g_free (identity->name);
  g_free (identity->failed_reason);
  g_free (identity->server);
  g_free (identity->label);
  g_free (identity->username);
  g_free (identity->reference);
  g_free (identity->anchor_fingerprint);
  g_free (identity->token_uri);
  g_clear_pointer (&identity->key_id, g_bytes_unref);
  g_clear_pointer (&identity->next_key_id, g_bytes_unref);
  g_clear_pointer (&identity->stale_key_id, g_bytes_unref);
  X509_free (identity->cert);
  X509_free (identity->next_cert);
  X509_REQ_free (identity->pending_csr);
  g_free (identity->request_id);
  g_free (identity->backup_when);
  g_free (identity->backup_where);
  g_free (identity->backup_sha256);
  clear_shown (&identity->shown);
  g_free (identity);
}

gboolean
kpr_identity_name_is_valid (const char *name)
{
  gsize len = name ? strlen (name) : 0;

  if (len == 0 || len > 64 || name[0] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && !strchr ("._-", name[i]))
      return FALSE;
  return TRUE;
}

gint64
kpr_identity_renew_at (const KprIdentity *identity)
{
  gint64 from, until;

  if (identity->cert)
    {
      from = kpr_ossl_time_unix (X509_get0_notBefore (identity->cert));
      until = kpr_ossl_time_unix (X509_get0_notAfter (identity->cert));
    }
  else if (identity->shown.serial)
    from = identity->shown.not_before, until = identity->shown.not_after;
  else
    return 0;
  return from + (until - from) * 2 / 3;
}

KprStatus
kpr_identity_status (const KprIdentity *identity, gint64 now)
{
  const KprStateInfo *info = kpr_lifecycle_info (identity->state);

  if (!info)
    return KPR_STATUS_FAILED;
  if (info->enrolling || info->sched == KPR_SCHED_NONE)
    return info->status;
  /* In use (ACTIVE, or a renewal under way): the clock has its say. */
  if (!identity->cert && !identity->shown.serial)
    return KPR_STATUS_FAILED;
  if (now >= (identity->cert ? kpr_ossl_time_unix (X509_get0_notAfter (identity->cert))
                             : identity->shown.not_after))
    return KPR_STATUS_EXPIRED;
  if (info->status != KPR_STATUS_ACTIVE)
    return info->status;
  return now >= kpr_identity_renew_at (identity) ? KPR_STATUS_RENEW_DUE : KPR_STATUS_ACTIVE;
}

gboolean
kpr_identity_backup_missing (const KprIdentity *identity)
{
  return identity->protection == KPR_PROTECTION_EXPORTABLE && !identity->backup_when;
}

/* --- GKeyFile ---------------------------------------------------------- */

#define GROUP "identity"

static char *
hex_of (GBytes *bytes)
{
  gsize len;
  const guint8 *d = bytes ? g_bytes_get_data (bytes, &len) : NULL;
  GString *s;

  if (!d)
    return NULL;
  s = g_string_sized_new (len * 2);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", d[i]);
  return g_string_free (s, FALSE);
}

static GBytes *
bytes_of_hex (const char *hex)
{
  gsize len = hex ? strlen (hex) : 0;
  g_autofree guint8 *out = NULL;

  if (len == 0 || len % 2 || len > 256)
    return NULL;
  out = g_malloc (len / 2);
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return NULL;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (g_steal_pointer (&out), len / 2);
}

static char *
base64_of_der (int (*i2d) (const void *, unsigned char **), const void *obj)
{
  unsigned char *der = NULL;
  int len;
  char *text;

  if (!obj || (len = i2d (obj, &der)) <= 0)
    return NULL;
  text = g_base64_encode (der, len);
  OPENSSL_free (der);
  return text;
}

static X509 *
cert_of_base64 (const char *text)
{
  gsize len = 0;
  g_autofree guchar *der = text ? g_base64_decode (text, &len) : NULL;
  const unsigned char *p = der;

  return der && len ? d2i_X509 (NULL, &p, len) : NULL;
}

static X509_REQ *
csr_of_base64 (const char *text)
{
  gsize len = 0;
  g_autofree guchar *der = text ? g_base64_decode (text, &len) : NULL;
  const unsigned char *p = der;

  return der && len ? d2i_X509_REQ (NULL, &p, len) : NULL;
}

static void
set_opt (GKeyFile *kf, const char *key, const char *value)
{
  if (value)
    g_key_file_set_string (kf, GROUP, key, value);
}

char *
kpr_identity_to_data (const KprIdentity *id, gsize *ret_len)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *key_id = hex_of (id->key_id), *next_id = hex_of (id->next_key_id);
  g_autofree char *stale_id = hex_of (id->stale_key_id);
  g_autofree char *cert = base64_of_der ((int (*) (const void *, unsigned char **)) i2d_X509, id->cert);
  g_autofree char *next_cert = base64_of_der ((int (*) (const void *, unsigned char **)) i2d_X509, id->next_cert);
  g_autofree char *csr = base64_of_der ((int (*) (const void *, unsigned char **)) i2d_X509_REQ, id->pending_csr);

  g_key_file_set_comment (kf, NULL, NULL,
                          " certkeeper identity record: written by certkeeper, do not edit", NULL);
  g_key_file_set_string (kf, GROUP, "name", id->name);
  g_key_file_set_string (kf, GROUP, "state", kpr_state_to_string (id->state));
  set_opt (kf, "failed-reason", id->failed_reason);
  set_opt (kf, "server", id->server);
  set_opt (kf, "label", id->label);
  set_opt (kf, "username", id->username);
  if (id->protocol != KPR_PROTOCOL_EST) /* records without it are EST */
    set_opt (kf, "protocol", kpr_protocol_to_string (id->protocol));
  set_opt (kf, "cmp-reference", id->reference);
  set_opt (kf, "cmp-anchor-fingerprint", id->anchor_fingerprint);
  set_opt (kf, "token", id->token_uri);
  set_opt (kf, "key-id", key_id);
  g_key_file_set_string (kf, GROUP, "key-type", kpr_key_type_to_string (id->key_type));
  g_key_file_set_string (kf, GROUP, "protection", kpr_protection_to_string (id->protection));
  g_key_file_set_boolean (kf, GROUP, "imported", id->imported);
  set_opt (kf, "certificate", cert);
  if (id->cert)
    {
      KprCertShown shown = { 0 };

      shown_of (id->cert, &shown);
      set_opt (kf, "cert-serial", shown.serial);
      set_opt (kf, "cert-subject", shown.subject);
      set_opt (kf, "cert-issuer", shown.issuer);
      set_opt (kf, "cert-sha256", shown.sha256);
      g_key_file_set_int64 (kf, GROUP, "cert-not-before", shown.not_before);
      g_key_file_set_int64 (kf, GROUP, "cert-not-after", shown.not_after);
      clear_shown (&shown);
    }
  set_opt (kf, "next-key-id", next_id);
  set_opt (kf, "next-certificate", next_cert);
  set_opt (kf, "stale-key-id", stale_id);
  set_opt (kf, "pending-csr", csr);
  if (id->retry_at)
    g_key_file_set_int64 (kf, GROUP, "retry-at", id->retry_at);
  set_opt (kf, "request-id", id->request_id);
  set_opt (kf, "backup-when", id->backup_when);
  set_opt (kf, "backup-where", id->backup_where);
  set_opt (kf, "backup-sha256", id->backup_sha256);
  return g_key_file_to_data (kf, ret_len, NULL);
}

static char *
get_opt (GKeyFile *kf, const char *key)
{
  return g_key_file_get_string (kf, GROUP, key, NULL);
}

/* A listing: what it shows is in the record (records older than that
 * field have their certificate decoded instead). */
static gboolean
read_shown (GKeyFile *kf, KprCertShown *shown)
{
  if (!(shown->serial = get_opt (kf, "cert-serial")))
    return FALSE;
  shown->subject = get_opt (kf, "cert-subject");
  shown->issuer = get_opt (kf, "cert-issuer");
  shown->sha256 = get_opt (kf, "cert-sha256");
  shown->not_before = g_key_file_get_int64 (kf, GROUP, "cert-not-before", NULL);
  shown->not_after = g_key_file_get_int64 (kf, GROUP, "cert-not-after", NULL);
  return TRUE;
}

KprIdentity *
kpr_identity_from_data (const char *name, const char *data, gsize len, gboolean brief,
                        GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (KprIdentity) id = g_new0 (KprIdentity, 1);
  g_autofree char *state = NULL, *key_type = NULL, *protection = NULL, *key_id = NULL;
  g_autofree char *cert = NULL, *next_id = NULL, *next_cert = NULL, *stale_id = NULL;
  g_autofree char *csr = NULL, *protocol = NULL;
  const char *problem = NULL;

  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, NULL))
    problem = "it is not a key file";
  else
    {
      id->name = g_strdup (name);
      state = get_opt (kf, "state");
      key_type = get_opt (kf, "key-type");
      protection = get_opt (kf, "protection");
      key_id = get_opt (kf, "key-id");
      cert = get_opt (kf, "certificate");
      next_id = get_opt (kf, "next-key-id");
      next_cert = get_opt (kf, "next-certificate");
      stale_id = get_opt (kf, "stale-key-id");
      csr = get_opt (kf, "pending-csr");
      id->failed_reason = get_opt (kf, "failed-reason");
      id->server = get_opt (kf, "server");
      id->label = get_opt (kf, "label");
      id->username = get_opt (kf, "username");
      protocol = get_opt (kf, "protocol");
      id->reference = get_opt (kf, "cmp-reference");
      id->anchor_fingerprint = get_opt (kf, "cmp-anchor-fingerprint");
      id->token_uri = get_opt (kf, "token");
      id->imported = g_key_file_get_boolean (kf, GROUP, "imported", NULL);
      id->retry_at = g_key_file_get_int64 (kf, GROUP, "retry-at", NULL);
      id->request_id = get_opt (kf, "request-id");
      id->backup_when = get_opt (kf, "backup-when");
      id->backup_where = get_opt (kf, "backup-where");
      id->backup_sha256 = get_opt (kf, "backup-sha256");

      if (!state || !kpr_state_from_string (state, &id->state))
        problem = "its state is missing or unknown";
      else if (!key_type || !kpr_key_type_from_string (key_type, &id->key_type))
        problem = "its key type is missing or unknown";
      else if (!protection || !kpr_protection_from_string (protection, &id->protection))
        problem = "its protection is missing or unknown";
      else if (protocol && !kpr_protocol_from_string (protocol, &id->protocol))
        problem = "its protocol is unknown";
      else if (!id->token_uri || !(id->key_id = bytes_of_hex (key_id)))
        problem = "it does not say where its key is";
      else if (cert && !(brief && read_shown (kf, &id->shown))
               && !(id->cert = cert_of_base64 (cert)))
        problem = "its certificate is damaged";
      else if (!brief && next_cert && !(id->next_cert = cert_of_base64 (next_cert)))
        problem = "its next certificate is damaged";
      else if (!brief && csr && !(id->pending_csr = csr_of_base64 (csr)))
        problem = "its pending request is damaged";
      else if ((next_id && !(id->next_key_id = bytes_of_hex (next_id)))
               || (stale_id && !(id->stale_key_id = bytes_of_hex (stale_id))))
        problem = "a key id is damaged";
      else if (kpr_lifecycle_info (id->state)->has_cert && !cert)
        problem = "its certificate is missing";
    }
  if (problem)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The record of identity “%s” is damaged: %s. Restore it from a backup "
                   "with 'certkeeper import', or remove it with 'certkeeper delete %s --yes'",
                   name, problem, name);
      return NULL;
    }
  if (id->cert)
    shown_of (id->cert, &id->shown);
  return g_steal_pointer (&id);
}
