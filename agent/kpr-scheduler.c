/* kpr-scheduler.c — when the resident agent does what, for every identity.
 *
 * Pure arithmetic over an injected clock: no I/O, no global state, so the
 * tests can walk a one-year certificate through its life in microseconds.
 * The agent sleeps until kpr_sched_deadline() and never polls.
 *
 * Every interval scales with the certificate's lifetime, so a one-year, a
 * two-week and a 90-second certificate all get sensible timing:
 *
 *   renewal    at renew_fraction (2/3) of the lifetime, minus a jitter of up
 *              to max_jitter (5 %) chosen by the name's hash — identities
 *              (and kiosks) issued together do not all hit the server in the
 *              same second, and the same name always gets the same time.
 *              The jitter goes *before* 2/3 so that `certkeeper status`
 *              (which says "due" from 2/3 on) never alarms a monitor while
 *              the agent is doing its job.  Never past 90 %.
 *   reminders  from the renewal time on while the certificate is not
 *              renewed, every lifetime/50 (10 s … 1 day).
 *   backoff    after a failure: 30 s doubling to 1 h or 1/10 of the
 *              remaining lifetime, whichever is smaller; once the
 *              certificate has expired, doubling to 15 min (the identity is
 *              useless until the server answers again, so it is asked more
 *              often than a healthy one, but never in a tight loop); a
 *              server's Retry-After is waited out when it is longer.
 *   expired    reminders stop at expiry when the policy says so (the
 *              headless agent: each failed attempt is logged once with
 *              its next time, a reminder in between says nothing new).
 *   pending    polled at the server's retry_at (and the backoff after a
 *              failed poll).
 *   spacing    never two renewals closer than lifetime/20 (1 … 30 s), even
 *              when a new certificate is already due on arrival.
 */
#include "config.h"

#include "kpr-agent-private.h"
#include "kpr-lifecycle.h"

#define BACKOFF_MIN 30
#define BACKOFF_MAX 3600
#define BACKOFF_EXPIRED_MAX 900
#define RETRY_AFTER_MAX 86400 /* a server asking for more is not believed */
#define REMIND_MIN 10
#define REMIND_MAX 86400

void
kpr_sched_policy_init (KprSchedPolicy *policy)
{
  policy->renew_fraction = 2.0 / 3.0;
  policy->max_jitter = 0.05;
  policy->remind_expired = TRUE;
}

/* FNV-1a: stable across versions and platforms, unlike g_str_hash's
 * documented freedom to change. */
static guint32
name_hash (const char *name)
{
  guint32 h = 2166136261u;

  for (const char *p = name ? name : ""; *p; p++)
    h = (h ^ (guchar) *p) * 16777619u;
  return h;
}

gint64
kpr_sched_renew_at (const KprSchedPolicy *policy, const char *name, gint64 not_before,
                    gint64 not_after)
{
  gint64 lifetime = not_after - not_before;
  double fraction = CLAMP (policy->renew_fraction, 0.0, 0.9);
  double jitter = CLAMP (policy->max_jitter, 0.0, 0.05) * (name_hash (name) / 4294967296.0);
  gint64 at;

  if (lifetime <= 0)
    return not_before;
  at = not_before + (gint64) (lifetime * MAX (0.0, fraction - jitter));
  return MIN (at, not_before + (gint64) (lifetime * 0.9));
}

gint64
kpr_sched_backoff (guint failures, gint64 lifetime, gint64 remaining)
{
  /* Certificates that live minutes (tests, very short-lived policies)
   * would expire inside a 30 s wait: their floor is 1/20 of the life. */
  gint64 floor_ = lifetime > 0 ? CLAMP (lifetime / 20, 1, BACKOFF_MIN) : BACKOFF_MIN;
  gint64 cap = BACKOFF_MAX, delay = floor_;

  if (failures == 0)
    return 0;
  if (remaining > 0)
    cap = MIN (cap, remaining / 10);
  else if (remaining < 0)
    cap = BACKOFF_EXPIRED_MAX;
  for (guint i = 1; i < failures && delay < BACKOFF_MAX; i++)
    delay *= 2;
  return MAX (floor_, MIN (delay, cap));
}

gint64
kpr_sched_reminder_interval (gint64 lifetime)
{
  return CLAMP (lifetime / 50, REMIND_MIN, REMIND_MAX);
}

void
kpr_sched_input_from_identity (KprSchedInput *input, const KprIdentity *identity)
{
  input->name = identity->name;
  input->exists = TRUE;
  input->state = identity->state;
  input->retry_at = identity->retry_at;
  input->not_before = input->not_after = 0;
  if (identity->cert)
    {
      input->not_before = kpr_ossl_time_unix (X509_get0_notBefore (identity->cert));
      input->not_after = kpr_ossl_time_unix (X509_get0_notAfter (identity->cert));
    }
}

