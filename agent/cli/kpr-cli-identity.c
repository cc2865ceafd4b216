/* kpr-cli-identity.c — certkeeper list | show | status | export | lock |
 * import | delete. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "kpr-agent-bus.h"
#include "kpr-cli.h"

/* Human output: a record's ISO 8601 time in the locale's format; NULL
 * for NULL, the text itself when it is not ISO 8601. */
static char *
iso_for_people (const char *iso)
{
  g_autoptr (GDateTime) dt = iso ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;

  if (!iso)
    return NULL;
  return dt ? kpr_time_for_people (g_date_time_to_unix (dt)) : g_strdup (iso);
}

/* "agent": what a running certkeeper-agent says about @name (status
 * only; docs/desktop.md). */
static void
add_agent_json (KprCliJson *j, const KprCliAgentInfo *agent, const char *name)
{
  const char *needs = NULL, *message = NULL;
  gboolean waiting = kpr_cli_agent_waiting_for (agent, name, &needs, &message);

  kpr_cli_json_begin_object (j, "agent");
  kpr_cli_json_bool (j, "running", agent->running);
  if (agent->running)
    {
      if (agent->next_check)
        kpr_cli_json_int (j, "next_check", agent->next_check);
      else
        kpr_cli_json_string (j, "next_check", NULL);
      kpr_cli_json_bool (j, "waiting", waiting);
      kpr_cli_json_string (j, "needs", waiting && needs && *needs ? needs : NULL);
      kpr_cli_json_string (j, "message", waiting && message && *message ? message : NULL);
    }
  kpr_cli_json_end_object (j);
}

static void
add_identity_json (KprCliJson *j, const KprIdentity *id, gint64 now,
                   const KprCliAgentInfo *agent)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (id->key_id, &len);
  g_autofree char *key_id = kpr_hex (d, len);
  /* The private key as other PKCS#11-aware programs name it (the GUI's
   * Copy button shows the same). */
  g_autofree char *uri = kpr_identity_key_uri (id);

  kpr_cli_json_begin_object (j, NULL);
  kpr_cli_json_string (j, "name", id->name);
  kpr_cli_json_string (j, "state", kpr_state_to_string (id->state));
  kpr_cli_json_string (j, "status", kpr_status_to_string (kpr_identity_status (id, now)));
  kpr_cli_json_string (j, "server", id->server);
  kpr_cli_json_string (j, "label", id->label);
  kpr_cli_json_string (j, "username", id->username);
  kpr_cli_json_string (j, "token", id->token_uri);
  kpr_cli_json_string (j, "key_id", key_id);
  kpr_cli_json_string (j, "key_uri", uri);
  kpr_cli_json_string (j, "key_type", kpr_key_type_to_string (id->key_type));
  kpr_cli_json_string (j, "protection", kpr_protection_to_string (id->protection));
  kpr_cli_json_string (j, "request_id", id->request_id);
  kpr_cli_json_string (j, "protocol", kpr_protocol_to_string (id->protocol));
  kpr_cli_json_string (j, "cmp_reference", id->reference);
  kpr_cli_json_bool (j, "exportable", id->protection == KPR_PROTECTION_EXPORTABLE);
  kpr_cli_json_bool (j, "backup_missing", kpr_identity_backup_missing (id));
  kpr_cli_json_bool (j, "imported", id->imported);
  kpr_cli_json_string (j, "key_origin", kpr_key_origin_to_string (id->key_origin));
  if (id->shown.serial)
    {
      /* From the record: a listing decodes no certificate. */
      g_autofree char *from = kpr_time_iso (id->shown.not_before);
      g_autofree char *until = kpr_time_iso (id->shown.not_after);

      kpr_cli_json_string (j, "serial", id->shown.serial);
      kpr_cli_json_string (j, "subject", id->shown.subject);
      kpr_cli_json_string (j, "issuer", id->shown.issuer);
      kpr_cli_json_string (j, "not_before", from);
      kpr_cli_json_string (j, "not_after", until);
      kpr_cli_json_string (j, "sha256_fingerprint", id->shown.sha256);
      kpr_cli_json_int (j, "renew_at", kpr_identity_renew_at (id));
    }
  kpr_cli_json_begin_object (j, "backup");
  kpr_cli_json_string (j, "when", id->backup_when);
  kpr_cli_json_string (j, "where", id->backup_where);
  kpr_cli_json_string (j, "sha256", id->backup_sha256);
  kpr_cli_json_end_object (j);
  kpr_cli_json_begin_object (j, "revoked");
  kpr_cli_json_string (j, "when", id->revoked_when);
  kpr_cli_json_string (j, "reason", id->revoked_reason);
  kpr_cli_json_end_object (j);
  kpr_cli_json_begin_object (j, "restored");
  kpr_cli_json_string (j, "from", id->restored_from);
  kpr_cli_json_string (j, "when", id->restored_when);
  kpr_cli_json_end_object (j);
  if (agent)
    add_agent_json (j, agent, id->name);
  kpr_cli_json_end_object (j);
}

