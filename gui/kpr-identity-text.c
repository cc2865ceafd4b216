/* kpr-identity-text.c — an identity in words (see kpr-identity-text.h). */
#include "config.h"

#include <openssl/bn.h>
#include <string.h>
#include <time.h>

#include "kpr-identity-text.h"

gint64
kpr_cert_time_unix (const ASN1_TIME *t)
{
  struct tm tm;

  if (!t || !ASN1_TIME_to_tm (t, &tm))
    return 0;
  return (gint64) timegm (&tm);
}

char *
kpr_cert_time_text (const ASN1_TIME *t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (kpr_cert_time_unix (t));

  return dt ? g_date_time_format (dt, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

char *
kpr_cert_name_text (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data;
  long len;
  char *text;

  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253);
  len = BIO_get_mem_data (bio, &data);
  text = g_strndup (data, len);
  BIO_free (bio);
  return text;
}

/* As `certkeeper show --json` prints it (BN_bn2hex). */
char *
kpr_cert_serial_text (X509 *cert)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (cert), NULL);
  char *hex = bn ? BN_bn2hex (bn) : NULL;
  char *copy = g_strdup (hex ? hex : "?");

  OPENSSL_free (hex);
  BN_free (bn);
  return copy;
}

char *
kpr_cert_fingerprint_text (X509 *cert, const EVP_MD *md)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GString *s = g_string_new (NULL);

  X509_digest (cert, md, digest, &len);
  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (s, i ? ":%02X" : "%02X", digest[i]);
  return g_string_free (s, FALSE);
}

/* "This computer" for the software token, else the token's label. */
char *
kpr_identity_where_text (const KprIdentity *id)
{
  g_auto (GStrv) parts = NULL;

  if (!id->token_uri)
    return g_strdup ("Unknown token");
  parts = g_strsplit (id->token_uri, ";", -1);
  for (char **p = parts; *p; p++)
    {
      const char *attr = g_str_has_prefix (*p, "pkcs11:") ? *p + strlen ("pkcs11:") : *p;
      if (g_str_has_prefix (attr, "token="))
        {
          g_autofree char *label = g_uri_unescape_string (attr + strlen ("token="), NULL);
          if (!label)
            break;
          if (g_str_equal (label, KPR_SOFTWARE_TOKEN_LABEL))
            return g_strdup ("This computer");
          return g_steal_pointer (&label);
        }
    }
  return g_strdup ("Unknown token");
}

const char *
kpr_identity_protection_text (const KprIdentity *id)
{
  return kpr_protection_to_string (id->protection);
}

char *
kpr_identity_expiry_text (const KprIdentity *id, gint64 now)
{
  gint64 not_after, days;

  if (!id->cert)
    return g_strdup (id->state == KPR_STATE_PENDING ? "waiting for the server"
                                                    : "no certificate yet");
  not_after = kpr_cert_time_unix (X509_get0_notAfter (id->cert));
  days = (not_after > now ? not_after - now : now - not_after) / (24 * 3600);
  if (not_after > now)
    return days ? g_strdup_printf ("expires in %" G_GINT64_FORMAT " day%s", days,
                                   days == 1 ? "" : "s")
                : g_strdup ("expires today");
  return days ? g_strdup_printf ("expired %" G_GINT64_FORMAT " day%s ago", days,
                                 days == 1 ? "" : "s")
              : g_strdup ("expired today");
}

char *
kpr_identity_subtitle_text (const KprIdentity *id, gint64 now)
{
  g_autofree char *where = kpr_identity_where_text (id);
  g_autofree char *expiry = kpr_identity_expiry_text (id, now);

  return g_strdup_printf ("%s · %s, %s · %s", where, kpr_identity_protection_text (id),
                          id->imported ? "imported" : "made on the token", expiry);
}

/* The badge: its text and its style class. */
const char *
kpr_identity_badge_text (const KprIdentity *id, gint64 now, const char **ret_class)
{
  switch (kpr_identity_status (id, now))
    {
    case KPR_STATUS_ACTIVE:
      if (kpr_identity_backup_missing (id))
        {
          *ret_class = "warning";
          return "Backup missing";
        }
      *ret_class = "success";
      return "Active";
    case KPR_STATUS_RENEW_DUE:
      *ret_class = "warning";
      return "Renewal due";
    case KPR_STATUS_EXPIRED:
      *ret_class = "error";
      return "Expired";
    case KPR_STATUS_PENDING:
      *ret_class = "accent";
      return "Pending";
    case KPR_STATUS_IN_PROGRESS:
      *ret_class = "accent";
      return "In progress";
    case KPR_STATUS_REVOKED:
      *ret_class = "dim-label";
      return "Revoked";
    case KPR_STATUS_FAILED:
    default:
      *ret_class = "error";
      return "Failed";
    }
}
