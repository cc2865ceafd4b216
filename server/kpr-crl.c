/* kpr-crl.c — the certificate revocation list, built off the request path.
 *
 * A revocation only records itself: certs.revoked, and crl_state.generation
 * + 1 (urgent for an explicit revoke).  The publisher — one front end at a
 * time, the one holding kpr_ca_db_try_publisher_lock — builds the CRL from
 * the certs_crl index, signs it and stores it in the database (crl) in one
 * transaction; every front end serves the stored one and writes it to
 * DIR/crl.der (atomically).  A CRL is published:
 *   * at once after an explicit revoke (crl_state.urgent);
 *   * after a superseding issuance, at most every `interval` seconds
 *     (serve --crl-interval, default 1) — at once when a client waits for
 *     it (GET /crl) — and never more often than 20× the time the last
 *     build took, so the CRL costs at most ~5 % of a core however long
 *     the history grows;
 *   * at least once a day; nextUpdate is thisUpdate + 7 days.
 * A client that fetches /crl gets the stored CRL as this front end finds
 * it in a round begun after the request, and if a revocation known by then
 * is not in it yet, waits for it (kpr_crl_publisher_wait, at most 10 s).
 */
#include "config.h"

#include "kpr-server-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#define CRL_VALIDITY (7 * 24 * 3600LL)
#define CRL_REFRESH (24 * 3600LL)
/* Revoked certificates stay listed for a day after they expire. */
#define CRL_KEEP_EXPIRED 86400

typedef struct {
  gint64 generation; /* revocations recorded */
  gint64 urgent;     /* the newest generation that must be published at once */
  gint64 published;  /* generation the stored CRL includes */
  gint64 number;     /* cRLNumber of the stored CRL */
} CrlState;

gboolean
kpr_crl_mark (KprCaDb *db, gboolean urgent, gint64 *ret_generation, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "UPDATE crl_state SET generation = generation + 1,"
        " urgent = CASE WHEN ? <> 0 THEN generation + 1 ELSE urgent END"
        " WHERE id = 1 RETURNING generation", error);

  if (!st)
    return FALSE;
  kpr_ca_db_bind_int64 (st, 1, urgent ? 1 : 0);
  if (kpr_ca_db_step (st, "marking the CRL for publishing", error) != KPR_CA_DB_ROW)
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "The CRL state is missing");
      return FALSE;
    }
  if (ret_generation)
    *ret_generation = kpr_ca_db_column_int64 (st, 0);
  return kpr_ca_db_run (st, "marking the CRL for publishing", error);
}

static gboolean
read_state (KprCaDb *db, CrlState *ret, GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT generation, urgent, published, number FROM crl_state WHERE id = 1", error);

  if (!st)
    return FALSE;
  if (kpr_ca_db_step (st, "reading the CRL state", error) != KPR_CA_DB_ROW)
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "The CRL state is missing");
      return FALSE;
    }
  ret->generation = kpr_ca_db_column_int64 (st, 0);
  ret->urgent = kpr_ca_db_column_int64 (st, 1);
  ret->published = kpr_ca_db_column_int64 (st, 2);
  ret->number = kpr_ca_db_column_int64 (st, 3);
  return TRUE;
}

static gboolean
add_revoked (X509_CRL *crl, const char *serial_hex, gint64 when, int reason, GError **error)
{
  X509_REVOKED *rev = X509_REVOKED_new ();
  g_autoptr (BIGNUM) bn = NULL;
  ASN1_INTEGER *serial = NULL;
  ASN1_TIME *at = ASN1_TIME_set (NULL, (time_t) when);
  ASN1_ENUMERATED *code = NULL;
  gboolean ok = FALSE;

  if (rev && at && serial_hex && BN_hex2bn (&bn, serial_hex)
      && (serial = BN_to_ASN1_INTEGER (bn, NULL)) && X509_REVOKED_set_serialNumber (rev, serial)
      && X509_REVOKED_set_revocationDate (rev, at))
    {
      ok = TRUE;
      if (reason > 0)
        {
          code = ASN1_ENUMERATED_new ();
          ok = code && ASN1_ENUMERATED_set (code, reason)
               && X509_REVOKED_add1_ext_i2d (rev, NID_crl_reason, code, 0, 0) == 1;
        }
      if (ok)
        ok = X509_CRL_add0_revoked (crl, rev) == 1;
      if (ok)
        rev = NULL;
    }
  ASN1_ENUMERATED_free (code);
  ASN1_INTEGER_free (serial);
  ASN1_TIME_free (at);
  X509_REVOKED_free (rev);
  if (!ok)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot add an entry to the CRL");
  return TRUE;
}

