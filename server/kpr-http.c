/* kpr-http.c — HTTPS transport of certkeeper-ca: libevent's evhttp over
 * bufferevent_openssl (no HTTP parser of our own), TLS settings, routing of
 * /.well-known/est/[LABEL/]OP and /crl, the reply helpers, and the
 * server's life.
 *
 * The event loop thread does TLS, HTTP and parsing; what touches the
 * database is a job for the writer thread (kpr-writer.c) and the answer
 * goes out when the job comes back, so the loop never waits for a disk or
 * for PostgreSQL.  The CRL is built by the publisher thread (kpr-crl.c).
 */
#include "config.h"

#include "kpr-http-private.h"
#include "kpr-est-codec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#define EST_PREFIX "/.well-known/est/"

void
kpr_server_log (KprServer *server, const char *format, ...)
{
  g_autofree char *line = NULL;
  va_list args;

  if (!server->log_func)
    return;
  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  /* Request URIs come from the network: no control characters may reach
   * the log (a forged line, a terminal escape). */
  for (char *p = line; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = '?';
  server->log_func (line, server->log_data);
}

static void
request_free (KprRequest *rq)
{
  g_free (rq->peer);
  g_free (rq->source);
  g_free (rq->note);
  g_free (rq);
}

void
kpr_reply_bytes (KprRequest *rq, int code, const char *content_type, const void *data, gsize len)
{
  struct evbuffer *buf = evbuffer_new ();
  struct evkeyvalq *headers = evhttp_request_get_output_headers (rq->req);

  /* One line per request: a write per line is a system call. */
  kpr_server_log (rq->server, "%s %s %s -> %d%s%s%s", rq->peer,
                  evhttp_request_get_command (rq->req) == EVHTTP_REQ_GET ? "GET" : "POST",
                  evhttp_request_get_uri (rq->req), code, rq->note ? " (" : "",
                  rq->note ? rq->note : "", rq->note ? ")" : "");
  if (content_type)
    evhttp_add_header (headers, "Content-Type", content_type);
  evhttp_add_header (headers, "Cache-Control", "no-store");
  if (buf && len > 0)
    evbuffer_add (buf, data, len);
  /* Before the reply: a request whose client went away is freed by it. */
  kpr_conn_busy (rq->req, FALSE);
  evhttp_send_reply (rq->req, code, NULL, buf);
  if (buf)
    evbuffer_free (buf);
  request_free (rq);
}

void
kpr_reply_text (KprRequest *rq, int code, const char *text)
{
  g_autofree char *body = g_strdup_printf ("%s\n", text);

  kpr_reply_bytes (rq, code, "text/plain; charset=utf-8", body, strlen (body));
}

void
kpr_reply_later (KprRequest *rq, int code, gint64 seconds, const char *text)
{
  g_autofree char *retry = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (seconds, 1));

  evhttp_add_header (evhttp_request_get_output_headers (rq->req), "Retry-After", retry);
  kpr_reply_text (rq, code, text);
}

void
kpr_reply_error (KprRequest *rq, const GError *error)
{
  struct evkeyvalq *headers = evhttp_request_get_output_headers (rq->req);
  int code = 500;

  if (error->domain == KPR_ERROR)
    switch ((KprError) error->code)
      {
      case KPR_ERROR_AUTH:
        code = 401;
        evhttp_add_header (headers, "WWW-Authenticate",
                           "Basic realm=\"certkeeper\", charset=\"UTF-8\"");
        /* The password is a one-time secret word (EXTENSIONS.md §1): a
         * client tells the person to ask for a new one, not to retype. */
        evhttp_add_header (headers, KPR_EST_SECRET_WORD_HEADER, "one-time");
        break;
      case KPR_ERROR_BAD_INPUT:
      case KPR_ERROR_PROTOCOL:
      case KPR_ERROR_UNSUPPORTED:
      case KPR_ERROR_USAGE:
        code = 400;
        break;
      case KPR_ERROR_REJECTED:
        code = 403;
        break;
      case KPR_ERROR_NOT_FOUND:
        code = 404;
        break;
      case KPR_ERROR_EXISTS:
        code = 409;
        break;
      case KPR_ERROR_BUSY:
        /* The database is locked by another writer (or a deadlock between
         * front ends): the same request will work in a moment. */
        kpr_server_log (rq->server, "%s busy: %s", rq->peer, error->message);
        kpr_reply_later (rq, 503, 2, "The CA is busy; try again in a moment");
        return;
      default:
        break;
      }
  if (code == 500)
    {
      /* Details of our own trouble go to the log, not to the client. */
      kpr_server_log (rq->server, "%s internal error: %s", rq->peer, error->message);
      kpr_reply_text (rq, 500, "The CA had an internal problem; try again later");
      return;
    }
  kpr_reply_text (rq, code, error->message);
}

