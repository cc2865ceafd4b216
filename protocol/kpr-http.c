/* kpr-http.c — see kpr-http-private.h. */
#include "config.h"

#include "kpr-http-private.h"
#include "kpr-est-private.h"
#include "kpr-protocol.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURLU, curl_url_cleanup)

static gpointer
global_init (gpointer data)
{
  /* libcurl builds the Basic header (base64 of user:word), the Digest
   * response and its copy of the password in its own heap and frees them
   * without erasing: every block it frees is erased first (a memset per
   * free, small beside a TLS handshake).  Before any other libcurl call in
   * the process: kpr_http_init is the programs' only door to libcurl. */
  return GINT_TO_POINTER (curl_global_init_mem (CURL_GLOBAL_DEFAULT, malloc, kpr_erasing_free,
                                                kpr_erasing_realloc, strdup, calloc)
                          == CURLE_OK);
}

gboolean
kpr_http_init (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  if (!GPOINTER_TO_INT (g_once (&once, global_init, NULL)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "libcurl cannot be initialised");
      return FALSE;
    }
  return TRUE;
}

size_t
kpr_http_sink_write (char *data, size_t size, size_t nmemb, void *user)
{
  KprHttpSink *sink = user;
  gsize n = size * nmemb;

  /* Cap while receiving: a hostile server cannot make us buffer more
   * than the cap, whatever Content-Length it announced. */
  if (n > sink->max || sink->body->len + n > sink->max)
    {
      sink->too_large = TRUE;
      return 0;
    }
  g_byte_array_append (sink->body, (const guint8 *) data, (guint) n);
  return n;
}

void
kpr_http_set_curl_error (GError **error, CURLcode rc, const char *errbuf,
                         const KprHttpSink *sink)
{
  const char *detail = errbuf && errbuf[0] ? errbuf : curl_easy_strerror (rc);

  if (sink->too_large || rc == CURLE_FILESIZE_EXCEEDED)
    g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                 "The server's answer is larger than %" G_GSIZE_FORMAT " bytes", sink->max);
  else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
           || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_ISSUER_ERROR)
    g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                 "The server's identity could not be verified: %s", detail);
  else if (rc == CURLE_SSL_CERTPROBLEM)
    g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN,
                 "The client certificate or key cannot be used for TLS: %s", detail);
  else
    g_set_error (error, KPR_ERROR, KPR_ERROR_UNREACHABLE,
                 "The server cannot be reached: %s", detail);
}

char *
kpr_http_media_type (const char *content_type)
{
  g_autofree char *v = NULL;
  char *semi;

  if (!content_type)
    return NULL;
  v = g_strdup (content_type);
  semi = strchr (v, ';');
  if (semi)
    *semi = '\0';
  return g_ascii_strdown (g_strstrip (v), -1);
}

gboolean
kpr_http_check_url (const char *url, const char *what, GError **error)
{
  g_autoptr (CURLU) u = curl_url ();
  char *scheme = NULL, *extra = NULL;
  gboolean ok;

  if (!u || !url || curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK
      || curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "%s “%s” is not a URL", what,
                   url ? url : "");
      return FALSE;
    }
  ok = g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0;
  curl_free (scheme);
  if (!ok)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "%s must start with http:// or https://", what);
      return FALSE;
    }
  if (curl_url_get (u, CURLUPART_USER, &extra, 0) == CURLUE_OK
      || curl_url_get (u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK)
    {
      curl_free (extra);
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "%s must not carry a user name or a #fragment", what);
      return FALSE;
    }
  return TRUE;
}

void
kpr_http_response_clear (KprHttpResponse *resp)
{
  g_clear_pointer (&resp->media_type, g_free);
  g_clear_pointer (&resp->body, g_byte_array_unref);
  memset (resp, 0, sizeof *resp);
}

static gboolean
configure (CURL *easy, const KprHttpRequest *req, KprHttpSink *sink, char *errbuf,
           struct curl_slist **headers)
{
  gboolean ok = TRUE;

  curl_easy_reset (easy);
#define SET(opt, val) ok = ok && curl_easy_setopt (easy, opt, val) == CURLE_OK
  SET (CURLOPT_URL, req->url);
  SET (CURLOPT_PROTOCOLS_STR, "http,https");
  SET (CURLOPT_FOLLOWLOCATION, 0L);
  SET (CURLOPT_NOSIGNAL, 1L);
  SET (CURLOPT_ERRORBUFFER, errbuf);
  SET (CURLOPT_CONNECTTIMEOUT, (long) req->connect_timeout);
  SET (CURLOPT_TIMEOUT, (long) req->total_timeout);
  SET (CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
  SET (CURLOPT_WRITEFUNCTION, kpr_http_sink_write);
  SET (CURLOPT_WRITEDATA, sink);
  SET (CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) req->max_body);
  SET (CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
  SET (CURLOPT_SSL_VERIFYPEER, 1L);
  SET (CURLOPT_SSL_VERIFYHOST, 2L);
#undef SET
  if (!ok)
    return FALSE;
  if (req->content_type)
    return kpr_http_set_post (easy, req->content_type, req->body, req->body_len, NULL, headers);
  *headers = curl_slist_append (NULL, "Expect:");
  return *headers && curl_easy_setopt (easy, CURLOPT_HTTPGET, 1L) == CURLE_OK
         && curl_easy_setopt (easy, CURLOPT_HTTPHEADER, *headers) == CURLE_OK;
}

gboolean
kpr_http_set_post (CURL *easy, const char *content_type, const void *body, gsize len,
                   const char *extra_header, struct curl_slist **headers)
{
  g_autofree char *ct = g_strdup_printf ("Content-Type: %s", content_type);

  /* A plain Content-Length body, never 100-continue: some servers (IIS,
   * so NDES) and proxies handle it badly. */
  *headers = curl_slist_append (NULL, "Expect:");
  *headers = *headers ? curl_slist_append (*headers, ct) : NULL;
  if (*headers && extra_header)
    *headers = curl_slist_append (*headers, extra_header);
  return *headers && curl_easy_setopt (easy, CURLOPT_POST, 1L) == CURLE_OK
         && curl_easy_setopt (easy, CURLOPT_POSTFIELDS, len ? body : "") == CURLE_OK
         && curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len) == CURLE_OK
         && curl_easy_setopt (easy, CURLOPT_HTTPHEADER, *headers) == CURLE_OK;
}

