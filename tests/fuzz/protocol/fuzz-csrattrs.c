/* fuzz-csrattrs.c — kpr_est_csrattrs_parse (application/csrattrs, DER). */
#include "config.h"

#include <stdint.h>

#include "kpr-est-codec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (KprEstCsrAttrs) attrs = kpr_est_csrattrs_parse (data, size, NULL);

  if (attrs)
    (void) kpr_est_csrattrs_has (attrs, KPR_OID_EXTENSION_REQUEST);
  return 0;
}
