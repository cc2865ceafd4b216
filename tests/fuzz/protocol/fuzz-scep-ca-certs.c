/* fuzz-scep-ca-certs.c — the SCEP bootstrap parsers: GetCACert answers
 * (one DER certificate or a degenerate PKCS#7, media type unknown so both
 * are tried) and GetCACaps text. */
#include "config.h"

#include <stdint.h>

#include "kpr-scep-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (KprX509Stack) certs = kpr_scep_ca_certs_parse (NULL, data, size, NULL);
  KprScepCaps caps = kpr_scep_caps_parse (data, size);
  g_autofree char *names = kpr_scep_caps_to_string (caps);

  if (certs)
    {
      g_autoptr (KprX509Stack) cas = kpr_scep_ca_certs (certs);

      if (sk_X509_num (certs) <= 0 || sk_X509_num (cas) > sk_X509_num (certs))
        __builtin_trap ();
    }
  /* A capability is named exactly when it is set. */
  if ((caps == 0) != (names[0] == '\0'))
    __builtin_trap ();
  return 0;
}