char *
kpr_request_body (KprRequest *rq, gsize *ret_len)
{
  struct evbuffer *in = evhttp_request_get_input_buffer (rq->req);
  gsize len = evbuffer_get_length (in);
  char *data;

  if (len > KPR_HTTP_BODY_MAX)
    {
      kpr_reply_text (rq, 413, "The request body is too large");
      return NULL;
    }
  data = g_malloc (len + 1);
  evbuffer_copyout (in, data, len);
  data[len] = '\0';
  *ret_len = len;
  return data;
}

const char *
kpr_request_header (KprRequest *rq, const char *name)
{
  return evhttp_find_header (evhttp_request_get_input_headers (rq->req), name);
}

X509 *
kpr_request_peer_cert (KprRequest *rq)
{
  struct evhttp_connection *conn = evhttp_request_get_connection (rq->req);
  struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent (conn) : NULL;
  SSL *ssl = bev ? bufferevent_openssl_get_ssl (bev) : NULL;
  X509 *cert = ssl ? SSL_get0_peer_certificate (ssl) : NULL;

  /* The handshake accepts any certificate (see accept_any_client_cert);
   * here only one that verified against our CA counts. */
  if (!cert || SSL_get_verify_result (ssl) != X509_V_OK)
    return NULL;
  return cert;
}

gboolean
kpr_request_tls_unique (KprRequest *rq, guint8 *buf, gsize size, gsize *ret_len)
{
  struct evhttp_connection *conn = evhttp_request_get_connection (rq->req);
  struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent (conn) : NULL;
  SSL *ssl = bev ? bufferevent_openssl_get_ssl (bev) : NULL;
  size_t n;

  if (!ssl || SSL_version (ssl) != TLS1_2_VERSION)
    return FALSE;
  /* RFC 5929 §3.1: the first Finished of the latest handshake — the
   * client's on a full handshake, ours on a resumed one. */
  n = SSL_session_reused (ssl) ? SSL_get_finished (ssl, buf, size)
                               : SSL_get_peer_finished (ssl, buf, size);
  if (n == 0 || n > size)
    return FALSE;
  *ret_len = n;
  return TRUE;
}

/* ---- routing ------------------------------------------------------------ */

typedef enum { ROUTE_GET, ROUTE_POST } RouteMethod;

static const struct {
  const char *op;
  RouteMethod method;
} routes[] = {
  { "cacerts", ROUTE_GET },      { "csrattrs", ROUTE_GET },
  { "crl", ROUTE_GET },          { "simpleenroll", ROUTE_POST },
  { "simplereenroll", ROUTE_POST }, { "serverkeygen", ROUTE_POST },
  { "challenge", ROUTE_POST },   { "revoke", ROUTE_POST },
  { "fullcmc", ROUTE_POST },
};

static gboolean
valid_label (const char *label, gsize len)
{
  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (label[i]) && !strchr ("._-", label[i]))
      return FALSE;
  /* RFC 7030 §3.2.2: a label is never an operation name. */
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    if (strlen (routes[i].op) == len && memcmp (routes[i].op, label, len) == 0)
      return FALSE;
  return TRUE;
}

/* "/.well-known/est/OP", "/.well-known/est/LABEL/OP" or "/crl" → OP. */
static const char *
route_op (const char *path)
{
  const char *rest;
  const char *slash;

  if (!path)
    return NULL;
  if (g_str_equal (path, "/crl"))
    return "crl";
  if (!g_str_has_prefix (path, EST_PREFIX))
    return NULL;
  rest = path + strlen (EST_PREFIX);
  slash = strchr (rest, '/');
  if (slash)
    {
      if (!valid_label (rest, (gsize) (slash - rest)))
        return NULL;
      rest = slash + 1;
    }
  return rest;
}

