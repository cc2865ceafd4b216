/* kpr-cli-enroll.c — certkeeper enroll | renew | install | revoke. */
#include "config.h"

#include <stdio.h>

#include "kpr-cli.h"

void
kpr_cli_print_identity_line (const KprIdentity *id)
{
  g_autofree char *until =
    kpr_time_for_people (id->cert ? kpr_ossl_time_unix (X509_get0_notAfter (id->cert)) : 0);

  printf ("“%s” is %s; certificate valid until %s\n", id->name,
          kpr_status_to_string (kpr_identity_status (id, g_get_real_time () / G_USEC_PER_SEC)),
          until);
  if (kpr_identity_backup_missing (id))
    printf ("The key can still be exported: make a backup now with\n"
            "  certkeeper export %s --to /media/…/%s.p12\n"
            "then lock it with 'certkeeper lock %s'.\n", id->name, id->name, id->name);
}

typedef struct {
  char *server, *label, *user, *token, *key, *protection, *fingerprint, *ca_file;
  char *protocol, *reference;
  gboolean software, no_backup, server_keygen;
} EnrollArgs;

static gboolean
usage_error (GError **error, const char *message)
{
  g_set_error_literal (error, KPR_ERROR, KPR_ERROR_USAGE, message);
  return FALSE;
}

static gboolean
run_enroll (KprAgent *agent, char **args, gpointer data, GError **error)
{
  EnrollArgs *a = data;
  KprEnrollOptions o = {
    .name = args[0], .server = a->server, .label = a->label, .username = a->user,
    .token_uri = a->token, .no_backup = a->no_backup, .server_keygen = a->server_keygen,
    .trust_fingerprint = a->fingerprint, .ca_file = a->ca_file, .reference = a->reference,
  };
  g_autoptr (KprIdentity) id = NULL;

  if (!a->server || !a->user)
    return usage_error (error, "enroll needs --server URL and --user USER");
  if (a->token && a->software)
    return usage_error (error, "--token and --software exclude each other");
  if (a->fingerprint && a->ca_file)
    return usage_error (error, "--trust-fingerprint and --ca-file exclude each other");
  if (a->protocol && !kpr_protocol_from_string (a->protocol, &o.protocol))
    return usage_error (error, "--protocol is one of est (default), scep, cmp");
  if (a->reference && o.protocol != KPR_PROTOCOL_CMP)
    return usage_error (error, "--reference goes with --protocol cmp");
  if (a->server_keygen && o.protocol != KPR_PROTOCOL_EST)
    return usage_error (error, "--server-keygen is EST's (serverkeygen): not with --protocol scep or cmp");
  if (a->key && !kpr_key_type_from_string (a->key, &o.key_type))
    return usage_error (error, "--key is one of ec-p256, ec-p384, rsa-2048, rsa-3072");
  if (a->protection && (!kpr_protection_from_string (a->protection, &o.protection)
                        || o.protection == KPR_PROTECTION_EXPORTABLE))
    return usage_error (error, "--protection is standard or strong");
  if (!(id = kpr_agent_enroll (agent, &o, error)))
    return FALSE;
  kpr_cli_print_identity_line (id);
  return TRUE;
}

int
kpr_cli_enroll (int argc, char **argv)
{
  static const KprCliSpec spec = {
    "enroll", "NAME", "Get a certificate: key made here, certified by the server.", 1, 1,
  };
  g_auto (KprCliUi) ui = { 0 };
  EnrollArgs a = { 0 };
  const GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &a.server, "Enrollment server (https://host[:port])", "URL" },
    { "protocol", 0, 0, G_OPTION_ARG_STRING, &a.protocol, "est (default), scep or cmp (docs/scep.md, docs/cmp.md)", "PROTOCOL" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &a.label, "CA label on the server (SCEP: the CA identifier)", "LABEL" },
    { "reference", 0, 0, G_OPTION_ARG_STRING, &a.reference, "CMP: the reference of the one-time secret", "REF" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &a.user, "Your username at the server", "USER" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &a.token, "Make the key on this token (PKCS#11 URI)", "URI" },
    { "software", 0, 0, G_OPTION_ARG_NONE, &a.software, "Make the key on the software token (default)", NULL },
    { "key", 0, 0, G_OPTION_ARG_STRING, &a.key, "ec-p256 (default), ec-p384, rsa-2048, rsa-3072", "TYPE" },
    { "protection", 0, 0, G_OPTION_ARG_STRING, &a.protection, "standard (default) or strong (PIN to use the key)", "LEVEL" },
    { "no-backup", 0, 0, G_OPTION_ARG_NONE, &a.no_backup, "Software token: make the key non-exportable at once", NULL },
    { "server-keygen", 0, 0, G_OPTION_ARG_NONE, &a.server_keygen, "Let the server make the key (imported non-exportable)", NULL },
    { "secret-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.secret_file, "Read the secret word (SCEP: challenge password, CMP: secret) from FILE (0600; - for stdin)", "FILE" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Read the token PIN from FILE (0600; - for stdin)", "FILE" },
    { "trust-fingerprint", 0, 0, G_OPTION_ARG_STRING, &a.fingerprint, "SHA-256 fingerprint of the server's CA", "SHA256" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &a.ca_file, "Trust the CA certificate in FILE", "FILE" },
    { "no-browser", 0, 0, G_OPTION_ARG_NONE, &ui.no_browser, "Leave the browsers as they are", NULL },
    { NULL },
  };
  int status = kpr_cli_run (&spec, entries, &ui, argc, argv, run_enroll, &a);

  g_free (a.server), g_free (a.label), g_free (a.user), g_free (a.token);
  g_free (a.key), g_free (a.protection), g_free (a.fingerprint), g_free (a.ca_file);
  g_free (a.protocol), g_free (a.reference);
  return status;
}