/* Builds and signs the CRL numbered @number as of @now. */
static GBytes *
build_crl (KprCa *ca, KprCaDb *db, gint64 number, gint64 now, GError **error)
{
  g_autoptr (X509_CRL) crl = X509_CRL_new ();
  g_autoptr (KprCaDbStmt) st = NULL;
  ASN1_TIME *t1 = ASN1_TIME_set (NULL, (time_t) now);
  ASN1_TIME *t2 = ASN1_TIME_set (NULL, (time_t) (now + CRL_VALIDITY));
  ASN1_INTEGER *num = NULL;
  unsigned char *der = NULL;
  GBytes *bytes;
  KprCaDbStep rc;
  int len;
  gboolean ok;

  ok = crl && t1 && t2 && X509_CRL_set_version (crl, X509_CRL_VERSION_2)
       && X509_CRL_set_issuer_name (crl, X509_get_subject_name (ca->cert))
       && X509_CRL_set1_lastUpdate (crl, t1) && X509_CRL_set1_nextUpdate (crl, t2);
  ASN1_TIME_free (t1);
  ASN1_TIME_free (t2);
  if (!ok)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build the CRL"), NULL;

  /* The partial index certs_crl holds exactly these rows and columns. */
  st = kpr_ca_db_prepare (db, "SELECT serial, revoked, COALESCE(reason, 0) FROM certs"
                              " WHERE revoked IS NOT NULL AND not_after > ?", error);
  if (!st)
    return NULL;
  kpr_ca_db_bind_int64 (st, 1, now - CRL_KEEP_EXPIRED);
  while ((rc = kpr_ca_db_step (st, "listing revoked certificates", error)) == KPR_CA_DB_ROW)
    if (!add_revoked (crl, kpr_ca_db_column_text (st, 0), kpr_ca_db_column_int64 (st, 1),
                      (int) kpr_ca_db_column_int64 (st, 2), error))
      return NULL;
  if (rc == KPR_CA_DB_FAILED)
    return NULL;

  num = ASN1_INTEGER_new ();
  ok = num && ASN1_INTEGER_set_int64 (num, number)
       && X509_CRL_add1_ext_i2d (crl, NID_crl_number, num, 0, 0) == 1
       && X509_CRL_add_ext (crl, ca->ext_aki, -1) && X509_CRL_sort (crl);
  ASN1_INTEGER_free (num);
  if (!ok)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build the CRL"), NULL;
  if (!kpr_ca_sign_crl (ca, crl, error))
    return NULL;
  if ((len = i2d_X509_CRL (crl, &der)) <= 0)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot encode the CRL"), NULL;
  bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

/* Builds, signs and stores the next CRL.  FALSE without error when another
 * publisher stored one meanwhile (the next round looks again). */
static gboolean
publish (KprCa *ca, KprCaDb *db, GError **error)
{
  g_autoptr (KprCaDbStmt) upd = NULL;
  g_autoptr (KprCaDbStmt) put = NULL;
  g_autoptr (GBytes) der = NULL;
  gint64 now = kpr_now ();
  CrlState state;

  /* The generation is read before the list: whatever is revoked later is
   * published by a later round. */
  if (!read_state (db, &state, error)
      || !(der = build_crl (ca, db, state.number + 1, now, error)))
    return FALSE;
  if (!kpr_ca_db_begin (db, error))
    return FALSE;
  upd = kpr_ca_db_prepare (db, "UPDATE crl_state SET number = ?,"
                               " published = CASE WHEN published > ? THEN published ELSE ? END"
                               " WHERE id = 1 AND number = ?", error);
  if (!upd)
    goto fail;
  kpr_ca_db_bind_int64 (upd, 1, state.number + 1);
  kpr_ca_db_bind_int64 (upd, 2, state.generation);
  kpr_ca_db_bind_int64 (upd, 3, state.generation);
  kpr_ca_db_bind_int64 (upd, 4, state.number);
  if (!kpr_ca_db_run (upd, "publishing the CRL", error))
    goto fail;
  if (kpr_ca_db_changes (upd) != 1)
    {
      kpr_ca_db_rollback (db);
      return FALSE;
    }
  put = kpr_ca_db_prepare (db, "INSERT INTO crl(id, number, this_update, next_update, der)"
                               " VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                               " number = excluded.number, this_update = excluded.this_update,"
                               " next_update = excluded.next_update, der = excluded.der", error);
  if (!put)
    goto fail;
  kpr_ca_db_bind_int64 (put, 1, state.number + 1);
  kpr_ca_db_bind_int64 (put, 2, now);
  kpr_ca_db_bind_int64 (put, 3, now + CRL_VALIDITY);
  kpr_ca_db_bind_blob (put, 4, g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  if (!kpr_ca_db_run (put, "publishing the CRL", error))
    goto fail;
  return kpr_ca_db_commit (db, error);

fail:
  kpr_ca_db_rollback (db);
  return FALSE;
}

/* The stored CRL if its number is above @above (NULL otherwise). */
static GBytes *
load_crl (KprCaDb *db, gint64 above, gint64 *ret_number, gint64 *ret_this_update,
          GError **error)
{
  g_autoptr (KprCaDbStmt) st = kpr_ca_db_prepare (
    db, "SELECT number, this_update, der FROM crl WHERE id = 1 AND number > ?", error);
  const guint8 *der;
  gsize len = 0;

  if (!st)
    return NULL;
  kpr_ca_db_bind_int64 (st, 1, above);
  if (kpr_ca_db_step (st, "reading the CRL", error) != KPR_CA_DB_ROW)
    return NULL;
  *ret_number = kpr_ca_db_column_int64 (st, 0);
  if (ret_this_update)
    *ret_this_update = kpr_ca_db_column_int64 (st, 1);
  der = kpr_ca_db_column_blob (st, 2, &len);
  return der ? g_bytes_new (der, len) : NULL;
}

static gboolean
write_crl_file (KprCa *ca, GBytes *der, GError **error)
{
  g_autofree char *path = kpr_ca_path (ca->dir, "crl.der");

  /* Atomic replace: a reader never sees half a CRL. */
  if (!g_file_set_contents_full (path, g_bytes_get_data (der, NULL),
                                 (gssize) g_bytes_get_size (der),
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, NULL))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write %s", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
kpr_ca_publish_crl (KprCa *ca, GError **error)
{
  g_autoptr (GBytes) der = NULL;
  gint64 number = 0;

  if (!publish (ca, ca->db, error))
    {
      if (error && *error)
        return FALSE;
      /* Someone else published meanwhile: theirs is as current. */
    }
  if (!(der = load_crl (ca->db, 0, &number, NULL, error)))
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "No CRL was stored");
      return FALSE;
    }
  return write_crl_file (ca, der, error);
}

gboolean
kpr_crl_generation (KprCaDb *db, gint64 *ret_generation, GError **error)
{
  CrlState state;

  if (!read_state (db, &state, error))
    return FALSE;
  *ret_generation = state.generation;
  return TRUE;
}

gboolean
kpr_ca_crl_after_revoke (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, gint64 generation,
                         gboolean *ret_published, GError **error)
{
  CrlState state;

  *ret_published = FALSE;
  if (!read_state (ca->db, &state, error))
    return FALSE;
  /* Nothing to do: an earlier run (or the server) published it already. */
  if (state.published >= generation)
    {
      *ret_published = TRUE;
      return TRUE;
    }
  /* No front end runs (it would hold the lock): publish here. */
  if (kpr_ca_db_try_publisher_lock (ca->db, NULL))
    {
      if (!kpr_ca_unlock (ca, pin_func, pin_data, error) || !kpr_ca_publish_crl (ca, error))
        return FALSE;
      *ret_published = TRUE;
      return TRUE;
    }
  /* A running front end publishes an explicit revocation at once. */
  for (int i = 0; i < 100; i++)
    {
      if (!read_state (ca->db, &state, error))
        return FALSE;
      if (state.published >= generation)
        {
          *ret_published = TRUE;
          return TRUE;
        }
      g_usleep (100 * 1000);
    }
  return TRUE;
}

/* ---- the publisher thread of `serve` -------------------------------------- */

typedef struct {
  gint64 generation;
  gint64 round; /* > 0: a round of the thread that starts after the wait */
  KprCrlWaitFunc func;
  gpointer data;
  struct event *timer;
  KprCrlPublisher *publisher;
} Waiter;

struct _KprCrlPublisher {
  KprCa *ca;
  gint64 interval;
  GThread *thread;
  GMutex lock;
  GCond cond;
  gboolean stop;
  gboolean poked;
  /* Shared with the loop, under @lock. */
  GBytes *der;
  gint64 published;  /* generation the served CRL includes */
  gint64 known;      /* newest generation this front end has heard of */
  gint64 started;    /* rounds of the thread begun */
  gint64 completed;  /* … and finished */
  gboolean waiters_pending; /* the loop waits for a round */
  char *problem;     /* last failure, for the log */
  char *news;        /* last publication, for the log */
  /* Loop side. */
  int pipe[2];
  struct event *wake;
  GList *waiters;
  KprServerLogFunc log_func;
  gpointer log_data;
};

static void
notify_loop (KprCrlPublisher *p)
{
  char c = 1;

  /* A full pipe already says "look". */
  if (write (p->pipe[1], &c, 1) < 0 && errno != EAGAIN)
    g_warn_if_reached ();
}

/* When the next CRL may be built (monotonic µs): the interval batches
 * superseding revocations nobody is waiting for; a client waiting for one
 * (GET /crl after an issuance, in kpr_agent_after_issue) gets it as soon
 * as the CPU bound allows, not up to a whole interval later. */
static gint64
next_build_at (KprCrlPublisher *p, gint64 last_publish_us, gint64 last_build_us, gboolean wanted)
{
  gint64 bound = 20 * last_build_us;

  return last_publish_us + (wanted ? bound : MAX (p->interval * G_USEC_PER_SEC, bound));
}

static gboolean
due (KprCrlPublisher *p, const CrlState *s, gint64 this_update, gint64 last_publish_us,
     gint64 last_build_us, gint64 now, gboolean wanted)
{
  if (s->urgent > s->published || this_update + CRL_REFRESH <= now || s->number == 0)
    return TRUE;
  return s->generation > s->published
         && g_get_monotonic_time () >= next_build_at (p, last_publish_us, last_build_us, wanted);
}

static gpointer
publisher_thread (gpointer data)
{
  KprCrlPublisher *p = data;
  g_autoptr (KprCaDb) db = NULL;
  g_autoptr (GError) error = NULL;
  gint64 number = 0, this_update = 0, last_publish_us = 0, last_build_us = 0, retry_at = 0;
  gint64 wake_at = 0; /* a waited-for revocation's build time, 0: none */
  gboolean first = TRUE;

  /* Building a long CRL takes a while; requests go first (nice 10 for
   * this thread only: Linux priorities are per thread). */
  (void) setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10);

  for (;;)
    {
      g_autoptr (GBytes) fresh = NULL;
      gboolean changed = FALSE;
      gint64 now;
      gboolean wanted;
      CrlState state;

      g_clear_error (&error);
      g_mutex_lock (&p->lock);
      /* The first round at once: the CRL is served from the start. */
      if (!p->poked && !p->stop && !first)
        g_cond_wait_until (&p->cond, &p->lock,
                           wake_at ? MIN (wake_at, g_get_monotonic_time () + G_USEC_PER_SEC)
                                   : g_get_monotonic_time () + G_USEC_PER_SEC);
      p->poked = FALSE;
      first = FALSE;
      wanted = p->waiters_pending;
      if (p->stop)
        {
          g_mutex_unlock (&p->lock);
          break;
        }
      p->started++;
      g_mutex_unlock (&p->lock);

      now = kpr_now ();
      if (!db && !(db = kpr_ca_db_open (p->ca->db_location, FALSE, &error)))
        goto problem;
      if (!read_state (db, &state, &error))
        goto problem;
      wake_at = 0;
      if (now >= retry_at && due (p, &state, this_update, last_publish_us, last_build_us, now, wanted)
          && kpr_ca_db_try_publisher_lock (db, NULL))
        {
          gint64 t0 = g_get_monotonic_time ();

          if (!publish (p->ca, db, &error) && error)
            {
              retry_at = now + 10;
              goto problem;
            }
          last_build_us = g_get_monotonic_time () - t0;
          last_publish_us = t0;
          if (!read_state (db, &state, &error))
            goto problem;
          g_mutex_lock (&p->lock);
          g_free (p->news);
          p->news = g_strdup_printf ("CRL %" G_GINT64_FORMAT " published in %" G_GINT64_FORMAT
                                     " ms", state.number, last_build_us / 1000);
          g_mutex_unlock (&p->lock);
        }
      /* A waited-for revocation held back by the CPU bound: the round
       * that may build it comes without waiting for a poke. */
      if (wanted && state.generation > state.published && now >= retry_at)
        wake_at = next_build_at (p, last_publish_us, last_build_us, TRUE);
      if ((fresh = load_crl (db, number, &number, &this_update, &error)))
        {
          changed = TRUE;
          if (!write_crl_file (p->ca, fresh, &error))
            goto problem;
        }
      else if (error)
        goto problem;

      g_mutex_lock (&p->lock);
      if (fresh)
        {
          g_clear_pointer (&p->der, g_bytes_unref);
          p->der = g_bytes_ref (fresh);
        }
      if (state.published != p->published || state.generation > p->known)
        changed = TRUE;
      p->published = MAX (p->published, state.published);
      p->known = MAX (p->known, state.generation);
      p->completed = p->started;
      changed |= p->waiters_pending;
      g_mutex_unlock (&p->lock);
      if (changed)
        notify_loop (p);
      continue;

    problem:
      g_mutex_lock (&p->lock);
      g_free (p->problem);
      p->problem = g_strdup (error ? error->message : "unknown");
      p->completed = p->started;
      g_mutex_unlock (&p->lock);
      notify_loop (p);
      /* A broken connection is opened again next round. */
      if (error && error->code != KPR_ERROR_BUSY)
        g_clear_pointer (&db, kpr_ca_db_close);
    }
  return NULL;
}