static void
dispatch (struct evhttp_request *req, void *data)
{
  KprServer *server = data;
  KprRequest *rq = g_new0 (KprRequest, 1);
  const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri (req);
  const char *op = route_op (uri ? evhttp_uri_get_path (uri) : NULL);
  struct evhttp_connection *conn = evhttp_request_get_connection (req);
  enum evhttp_cmd_type cmd = evhttp_request_get_command (req);
  gsize i;

  rq->server = server;
  rq->req = req;
  rq->peer = kpr_conn_peer (server, req, &rq->source);
  /* Answered later, maybe (a job for the writer): not idle meanwhile. */
  kpr_conn_busy (req, TRUE);
  if (conn)
    {
      struct bufferevent *bev = evhttp_connection_get_bufferevent (conn);
      evutil_socket_t fd = bev ? bufferevent_getfd (bev) : -1;
      int one = 1;

      /* evhttp writes headers and body separately; with Nagle on, the body
       * waits ~40 ms for the client's delayed ACK on every reused
       * connection (bench/RESULTS.md).  The socket only exists here, not
       * when the bufferevent is made. */
      if (fd >= 0)
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

  for (i = 0; op && i < G_N_ELEMENTS (routes); i++)
    if (g_str_equal (op, routes[i].op))
      break;
  if (!op || i == G_N_ELEMENTS (routes))
    kpr_reply_text (rq, 404, "No such EST operation here");
  else if ((routes[i].method == ROUTE_GET && cmd != EVHTTP_REQ_GET)
           || (routes[i].method == ROUTE_POST && cmd != EVHTTP_REQ_POST))
    {
      evhttp_add_header (evhttp_request_get_output_headers (req), "Allow",
                         routes[i].method == ROUTE_GET ? "GET" : "POST");
      kpr_reply_text (rq, 405, "Wrong HTTP method for this operation");
    }
  else if (g_str_equal (op, "cacerts"))
    kpr_handle_cacerts (rq);
  else if (g_str_equal (op, "csrattrs"))
    kpr_handle_csrattrs (rq);
  else if (g_str_equal (op, "crl"))
    kpr_handle_crl (rq);
  else if (g_str_equal (op, "simpleenroll"))
    kpr_handle_enroll (rq, KPR_ISSUE_ENROLL);
  else if (g_str_equal (op, "serverkeygen"))
    kpr_handle_enroll (rq, KPR_ISSUE_SERVERKEYGEN);
  else if (g_str_equal (op, "simplereenroll"))
    kpr_handle_enroll (rq, KPR_ISSUE_REENROLL);
  else if (g_str_equal (op, "challenge"))
    kpr_handle_challenge (rq);
  else if (g_str_equal (op, "revoke"))
    kpr_handle_revoke (rq);
  else
    kpr_reply_text (rq, 501, "Full CMC is not supported by this CA");
}

/* ---- TLS ---------------------------------------------------------------- */

/* Client certificates are optional and only authorize simplereenroll and
 * revoke; a bad one (expired, other CA) must not break the handshake of a
 * client that then authenticates with a secret word.  The verification
 * result is kept and checked per request (kpr_request_peer_cert). */
static int
accept_any_client_cert (int preverify_ok, X509_STORE_CTX *ctx)
{
  return 1;
}

static SSL_CTX *
make_ssl_ctx (KprCa *ca, gboolean proxy_protocol, GError **error)
{
  g_autofree char *cert = g_build_filename (ca->dir, "tls.pem", NULL);
  g_autofree char *key = g_build_filename (ca->dir, "tls.key", NULL);
  g_autofree char *ca_pem = g_build_filename (ca->dir, "ca.pem", NULL);
  SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());
  STACK_OF (X509_NAME) *names = NULL;
  static const unsigned char sid[] = "certkeeper-ca";

  if (!ctx || !SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION)
      || SSL_CTX_use_certificate_chain_file (ctx, cert) != 1
      || SSL_CTX_use_PrivateKey_file (ctx, key, SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key (ctx) != 1
      || SSL_CTX_load_verify_locations (ctx, ca_pem, NULL) != 1
      || !(names = SSL_load_client_CA_file (ca_pem))
      || SSL_CTX_set_session_id_context (ctx, sid, sizeof sid - 1) != 1)
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "Cannot set up TLS from %s and %s: %s", cert, key, detail);
      SSL_CTX_free (ctx);
      return NULL;
    }
  SSL_CTX_set_client_CA_list (ctx, names);
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, accept_any_client_cert);
  /* The chain sent is tls.pem + ca.pem, given once here: left to itself
   * OpenSSL rebuilds it from the verify store on every handshake (a chain
   * verification, CA signature included, per connection). */
  SSL_CTX_set_mode (ctx, SSL_MODE_NO_AUTO_CHAIN);
  /* Requests carry secret words and codes in their Authorization header:
   * OpenSSL decrypts each record in its read buffer and would free that
   * buffer with the plaintext in it (found by tests/server/test-erasure). */
  SSL_CTX_set_options (ctx, SSL_OP_CLEANSE_PLAINTEXT);
  if (SSL_CTX_add1_chain_cert (ctx, ca->cert) != 1)
    {
      SSL_CTX_free (ctx);
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot set up the TLS chain");
      return NULL;
    }
  SSL_CTX_set_options (ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (proxy_protocol)
    SSL_CTX_set_info_callback (ctx, kpr_conn_info_callback);
  return ctx;
}