static gboolean
run_renew (KprAgent *agent, char **args, gpointer data, GError **error)
{
  gboolean *force = data, renewed = FALSE;
  g_autoptr (KprIdentity) id = kpr_agent_renew (agent, args[0], *force, &renewed, error);

  if (!id)
    return FALSE;
  if (!renewed)
    printf ("“%s” is not due for renewal yet (use --force to renew now).\n", id->name);
  kpr_cli_print_identity_line (id);
  return TRUE;
}

int
kpr_cli_renew (int argc, char **argv)
{
  static const KprCliSpec spec = {
    "renew", "NAME", "Renew a certificate with a new key (or poll a pending request).", 1, 1,
  };
  g_auto (KprCliUi) ui = { .secret_needs_terminal = TRUE };
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Renew now even if not due", NULL },
    { "secret-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.secret_file, "Secret word from FILE, if the server asks for one", "FILE" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { "no-browser", 0, 0, G_OPTION_ARG_NONE, &ui.no_browser, "Leave the browsers as they are", NULL },
    { NULL },
  };
  return kpr_cli_run (&spec, entries, &ui, argc, argv, run_renew, &force);
}

static gboolean
run_install (KprAgent *agent, char **args, gpointer data, GError **error)
{
  g_autoptr (KprIdentity) id = kpr_agent_install (agent, args[0], args[1], error);

  if (id)
    kpr_cli_print_identity_line (id);
  return id != NULL;
}

int
kpr_cli_install (int argc, char **argv)
{
  static const KprCliSpec spec = {
    "install", "NAME FILE", "Finish a pending identity with the certificate the server sent you (DER, PEM or PKCS#7 .p7b/.p7c).", 2, 2,
  };
  g_auto (KprCliUi) ui = { 0 };
  const GOptionEntry entries[] = {
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { "no-browser", 0, 0, G_OPTION_ARG_NONE, &ui.no_browser, "Leave the browsers as they are", NULL },
    { NULL },
  };
  return kpr_cli_run (&spec, entries, &ui, argc, argv, run_install, NULL);
}

static gboolean
run_revoke (KprAgent *agent, char **args, gpointer data, GError **error)
{
  char **reference = data;
  gboolean wiped = FALSE;

  kpr_agent_set_cmp_reference (agent, *reference);
  if (!kpr_agent_revoke (agent, args[0], &wiped, error))
    return FALSE;
  if (wiped)
    printf ("The certificate of “%s” is revoked; its key was removed from its token.\n", args[0]);
  else
    printf ("The certificate of “%s” is revoked. Its token is not here, so its key could not be "
            "removed: when the token is back, run 'certkeeper delete %s'.\n", args[0], args[0]);
  return TRUE;
}

int
kpr_cli_revoke (int argc, char **argv)
{
  static const KprCliSpec spec = {
    "revoke", "NAME", "Revoke a certificate (I lost my token) and wipe the local key.", 1, 1,
  };
  g_auto (KprCliUi) ui = { 0 };
  g_autofree char *reference = NULL;
  const GOptionEntry entries[] = {
    { "secret-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.secret_file, "Secret word (CMP: one-time secret) from FILE (when the token is lost)", "FILE" },
    { "reference", 0, 0, G_OPTION_ARG_STRING, &reference, "CMP: the reference of a one-time secret from the CA (when the token is lost)", "REF" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { NULL },
  };
  return kpr_cli_run (&spec, entries, &ui, argc, argv, run_revoke, &reference);
}