static void
finish_waiter (Waiter *w)
{
  KprCrlPublisher *p = w->publisher;

  p->waiters = g_list_remove (p->waiters, w);
  event_free (w->timer);
  w->func (w->data);
  g_free (w);
}

static void
on_wake (evutil_socket_t fd, short events, void *data)
{
  KprCrlPublisher *p = data;
  g_autofree char *problem = NULL;
  g_autofree char *news = NULL;
  char buf[64];
  gint64 published, known, completed;
  gboolean have_crl;

  while (read (fd, buf, sizeof buf) > 0)
    ;
  g_mutex_lock (&p->lock);
  published = p->published;
  known = p->known;
  completed = p->completed;
  have_crl = p->der != NULL;
  problem = g_steal_pointer (&p->problem);
  news = g_steal_pointer (&p->news);
  g_mutex_unlock (&p->lock);
  if (problem && p->log_func)
    {
      g_autofree char *line = g_strdup_printf ("CRL not published: %s", problem);
      p->log_func (line, p->log_data);
    }
  if (news && p->log_func)
    p->log_func (news, p->log_data);
  for (GList *l = p->waiters; l;)
    {
      Waiter *w = l->data;
      l = l->next;
      /* A fresh waiter also wants what this front end learnt in a
       * round begun after it came. */
      if (completed >= w->round && have_crl
          && MAX (w->generation, w->round ? known : 0) <= published)
        finish_waiter (w);
    }
  g_mutex_lock (&p->lock);
  p->waiters_pending = p->waiters != NULL;
  g_mutex_unlock (&p->lock);
}

