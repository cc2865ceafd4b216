/* kpr-backup.c — the first seed's steps after enrollment: back up (while
 * the key is exportable), lock, delete, import as non-exportable; and
 * "I lost my token": revoke. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pwquality.h>
#include <openssl/evp.h>

#include "kpr-agent-private.h"

/* Used only without cracklib's dictionary: the passwords people pick
 * most, refused in any form (reversed, case changed, inside a longer
 * one) by pwquality's badwords check. */
#define KPR_COMMON_PASSWORDS \
  "password passwort motdepasse qwerty azerty qwertz letmein welcome " \
  "iloveyou monkey dragon master secret admin login abc123 123456 " \
  "certkeeper backup"

/* libpwquality's dictionary check reads cracklib's dictionary (package
 * cracklib-runtime, which a machine may lack).  Without it the check
 * refuses every passphrase and cracklib prints its file error on
 * stderr, so look first; without it require 12 characters instead of 9
 * and refuse the commonest passwords instead. */
static gboolean
dictionary_present (pwquality_settings_t *settings)
{
  const char *path = NULL;

  if (pwquality_get_str_value (settings, PWQ_SETTING_DICT_PATH, &path) != 0 || !path)
    return FALSE;
  for (const char *const *ext = (const char *const[]) { ".pwd", ".pwi", NULL }; *ext; ext++)
    {
      g_autofree char *file = g_strconcat (path, *ext, NULL);
      if (access (file, R_OK) != 0)
        return FALSE;
    }
  return TRUE;
}

static pwquality_settings_t *
strength_settings (void)
{
  pwquality_settings_t *settings = pwquality_default_settings ();

#ifdef KPR_FAULT_INJECTION
  /* Test builds: the tests' way to run as on a machine without the
   * dictionary, without removing the system's. */
  const char *dict = g_getenv ("KPR_FAULT_CRACKLIB_DICT");
  if (dict)
    {
      g_autofree char *option = g_strconcat ("dictpath=", dict, NULL);
      pwquality_set_option (settings, option);
    }
#endif
  if (!dictionary_present (settings))
    {
      pwquality_set_option (settings, "dictcheck=0");
      pwquality_set_option (settings, "minlen=12");
      pwquality_set_option (settings, "badwords=" KPR_COMMON_PASSWORDS);
    }
  return settings;
}

/* One pwquality check for the strength meter and for export, so the
 * meter never accepts what export refuses.  Defaults, not
 * /etc/security/pwquality.conf: a backup passphrase is not a login
 * password and the system's policy may not exist. */
static int
strength (const KprSecret *passphrase, const char *user, char **ret_why)
{
  pwquality_settings_t *settings = strength_settings ();
  void *aux = NULL;
  char buf[256];
  int score;

  score = pwquality_check (settings, passphrase->data, NULL, user, &aux);
  if (score < 0 && ret_why)
    *ret_why = g_strdup_printf ("The passphrase is too weak: %s.",
                                pwquality_strerror (buf, sizeof buf, score, aux));
  pwquality_free_settings (settings);
  /* pwquality scores an acceptable but poor passphrase 0: keep 0 for
   * "refused" so callers need only look at the number. */
  return score < 0 ? 0 : MAX (score, 1);
}

int
kpr_passphrase_strength (const KprSecret *passphrase, char **ret_why)
{
  return strength (passphrase, NULL, ret_why);
}

static gboolean
check_strength (const KprSecret *passphrase, const char *user, GError **error)
{
  g_autofree char *why = NULL;

  if (strength (passphrase, user, &why) > 0)
    return TRUE;
  g_set_error_literal (error, KPR_ERROR, KPR_ERROR_WEAK_SECRET, why);
  return FALSE;
}

/* What a restore needs besides key and certificate: where the identity
 * renews and which CA it trusts (the chain in the backup carries that). */
