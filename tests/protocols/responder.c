/* responder.c — see responder.h */
#include "config.h"

#include "responder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_MAX (1024 * 1024)

struct _Responder {
  int listen_fd;
  int stop_pipe[2];
  GThread *thread;
  RespHandler handler;
  gpointer user_data;
  char *url;
  GMutex lock;
  GString *log;
};

static gboolean
write_all (int fd, const void *data, gsize len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Reads one request: head up to the blank line, then Content-Length
 * bytes.  FALSE on anything odd (the client gets a closed connection). */
static gboolean
read_request (int fd, char **ret_method, char **ret_target, GBytes **ret_body)
{
  GByteArray *buf = g_byte_array_new ();
  gsize head_end = 0, want = 0;
  gboolean ok = FALSE;

  for (;;)
    {
      guint8 chunk[4096];
      ssize_t n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || buf->len + (gsize) n > REQUEST_MAX)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
      if (!head_end)
        {
          guint8 *end = memmem (buf->data, buf->len, "\r\n\r\n", 4);
          g_autofree char *head = NULL;
          const char *cl;

          if (!end)
            continue;
          head_end = (gsize) (end - buf->data) + 4;
          head = g_ascii_strdown ((const char *) buf->data, (gssize) head_end);
          cl = strstr (head, "\r\ncontent-length:");
          want = head_end + (cl ? (gsize) g_ascii_strtoull (cl + 17, NULL, 10) : 0);
        }
      if (head_end && buf->len >= want)
        {
          g_autofree char *line = g_strndup ((const char *) buf->data,
                                             strcspn ((const char *) buf->data, "\r"));
          g_auto (GStrv) parts = g_strsplit (line, " ", 3);

          if (g_strv_length (parts) == 3)
            {
              *ret_method = g_strdup (parts[0]);
              *ret_target = g_strdup (parts[1]);
              *ret_body = g_bytes_new (buf->data + head_end, want - head_end);
              ok = TRUE;
            }
          break;
        }
    }
  g_byte_array_unref (buf);
  return ok;
}

static void
serve_one (Responder *r, int fd)
{
  g_autofree char *method = NULL, *target = NULL, *head = NULL;
  g_autoptr (GBytes) body = NULL;
  RespAnswer a;
  gsize len = 0;
  const void *data;

  if (!read_request (fd, &method, &target, &body))
    return;
  g_mutex_lock (&r->lock);
  g_string_append_printf (r->log, "%s %s\n", method, target);
  g_mutex_unlock (&r->lock);
  a = r->handler (method, target, body, r->user_data);
  data = a.body ? g_bytes_get_data (a.body, &len) : NULL;
  head = g_strdup_printf ("HTTP/1.1 %d X\r\n%s%s%sContent-Length: %" G_GSIZE_FORMAT "\r\n"
                          "Connection: close\r\n\r\n",
                          a.status, a.content_type ? "Content-Type: " : "",
                          a.content_type ? a.content_type : "", a.content_type ? "\r\n" : "",
                          len);
  if (write_all (fd, head, strlen (head)) && len)
    write_all (fd, data, len);
  if (a.body)
    g_bytes_unref (a.body);
}

static gpointer
serve (gpointer data)
{
  Responder *r = data;

  for (;;)
    {
      struct pollfd fds[2] = { { r->listen_fd, POLLIN, 0 }, { r->stop_pipe[0], POLLIN, 0 } };
      int fd;

      if (poll (fds, 2, -1) < 0 && errno != EINTR)
        break;
      if (fds[1].revents)
        break;
      if (!(fds[0].revents & POLLIN))
        continue;
      fd = accept (r->listen_fd, NULL, NULL);
      if (fd < 0)
        continue;
      serve_one (r, fd);
      shutdown (fd, SHUT_WR);
      close (fd);
    }
  return NULL;
}

Responder *
responder_start (RespHandler handler, gpointer user_data)
{
  Responder *r = g_new0 (Responder, 1);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
  socklen_t alen = sizeof addr;

  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  r->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (r->listen_fd, >=, 0);
  g_assert_cmpint (bind (r->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (r->listen_fd, 16), ==, 0);
  g_assert_cmpint (getsockname (r->listen_fd, (struct sockaddr *) &addr, &alen), ==, 0);
  g_assert_cmpint (pipe (r->stop_pipe), ==, 0);
  r->handler = handler;
  r->user_data = user_data;
  r->url = g_strdup_printf ("http://127.0.0.1:%d", ntohs (addr.sin_port));
  r->log = g_string_new (NULL);
  g_mutex_init (&r->lock);
  r->thread = g_thread_new ("responder", serve, r);
  return r;
}

const char *
responder_url (Responder *r)
{
  return r->url;
}

char *
responder_log (Responder *r)
{
  char *text;

  g_mutex_lock (&r->lock);
  text = g_strdup (r->log->str);
  g_mutex_unlock (&r->lock);
  return text;
}

void
responder_stop (Responder *r)
{
  if (!r)
    return;
  g_assert_cmpint (write (r->stop_pipe[1], "x", 1), ==, 1);
  g_thread_join (r->thread);
  close (r->listen_fd);
  close (r->stop_pipe[0]);
  close (r->stop_pipe[1]);
  g_string_free (r->log, TRUE);
  g_mutex_clear (&r->lock);
  g_free (r->url);
  g_free (r);
}
