/* kpr-lifecycle.c — the one state machine of an identity (DESIGN §5), as
 * one table: for each stored state what it means, what driving the
 * identity does next (kpr-enroll.c, kpr-renew.c), what resuming does
 * without asking anybody (kpr_agent_resume), what the resident agent's
 * scheduler does (kpr-scheduler.c), what a person is told
 * (kpr_identity_status) and which states may follow.  The flows switch on
 * these fields, never on the order of the KprState values.
 *
 * The diagram, generated from the table (kpr_lifecycle_diagram; the unit
 * test test-lifecycle fails when this copy and the table disagree):
 *
 * BEGIN DIAGRAM
 *   NEW             → KEY_READY, ISSUED, FAILED
 *   KEY_READY       → SUBMITTED, ISSUED, FAILED
 *   SUBMITTED       → PENDING, ISSUED, FAILED
 *   PENDING         → SUBMITTED, ISSUED, FAILED
 *   ISSUED          → INSTALLED, REVOKED, FAILED
 *   INSTALLED       → ACTIVE, REVOKED, FAILED
 *   ACTIVE          → NEXT_KEY_READY, REVOKED
 *   NEXT_KEY_READY  → ACTIVE, NEXT_SUBMITTED, REVOKED
 *   NEXT_SUBMITTED  → ACTIVE, NEXT_INSTALLED, REVOKED
 *   NEXT_INSTALLED  → ACTIVE, REVOKED
 *   REVOKED         → (end)
 *   FAILED          → (end)
 * END DIAGRAM
 *
 * (Every state may also be written again: a save that changes no state.)
 * EXPIRED and RENEW_DUE are not states: they are ACTIVE seen through the
 * clock (kpr_identity_status).  FAILED is entered when an enrollment can
 * never go on: the key it recorded is gone from the token (a token reset
 * or replaced); nothing can be resumed, `certkeeper delete` and a new
 * enrollment are the way out.  A renewal whose new key is gone is not a
 * failure: it is rolled back to ACTIVE.
 *
 * Rules that make crashes harmless:
 *   - the record names every token object before the object exists
 *     (key-id, next-key-id), so a re-run can always find and remove
 *     orphans;
 *   - a state is written (atomically, durably) before anything relies on
 *     it, and after the effect it names has happened;
 *   - the old key and certificate are removed only after the record points
 *     at the new pair, which is on the token and verified (stale-key-id
 *     says what is left to remove).
 * Tests kill the CLI at every fault point (kpr_lifecycle_fault_points)
 * and check that the next run converges; tests/agent/test-resume.sh
 * writes every state as a crash leaves it and checks the same.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>

#include "kpr-agent-private.h"
#include "kpr-lifecycle.h"

#define S(state) (1u << KPR_STATE_##state)

static const KprStateInfo table[] = {
  { KPR_STATE_NEW, "NEW", "recorded (server, token, key id); no key yet",
    TRUE, FALSE, FALSE, KPR_STEP_MAKE_KEY, KPR_RESUME_KEEP, KPR_SCHED_ENROLL,
    KPR_STATUS_IN_PROGRESS, S (KEY_READY) | S (ISSUED) | S (FAILED), TRUE },
  { KPR_STATE_KEY_READY, "KEY_READY", "the key is on the token; no request sent",
    TRUE, FALSE, FALSE, KPR_STEP_SUBMIT, KPR_RESUME_KEEP, KPR_SCHED_ENROLL,
    KPR_STATUS_IN_PROGRESS, S (SUBMITTED) | S (ISSUED) | S (FAILED), FALSE },
  { KPR_STATE_SUBMITTED, "SUBMITTED", "the request is recorded and may have been sent",
    TRUE, FALSE, FALSE, KPR_STEP_SUBMIT, KPR_RESUME_KEEP, KPR_SCHED_ENROLL,
    KPR_STATUS_IN_PROGRESS, S (PENDING) | S (ISSUED) | S (FAILED), TRUE },
  { KPR_STATE_PENDING, "PENDING", "the server has not decided: asked again at retry-at",
    TRUE, FALSE, FALSE, KPR_STEP_SUBMIT, KPR_RESUME_KEEP, KPR_SCHED_POLL,
    KPR_STATUS_PENDING, S (SUBMITTED) | S (ISSUED) | S (FAILED), FALSE },
  { KPR_STATE_ISSUED, "ISSUED", "the verified certificate is in the record, not on the token",
    TRUE, FALSE, TRUE, KPR_STEP_STORE_CERT, KPR_RESUME_DRIVE, KPR_SCHED_ENROLL,
    KPR_STATUS_IN_PROGRESS, S (INSTALLED) | S (FAILED) | S (REVOKED), TRUE },
  { KPR_STATE_INSTALLED, "INSTALLED", "the certificate is on the token beside its key",
    TRUE, FALSE, TRUE, KPR_STEP_CHECK_PAIR, KPR_RESUME_DRIVE, KPR_SCHED_ENROLL,
    KPR_STATUS_IN_PROGRESS, S (ACTIVE) | S (FAILED) | S (REVOKED), FALSE },
  { KPR_STATE_ACTIVE, "ACTIVE", "in use; with next-key-id recorded a renewal has begun",
    FALSE, FALSE, TRUE, KPR_STEP_RENEW_KEY, KPR_RESUME_TIDY, KPR_SCHED_RENEW,
    KPR_STATUS_ACTIVE, S (NEXT_KEY_READY) | S (REVOKED), TRUE },
  { KPR_STATE_NEXT_KEY_READY, "NEXT_KEY_READY", "the renewal's key is on the token",
    FALSE, TRUE, TRUE, KPR_STEP_RENEW_REQUEST, KPR_RESUME_KEEP, KPR_SCHED_RENEW,
    KPR_STATUS_IN_PROGRESS, S (ACTIVE) | S (NEXT_SUBMITTED) | S (REVOKED), FALSE },
  { KPR_STATE_NEXT_SUBMITTED, "NEXT_SUBMITTED", "the renewal request is recorded, may have been sent",
    FALSE, TRUE, TRUE, KPR_STEP_RENEW_REQUEST, KPR_RESUME_KEEP, KPR_SCHED_RENEW,
    KPR_STATUS_IN_PROGRESS, S (ACTIVE) | S (NEXT_INSTALLED) | S (REVOKED), TRUE },
  { KPR_STATE_NEXT_INSTALLED, "NEXT_INSTALLED", "the new certificate is on the token beside the new key",
    FALSE, TRUE, TRUE, KPR_STEP_SWAP, KPR_RESUME_SWAP, KPR_SCHED_RENEW,
    KPR_STATUS_IN_PROGRESS, S (ACTIVE) | S (REVOKED), TRUE },
  { KPR_STATE_REVOKED, "REVOKED", "revoked at the server (by revoke, or by a newer certificate): never renewed",
    FALSE, FALSE, FALSE, KPR_STEP_NONE, KPR_RESUME_KEEP, KPR_SCHED_NONE,
    KPR_STATUS_REVOKED, 0, TRUE },
  { KPR_STATE_FAILED, "FAILED", "an enrollment whose key is gone: delete and enroll again",
    FALSE, FALSE, FALSE, KPR_STEP_NONE, KPR_RESUME_KEEP, KPR_SCHED_NONE,
    KPR_STATUS_FAILED, 0, TRUE },
};
#undef S

G_STATIC_ASSERT (G_N_ELEMENTS (table) == KPR_STATE_FAILED + 1);

const KprStateInfo *
kpr_lifecycle_info (KprState state)
{
  if ((guint) state >= G_N_ELEMENTS (table))
    return NULL;
  g_assert (table[state].state == state);
  return &table[state];
}

gboolean
kpr_lifecycle_allows (KprState from, KprState to)
{
  const KprStateInfo *info = kpr_lifecycle_info (from);

  /* NEW is where every record starts (and restarts: an import or a new
   * enrollment writes it over a record that never got further). */
  if (to == KPR_STATE_NEW)
    return from == KPR_STATE_NEW;
  return info && (from == to || (info->next & (1u << to)));
}

