/* kpr-lifecycle.c — the one state machine of an identity (DESIGN §5).
 *
 *                 enroll                       202
 *   (none) ──► NEW ──► KEY_READY ──► SUBMITTED ──► PENDING ◄──┐ poll
 *               │  key made   CSR recorded │         │  └─────┘
 *               │                          │ 200     │ 200 / .cer installed
 *               │                          ▼         ▼
 *               │                        ISSUED ◄────┘  cert verified, in the record
 *               │                          │ cert stored on the token
 *               │                          ▼
 *               │                       INSTALLED ──► ACTIVE ◄──────────────────┐
 *               │                  token pair checked   │ renew (due or --force)│
 *               │                                        ▼                       │
 *               │                 next id recorded: ACTIVE + next-key-id         │
 *               │                                        │ key made              │
 *               │                                        ▼                       │
 *               │                                 NEXT_KEY_READY                 │
 *               │                                        │ renewal CSR recorded  │
 *               │                                        ▼                       │
 *               │                                 NEXT_SUBMITTED                 │
 *               │                                        │ cert verified+stored  │
 *               │                                        ▼                       │
 *               │                                 NEXT_INSTALLED ── swap ───────┘
 *               │                        (record points at the new pair, then the
 *               ▼                         old objects go: ACTIVE + stale-key-id)
 *   FAILED(reason), REVOKED; EXPIRED and RENEW_DUE are ACTIVE seen through
 *   the clock (kpr_identity_status).
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
 * Resuming (kpr_agent_resume and the flows) maps each stored state to the
 * step that comes next; tests kill the CLI at every fault point below and
 * check that the next run converges.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>

#include "kpr-agent-private.h"

/* Allowed moves; anything else is a bug, not a person's mistake. */
static gboolean
transition_allowed (KprState from, KprState to)
{
  switch (to)
    {
    case KPR_STATE_NEW:
      return from == KPR_STATE_NEW;
    case KPR_STATE_KEY_READY:
      return from == KPR_STATE_NEW || from == KPR_STATE_KEY_READY;
    case KPR_STATE_SUBMITTED:
      return from == KPR_STATE_KEY_READY || from == KPR_STATE_SUBMITTED
             || from == KPR_STATE_PENDING;
    case KPR_STATE_PENDING:
      return from == KPR_STATE_SUBMITTED || from == KPR_STATE_PENDING;
    case KPR_STATE_ISSUED:
      return from == KPR_STATE_SUBMITTED || from == KPR_STATE_PENDING || from == KPR_STATE_NEW
             || from == KPR_STATE_KEY_READY;
    case KPR_STATE_INSTALLED:
      return from == KPR_STATE_ISSUED;
    case KPR_STATE_ACTIVE:
      return from == KPR_STATE_INSTALLED || from == KPR_STATE_ACTIVE
             || from == KPR_STATE_NEXT_INSTALLED || from == KPR_STATE_NEXT_KEY_READY
             || from == KPR_STATE_NEXT_SUBMITTED;
    case KPR_STATE_NEXT_KEY_READY:
      return from == KPR_STATE_ACTIVE || from == KPR_STATE_NEXT_KEY_READY;
    case KPR_STATE_NEXT_SUBMITTED:
      return from == KPR_STATE_NEXT_KEY_READY || from == KPR_STATE_NEXT_SUBMITTED;
    case KPR_STATE_NEXT_INSTALLED:
      return from == KPR_STATE_NEXT_SUBMITTED;
    case KPR_STATE_REVOKED:
    case KPR_STATE_FAILED:
      return TRUE;
    }
  return FALSE;
}

#ifdef KPR_FAULT_INJECTION
/* Test builds only: KPR_FAULT_AT=POINT makes the process die by SIGKILL
 * there, as a power cut would.  Never compiled into a release. */
void
kpr_fault_point (const char *point)
{
  const char *at = g_getenv ("KPR_FAULT_AT");

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

  if (!transition_allowed (from, state))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Identity “%s” cannot go from %s to %s",
                   identity->name, kpr_state_to_string (from), kpr_state_to_string (state));
      return FALSE;
    }
  kpr_fault_point (before);
  identity->state = state;
  if (!kpr_store_save (store, identity, error))
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
kpr_lifecycle_save (KprStore *store, KprIdentity *identity, const char *point, GError **error)
{
  g_autofree char *before = g_strconcat ("before:", point, NULL);
  g_autofree char *after = g_strconcat ("after:", point, NULL);

  kpr_fault_point (before);
  if (!kpr_store_save (store, identity, error))
    return FALSE;
  kpr_fault_point (after);
  return TRUE;
}