static char *
backup_note (const KprIdentity *id)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  g_key_file_set_string (kf, "certkeeper", "name", id->name);
  if (id->server)
    g_key_file_set_string (kf, "certkeeper", "server", id->server);
  if (id->label)
    g_key_file_set_string (kf, "certkeeper", "label", id->label);
  if (id->username)
    g_key_file_set_string (kf, "certkeeper", "username", id->username);
  return g_key_file_to_data (kf, NULL, NULL);
}

/* The current pair, in use: ACTIVE, or while a successor is being made
 * (a renewal under way or interrupted leaves the current pair as it was,
 * issue 13 item 7). */
static KprIdentity *
load_active (KprAgent *agent, const char *name, GError **error)
{
  KprIdentity *id = kpr_store_load (agent->store, name, error);

  if (id && !kpr_state_is_in_use (id->state))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "“%s” has no certificate in use yet (%s): finish it first with "
                   "'certkeeper renew %s'", name, kpr_state_to_string (id->state), name);
      g_clear_pointer (&id, kpr_identity_free);
    }
  return id;
}

/* What export checks in the file it wrote, read back from the disk:
 * it opens with the passphrase and holds this identity's certificate and
 * the token's key. */
typedef struct {
  KprIdentity *id;
  KprToken *token;
  const KprSecret *passphrase;
} ExportCheck;

static gboolean
verify_backup (GBytes *on_disk, gpointer data, GError **error)
{
  ExportCheck *check = data;
  g_autoptr (EVP_PKEY) key = NULL, on_token = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprX509Stack) chain = NULL;

  if (!kpr_p12_parse (on_disk, check->passphrase, &key, &cert, &chain, NULL, error)
      || !(on_token = kpr_token_get_public_key (check->token, check->id->key_id, error)))
    {
      g_prefix_error (error, "the backup did not verify: ");
      return FALSE;
    }
  if (X509_cmp (cert, check->id->cert) != 0 || EVP_PKEY_eq (key, on_token) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "the backup does not hold the key of “%s”", check->id->name);
      return FALSE;
    }
  return TRUE;
}

gboolean
kpr_agent_export (KprAgent *agent, const char *name, const char *path, KprP12Preset preset,
                  gboolean force, GError **error)
{
  g_autoptr (KprIdentity) id = load_active (agent, name, error);
  g_autoptr (KprSecret) passphrase = NULL;
  g_autoptr (GBytes) p12 = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *absolute = NULL, *note = NULL, *sha256 = NULL;
  ExportCheck check;
  KprToken *token;

  if (!id)
    return FALSE;
  note = backup_note (id);
  if (id->protection != KPR_PROTECTION_EXPORTABLE)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_EXPORTABLE,
                   "The key of “%s” is protected from export (%s); no backup can be made of it",
                   name, id->imported ? "it was imported as non-exportable" : "it was locked, or made non-exportable");
      return FALSE;
    }
  absolute = g_canonicalize_filename (path, NULL);
  if (!agent->ui.ask)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED, "A backup needs a passphrase");
      return FALSE;
    }
  if (!(passphrase = agent->ui.ask (KPR_ASK_NEW_PASSPHRASE, absolute, agent->ui.data, error))
      || !check_strength (passphrase, id->username, error)
      || !(token = kpr_agent_token_for (agent, id, TRUE, error))
      || !(p12 = kpr_token_export_pkcs12 (token, id->key_id, passphrase, preset, note, error)))
    return FALSE;
  /* Success only for a file that opens and holds this identity, read
   * back from the disk before it takes its place. */
  check = (ExportCheck) { id, token, passphrase };
  if (!kpr_backup_file_write (absolute, p12, force, verify_backup, &check, &sha256, error))
    return FALSE;

  g_free (id->backup_when);
  g_free (id->backup_where);
  g_free (id->backup_sha256);
  g_free (id->backup_cert);
  id->backup_when = g_date_time_format_iso8601 (now);
  id->backup_where = g_strdup (absolute);
  id->backup_sha256 = g_steal_pointer (&sha256);
  id->backup_cert = kpr_ossl_fingerprint (id->cert, EVP_sha256 ());
  if (!kpr_lifecycle_save (agent->store, id, "backup-recorded", TRUE, error))
    return FALSE;
  kpr_store_audit (agent->store, name, "backed up to %s (sha256 %s, %s preset)", absolute,
                   id->backup_sha256, preset == KPR_P12_LEGACY ? "legacy" : "modern");
  kpr_store_record_event (agent->store, name,
                          &(KprEvent) { .type = KPR_EVENT_BACKED_UP, .where = absolute });
  return TRUE;
}