/* ---- lifecycle ------------------------------------------------------------ */

static gboolean
load_probe_key (KprServer *server, GError **error)
{
  g_autoptr (KprCaDbStmt) ins = NULL;
  g_autoptr (KprCaDbStmt) get = NULL;
  guint8 raw[32];
  g_autofree char *hex = NULL;

  if (RAND_bytes (raw, sizeof raw) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "No randomness");
      return FALSE;
    }
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, raw, sizeof raw);
  /* Stored (and shared by every front end), so an unknown name gets the
   * same made-up answer everywhere and after a restart (a change would
   * reveal that the name is unknown). */
  ins = kpr_ca_db_prepare (server->ca->db, "INSERT INTO meta(key, value) VALUES ('probe_key', ?)"
                                           " ON CONFLICT (key) DO NOTHING", error);
  if (!ins)
    return FALSE;
  kpr_ca_db_bind_text (ins, 1, hex);
  if (!kpr_ca_db_run (ins, "storing a key", error))
    return FALSE;
  get = kpr_ca_db_prepare (server->ca->db, "SELECT value FROM meta WHERE key = 'probe_key'",
                           error);
  if (!get || kpr_ca_db_step (get, "reading a key", error) != KPR_CA_DB_ROW)
    return FALSE;
  server->probe_key = g_strdup (kpr_ca_db_column_text (get, 0));
  return TRUE;
}

static void
on_mail_timer (evutil_socket_t fd, short events, void *data)
{
  kpr_mail_round (data);
}

KprServer *
kpr_server_new (KprCa *ca, const KprServerOptions *options, GError **error)
{
  g_autoptr (KprServer) server = g_new0 (KprServer, 1);
  const char *listen = options->listen ? options->listen : "127.0.0.1:8443";
  const char *colon = strrchr (listen, ':');
  guint64 port = 0;

  server->ca = ca;
  server->log_func = options->log_func;
  server->log_data = options->log_data;
  server->fails = kpr_source_table_new (&kpr_backoff_source);
  server->challenge_backoff = kpr_backoff_challenge;
  if (options->challenges_per_address)
    server->challenge_backoff.free = options->challenges_per_address;
  server->challenges = kpr_source_table_new (&server->challenge_backoff);
  g_queue_init (&server->conns);
  if (!colon || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL)
      || colon == listen)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "--listen must be ADDRESS:PORT (e.g. 127.0.0.1:8443), not '%s'", listen);
      return NULL;
    }
  /* "[::1]:8443" → "::1" */
  if (listen[0] == '[' && colon[-1] == ']')
    server->host = g_strndup (listen + 1, (gsize) (colon - listen - 2));
  else
    server->host = g_strndup (listen, (gsize) (colon - listen));
  server->port = (guint16) port;

  if (!(server->otp = kpr_otp_sender_new (options->otp_outbox, options->otp_command, error))
      || (options->mail_command && !(server->mailer = kpr_mailer_new (options->mail_command,
                                                                     error)))
      || !kpr_conn_setup (server, options, error) || !load_probe_key (server, error)
      || !(server->ssl_ctx = make_ssl_ctx (ca, options->proxy_protocol, error)))
    return NULL;
  server->base = event_base_new ();
  server->http = server->base ? evhttp_new (server->base) : NULL;
  if (!server->http)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot create the event loop");
      return NULL;
    }
  if (!(server->writer = kpr_writer_new (ca, server->base, error))
      || !(server->crl = kpr_crl_publisher_new (ca, server->base, options->crl_interval,
                                                options->log_func, options->log_data, error)))
    return NULL;
  if (server->mailer)
    {
      struct timeval second = { 1, 0 };

      server->mail_timer = event_new (server->base, -1, EV_PERSIST, on_mail_timer, server);
      event_add (server->mail_timer, &second);
    }
  evhttp_set_bevcb (server->http, kpr_conn_new_bufferevent, server);
  evhttp_set_gencb (server->http, dispatch, server);
  evhttp_set_allowed_methods (server->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
  evhttp_set_max_headers_size (server->http, 16 * 1024);
  evhttp_set_max_body_size (server->http, KPR_HTTP_BODY_MAX);
  /* Writes that stall (a client that does not read); reads are bounded by
   * kpr-conn.c's deadlines. */
  evhttp_set_timeout (server->http, 30);
  return g_steal_pointer (&server);
}

