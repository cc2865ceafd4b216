/* kpr-ossl.c — OpenSSL helpers shared by every layer. */
#include "config.h"

#include "kpr-ossl.h"

#include <openssl/err.h>

char *
kpr_ossl_error_string (void)
{
  unsigned long code = ERR_peek_last_error ();
  char buf[256];

  if (code == 0)
    return g_strdup ("no detail from OpenSSL");
  ERR_error_string_n (code, buf, sizeof buf);
  ERR_clear_error ();
  return g_strdup (buf);
}
