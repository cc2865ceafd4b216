/* kpr-cli-enroll.c — certkeeper enroll | renew | install | revoke. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "kpr-cli.h"

/* The common end of every command: report once, free, exit status. */
int
kpr_cli_finish (KprAgent *agent, GError *error)
{
  int status = error ? kpr_cli_report (error) : 0;

  g_clear_error (&error);
  kpr_agent_free (agent);
  return status;
}

void
kpr_cli_print_identity_line (const KprIdentity *id)
{
  char until[64] = "-";

  if (id->cert)
    {
      struct tm tm;
      if (ASN1_TIME_to_tm (X509_get0_notAfter (id->cert), &tm))
        strftime (until, sizeof until, "%Y-%m-%d %H:%M UTC", &tm);
    }
  printf ("“%s” is %s; certificate valid until %s\n", id->name,
          kpr_status_to_string (kpr_identity_status (id, g_get_real_time () / G_USEC_PER_SEC)),
          until);
  if (kpr_identity_backup_missing (id))
    printf ("The key can still be exported: make a backup now with\n"
            "  certkeeper export %s --to /media/…/%s.p12\n"
            "then lock it with 'certkeeper lock %s'.\n", id->name, id->name, id->name);
}

int
kpr_cli_enroll (int argc, char **argv)
{
  g_auto (KprCliUi) ui = { 0 };
  g_autofree char *server = NULL, *label = NULL, *user = NULL, *token = NULL, *key = NULL;
  g_autofree char *protection = NULL, *fingerprint = NULL, *ca_file = NULL;
  gboolean software = FALSE, no_backup = FALSE, server_keygen = FALSE;
  const GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "Enrollment server (https://host[:port])", "URL" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &label, "CA label on the server", "LABEL" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Your username at the server", "USER" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "Make the key on this token (PKCS#11 URI)", "URI" },
    { "software", 0, 0, G_OPTION_ARG_NONE, &software, "Make the key on the software token (default)", NULL },
    { "key", 0, 0, G_OPTION_ARG_STRING, &key, "ec-p256 (default), ec-p384, rsa-2048, rsa-3072", "TYPE" },
    { "protection", 0, 0, G_OPTION_ARG_STRING, &protection, "standard (default) or strong (PIN to use the key)", "LEVEL" },
    { "no-backup", 0, 0, G_OPTION_ARG_NONE, &no_backup, "Software token: make the key non-exportable at once", NULL },
    { "server-keygen", 0, 0, G_OPTION_ARG_NONE, &server_keygen, "Let the server make the key (imported non-exportable)", NULL },
    { "secret-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.secret_file, "Read the secret word from FILE (0600; - for stdin)", "FILE" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Read the token PIN from FILE (0600; - for stdin)", "FILE" },
    { "trust-fingerprint", 0, 0, G_OPTION_ARG_STRING, &fingerprint, "SHA-256 fingerprint of the server's CA", "SHA256" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file, "Trust the CA certificate in FILE", "FILE" },
    { NULL },
  };
  KprEnrollOptions o = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (KprIdentity) id = NULL;
  KprAgentUi agent_ui;
  KprAgent *agent;

  if (!kpr_cli_parse ("enroll", "NAME", "Get a certificate: key made here, certified by the server.",
                      entries, &argc, &argv))
    return KPR_ERROR_USAGE;
  if (argc != 2 || !server || !user)
    {
      fprintf (stderr, "certkeeper enroll: needs NAME, --server URL and --user USER\n");
      return KPR_ERROR_USAGE;
    }
  if ((token && software) || (fingerprint && ca_file))
    {
      fprintf (stderr, "certkeeper enroll: %s\n", token && software ? "--token and --software exclude each other"
                                                                    : "--trust-fingerprint and --ca-file exclude each other");
      return KPR_ERROR_USAGE;
    }
  o.name = argv[1];
  o.server = server;
  o.label = label;
  o.username = user;
  o.token_uri = token;
  o.no_backup = no_backup;
  o.server_keygen = server_keygen;
  o.trust_fingerprint = fingerprint;
  o.ca_file = ca_file;
  if (key && !kpr_key_type_from_string (key, &o.key_type))
    {
      fprintf (stderr, "certkeeper enroll: unknown key type “%s”\n", key);
      return KPR_ERROR_USAGE;
    }
  if (protection && (!kpr_protection_from_string (protection, &o.protection)
                     || o.protection == KPR_PROTECTION_EXPORTABLE))
    {
      fprintf (stderr, "certkeeper enroll: protection is standard or strong\n");
      return KPR_ERROR_USAGE;
    }

  agent_ui = kpr_cli_agent_ui (&ui);
  if (!(agent = kpr_agent_new (&agent_ui, &error)))
    return kpr_cli_report (error);
  if ((id = kpr_agent_enroll (agent, &o, &error)))
    kpr_cli_print_identity_line (id);
  return kpr_cli_finish (agent, g_steal_pointer (&error));
}

