/* test-scheduler.c — the resident agent's timing with an injected clock:
 * one-year, two-week and 90-second certificates, expired → renew now,
 * backoff, Retry-After, pending, jitter, no renewal loop, and the next
 * deadline. */
#include "config.h"

#include "kpr-agent.h"

#define DAY (24 * 3600)
#define T0 ((gint64) 1800000000) /* a fixed "now" in 2027 */

static KprSchedInput
active (const char *name, gint64 not_before, gint64 lifetime)
{
  KprSchedInput in = { 0 };

  in.name = name;
  in.exists = TRUE;
  in.state = KPR_STATE_ACTIVE;
  in.not_before = not_before;
  in.not_after = not_before + lifetime;
  return in;
}

static KprSchedPolicy
policy (void)
{
  KprSchedPolicy p;
  kpr_sched_policy_init (&p);
  return p;
}

/* Renewal lands in [2/3 - 5 %, 2/3] of the lifetime for every lifetime. */
static void
check_lifetime (gint64 lifetime)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = active ("kiosk-7", T0, lifetime);
  KprSchedNext next = kpr_sched_next (&p, &in, T0 + 1);
  gint64 two_thirds = T0 + lifetime * 2 / 3, due;

  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
  g_assert_cmpint (next.when, <=, two_thirds);
  g_assert_cmpint (next.when, >=, two_thirds - lifetime / 20 - 1);
  g_assert_cmpint (next.when, >, T0 + 1);
  /* Once due, it is due now (the deadline does not move into the past). */
  due = next.when;
  next = kpr_sched_next (&p, &in, due + 5);
  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
  g_assert_cmpint (next.when, <=, due + 5);
}

static void
test_one_year (void)
{
  check_lifetime (365 * (gint64) DAY);
}

static void
test_two_weeks (void)
{
  check_lifetime (14 * DAY);
}

static void
test_ninety_seconds (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = active ("short", T0, 90);
  KprSchedNext next;

  check_lifetime (90);
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.when, >=, T0 + 55);
  g_assert_cmpint (next.when, <=, T0 + 60);
  /* A failed renewal of a 90 s certificate is retried within seconds,
   * not after 30 s (it would be dead by then). */
  in.failures = 1;
  in.last_failure = next.when;
  next = kpr_sched_next (&p, &in, in.last_failure);
  g_assert_cmpint (next.action, ==, KPR_SCHED_REMIND); /* first failure: tell */
  in.last_reminder = in.last_failure;
  next = kpr_sched_next (&p, &in, in.last_failure);
  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
  g_assert_cmpint (next.when - in.last_failure, <=, 4);
  g_assert_cmpint (next.when - in.last_failure, >=, 1);
}

/* A renewal stuck after its request was sent (the server went away):
 * retried on the backoff, and the person is reminded like for ACTIVE. */
static void
test_interrupted_failing (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = active ("stuck", T0, 120);
  KprSchedNext next;
  gint64 due = kpr_sched_renew_at (&p, "stuck", T0, T0 + 120);

  in.state = KPR_STATE_NEXT_SUBMITTED;
  next = kpr_sched_next (&p, &in, T0 + 1); /* after a crash: at once */
  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
  g_assert_cmpint (next.when, ==, T0 + 1);
  in.failures = 1;
  in.last_failure = due + 1;
  next = kpr_sched_next (&p, &in, due + 1);
  g_assert_cmpint (next.action, ==, KPR_SCHED_REMIND);
  in.last_reminder = due + 1;
  next = kpr_sched_next (&p, &in, due + 1);
  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
  g_assert_cmpint (next.when, >, due + 1);
  g_assert_cmpint (next.when, <=, due + 1 + 6);
}

static void
test_expired (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = active ("old", T0 - 30 * DAY, 14 * DAY);
  KprSchedNext next = kpr_sched_next (&p, &in, T0);

  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
  g_assert_cmpint (next.when, <=, T0);
}

/* A certificate already due when it arrives is not renewed in a loop. */
static void
test_due_on_arrival (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = active ("skewed", T0 - 20 * DAY, 14 * DAY);
  KprSchedNext next;

  in.last_renewal = T0;
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
  g_assert_cmpint (next.when, ==, T0 + 30);
  in = active ("skewed", T0 - 60, 90); /* 30 s issued with a 60 s backdate */
  in.last_renewal = T0;
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.when, ==, T0 + 4);
}

/* After 1, 2, … failures at T0 the next step is a renewal @expected[i]
 * seconds later. */
static void
check_backoff (const KprSchedPolicy *p, KprSchedInput *in, const gint64 *expected, gsize n)
{
  for (guint i = 0; i < n; i++)
    {
      KprSchedNext next;

      in->failures = i + 1;
      in->last_failure = T0;
      next = kpr_sched_next (p, in, T0);
      g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
      g_assert_cmpint (next.when - T0, ==, expected[i]);
    }
}

