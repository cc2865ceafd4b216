/* fuzz-server-proxy.c — the PROXY protocol header certkeeper-ca reads off
 * a connection before TLS (serve --proxy-protocol, behind haproxy). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "kpr-server-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *address = NULL;
  guint16 port = 0;
  gsize used = 0;

  if (size > KPR_PROXY_HEADER_MAX)
    size = KPR_PROXY_HEADER_MAX;
  if (kpr_parse_proxy_header (data, size, &used, &address, &port, NULL))
    g_assert (used > 0 && used <= size && (!address || strlen (address) < 46));
  return 0;
}
