/* kpr-writer.c — the one thread of `serve` that writes the database.
 *
 * The event loop never waits for a disk: a request that needs the database
 * becomes a KprJob; the writer runs every job that is waiting, each in a
 * SAVEPOINT of one transaction, commits once (group commit: one fsync for
 * all of them) and only then hands the jobs back to the loop, which sends
 * the answers.  So an answer — an issued certificate above all — never
 * leaves before its record is durable, and a crash (kill -9) loses no
 * certificate anyone received.  When the commit fails nothing of the batch
 * happened, and every job of it answers with an error.
 *
 * With PostgreSQL a batch may meet another front end's transaction in a
 * deadlock or a serialization failure: the batch is run again from the
 * start (jobs are written to be re-run), a few times.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <unistd.h>

#include <event2/event.h>

/* Jobs per transaction: enough to absorb a burst, few enough that one
 * slow job does not hold many answers. */
#define BATCH_MAX 64
#define RETRIES 4

struct _KprWriter {
  KprCa *ca;
  GThread *thread;
  GMutex lock;
  GCond cond;
  GQueue todo;
  GQueue done;
  gboolean stop;
  int pipe[2];
  struct event *wake;
  KprCaDb *db; /* the thread's own connection */
};

static void
run_batch (KprWriter *w, GPtrArray *jobs)
{
  g_autoptr (GError) error = NULL;

  for (int attempt = 0; attempt < RETRIES; attempt++)
    {
      g_clear_error (&error);
      if (!w->db && !(w->db = kpr_ca_db_open (w->ca->db_location, FALSE, &error)))
        break;
      if (!kpr_ca_db_begin (w->db, &error))
        goto retry;
      for (guint i = 0; i < jobs->len; i++)
        {
          KprJob *job = jobs->pdata[i];
          g_autoptr (GError) step = NULL;

          g_clear_error (&job->error);
          job->crl_generation = 0;
          if (!kpr_ca_db_begin (w->db, &step))
            {
              g_propagate_error (&error, g_steal_pointer (&step));
              break;
            }
          if (job->run (job, w->ca, w->db))
            {
              if (!kpr_ca_db_commit (w->db, &step))
                {
                  g_propagate_error (&error, g_steal_pointer (&step));
                  break;
                }
            }
          else
            kpr_ca_db_rollback (w->db);
        }
      if (!error && kpr_ca_db_commit (w->db, &error))
        return;
      kpr_ca_db_rollback (w->db);
    retry:
      /* A deadlock with another front end: run the whole batch again. */
      if (!g_error_matches (error, KPR_ERROR, KPR_ERROR_BUSY))
        break;
      g_usleep ((gulong) g_random_int_range (1000, 20000) << attempt);
    }
  /* Nothing of the batch was written. */
  for (guint i = 0; i < jobs->len; i++)
    {
      KprJob *job = jobs->pdata[i];
      g_clear_error (&job->error);
      job->crl_generation = 0;
      job->failed = TRUE;
      g_set_error (&job->error, KPR_ERROR, error ? error->code : KPR_ERROR_INTERNAL,
                   "%s", error ? error->message : "The database is not available");
    }
  /* A connection that failed is opened again for the next batch. */
  if (error && error->code != KPR_ERROR_BUSY)
    g_clear_pointer (&w->db, kpr_ca_db_close);
}

static gpointer
writer_thread (gpointer data)
{
  KprWriter *w = data;
  g_autoptr (GPtrArray) jobs = g_ptr_array_new ();

  for (;;)
    {
      char c = 1;

      g_mutex_lock (&w->lock);
      while (!w->stop && g_queue_is_empty (&w->todo))
        g_cond_wait (&w->cond, &w->lock);
      if (g_queue_is_empty (&w->todo))
        {
          g_mutex_unlock (&w->lock);
          break;
        }
      g_ptr_array_set_size (jobs, 0);
      while (jobs->len < BATCH_MAX && !g_queue_is_empty (&w->todo))
        g_ptr_array_add (jobs, g_queue_pop_head (&w->todo));
      g_mutex_unlock (&w->lock);

      run_batch (w, jobs);

      g_mutex_lock (&w->lock);
      for (guint i = 0; i < jobs->len; i++)
        g_queue_push_tail (&w->done, jobs->pdata[i]);
      g_mutex_unlock (&w->lock);
      if (write (w->pipe[1], &c, 1) < 0 && errno != EAGAIN)
        g_warn_if_reached ();
    }
  return NULL;
}

/* Loop side: answers for the jobs the writer finished. */
static void
on_done (evutil_socket_t fd, short events, void *data)
{
  KprWriter *w = data;
  char buf[64];
  GQueue finished = G_QUEUE_INIT;
  KprJob *job;

  while (read (fd, buf, sizeof buf) > 0)
    ;
  g_mutex_lock (&w->lock);
  finished = w->done;
  g_queue_init (&w->done);
  g_mutex_unlock (&w->lock);
  while ((job = g_queue_pop_head (&finished)))
    {
      job->done (job);
      kpr_job_free (job);
    }
}

KprWriter *
kpr_writer_new (KprCa *ca, struct event_base *base, GError **error)
{
  KprWriter *w = g_new0 (KprWriter, 1);

  w->ca = ca;
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  g_queue_init (&w->todo);
  g_queue_init (&w->done);
  w->pipe[0] = w->pipe[1] = -1;
  /* Open the connection here, so a database problem stops `serve` at once. */
  if (!(w->db = kpr_ca_db_open (ca->db_location, FALSE, error)))
    {
      kpr_writer_free (w);
      return NULL;
    }
  if (!g_unix_open_pipe (w->pipe, FD_CLOEXEC, NULL)
      || !g_unix_set_fd_nonblocking (w->pipe[0], TRUE, NULL)
      || !g_unix_set_fd_nonblocking (w->pipe[1], TRUE, NULL)
      || !(w->wake = event_new (base, w->pipe[0], EV_READ | EV_PERSIST, on_done, w))
      || event_add (w->wake, NULL) < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot start the database writer");
      kpr_writer_free (w);
      return NULL;
    }
  w->thread = g_thread_new ("kpr-writer", writer_thread, w);
  return w;
}

void
kpr_writer_submit (KprWriter *w, KprJob *job)
{
  g_mutex_lock (&w->lock);
  g_queue_push_tail (&w->todo, job);
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

void
kpr_writer_free (KprWriter *w)
{
  if (!w)
    return;
  if (w->thread)
    {
      /* The queue is finished first: what was accepted gets written. */
      g_mutex_lock (&w->lock);
      w->stop = TRUE;
      g_cond_signal (&w->cond);
      g_mutex_unlock (&w->lock);
      g_thread_join (w->thread);
      if (w->wake)
        on_done (w->pipe[0], EV_READ, w);
    }
  if (w->wake)
    event_free (w->wake);
  if (w->pipe[0] >= 0)
    close (w->pipe[0]);
  if (w->pipe[1] >= 0)
    close (w->pipe[1]);
  g_clear_pointer (&w->db, kpr_ca_db_close);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

void
kpr_job_free (KprJob *job)
{
  if (!job)
    return;
  g_clear_error (&job->error);
  if (job->free)
    job->free (job);
  else
    g_free (job);
}
