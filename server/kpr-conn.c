/* kpr-conn.c — the connections of `serve`: how many, how long, from whom.
 *
 * No one holds the server with idle or slow connections:
 *   * at most max_connections (default: what RLIMIT_NOFILE allows, raised
 *     to its hard limit at start, up to 1024); a new connection beyond
 *     that closes the longest-waiting one that is not being answered;
 *   * a connection that sends nothing is closed after idle_timeout (5 s,
 *     also between keep-alive requests); once bytes arrive, the whole
 *     request — TLS handshake, headers, body — must be in within
 *     request_timeout (10 s), however slowly it trickles;
 *   * accept() failing with EMFILE/ENFILE closes the oldest idle
 *     connections and pauses accepting for 100 ms instead of spinning.
 * A connection is tracked from evhttp's bufferevent callback to the
 * moment OpenSSL frees its SSL (ex_data free callback).
 *
 * Behind haproxy (serve --proxy-protocol) each connection starts with a
 * PROXY header (v1 or v2) naming the client; it is read off the socket
 * just before the TLS handshake starts, and the client's address — not the
 * balancer's — is what the throttles and the audit see.
 */
#include "config.h"

#include "kpr-http-private.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>

#define IDLE_TIMEOUT 5
#define REQUEST_TIMEOUT 10
#define DEFAULT_MAX 1024
/* Descriptors kept for everything else: databases, pipes, logs. */
#define FD_RESERVE 64

typedef struct {
  KprServer *server;
  struct bufferevent *bev;
  struct event *timer;
  GList link;
  gboolean busy;      /* a request is being answered */
  gboolean closing;   /* shut down, waiting for libevent to free it */
  gboolean proxy_read;
  gint64 phase_start; /* monotonic µs: accept, or the end of the last answer */
  guint64 bytes_at;   /* bytes read from the socket at @phase_start */
  char *address;      /* from the PROXY header */
  guint16 port;
} Conn;

static int conn_index = -1;
/* evconnlistener's error callback is given evhttp's pointer, not ours; a
 * process runs one server. */
static KprServer *listening_server;

static guint64
bytes_read (Conn *c)
{
  SSL *ssl = bufferevent_openssl_get_ssl (c->bev);
  BIO *rbio = ssl ? SSL_get_rbio (ssl) : NULL;

  return rbio ? BIO_number_read (rbio) : 0;
}

static void
conn_close (Conn *c)
{
  evutil_socket_t fd = bufferevent_getfd (c->bev);

  if (c->closing || fd < 0)
    return;
  c->closing = TRUE;
  /* libevent sees the end of the stream and frees the connection itself. */
  shutdown (fd, SHUT_RDWR);
  event_del (c->timer);
}

static void
arm (Conn *c, gint64 seconds)
{
  struct timeval tv = { .tv_sec = MAX (seconds, 0), .tv_usec = 0 };

  evtimer_add (c->timer, &tv);
}

static void
on_deadline (evutil_socket_t fd, short events, void *data)
{
  Conn *c = data;
  gint64 elapsed = (g_get_monotonic_time () - c->phase_start) / G_USEC_PER_SEC;

  if (c->busy || c->closing)
    return;
  if (bytes_read (c) == c->bytes_at)
    {
      if (elapsed >= c->server->idle_timeout)
        conn_close (c);
      else
        arm (c, c->server->idle_timeout - elapsed);
      return;
    }
  /* Something arrived: the whole request gets request_timeout. */
  if (elapsed >= c->server->request_timeout)
    conn_close (c);
  else
    arm (c, c->server->request_timeout - elapsed);
}

static void
new_phase (Conn *c)
{
  c->phase_start = g_get_monotonic_time ();
  c->bytes_at = bytes_read (c);
  arm (c, c->server->idle_timeout);
}

static void
conn_free (void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
  Conn *c = ptr;

  if (!c)
    return;
  g_queue_unlink (&c->server->conns, &c->link);
  event_free (c->timer);
  g_free (c->address);
  g_free (c);
}

/* Closes the longest-waiting connection nobody is answering. */
static gboolean
evict_one (KprServer *server)
{
  for (GList *l = server->conns.head; l; l = l->next)
    {
      Conn *c = l->data;
      if (!c->busy && !c->closing && bufferevent_getfd (c->bev) >= 0)
        {
          conn_close (c);
          return TRUE;
        }
    }
  return FALSE;
}

static guint
open_connections (KprServer *server)
{
  guint n = 0;

  for (GList *l = server->conns.head; l; l = l->next)
    n += !((Conn *) l->data)->closing;
  return n;
}

struct bufferevent *
kpr_conn_new_bufferevent (struct event_base *base, void *data)
{
  KprServer *server = data;
  SSL *ssl = SSL_new (server->ssl_ctx);
  struct bufferevent *bev;
  Conn *c;

  if (!ssl)
    return NULL;
  bev = bufferevent_openssl_socket_new (base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                        BEV_OPT_CLOSE_ON_FREE);
  if (!bev)
    return NULL;
  /* Many clients close without close_notify after the answer. */
  bufferevent_openssl_set_allow_dirty_shutdown (bev, 1);
  if (open_connections (server) >= server->max_connections)
    evict_one (server);
  c = g_new0 (Conn, 1);
  c->server = server;
  c->bev = bev;
  c->link.data = c;
  c->timer = evtimer_new (base, on_deadline, c);
  g_queue_push_tail_link (&server->conns, &c->link);
  SSL_set_ex_data (ssl, conn_index, c);
  new_phase (c);
  return bev;
}

