/* kpr-software-token.c — this computer's key store (the SoftHSM token
 * "certkeeper") created by a front end, not only by "certkeeper token
 * init-software": the window's first run must not end in a terminal
 * command (issue 10, item 5).
 *
 * A person chooses one PIN.  The SO PIN (it would reset a forgotten PIN)
 * is random and erased at once: SoftHSM never locks a PIN after wrong
 * tries, so its only use would be that reset, and a person who forgot
 * the PIN restores the backup instead — asking for a second secret
 * nobody will remember would only get a weak one.
 */
#include "config.h"

#include <string.h>

#include <openssl/rand.h>

#include "kpr-agent-private.h"

char *
kpr_software_pin_problem (const char *pin, const char *again)
{
  gsize len = pin ? strlen (pin) : 0;

  if (len < KPR_SOFTWARE_PIN_MIN)
    return g_strdup_printf ("Too short: a PIN has at least %d characters.", KPR_SOFTWARE_PIN_MIN);
  if (len > KPR_SOFTWARE_PIN_MAX)
    return g_strdup_printf ("Too long: a PIN has at most %d characters.", KPR_SOFTWARE_PIN_MAX);
  if (!again || !*again)
    return g_strdup ("Type the same PIN again to confirm it.");
  if (strcmp (pin, again) != 0)
    return g_strdup ("The two PINs are not the same.");
  return NULL;
}

static KprSecret *
random_so_pin (GError **error)
{
  unsigned char raw[16];
  char hex[2 * sizeof raw + 1];
  KprSecret *so_pin;

  if (RAND_bytes (raw, sizeof raw) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "No random bytes for the software token");
      return NULL;
    }
  for (gsize i = 0; i < sizeof raw; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", raw[i]);
  so_pin = kpr_secret_new (hex, strlen (hex));
  kpr_memory_erase (raw, sizeof raw);
  kpr_memory_erase (hex, sizeof hex);
  return so_pin;
}

KprAgentToken *
kpr_agent_create_software_token (KprAgent *agent, const KprSecret *pin, GError **error)
{
  g_autoptr (KprSecret) so_pin = NULL;
  g_autofree char *problem = NULL;
  KprTokenCtx *ctx;
  KprToken *token;

  g_return_val_if_fail (pin != NULL, NULL);
  problem = kpr_software_pin_problem (pin->data, pin->data);
  if (problem)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_WEAK_SECRET, "%s", problem);
      return NULL;
    }
  ctx = kpr_agent_tokens_for (agent, NULL, NULL, error);
  if (!ctx || !(so_pin = random_so_pin (error)))
    return NULL;
  token = kpr_token_init_software (ctx, pin, so_pin, error);
  if (!token)
    return NULL;
  kpr_agent_progress (agent, "Created the software token “%s”", kpr_token_get_info (token)->label);
  return kpr_agent_token_from_info (kpr_token_get_info (token));
}