int
kpr_cli_renew (int argc, char **argv)
{
  g_auto (KprCliUi) ui = { 0 };
  gboolean force = FALSE, renewed = FALSE;
  const GOptionEntry entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Renew now even if not due", NULL },
    { "secret-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.secret_file, "Secret word from FILE, if the server asks for one", "FILE" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (KprIdentity) id = NULL;
  KprAgentUi agent_ui;
  KprAgent *agent;

  if (!kpr_cli_parse ("renew", "NAME", "Renew a certificate with a new key (or poll a pending request).",
                      entries, &argc, &argv))
    return KPR_ERROR_USAGE;
  if (argc != 2)
    {
      fprintf (stderr, "certkeeper renew: needs the identity's NAME\n");
      return KPR_ERROR_USAGE;
    }
  agent_ui = kpr_cli_agent_ui (&ui);
  /* Without a terminal the renewal must not wait for a secret word that
   * nobody will type; --secret-file supplies one. */
  if (!ui.secret_file && !isatty (0))
    agent_ui.ask = NULL;
  if (!(agent = kpr_agent_new (&agent_ui, &error)))
    return kpr_cli_report (error);
  if ((id = kpr_agent_renew (agent, argv[1], force, &renewed, &error)))
    {
      if (!renewed)
        printf ("“%s” is not due for renewal yet (use --force to renew now).\n", id->name);
      kpr_cli_print_identity_line (id);
    }
  return kpr_cli_finish (agent, g_steal_pointer (&error));
}

int
kpr_cli_install (int argc, char **argv)
{
  g_auto (KprCliUi) ui = { 0 };
  const GOptionEntry entries[] = {
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (KprIdentity) id = NULL;
  KprAgentUi agent_ui;
  KprAgent *agent;

  if (!kpr_cli_parse ("install", "NAME FILE.cer",
                      "Finish a pending identity with the certificate the server sent you.",
                      entries, &argc, &argv))
    return KPR_ERROR_USAGE;
  if (argc != 3)
    {
      fprintf (stderr, "certkeeper install: needs NAME and FILE.cer\n");
      return KPR_ERROR_USAGE;
    }
  agent_ui = kpr_cli_agent_ui (&ui);
  if (!(agent = kpr_agent_new (&agent_ui, &error)))
    return kpr_cli_report (error);
  if ((id = kpr_agent_install (agent, argv[1], argv[2], &error)))
    kpr_cli_print_identity_line (id);
  return kpr_cli_finish (agent, g_steal_pointer (&error));
}

int
kpr_cli_revoke (int argc, char **argv)
{
  g_auto (KprCliUi) ui = { 0 };
  const GOptionEntry entries[] = {
    { "secret-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.secret_file, "Secret word from FILE (when the token is lost)", "FILE" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &ui.pin_file, "Token PIN from FILE", "FILE" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  KprAgentUi agent_ui;
  KprAgent *agent;

  if (!kpr_cli_parse ("revoke", "NAME", "Revoke a certificate (I lost my token) and wipe the local key.",
                      entries, &argc, &argv))
    return KPR_ERROR_USAGE;
  if (argc != 2)
    {
      fprintf (stderr, "certkeeper revoke: needs the identity's NAME\n");
      return KPR_ERROR_USAGE;
    }
  agent_ui = kpr_cli_agent_ui (&ui);
  if (!(agent = kpr_agent_new (&agent_ui, &error)))
    return kpr_cli_report (error);
  if (kpr_agent_revoke (agent, argv[1], &error))
    printf ("The certificate of “%s” is revoked; its key was removed from this computer.\n", argv[1]);
  return kpr_cli_finish (agent, g_steal_pointer (&error));
}
