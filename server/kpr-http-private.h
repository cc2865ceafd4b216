/* kpr-http-private.h — the HTTP side of server/: the running server and
 * one request being answered.  Shared by kpr-http.c (transport, TLS,
 * routing), kpr-conn.c (connections: limits, deadlines, PROXY headers)
 * and kpr-handlers.c (the EST operations).
 */
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
  KprMailer *mailer;
  KprWriter *writer;
  KprCrlPublisher *crl;
  KprSourceTable *fails;      /* wrong credentials per address */
  KprSourceTable *challenges; /* /challenge calls per address */
  KprBackoff challenge_backoff; /* kpr_backoff_challenge, or --challenges-per-address free */
  char *host;
  guint16 port;
  KprServerLogFunc log_func;
  gpointer log_data;
  struct event_base *base;
  struct evhttp *http;
  struct evhttp_bound_socket *sock;
  SSL_CTX *ssl_ctx;
  struct event *sig_term;
  struct event *sig_int;
  struct event *mail_timer;
  gboolean mail_busy;  /* a mail job is out */
  char *probe_key;     /* secret for the answers about unknown users */
  /* kpr-conn.c */
  GQueue conns;        /* KprConn, oldest first */
  guint max_connections;
  gint64 request_timeout;
  gint64 idle_timeout;
  gboolean proxy_protocol;
  struct event *accept_resume;
  gint64 last_emfile_log;
};

typedef struct {
  KprServer *server;
  struct evhttp_request *req;
  char *peer;   /* "ADDRESS:PORT" for the log and the audit */
  char *source; /* the throttling key of the address */
  char *note;   /* what happened, appended to the request's log line */
} KprRequest;

void kpr_server_log (KprServer *server, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Replies (each sends exactly one answer, then frees @rq). */
void kpr_reply_text (KprRequest *rq, int code, const char *text);
void kpr_reply_error (KprRequest *rq, const GError *error);
void kpr_reply_bytes (KprRequest *rq, int code, const char *content_type,
                      const void *data, gsize len);
/* A 429 or 503 with Retry-After: @seconds. */
void kpr_reply_later (KprRequest *rq, int code, gint64 seconds, const char *text);

/* The body, NUL-terminated; NULL + 413 answer (and @rq freed) when too
 * large. */
char *kpr_request_body (KprRequest *rq, gsize *ret_len);
const char *kpr_request_header (KprRequest *rq, const char *name);
/* The client certificate, if one was presented and verified against the
 * CA (NULL otherwise); owned by the connection. */
X509 *kpr_request_peer_cert (KprRequest *rq);
/* The tls-unique of the request's connection (RFC 5929 §3.1) into @buf;
 * FALSE when there is none (TLS 1.3 has no tls-unique). */
gboolean kpr_request_tls_unique (KprRequest *rq, guint8 *buf, gsize size, gsize *ret_len);

/* kpr-conn.c */
/* Raises RLIMIT_NOFILE to its hard limit and sizes the connection limit. */
gboolean kpr_conn_setup (KprServer *server, const KprServerOptions *options, GError **error);
/* evhttp's bufferevent callback: one TLS connection, tracked. */
struct bufferevent *kpr_conn_new_bufferevent (struct event_base *base, void *data);
/* Handles accept() failures (EMFILE) on the listener without spinning. */
void kpr_conn_watch_listener (KprServer *server);
void kpr_conn_unwatch_listener (KprServer *server);
/* The client's address (from the PROXY header when enabled). */
char *kpr_conn_peer (KprServer *server, struct evhttp_request *req, char **ret_source);
/* A request is being answered: its connection is not idle. */
void kpr_conn_busy (struct evhttp_request *req, gboolean busy);
/* The info callback that reads a PROXY header before the TLS handshake. */
void kpr_conn_info_callback (const SSL *ssl, int where, int ret);

/* kpr-handlers.c */
void kpr_handle_cacerts (KprRequest *rq);
void kpr_handle_csrattrs (KprRequest *rq);
void kpr_handle_crl (KprRequest *rq);
void kpr_handle_enroll (KprRequest *rq, KprIssueKind kind);
void kpr_handle_challenge (KprRequest *rq);
void kpr_handle_revoke (KprRequest *rq);
/* A periodic mail round (serve --mail-command). */
void kpr_mail_round (KprServer *server);

G_END_DECLS
