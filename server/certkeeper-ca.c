/* certkeeper-ca — the reference EST enrollment server (DESIGN §8, §9).
 *
 *   certkeeper-ca init DIR [--lifetime 14d] [--approval manual|auto] [--db URI]
 *                 [--ca-token URI [--ca-module PATH] [--pin-file F]]
 *   certkeeper-ca user add DIR NAME --phone P [--mail ADDR] | user list DIR
 *   certkeeper-ca user disable DIR NAME [--pin-file F]
 *   certkeeper-ca code DIR NAME [--ttl 24h]
 *   certkeeper-ca serve DIR [--listen 127.0.0.1:8443] [--otp-outbox FILE | --otp-command CMD]
 *                 [--mail-command CMD] [--db URI] [--crl-interval S] [--max-connections N]
 *                 [--proxy-protocol] [--pin-file F]
 *   certkeeper-ca requests DIR [--pending] [--json]
 *   certkeeper-ca approve DIR ID [--pin-file F] | reject DIR ID [--reason TEXT]
 *   certkeeper-ca cert DIR ID|SERIAL --to FILE.cer [--pem]
 *   certkeeper-ca revoke DIR SERIAL [--pin-file F]
 *
 * With the CA key on a PKCS#11 token, the commands that sign (init, serve,
 * approve, and revoke or user disable when no `serve` runs to publish the
 * CRL) need the token's PIN: from --pin-file (0600, "-" for stdin) or, on a
 * terminal, a no-echo prompt; never argv or the environment.
 *
 * Exit status: 0, or the KprError code of the failure (2 = usage, 6 = the
 * CA key's token is not there, 9 = wrong PIN, 17 = no such request).
 */
#include "config.h"

#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "certkeeper-ca.h"
#include "kpr-prompt.h"

typedef int (*CommandFunc) (int argc, char **argv);

#define DB_USAGE "--db takes a PostgreSQL URI such as postgresql://ca@db.example.org/certkeeper"


typedef struct {
  const char *name;
  CommandFunc func;
  const char *summary;
} Command;

int
kpr_cli_usage_error (const char *cmd, const char *message)
{
  g_printerr ("certkeeper-ca %s: %s (see 'certkeeper-ca %s --help')\n", cmd, message, cmd);
  return KPR_ERROR_USAGE;
}

int
kpr_cli_report (const char *cmd, const GError *error)
{
  int code = kpr_error_exit_code (error);

  g_printerr ("certkeeper-ca %s: %s\n", cmd, error->message);
  if (error->domain == KPR_ERROR && code != KPR_ERROR_USAGE)
    g_printerr ("  %s\n", kpr_error_hint ((KprError) code));
  return code;
}

/* Parses options; on a bad option prints one line and returns FALSE. */
gboolean
kpr_cli_parse (const char *cmd, const char *params, const char *summary,
               const GOptionEntry *entries, int *argc, char ***argv, int want_args, int *ret)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (params);
  g_autoptr (GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("certkeeper-ca %s", cmd);

  g_set_prgname (prgname);
  g_option_context_set_summary (ctx, summary);
  if (entries)
    g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      *ret = kpr_cli_usage_error (cmd, error->message);
      return FALSE;
    }
  /* argv[0] is the program; the rest are the positional arguments. */
  if (*argc - 1 != want_args)
    {
      g_autofree char *msg = g_strdup_printf ("expects %d argument%s: %s", want_args,
                                              want_args == 1 ? "" : "s", params);
      *ret = kpr_cli_usage_error (cmd, msg);
      return FALSE;
    }
  return TRUE;
}

/* KprPinFunc: the PIN of the CA key's token from --pin-file (@data), else
 * a no-echo prompt when standard input is a terminal. */
KprSecret *
kpr_cli_token_pin (const KprTokenInfo *info, gpointer data, GError **error)
{
  const char *pin_file = data;

  /* A server started by a service manager has no one to ask. */
  if (!pin_file && !isatty (STDIN_FILENO))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "The CA key is on token “%s”, which needs its PIN; give --pin-file FILE "
                   "(mode 0600, '-' for standard input) or run on a terminal to be asked",
                   info->label);
      return NULL;
    }
  return kpr_prompt_token_pin (pin_file, info->label, info->pin_count_low, info->pin_final_try,
                               error);
}