/* Before lock or delete take away the last chance of a backup (or the
 * key itself): is there one that can be relied on?  The recorded file is
 * checked again, as it is now (issue 13, item 2). */
static gboolean
confirm_loss (KprAgent *agent, KprIdentity *id, const char *action, GError **error)
{
  g_autofree char *question = NULL, *problem = NULL, *why = NULL;

  if (id->backup_when && !(problem = kpr_backup_file_problem (id)))
    return TRUE;
  why = problem ? g_strdup_printf ("the backup of “%s” cannot be relied on: %s", id->name, problem)
                : g_strdup_printf ("“%s” has no verified backup", id->name);
  question = g_strdup_printf ("%s%s. %s it anyway?", why,
                              id->protection == KPR_PROTECTION_EXPORTABLE
                                ? "; once done, no backup can ever be made"
                                : " (its key cannot be exported)",
                              action);
  question[0] = g_ascii_toupper (question[0]);
  if (agent->ui.confirm && agent->ui.confirm (question, agent->ui.data))
    return TRUE;
  g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED,
               "%s: nothing was changed (back it up with "
               "'certkeeper export %s --to FILE.p12', or confirm with --yes)", why, id->name);
  return FALSE;
}

gboolean
kpr_agent_lock (KprAgent *agent, const char *name, GError **error)
{
  g_autoptr (KprIdentity) id = load_active (agent, name, error);
  KprToken *token;

  if (!id)
    return FALSE;
  if (id->protection != KPR_PROTECTION_EXPORTABLE)
    return TRUE; /* already locked: converges */
  if (!confirm_loss (agent, id, "Lock", error)
      || !(token = kpr_agent_token_for (agent, id, TRUE, error))
      || !kpr_token_lock_key (token, id->key_id, error))
    return FALSE;
  /* A renewal's key made before the lock would come back exportable with
   * the swap: it is locked too (not there yet: made locked later). */
  if (id->next_key_id)
    {
      g_autoptr (GError) local = NULL;

      if (!kpr_token_lock_key (token, id->next_key_id, &local)
          && !g_error_matches (local, KPR_ERROR, KPR_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  id->protection = KPR_PROTECTION_STANDARD;
  if (!kpr_lifecycle_save (agent->store, id, "locked", TRUE, error))
    return FALSE;
  kpr_store_audit (agent->store, name, "key locked: no longer exportable");
  kpr_store_record_event (agent->store, name, &(KprEvent) { .type = KPR_EVENT_LOCKED });
  return TRUE;
}

/* A record too damaged to load can still be archived; whatever it named
 * on the token stays there (nothing says which objects were its). */
static gboolean
delete_damaged (KprAgent *agent, const char *name, GError **error)
{
  g_autofree char *question = g_strdup_printf (
    "The record of “%s” is damaged. Archive it? Its key and certificate, if any, stay on the "
    "token and can be removed with the token's own tools.", name);

  if (!agent->ui.confirm || !agent->ui.confirm (question, agent->ui.data))
    return FALSE;
  kpr_store_audit (agent->store, name, "damaged record archived");
  return kpr_store_archive (agent->store, name, error);
}

gboolean
kpr_agent_delete (KprAgent *agent, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (KprIdentity) id = kpr_store_load (agent->store, name, &local);
  KprToken *token;

  if (!id)
    {
      if (g_error_matches (local, KPR_ERROR, KPR_ERROR_BAD_INPUT)
          && kpr_store_exists (agent->store, name) && delete_damaged (agent, name, error))
        return TRUE;
      if (error && !*error)
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (id->state != KPR_STATE_REVOKED && !confirm_loss (agent, id, "Delete", error))
    return FALSE;
  if (!(token = kpr_agent_token_for (agent, id, TRUE, error))
      || !kpr_agent_remove_objects (agent, token, id->next_key_id, "renewal", error)
      || !kpr_agent_remove_objects (agent, token, id->stale_key_id, "previous", error)
      || !kpr_agent_remove_objects (agent, token, id->key_id, "key and certificate", error))
    return FALSE;
  kpr_fault_point ("after:objects-removed");
  kpr_store_audit (agent->store, name, "deleted");
  return kpr_store_archive (agent->store, name, error);
}

static char *
common_name (X509 *cert)
{
  X509_NAME *subject = X509_get_subject_name (cert);
  int i = X509_NAME_get_index_by_NID (subject, NID_commonName, -1);
  ASN1_STRING *cn = i >= 0 ? X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, i)) : NULL;
  unsigned char *utf8 = NULL;
  char *name = NULL;

  if (cn && ASN1_STRING_to_UTF8 (&utf8, cn) >= 0)
    {
      name = g_strdup ((const char *) utf8);
      OPENSSL_free (utf8);
      g_strcanon (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", '_');
    }
  return name;
}

/* The file an identity was restored from is a verified backup of its key
 * (it opened with the passphrase and holds key and certificate): recorded
 * as such, so that show says where the key came from and lock or delete
 * can rely on the file while it stays unchanged. */
static void
record_restore (KprIdentity *id, const char *path, GBytes *data, X509 *cert)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  id->key_origin = KPR_KEY_ORIGIN_IMPORTED;
  id->restored_from = g_canonicalize_filename (path, NULL);
  id->restored_when = g_date_time_format_iso8601 (now);
  id->backup_when = g_strdup (id->restored_when);
  id->backup_where = g_strdup (id->restored_from);
  id->backup_sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, data);
  id->backup_cert = kpr_ossl_fingerprint (cert, EVP_sha256 ());
}

KprIdentity *
kpr_agent_import (KprAgent *agent, const char *path, const char *name, const char *token_uri,
                  gboolean exportable, GError **error)
{
  g_autoptr (KprIdentity) id = NULL;
  g_autoptr (KprSecret) passphrase = NULL;
  g_autoptr (GBytes) data = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509) cert = NULL;
  g_autoptr (KprX509Stack) chain = NULL, roots = NULL;
  g_autofree char *contents = NULL, *derived = NULL, *note = NULL;
  g_autoptr (GKeyFile) details = g_key_file_new ();
  KprTokenCtx *ctx;
  KprToken *token;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot read the backup %s", path);
      return NULL;
    }
  data = g_bytes_new_take (g_steal_pointer (&contents), len);
  if (!agent->ui.ask
      || !(passphrase = agent->ui.ask (KPR_ASK_PASSPHRASE, path, agent->ui.data, error))
      || !kpr_p12_parse (data, passphrase, &key, &cert, &chain, &note, error))
    {
      if (error && !*error)
        g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED, "A backup needs its passphrase");
      return NULL;
    }
  /* A backup written by certkeeper says where the identity renews. */
  if (!note || !g_key_file_load_from_data (details, note, -1, G_KEY_FILE_NONE, NULL))
    g_key_file_set_string (details, "certkeeper", "unused", "");
  if (!name)
    name = derived = g_key_file_get_string (details, "certkeeper", "name", NULL);
  if (!name)
    name = derived = common_name (cert);
  if (!kpr_identity_name_is_valid (name))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "Give the identity a name: "
                   "'certkeeper import %s NAME'", path);
      return NULL;
    }
  if (kpr_store_exists (agent->store, name))
    {
      id = kpr_store_load (agent->store, name, error);
      if (!id)
        return NULL;
      if (!id->imported || !kpr_state_is_enrolling (id->state))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                       "An identity named “%s” exists; import under another name", name);
          return NULL;
        }
    }
  else
    {
      if (!(ctx = kpr_agent_tokens_for (agent, token_uri, NULL, error)))
        return NULL;
      token = token_uri ? kpr_token_ctx_find (ctx, token_uri, error) : kpr_token_ctx_software (ctx, error);
      if (!token)
        return NULL;
      id = g_new0 (KprIdentity, 1);
      id->name = g_strdup (name);
      id->state = KPR_STATE_NEW;
      id->imported = TRUE;
      id->server = g_key_file_get_string (details, "certkeeper", "server", NULL);
      id->label = g_key_file_get_string (details, "certkeeper", "label", NULL);
      id->username = g_key_file_get_string (details, "certkeeper", "username", NULL);
      if (!id->username)
        id->username = common_name (cert);
      id->token_uri = g_strdup (kpr_token_get_info (token)->uri);
      id->token_module = g_strdup (kpr_token_get_info (token)->module_path);
      id->key_id = kpr_token_new_id ();
      id->key_type = EVP_PKEY_is_a (key, "EC")
                       ? (EVP_PKEY_get_bits (key) > 256 ? KPR_KEY_EC_P384 : KPR_KEY_EC_P256)
                       : (EVP_PKEY_get_bits (key) > 2048 ? KPR_KEY_RSA_3072 : KPR_KEY_RSA_2048);
      id->protection = exportable ? KPR_PROTECTION_EXPORTABLE : KPR_PROTECTION_STANDARD;
      record_restore (id, path, data, cert);
      if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_NEW, error))
        return NULL;
    }

  if (id->state == KPR_STATE_NEW)
    {
      if (!(token = kpr_agent_token_for (agent, id, TRUE, error))
          || !kpr_agent_remove_objects (agent, token, id->key_id, "unfinished", error))
        return NULL;
      kpr_agent_progress (agent, "Importing “%s” to “%s” (%s)", name,
                          kpr_token_get_info (token)->label,
                          exportable ? "exportable" : "non-exportable");
  kpr_store_record_event (agent->store, name,
                          &(KprEvent) { .type = KPR_EVENT_IMPORTED, .where = (char *) path,
                                        .exportable = exportable });
      if (!kpr_token_import_key (token, key, cert, chain, name, id->key_id, id->protection, error))
        return NULL;
      kpr_fault_point ("after:import-objects");
      roots = kpr_est_roots (chain);
      if (sk_X509_num (roots) > 0 && !kpr_store_save_trust (agent->store, name, roots, error))
        return NULL;
      X509_free (id->cert);
      id->cert = g_steal_pointer (&cert);
      if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_ISSUED, error))
        return NULL;
    }
  if (!kpr_agent_continue_enrollment (agent, id, FALSE, error))
    return NULL;
  kpr_store_audit (agent->store, name, "imported from %s as %s", path,
                   exportable ? "exportable" : "non-exportable");
  /* A backup may hold a certificate revoked since: say so at once. */
  kpr_agent_after_import (agent, id);
  g_clear_pointer (&id, kpr_identity_free);
  if (!(id = kpr_store_load (agent->store, name, error)))
    return NULL;
  kpr_agent_browser_after (agent, id);
  return g_steal_pointer (&id);
}

