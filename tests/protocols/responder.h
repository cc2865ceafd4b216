/* responder.h — a tiny HTTP/1.1 server on 127.0.0.1 in a thread of the
 * test, for the answers no real peer gives (garbage, a wrong signer, a
 * certificate for another key, PENDING from a SCEP server…).  Each test
 * that uses it says why in a comment.  One request per connection. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int status;
  const char *content_type; /* static, or NULL for none */
  GBytes *body;             /* taken */
} RespAnswer;

/* Called in the responder's thread, one request at a time.  @target is
 * the request target ("/scep?operation=GetCACaps"), @body the request
 * body (empty for GET). */
typedef RespAnswer (*RespHandler) (const char *method, const char *target, GBytes *body,
                                   gpointer user_data);

typedef struct _Responder Responder;

Responder *responder_start (RespHandler handler, gpointer user_data);
/* "http://127.0.0.1:PORT" */
const char *responder_url (Responder *r);
/* Request lines seen so far ("POST /scep?operation=PKIOperation"), one
 * per line. */
char *responder_log (Responder *r);
void responder_stop (Responder *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Responder, responder_stop)

G_END_DECLS