/* status: the agent's lines under the table. */
static void
print_agent (const KprCliAgentInfo *agent, gint64 now)
{
  GVariantIter iter;
  const char *name, *needs, *message;

  if (!agent->running)
    {
      /* A kiosk's headless agent is not on a session bus. */
      printf ("certkeeper-agent: not running in this session\n");
      return;
    }
  if (agent->next_check)
    {
      g_autofree char *when = kpr_time_for_people (agent->next_check);
      gint64 in = MAX (agent->next_check - now, 0);
      printf ("certkeeper-agent: running, next check %s (in %" G_GINT64_FORMAT " min)\n", when,
              (in + 59) / 60);
    }
  else
    printf ("certkeeper-agent: running, nothing scheduled\n");
  if (!agent->waiting)
    return;
  g_variant_iter_init (&iter, agent->waiting);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &name, &needs, &message))
    {
      const char *what = NULL;

      switch (kpr_agent_needs_from_string (needs))
        {
        case KPR_AGENT_NEEDS_PIN:
          what = "the token's PIN";
          break;
        case KPR_AGENT_NEEDS_SECRET_WORD:
          what = "a secret word from the server";
          break;
        case KPR_AGENT_NEEDS_PASSPHRASE:
          what = "a passphrase";
          break;
        case KPR_AGENT_NEEDS_NOTHING:
          break;
        }
      if (what)
        printf ("  %s waits for you: renewing it needs %s; run 'certkeeper renew %s'\n", name,
                what, name);
      else
        printf ("  %s waits for you: %s\n", name, *message ? message : "see the agent's log");
    }
}

/* list and status share everything but the exit status. */
typedef struct {
  gboolean json;
  gboolean strict;
} ListArgs;

