/* fuzz-server-csr.c — what certkeeper-ca does with an enrollment body:
 * RFC 8951 base64 (or raw DER), the shared CSR codec, then the server's
 * key policy and the fields it reads. */
#include "config.h"

#include <stdint.h>

#include "kpr-est-codec.h"
#include "kpr-server-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_csr (const guint8 *der, gsize len)
{
  g_autoptr (X509_REQ) csr = kpr_est_csr_parse (der, len, NULL);
  STACK_OF (X509_EXTENSION) *exts;

  if (!csr)
    return;
  kpr_policy_check_key (X509_REQ_get0_pubkey (csr), NULL);
  g_free (X509_NAME_oneline (X509_REQ_get_subject_name (csr), NULL, 0));
  exts = X509_REQ_get_extensions (csr);
  sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
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
