/* kpr-revocation.c — what the CA's CRL says of our certificates.
 *
 * certkeeper-ca revokes a user's other certificates when it issues a new
 * one (the second seed's rule: a new certificate expires the previous
 * one), so an identity can be superseded by another identity of the same
 * account, here or on another computer.  The client learns it from the
 * CRL — the one the certificate names (its http:// or https:// CRL
 * distribution point, as other CAs publish theirs), else an EST server's
 * GET /crl (certkeeper-ca's) — DER, verified against the identity's trust
 * anchor, cached under the state dir for at most CRL_MAX_AGE: `status`, every
 * renewal and every new certificate (enroll, renew, install, import) ask
 * it.  A revoked identity becomes REVOKED with the date and the reason
 * (its key stays on the token until `delete`) and is never renewed again,
 * so two identities of one account cannot renew each other away in turn
 * (issue 13, item 3). */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "kpr-agent-private.h"
#include "kpr-lifecycle.h"

/* A cached CRL older than this is fetched again (and never one past its
 * nextUpdate). */
#define CRL_MAX_AGE (10 * 60)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_CRL, X509_CRL_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_ENUMERATED, ASN1_ENUMERATED_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CRL_DIST_POINTS, CRL_DIST_POINTS_free)

static char *
cache_path (KprAgent *agent, const char *source)
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, source, -1);
  g_autofree char *file = g_strconcat (sum, ".der", NULL);

  return g_build_filename (kpr_store_get_dir (agent->store), "crl", file, NULL);
}

/* The first http:// or https:// URI among @cert's CRL distribution points
 * (full names only: a name relative to the issuer needs a directory we do
 * not have); NULL when there is none. */
static char *
distribution_point (X509 *cert)
{
  g_autoptr (CRL_DIST_POINTS) points = X509_get_ext_d2i (cert, NID_crl_distribution_points,
                                                         NULL, NULL);

  for (int i = 0; points && i < sk_DIST_POINT_num (points); i++)
    {
      DIST_POINT_NAME *name = sk_DIST_POINT_value (points, i)->distpoint;

      for (int j = 0; name && name->type == 0 && j < sk_GENERAL_NAME_num (name->name.fullname); j++)
        {
          GENERAL_NAME *gn = sk_GENERAL_NAME_value (name->name.fullname, j);
          const char *uri;
          int len;

          if (gn->type != GEN_URI)
            continue;
          uri = (const char *) ASN1_STRING_get0_data (gn->d.uniformResourceIdentifier);
          len = ASN1_STRING_length (gn->d.uniformResourceIdentifier);
          if (len > 0 && memchr (uri, '\0', len) == NULL
              && (g_ascii_strncasecmp (uri, "http://", 7) == 0
                  || g_ascii_strncasecmp (uri, "https://", 8) == 0))
            return g_strndup (uri, len);
        }
    }
  return NULL;
}

static gboolean
crl_current (X509_CRL *crl, gint64 now)
{
  const ASN1_TIME *next = X509_CRL_get0_nextUpdate (crl);

  return !next || kpr_ossl_time_unix (next) > now;
}

static X509_CRL *
cached (const char *path, gint64 now)
{
  g_autofree char *data = NULL;
  struct stat st;
  gsize len;
  X509_CRL *crl;

  if (stat (path, &st) < 0 || st.st_mtime > now + 60 || now - st.st_mtime > CRL_MAX_AGE
      || !g_file_get_contents (path, &data, &len, NULL)
      || !(crl = kpr_protocol_crl_from_der ((const guint8 *) data, len)))
    return NULL;
  if (!crl_current (crl, now))
    g_clear_pointer (&crl, X509_CRL_free);
  return crl;
}

static void
cache_store (const char *path, X509_CRL *crl)
{
  g_autofree char *dir = g_path_get_dirname (path);
  unsigned char *der = NULL;
  int len = i2d_X509_CRL (crl, &der);

  /* A cache: what cannot be written is fetched again next time. */
  if (len > 0 && g_mkdir_with_parents (dir, 0700) == 0)
    g_file_set_contents_full (path, (const char *) der, len, G_FILE_SET_CONTENTS_CONSISTENT,
                              0600, NULL);
  OPENSSL_free (der);
}

/* Signed by one of the identity's trust anchors (certkeeper-ca signs its
 * CRL with the CA key that is the anchor). */
