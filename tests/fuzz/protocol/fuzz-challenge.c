/* fuzz-challenge.c — kpr_est_challenge_parse (the certkeeper-ca challenge
 * answer, JSON). */
#include "config.h"

#include <stdint.h>

#include "kpr-est.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (KprEstChallenge) c = kpr_est_challenge_parse ((const char *) data, size, NULL);

  /* What the parser accepts is safe to show as text. */
  if (c && !g_utf8_validate (c->destination, -1, NULL))
    __builtin_trap ();
  return 0;
}
