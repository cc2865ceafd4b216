/* kpr-tokens.c — tokens as the front ends see them.  The window and the
 * command ask the agent which tokens there are and answer its PIN
 * questions about them; they get copies (KprAgentToken) rather than the
 * token layer's objects, so kpr-agent.h need not re-export pkcs11/ and a
 * front end cannot reach past the agent to a token. */
#include "config.h"

#include <string.h>

#include "kpr-agent-private.h"

KprAgentToken *
kpr_agent_token_from_info (const KprTokenInfo *info)
{
  KprAgentToken *t = g_new0 (KprAgentToken, 1);

  t->uri = g_strdup (info->uri);
  t->label = g_strdup (info->label);
  t->description = g_strstrip (g_strdup_printf ("%s %s",
                                                info->manufacturer ? info->manufacturer : "",
                                                info->model ? info->model : ""));
  t->software = info->software;
  t->initialized = info->initialized;
  t->pin_locked = info->pin_locked;
  t->pin_count_low = info->pin_count_low;
  t->pin_final_try = info->pin_final_try;
  G_STATIC_ASSERT (sizeof t->can_generate == sizeof info->can_generate);
  memcpy (t->can_generate, info->can_generate, sizeof t->can_generate);
  return t;
}

KprAgentToken *
kpr_agent_token_copy (const KprAgentToken *token)
{
  KprAgentToken *t;

  if (!token)
    return NULL;
  t = g_memdup2 (token, sizeof *token);
  t->uri = g_strdup (token->uri);
  t->label = g_strdup (token->label);
  t->description = g_strdup (token->description);
  return t;
}

void
kpr_agent_token_free (KprAgentToken *token)
{
  if (!token)
    return;
  g_free (token->uri);
  g_free (token->label);
  g_free (token->description);
  g_free (token);
}

GPtrArray *
kpr_agent_list_tokens (KprAgent *agent, GError **error)
{
  KprTokenCtx *ctx = kpr_agent_get_tokens (agent, error);
  g_autoptr (GPtrArray) out = NULL;
  GPtrArray *tokens;

  if (!ctx)
    return NULL;
  /* Someone may have plugged a token in since the context was loaded. */
  if (!kpr_token_ctx_refresh (ctx, error))
    return NULL;
  tokens = kpr_token_ctx_list (ctx);
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) kpr_agent_token_free);
  for (guint i = 0; tokens && i < tokens->len; i++)
    {
      KprToken *token = g_ptr_array_index (tokens, i);

      /* The PIN state shown must be today's, not the one read at load. */
      kpr_token_update_info (token, NULL);
      if (kpr_token_get_info (token)->spare)
        continue;
      g_ptr_array_add (out, kpr_agent_token_from_info (kpr_token_get_info (token)));
    }
  return g_steal_pointer (&out);
}

/* The token layer asks with its own KprTokenInfo; the front ends answer
 * questions about a KprAgentToken. */
static KprSecret *
agent_pin (const KprTokenInfo *info, gpointer data, GError **error)
{
  KprAgent *agent = data;
  g_autoptr (KprAgentToken) token = kpr_agent_token_from_info (info);

  if (!agent->ui.pin)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED,
                   "The token “%s” needs its PIN and nobody can be asked for it", info->label);
      return NULL;
    }
  return agent->ui.pin (token, agent->ui.data, error);
}

gboolean
kpr_agent_login (KprAgent *agent, KprToken *token, GError **error)
{
  return kpr_token_login (token, agent_pin, agent, error);
}

char *
kpr_identity_token_label (const KprIdentity *id, gboolean *ret_software)
{
  g_auto (GStrv) attrs = NULL;
  char *label = NULL;

  if (id->token_uri && g_str_has_prefix (id->token_uri, "pkcs11:"))
    {
      attrs = g_strsplit (id->token_uri + strlen ("pkcs11:"), ";", -1);
      for (char **a = attrs; *a && !label; a++)
        if (g_str_has_prefix (*a, "token="))
          label = g_uri_unescape_string (*a + strlen ("token="), NULL);
    }
  if (ret_software)
    *ret_software = label && g_str_equal (label, KPR_SOFTWARE_TOKEN_LABEL);
  return label;
}