static gboolean
crl_trusted (KprAgent *agent, const KprIdentity *id, const char *source, X509_CRL *crl,
             GError **error)
{
  g_autoptr (KprX509Stack) anchors = kpr_store_load_trust (agent->store, id->name, NULL);

  for (int i = 0; anchors && i < sk_X509_num (anchors); i++)
    {
      X509 *a = sk_X509_value (anchors, i);

      if (X509_NAME_cmp (X509_get_subject_name (a), X509_CRL_get_issuer (crl)) == 0
          && X509_CRL_verify (crl, X509_get0_pubkey (a)) == 1)
        return TRUE;
    }
  ERR_clear_error ();
  g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
               "The CRL from %s is not signed by the CA “%s” trusts", source, id->name);
  return FALSE;
}

/* Where @id's CRL is asked for: its distribution point, else its EST
 * server; NULL when neither (a SCEP or CMP CA that names none). */
static char *
crl_source (const KprIdentity *id)
{
  char *point = distribution_point (id->cert);

  if (point || id->protocol != KPR_PROTOCOL_EST || !id->server)
    return point;
  return g_strdup (id->server);
}

static X509_CRL *
get_crl (KprAgent *agent, const KprIdentity *id, const char *source, gboolean fresh,
         GError **error)
{
  g_autofree char *path = cache_path (agent, source);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509_CRL) crl = NULL;

  if (!fresh && (crl = cached (path, now)))
    return g_steal_pointer (&crl);
  /* status must not hang on a server that is away: 30 s at most. */
  if (g_strcmp0 (source, id->server) != 0)
    crl = kpr_protocol_fetch_crl (source, 30, error);
  else if ((client = kpr_agent_client_for (agent, id, error)))
    {
      kpr_est_client_set_timeouts (client, 10, 30);
      crl = kpr_est_client_crl (client, error);
    }
  if (!crl || !crl_trusted (agent, id, source, crl, error))
    return NULL;
  cache_store (path, crl);
  return g_steal_pointer (&crl);
}

static const char *
reason_name (long code)
{
  switch (code)
    {
    case CRL_REASON_KEY_COMPROMISE:
      return "key-compromise";
    case CRL_REASON_SUPERSEDED:
      return "superseded";
    case CRL_REASON_CESSATION_OF_OPERATION:
      return "cessation";
    default:
      return "unspecified";
    }
}

const char *
kpr_identity_revoked_text (const KprIdentity *id)
{
  if (g_strcmp0 (id->revoked_reason, "superseded") == 0)
    return "replaced by a newer certificate";
  if (g_strcmp0 (id->revoked_reason, "cessation") == 0)
    return "the account was closed";
  if (g_strcmp0 (id->revoked_reason, "key-compromise") == 0)
    return "its key was reported lost";
  return "revoked by the server";
}

/* Only a certificate in plain use is judged: during a renewal the old
 * certificate is revoked by the renewal itself, which then finishes.
 * The CRL's source (crl_source) is returned in *@ret_source. */
static gboolean
judged (const KprIdentity *id, char **ret_source)
{
  *ret_source = NULL;
  if (id->state != KPR_STATE_ACTIVE || !id->cert)
    return FALSE;
  *ret_source = crl_source (id);
  return *ret_source != NULL;
}

/* Whether @crl lists @id's certificate; if so @id becomes REVOKED. */
static gboolean
apply (KprAgent *agent, KprIdentity *id, X509_CRL *crl, gboolean *ret_revoked, GError **error)
{
  X509_REVOKED *rev = NULL;
  g_autoptr (ASN1_ENUMERATED) code = NULL;
  g_autofree char *serial = NULL;

  *ret_revoked = FALSE;
  if (X509_NAME_cmp (X509_CRL_get_issuer (crl), X509_get_issuer_name (id->cert)) != 0
      || X509_CRL_get0_by_serial (crl, &rev, X509_get0_serialNumber (id->cert)) != 1)
    return TRUE;
  code = X509_REVOKED_get_ext_d2i (rev, NID_crl_reason, NULL, NULL);
  g_free (id->revoked_reason);
  g_free (id->revoked_when);
  id->revoked_reason = g_strdup (reason_name (code ? ASN1_ENUMERATED_get (code) : 0));
  id->revoked_when = kpr_ossl_time_text (X509_REVOKED_get0_revocationDate (rev), KPR_OSSL_TIME_ISO);
  serial = kpr_ossl_serial_hex (id->cert);
  kpr_store_audit (agent->store, id->name, "certificate serial %s found revoked on the CA's CRL "
                   "(%s, %s)", serial, id->revoked_reason, id->revoked_when ? id->revoked_when : "-");
  if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_REVOKED, error))
    return FALSE;
  *ret_revoked = TRUE;
  return TRUE;
}