static void
test_backoff (void)
{
  KprSchedPolicy p = policy ();
  /* A one-year certificate with months left: pure exponential backoff. */
  static const gint64 expected[] = { 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600 };
  KprSchedInput in = active ("backoff", T0 - 300 * DAY, 365 * (gint64) DAY);

  in.last_reminder = T0; /* reminders aside */
  check_backoff (&p, &in, expected, G_N_ELEMENTS (expected));
  /* Near expiry the cap is a tenth of what is left: 10 minutes left → at
   * most 60 s between tries; never below 30 s. */
  g_assert_cmpint (kpr_sched_backoff (9, 365 * (gint64) DAY, 600), ==, 60);
  g_assert_cmpint (kpr_sched_backoff (9, 365 * (gint64) DAY, 100), ==, 30);
  g_assert_cmpint (kpr_sched_backoff (0, 365 * (gint64) DAY, 100), ==, 0);
  /* No certificate: the 1 h cap alone. */
  g_assert_cmpint (kpr_sched_backoff (20, 14 * DAY, 0), ==, 3600);
  /* Expired: 15 min at most between tries. */
  g_assert_cmpint (kpr_sched_backoff (20, 14 * DAY, -1), ==, 900);
  g_assert_cmpint (kpr_sched_backoff (3, 14 * DAY, -1), ==, 120);
}

/* Issue 13, item 14: a kiosk whose certificate expired while its server
 * was down.  With the headless policy (no reminders once expired) every
 * wake-up is an attempt, and the attempts back off from the floor
 * doubling to 15 min — not a wake-up every lifetime/50 (10 s). */
static void
test_expired_backoff (void)
{
  KprSchedPolicy p = policy ();
  static const gint64 expected[] = { 30, 60, 120, 240, 480, 900, 900, 900 };
  KprSchedInput in = active ("kiosk", T0 - 15 * DAY, 14 * DAY);

  p.remind_expired = FALSE;
  in.last_reminder = T0 - 60;
  check_backoff (&p, &in, expected, G_N_ELEMENTS (expected));
  /* A certificate of minutes (the tests' 120 s): floor lifetime/20. */
  in = active ("kiosk", T0 - 200, 120);
  in.failures = 3;
  in.last_failure = T0;
  in.last_reminder = T0 - 1;
  g_assert_cmpint (kpr_sched_next (&p, &in, T0).when - T0, ==, 24);
  g_assert_cmpint (kpr_sched_next (&p, &in, T0).action, ==, KPR_SCHED_RENEW);
  /* The desktop's policy still reminds the person. */
  p.remind_expired = TRUE;
  g_assert_cmpint (kpr_sched_next (&p, &in, T0).action, ==, KPR_SCHED_REMIND);
  /* Before expiry the headless policy still warns that it is coming. */
  p.remind_expired = FALSE;
  in = active ("kiosk", T0 - 12 * DAY, 14 * DAY);
  in.failures = 1;
  in.last_failure = T0;
  in.retry_after = 10 * 3600;
  in.last_reminder = T0 - 3600;
  g_assert_cmpint (kpr_sched_next (&p, &in, T0).action, ==, KPR_SCHED_REMIND);
}

static void
test_retry_after (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = active ("busy", T0 - 300 * DAY, 365 * (gint64) DAY);
  KprSchedNext next;

  in.last_reminder = T0;
  in.failures = 1;
  in.last_failure = T0;
  in.retry_after = 900; /* longer than the 30 s backoff: the server wins */
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.when, ==, T0 + 900);
  in.retry_after = 5; /* shorter: the backoff still applies */
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.when, ==, T0 + 30);
  in.retry_after = 10 * 365 * (gint64) DAY; /* absurd: clamped to a day */
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.when, ==, T0 + DAY);
}

static void
test_pending (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = { .name = "waiting", .exists = TRUE, .state = KPR_STATE_PENDING,
                       .retry_at = T0 + 600 };
  KprSchedNext next = kpr_sched_next (&p, &in, T0);

  g_assert_cmpint (next.action, ==, KPR_SCHED_POLL);
  g_assert_cmpint (next.when, ==, T0 + 600);
  /* A failed poll: the later of the server's time and the backoff. */
  in.retry_at = T0;
  in.failures = 2;
  in.last_failure = T0;
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.action, ==, KPR_SCHED_POLL);
  g_assert_cmpint (next.when, ==, T0 + 60);
}

static void
test_states (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = { .name = "new", .exists = FALSE };
  KprSchedNext next = kpr_sched_next (&p, &in, T0);

  g_assert_cmpint (next.action, ==, KPR_SCHED_ENROLL);
  g_assert_cmpint (next.when, ==, T0);
  in.blocked = TRUE; /* wrong enrollment code: no retry until told */
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.action, ==, KPR_SCHED_NONE);
  g_assert_cmpint (next.when, ==, G_MAXINT64);

  in = active ("revoked", T0, DAY);
  in.state = KPR_STATE_REVOKED;
  g_assert_cmpint (kpr_sched_next (&p, &in, T0).action, ==, KPR_SCHED_NONE);
  in.state = KPR_STATE_NEXT_SUBMITTED; /* interrupted renewal: finish now */
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW);
  g_assert_cmpint (next.when, ==, T0);
}

