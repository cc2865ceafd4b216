/* kpr-agent-link.h — what certkeeper-gtk learns from a running
 * certkeeper-agent over org.certkeeper.Agent1 (docs/desktop.md): that it
 * runs, which identities it stopped renewing on its own because a person
 * must type something (Waiting()), and when its identities change
 * (Changed, Renewed, Failed, ExpiringSoon).  The window shows those and
 * reloads; it never starts the agent (no auto-start). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KprAgentLink KprAgentLink;

/* @changed runs on the main thread after the agent appeared, vanished, or
 * said something changed (and Waiting() was asked again). */
KprAgentLink *kpr_agent_link_new (GDBusConnection *bus, void (*changed) (gpointer data),
                                  gpointer data);
void kpr_agent_link_free (KprAgentLink *link);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprAgentLink, kpr_agent_link_free)

gboolean kpr_agent_link_is_running (KprAgentLink *link);
/* What the agent waits for from the person for @name: "pin",
 * "secret-word", "passphrase", "" (something else to fix), or NULL. */
const char *kpr_agent_link_needs (KprAgentLink *link, const char *name);

G_END_DECLS