gboolean
kpr_agent_stop_if_revoked (KprAgent *agent, KprIdentity *id, GError **error)
{
  g_autoptr (X509_CRL) crl = NULL;
  g_autofree char *source = NULL;
  gboolean revoked = FALSE;

  /* A CA that cannot be asked now does not stop a renewal: the renewal
   * itself asks the same server. */
  if (!judged (id, &source) || !(crl = get_crl (agent, id, source, FALSE, NULL)))
    return FALSE;
  if (!apply (agent, id, crl, &revoked, error))
    return TRUE;
  if (revoked)
    g_set_error (error, KPR_ERROR, KPR_ERROR_REJECTED,
                 "“%s” is revoked (%s, %s) and is not renewed: delete it with 'certkeeper delete "
                 "%s', and enroll again only if this computer should have the account's "
                 "certificate", id->name, kpr_identity_revoked_text (id),
                 id->revoked_when ? id->revoked_when : "-", id->name);
  return revoked;
}

/* kpr_agent_check_revocations, not judging the identity named @except. */
static guint
check_revocations (KprAgent *agent, const char *server, const char *username, const char *except,
                   gboolean fresh, char **ret_problem)
{
  g_auto (GStrv) names = kpr_store_list (agent->store, NULL);
  g_autoptr (GHashTable) crls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) X509_CRL_free);
  g_autoptr (GString) problems = g_string_new (NULL);
  guint found = 0;

  for (char **n = names; n && *n; n++)
    {
      g_autoptr (KprIdentity) id = NULL;
      g_autoptr (GError) local = NULL;
      g_autofree char *source = NULL;
      X509_CRL *crl;
      gboolean revoked = FALSE;

      if (except && g_str_equal (*n, except))
        continue;
      /* The brief record (the list cache) first: only an identity of the
       * account in plain use is read whole, certificate and all. */
      id = kpr_store_load_brief (agent->store, *n, NULL);
      if (!id || (server && g_strcmp0 (id->server, server) != 0)
          || (username && g_strcmp0 (id->username, username) != 0)
          || id->state != KPR_STATE_ACTIVE)
        continue;
      g_clear_pointer (&id, kpr_identity_free);
      id = kpr_store_load (agent->store, *n, NULL);
      if (!id || !judged (id, &source))
        continue;
      /* One CRL per source and round (a NULL entry: it could not be had). */
      if (!g_hash_table_lookup_extended (crls, source, NULL, (gpointer *) &crl))
        {
          crl = get_crl (agent, id, source, fresh, &local);
          g_hash_table_insert (crls, g_strdup (source), crl);
          if (!crl)
            g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", local->message);
        }
      if (crl && apply (agent, id, crl, &revoked, NULL) && revoked)
        found++;
    }
  if (ret_problem)
    *ret_problem = problems->len ? g_string_free (g_steal_pointer (&problems), FALSE) : NULL;
  return found;
}

guint
kpr_agent_check_revocations (KprAgent *agent, const char *server, const char *username,
                             gboolean fresh, char **ret_problem)
{
  return check_revocations (agent, server, username, NULL, fresh, ret_problem);
}

/* The account's identities against a CRL fetched now, but @except. */
static void
check_account (KprAgent *agent, const KprIdentity *id, const char *except)
{
  g_autofree char *problem = NULL;

  if (id->server && id->username)
    check_revocations (agent, id->server, id->username, except, TRUE, &problem);
  if (problem)
    kpr_store_audit (agent->store, id->name, "revocations not checked: %s", problem);
}

void
kpr_agent_after_issue (KprAgent *agent, const KprIdentity *id)
{
  /* The server may have revoked the account's other certificates: learn
   * it now, from a CRL fetched after the issue.  The identity just issued
   * holds the account's newest certificate and is not judged: with no
   * other identity of the account here, no CRL is fetched (a connection,
   * and the server's wait for the revocation to be published). */
  check_account (agent, id, id->name);
}

void
kpr_agent_after_import (KprAgent *agent, const KprIdentity *id)
{
  /* A backup may hold a certificate revoked since. */
  check_account (agent, id, NULL);
}