static void
test_reminders (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in = active ("remind", T0 - 12 * DAY, 14 * DAY);
  KprSchedNext next;

  /* Failing for a while, reminded an hour ago: a two-week certificate is
   * reminded every 14 d / 50 ≈ 6.7 h. */
  in.failures = 8;
  in.last_failure = T0;
  in.last_reminder = T0 - 3600;
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.action, ==, KPR_SCHED_RENEW); /* retry in 1 h first */
  in.failures = 1;
  in.retry_after = 10 * 3600; /* the server wants 10 h: the reminder comes first */
  next = kpr_sched_next (&p, &in, T0);
  g_assert_cmpint (next.action, ==, KPR_SCHED_REMIND);
  g_assert_cmpint (next.when, ==, T0 - 3600 + 14 * DAY / 50);
  g_assert_cmpint (kpr_sched_reminder_interval (365 * (gint64) DAY), ==, DAY);
  g_assert_cmpint (kpr_sched_reminder_interval (90), ==, 10);
}

static void
test_jitter (void)
{
  KprSchedPolicy p = policy ();
  gint64 lifetime = 365 * (gint64) DAY, lo = G_MAXINT64, hi = G_MININT64;
  char name[32];

  for (int i = 0; i < 1000; i++)
    {
      gint64 at;

      g_snprintf (name, sizeof name, "kiosk-%d", i);
      at = kpr_sched_renew_at (&p, name, T0, T0 + lifetime);
      g_assert_cmpint (at, ==, kpr_sched_renew_at (&p, name, T0, T0 + lifetime));
      g_assert_cmpint (at, <=, T0 + lifetime * 2 / 3);
      g_assert_cmpint (at, >=, T0 + lifetime * 2 / 3 - lifetime / 20 - 1);
      lo = MIN (lo, at);
      hi = MAX (hi, at);
    }
  /* Spread over most of the 5 % window, not bunched together. */
  g_assert_cmpint (hi - lo, >, lifetime / 25);
  /* Never past 90 %, whatever the configuration says. */
  p.renew_fraction = 0.99;
  p.max_jitter = 0;
  g_assert_cmpint (kpr_sched_renew_at (&p, "x", T0, T0 + 1000), ==, T0 + 900);
  p.renew_fraction = 0.5;
  g_assert_cmpint (kpr_sched_renew_at (&p, "x", T0, T0 + 1000), ==, T0 + 500);
}

static void
test_deadline (void)
{
  KprSchedPolicy p = policy ();
  KprSchedInput in[4];
  gsize index = 99;

  in[0] = active ("year", T0, 365 * (gint64) DAY);
  in[1] = active ("fortnight", T0, 14 * DAY);
  in[2] = active ("minutes", T0, 300);
  in[3] = active ("gone", T0, 60);
  in[3].state = KPR_STATE_REVOKED;
  g_assert_cmpint (kpr_sched_deadline (&p, in, 4, T0, &index), ==,
                   kpr_sched_next (&p, &in[2], T0).when);
  g_assert_cmpint (index, ==, 2);
  g_assert_cmpint (kpr_sched_deadline (&p, in, 2, T0, &index), ==,
                   kpr_sched_next (&p, &in[1], T0).when);
  g_assert_cmpint (index, ==, 1);
  g_assert_cmpint (kpr_sched_deadline (&p, &in[3], 1, T0, NULL), ==, G_MAXINT64);
  g_assert_cmpint (kpr_sched_deadline (&p, in, 0, T0, NULL), ==, G_MAXINT64);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scheduler/one-year", test_one_year);
  g_test_add_func ("/scheduler/two-weeks", test_two_weeks);
  g_test_add_func ("/scheduler/ninety-seconds", test_ninety_seconds);
  g_test_add_func ("/scheduler/expired", test_expired);
  g_test_add_func ("/scheduler/interrupted-failing", test_interrupted_failing);
  g_test_add_func ("/scheduler/due-on-arrival", test_due_on_arrival);
  g_test_add_func ("/scheduler/backoff", test_backoff);
  g_test_add_func ("/scheduler/expired-backoff", test_expired_backoff);
  g_test_add_func ("/scheduler/retry-after", test_retry_after);
  g_test_add_func ("/scheduler/pending", test_pending);
  g_test_add_func ("/scheduler/states", test_states);
  g_test_add_func ("/scheduler/reminders", test_reminders);
  g_test_add_func ("/scheduler/jitter", test_jitter);
  g_test_add_func ("/scheduler/deadline", test_deadline);
  return g_test_run ();
}
