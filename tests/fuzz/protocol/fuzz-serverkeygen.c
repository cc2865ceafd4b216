/* fuzz-serverkeygen.c — kpr_est_serverkeygen_parse.  The first line of the
 * input is the Content-Type header value, the rest the multipart body. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "kpr-est-codec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nl = memchr (data, '\n', size);
  g_autofree char *ct = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  gsize ct_len;

  if (!nl)
    return 0;
  ct_len = (gsize) (nl - data);
  if (memchr (data, '\0', ct_len))
    return 0; /* a header value cannot hold NUL */
  ct = g_strndup ((const char *) data, ct_len);
  kpr_est_serverkeygen_parse (ct, nl + 1, size - ct_len - 1, &key, &certs, NULL);
  return 0;
}
