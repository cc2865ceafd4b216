/* kpr-pin-text.c — what a person reads when a PIN was refused.  The
 * token layer's message names the PKCS#11 return value (CKR_PIN_INCORRECT)
 * for logs and the CLI's detail line; a window shows this sentence, built
 * from the token's flags as they stand after the refusal.
 *
 * PKCS#11 reports no count of tries, only "count low", "final try" and
 * "locked" (CKF_USER_PIN_*): "1 try left" is exact, "few tries left" is
 * all a token says before that (SoftHSM sets it after one wrong PIN), and
 * a token that sets none of the flags gets no count rather than a made-up
 * one.
 */
#include "config.h"

#include "kpr-agent-private.h"

char *
kpr_agent_pin_error_text (const GError *error, const KprAgentToken *token)
{
  g_autofree char *whose = NULL;

  if (!error || error->domain != KPR_ERROR
      || (error->code != KPR_ERROR_PIN_INCORRECT && error->code != KPR_ERROR_PIN_LOCKED))
    return NULL;
  whose = !token          ? g_strdup ("the token")
          : token->software ? g_strdup ("this computer’s key store")
                            : g_strdup_printf ("“%s”", token->label);
  if (error->code == KPR_ERROR_PIN_LOCKED || (token && token->pin_locked))
    return g_strdup_printf ("The PIN of %s is blocked: %s", whose,
                            token && token->software
                              ? "restore your backup to use the key again."
                              : "ask whoever gave you the token to unblock it.");
  if (token && token->pin_final_try)
    return g_strdup_printf ("Wrong PIN — 1 try left before %s is blocked.", whose);
  if (token && token->pin_count_low)
    return g_strdup_printf ("Wrong PIN — few tries left before %s is blocked.", whose);
  return g_strdup_printf ("Wrong PIN for %s: nothing was changed. Try again.", whose);
}