static void
on_waiter_timeout (evutil_socket_t fd, short events, void *data)
{
  finish_waiter (data);
}

KprCrlPublisher *
kpr_crl_publisher_new (KprCa *ca, struct event_base *base, gint64 interval,
                       KprServerLogFunc log_func, gpointer log_data, GError **error)
{
  KprCrlPublisher *p = g_new0 (KprCrlPublisher, 1);

  p->ca = ca;
  p->interval = MAX (interval, 1);
  p->log_func = log_func;
  p->log_data = log_data;
  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  if (!g_unix_open_pipe (p->pipe, FD_CLOEXEC, NULL) || !g_unix_set_fd_nonblocking (p->pipe[0], TRUE, NULL)
      || !g_unix_set_fd_nonblocking (p->pipe[1], TRUE, NULL)
      || !(p->wake = event_new (base, p->pipe[0], EV_READ | EV_PERSIST, on_wake, p))
      || event_add (p->wake, NULL) < 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot start the CRL publisher");
      kpr_crl_publisher_free (p);
      return NULL;
    }
  p->thread = g_thread_new ("kpr-crl", publisher_thread, p);
  return p;
}

void
kpr_crl_publisher_free (KprCrlPublisher *p)
{
  if (!p)
    return;
  if (p->thread)
    {
      g_mutex_lock (&p->lock);
      p->stop = TRUE;
      g_cond_signal (&p->cond);
      g_mutex_unlock (&p->lock);
      g_thread_join (p->thread);
    }
  while (p->waiters)
    finish_waiter (p->waiters->data);
  if (p->wake)
    event_free (p->wake);
  if (p->pipe[0] > 0)
    close (p->pipe[0]);
  if (p->pipe[1] > 0)
    close (p->pipe[1]);
  g_clear_pointer (&p->der, g_bytes_unref);
  g_free (p->problem);
  g_free (p->news);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->cond);
  g_free (p);
}