/* Opens DIR and, when its key is on a token, logs in (once). */
static KprCa *
open_ca_signing (const char *cmd, const char *dir, const char *db, const char *pin_file,
                 int *ret)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = kpr_ca_open (dir, db, &error);

  if (!ca || !kpr_ca_unlock (ca, kpr_cli_token_pin, (gpointer) pin_file, &error))
    {
      *ret = kpr_cli_report (cmd, error);
      return NULL;
    }
  return g_steal_pointer (&ca);
}

KprCa *
kpr_cli_open (const char *cmd, const char *dir, int *ret)
{
  g_autoptr (GError) error = NULL;
  KprCa *ca = kpr_ca_open (dir, NULL, &error);

  if (!ca)
    *ret = kpr_cli_report (cmd, error);
  return ca;
}

int
kpr_cli_publish (const char *cmd, KprCa *ca, const char *pin_file, gint64 generation,
                 const char *done_text)
{
  g_autoptr (GError) error = NULL;
  gboolean published = FALSE;

  if (!kpr_ca_crl_after_revoke (ca, kpr_cli_token_pin, (gpointer) pin_file, generation,
                                &published, &error))
    {
      if (done_text)
        g_print ("%s\n", done_text);
      g_prefix_error (&error, "The revocation is recorded but the CRL was not published: ");
      return kpr_cli_report (cmd, error);
    }
  if (done_text)
    g_print ("%s; %s\n", done_text,
             published ? "CRL updated"
                       : "the running certkeeper-ca serve publishes the CRL in a moment");
  return 0;
}

static int
cmd_init (int argc, char **argv)
{
  g_autofree char *lifetime_text = NULL;
  g_autofree char *approval_text = NULL;
  g_autofree char *token_uri = NULL;
  g_autofree char *module = NULL;
  g_autofree char *pin_file = NULL;
  g_autofree char *db = NULL;
  g_autoptr (GError) error = NULL;
  KprCaInitOptions options = { .lifetime = KPR_CA_DEFAULT_LIFETIME };
  int ret = 0;
  const GOptionEntry entries[] = {
    { "lifetime", 0, 0, G_OPTION_ARG_STRING, &lifetime_text,
      "Lifetime of issued certificates, e.g. 14d, 365d, 90s (default 14d)", "DURATION" },
    { "approval", 0, 0, G_OPTION_ARG_STRING, &approval_text,
      "auto (default) or manual: requests wait for 'approve'", "MODE" },
    { "db", 0, 0, G_OPTION_ARG_STRING, &db,
      "A PostgreSQL database shared by several front ends (postgresql://…, no password in "
      "it: use a pgpass file); default DIR/ca.db", "URI" },
    { "ca-token", 0, 0, G_OPTION_ARG_STRING, &token_uri,
      "Generate the CA key on this PKCS#11 token (RFC 7512 URI, e.g. pkcs11:token=ca) "
      "instead of DIR/ca.key", "URI" },
    { "ca-module", 0, 0, G_OPTION_ARG_FILENAME, &module,
      "PKCS#11 module of that token, when it is not registered with p11-kit", "PATH" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file,
      "The token's PIN: first line of FILE (0600; '-' = stdin); default: ask", "FILE" },
    { NULL }
  };

  if (!kpr_cli_parse ("init", "DIR", "Create a new CA in DIR (refuses an existing one).",
                      entries, &argc, &argv, 1, &ret))
    return ret;
  if (lifetime_text && !kpr_parse_duration (lifetime_text, &options.lifetime, &error))
    return kpr_cli_usage_error ("init", error->message);
  if (approval_text && g_str_equal (approval_text, "manual"))
    options.approval = KPR_APPROVAL_MANUAL;
  else if (approval_text && !g_str_equal (approval_text, "auto"))
    return kpr_cli_usage_error ("init", "--approval must be 'auto' or 'manual'");
  if (!token_uri && (module || pin_file))
    return kpr_cli_usage_error ("init", "--ca-module and --pin-file go with --ca-token URI");
  if (token_uri && !g_str_has_prefix (token_uri, "pkcs11:"))
    return kpr_cli_usage_error ("init", "--ca-token takes a PKCS#11 URI such as pkcs11:token=ca");
  if (db && !kpr_ca_db_is_postgresql (db))
    return kpr_cli_usage_error ("init", DB_USAGE);
  if (module)
    {
      /* ca.conf keeps it; serve may run from another directory. */
      char *absolute = g_canonicalize_filename (module, NULL);
      g_free (module);
      module = absolute;
    }
  options.db = db;
  options.token_uri = token_uri;
  options.token_module = module;
  options.pin_func = kpr_cli_token_pin;
  options.pin_data = pin_file;
  if (!kpr_ca_init (argv[1], &options, &error))
    return kpr_cli_report ("init", error);
  g_print ("CA created in %s%s%s%s; clients trust %s/ca.pem\n", argv[1],
           token_uri ? " with its key on " : "", token_uri ? token_uri : "",
           db ? " and its database in PostgreSQL" : "", argv[1]);
  return 0;
}

