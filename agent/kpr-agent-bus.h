/* kpr-agent-bus.h — the D-Bus face of certkeeper-agent, for its clients
 * (the certkeeper command, certkeeper-gtk) and for the service itself
 * (agent/resident/): one bus name, one object path, one set of "needs"
 * words.  The interface is agent/resident/org.certkeeper.Agent1.xml;
 * docs/desktop.md describes it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KPR_AGENT_BUS_NAME "org.certkeeper.Agent1"
#define KPR_AGENT_BUS_PATH "/org/certkeeper/Agent1"
#define KPR_AGENT_BUS_INTERFACE "org.certkeeper.Agent1"
/* Prefix of the service's D-Bus error names ("…Error.NeedsSecret"). */
#define KPR_AGENT_BUS_ERROR "org.certkeeper.Agent1.Error."

/* What a renewal waits for from a person; on the bus as a word
 * (Waiting(), the NeedsSecret error): "pin", "secret-word",
 * "passphrase", "" for anything else to fix. */
typedef enum {
  KPR_AGENT_NEEDS_NOTHING = 0,
  KPR_AGENT_NEEDS_PIN,
  KPR_AGENT_NEEDS_SECRET_WORD, /* a secret word or a server password */
  KPR_AGENT_NEEDS_PASSPHRASE,
} KprAgentNeeds;

const char *kpr_agent_needs_to_string (KprAgentNeeds needs);
/* Unknown words (a newer agent) are KPR_AGENT_NEEDS_NOTHING. */
KprAgentNeeds kpr_agent_needs_from_string (const char *word);

G_END_DECLS