GBytes *
kpr_crl_publisher_current (KprCrlPublisher *p)
{
  GBytes *der;

  g_mutex_lock (&p->lock);
  der = p->der ? g_bytes_ref (p->der) : NULL;
  g_mutex_unlock (&p->lock);
  return der;
}

void
kpr_crl_publisher_poke (KprCrlPublisher *p, gint64 generation)
{
  g_mutex_lock (&p->lock);
  p->known = MAX (p->known, generation);
  p->poked = TRUE;
  g_cond_signal (&p->cond);
  g_mutex_unlock (&p->lock);
}

void
kpr_crl_publisher_wait (KprCrlPublisher *p, gint64 generation, gboolean fresh, gint64 timeout_s,
                        KprCrlWaitFunc func, gpointer data)
{
  Waiter *w = g_new0 (Waiter, 1);
  struct timeval tv = { .tv_sec = timeout_s };
  gint64 published;
  gboolean have_crl;

  g_mutex_lock (&p->lock);
  published = p->published;
  have_crl = p->der != NULL;
  w->round = fresh ? p->started + 1 : 0;
  p->poked = TRUE;
  p->waiters_pending = TRUE;
  g_cond_signal (&p->cond);
  g_mutex_unlock (&p->lock);
  if (!fresh && generation <= published && have_crl)
    {
      g_free (w);
      func (data);
      return;
    }
  w->generation = generation;
  w->func = func;
  w->data = data;
  w->publisher = p;
  w->timer = evtimer_new (event_get_base (p->wake), on_waiter_timeout, w);
  evtimer_add (w->timer, &tv);
  p->waiters = g_list_prepend (p->waiters, w);
}
