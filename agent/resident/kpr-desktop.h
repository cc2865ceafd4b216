/* kpr-desktop.h — certkeeper-agent's desktop mode: the identities of the
 * person's store, renewed on the scheduler's deadlines, with the
 * org.certkeeper.Agent1 D-Bus service and reminders as desktop
 * notifications (docs/desktop.md).  Program code: it logs through
 * kpr_log like the headless mode.  No GTK: the tray icon is plain GDBus
 * (kpr-tray.c); the dialogs belong to front ends that talk to this
 * service. */
#pragma once

#include <gio/gio.h>

#include "kpr-agent-bus.h"
#include "kpr-agent.h"
#include "kpr-loop.h"

G_BEGIN_DECLS

typedef struct _KprDesktop KprDesktop;

/* What the desktop agent knows about an identity beyond its record. */
typedef struct {
  char *name;
  guint failures;
  gint64 last_failure;
  gint64 retry_after;  /* the server's Retry-After with the last failure */
  gint64 last_reminder;
  gint64 last_renewal;
  gboolean blocked;  /* waits for a person (a secret, a broken record) */
  char *last_error;
  KprAgentNeeds needs; /* what a person must type, or KPR_AGENT_NEEDS_NOTHING */
  char *seen;        /* status + serial last announced with Changed */
  guint32 notification;
} KprDesktopIdentity;

struct _KprDesktop {
  KprSchedPolicy policy;
  GHashTable *identities; /* name → KprDesktopIdentity */
  KprDesktopIdentity *current; /* whose renewal asks for secrets */
  char *pin_file;         /* [agent] pin-file= of certkeeper.conf */
  GMainLoop *loop;        /* the one of @rounds */
  KprLoop *rounds;        /* timer, signals, resume/network re-checks (kpr-loop.c) */
  gint64 deadline;        /* unix seconds, G_MAXINT64 none */
  gboolean resumed;
  int status;
  /* kpr-desktop-bus.c */
  GDBusConnection *bus;
  guint owner_id, object_id, action_sub, closed_sub;
  gboolean name_owned;
  GVariant *last_list;    /* a(sssx) as of the last round, for Busy moments */
  struct _KprTray *tray;  /* kpr-tray.c; NULL until the bus is up */
};

KprDesktop *kpr_desktop_new (GError **error);
void kpr_desktop_free (KprDesktop *desktop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprDesktop, kpr_desktop_free)

/* Owns org.certkeeper.Agent1, then works until SIGTERM or SIGINT.
 * Returns the exit status. */
int kpr_desktop_run (KprDesktop *desktop);

/* kpr-desktop.c, for the bus side */
KprDesktopIdentity *kpr_desktop_identity (KprDesktop *desktop, const char *name);
/* Renews @name now: FALSE with a KPR_ERROR (NOT_FOUND, BUSY, …) and
 * *ret_needs set when a secret a person must type was missing.  @asker:
 * a front end asked and shows the outcome (no notification bubble). */
gboolean kpr_desktop_renew_now (KprDesktop *desktop, const char *name, gboolean asker,
                                KprAgentNeeds *ret_needs, GError **error);
/* Wakes the scheduler at @when (0: now), e.g. after "Renew now" or
 * "Later", or once the bus name is ours. */
void kpr_desktop_rearm (KprDesktop *desktop, gint64 when, const char *why);
/* Builds the List() answer and counts what needs attention; NULL with
 * KPR_ERROR_BUSY while another certkeeper holds the lock. */
GVariant *kpr_desktop_list (KprDesktop *desktop, guint *ret_attention, GError **error);
/* a(sss): name, what a person must type ("pin", "secret-word",
 * "passphrase", "" for anything else), the last error. */
GVariant *kpr_desktop_waiting (KprDesktop *desktop);

/* kpr-desktop-bus.c */
/* Raises certkeeper-gtk (started when it does not run); with @action,
 * activates app.ACTION(@name) there, e.g. "renew" when a renewal needs a
 * PIN or a secret word the person must type. */
void kpr_desktop_open_gui (KprDesktop *desktop, const char *action, const char *name);
gboolean kpr_desktop_bus_start (KprDesktop *desktop, GError **error);
void kpr_desktop_bus_stop (KprDesktop *desktop);
void kpr_desktop_emit (KprDesktop *desktop, const char *signal, GVariant *args);
/* A reminder with "Renew now" and "Later"; without a notification
 * server it is only logged. */
void kpr_desktop_notify (KprDesktop *desktop, KprDesktopIdentity *id, const char *summary,
                         const char *body);
/* An outcome to read, without actions (a renewal done unattended). */
void kpr_desktop_inform (KprDesktop *desktop, KprDesktopIdentity *id, const char *summary,
                         const char *body);

G_END_DECLS
