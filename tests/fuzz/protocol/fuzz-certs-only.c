/* fuzz-certs-only.c — kpr_est_certs_only_parse (application/pkcs7-mime
 * certs-only, DER) and the build of what it returns. */
#include "config.h"

#include <stdint.h>

#include "kpr-est-codec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (KprX509Stack) certs = kpr_est_certs_only_parse (data, size, NULL);

  if (certs)
    {
      g_autoptr (GBytes) again = kpr_est_certs_only_build (certs, NULL);
      g_autofree char *fp = kpr_est_cert_fingerprint (sk_X509_value (certs, 0));

      /* What we build from parsed certificates parses again. */
      if (again)
        {
          g_autoptr (KprX509Stack) back = kpr_est_certs_only_parse (
            g_bytes_get_data (again, NULL), g_bytes_get_size (again), NULL);

          if (!back || sk_X509_num (back) != sk_X509_num (certs))
            __builtin_trap ();
        }
      if (fp && fp[0] == '\0')
        __builtin_trap ();
    }
  return 0;
}
