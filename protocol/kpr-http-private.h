/* kpr-http-private.h — the HTTP transport pieces protocol/ shares: the
 * capped body sink and the libcurl error mapping that EST uses too, and
 * the plain one-shot exchange that SCEP and CMP run over.
 *
 * SCEP and CMP protect their messages themselves (signed and encrypted
 * PKCS#7, CMP protection), so their URLs may be http:// as their servers
 * publish them (NDES, micromdm, EJBCA, OpenSSL's mock server).  Trust in
 * what comes back rests on those message checks, never on the transport.
 */
#pragma once

#include <curl/curl.h>
#include <glib.h>

#include "kpr-common.h"

G_BEGIN_DECLS

/* libcurl's global init, once per process. */
gboolean kpr_http_init (GError **error);

/* Receives a body, refusing to grow past @max whatever Content-Length
 * the server announced (too_large is then set and the transfer fails). */
typedef struct {
  GByteArray *body;
  gsize max;
  gboolean too_large;
} KprHttpSink;

size_t kpr_http_sink_write (char *data, size_t size, size_t nmemb, void *sink);

/* A transfer failure as a KprError: too large → PROTOCOL, certificate
 * problems → UNTRUSTED, the client's own certificate → TOKEN, anything
 * else → UNREACHABLE. */
void kpr_http_set_curl_error (GError **error, CURLcode rc, const char *errbuf,
                              const KprHttpSink *sink);

/* "type/subtype" of a Content-Type header, lower-cased, parameters
 * dropped; NULL for NULL. */
char *kpr_http_media_type (const char *content_type);

/* Whether @url is an http:// or https:// URL without user info or
 * fragment (a query is allowed: some SCEP servers route on it).
 * KPR_ERROR_BAD_INPUT otherwise, naming @what ("The SCEP server URL"). */
gboolean kpr_http_check_url (const char *url, const char *what, GError **error);

typedef struct {
  const char *url;          /* complete, query included */
  const char *content_type; /* non-NULL: POST this body; NULL: GET */
  const void *body;
  gsize body_len;
  gsize max_body;
  guint connect_timeout, total_timeout; /* seconds */
} KprHttpRequest;

typedef struct {
  long status;
  char *media_type; /* see kpr_http_media_type */
  GByteArray *body;
} KprHttpResponse;

void kpr_http_response_clear (KprHttpResponse *resp);

/* One request on *@easy (created on first use, kept so that consecutive
 * requests share a connection).  Redirects are not followed: a 3xx is
 * KPR_ERROR_PROTOCOL naming the target, so the person can check it and
 * give that URL instead.  https:// is verified against the system's CA
 * store.  Any other HTTP status is returned for the caller to judge. */
gboolean kpr_http_exchange (CURL **easy, const KprHttpRequest *req, KprHttpResponse *ret_resp,
                            GError **error);

/* 200 → TRUE; otherwise a KprError saying what the server said: 4xx
 * REJECTED, 5xx UNREACHABLE, anything else PROTOCOL. */
gboolean kpr_http_check_status (const KprHttpResponse *resp, GError **error);

/* Replaces *@slot with a reference-counted copy of @anchors (the explicit
 * trust anchors of a SCEP or CMP client); KPR_ERROR_BAD_INPUT for none. */
gboolean kpr_protocol_set_anchors (KprX509Stack **slot, KprX509Stack *anchors, GError **error);

/* Sets @easy up to POST @body as @content_type, plus @extra_header when
 * non-NULL; the headers go to *@headers for the caller to free after the
 * transfer. */
gboolean kpr_http_set_post (CURL *easy, const char *content_type, const void *body, gsize len,
                            const char *extra_header, struct curl_slist **headers);

G_END_DECLS
