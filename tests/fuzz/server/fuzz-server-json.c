/* fuzz-server-json.c — the JSON bodies certkeeper-ca accepts: challenge
 * {"username":…} and revoke {"serial":…}. */
#include "config.h"

#include <stdint.h>

#include "kpr-server-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *name = kpr_parse_challenge_json ((const char *) data, size, NULL);
  g_autofree char *serial = kpr_parse_revoke_json ((const char *) data, size, NULL);

  if (name)
    g_assert (kpr_valid_username (name));
  if (serial)
    g_assert (serial[0] != '\0');
  return 0;
}