static gboolean
list_identities (KprAgent *agent, char **args, gpointer data, GError **error)
{
  ListArgs *a = data;
  g_auto (KprCliJson) j = { 0 };
  g_auto (GStrv) names = kpr_store_list (kpr_agent_get_store (agent), error);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_auto (KprCliAgentInfo) resident = { 0 };
  g_autoptr (GHashTable) counted = g_hash_table_new (g_str_hash, g_str_equal);
  guint attention = 0;

  if (!names)
    return FALSE;
  if (a->strict)
    {
      g_autofree char *problem = NULL;

      kpr_cli_agent_query (&resident);
      /* What the CAs' CRLs say first (cached for minutes): a certificate
       * the server replaced is shown revoked, not active. */
      kpr_agent_check_revocations (agent, NULL, NULL, FALSE, &problem);
      /* A note, not an error (a server away now is no news); stdout
       * stays pure JSON with --json. */
      if (problem)
        fprintf (a->json ? stderr : stdout, "Revocation not checked: %s\n", problem);
    }
  kpr_cli_json_init (&j);
  kpr_cli_json_begin_array (&j, NULL);
  if (!a->json && names[0])
    printf ("%-20s %-12s %-26s %s\n", "NAME", "STATUS", "EXPIRES", "KEY");
  for (char **n = names; *n; n++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (KprIdentity) id = kpr_store_load_brief (kpr_agent_get_store (agent), *n, &local);
      KprStatus status;

      if (!id)
        {
          /* One damaged record must not hide the others. */
          fprintf (stderr, "certkeeper: %s\n", local->message);
          attention++;
          continue;
        }
      status = kpr_identity_status (id, now);
      if (kpr_status_needs_attention (status))
        {
          attention++;
          g_hash_table_add (counted, *n);
        }
      if (a->json)
        add_identity_json (&j, id, now, a->strict ? &resident : NULL);
      else
        {
          g_autofree char *until = kpr_time_for_people (id->shown.serial ? id->shown.not_after : 0);
          printf ("%-20s %-12s %-26s %s%s%s\n", id->name, kpr_status_to_string (status), until,
                  kpr_key_type_to_string (id->key_type),
                  id->protection == KPR_PROTECTION_EXPORTABLE ? ", exportable" : "",
                  kpr_identity_backup_missing (id) ? ", backup missing" : "");
          if (id->revoked_when)
            printf ("%-20s revoked — %s on %s\n", "", kpr_identity_revoked_text (id),
                    id->revoked_when);
        }
    }
  kpr_cli_json_end_array (&j);
  if (a->json)
    kpr_cli_json_print (&j);
  else if (!names[0])
    printf ("No identities yet. Get one with 'certkeeper enroll NAME --server URL --user USER'.\n");
  if (a->strict && !a->json)
    print_agent (&resident, now);
  /* What the agent gave up on waits for the person, due or not. */
  for (char **n = names; a->strict && *n; n++)
    if (!g_hash_table_contains (counted, *n) && kpr_cli_agent_waiting_for (&resident, *n, NULL, NULL))
      attention++;
  if (a->strict && attention)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_ATTENTION, "%u identit%s need%s attention",
                   attention, attention == 1 ? "y" : "ies", attention == 1 ? "s" : "");
      return FALSE;
    }
  return TRUE;
}

int
kpr_cli_list (int argc, char **argv)
{
  static const KprCliSpec spec = { "list", "", "List the identities.", 0, 0 };
  g_auto (KprCliUi) ui = { 0 };
  ListArgs a = { 0 };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &a.json, "Print JSON", NULL },
    { NULL },
  };
  return kpr_cli_run (&spec, entries, &ui, argc, argv, list_identities, &a);
}

int
kpr_cli_status (int argc, char **argv)
{
  static const KprCliSpec spec = {
    "status", "", "Report every identity; exit 26 when one is not simply active (due, expired, pending, in progress, revoked or failed).", 0, 0,
  };
  g_auto (KprCliUi) ui = { 0 };
  ListArgs a = { .strict = TRUE };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &a.json, "Print JSON", NULL },
    { NULL },
  };
  return kpr_cli_run (&spec, entries, &ui, argc, argv, list_identities, &a);
}

typedef struct {
  gboolean json, pem;
} ShowArgs;

