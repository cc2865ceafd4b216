/* kpr-worker.c — agent/ calls off the main thread (see kpr-worker.h).
 *
 * A job is a GTask whose thread opens a KprAgent, runs the caller's
 * KprWorkFunc and closes the agent.  The agent's questions come back to
 * the main context as a KprWorkerRequest; the worker thread sleeps on the
 * request's condition until it is answered or the job's cancellable fires
 * (then the answer is "cancelled" and a late reply is simply dropped).
 *
 * A request is shared by the two threads, so it is reference counted:
 * one reference for the waiting worker thread, one for whoever answers.
 */
#include "config.h"

#include "kpr-worker.h"

#include <adwaita.h>

#include "kpr-secret-dialog.h"

/* How long a job waits for certkeeper-agent (or the CLI) to let go of
 * the store's lock before it gives up with KPR_ERROR_BUSY. */
#define KPR_WORKER_BUSY_WAIT_US (10 * G_USEC_PER_SEC)
#define KPR_WORKER_BUSY_STEP_US (200 * 1000)

#define N_ASKS (KPR_WORKER_CONFIRM + 1)

struct _KprWorker {
  GObject parent_instance;

  GtkWidget *parent; /* weak */
  GMainContext *context;
  KprSecret *presets[N_ASKS];
  KprWorkerAskHandler handlers[N_ASKS];
  gpointer handler_data[N_ASKS];
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (KprWorker, kpr_worker, G_TYPE_OBJECT)

enum { SIGNAL_PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

struct _KprWorkerRequest {
  gint refs;
  KprWorker *worker;
  KprWorkerAsk what;
  char *detail;
  KprAgentToken *token; /* a copy: the agent's may be gone when the dialog answers */
  char *fingerprint, *authority; /* trusting a CA */
  GMutex lock;
  GCond cond;
  gboolean answered;
  gboolean abandoned; /* the job was cancelled: nobody waits for an answer */
  KprSecret *answer;
  gboolean yes;
};

/* What the worker thread needs; lives as long as the inner task. */
typedef struct {
  KprWorker *worker;
  KprWorkFunc func;
  gpointer data;
  GCancellable *cancellable;
  char *pin_uri; /* the token whose PIN was asked last (worker thread only) */
  const char *trust_fp, *trust_subject; /* for the next request only */
} Job;


static KprWorkerRequest *
request_new (KprWorker *worker, KprWorkerAsk what, const char *detail,
             const KprAgentToken *token)
{
  KprWorkerRequest *request = g_new0 (KprWorkerRequest, 1);

  request->refs = 2;
  request->worker = g_object_ref (worker);
  request->what = what;
  request->detail = g_strdup (detail);
  request->token = kpr_agent_token_copy (token);
  g_mutex_init (&request->lock);
  g_cond_init (&request->cond);
  return request;
}

static gboolean
drop_worker (gpointer worker)
{
  g_object_unref (worker);
  return G_SOURCE_REMOVE;
}

/* The task may be finalized on the worker thread: the worker (which
 * holds a weak pointer to a widget) is released on its own context. */
static void
job_free (Job *job)
{
  g_main_context_invoke (job->worker->context, drop_worker, job->worker);
  g_clear_object (&job->cancellable);
  g_free (job->pin_uri);
  g_free (job);
}

static void
request_unref (KprWorkerRequest *request)
{
  if (!g_atomic_int_dec_and_test (&request->refs))
    return;
  kpr_secret_free (request->answer);
  kpr_agent_token_free (request->token);
  g_free (request->detail);
  g_free (request->fingerprint);
  g_free (request->authority);
  g_mutex_clear (&request->lock);
  g_cond_clear (&request->cond);
  /* The last reference may be dropped on the worker thread: the worker
   * object itself is released on its own context. */
  g_main_context_invoke (request->worker->context, drop_worker, request->worker);
  g_free (request);
}

KprWorkerAsk
kpr_worker_request_get_what (KprWorkerRequest *request)
{
  return request->what;
}

const char *
kpr_worker_request_get_detail (KprWorkerRequest *request)
{
  return request->detail;
}

const KprAgentToken *
kpr_worker_request_get_token (KprWorkerRequest *request)
{
  return request->token;
}

const char *
kpr_worker_request_get_fingerprint (KprWorkerRequest *request)
{
  return request->fingerprint;
}

const char *
kpr_worker_request_get_authority (KprWorkerRequest *request)
{
  return request->authority;
}

static void
request_answer (KprWorkerRequest *request, KprSecret *secret, gboolean yes)
{
  g_mutex_lock (&request->lock);
  if (!request->answered)
    {
      request->answered = TRUE;
      request->answer = g_steal_pointer (&secret);
      request->yes = yes;
      g_cond_broadcast (&request->cond);
    }
  g_mutex_unlock (&request->lock);
  /* Answered twice, or after the job gave up: erased here. */
  kpr_secret_free (secret);
  request_unref (request);
}

void
kpr_worker_request_reply (KprWorkerRequest *request, KprSecret *secret)
{
  g_return_if_fail (request != NULL);
  request_answer (request, secret, secret != NULL);
}

void
kpr_worker_request_confirm (KprWorkerRequest *request, gboolean yes)
{
  g_return_if_fail (request != NULL);
  request_answer (request, NULL, yes);
}

/* --- the main-thread side of a question --- */

static GtkWindow *
parent_window (KprWorker *self)
{
  GtkRoot *root;

  if (!self->parent)
    return NULL;
  root = gtk_widget_get_root (self->parent);
  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

static void
on_confirm_response (AdwMessageDialog *dialog, const char *response, gpointer data)
{
  KprWorkerRequest *request = g_object_steal_data (G_OBJECT (dialog), "kpr-request");

  if (request)
    kpr_worker_request_confirm (request, g_strcmp0 (response, "yes") == 0);
}

/* Gone without an answer (its window closed): "no", so the job ends. */
static void
on_confirm_destroy (GtkWidget *dialog, gpointer data)
{
  KprWorkerRequest *request = g_object_steal_data (G_OBJECT (dialog), "kpr-request");

  if (request)
    kpr_worker_request_confirm (request, FALSE);
}

static void
confirm_dialog (GtkWindow *parent, KprWorkerRequest *request)
{
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (parent, "Please confirm",
                                                       request->detail));
  adw_message_dialog_add_responses (dialog, "no", "_No", "yes", "_Yes", NULL);
  adw_message_dialog_set_default_response (dialog, "no");
  adw_message_dialog_set_close_response (dialog, "no");
  gtk_widget_set_name (GTK_WIDGET (dialog), "kpr-confirm-dialog");
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  g_object_set_data (G_OBJECT (dialog), "kpr-request", request);
  g_signal_connect (dialog, "response", G_CALLBACK (on_confirm_response), NULL);
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_confirm_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static gboolean
dispatch_request (gpointer data)
{
  KprWorkerRequest *request = data;
  KprWorker *self = request->worker;
  KprWorkerAsk what = request->what;
  gboolean abandoned;

  g_mutex_lock (&request->lock);
  abandoned = request->abandoned;
  g_mutex_unlock (&request->lock);
  /* Cancelled before the question got here: no dialog for nobody. */
  if (abandoned)
    {
      kpr_worker_request_reply (request, NULL);
      return G_SOURCE_REMOVE;
    }
  if (self->presets[what])
    {
      kpr_worker_request_reply (request, g_steal_pointer (&self->presets[what]));
      return G_SOURCE_REMOVE;
    }
  if (self->handlers[what])
    {
      self->handlers[what](request, self->handler_data[what]);
      return G_SOURCE_REMOVE;
    }
  if (what == KPR_WORKER_CONFIRM)
    confirm_dialog (parent_window (self), request);
  else
    kpr_secret_dialog_ask (parent_window (self), request);
  return G_SOURCE_REMOVE;
}

/* --- the worker-thread side --- */

static void
on_cancelled (GCancellable *cancellable, gpointer data)
{
  KprWorkerRequest *request = data;

  g_mutex_lock (&request->lock);
  request->abandoned = TRUE;
  g_cond_broadcast (&request->cond);
  g_mutex_unlock (&request->lock);
}

/* Asks on the main context and waits; FALSE when cancelled.  On TRUE,
 * *ret_secret (if not NULL) receives the secret or NULL for "no". */
static gboolean
ask_and_wait (Job *job, KprWorkerAsk what, const char *detail, const KprAgentToken *token,
              KprSecret **ret_secret, gboolean *ret_yes)
{
  KprWorkerRequest *request = request_new (job->worker, what, detail, token);
  gulong handler = 0;
  gboolean answered;

  request->fingerprint = g_strdup (g_steal_pointer (&job->trust_fp));
  request->authority = g_strdup (g_steal_pointer (&job->trust_subject));

  if (g_cancellable_is_cancelled (job->cancellable))
    {
      /* Both references: the main thread's (never sent) and ours. */
      request_answer (request, NULL, FALSE);
      request_unref (request);
      return FALSE;
    }
  g_main_context_invoke (job->worker->context, dispatch_request, request);
  /* Connected before taking the lock: an already cancelled cancellable
   * runs the callback at once, in this thread. */
  if (job->cancellable)
    handler = g_cancellable_connect (job->cancellable, G_CALLBACK (on_cancelled), request, NULL);
  g_mutex_lock (&request->lock);
  while (!request->answered && !g_cancellable_is_cancelled (job->cancellable))
    g_cond_wait (&request->cond, &request->lock);
  answered = request->answered;
  if (answered)
    {
      if (ret_secret)
        *ret_secret = g_steal_pointer (&request->answer);
      if (ret_yes)
        *ret_yes = request->yes;
    }
  g_mutex_unlock (&request->lock);
  if (handler)
    g_cancellable_disconnect (job->cancellable, handler);
  request_unref (request);
  return answered;
}

static KprSecret *
ask_secret (Job *job, KprWorkerAsk what, const char *detail, const KprAgentToken *token,
            GError **error)
{
  KprSecret *secret = NULL;

  if (!ask_and_wait (job, what, detail, token, &secret, NULL) || !secret)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED, "Cancelled: nothing was changed.");
      return NULL;
    }
  return secret;
}

static KprSecret *
ui_pin (const KprAgentToken *info, gpointer data, GError **error)
{
  Job *job = data;

  g_free (job->pin_uri);
  job->pin_uri = info ? g_strdup (info->uri) : NULL;
  return ask_secret (data, KPR_WORKER_PIN, info ? info->label : NULL, info, error);
}

/* A refused PIN said for a person ("Wrong PIN — 1 try left…") from the
 * token's flags as they are now; the token layer's message, with its
 * CKR_ name, goes to the log only. */
static void
explain_pin_error (KprAgent *agent, Job *job, GError **error)
{
  g_autoptr (GPtrArray) tokens = NULL;
  const KprAgentToken *token = NULL;
  g_autofree char *text = NULL;

  if (!*error || !job->pin_uri)
    return;
  tokens = kpr_agent_list_tokens (agent, NULL);
  for (guint i = 0; tokens && i < tokens->len && !token; i++)
    if (g_strcmp0 (((KprAgentToken *) tokens->pdata[i])->uri, job->pin_uri) == 0)
      token = tokens->pdata[i];
  text = kpr_agent_pin_error_text (*error, token);
  if (!text)
    return;
  g_debug ("%s", (*error)->message);
  g_free ((*error)->message);
  (*error)->message = g_steal_pointer (&text);
}

static KprSecret *
ui_ask (KprAsk what, const char *detail, gpointer data, GError **error)
{
  return ask_secret (data, (KprWorkerAsk) what, detail, NULL, error);
}

static gboolean
ui_confirm (const char *question, gpointer data)
{
  gboolean yes = FALSE;

  return ask_and_wait (data, KPR_WORKER_CONFIRM, question, NULL, NULL, &yes) && yes;
}

static gboolean
ui_confirm_trust (const char *server, const char *subject, const char *fingerprint,
                  gpointer data)
{
  Job *job = data;
  /* The whole question too, for the default yes/no dialog. */
  g_autofree char *question =
    g_strdup_printf ("The server %s presents the certificate authority “%s” with the SHA-256 "
                     "fingerprint %s. Check this fingerprint with the server’s administrator. "
                     "Trust this authority?", server, subject, fingerprint);

  job->trust_fp = fingerprint;
  job->trust_subject = subject;
  return ui_confirm (question, data);
}

typedef struct {
  KprWorker *worker;
  char *message;
} Progress;

static gboolean
emit_progress (gpointer data)
{
  Progress *p = data;

  g_signal_emit (p->worker, signals[SIGNAL_PROGRESS], 0, p->message);
  g_object_unref (p->worker);
  g_free (p->message);
  g_free (p);
  return G_SOURCE_REMOVE;
}

static void
post_progress (KprWorker *worker, const char *message)
{
  Progress *p = g_new (Progress, 1);

  p->worker = g_object_ref (worker);
  p->message = g_strdup (message);
  g_main_context_invoke (worker->context, emit_progress, p);
}

static void
ui_progress (const char *message, gpointer data)
{
  Job *job = data;

  post_progress (job->worker, message);
}

/* How many jobs of this program hold the store's lock right now.  While
 * one does, a job that finds the lock taken is waiting for this
 * program's own work (an enrollment waiting for its secret word, a PIN
 * dialog), not for "another certkeeper": it waits as long as that work
 * lasts, says nothing about another certkeeper, and never fails with
 * KPR_ERROR_BUSY for it (issue 16, item 6). */
static gint lock_holders;

static KprAgent *
open_agent (Job *job, const KprAgentUi *ui, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + KPR_WORKER_BUSY_WAIT_US;
  gboolean told = FALSE;

  for (;;)
    {
      g_autoptr (GError) local = NULL;
      KprAgent *agent = kpr_agent_new (ui, &local);
      gboolean ours;

      if (agent)
        {
          g_atomic_int_inc (&lock_holders);
          return agent;
        }
      /* Holding the lock, we are the only ones who can (flock). */
      ours = g_atomic_int_get (&lock_holders) > 0;
      if (ours)
        deadline = g_get_monotonic_time () + KPR_WORKER_BUSY_WAIT_US;
      if (!g_error_matches (local, KPR_ERROR, KPR_ERROR_BUSY)
          || g_get_monotonic_time () >= deadline)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
        return NULL;
      if (!told && !ours)
        {
          post_progress (job->worker, "Waiting for another certkeeper to finish…");
          told = TRUE;
        }
      g_usleep (KPR_WORKER_BUSY_STEP_US);
    }
}

static void
job_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  KprAgentUi ui = {
    .pin = ui_pin,
    .ask = ui_ask,
    .confirm = ui_confirm,
    .confirm_trust = ui_confirm_trust,
    .progress = ui_progress,
    .data = job,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (KprAgent) agent = NULL;
  gboolean ok;

  agent = open_agent (job, &ui, &error);
  if (!agent)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ok = job->func (agent, job->data, job->cancellable, &error);
  if (!ok)
    explain_pin_error (agent, job, &error);
  /* Closed here, before the result reaches the main thread: the store's
   * lock is free again when the caller's callback runs. */
  g_clear_pointer (&agent, kpr_agent_free);
  g_atomic_int_add (&lock_holders, -1);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else if (error)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_new_error (task, KPR_ERROR, KPR_ERROR_INTERNAL,
                             "The operation failed without saying why (a bug).");
}

static void
on_job_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) outer = data;
  KprWorker *self = KPR_WORKER (source);
  GError *error = NULL;

  self->busy = FALSE;
  if (g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_boolean (outer, TRUE);
  else
    g_task_return_error (outer, error);
}