gboolean
kpr_state_is_enrolling (KprState state)
{
  const KprStateInfo *info = kpr_lifecycle_info (state);

  return info && info->enrolling;
}

gboolean
kpr_state_is_in_use (KprState state)
{
  const KprStateInfo *info = kpr_lifecycle_info (state);

  return info && !info->enrolling && info->sched == KPR_SCHED_RENEW;
}

char *
kpr_lifecycle_diagram (void)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    {
      gboolean first = TRUE;

      g_string_append_printf (out, "  %-15s → ", table[i].name);
      for (gsize j = 0; j < G_N_ELEMENTS (table); j++)
        if (table[i].next & (1u << j))
          {
            g_string_append_printf (out, "%s%s", first ? "" : ", ", table[j].name);
            first = FALSE;
          }
      g_string_append (out, first ? "(end)\n" : "\n");
    }
  return g_string_free (out, FALSE);
}

/* Every fault point with the flow that reaches it: the states a flow
 * enters (before: and after: each), the record saves that are not state
 * changes, and the token steps in between. */
static const char *const fault_points[] = {
  "enroll", "before:NEW", "enroll", "after:NEW", "enroll", "after:keygen",
  "enroll", "before:KEY_READY", "enroll", "after:KEY_READY",
  "enroll", "before:SUBMITTED", "enroll", "after:SUBMITTED",
  "enroll", "before:ISSUED", "enroll", "after:ISSUED",
  "enroll", "before:INSTALLED", "enroll", "after:INSTALLED",
  "enroll", "before:ACTIVE", "enroll", "after:ACTIVE",
  "pending", "before:PENDING", "pending", "after:PENDING",
  "renew", "before:next-key-id", "renew", "after:next-key-id", "renew", "after:next-keygen",
  "renew", "before:NEXT_KEY_READY", "renew", "after:NEXT_KEY_READY",
  "renew", "before:NEXT_SUBMITTED", "renew", "after:NEXT_SUBMITTED",
  "renew", "before:NEXT_INSTALLED", "renew", "after:NEXT_INSTALLED",
  "renew", "before:stale-removed", "renew", "after:stale-removed",
  "rollback", "before:next-rolled-back", "rollback", "after:next-rolled-back",
  "import", "after:import-objects",
  "delete", "after:objects-removed",
  "export", "after:backup-written",
  "export", "before:backup-recorded", "export", "after:backup-recorded",
  "lock", "before:locked", "lock", "after:locked",
  "revoke", "before:REVOKED", "revoke", "after:REVOKED",
  "failed", "before:FAILED", "failed", "after:FAILED",
  NULL,
};

