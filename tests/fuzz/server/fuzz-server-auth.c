/* fuzz-server-auth.c — the Authorization header parser of certkeeper-ca
 * (HTTP Basic: username + secret word). */
#include "config.h"

#include <stdint.h>

#include "kpr-server-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *user = NULL;
  g_autoptr (KprSecret) password = NULL;

  if (kpr_parse_basic_auth ((const char *) data, size, &user, &password, NULL))
    g_assert (kpr_valid_username (user) && password->len > 0
              && password->len <= KPR_PASSWORD_MAX);
  return 0;
}