gboolean
kpr_server_bind (KprServer *server, char **ret_address, GError **error)
{
  struct evhttp_bound_socket *sock;
  struct sockaddr_storage ss;
  socklen_t ss_len = sizeof ss;
  char host[INET6_ADDRSTRLEN] = "";
  guint16 port = server->port;

  sock = evhttp_bind_socket_with_handle (server->http, server->host, server->port);
  if (!sock)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                   "Cannot listen on %s:%u (in use, or not an address of this machine)",
                   server->host, server->port);
      return FALSE;
    }
  server->sock = sock;
  kpr_conn_watch_listener (server);
  /* With port 0 the kernel picked one; tests read it from our output. */
  if (getsockname (evhttp_bound_socket_get_fd (sock), (struct sockaddr *) &ss, &ss_len) == 0)
    {
      if (ss.ss_family == AF_INET)
        {
          struct sockaddr_in *in = (struct sockaddr_in *) &ss;
          inet_ntop (AF_INET, &in->sin_addr, host, sizeof host);
          port = ntohs (in->sin_port);
        }
      else if (ss.ss_family == AF_INET6)
        {
          struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
          inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof host);
          port = ntohs (in6->sin6_port);
        }
    }
  if (ret_address)
    *ret_address = strchr (host, ':') ? g_strdup_printf ("[%s]:%u", host, port)
                                      : g_strdup_printf ("%s:%u", host[0] ? host : server->host,
                                                         port);
  return TRUE;
}

static void
on_signal (evutil_socket_t sig, short events, void *data)
{
  KprServer *server = data;

  kpr_server_log (server, "signal %d: stopping", (int) sig);
  event_base_loopexit (server->base, NULL);
}

gboolean
kpr_server_run (KprServer *server, GError **error)
{
  /* A client that hangs up mid-answer, or an --otp-command that exits
   * without reading, must not kill the CA with SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);
  server->sig_term = evsignal_new (server->base, SIGTERM, on_signal, server);
  server->sig_int = evsignal_new (server->base, SIGINT, on_signal, server);
  if (!server->sig_term || !server->sig_int || evsignal_add (server->sig_term, NULL) < 0
      || evsignal_add (server->sig_int, NULL) < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot watch for signals");
      return FALSE;
    }
  if (event_base_dispatch (server->base) < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "The event loop failed");
      return FALSE;
    }
  return TRUE;
}

void
kpr_server_free (KprServer *server)
{
  if (!server)
    return;
  /* Jobs already taken are written and answered first. */
  g_clear_pointer (&server->writer, kpr_writer_free);
  g_clear_pointer (&server->crl, kpr_crl_publisher_free);
  kpr_conn_unwatch_listener (server);
  if (server->mail_timer)
    event_free (server->mail_timer);
  if (server->sig_term)
    event_free (server->sig_term);
  if (server->sig_int)
    event_free (server->sig_int);
  if (server->http)
    evhttp_free (server->http);
  if (server->base)
    event_base_free (server->base);
  SSL_CTX_free (server->ssl_ctx);
  kpr_otp_sender_free (server->otp);
  kpr_mailer_free (server->mailer);
  kpr_source_table_free (server->fails);
  kpr_source_table_free (server->challenges);
  g_free (server->probe_key);
  g_free (server->host);
  g_free (server);
}
