/* kpr-wake.h — re-checks after suspend or a network change (kpr-wake.c). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Calls @func (from the main loop, WAKE_SETTLE seconds after
 * the first event of a burst) when the system resumed from suspend
 * (logind's PrepareForSleep(false) on the system bus) or the network
 * came back (GNetworkMonitor); @why says which, for the log.  No system
 * bus: only the network is watched. */
typedef struct _KprWake KprWake;
typedef void (*KprWakeFunc) (const char *why, gpointer data);
KprWake *kpr_wake_new (KprWakeFunc func, gpointer data);
void kpr_wake_free (KprWake *wake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprWake, kpr_wake_free)

G_END_DECLS
