/* fuzz-csrattrs.c — kpr_est_csrattrs_parse (application/csrattrs, DER). */
#include "config.h"

#include <stdint.h>

#include <openssl/evp.h>

#include "kpr-est-codec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static EVP_PKEY *key;
  g_autoptr (KprEstCsrAttrs) attrs = kpr_est_csrattrs_parse (data, size, NULL);

  if (!key)
    key = EVP_EC_gen ("P-256");
  if (attrs)
    {
      g_autofree char *name = kpr_est_csrattrs_key_name (attrs);

      (void) kpr_est_csrattrs_has (attrs, KPR_OID_EXTENSION_REQUEST);
      /* What the client makes of a hostile server's attributes. */
      (void) kpr_est_csrattrs_check_key (attrs, key, NULL);
    }
  return 0;
}