static void
print_identity (const KprIdentity *id, gint64 now)
{
  printf ("%s: %s (%s)\n  server:     %s%s%s%s%s as %s\n  token:      %s\n  key:        %s, %s, %s\n",
          id->name, kpr_status_to_string (kpr_identity_status (id, now)),
          kpr_state_to_string (id->state), id->server ? id->server : "-",
          id->protocol != KPR_PROTOCOL_EST ? " over " : "",
          id->protocol != KPR_PROTOCOL_EST ? kpr_protocol_to_string (id->protocol) : "",
          id->label ? " label " : "", id->label ? id->label : "",
          id->username ? id->username : "-", id->token_uri,
          kpr_key_type_to_string (id->key_type), kpr_protection_to_string (id->protection),
          kpr_key_origin_text (id->key_origin));
  if (id->request_id)
    printf ("  request:    %s at the server (quote it to the administrator)\n", id->request_id);
  if (id->cert)
    {
      g_autofree char *subject = kpr_ossl_name_text (X509_get_subject_name (id->cert));
      g_autofree char *issuer = kpr_ossl_name_text (X509_get_issuer_name (id->cert));
      g_autofree char *serial = kpr_ossl_serial_hex (id->cert), *fp = kpr_ossl_fingerprint (id->cert, EVP_sha256 ());
      g_autofree char *until = kpr_time_for_people (kpr_ossl_time_unix (X509_get0_notAfter (id->cert)));
      printf ("  subject:    %s\n  issuer:     %s\n  serial:     %s\n  sha256:     %s\n"
              "  valid until %s; renewal %s\n",
              subject, issuer, serial, fp, until,
              kpr_identity_renew_at (id) > now ? "due later" : "due now");
    }
  g_autofree char *revoked_when = iso_for_people (id->revoked_when);
  g_autofree char *restored_when = iso_for_people (id->restored_when);
  g_autofree char *backup_when = iso_for_people (id->backup_when);

  if (id->revoked_when)
    printf ("  revoked:    %s — %s\n", revoked_when, kpr_identity_revoked_text (id));
  if (id->restored_from && g_strcmp0 (id->restored_from, id->backup_where) == 0)
    printf ("  backup:     restored from %s on %s\n", id->restored_from, restored_when);
  else
    printf ("  backup:     %s%s%s\n", backup_when ? backup_when : "none",
            id->backup_where ? " at " : "", id->backup_where ? id->backup_where : "");
}

static gboolean
run_show (KprAgent *agent, char **args, gpointer data, GError **error)
{
  ShowArgs *a = data;
  g_autoptr (KprIdentity) id = kpr_store_load (kpr_agent_get_store (agent), args[0], error);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!id)
    return FALSE;
  if (a->pem)
    {
      if (!id->cert)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "“%s” has no certificate yet", id->name);
          return FALSE;
        }
      PEM_write_X509 (stdout, id->cert);
    }
  else if (a->json)
    {
      g_auto (KprCliJson) j = { 0 };

      kpr_cli_json_init (&j);
      add_identity_json (&j, id, now, NULL);
      kpr_cli_json_print (&j);
    }
  else
    print_identity (id, now);
  return TRUE;
}

int
kpr_cli_show (int argc, char **argv)
{
  static const KprCliSpec spec = { "show", "NAME", "Show one identity.", 1, 1 };
  g_auto (KprCliUi) ui = { 0 };
  ShowArgs a = { 0 };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &a.json, "Print JSON", NULL },
    { "pem", 0, 0, G_OPTION_ARG_NONE, &a.pem, "Print the certificate (PEM)", NULL },
    { NULL },
  };
  return kpr_cli_run (&spec, entries, &ui, argc, argv, run_show, &a);
}

typedef struct {
  char *to;
  gboolean legacy, force;
} ExportArgs;

static gboolean
run_export (KprAgent *agent, char **args, gpointer data, GError **error)
{
  ExportArgs *a = data;

  if (!a->to)
    {
      g_set_error_literal (error, KPR_ERROR, KPR_ERROR_USAGE, "export needs --to FILE.p12");
      return FALSE;
    }
  if (!kpr_agent_export (agent, args[0], a->to, a->legacy ? KPR_P12_LEGACY : KPR_P12_MODERN,
                         a->force, error))
    return FALSE;
  printf ("Backup of “%s” written to %s and verified.\nKeep it on removable storage, "
          "then run 'certkeeper lock %s'.\n", args[0], a->to, args[0]);
  return TRUE;
}