/* EST /revoke: with the key when the token is here, else with the
 * username and a secret word.  Returns the serial the server revoked. */
static char *
est_revoke (KprAgent *agent, KprIdentity *id, KprToken *token, const char *serial,
            GError **error)
{
  g_autoptr (KprEstClient) client = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (KprSecret) secret = NULL;
  g_autofree char *revoked = NULL;
  KprEstCredentials creds = { NULL, NULL };
  gboolean ok;

  if (!(client = kpr_agent_client_for (agent, id, error)))
    return NULL;
  /* The token may be lost: then prove who we are with a secret word. */
  key = token ? kpr_token_get_private_key (token, id->key_id, NULL) : NULL;
  ok = FALSE;
  if (key)
    {
      g_autoptr (GError) local = NULL;

      kpr_est_client_set_client_cert (client, id->cert, key, NULL);
      ok = kpr_est_client_revoke (client, serial, NULL, &revoked, &local);
      kpr_est_client_set_client_cert (client, NULL, NULL, NULL);
      g_clear_pointer (&key, EVP_PKEY_free);
      /* A server that no longer takes the certificate (revoked by a run
       * that was killed before it could record it, or expired) is asked
       * again with a secret word; anything else is the answer. */
      if (!ok && !g_error_matches (local, KPR_ERROR, KPR_ERROR_REJECTED)
          && !g_error_matches (local, KPR_ERROR, KPR_ERROR_AUTH))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
    }
  if (!ok)
    {
      g_autoptr (KprEstChallenge) challenge = kpr_est_client_challenge (client, id->username, NULL);
      g_autofree char *detail = challenge ? g_strdup_printf ("sent by %s to %s", challenge->channel,
                                                             challenge->destination)
                                          : g_strdup_printf ("for %s", id->username);
      if (!agent->ui.ask || !(secret = agent->ui.ask (KPR_ASK_SECRET_WORD, detail, agent->ui.data, error)))
        {
          if (error && !*error)
            g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH, "Revoking without the key needs a secret word");
          return NULL;
        }
      creds.username = id->username;
      creds.secret = secret;
      if (!kpr_est_client_revoke (client, serial, &creds, &revoked, error))
        return NULL;
    }
  return revoked ? g_steal_pointer (&revoked) : g_strdup (serial);
}

