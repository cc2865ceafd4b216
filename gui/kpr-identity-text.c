/* kpr-identity-text.c — an identity in words (see kpr-identity-text.h). */
#include "config.h"

#include <openssl/bn.h>
#include <string.h>
#include <time.h>

#include "kpr-identity-text.h"

char *
kpr_cert_time_text (const ASN1_TIME *t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (kpr_ossl_time_unix (t));

  return dt ? g_date_time_format (dt, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

/* "This computer" for the software token, else the token's label. */
char *
kpr_identity_where_text (const KprIdentity *id)
{
  gboolean software;
  char *label = kpr_identity_token_label (id, &software);

  if (!label)
    return g_strdup ("Unknown token");
  if (software)
    {
      g_free (label);
      return g_strdup ("This computer");
    }
  return label;
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
  /* What the CA's CRL said (issue 13, item 3). */
  if (id->revoked_when)
    return g_strdup_printf ("revoked — %s (%.10s)", kpr_identity_revoked_text (id),
                            id->revoked_when);
  not_after = kpr_ossl_time_unix (X509_get0_notAfter (id->cert));
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
                          kpr_key_origin_text (id->key_origin), expiry);
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
