/* kpr-session.c — our raw session on a token, and logging in.
 *
 * Login is a raw C_Login on our session, not PKCS11_login(): libp11 0.4.12
 * keeps a plain copy of the PIN on the heap for as long as the process
 * lives (to log in again after a fork), which we measured; C_Login keeps
 * none.  PKCS#11 login state belongs to the application, so the sessions
 * the token-backed EVP_PKEYs open (kpr-pkey.c) are logged in with ours.
 * Never PKCS11_open_session() (it closes every session on the slot) nor
 * PKCS11_logout() (it logs the whole process out) — DESIGN §3.
 */
#include "config.h"

#include "kpr-token-private.h"

CK_SESSION_HANDLE
kpr_token_session (KprToken *token, GError **error)
{
  CK_FLAGS flags = CKF_SERIAL_SESSION;
  CK_RV rv;

  if (token->session)
    {
      CK_SESSION_INFO si;
      /* A token pulled out and put back invalidates sessions. */
      if (token->module->fn->C_GetSessionInfo (token->session, &si) == CKR_OK)
        return token->session;
      token->session = 0;
    }
  if (!token->info.write_protected)
    flags |= CKF_RW_SESSION;
  rv = token->module->fn->C_OpenSession (token->slot_id, flags, NULL, NULL, &token->session);
  if (rv != CKR_OK)
    {
      token->session = 0;
      kpr_set_ckr_error (error, rv, "Cannot open a session on token “%s”", token->info.label);
      return 0;
    }
  return token->session;
}

void
kpr_token_close_session (KprToken *token)
{
  if (token->session)
    token->module->fn->C_CloseSession (token->session);
  token->session = 0;
}

gboolean
kpr_token_is_logged_in (KprToken *token)
{
  CK_SESSION_INFO si;
  CK_SESSION_HANDLE session = kpr_token_session (token, NULL);

  if (!session || token->module->fn->C_GetSessionInfo (session, &si) != CKR_OK)
    return FALSE;
  return si.state == CKS_RW_USER_FUNCTIONS || si.state == CKS_RO_USER_FUNCTIONS;
}

gboolean
kpr_token_login (KprToken *token, KprPinFunc pin_func, gpointer user_data, GError **error)
{
  g_autoptr (KprSecret) pin = NULL;

  if (!token->info.login_required || kpr_token_is_logged_in (token))
    return TRUE;

  /* Fresh flags: the person must see "final try" before typing, and a
   * blocked PIN must not be tried at all. */
  if (!kpr_token_update_info (token, error))
    return FALSE;
  if (token->info.pin_locked)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PIN_LOCKED,
                   "The PIN of token “%s” is blocked (CKF_USER_PIN_LOCKED)", token->info.label);
      return FALSE;
    }
  if (!pin_func)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED,
                   "Token “%s” needs its PIN and there is no way to ask for it",
                   token->info.label);
      return FALSE;
    }
  pin = pin_func (&token->info, user_data, error);
  if (!pin)
    return FALSE;

  {
    CK_SESSION_HANDLE session = kpr_token_session (token, error);
    CK_RV rv;

    if (!session)
      return FALSE;
    rv = token->module->fn->C_Login (session, CKU_USER, (CK_UTF8CHAR_PTR) pin->data, pin->len);
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
      return TRUE;
    /* Re-read the flags so the message can say how many tries are left. */
    (void) kpr_token_update_info (token, NULL);
    if (token->info.pin_locked)
      g_set_error (error, KPR_ERROR, KPR_ERROR_PIN_LOCKED,
                   "The PIN of token “%s” was wrong and is now blocked: %s",
                   token->info.label, kpr_ckr_name (rv));
    else
      kpr_set_ckr_error (error, rv, "Login to token “%s” failed%s", token->info.label,
                         token->info.pin_final_try ? " (one try left)" : "");
  }
  return FALSE;
}
