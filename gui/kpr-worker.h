/* kpr-worker.h — agent/ calls off the main thread.
 *
 * Every piece of token or network work in the GUI is one KprWorkFunc run
 * in a GTask thread with a KprAgent opened for it (and closed after, so
 * the store's lock is held only while working — certkeeper-agent and the
 * certkeeper command work in between).  While the desktop agent holds the
 * lock the worker waits for it, a few seconds at most, with a progress
 * message.
 *
 * The agent's questions (KprAgentUi: PIN, secret word, passphrase,
 * yes/no) arrive on the worker thread; the worker hops to the main
 * thread, shows a dialog (kpr-secret-dialog.h, or an AdwMessageDialog for
 * yes/no) or the caller's own handler, and the worker thread waits for
 * the answer.  Secrets cross as KprSecret only, and are erased by the
 * agent after use.
 */
#pragma once

#include <gtk/gtk.h>

#include "kpr-agent.h"

G_BEGIN_DECLS

/* What the agent asks for; the first four are KprAsk's values. */
typedef enum {
  KPR_WORKER_SECRET_WORD = KPR_ASK_SECRET_WORD,
  KPR_WORKER_PASSWORD = KPR_ASK_PASSWORD,
  KPR_WORKER_NEW_PASSPHRASE = KPR_ASK_NEW_PASSPHRASE,
  KPR_WORKER_PASSPHRASE = KPR_ASK_PASSPHRASE,
  KPR_WORKER_PIN,     /* detail: the token's label; see request_get_token */
  KPR_WORKER_CONFIRM, /* detail: the question (e.g. the CA fingerprint) */
} KprWorkerAsk;

typedef struct _KprWorkerRequest KprWorkerRequest;

KprWorkerAsk kpr_worker_request_get_what (KprWorkerRequest *request);
/* Where the word was sent, the backup file, the token label, the question. */
const char *kpr_worker_request_get_detail (KprWorkerRequest *request);
/* A KPR_WORKER_CONFIRM about trusting a certificate authority: its
 * SHA-256 fingerprint ("AB:CD:…") and subject; NULL for other questions. */
const char *kpr_worker_request_get_fingerprint (KprWorkerRequest *request);
const char *kpr_worker_request_get_authority (KprWorkerRequest *request);
/* KPR_WORKER_PIN only: the token with its PIN flags (count low, final try). */
const KprAgentToken *kpr_worker_request_get_token (KprWorkerRequest *request);
/* Answers and releases @request.  @secret NULL: the person cancelled (the
 * agent call fails with KPR_ERROR_CANCELLED).  Takes ownership of @secret. */
void kpr_worker_request_reply (KprWorkerRequest *request, KprSecret *secret);
/* Answers a KPR_WORKER_CONFIRM request and releases it. */
void kpr_worker_request_confirm (KprWorkerRequest *request, gboolean yes);

/* Runs on the main thread when the agent asks @what; must (now or later)
 * answer with kpr_worker_request_reply/confirm exactly once. */
typedef void (*KprWorkerAskHandler) (KprWorkerRequest *request, gpointer user_data);

/* Runs on the worker thread with an open agent.  Results go into @data
 * (owned by the caller, read in the callback).  Checks @cancellable
 * between steps where it can. */
typedef gboolean (*KprWorkFunc) (KprAgent *agent, gpointer data, GCancellable *cancellable,
                                 GError **error);

#define KPR_TYPE_WORKER (kpr_worker_get_type ())
G_DECLARE_FINAL_TYPE (KprWorker, kpr_worker, KPR, WORKER, GObject)

/* Dialogs are transient for @parent's window. */
KprWorker *kpr_worker_new (GtkWidget *parent);
/* Answers the first ask(@what) with @secret instead of a dialog (the
 * passphrase typed twice in the backup dialog).  Takes ownership; erased
 * when used or when the worker is finalized. */
void kpr_worker_preset (KprWorker *worker, KprWorkerAsk what, KprSecret *secret);
/* Replaces the default dialog for @what (the assistant's own pages). */
void kpr_worker_set_handler (KprWorker *worker, KprWorkerAsk what, KprWorkerAskHandler handler,
                             gpointer user_data);
/* One job at a time per worker.  Emits "progress" (const char *message)
 * on the main thread for the agent's progress messages. */
void kpr_worker_run (KprWorker *worker, KprWorkFunc func, gpointer data,
                     GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
gboolean kpr_worker_run_finish (KprWorker *worker, GAsyncResult *result, GError **error);
gboolean kpr_worker_is_busy (KprWorker *worker);

G_END_DECLS
