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

char *
kpr_ossl_name_text (const X509_NAME *name)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *data;
  long len;

  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253);
  len = BIO_get_mem_data (bio, &data);
  return g_strndup (data, len);
}

char *
kpr_ossl_serial_hex (X509 *cert)
{
  g_autoptr (BIGNUM) bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (cert), NULL);
  char *hex = bn ? BN_bn2hex (bn) : NULL;
  char *copy = g_strdup (hex ? hex : "");

  OPENSSL_free (hex);
  return copy;
}
