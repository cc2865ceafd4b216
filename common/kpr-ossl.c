/* kpr-ossl.c — OpenSSL helpers shared by every layer. */
#include "config.h"

#include "kpr-ossl.h"

#include <time.h>

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

gint64
kpr_ossl_time_unix (const ASN1_TIME *t)
{
  struct tm tm;

  return t && ASN1_TIME_to_tm (t, &tm) ? (gint64) timegm (&tm) : 0;
}

char *
kpr_ossl_time_text (const ASN1_TIME *t, const char *format)
{
  struct tm tm;
  char text[128];

  if (!t || !ASN1_TIME_to_tm (t, &tm))
    return NULL;
  /* @format comes from our own callers (a literal each), never from input. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  if (!strftime (text, sizeof text, format, &tm))
    return NULL;
#pragma GCC diagnostic pop
  return g_strdup (text);
}

char *
kpr_time_iso (gint64 unix_utc)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_utc);

  return dt ? g_date_time_format (dt, KPR_OSSL_TIME_ISO) : g_strdup ("-");
}

/* A table rather than a printf per byte: a listing writes a key id and a
 * key URI for each of 1 000 identities. */
void
kpr_hex_append (GString *out, const void *data, gsize len, const char *prefix, gboolean upper)
{
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  const guint8 *d = data;

  for (gsize i = 0; i < len; i++)
    {
      g_string_append (out, prefix);
      g_string_append_c (out, digits[d[i] >> 4]);
      g_string_append_c (out, digits[d[i] & 0xf]);
    }
}

char *
kpr_hex (const void *data, gsize len)
{
  GString *s = g_string_sized_new (len * 2 + 1);

  kpr_hex_append (s, data, len, "", FALSE);
  return g_string_free (s, FALSE);
}

char *
kpr_time_for_people (gint64 unix_utc)
{
  time_t t = (time_t) unix_utc;
  struct tm tm;
  char text[128];
  char *utf8;

  /* strftime, not GDateTime: the C library's rendering, as date(1)
   * prints it; returned in UTF-8 like every other string. */
  if (!unix_utc || !localtime_r (&t, &tm))
    return g_strdup ("-");
  /* The locale decides how many digits of the year it shows. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-y2k"
  if (!strftime (text, sizeof text, "%c", &tm))
    return g_strdup ("-");
#pragma GCC diagnostic pop
  utf8 = g_locale_to_utf8 (text, -1, NULL, NULL, NULL);
  return utf8 ? utf8 : g_strdup (text);
}

char *
kpr_ossl_fingerprint (X509 *cert, const EVP_MD *md)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GString *s;

  if (!cert || !X509_digest (cert, md, digest, &len))
    return NULL;
  s = g_string_sized_new (len * 3);
  kpr_hex_append (s, digest, len, ":", TRUE);
  g_string_erase (s, 0, 1); /* no colon before the first pair */
  return g_string_free (s, FALSE);
}
