/* fuzz-server-csr.c — what certkeeper-ca does with an enrollment body:
 * RFC 8951 base64 (or raw DER), the server's own PKCS#10 parser
 * (kpr-csr.c: its templates, the key built from its parts, the signature
 * check), then the key policy. */
#include "config.h"

#include <stdint.h>

#include "kpr-est-codec.h"
#include "kpr-server-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_csr (const guint8 *der, gsize len)
{
  g_autoptr (KprCsr) csr = kpr_csr_parse (der, len, NULL);

  if (!csr)
    return;
  g_assert (csr->pub && csr->pub->key && csr->subject);
  kpr_policy_check_key (csr->pub->key, NULL);
  g_free (X509_NAME_oneline (csr->subject, NULL, 0));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) der = NULL;

  if (size > KPR_EST_BODY_MAX)
    return 0;
  check_csr (data, size);
  der = kpr_est_base64_decode ((const char *) data, size, NULL);
  if (der)
    check_csr (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  return 0;
}