static int
cmd_user (int argc, char **argv)
{
  const char *verb = argc > 1 ? argv[1] : NULL;
  g_autofree char *phone = NULL;
  g_autofree char *mail = NULL;
  g_autofree char *pin_file = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = NULL;
  int ret = 0;
  const GOptionEntry add_entries[] = {
    { "phone", 0, 0, G_OPTION_ARG_STRING, &phone,
      "Mobile number for secret words, e.g. +15550100", "NUMBER" },
    { "mail", 0, 0, G_OPTION_ARG_STRING, &mail,
      "Mail address for the certificate of an approved request (serve --mail-command)",
      "ADDRESS" },
    { NULL }
  };
  const GOptionEntry disable_entries[] = {
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file,
      "PIN of the CA key's token, if it is on one (0600; '-' = stdin)", "FILE" },
    { NULL }
  };

  if (!verb || g_str_equal (verb, "--help") || g_str_equal (verb, "-h"))
    {
      g_print ("Usage:\n"
               "  certkeeper-ca user add DIR NAME --phone NUMBER [--mail ADDRESS]\n"
               "  certkeeper-ca user list DIR\n"
               "  certkeeper-ca user disable DIR NAME [--pin-file FILE]\n\n"
               "Manage the users allowed to enroll (added in person, never over the network).\n");
      return verb ? 0 : KPR_ERROR_USAGE;
    }
  argc--;
  argv++;
  if (g_str_equal (verb, "add"))
    {
      if (!kpr_cli_parse ("user add", "DIR NAME", "Register a user.", add_entries, &argc, &argv,
                          2, &ret))
        return ret;
      if (!phone)
        return kpr_cli_usage_error ("user add", "--phone NUMBER is required");
      if (!(ca = kpr_cli_open ("user add", argv[1], &ret)))
        return ret;
      if (!kpr_ca_user_add (ca, argv[2], phone, mail, &error))
        return kpr_cli_report ("user add", error);
      g_print ("user %s added\n", argv[2]);
      return 0;
    }
  if (g_str_equal (verb, "list"))
    {
      g_autofree char *text = NULL;
      if (!kpr_cli_parse ("user list", "DIR", "List users: NAME PHONE STATE CURRENT-SERIAL.",
                          NULL, &argc, &argv, 1, &ret))
        return ret;
      if (!(ca = kpr_cli_open ("user list", argv[1], &ret)))
        return ret;
      if (!(text = kpr_ca_user_list (ca, &error)))
        return kpr_cli_report ("user list", error);
      g_print ("%s", text);
      return 0;
    }
  if (g_str_equal (verb, "disable"))
    {
      guint revoked = 0;
      gint64 generation = 0;
      g_autofree char *text = NULL;

      if (!kpr_cli_parse ("user disable", "DIR NAME",
                          "Disable a user and revoke the user's certificates.",
                          disable_entries, &argc, &argv, 2, &ret))
        return ret;
      if (!(ca = kpr_cli_open ("user disable", argv[1], &ret)))
        return ret;
      if (!kpr_ca_user_disable (ca, argv[2], &revoked, &generation, &error))
        return kpr_cli_report ("user disable", error);
      text = g_strdup_printf ("user %s disabled; %u certificate(s) revoked", argv[2], revoked);
      if (revoked == 0)
        {
          g_print ("%s\n", text);
          return 0;
        }
      return kpr_cli_publish ("user disable", ca, pin_file, generation, text);
    }
  return kpr_cli_usage_error ("user", "the action must be add, list or disable");
}

