/* kpr-revocation.c — what the CA's CRL says of our certificates.
 *
 * certkeeper-ca revokes a user's other certificates when it issues a new
 * one (the second seed's rule: a new certificate expires the previous
 * one), so an identity can be superseded by another identity of the same
 * account, here or on another computer.  The client learns it from the
 * CRL (GET /crl, DER, verified against the identity's trust anchor),
 * cached under the state dir for at most CRL_MAX_AGE: `status`, every
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

static char *
cache_path (KprAgent *agent, const KprIdentity *id)
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, id->server, -1);
  g_autofree char *file = g_strconcat (sum, ".der", NULL);

  return g_build_filename (kpr_store_get_dir (agent->store), "crl", file, NULL);
}

static X509_CRL *
crl_from_bytes (const guint8 *data, gsize len)
{
  const unsigned char *p = data;
  X509_CRL *crl = d2i_X509_CRL (NULL, &p, len);

  if (crl && p != data + len)
    g_clear_pointer (&crl, X509_CRL_free);
  return crl;
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
      || !(crl = crl_from_bytes ((const guint8 *) data, len)))
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
crl_trusted (KprAgent *agent, const KprIdentity *id, X509_CRL *crl, GError **error)
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
               "The CRL of %s is not signed by the CA “%s” trusts", id->server, id->name);
  return FALSE;
}

static X509_CRL *
get_crl (KprAgent *agent, const KprIdentity *id, gboolean fresh, GError **error)
{
  g_autofree char *path = cache_path (agent, id);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (X509_CRL) crl = NULL;

  if (!fresh && (crl = cached (path, now)))
    return g_steal_pointer (&crl);
  if (!(client = kpr_agent_client_for (agent, id, error)))
    return NULL;
  /* status must not hang on a server that is away. */
  kpr_est_client_set_timeouts (client, 10, 30);
  if (!(crl = kpr_est_client_crl (client, error)) || !crl_trusted (agent, id, crl, error))
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
 * The CRL is fetched from an EST server (certkeeper-ca's /crl); SCEP and
 * CMP CAs publish theirs elsewhere, so their identities are not judged. */
static gboolean
judged (const KprIdentity *id)
{
  return id->state == KPR_STATE_ACTIVE && id->cert && id->server
         && id->protocol == KPR_PROTOCOL_EST;
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
  gboolean revoked = FALSE;

  /* A CA that cannot be asked now does not stop a renewal: the renewal
   * itself asks the same server. */
  if (!judged (id) || !(crl = get_crl (agent, id, FALSE, NULL)))
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

guint
kpr_agent_check_revocations (KprAgent *agent, const char *server, const char *username,
                             gboolean fresh, char **ret_problem)
{
  g_auto (GStrv) names = kpr_store_list (agent->store, NULL);
  g_autoptr (GHashTable) crls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) X509_CRL_free);
  g_autoptr (GString) problems = g_string_new (NULL);
  guint found = 0;

  for (char **n = names; n && *n; n++)
    {
      g_autoptr (KprIdentity) id = kpr_store_load (agent->store, *n, NULL);
      g_autoptr (GError) local = NULL;
      X509_CRL *crl;
      gboolean revoked = FALSE;

      if (!id || !judged (id) || (server && g_strcmp0 (id->server, server) != 0)
          || (username && g_strcmp0 (id->username, username) != 0))
        continue;
      /* One CRL per server and round (a NULL entry: it could not be had). */
      if (!g_hash_table_lookup_extended (crls, id->server, NULL, (gpointer *) &crl))
        {
          crl = get_crl (agent, id, fresh, &local);
          g_hash_table_insert (crls, g_strdup (id->server), crl);
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

void
kpr_agent_after_issue (KprAgent *agent, const KprIdentity *id)
{
  g_autofree char *problem = NULL;

  /* The server may have revoked the account's other certificates: learn
   * it now, from a CRL fetched after the issue. */
  if (id->server && id->username)
    kpr_agent_check_revocations (agent, id->server, id->username, TRUE, &problem);
  if (problem)
    kpr_store_audit (agent->store, id->name, "revocations not checked: %s", problem);
}