/* When the next attempt may be made after the recorded failures. */
gint64
kpr_sched_retry_at (const KprSchedInput *in, gint64 now)
{
  gint64 lifetime = in->not_after - in->not_before;
  /* 0: no certificate; < 0: it has expired (even at its last second). */
  gint64 remaining = !in->not_after ? 0 : in->not_after > now ? in->not_after - now : -1;
  gint64 wait;

  if (in->failures == 0)
    return G_MININT64;
  wait = kpr_sched_backoff (in->failures, lifetime, remaining);
  wait = MAX (wait, CLAMP (in->retry_after, 0, RETRY_AFTER_MAX));
  return in->last_failure + wait;
}

KprSchedNext
kpr_sched_next (const KprSchedPolicy *policy, const KprSchedInput *in, gint64 now)
{
  KprSchedNext next = { KPR_SCHED_NONE, G_MAXINT64 };
  gint64 retry = kpr_sched_retry_at (in, now);
  gboolean interrupted = FALSE;
  const KprStateInfo *info;

  if (in->blocked)
    return next;
  if (!in->exists)
    {
      next.action = KPR_SCHED_ENROLL;
      next.when = MAX (now, retry);
      return next;
    }
  /* What the lifecycle table (kpr-lifecycle.c) says the resident agent
   * does in this state. */
  info = kpr_lifecycle_info (in->state);
  switch (info ? info->sched : KPR_SCHED_NONE)
    {
    case KPR_SCHED_NONE:
    case KPR_SCHED_REMIND:
      return next;

    case KPR_SCHED_POLL:
      next.action = KPR_SCHED_POLL;
      next.when = MAX (in->retry_at, retry);
      return next;

    case KPR_SCHED_ENROLL:
      next.action = KPR_SCHED_ENROLL;
      next.when = MAX (now, retry);
      return next;

    case KPR_SCHED_RENEW:
      if (!info->renewing)
        break;
      /* An interrupted renewal goes on as soon as it may.  One that
       * keeps failing (the server is down after the request was made)
       * still has a certificate ageing: the reminders below apply. */
      if (in->failures == 0 || in->not_after <= in->not_before)
        {
          next.action = KPR_SCHED_RENEW;
          next.when = MAX (now, retry);
          return next;
        }
      interrupted = TRUE;
      break;
    }

  if (in->not_after <= in->not_before)
    {
      /* ACTIVE without a readable certificate: renewing is the repair. */
      next.action = KPR_SCHED_RENEW;
      next.when = MAX (now, retry);
      return next;
    }
  {
    gint64 renew_at = kpr_sched_renew_at (policy, in->name, in->not_before, in->not_after);
    gint64 lifetime = in->not_after - in->not_before;
    /* A certificate that is due the moment it arrives (a server whose
     * clock or policy is off) is not renewed again at once: the server
     * would be hammered in a loop. */
    gint64 spacing = in->last_renewal ? in->last_renewal + CLAMP (lifetime / 20, 1, BACKOFF_MIN)
                                      : G_MININT64;
    gint64 attempt = MAX (MAX (interrupted ? G_MININT64 : renew_at, retry), spacing);
    gint64 remind = in->last_reminder
                                      ? in->last_reminder + kpr_sched_reminder_interval (lifetime)
                      : renew_at;

    /* The first reminder waits for the first attempt to have failed:
     * a renewal that simply works needs nobody's attention. */
    if (in->failures == 0)
      remind = MAX (remind, attempt + 1);
    remind = MAX (remind, renew_at);
    if (!policy->remind_expired && in->not_after <= MAX (now, remind))
      remind = G_MAXINT64;
    next.action = KPR_SCHED_RENEW;
    next.when = attempt;
    if (remind < attempt)
      {
        next.action = KPR_SCHED_REMIND;
        next.when = remind;
      }
  }
  return next;
}

gint64
kpr_sched_deadline (const KprSchedPolicy *policy, const KprSchedInput *inputs, gsize n,
                    gint64 now, gsize *ret_index)
{
  gint64 best = G_MAXINT64;
  gsize best_index = 0;

  for (gsize i = 0; i < n; i++)
    {
      KprSchedNext next = kpr_sched_next (policy, &inputs[i], now);

      if (next.action != KPR_SCHED_NONE && next.when < best)
        {
          best = next.when;
          best_index = i;
        }
    }
  if (ret_index)
    *ret_index = best_index;
  return best;
}