const char *const *
kpr_lifecycle_fault_points (void)
{
  return fault_points;
}

const char *const *
kpr_agent_fault_points (void)
{
#ifdef KPR_FAULT_INJECTION
  return fault_points;
#else
  return NULL;
#endif
}

#ifdef KPR_FAULT_INJECTION
/* Test builds only: KPR_FAULT_AT=POINT makes the process die by SIGKILL
 * there, as a power cut would.  Never compiled into a release. */
void
kpr_fault_point (const char *point)
{
  const char *at = g_getenv ("KPR_FAULT_AT");
  gboolean listed = FALSE;

  /* A point the list does not name would never be exercised by the
   * crash test, which takes its points from the list: refuse it. */
  for (gsize i = 1; fault_points[i - 1] && !listed; i += 2)
    listed = g_str_equal (fault_points[i], point);
  if (!listed)
    g_error ("fault point “%s” is missing from kpr_lifecycle_fault_points()", point);
  if (at && g_str_equal (at, point))
    raise (SIGKILL);
}
#endif

gboolean
kpr_lifecycle_enter (KprStore *store, KprIdentity *identity, KprState state, GError **error)
{
  g_autofree char *before = g_strconcat ("before:", kpr_state_to_string (state), NULL);
  g_autofree char *after = g_strconcat ("after:", kpr_state_to_string (state), NULL);
  KprState from = identity->state;
  const KprStateInfo *to = kpr_lifecycle_info (state);

  if (!to || !kpr_lifecycle_allows (from, state))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Identity “%s” cannot go from %s to %s",
                   identity->name, kpr_state_to_string (from), kpr_state_to_string (state));
      return FALSE;
    }
  kpr_fault_point (before);
  identity->state = state;
  if (!kpr_store_save_full (store, identity, to->durable, error))
    {
      identity->state = from;
      return FALSE;
    }
  if (from != state)
    kpr_store_audit (store, identity->name, "state %s -> %s", kpr_state_to_string (from),
                     kpr_state_to_string (state));
  kpr_fault_point (after);
  return TRUE;
}

/* A record change that is not a state change (a key id chosen, stale
 * objects gone) gets its own named fault point. */
gboolean
kpr_lifecycle_save (KprStore *store, KprIdentity *identity, const char *point, gboolean durable,
                    GError **error)
{
  g_autofree char *before = g_strconcat ("before:", point, NULL);
  g_autofree char *after = g_strconcat ("after:", point, NULL);

  kpr_fault_point (before);
  if (!kpr_store_save_full (store, identity, durable, error))
    return FALSE;
  kpr_fault_point (after);
  return TRUE;
}