static Conn *
conn_of (struct evhttp_request *req)
{
  struct evhttp_connection *evcon = req ? evhttp_request_get_connection (req) : NULL;
  struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent (evcon) : NULL;
  SSL *ssl = bev ? bufferevent_openssl_get_ssl (bev) : NULL;

  return ssl ? SSL_get_ex_data (ssl, conn_index) : NULL;
}

void
kpr_conn_busy (struct evhttp_request *req, gboolean busy)
{
  Conn *c = conn_of (req);

  if (!c)
    return;
  c->busy = busy;
  if (busy)
    event_del (c->timer);
  else
    /* Keep-alive: the next request starts a new phase. */
    new_phase (c);
}

char *
kpr_conn_peer (KprServer *server, struct evhttp_request *req, char **ret_source)
{
  Conn *c = conn_of (req);
  struct evhttp_connection *evcon = evhttp_request_get_connection (req);
  char *address = NULL;
  ev_uint16_t port = 0;

  if (c && c->address)
    {
      address = c->address;
      port = c->port;
    }
  else if (evcon)
    evhttp_connection_get_peer (evcon, &address, &port);
  *ret_source = kpr_source_key (address ? address : "?");
  if (address && strchr (address, ':'))
    return g_strdup_printf ("[%s]:%u", address, port);
  return g_strdup_printf ("%s:%u", address ? address : "?", port);
}

/* ---- PROXY protocol --------------------------------------------------------- */

void
kpr_conn_info_callback (const SSL *ssl, int where, int ret)
{
  Conn *c;
  guint8 buf[KPR_PROXY_HEADER_MAX];
  g_autoptr (GError) error = NULL;
  gsize used = 0;
  ssize_t n;
  int fd;

  if (!(where & SSL_CB_HANDSHAKE_START) || !(c = SSL_get_ex_data (ssl, conn_index))
      || !c->server->proxy_protocol || c->proxy_read)
    return;
  c->proxy_read = TRUE;
  fd = SSL_get_fd (ssl);
  /* The handshake starts when the socket is readable; haproxy sends the
   * header in one piece before anything of the client's. */
  n = fd >= 0 ? recv (fd, buf, sizeof buf, MSG_PEEK) : -1;
  if (n <= 0 || !kpr_parse_proxy_header (buf, (gsize) n, &used, &c->address, &c->port, &error)
      || recv (fd, buf, used, 0) != (ssize_t) used)
    {
      kpr_server_log (c->server, "connection without a valid PROXY header closed: %s",
                      error ? error->message : "nothing to read");
      if (fd >= 0)
        shutdown (fd, SHUT_RDWR);
    }
}

/* ---- accept() ------------------------------------------------------------------- */

static void
on_resume (evutil_socket_t fd, short events, void *data)
{
  KprServer *server = data;

  evconnlistener_enable (evhttp_bound_socket_get_listener (server->sock));
}

static void
on_accept_error (struct evconnlistener *listener, void *data)
{
  KprServer *server = listening_server;
  int err = EVUTIL_SOCKET_ERROR ();
  struct timeval pause = { 0, 100 * 1000 };
  gint64 now = kpr_now ();

  if (!server || (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM))
    return;
  /* Out of descriptors: make room and stop accepting for a moment, or
   * the readable listener would wake us again at once, for ever. */
  for (int i = 0; i < 8 && evict_one (server); i++)
    ;
  evconnlistener_disable (listener);
  evtimer_add (server->accept_resume, &pause);
  if (now != server->last_emfile_log)
    {
      server->last_emfile_log = now;
      kpr_server_log (server, "accept failed (%s): closed idle connections, pausing 100 ms",
                      g_strerror (err));
    }
}

void
kpr_conn_watch_listener (KprServer *server)
{
  struct evconnlistener *listener = evhttp_bound_socket_get_listener (server->sock);

  listening_server = server;
  server->accept_resume = evtimer_new (server->base, on_resume, server);
  evconnlistener_set_error_cb (listener, on_accept_error);
}

void
kpr_conn_unwatch_listener (KprServer *server)
{
  if (listening_server == server)
    listening_server = NULL;
  if (server->accept_resume)
    event_free (server->accept_resume);
  server->accept_resume = NULL;
}

gboolean
kpr_conn_setup (KprServer *server, const KprServerOptions *options, GError **error)
{
  struct rlimit rl;
  guint allowed = DEFAULT_MAX;

  if (conn_index < 0
      && (conn_index = SSL_get_ex_new_index (0, NULL, NULL, NULL, conn_free)) < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot track connections");
      return FALSE;
    }
  /* As many descriptors as the system lets us have. */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    {
      if (rl.rlim_cur < rl.rlim_max)
        {
          rl.rlim_cur = rl.rlim_max;
          (void) setrlimit (RLIMIT_NOFILE, &rl);
          (void) getrlimit (RLIMIT_NOFILE, &rl);
        }
      if (rl.rlim_cur != RLIM_INFINITY)
        allowed = rl.rlim_cur > FD_RESERVE + 16 ? (guint) MIN (rl.rlim_cur - FD_RESERVE, G_MAXUINT)
                                                : 16;
    }
  server->max_connections = options->max_connections ? options->max_connections
                                                     : MIN (allowed, DEFAULT_MAX);
  server->request_timeout = options->request_timeout > 0 ? options->request_timeout
                                                         : REQUEST_TIMEOUT;
  server->idle_timeout = MIN (IDLE_TIMEOUT, server->request_timeout);
  server->proxy_protocol = options->proxy_protocol;
  g_queue_init (&server->conns);
  return TRUE;
}
