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

char *
kpr_fingerprint_groups_text (const char *fingerprint)
{
  GString *out = g_string_new (NULL);
  guint n = 0;

  for (const char *p = fingerprint; p && *p; p++)
    {
      if (!g_ascii_isxdigit (*p))
        continue;
      if (n > 0 && n % 16 == 0)
        g_string_append_c (out, '\n');
      else if (n > 0 && n % 4 == 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, g_ascii_toupper (*p));
      n++;
    }
  return g_string_free (out, FALSE);
}

char *
kpr_identity_where_long_text (const KprIdentity *id)
{
  g_autofree char *where = kpr_identity_where_text (id);
  gboolean software = FALSE;
  g_autofree char *label = kpr_identity_token_label (id, &software);
  const char *how;

  switch (id->protection)
    {
    case KPR_PROTECTION_EXPORTABLE:
      how = "can be copied into a backup until you lock it";
      break;
    case KPR_PROTECTION_STRONG:
      how = "locked; the PIN is needed each time it is used";
      break;
    default:
      how = software ? "locked; your programs use it without the PIN"
                     : "it never leaves the token; your programs use it without the PIN";
      break;
    }
  if (software)
    return g_strdup_printf ("%s (your home folder) — %s", where, how);
  return g_strdup_printf ("The token “%s” — %s", where, how);
}

char *
kpr_date_text (gint64 unix_time)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (unix_time);

  return dt ? g_date_time_format (dt, "%x") : g_strdup ("?");
}

char *
kpr_identity_backup_text (const KprIdentity *id)
{
  if (id->backup_when)
    {
      g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (id->backup_when, NULL);
      g_autofree char *day = dt ? kpr_date_text (g_date_time_to_unix (dt))
                                : g_strdup (id->backup_when);

      if (id->backup_where && *id->backup_where)
        return g_strdup_printf ("Backed up on %s to %s", day, id->backup_where);
      return g_strdup_printf ("Backed up on %s", day);
    }
  if (kpr_identity_backup_missing (id))
    return g_strdup ("Not yet — until there is one, a lost computer means asking for a new "
                     "certificate");
  if (id->protection == KPR_PROTECTION_EXPORTABLE)
    return g_strdup ("None");
  return g_strdup ("None — the key cannot be copied");
}

/* "KINGSTON/alice.p12": the file and its folder, which is what names a
 * USB stick or a folder a person chose. */
static char *
short_path (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *folder = g_path_get_basename (dir);
  g_autofree char *file = g_path_get_basename (path);

  if (g_str_equal (folder, ".") || g_str_equal (folder, G_DIR_SEPARATOR_S))
    return g_steal_pointer (&file);
  return g_build_filename (folder, file, NULL);
}

char *
kpr_event_sentence (const KprEvent *event)
{
  g_autofree char *until = event->not_after ? kpr_date_text (event->not_after) : NULL;
  g_autofree char *where = event->where ? short_path (event->where) : NULL;

  switch (event->type)
    {
    case KPR_EVENT_ENROLLED:
      return until ? g_strdup_printf ("Certificate installed — valid until %s", until)
                   : g_strdup ("Certificate installed");
    case KPR_EVENT_RENEWED:
      return until ? g_strdup_printf ("Renewed — new certificate valid until %s", until)
                   : g_strdup ("Renewed");
    case KPR_EVENT_BACKED_UP:
      return where ? g_strdup_printf ("Backed up to %s", where) : g_strdup ("Backed up");
    case KPR_EVENT_LOCKED:
      return g_strdup ("Key locked — it can no longer be copied");
    case KPR_EVENT_IMPORTED:
      return g_strdup_printf ("Imported%s%s as %s", where ? " from " : "", where ? where : "",
                              event->exportable ? "exportable" : "non-exportable");
    case KPR_EVENT_REVOKED:
      return g_strdup ("Revoked — the certificate can no longer be used");
    case KPR_EVENT_BROWSERS:
      return g_strdup_printf ("Browsers: %s", event->detail ? event->detail : "checked");
    default:
      return g_strdup ("Something certkeeper does not describe yet");
    }
}