void
kpr_worker_run (KprWorker *worker, KprWorkFunc func, gpointer data, GCancellable *cancellable,
                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) outer = NULL;
  g_autoptr (GTask) inner = NULL;
  Job *job;

  g_return_if_fail (KPR_IS_WORKER (worker));
  outer = g_task_new (worker, cancellable, callback, user_data);
  g_task_set_source_tag (outer, kpr_worker_run);
  if (worker->busy)
    {
      g_task_return_new_error (outer, KPR_ERROR, KPR_ERROR_BUSY,
                               "Another operation is still running; try again when it is done.");
      return;
    }
  worker->busy = TRUE;
  job = g_new0 (Job, 1);
  job->worker = g_object_ref (worker);
  job->func = func;
  job->data = data;
  job->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  inner = g_task_new (worker, cancellable, on_job_done, g_steal_pointer (&outer));
  /* What the job did is reported even when the person cancelled while it
   * finished: a renewal that happened must not look like it did not. */
  g_task_set_check_cancellable (inner, FALSE);
  g_task_set_task_data (inner, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (inner, job_thread);
}

gboolean
kpr_worker_run_finish (KprWorker *worker, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, worker), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
kpr_worker_is_busy (KprWorker *worker)
{
  return worker->busy;
}

void
kpr_worker_preset (KprWorker *worker, KprWorkerAsk what, KprSecret *secret)
{
  g_return_if_fail (KPR_IS_WORKER (worker) && what < N_ASKS);
  kpr_secret_free (worker->presets[what]);
  worker->presets[what] = secret;
}

void
kpr_worker_set_handler (KprWorker *worker, KprWorkerAsk what, KprWorkerAskHandler handler,
                        gpointer user_data)
{
  g_return_if_fail (KPR_IS_WORKER (worker) && what < N_ASKS);
  worker->handlers[what] = handler;
  worker->handler_data[what] = user_data;
}

static void
kpr_worker_finalize (GObject *object)
{
  KprWorker *self = KPR_WORKER (object);

  for (guint i = 0; i < N_ASKS; i++)
    kpr_secret_free (self->presets[i]);
  if (self->parent)
    g_object_remove_weak_pointer (G_OBJECT (self->parent), (gpointer *) &self->parent);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (kpr_worker_parent_class)->finalize (object);
}

static void
kpr_worker_class_init (KprWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kpr_worker_finalize;
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
kpr_worker_init (KprWorker *self)
{
  self->context = g_main_context_ref_thread_default ();
}

KprWorker *
kpr_worker_new (GtkWidget *parent)
{
  KprWorker *self = g_object_new (KPR_TYPE_WORKER, NULL);

  self->parent = parent;
  if (parent)
    g_object_add_weak_pointer (G_OBJECT (parent), (gpointer *) &self->parent);
  return self;
}