gboolean
kpr_protocol_set_anchors (KprX509Stack **slot, KprX509Stack *anchors, GError **error)
{
  KprX509Stack *copy;

  if (sk_X509_num (anchors) <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "No trust anchor given");
      return FALSE;
    }
  if (!(copy = X509_chain_up_ref (anchors)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Out of memory");
      return FALSE;
    }
  g_clear_pointer (slot, kpr_x509_stack_free);
  *slot = copy;
  return TRUE;
}

gboolean
kpr_http_exchange (CURL **easy, const KprHttpRequest *req, KprHttpResponse *ret_resp,
                   GError **error)
{
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers = NULL;
  KprHttpSink sink = { NULL, req->max_body, FALSE };
  const char *ct = NULL;
  char *location = NULL;
  long status = 0;
  CURLcode rc;

  g_return_val_if_fail (easy != NULL && req != NULL && ret_resp != NULL, FALSE);

  if (!kpr_http_init (error))
    return FALSE;
  if (!*easy)
    *easy = curl_easy_init ();
  if (!*easy)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "libcurl cannot create a handle");
      return FALSE;
    }
  sink.body = g_byte_array_new ();
  if (!configure (*easy, req, &sink, errbuf, &headers))
    {
      curl_slist_free_all (headers);
      g_byte_array_unref (sink.body);
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "libcurl refused an option");
      return FALSE;
    }
  rc = curl_easy_perform (*easy);
  curl_easy_setopt (*easy, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt (*easy, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all (headers);
  if (rc != CURLE_OK)
    {
      kpr_http_set_curl_error (error, rc, errbuf, &sink);
      g_byte_array_unref (sink.body);
      return FALSE;
    }
  curl_easy_getinfo (*easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (*easy, CURLINFO_CONTENT_TYPE, &ct);
  if (status >= 300 && status < 400)
    {
      g_autofree char *where = NULL;

      curl_easy_getinfo (*easy, CURLINFO_REDIRECT_URL, &location);
      where = location ? kpr_est_sanitize_text ((const guint8 *) location, strlen (location))
                       : g_strdup ("nowhere");
      g_byte_array_unref (sink.body);
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The server redirects (HTTP %ld) to %s; check that address and use it as "
                   "the server URL if it is right", status, where);
      return FALSE;
    }
  memset (ret_resp, 0, sizeof *ret_resp);
  ret_resp->status = status;
  ret_resp->media_type = kpr_http_media_type (ct);
  ret_resp->body = sink.body;
  return TRUE;
}

gboolean
kpr_http_check_status (const KprHttpResponse *resp, GError **error)
{
  g_autofree char *text = NULL;
  KprError code = KPR_ERROR_PROTOCOL;

  if (resp->status == 200)
    return TRUE;
  text = kpr_est_sanitize_text (resp->body->data, resp->body->len);
  if (resp->status >= 400 && resp->status < 500)
    code = KPR_ERROR_REJECTED;
  else if (resp->status >= 500 && resp->status < 600)
    code = KPR_ERROR_UNREACHABLE;
  g_set_error (error, KPR_ERROR, code, "The server answered HTTP %ld%s%s", resp->status,
               text[0] ? ": " : "", text);
  return FALSE;
}

X509_CRL *
kpr_protocol_crl_from_der (const guint8 *data, gsize len)
{
  const unsigned char *p = data;
  X509_CRL *crl;

  if (!data || len == 0 || len > LONG_MAX)
    return NULL;
  crl = d2i_X509_CRL (NULL, &p, (long) len);
  if (crl && p != data + len)
    g_clear_pointer (&crl, X509_CRL_free);
  return crl;
}

X509_CRL *
kpr_protocol_fetch_crl (const char *url, guint timeout, GError **error)
{
  /* Large CAs publish CRLs of some megabytes; nothing sane is bigger. */
  KprHttpRequest req = { .url = url, .max_body = 16 * 1024 * 1024,
                         .connect_timeout = MIN (timeout, 10), .total_timeout = timeout };
  KprHttpResponse resp = { 0 };
  CURL *easy = NULL;
  X509_CRL *crl = NULL;

  if (!kpr_http_check_url (url, "The CRL distribution point", error))
    return NULL;
  if (kpr_http_exchange (&easy, &req, &resp, error) && kpr_http_check_status (&resp, error))
    {
      crl = kpr_protocol_crl_from_der (resp.body->data, resp.body->len);
      if (!crl)
        g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                     "%s does not hold one DER certificate revocation list", url);
    }
  kpr_http_response_clear (&resp);
  if (easy)
    curl_easy_cleanup (easy);
  return crl;
}
