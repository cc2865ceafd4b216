/* kpr-est-private.h — what the files of protocol/ share behind kpr-est.h. */
#pragma once

#include <curl/curl.h>

#include "kpr-est.h"

G_BEGIN_DECLS

struct _KprEstClient {
  char *origin;       /* "https://host:port", for building URLs */
  char *host;         /* lower-cased, for the same-origin check */
  int port;
  char *prefix;       /* "/.well-known/est/" or "/.well-known/est/LABEL/" */
  KprX509Stack *anchors;
  char *anchors_pem;  /* the same anchors for CURLOPT_CAINFO_BLOB */
  X509 *client_cert;
  EVP_PKEY *client_key;
  KprX509Stack *client_chain;
  guint connect_timeout;
  guint total_timeout;
  guint retry_after;
  char *request_id;   /* the last 202's Certkeeper-Request-Id, or NULL */
  KprEstRefusal refusal; /* what the last 401 refused */
  char *auth_offered; /* the schemes of the last 401's WWW-Authenticate, or NULL */
  GStrv unmet;        /* what the last linked enrollment's /csrattrs asked in vain */
  long last_status;   /* HTTP status of the last answer, 0 if none */
  gboolean tls12_only; /* channel binding needs tls-unique (RFC 7030 §3.5) */
  char tls_version[16];
  /* tls-unique of the last request's connection (RFC 5929 §3.1), taken
   * while the transfer runs: libcurl detaches the connection after it. */
  guint8 tls_unique[64];
  gsize tls_unique_len;
  /* One handle per configuration, kept so that consecutive requests share
   * a connection (tls-unique binds the CSR to it).  Dropped whenever the
   * trust anchors or the client certificate change, so a connection is
   * never reused under a configuration it was not made with. */
  CURL *easy;
};

typedef struct {
  long status;
  char *media_type;   /* lower-cased, no parameters; NULL when absent */
  char *content_type; /* the header as sent, NULL when absent */
  GByteArray *body;
  gint64 retry_after; /* raw CURLINFO_RETRY_AFTER, may be negative */
  gboolean sent_creds;  /* the request carried HTTP credentials */
  gboolean sent_cert;   /* … and a client certificate was configured */
  gboolean secret_word; /* the answer carried Certkeeper-Secret-Word: one-time */
  char *auth_offered;   /* the schemes of its WWW-Authenticate, or NULL */
} KprEstResponse;

void kpr_est_response_clear (KprEstResponse *resp);

typedef enum {
  KPR_EST_VERIFIED = 0,
  KPR_EST_BOOTSTRAP = 1, /* no server verification: /cacerts only */
} KprEstTrust;

typedef struct {
  const char *method;       /* "GET" or "POST" */
  const char *op;           /* "cacerts", "simpleenroll", … */
  const char *path;         /* instead of the EST prefix + op: "/crl" */
  const char *content_type; /* of the body, for POST */
  const void *body;
  gsize body_len;
  gboolean base64_body;     /* add Content-Transfer-Encoding: base64 */
  const KprEstCredentials *creds;
  KprEstTrust trust;
} KprEstRequest;

/* Performs @req, following same-origin redirects only.  Any HTTP answer
 * is a success here (the caller maps statuses); transport failures are
 * mapped to KprError. */
gboolean kpr_est_perform (KprEstClient *client, const KprEstRequest *req,
                          KprEstResponse *ret_resp, GError **error);

/* Maps a non-success status to an error (sets client->retry_after on 202
 * when @pending_ok).  Returns TRUE for 200. */
gboolean kpr_est_check_status (KprEstClient *client, const KprEstResponse *resp,
                               gboolean pending_ok, GError **error);

/* Fails with KPR_ERROR_PROTOCOL unless the media type is @expected. */
gboolean kpr_est_check_media_type (const KprEstResponse *resp, const char *expected,
                                   GError **error);

/* The server's text, cut to a sane length and made printable. */
char *kpr_est_sanitize_text (const guint8 *data, gsize len);

/* tls-unique of the connection the last request on client->easy used
 * (RFC 5929 §3.1), base64.  KPR_ERROR_UNSUPPORTED on TLS 1.3. */
char *kpr_est_tls_unique (KprEstClient *client, GError **error);

G_END_DECLS
