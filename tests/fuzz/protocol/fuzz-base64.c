/* fuzz-base64.c — the tolerant base64 body decoder, then the decoded bytes
 * through the certs-only parser as a client would, plus an encode/decode
 * round trip. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "kpr-est-codec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) der = kpr_est_base64_decode ((const char *) data, size, NULL);

  if (der)
    {
      g_autoptr (KprX509Stack) certs = kpr_est_certs_only_parse (g_bytes_get_data (der, NULL),
                                                                 g_bytes_get_size (der), NULL);
      g_autofree char *enc = kpr_est_base64_encode (g_bytes_get_data (der, NULL),
                                                    g_bytes_get_size (der));
      g_autoptr (GBytes) back = kpr_est_base64_decode (enc, strlen (enc), NULL);

      /* Decoding what we encoded gives the same bytes. */
      if (certs && sk_X509_num (certs) <= 0)
        __builtin_trap ();
      if (!back || !g_bytes_equal (back, der))
        __builtin_trap ();
    }
  return 0;
}