static int
cmd_code (int argc, char **argv)
{
  g_autofree char *ttl_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = NULL;
  g_autoptr (KprSecret) code = NULL;
  gint64 ttl = 24 * 3600;
  int ret = 0;
  const GOptionEntry entries[] = {
    { "ttl", 0, 0, G_OPTION_ARG_STRING, &ttl_text, "How long the code stays valid (default 24h)",
      "DURATION" },
    { NULL }
  };

  if (!kpr_cli_parse ("code", "DIR NAME",
                      "Print a one-time enrollment code for NAME (for kiosks and headless "
                      "agents); it works once, like a secret word.",
                      entries, &argc, &argv, 2, &ret))
    return ret;
  if (ttl_text && !kpr_parse_duration (ttl_text, &ttl, &error))
    return kpr_cli_usage_error ("code", error->message);
  if (!(ca = kpr_cli_open ("code", argv[1], &ret)))
    return ret;
  if (!(code = kpr_ca_code_new (ca, argv[2], ttl, &error)))
    return kpr_cli_report ("code", error);
  /* stdout only, so it can go straight into a 0600 file. */
  g_print ("%s\n", code->data);
  return 0;
}

static void
log_line (const char *line, gpointer data)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");

  g_printerr ("%s certkeeper-ca: %s\n", stamp, line);
}

