/* kpr-agent.c — the agent context: store lock, tokens, server clients. */
#include "config.h"

#include <stdarg.h>

#include "kpr-agent-bus.h"
#include "kpr-agent-private.h"

KprAgent *
kpr_agent_new (const KprAgentUi *ui, GError **error)
{
  g_autoptr (KprAgent) agent = g_new0 (KprAgent, 1);

  if (ui)
    agent->ui = *ui;
  agent->store = kpr_store_open (error);
  if (!agent->store)
    return NULL;
  return g_steal_pointer (&agent);
}

void
kpr_agent_free (KprAgent *agent)
{
  if (!agent)
    return;
  kpr_token_ctx_free (agent->tokens);
  kpr_store_free (agent->store);
  g_free (agent->browser_note);
  g_free (agent->browser_restart);
  g_free (agent->renewal_note);
  g_free (agent->cmp_reference);
  g_free (agent);
}

KprStore *
kpr_agent_get_store (KprAgent *agent)
{
  return agent->store;
}

void
kpr_agent_progress (KprAgent *agent, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  if (!agent->ui.progress)
    return;
  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  agent->ui.progress (message, agent->ui.data);
}

/* Modules are libraries running in this process: one that crashes or
 * hangs takes the command with it.  So a command about one identity loads
 * its token's module alone, and only what must look at every token
 * (listing them, a token named by URI) loads every registered module
 * (issue 13, item 11).  Modules are only ever added to the context, so
 * tokens found before stay valid. */
static KprTokenCtx *
load_tokens (KprAgent *agent, KprTokenCtxFlags flags, const char *module, GError **error)
{
  const char *extra[] = { module, NULL };

  if (!agent->tokens)
    agent->tokens = kpr_token_ctx_new (flags, extra, error);
  else if (!kpr_token_ctx_add (agent->tokens, flags, extra, error))
    return NULL;
  return agent->tokens;
}

KprTokenCtx *
kpr_agent_get_tokens (KprAgent *agent, GError **error)
{
  /* Every module: each tried in a child first (a broken one is left out). */
  if (!agent->tokens_all
      && !load_tokens (agent, KPR_TOKEN_CTX_REGISTERED | KPR_TOKEN_CTX_SOFTWARE
                                | KPR_TOKEN_CTX_PROBE, NULL, error))
    return NULL;
  agent->tokens_all = TRUE;
  return agent->tokens;
}

KprTokenCtx *
kpr_agent_tokens_for (KprAgent *agent, const char *token_uri, const char *module,
                      GError **error)
{
  KprIdentity probe = { .token_uri = (char *) token_uri };
  gboolean software = FALSE;
  g_autofree char *label = token_uri ? kpr_identity_token_label (&probe, &software) : NULL;

  if (agent->tokens_all)
    return agent->tokens;
  if (module)
    return load_tokens (agent, 0, module, error);
  if (!token_uri || software)
    return load_tokens (agent, KPR_TOKEN_CTX_SOFTWARE, NULL, error);
  return kpr_agent_get_tokens (agent, error);
}

KprToken *
kpr_agent_token_for (KprAgent *agent, const KprIdentity *identity, gboolean login, GError **error)
{
  KprTokenCtx *ctx = kpr_agent_tokens_for (agent, identity->token_uri, identity->token_module,
                                           error);
  KprToken *token;

  if (!ctx)
    return NULL;
  token = kpr_token_ctx_find (ctx, identity->token_uri, error);
  if (!token)
    {
      g_prefix_error (error, "The token of “%s” is not available: ", identity->name);
      return NULL;
    }
  if (login && !kpr_agent_login (agent, token, error))
    return NULL;
  return token;
}

guint
kpr_agent_get_retry_after (KprAgent *agent)
{
  return agent->retry_after;
}

const char *
kpr_agent_get_renewal_note (KprAgent *agent)
{
  return agent->renewal_note;
}

KprEstClient *
kpr_agent_client_for (KprAgent *agent, const KprIdentity *identity, GError **error)
{
  g_autoptr (KprEstClient) client = kpr_est_client_new (identity->server, identity->label, error);
  g_autoptr (KprX509Stack) anchors = NULL;

  if (!client)
    return NULL;
  anchors = kpr_store_load_trust (agent->store, identity->name, error);
  if (!anchors || !kpr_est_client_set_trust_anchors (client, anchors, error))
    return NULL;
  return g_steal_pointer (&client);
}

gboolean
kpr_agent_remove_objects (KprAgent *agent, KprToken *token, GBytes *id, const char *why,
                          GError **error)
{
  return kpr_agent_remove_objects_of (agent, token, id, why, TRUE, error);
}

gboolean
kpr_agent_remove_objects_of (KprAgent *agent, KprToken *token, GBytes *id, const char *why,
                             gboolean sweep, GError **error)
{
  guint removed = 0;

  if (!id)
    return TRUE;
  if (!kpr_token_delete_objects_of (token, id, sweep, &removed, error))
    return FALSE;
  if (removed)
    kpr_agent_progress (agent, "Removed %u %s object%s from the token", removed, why,
                        removed == 1 ? "" : "s");
  return TRUE;
}

static const char *const needs_words[] = {
  [KPR_AGENT_NEEDS_NOTHING] = "",
  [KPR_AGENT_NEEDS_PIN] = "pin",
  [KPR_AGENT_NEEDS_SECRET_WORD] = "secret-word",
  [KPR_AGENT_NEEDS_PASSPHRASE] = "passphrase",
};

const char *
kpr_agent_needs_to_string (KprAgentNeeds needs)
{
  return (gsize) needs < G_N_ELEMENTS (needs_words) ? needs_words[needs] : "";
}

KprAgentNeeds
kpr_agent_needs_from_string (const char *word)
{
  for (gsize i = 1; word && i < G_N_ELEMENTS (needs_words); i++)
    if (g_str_equal (word, needs_words[i]))
      return (KprAgentNeeds) i;
  return KPR_AGENT_NEEDS_NOTHING;
}
