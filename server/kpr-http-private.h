/* kpr-http-private.h — the HTTP side of server/: the running server and
 * one request being answered.  Shared by kpr-http.c (transport, TLS,
 * routing) and kpr-handlers.c (the EST operations). */
#pragma once

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "kpr-server-private.h"

G_BEGIN_DECLS

/* Request bodies: EST messages are small; JSON smaller still. */
#define KPR_HTTP_BODY_MAX (64 * 1024)

struct _KprServer {
  KprCa *ca; /* not owned */
  KprOtpSender *otp;
  char *host;
  guint16 port;
  KprServerLogFunc log_func;
  gpointer log_data;
  struct event_base *base;
  struct evhttp *http;
  SSL_CTX *ssl_ctx;
  struct event *sig_term;
  struct event *sig_int;
  char *probe_key;        /* secret for the answers about unknown users */
  GHashTable *challenges; /* username → ChallengeWindow, for the rate limit */
};

typedef struct {
  KprServer *server;
  struct evhttp_request *req;
  char *peer; /* "ADDRESS:PORT" for the log and the audit */
} KprRequest;

void kpr_server_log (KprServer *server, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Replies (each sends exactly one answer). */
void kpr_reply_text (KprRequest *rq, int code, const char *text);
void kpr_reply_error (KprRequest *rq, const GError *error);
void kpr_reply_bytes (KprRequest *rq, int code, const char *content_type,
                      const void *data, gsize len);

/* The body, NUL-terminated; NULL + 413 answer when too large. */
char *kpr_request_body (KprRequest *rq, gsize *ret_len);
const char *kpr_request_header (KprRequest *rq, const char *name);
/* The client certificate, if one was presented and verified against the
 * CA (NULL otherwise); owned by the connection. */
X509 *kpr_request_peer_cert (KprRequest *rq);

/* kpr-handlers.c */
void kpr_handle_cacerts (KprRequest *rq);
void kpr_handle_csrattrs (KprRequest *rq);
void kpr_handle_crl (KprRequest *rq);
void kpr_handle_enroll (KprRequest *rq, KprIssueKind kind);
void kpr_handle_reenroll (KprRequest *rq);
void kpr_handle_challenge (KprRequest *rq);
void kpr_handle_revoke (KprRequest *rq);

G_END_DECLS