static int
cmd_serve (int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *outbox = NULL;
  g_autofree char *command = NULL;
  g_autofree char *mail_command = NULL;
  g_autofree char *db = NULL;
  g_autofree char *pin_file = NULL;
  g_autofree char *address = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = NULL;
  g_autoptr (KprServer) server = NULL;
  KprServerOptions options = { 0 };
  int crl_interval = 1, max_connections = 0, challenges_per_address = 0;
  gboolean proxy = FALSE;
  int ret = 0;
  const GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      "Address and port (default 127.0.0.1:8443; port 0 picks a free one)", "ADDR:PORT" },
    { "otp-outbox", 0, 0, G_OPTION_ARG_FILENAME, &outbox,
      "Append secret-word messages to FILE (0600): TIME USER PHONE WORD", "FILE" },
    { "otp-command", 0, 0, G_OPTION_ARG_STRING, &command,
      "Run CMD (no shell) per message; it reads 'PHONE WORD' on stdin", "CMD" },
    { "mail-command", 0, 0, G_OPTION_ARG_STRING, &mail_command,
      "Mail the certificate of an approved request to the user's --mail address: run CMD "
      "(no shell), e.g. '/usr/sbin/sendmail -t', with the message on stdin", "CMD" },
    { "db", 0, 0, G_OPTION_ARG_STRING, &db,
      "The PostgreSQL database (instead of ca.conf's db= or DIR/ca.db)", "URI" },
    { "crl-interval", 0, 0, G_OPTION_ARG_INT, &crl_interval,
      "Least seconds between two CRLs after renewals (default 1; explicit revocations are "
      "published at once)", "SECONDS" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections,
      "Open connections at most (default: what the file-descriptor limit allows, up to "
      "1024); beyond it the longest-idle one is closed", "N" },
    { "challenges-per-address", 0, 0, G_OPTION_ARG_INT, &challenges_per_address,
      "/challenge calls one client address may make before it is backed off (default 20; "
      "raise it for tests and for many clients behind one NAT)", "N" },
    { "proxy-protocol", 0, 0, G_OPTION_ARG_NONE, &proxy,
      "Every connection starts with a PROXY header (haproxy send-proxy/send-proxy-v2): the "
      "client's address is taken from it", NULL },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file,
      "PIN of the CA key's token, if it is on one (0600; '-' = stdin); default: ask",
      "FILE" },
    { NULL }
  };

  if (!kpr_cli_parse ("serve", "DIR", "Serve EST over HTTPS until SIGTERM or SIGINT.", entries,
                      &argc, &argv, 1, &ret))
    return ret;
  if (outbox && command)
    return kpr_cli_usage_error ("serve", "give either --otp-outbox or --otp-command, not both");
  if (crl_interval < 1 || crl_interval > 86400)
    return kpr_cli_usage_error ("serve", "--crl-interval must be 1 to 86400 seconds");
  if (max_connections < 0 || max_connections > 1000000)
    return kpr_cli_usage_error ("serve", "--max-connections must be 1 to 1000000");
  if (challenges_per_address < 0 || challenges_per_address > 1000000)
    return kpr_cli_usage_error ("serve", "--challenges-per-address must be 1 to 1000000");
  if (db && !kpr_ca_db_is_postgresql (db))
    return kpr_cli_usage_error ("serve", DB_USAGE);
  /* The writer thread's arena would give its memory back to the system
   * after nearly every batch (madvise and a TLB flush each time). */
  mallopt (M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  /* Logs in to the CA key's token once, here, for the whole run. */
  if (!(ca = open_ca_signing ("serve", argv[1], db, pin_file, &ret)))
    return ret;
  if (kpr_ca_get_token_uri (ca))
    {
      g_autofree char *line = g_strdup_printf ("CA key on token %s", kpr_ca_get_token_uri (ca));
      log_line (line, NULL);
    }
  options.listen = listen;
  options.otp_outbox = outbox;
  options.otp_command = command;
  options.mail_command = mail_command;
  options.crl_interval = crl_interval;
  options.max_connections = (guint) max_connections;
  options.proxy_protocol = proxy;
  options.challenges_per_address = (guint) challenges_per_address;
  options.log_func = log_line;
  if (!(server = kpr_server_new (ca, &options, &error))
      || !kpr_server_bind (server, &address, &error))
    return kpr_cli_report ("serve", error);
  if (!outbox && !command)
    log_line ("no --otp-outbox or --otp-command: secret words cannot be sent", NULL);
  /* Tests read this line to learn the port. */
  g_print ("listening on %s\n", address);
  fflush (stdout);
  if (!kpr_server_run (server, &error))
    return kpr_cli_report ("serve", error);
  log_line ("stopped", NULL);
  return 0;
}

static const Command commands[] = {
  { "init", cmd_init, "create a CA in DIR" },
  { "user", cmd_user, "add, list or disable users" },
  { "code", cmd_code, "print a one-time enrollment code for a user" },
  { "serve", cmd_serve, "serve EST over HTTPS" },
  { "requests", kpr_cmd_requests, "list certificate requests (manual approval)" },
  { "approve", kpr_cmd_approve, "approve a request and issue its certificate" },
  { "reject", kpr_cmd_reject, "reject a request" },
  { "cert", kpr_cmd_cert, "write an issued certificate to a .cer file" },
  { "revoke", kpr_cmd_revoke, "revoke a certificate" },
};

static int
main_usage (FILE *out)
{
  fprintf (out, "Usage: certkeeper-ca COMMAND [ARGS…]  (COMMAND --help for details)\n\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  return out == stdout ? 0 : KPR_ERROR_USAGE;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* Secret words and enrollment codes pass through this process. */
  prctl (PR_SET_DUMPABLE, 0);
  /* ... in libevent's heap too: the Authorization header of each request
   * and the buffers it was read into are erased when libevent frees them.
   * Before any other libevent call. */
  event_set_mem_functions (malloc, kpr_erasing_realloc, kpr_erasing_free);

  if (argc < 2)
    return main_usage (stderr);
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    return main_usage (stdout);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      return commands[i].func (argc - 1, argv + 1);
  g_printerr ("certkeeper-ca: unknown command '%s' (see 'certkeeper-ca --help')\n", argv[1]);
  return KPR_ERROR_USAGE;
}
