/* kpr-est-status.c — what the client makes of an HTTP answer: statuses
 * to KprError (RFC 7030 §4.2.3: 202 + Retry-After means pending), the
 * Content-Type check, the server's text made safe to show, and the
 * tls-unique value for channel binding (§3.5).
 */
#include "config.h"

#include "kpr-est-private.h"

#include <string.h>

#define SERVER_TEXT_MAX 200

char *
kpr_est_sanitize_text (const guint8 *data, gsize len)
{
  GString *s = g_string_new (NULL);
  gsize i;

  for (i = 0; i < len && s->len < SERVER_TEXT_MAX; i++)
    {
      guchar c = data[i];

      if (c == '\n' || c == '\r' || c == '\t')
        c = ' ';
      if (c < 0x20 || c > 0x7e)
        c = '?';
      if (c == ' ' && (s->len == 0 || s->str[s->len - 1] == ' '))
        continue;
      g_string_append_c (s, (char) c);
    }
  while (s->len > 0 && s->str[s->len - 1] == ' ')
    g_string_truncate (s, s->len - 1);
  if (i < len)
    g_string_append (s, "…");
  return g_string_free (s, FALSE);
}

/* A 401 says what it refused: a one-time secret word (certkeeper-ca marks
 * those), a password, a client certificate presented alone, or nothing at
 * all; each asks the person for something else. */
static void
set_auth_error (KprEstClient *client, const KprEstResponse *resp, const char *text,
                GError **error)
{
  const char *sep = text[0] ? ": " : "";
  const char *offered = resp->auth_offered;
  gboolean speakable = offered && (strstr (offered, "Basic") || strstr (offered, "Digest"));

  g_free (client->auth_offered);
  client->auth_offered = g_strdup (offered);
  if (resp->sent_creds && offered && !speakable)
    {
      client->refusal = KPR_EST_REFUSAL_SCHEME;
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The server asks for HTTP authentication by %s, which certkeeper does not "
                   "speak (only Basic and Digest) (HTTP 401)%s%s", offered, sep, text);
    }
  else if (resp->sent_creds && resp->secret_word)
    {
      client->refusal = KPR_EST_REFUSAL_SECRET_WORD;
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The server refused the username or the one-time secret word (HTTP 401)%s%s; "
                   "request a new secret word: a word never works twice", sep, text);
    }
  else if (resp->sent_creds)
    {
      client->refusal = KPR_EST_REFUSAL_PASSWORD;
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The server refused the username or password (HTTP 401)%s%s; check them "
                   "and try again", sep, text);
    }
  else if (resp->sent_cert)
    {
      client->refusal = KPR_EST_REFUSAL_CERTIFICATE;
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The server did not accept the client certificate alone and asks for "
                   "HTTP authentication%s%s%s (HTTP 401)%s%s", offered ? " (" : "",
                   offered ? offered : "", offered ? ")" : "", sep, text);
    }
  else
    {
      client->refusal = KPR_EST_REFUSAL_NEEDS_CREDENTIALS;
      g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
                   "The server asks for credentials%s%s%s (HTTP 401)%s%s",
                   offered ? " (" : "", offered ? offered : "", offered ? ")" : "", sep, text);
    }
}

gboolean
kpr_est_check_status (KprEstClient *client, const KprEstResponse *resp, gboolean pending_ok,
                      GError **error)
{
  g_autofree char *text = NULL;

  client->last_status = resp->status;
  if (resp->status == 200)
    return TRUE;
  text = kpr_est_sanitize_text (resp->body->data, resp->body->len);
  if (resp->status == 202 && pending_ok)
    {
      gint64 r = resp->retry_after;

      /* Retry-After may be absent, an HTTP date in the past, or (curl
       * 7.88) negative: keep the wait within sane bounds. */
      if (r == 0)
        r = KPR_EST_RETRY_DEFAULT;
      client->retry_after = (guint) CLAMP (r, KPR_EST_RETRY_MIN, KPR_EST_RETRY_MAX);
      g_set_error (error, KPR_ERROR, KPR_ERROR_PENDING,
                   "The server accepted the request for later processing; try again in %u s%s%s",
                   client->retry_after, text[0] ? ": " : "", text);
    }
  else if ((resp->status == 503 || resp->status == 429) && resp->retry_after > 0)
    {
      /* Overloaded (503) or locked out for a while (429, EXTENSIONS.md):
       * the wait is the server's to set, and the scheduler respects it. */
      client->retry_after = (guint) CLAMP (resp->retry_after, KPR_EST_RETRY_MIN,
                                           KPR_EST_RETRY_MAX);
      g_set_error (error, KPR_ERROR,
                   resp->status == 503 ? KPR_ERROR_UNREACHABLE : KPR_ERROR_REJECTED,
                   "The server is %s (HTTP %ld); it asks to try again in %u s%s%s",
                   resp->status == 503 ? "busy" : "refusing requests for now", resp->status,
                   client->retry_after, text[0] ? ": " : "", text);
    }
  else if (resp->status == 401)
    set_auth_error (client, resp, text, error);
  else if (resp->status >= 400 && resp->status < 500)
    g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                 "The server refused the request (HTTP %ld)%s%s", resp->status,
                 text[0] ? ": " : "", text);
  else if (resp->status >= 500 && resp->status < 600)
    g_set_error (error, KPR_ERROR, KPR_ERROR_UNREACHABLE,
                 "The server failed (HTTP %ld)%s%s", resp->status, text[0] ? ": " : "", text);
  else
    g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                 "The server answered with unexpected HTTP status %ld", resp->status);
  return FALSE;
}

gboolean
kpr_est_check_media_type (const KprEstResponse *resp, const char *expected, GError **error)
{
  if (resp->media_type && g_str_equal (resp->media_type, expected))
    return TRUE;
  g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
               "The server answered with Content-Type “%s”, expected %s",
               resp->media_type ? resp->media_type : "(none)", expected);
  return FALSE;
}

char *
kpr_est_tls_unique (KprEstClient *client, GError **error)
{
  char *b64, *nl;

  if (!client->tls_version[0])
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "No TLS connection to bind the request to");
      return NULL;
    }
  if (!g_str_equal (client->tls_version, "TLSv1.2"))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "The server wants the request bound to the TLS channel (tls-unique), "
                   "which only exists in TLS 1.2, but %s was negotiated",
                   client->tls_version);
      return NULL;
    }
  if (client->tls_unique_len == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL, "No TLS Finished message to bind to");
      return NULL;
    }
  b64 = kpr_est_base64_encode (client->tls_unique, client->tls_unique_len);
  nl = strchr (b64, '\n');
  if (nl)
    *nl = '\0';
  return b64;
}
