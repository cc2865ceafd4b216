/* test-pin-text.c — kpr_agent_pin_error_text: a refused PIN said for a
 * person from each combination of the token's PIN flags, never with the
 * PKCS#11 constant; other errors are left alone. */
#include "config.h"

#include <string.h>

#include "kpr-agent.h"

static char *
text_for (int code, gboolean software, gboolean low, gboolean final, gboolean locked)
{
  KprAgentToken token = { .uri = "pkcs11:token=card", .label = "card", .software = software,
                          .pin_count_low = low, .pin_final_try = final, .pin_locked = locked };
  g_autoptr (GError) error = g_error_new (KPR_ERROR, code, "Login to token failed: CKR_PIN_INCORRECT");

  return kpr_agent_pin_error_text (error, &token);
}

static void
test_flags (void)
{
  g_autofree char *plain = text_for (KPR_ERROR_PIN_INCORRECT, FALSE, FALSE, FALSE, FALSE);
  g_autofree char *low = text_for (KPR_ERROR_PIN_INCORRECT, FALSE, TRUE, FALSE, FALSE);
  g_autofree char *final = text_for (KPR_ERROR_PIN_INCORRECT, FALSE, TRUE, TRUE, FALSE);
  g_autofree char *locked = text_for (KPR_ERROR_PIN_LOCKED, FALSE, FALSE, FALSE, TRUE);
  g_autofree char *soft = text_for (KPR_ERROR_PIN_INCORRECT, TRUE, FALSE, FALSE, FALSE);
  g_autofree char *other = text_for (KPR_ERROR_TOKEN, FALSE, FALSE, FALSE, FALSE);

  g_assert_true (g_str_has_prefix (plain, "Wrong PIN for “card”"));
  g_assert_true (g_str_has_prefix (low, "Wrong PIN — few tries left"));
  g_assert_true (g_str_has_prefix (final, "Wrong PIN — 1 try left"));
  g_assert_nonnull (strstr (locked, "blocked"));
  g_assert_nonnull (strstr (soft, "this computer’s key store"));
  for (const char *t, *const *p = (const char *const[]) { plain, low, final, locked, soft, NULL };
       (t = *p); p++)
    g_assert_null (strstr (t, "CKR_"));
  g_assert_null (other);
  g_assert_null (kpr_agent_pin_error_text (NULL, NULL));
}

static void
test_software_pin_rules (void)
{
  g_autofree char *short_ = kpr_software_pin_problem ("123", "123");
  g_autofree char *differ = kpr_software_pin_problem ("1234", "1235");
  g_autofree char *again = kpr_software_pin_problem ("1234", "");
  g_autofree char *ok = kpr_software_pin_problem ("1234", "1234");

  g_assert_nonnull (strstr (short_, "at least 4"));
  g_assert_nonnull (strstr (differ, "not the same"));
  g_assert_nonnull (strstr (again, "again"));
  g_assert_null (ok);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pin-text/flags", test_flags);
  g_test_add_func ("/pin-text/software-pin-rules", test_software_pin_rules);
  return g_test_run ();
}