int
kpr_cli_export (int argc, char **argv)
{
  static const KprCliSpec spec = {
    "export", "NAME", "Write a verified PKCS#12 backup (while the key is exportable).", 1, 1,
  };
  g_auto (KprCliUi) ui = { 0 };
  ExportArgs a = { 0 };
  const GOptionEntry entries[] = {
    { "to", 0, 0, G_OPTION_ARG_FILENAME, &a.to, "Write the backup to FILE.p12", "FILE" },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.passphrase_file, "Read the passphrase from FILE (0600)", "FILE" },
    { "legacy", 0, 0, G_OPTION_ARG_NONE, &a.legacy, "3DES/SHA-1 for old importers", NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &a.force, "Replace a regular file at FILE (never a link, directory or device)", NULL },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { NULL },
  };
  int status = kpr_cli_run (&spec, entries, &ui, argc, argv, run_export, &a);

  g_free (a.to);
  return status;
}

static gboolean
run_lock (KprAgent *agent, char **args, gpointer data, GError **error)
{
  if (!kpr_agent_lock (agent, args[0], error))
    return FALSE;
  printf ("The key of “%s” can no longer leave its token.\n", args[0]);
  return TRUE;
}

int
kpr_cli_lock (int argc, char **argv)
{
  static const KprCliSpec spec = { "lock", "NAME", "Make the key non-exportable, for good.", 1, 1 };
  g_auto (KprCliUi) ui = { 0 };
  const GOptionEntry entries[] = {
    { "yes", 0, 0, G_OPTION_ARG_NONE, &ui.yes, "Lock even without a verified backup", NULL },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { NULL },
  };
  return kpr_cli_run (&spec, entries, &ui, argc, argv, run_lock, NULL);
}

typedef struct {
  char *token;
  gboolean software, exportable;
} ImportArgs;

static gboolean
run_import (KprAgent *agent, char **args, gpointer data, GError **error)
{
  ImportArgs *a = data;
  g_autoptr (KprIdentity) id = NULL;

  if (a->token && a->software)
    {
      g_set_error_literal (error, KPR_ERROR, KPR_ERROR_USAGE, "--token and --software exclude each other");
      return FALSE;
    }
  if (!(id = kpr_agent_import (agent, args[0], args[1], a->token, a->exportable, error)))
    return FALSE;
  kpr_cli_print_identity_line (id);
  return TRUE;
}

int
kpr_cli_import (int argc, char **argv)
{
  static const KprCliSpec spec = {
    "import", "FILE.p12 [NAME]", "Restore a backup; the key becomes non-exportable.", 1, 2,
  };
  g_auto (KprCliUi) ui = { 0 };
  ImportArgs a = { 0 };
  const GOptionEntry entries[] = {
    { "token", 0, 0, G_OPTION_ARG_STRING, &a.token, "Import to this token (PKCS#11 URI)", "URI" },
    { "software", 0, 0, G_OPTION_ARG_NONE, &a.software, "Import to the software token (default)", NULL },
    { "exportable", 0, 0, G_OPTION_ARG_NONE, &a.exportable, "Keep the key exportable (software token only)", NULL },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.passphrase_file, "Read the passphrase from FILE (0600)", "FILE" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { "no-browser", 0, 0, G_OPTION_ARG_NONE, &ui.no_browser, "Leave the browsers as they are", NULL },
    { NULL },
  };
  int status = kpr_cli_run (&spec, entries, &ui, argc, argv, run_import, &a);

  g_free (a.token);
  return status;
}

static gboolean
run_delete (KprAgent *agent, char **args, gpointer data, GError **error)
{
  if (!kpr_agent_delete (agent, args[0], error))
    return FALSE;
  printf ("“%s” deleted; its record is archived.\n", args[0]);
  return TRUE;
}

int
kpr_cli_delete (int argc, char **argv)
{
  static const KprCliSpec spec = {
    "delete", "NAME", "Remove the key and certificate; archive the record.", 1, 1,
  };
  g_auto (KprCliUi) ui = { 0 };
  const GOptionEntry entries[] = {
    { "yes", 0, 0, G_OPTION_ARG_NONE, &ui.yes, "Delete even without a verified backup", NULL },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { NULL },
  };
  return kpr_cli_run (&spec, entries, &ui, argc, argv, run_delete, NULL);
}