gboolean
kpr_agent_revoke (KprAgent *agent, const char *name, gboolean *ret_wiped, GError **error)
{
  g_autoptr (KprIdentity) id = kpr_store_load (agent->store, name, error);
  g_autofree char *revoked = NULL;
  KprToken *token;
  g_autofree char *serial = NULL;

  if (!id)
    return FALSE;
  if (id->state == KPR_STATE_REVOKED)
    {
      /* Revoked already.  A run killed before the wipe left the key:
       * finish that (a token that is gone has nothing to wipe), and say
       * there was nothing to revoke. */
      token = kpr_agent_token_for (agent, id, TRUE, NULL);
      if (token && !kpr_agent_remove_objects (agent, token, id->key_id, "revoked", error))
        return FALSE;
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "“%s” is revoked already", name);
      return FALSE;
    }
  if (!id->cert)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "“%s” has no certificate to revoke", name);
      return FALSE;
    }
  serial = kpr_ossl_serial_hex (id->cert);
  /* The token may be lost: then prove who we are another way. */
  token = kpr_agent_token_for (agent, id, TRUE, NULL);
  if (id->protocol != KPR_PROTOCOL_EST) /* CMP RR, kpr-enroll-protocol.c */
    {
      if (!kpr_agent_protocol_revoke (agent, id, token, error))
        return FALSE;
      revoked = g_strdup (serial);
    }
  else if (!(revoked = est_revoke (agent, id, token, serial, error)))
    return FALSE;
  kpr_store_audit (agent->store, name, "revoked certificate serial %s", revoked);
  kpr_store_record_event (agent->store, name,
                          &(KprEvent) { .type = KPR_EVENT_REVOKED, .serial = revoked });
  if (!kpr_lifecycle_enter (agent->store, id, KPR_STATE_REVOKED, error))
    return FALSE;
  if (token && !kpr_agent_remove_objects (agent, token, id->key_id, "revoked", error))
    return FALSE;
  if (ret_wiped)
    *ret_wiped = token != NULL;
  return TRUE;
}
