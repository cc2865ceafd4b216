/* kpr-lifecycle.h — the lifecycle table (kpr-lifecycle.c): for each stored
 * state, what it means, what the flows (drive), resume and the scheduler
 * do with it and which states may follow.  Private to agent/ (and its unit
 * test); the flows switch on these fields, never on the order of KprState
 * values. */
#pragma once

#include "kpr-agent.h"

G_BEGIN_DECLS

/* What driving an identity does next in a state (kpr-enroll.c, kpr-renew.c). */
typedef enum {
  KPR_STEP_NONE = 0,      /* nothing: the identity is in use or at an end */
  KPR_STEP_MAKE_KEY,      /* orphans with key-id removed, the key made → KEY_READY */
  KPR_STEP_SUBMIT,        /* the recorded (or a new) CSR to the server → PENDING or ISSUED */
  KPR_STEP_STORE_CERT,    /* the verified certificate onto the token → INSTALLED */
  KPR_STEP_CHECK_PAIR,    /* the token's pair checked against the record → ACTIVE */
  KPR_STEP_RENEW_KEY,     /* ACTIVE with next-key-id: the renewal's key → NEXT_KEY_READY */
  KPR_STEP_RENEW_REQUEST, /* the renewal CSR to the server, the cert stored → NEXT_INSTALLED */
  KPR_STEP_SWAP,          /* the record points at the new pair, old objects go → ACTIVE */
} KprStep;

/* What kpr_agent_resume does in a state, without asking anybody. */
typedef enum {
  KPR_RESUME_KEEP = 0, /* left for a run that may ask (the server, a person) */
  KPR_RESUME_DRIVE,    /* the enrollment driven on without the server */
  KPR_RESUME_TIDY,     /* an abandoned renewal key rolled back, stale objects removed */
  KPR_RESUME_SWAP,     /* the interrupted swap finished */
} KprResume;

typedef struct {
  KprState state;
  const char *name;    /* as stored: "KEY_READY" */
  const char *meaning; /* one line, for the diagram and people */
  gboolean enrolling;  /* before the first certificate is in use */
  gboolean renewing;   /* a renewal in progress (next-key-id recorded) */
  gboolean has_cert;   /* the record must hold a certificate */
  KprStep step;        /* what drive does */
  KprResume resume;    /* what resume does */
  KprSchedAction sched; /* what the resident agent does (ACTIVE: RENEW when due) */
  KprStatus status;    /* what a person is told (ACTIVE: the clock decides) */
  guint next;          /* states a step may enter: 1 << KprState */
  gboolean durable;    /* entering it is fsynced: losing it to a crash would
                        * repeat a server request or lose a certificate or a
                        * key id (the others a re-run repairs) */
} KprStateInfo;

/* The table's row for @state; NULL for a value that is no state. */
const KprStateInfo *kpr_lifecycle_info (KprState state);
/* Whether a step may go from @from to @to (re-entering a state is a save). */
gboolean kpr_lifecycle_allows (KprState from, KprState to);
/* The diagram, one line per state ("  NEW → KEY_READY, ISSUED, FAILED"),
 * generated from the table; kpr-lifecycle.c's comment holds the same text
 * (tests/unit/test-lifecycle checks it). */
char *kpr_lifecycle_diagram (void);

/* Every fault point of -Dfault_injection builds, with the flow that
 * reaches it ("enroll", "renew", "import", "delete", "export", "lock",
 * "pending"), NULL-terminated pairs; `certkeeper --fault-points` prints
 * them for the crash test.  A point not listed here aborts when reached. */
const char *const *kpr_lifecycle_fault_points (void);

G_END_DECLS
